// One record of any kind (client.record): every field that has a value, references as
// links, long text as paragraphs, whether it still waits to be sent, and "edit" when this
// user may write any of it.

import { h, fill } from './ui.js';
import { t, getLang } from './i18n.js';
import { app, recordHref, PANELS } from './kinds.js';
import { logsPanel } from './presales.js';

const HIDDEN_TYPES = ['bytes', 'records', 'log'];

/// The facts of a record (client.record() JSON) as a definition list; reusable in any
/// screen that shows a record.
export function recordFacts(r) {
  const rows = r.fields.filter((f) => f.display && !HIDDEN_TYPES.includes(f.type) && f.type !== 'text');
  return h(
    'dl.facts.record-facts',
    rows.map((f) => [
      h('dt', f.label),
      h(
        'dd',
        { dataset: { field: f.name } },
        f.ref ? h('a', { href: recordHref(f.ref.kind, f.ref.id) }, f.display) : f.display,
      ),
    ]),
  );
}

export function viewRecord(id) {
  const wrap = h('section.detail.record-detail');
  let nav = null;
  function refresh() {
    let r;
    try {
      r = JSON.parse(app.client.record(id, getLang()));
    } catch (e) {
      fill(wrap, h('p.error', `${t('not_found')}: ${e && e.message ? e.message : e}`));
      return;
    }
    nav = `k:${r.kind}`;
    wrap.dataset.kind = r.kind;
    const texts = r.fields.filter((f) => f.type === 'text' && f.display);
    const parentHref = r.parent ? recordHref(r.parent.kind, r.parent.id) : `#/k/${r.kind}`;
    fill(
      wrap,
      h(
        'div.head',
        h('h2#record-title', r.title),
        h('span.tag', r.kind_label),
        r.unsent ? h('span#record-unsent.tag.unsent', t('unsent')) : null,
      ),
      h(
        'div.actions',
        r.may_edit ? h('a#record-edit.button', { href: `#/r/${id}/edit` }, t('edit')) : null,
        h('a.button#record-back', { href: parentHref }, r.parent ? `← ${r.parent.title || t('back')}` : t('back')),
      ),
      recordFacts(r),
      texts.map((f) => [h('h3', f.label), h('p.record-text', { dataset: { field: f.name } }, f.display)]),
      logsPanel(r),
      PANELS[r.kind] ? PANELS[r.kind](id) : null,
    );
  }
  refresh();
  return { node: wrap, refresh, nav };
}
