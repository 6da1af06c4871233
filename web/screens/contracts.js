// Contracts (销售合同): every contract held with its status; legal's review queue; one
// contract's clauses (co-edited: the textarea's text is saved against the text it was
// drawn from, three-way merged in the core, and written as Automerge text edits, so
// concurrent offline edits merge), legal's clause templates inserted at the cursor,
// comments anchored to clauses, the review steps, what the last version changed, the
// fulfilment from the orders it covers, and the signed lock — refused edits once signed.

import { h, fill, redraw, toast, showRefusal, clearErrors } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';

async function step(id, name, input, box) {
  try {
    await app.client.contractStep(id, name, JSON.stringify(input || {}), Date.now(), getLang());
    // A refusal shown before is answered (the box may have been drawn again meanwhile).
    clearErrors(document.getElementById(box.id) || box);
    toast(t('saved'));
  } catch (e) {
    showRefusal(box, e);
  }
}

// The inventory (合同盘点) run by legal or the sales managers: start one for a period, then
// for every archived contract record whether its signed scan was found; contracts without
// a scan on file, found missing or not checked yet are flagged.
function inventoryPanel() {
  const box = h('div.inventory#inventory');
  const inv = JSON.parse(app.client.contractInventory('', getLang()));
  const period = h('input#inventory-period', { type: 'text', placeholder: '2026-Q4' });
  const start = h('form#inventory-form.card', h('div.field', h('label', t('inventory_period')), period),
    h('button.primary#inventory-start', { type: 'submit' }, t('inventory_start')));
  start.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await app.client.inventoryStep('start', JSON.stringify({ period: period.value }), Date.now(), getLang());
      toast(t('saved'));
    } catch (err) {
      showRefusal(start, err);
    }
  });
  const check = (row, scan) => h('button', {
    type: 'button',
    id: `inv-${scan}-${row.contract}`,
    on: { click: async () => {
      try {
        await app.client.inventoryStep('check', JSON.stringify({ inventory: inv.inventory, contract: row.contract, scan }), Date.now(), getLang());
        toast(t('saved'));
      } catch (err) {
        showRefusal(box, err);
      }
    } },
  }, t(`scan:${scan}`));
  const rows = inv.rows || [];
  fill(box,
    h('h3', t('inventory')),
    start,
    inv.inventory
      ? h('table#inventory-rows',
          h('tr', [t('contract_title'), t('customer'), t('year'), t('scan'), t('checked'), ''].map((c) => h('th', c))),
          rows.map((r) => h('tr', { dataset: { contract: r.contract, flagged: String(r.flagged) }, class: r.flagged ? 'warn' : '' },
            [r.title, r.customer || '', r.year, r.scan_on_file ? t('scan_on_file') : t('scan_none'), r.checked_label || ''].map((v) => h('td', v))
              .concat([h('td', check(r, 'present'), check(r, 'missing'))]))))
      : null);
  return box;
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
        c.locked ? h('span.tag.locked', t('contract_locked')) : null,
        c.fulfilment_label ? h('span.tag.fulfilment', { dataset: { fulfilment: c.fulfilment } }, c.fulfilment_label) : null);
    const queue = o.contracts.filter((c) => c.in_queue);
    // Draft a contract from an order held here, its clauses from a template of legal's.
    let draftForm = null;
    if (o.orders.length) {
      const orderSel = h('select#draft-order', o.orders.map((x) => h('option', { value: x.id }, x.title)));
      const title = h('input#draft-title', { type: 'text' });
      const tpl = h('select#draft-template', [h('option', { value: '' }, '-')].concat(o.templates.map((x) => h('option', { value: x.id }, x.title))));
      draftForm = h('form#draft-form.card',
        h('h3', t('draft_contract')),
        h('div.field', h('label', t('contract_order')), orderSel),
        h('div.field', h('label', t('contract_title')), title),
        h('div.field', h('label', t('clause_template')), tpl),
        h('button.primary#draft-submit', { type: 'submit' }, t('draft_contract')));
      draftForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          const id = await app.client.draftContract(orderSel.value, title.value, tpl.value, Date.now(), getLang());
          location.hash = `#/contract/${id}`;
        } catch (err) {
          showRefusal(draftForm, err);
        }
      });
    }
    fill(
      wrap,
      h('h2', t('contracts')),
      draftForm,
      app.session().role === 'legal' ? [h('h3', t('review_queue')), queue.length ? h('ul.list.cards#review-queue', queue.map(row)) : h('p.empty', t('queue_empty'))] : null,
      h('h3', t('all')),
      o.contracts.length ? h('ul.list.cards#contract-list', o.contracts.map(row)) : h('p.empty#contracts-empty', t('no_contracts')),
      ['legal', 'manager', 'admin'].includes(app.session().role) ? inventoryPanel() : null,
    );
  }
  draw();
  return { node: wrap, refresh: () => redraw(wrap, draw), nav: 'contracts' };
}

