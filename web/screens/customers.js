// The customer list: search and filters run in Rust (client.customers); a table on a
// desktop, cards on a phone. "+ New customer" only for roles that may create one. For a
// rep this is the home screen, headed by their today list (screens/today.js).

import { h, fill, select, rowsTable, tel } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app, kindSpec } from '../kinds.js';
import { todayPanel } from './today.js';

const PAGE = 200;
const query = { q: '', class: '', channel: '', region: '', limit: PAGE };

export function viewCustomers() {
  const q = query;
  const vocab = app.vocab;
  const results = h('div#customer-results');
  const search = h('input#search', {
    type: 'search',
    placeholder: t('search'),
    'aria-label': t('search'),
    value: q.q,
    on: {
      input: (e) => {
        q.q = e.target.value;
        q.limit = PAGE;
        refresh();
      },
    },
  });
  const filter = (id, key, options, label) => {
    const s = select(id, options, q[key], `${label}: ${t('all')}`);
    s.setAttribute('aria-label', label);
    s.addEventListener('change', () => {
      q[key] = s.value;
      q.limit = PAGE;
      refresh();
    });
    return s;
  };
  const filters = h(
    'div.filters',
    filter('filter-class', 'class', vocab.class, t('class')),
    filter('filter-channel', 'channel', vocab.channel, t('channel')),
    filter('filter-region', 'region', [], t('region')),
  );
  let regions = '';
  function refresh() {
    const t0 = performance.now();
    const res = JSON.parse(app.client.customers(JSON.stringify(q), getLang()));
    app.lastQueryMs = Math.round(performance.now() - t0);
    if (JSON.stringify(res.regions) !== regions) {
      // The regions present in the data, as the region filter's options.
      regions = JSON.stringify(res.regions);
      const old = filters.querySelector('#filter-region');
      old.replaceWith(filter('filter-region', 'region', res.regions.map((r) => ({ value: r, label: r })), t('region')));
    }
    fill(
      results,
      h(
        'p.count',
        t('n_customers', { n: res.total }),
        res.total > res.items.length ? ` · ${t('showing', { n: res.items.length })}` : '',
      ),
      rowsTable({
        id: 'customer-list',
        rows: res.items,
        href: (c) => `#/customer/${c.id}`,
        empty: t('no_records'),
        columns: [
          { label: t('customer'), cell: (c) => h('strong.name', c.name), cls: 'grow' },
          { label: t('class'), cell: (c) => (c.class ? h('span.tag.class-' + c.class, c.class) : '') },
          { label: t('channel'), cell: (c) => c.channel_label || '' },
          { label: t('region'), cell: (c) => c.region || '' },
          { label: t('contact_phone'), cell: (c) => tel(c.phone) || '' },
        ],
      }),
      res.total > res.items.length
        ? h('button#more', { type: 'button', on: { click: () => ((q.limit += PAGE), refresh()) } }, t('more'))
        : null,
    );
  }
  // A rep's home: whom to visit today comes first (offline, in priority order).
  const today = app.session().role === 'rep' ? todayPanel() : null;
  refresh();
  const spec = kindSpec('customer');
  const node = h(
    'section.customers',
    today ? today.node : null,
    h(
      'div.toolbar',
      search,
      spec && spec.may_create ? h('a#new-customer.button.primary', { href: '#/customers/new' }, `+ ${t('new_customer')}`) : null,
    ),
    filters,
    results,
  );
  const refreshAll = () => {
    if (today) today.refresh();
    refresh();
  };
  return { node, refresh: refreshAll, nav: 'customers' };
}
