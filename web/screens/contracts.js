// Contracts (销售合同): every contract held with its status; legal's review queue; one
// contract's clauses (co-edited: concurrent offline edits merge), comments anchored to
// clauses, the review steps, and the signed lock — refused edits once it is signed.

import { h, fill, redraw, toast, showRefusal } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';

async function step(id, name, input, box) {
  try {
    await app.client.contractStep(id, name, JSON.stringify(input || {}), Date.now(), getLang());
    toast(t('saved'));
  } catch (e) {
    showRefusal(box, e);
  }
}

export function viewContracts() {
  const wrap = h('section.contracts#contracts');
  function draw() {
    const o = JSON.parse(app.client.contractOverview(getLang()));
    const row = (c) =>
      h('li.card.contract-row', { dataset: { id: c.id, status: c.status } },
        h('a.name', { href: `#/contract/${c.id}` }, c.title),
        h('span.chip.status', c.status_label),
        c.open_comments ? h('span.badge', String(c.open_comments)) : null,
        c.locked ? h('span.tag.locked', t('contract_locked')) : null);
    const queue = o.contracts.filter((c) => c.in_queue);
    fill(
      wrap,
      h('h2', t('contracts')),
      app.session().role === 'legal' ? [h('h3', t('review_queue')), queue.length ? h('ul.list.cards#review-queue', queue.map(row)) : h('p.empty', t('queue_empty'))] : null,
      h('h3', t('all')),
      o.contracts.length ? h('ul.list.cards#contract-list', o.contracts.map(row)) : h('p.empty#contracts-empty', t('no_contracts')),
    );
  }
  draw();
  return { node: wrap, refresh: () => redraw(wrap, draw), nav: 'contracts' };
}

export function viewContract(id) {
  const wrap = h('section.contract#contract');
  function draw() {
    const c = JSON.parse(app.client.contractDetail(id, getLang()));
    const role = app.session().role;
    const clauses = h('textarea#contract-clauses', { rows: 10, readonly: c.may_edit ? null : true }, c.clauses || '');
    const clause = h('input#comment-clause', { type: 'text', placeholder: t('clause') });
    const text = h('input#comment-text', { type: 'text' });
    const s = c.lifecycle.status;
    const btn = (name, label, input) => h('button', { type: 'button', id: `c-${name}`, on: { click: () => step(id, name, input && input(), wrap) } }, label);
    fill(
      wrap,
      h('h2#contract-title', c.title),
      h('p', h('span.chip.status#contract-status', { dataset: { status: s } }, c.status_label), c.locked ? h('span.tag.locked#contract-locked', ` ${t('contract_locked')}`) : null),
      h('h3', t('clauses')),
      clauses,
      c.may_edit ? btn('clauses', t('save'), () => ({ text: clauses.value })) : null,
      h('h3', t('clause_comments')),
      h('ol#contract-comments', c.lifecycle.comments.map((m) => h('li', { dataset: { resolved: m.resolved_by ? 'true' : 'false' } }, `[${m.clause}] ${m.text} — ${m.by}`, m.resolved_by ? ` ✓ ${m.resolution || ''}` : ''))),
      c.locked ? null : h('div.comment-box', clause, text, btn('comment', t('add_comment'), () => ({ clause: clause.value, text: text.value }))),
      h('div.actions',
        ['draft', 'changes-requested'].includes(s) && role !== 'legal' ? btn('submit', t('submit_to_legal')) : null,
        role === 'legal' && ['submitted', 'revised'].includes(s) ? btn('review', t('start_review')) : null,
        role === 'legal' && ['submitted', 'revised', 'in-review'].includes(s) ? [btn('changes', t('request_changes'), () => ({ note: text.value })), btn('approve', t('approve'))] : null,
        s === 'approved' ? btn('sign', t('sign')) : null),
    );
  }
  draw();
  return { node: wrap, refresh: () => redraw(wrap, draw), nav: 'contracts' };
}