export function viewContract(id) {
  const wrap = h('section.contract#contract');
  // The clause text the user's edit started from (null: not edited since drawn), and the
  // text held now: a live update shows the new text unless the user is editing, and a
  // save merges the edit into the text held now from where it started.
  let editedBase = null;
  let latest = '';
  function draw() {
    const c = JSON.parse(app.client.contractDetail(id, getLang()));
    const role = app.session().role;
    const base = c.clauses || '';
    latest = base;
    const clauses = h('textarea#contract-clauses', { rows: 10, readonly: c.may_edit ? null : true }, base);
    const editing = () => {
      if (editedBase === null) editedBase = latest;
    };
    clauses.addEventListener('input', editing);
    const saveClauses = async () => {
      try {
        const edits = { clauses: { base: editedBase ?? latest, value: clauses.value } };
        await app.client.updateRecord(id, JSON.stringify(edits), Date.now(), getLang());
        editedBase = null;
        // The merged text (drawn again already, or when the update arrives).
        settle();
        toast(t('saved'));
      } catch (e) {
        showRefusal(wrap, e);
      }
    };
    // Insert a template's clauses where the cursor is (saved with the rest).
    const templates = c.templates || [];
    const templateSel = templates.length
      ? h('select#clause-template', [h('option', { value: '' }, t('insert_template'))].concat(templates.map((x) => h('option', { value: x.id }, x.name))))
      : null;
    if (templateSel) {
      templateSel.addEventListener('change', () => {
        const x = templates.find((tp) => tp.id === templateSel.value);
        if (!x) return;
        editing();
        const at = clauses.selectionStart ?? clauses.value.length;
        const before = clauses.value.slice(0, at);
        const sep = before && !before.endsWith('\n') ? '\n' : '';
        clauses.value = `${before}${sep}${x.body}${clauses.value.slice(at)}`;
        templateSel.value = '';
      });
    }
    const diff = c.diff
      ? h('div.diff#contract-diff', h('h3', `${t('version_diff')} ${c.diff.label}`),
          h('pre', c.diff.lines.map(([mark, line]) => h(mark === '+' ? 'ins' : mark === '-' ? 'del' : 'span', { dataset: { mark } }, `${mark} ${line}\n`))))
      : null;
    const clause = h('input#comment-clause', { type: 'text', placeholder: t('clause') });
    const text = h('input#comment-text', { type: 'text' });
    const s = c.lifecycle.status;
    const btn = (name, label, input, key = name) => h('button', { type: 'button', id: `c-${key}`, on: { click: () => step(id, name, input && input(), wrap) } }, label);
    fill(
      wrap,
      h('h2#contract-title', c.title),
      h('p', h('span.chip.status#contract-status', { dataset: { status: s } }, c.status_label), c.locked ? h('span.tag.locked#contract-locked', ` ${t('contract_locked')}`) : null),
      h('p#contract-fulfilment', { dataset: { fulfilment: c.fulfilment } }, `${t('fulfilment')}：${c.fulfilment_label}`),
      h('h3', t('clauses')),
      templateSel,
      clauses,
      c.may_edit ? h('button', { type: 'button', id: 'c-clauses', on: { click: saveClauses } }, t('save')) : null,
      diff,
      h('h3', t('clause_comments')),
      // An open comment is resolved with the text box's words as the resolution.
      h('ol#contract-comments', c.lifecycle.comments.map((m, i) => h('li', { dataset: { resolved: m.resolved_by ? 'true' : 'false' } },
        `[${m.clause}] ${m.text} — ${m.by}`,
        m.resolved_by ? ` ✓ ${m.resolution || ''}` : null,
        m.resolved_by || c.locked ? null : btn('resolve', t('resolve_comment'), () => ({ comment: m.id, note: text.value }), `resolve-${i + 1}`)))),
      c.locked ? null : h('div.comment-box', clause, text, btn('comment', t('add_comment'), () => ({ clause: clause.value, text: text.value }))),
      h('p.form-error#contract-error', { role: 'alert' }),
      h('div.actions',
        ['draft', 'changes-requested'].includes(s) && role !== 'legal' ? btn('submit', t('submit_to_legal')) : null,
        role === 'legal' && ['submitted', 'revised'].includes(s) ? btn('review', t('start_review')) : null,
        role === 'legal' && ['submitted', 'revised', 'in-review'].includes(s) ? [btn('changes', t('request_changes'), () => ({ note: text.value })), btn('approve', t('approve'))] : null,
        s === 'approved' ? btn('sign', t('sign')) : null),
    );
  }
  // Not being edited: the textarea shows the text held now (a redraw would keep the old).
  function settle() {
    const ta = wrap.querySelector('#contract-clauses');
    if (ta && editedBase === null) ta.value = latest;
  }
  draw();
  const refresh = () => {
    redraw(wrap, draw);
    settle();
  };
  return { node: wrap, refresh, nav: 'contracts' };
}
