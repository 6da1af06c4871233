// The list of any kind's records (searched and filtered in Rust, client.records), and the
// pieces other screens reuse: recordRows() (a list of rows), childRecords() (the records
// of generic kinds that belong to a parent record, with the action that adds one).

import { h, fill, select } from './ui.js';
import { t, getLang } from './i18n.js';
import { app, kindSpec, childKinds, recordHref, newHref, newLabel, VIEWS } from './kinds.js';
import './complaints.js';

const PAGE = 200;

/// Rows of client.records() items: title, the short values, when and by whom, whether it
/// still waits to be sent.
export function recordRows(items, { id, parentField } = {}) {
  return h(
    'ul.list.record-list',
    { id: id || null },
    items.map((r) =>
      h(
        'li.record-row',
        { dataset: { id: r.id, kind: r.kind, unsent: r.unsent ? 'true' : 'false' } },
        h(
          'a',
          { href: recordHref(r.kind, r.id) },
          h('strong.name', r.title),
          r.unsent ? h('span.tag.unsent', t('unsent')) : null,
          h(
            'span.meta.summary',
            r.summary
              .filter((s) => s.field !== parentField)
              .map((s) => s.display)
              .join(' · '),
          ),
          h('span.meta.when', [r.when, r.by].filter(Boolean).join(' · ')),
        ),
      ),
    ),
  );
}

/// Enum fields filter the list (a select each); the values go to client.records' `where`.
function filters(spec, where, onChange) {
  const enums = spec.fields.filter((f) => f.type === 'enum');
  if (!enums.length) return null;
  return h(
    'div.filters',
    enums.map((f) => {
      const s = select(`kl-filter-${f.name}`, f.options, where[f.name] || '', `${f.label}: ${t('all')}`);
      s.addEventListener('change', () => {
        where[f.name] = s.value;
        onChange();
      });
      return s;
    }),
  );
}

/// The screen: search, filters, rows, "new" when this user may create one.
export function viewKindList(kindName) {
  const spec = kindSpec(kindName);
  if (!spec) return { node: h('p.error', `${t('not_found')}: ${kindName}`) };
  if (VIEWS[kindName]) return VIEWS[kindName](spec);
  const query = { q: '', where: {}, limit: PAGE };
  const results = h('div.kind-results', { id: 'kind-results' });
  const search = h('input#kind-search', {
    type: 'search',
    placeholder: t('search_kind', { kind: spec.label }),
    'aria-label': t('search_kind', { kind: spec.label }),
    on: {
      input: (e) => {
        query.q = e.target.value;
        query.limit = PAGE;
        refresh();
      },
    },
  });
  function refresh() {
    const res = JSON.parse(app.client.records(spec.name, JSON.stringify(query), getLang()));
    fill(
      results,
      h('p.count', t('n_records', { n: res.total }), res.total > res.items.length ? ` · ${t('showing', { n: res.items.length })}` : ''),
      res.items.length ? recordRows(res.items, { id: 'record-list' }) : h('p.empty#records-empty', t('no_records')),
      res.total > res.items.length
        ? h('button#kind-more.small', { type: 'button', on: { click: () => ((query.limit += PAGE), refresh()) } }, t('more'))
        : null,
    );
  }
  refresh();
  const node = h(
    'section.kind-list',
    { dataset: { kind: spec.name } },
    h('h2', spec.label),
    h(
      'div.toolbar',
      search,
      spec.may_create ? h('a#kind-new.button.primary', { href: newHref(spec.name) }, `+ ${newLabel(spec)}`) : null,
    ),
    filters(spec, query.where, refresh),
    results,
  );
  return { node, refresh, nav: `k:${spec.name}` };
}

/// For a parent record's screen: the generic kinds that belong to it, each with the
/// records of this parent and, when this user may add one, the action that opens the form
/// with the parent filled in. `mayWrite`: may this user write the parent (its territory).
/// Returns {actions: [links], sections: [nodes]}.
export function childRecords(parentKind, parentId, mayWrite) {
  const actions = [];
  const sections = [];
  for (const k of childKinds(parentKind)) {
    const field = k.parent.field;
    const href = newHref(k.name, { [field]: parentId });
    if (k.may_create && mayWrite) actions.push(h('a.button.primary', { id: `new-${k.name}`, href }, newLabel(k)));
    const res = JSON.parse(app.client.records(k.name, JSON.stringify({ where: { [field]: parentId } }), getLang()));
    sections.push(
      h(
        'section.child-records',
        { dataset: { kind: k.name } },
        h('h3', `${k.label} `, h('span.meta', `(${res.total})`)),
        res.items.length ? recordRows(res.items, { id: `${k.name}-list`, parentField: field }) : h('p.empty', t('no_records')),
      ),
    );
  }
  return { actions, sections };
}
