// The rep's today list (今日拜访): overdue and due follow-ups by class, the visits planned
// for today (and those missed), development prospects, revisit and care tasks — computed
// by the client core from what this device holds (client.field('today')), so it works
// offline, in priority order. It heads the rep's home screen on a phone and is a screen of
// its own (#/today).

import { h, fill, tel } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';

/// How many the home screen shows (the whole list is #/today).
const HOME_ROWS = 8;

/// The list as a panel: {node, refresh}.
export function todayPanel({ full = false } = {}) {
  const node = h('section.today#today');
  function refresh() {
    const v = JSON.parse(app.client.field('today', '', Date.now(), getLang()));
    node.dataset.date = v.date;
    node.dataset.count = v.items.length;
    const shown = full ? v.items : v.items.slice(0, HOME_ROWS);
    fill(
      node,
      h(
        'div.head',
        h('h2#today-title', t('today_title', { date: v.date })),
        h('span.badge#today-count', String(v.items.length)),
        full ? null : h('a.small#today-open', { href: '#/today' }, shown.length < v.items.length ? t('today_more', { n: v.items.length - shown.length }) : t('today_all')),
      ),
      shown.length
        ? h(
            'ol#today-list',
            shown.map((i, n) =>
              h(
                'li.today-row',
                { dataset: { id: i.customer, rank: i.rank, n: n + 1, kinds: i.reasons.map((r) => r.kind).join(' ') } },
                h(
                  'div.today-line',
                  h('a.today-name', { href: `#/customer/${i.customer}` }, i.name),
                  i.class ? h('span.tag.class-' + i.class.value, i.class.label) : null,
                  i.phone ? tel(i.phone) : null,
                ),
                h(
                  'ul.today-why',
                  i.reasons.map((r) => h('li', { class: `why-${r.kind || ''}`, dataset: { kind: r.kind || '' } }, r.text)),
                ),
                full && i.strategy ? h('p.today-strategy', i.strategy) : null,
              ),
            ),
          )
        : h('p.empty#today-empty', t('today_empty')),
      full
        ? h(
            'nav.more-kinds',
            h('a.button#today-plans', { href: '#/field/visit-plans' }, t('f:visit-plans')),
            h('a.button#today-followups', { href: '#/field/followups' }, t('f:followups')),
          )
        : null,
    );
  }
  refresh();
  return { node, refresh };
}

export function viewToday() {
  const p = todayPanel({ full: true });
  return { node: p.node, refresh: p.refresh, nav: 'today' };
}
