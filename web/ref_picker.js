// Picking a record for a reference field (a customer, a visit): a search box over the
// referenced kind's records (searched in Rust, client.records) and a list of matches.
// A reference to a child of something the form also references (the visit of the
// observation's customer) offers only that one's children, and follows it.

import { h, fill } from './ui.js';
import { t, getLang } from './i18n.js';
import { app } from './kinds.js';

const MATCHES = 50;

/// A picker control for field `f` (its declaration from client.kinds()). `opts.scope()`
/// gives the value of the field it is scoped by (see `f.scope`). Returns a control:
/// {node, input, get(), set(id), reload(), onChange(fn)}.
export function refPicker(f, value, opts = {}) {
  const listeners = [];
  const id = `kf-${f.name}`;
  const search = h('input.ref-search', {
    type: 'search',
    id: `${id}-search`,
    placeholder: t('search_kind', { kind: f.ref_label }),
    autocomplete: 'off',
    'aria-label': t('search_kind', { kind: f.ref_label }),
  });
  const list = h('select.ref-select', { id, name: f.name });
  let current = value || '';
  let timer = null;

  function titleOf(recordId) {
    try {
      return JSON.parse(app.client.record(recordId, getLang())).title;
    } catch (_) {
      return recordId.slice(0, 8);
    }
  }

  function reload() {
    const where = {};
    if (f.scope && opts.scope) {
      const parent = opts.scope();
      if (!parent) {
        fill(list, h('option', { value: '' }, t('no_customer_first', { kind: scopeLabel() })));
        list.disabled = true;
        current = '';
        return;
      }
      where[f.scope.where] = parent;
    }
    list.disabled = false;
    const res = JSON.parse(app.client.records(f.ref, JSON.stringify({ q: search.value, where, limit: MATCHES }), getLang()));
    const options = res.items.map((r) => ({ value: r.id, label: r.label }));
    if (current && !options.some((o) => o.value === current)) {
      // Keep the chosen record even when the search no longer matches it (unless the
      // record it depends on changed: then it no longer belongs).
      if (f.scope && opts.scope) current = '';
      else options.unshift({ value: current, label: titleOf(current) });
    }
    fill(
      list,
      h('option', { value: '' }, `— ${t('choose')} —`),
      options.map((o) => h('option', { value: o.value }, o.label)),
    );
    list.value = current;
  }

  function scopeLabel() {
    return opts.scopeLabel || '';
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 120);
  });
  list.addEventListener('change', () => {
    current = list.value;
    for (const fn of listeners) fn(current);
  });
  reload();
  // Search only where there is something to search among.
  const node = h('div.ref-picker', { dataset: { ref: f.ref } }, f.scope ? null : search, list);
  return {
    node,
    input: list,
    get: () => list.value,
    set: (v) => {
      current = v || '';
      reload();
    },
    reload,
    onChange: (fn) => listeners.push(fn),
  };
}

/// A reference that is fixed (the customer the form was opened from): its title, read-only.
export function fixedRef(f, value) {
  let title = value;
  try {
    title = JSON.parse(app.client.record(value, getLang())).title;
  } catch (_) {
    /* not held here: the id itself; saving explains */
  }
  const input = h('input', { type: 'hidden', id: `kf-${f.name}`, name: f.name, value });
  input.value = value;
  const node = h('div.ref-fixed', { dataset: { ref: f.ref, value } }, h('strong', title), input);
  return { node, input, get: () => value, set: () => {}, reload: () => {}, onChange: () => {} };
}
