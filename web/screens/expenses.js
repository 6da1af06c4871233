// Expenses (费用): a claim filed on a phone — the receipt photographed with the camera or
// picked from the files, the budget left for the item and month shown before submitting,
// offline too (computed by the client core from the documents held here) — a request
// before spending (费用申请) with what is left shown before it is submitted, and the
// supplementary request (费用追加申请) an over-budget request needs before it can be
// approved; the expenses of this user with the server's verdict, the approvals queue of
// managers and executives (an over-budget request says so; its approval is refused until
// the executive approved a supplement covering the excess), and finance's queue (check
// each receipt, reimburse).

import { h, fill, redraw, toast, showRefusal } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';

const yuan = (fen) => (fen === null || fen === undefined ? '-' : (fen / 100).toFixed(2));

function expenseRow(x, actions) {
  const verdict = x.verdict ? t(`verdict:${x.verdict.verdict}`) : x.over_budget ? t('verdict:needs_supplement') : '';
  return h(
    'li.card.expense-row',
    { dataset: { id: x.id, status: x.lifecycle.status, verdict: x.verdict ? x.verdict.verdict : '' } },
    h('div.head', h('strong.name', x.purpose || x.reason || x.item_label || ''), h('span.chip.status', x.status_label), h('strong.amount', `¥${yuan(x.amount_fen)}`)),
    h('p.meta', [x.item_label, x.date, x.created_by].filter(Boolean).join(' · ')),
    verdict ? h('p.verdict', { class: x.verdict && x.verdict.verdict !== 'within_budget' ? 'verdict warn' : 'verdict' }, `${t('verdict')}：${verdict}`) : null,
    x.verdict && x.verdict.duplicates.length ? h('p.warn.duplicate', t('receipt_claimed_before')) : null,
    x.kind === 'expense-request' && x.over_budget
      ? h('p.warn.over-budget', `${t('budget_left')}：¥${yuan(x.remaining_fen)} · ${t('supplement_needed')} ¥${yuan(x.excess_fen)}`)
      : null,
    (x.receipts || []).length
      ? h('ul.receipts', x.receipts.map((r, i) => h('li', { dataset: { hash: r.hash } }, `${i + 1}. ${r.name} ¥${yuan(r.amount_fen)}`, x.receipts_held[i] ? '' : ` · ${t('not_here')}`)))
      : null,
    actions ? actions(x) : null,
    actions ? h('p.form-error', { role: 'alert' }) : null,
  );
}

// The receipt viewer: the attachment's image (or a link to the PDF) from the bytes held on
// this device, fetched from the server first when it is not here. What was opened stays
// shown when a live update draws the queue again.
const viewed = new Map();

function receiptViewer(r, n, claimId) {
  const id = `rv-${claimId}-${n}`;
  const render = (box) => {
    const v = viewed.get(r.hash);
    if (!v) return;
    if (!v.url) return fill(box, v.text);
    box.dataset.bytes = String(v.bytes);
    fill(box, (r.mime || '').startsWith('image/')
      ? h('img.receipt-image', { src: v.url, alt: r.name })
      : h('a', { href: v.url, download: r.name, target: '_blank' }, r.name));
  };
  const box = h('div.receipt-view', { id });
  render(box);
  const now = () => render(document.getElementById(id) || box);
  const show = async () => {
    let state = JSON.parse(app.client.wantBlob(r.hash));
    for (let i = 0; i < 120 && !['held', 'pending', 'refused'].includes(state.state); i += 1) {
      viewed.set(r.hash, { text: t('receipt_fetching') });
      now();
      await new Promise((ok) => setTimeout(ok, 500));
      state = JSON.parse(app.client.wantBlob(r.hash));
    }
    const bytes = state.state === 'refused' ? null : await app.client.blobBytes(r.hash);
    if (!bytes) viewed.set(r.hash, { text: `${t('receipt_unavailable')}${state.reason ? `：${state.reason}` : ''}` });
    else viewed.set(r.hash, { url: URL.createObjectURL(new Blob([bytes], { type: r.mime || 'application/octet-stream' })), bytes: bytes.length });
    now();
  };
  return h('div.receipt', h('button', { type: 'button', id: `x-view-${claimId}-${n}`, on: { click: show } }, t('view_receipt')), box);
}

function stepButton(id, step, label, input, box) {
  return h('button', {
    type: 'button',
    id: `x-${step}-${id}`,
    on: {
      click: async () => {
        try {
          await app.client.expenseStep(id, step, JSON.stringify(input ? input() : {}), Date.now(), getLang());
          toast(t('saved'));
        } catch (e) {
          showRefusal(box(), e);
        }
      },
    },
  }, label);
}

// A request (before spending) or a supplementary request, created and submitted as one
// step through the generic record API; what is left is shown before submitting.
function planForm(o, kind, budgets, mine) {
  const p = kind === 'expense-request' ? 'req' : 'sup';
  const form = h(`form#${p}-form.card`);
  const budgetSel = h(`select#${p}-budget`, budgets.map((b) => h('option', { value: b.id }, `${b.title} (${b.year})`)));
  const itemSel = h(`select#${p}-item`, o.items.map((i) => h('option', { value: i.name }, i.label)));
  const amount = h(`input#${p}-amount`, { type: 'number', step: '0.01', min: '0', inputmode: 'decimal' });
  const text = h(`input#${p}-text`, { type: 'text' });
  const date = kind === 'expense-request' ? h(`input#${p}-date`, { type: 'date', value: new Date().toISOString().slice(0, 10) }) : null;
  const month = kind === 'expense-supplement'
    ? h(`select#${p}-month`, Array.from({ length: 12 }, (_, i) => h('option', { value: String(i + 1) }, String(i + 1))))
    : null;
  if (month) month.value = String(new Date().getUTCMonth() + 1);
  // A supplement is asked for one of this user's over-budget requests, or for an item alone.
  const over = mine.filter((x) => x.kind === 'expense-request' && x.over_budget && x.lifecycle.status === 'submitted');
  const forReq = month
    ? h('select#sup-request', [h('option', { value: '' }, '-')].concat(over.map((x) => h('option', { value: x.id }, `${x.purpose} ¥${yuan(x.amount_fen)}`))))
    : null;
  if (forReq) {
    forReq.addEventListener('change', () => {
      const x = over.find((r) => r.id === forReq.value);
      if (!x) return;
      budgetSel.value = x.budget;
      itemSel.value = x.item;
      month.value = String(Number((x.date || '').slice(5, 7)) || month.value);
      amount.value = yuan(x.excess_fen);
      showLeft();
    });
  }
  const left = h(`p#${p}-remaining.meta`);
  const showLeft = () => {
    if (!budgetSel.value) return fill(left, t('no_budget'));
    const m = month ? Number(month.value) : Number((date.value || '').slice(5, 7)) || 1;
    const rest = app.client.budgetRemaining(budgetSel.value, itemSel.value, m);
    const overNow = kind === 'expense-request' && (rest === undefined || rest === null ? Number(amount.value || 0) > 0 : Number(amount.value || 0) * 100 > rest);
    left.dataset.remaining = rest ?? '';
    left.classList.toggle('warn', !!overNow);
    fill(left, `${t('budget_left')}：¥${yuan(rest)}`, overNow ? ` · ${t('supplement_first')}` : '');
  };
  for (const el of [budgetSel, itemSel, date, month, amount].filter(Boolean)) {
    el.addEventListener('input', showLeft);
    el.addEventListener('change', showLeft);
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = { budget: budgetSel.value, item: itemSel.value, amount_fen: amount.value };
    if (date) Object.assign(input, { date: date.value, purpose: text.value });
    else Object.assign(input, { month: month.value, reason: text.value });
    if (forReq && forReq.value) input.request = forReq.value;
    try {
      const id = await app.client.createRecord(kind, JSON.stringify(input), Date.now(), getLang());
      await app.client.expenseStep(id, 'submit', '{}', Date.now(), getLang());
      toast(t('saved'));
    } catch (err) {
      showRefusal(form, err);
    }
  });
  const field = (label, el, name) => h('div.field', { dataset: { field: name } }, h('label', label), el);
  fill(
    form,
    h('h3', t(kind === 'expense-request' ? 'new_request' : 'new_supplement')),
    forReq ? field(t('for_request'), forReq, 'request') : null,
    field(t('budget'), budgetSel, 'budget'),
    field(t('expense_item'), itemSel, 'item'),
    date ? field(t('expense_date'), date, 'date') : field(t('month'), month, 'month'),
    field(t('amount_yuan'), amount, 'amount_fen'),
    field(t(date ? 'purpose' : 'supplement_reason'), text, date ? 'purpose' : 'reason'),
    left,
    h('p.form-error', { role: 'alert' }),
    h(`button.primary#${p}-submit`, { type: 'submit' }, t(date ? 'submit_request' : 'submit_supplement')),
  );
  showLeft();
  return form;
}

// A budget (销售费用预算): its version in force read-only (items × months); for the team's
// manager the draft of the next version as an items × months grid, saved cell by cell and
// submitted as the next version; for the executive each version waiting, to approve or
// reject. Every step goes through the client core (`budgetStep`), refusals shown here.
function budgetCard(b, o, session) {
  const months = Array.from({ length: 12 }, (_, i) => i + 1);
  const cellOf = (lines, item, m) => {
    const l = (lines || []).find((x) => x.item === item && x.month === m);
    return l ? l.amount_fen : null;
  };
  const card = h('li.card.budget', { dataset: { id: b.id, inForce: b.in_force ?? '' } });
  const step = async (name, input) => {
    try {
      const out = await app.client.budgetStep(b.id, name, JSON.stringify(input || {}), Date.now(), getLang());
      toast(t('saved'));
      return out;
    } catch (e) {
      showRefusal(card, e);
      return null;
    }
  };
  const inForce = (b.versions || []).find((v) => v.version === b.in_force);
  const grid = (lines, editable) =>
    h(
      `table.budget-grid${editable ? '.draft' : '.in-force'}`,
      h('tr', [h('th', t('expense_item'))].concat(months.map((m) => h('th', String(m))))),
      o.items.map((i) =>
        h('tr', { dataset: { item: i.name } }, [h('td', i.label)].concat(months.map((m) => {
          const fen = cellOf(lines, i.name, m);
          if (!editable) return h('td', fen === null ? '' : yuan(fen));
          return h('td', h('input', { id: `bl-${b.id.slice(0, 8)}-${i.name}-${m}`, type: 'number', step: '0.01', min: '0', value: fen === null ? '' : yuan(fen), dataset: { item: i.name, month: String(m), was: fen === null ? '' : yuan(fen) } }));
        }))),
      ),
    );
  const mayDraft = session.role === 'manager' && (session.territories || [session.territory]).includes(b.team);
  const waiting = (b.versions || []).filter((v) => v.status === 'submitted');
  const mayDecide = ['executive', 'admin'].includes(session.role);
  fill(
    card,
    h('div.head', h('strong', `${b.title}`), h('span.meta', `${b.team} ${b.year}`), b.in_force ? h('span.chip.status.approved', `${t('budget_version')} ${b.in_force}`) : null),
    h(
      'table.budget-table',
      h('tr', [t('expense_item'), t('budget'), t('committed'), t('spent'), t('remaining')].map((c) => h('th', c))),
      b.items_labelled.map((c) => h('tr', { dataset: { item: c.item } }, [c.label, yuan(c.budget_fen), yuan(c.committed_fen), yuan(c.spent_fen), yuan(c.remaining_fen)].map((v) => h('td', v)))),
    ),
    inForce ? h('details.in-force', h('summary', `${t('budget_in_force')} v${inForce.version}`), grid(inForce.lines, false)) : null,
    mayDraft
      ? h('details.draft', { open: b.in_force ? null : true },
          h('summary', t('budget_draft')),
          grid(b.draft, true),
          h('div.actions',
            h('button', { type: 'button', id: `b-save-${b.id}`, on: { click: async () => {
              for (const el of card.querySelectorAll('table.draft input')) {
                if (el.value === el.dataset.was || el.value === '') continue;
                if ((await step('line', { item: el.dataset.item, month: el.dataset.month, amount: el.value })) === null) return;
              }
            } } }, t('save')),
            h('button.primary', { type: 'button', id: `b-submit-${b.id}`, on: { click: () => step('submit') } }, t('submit_budget'))))
      : null,
    mayDecide && waiting.length
      ? h('div.actions.decide', waiting.map((v) => [
          h('span', `v${v.version} ${t('awaiting_approval')}`),
          h('button.primary', { type: 'button', id: `b-approve-${b.id}-${v.version}`, on: { click: () => step('approve', { version: String(v.version) }) } }, t('approve')),
          h('button', { type: 'button', id: `b-reject-${b.id}-${v.version}`, on: { click: () => step('reject', { version: String(v.version) }) } }, t('reject')),
        ]))
      : null,
  );
  return card;
}

function newBudgetForm(session) {
  const form = h('form#budget-form.card');
  const team = h('input#budget-team', { type: 'text', value: session.territory || '' });
  const year = h('input#budget-year', { type: 'number', value: String(new Date().getUTCFullYear()) });
  const title = h('input#budget-title', { type: 'text' });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await app.client.budgetStep('', 'new', JSON.stringify({ team: team.value, year: year.value, title: title.value }), Date.now(), getLang());
      toast(t('saved'));
    } catch (err) {
      showRefusal(form, err);
    }
  });
  const field = (label, el) => h('div.field', h('label', label), el);
  fill(form, h('h3', t('new_budget')), field(t('budget_team'), team), field(t('budget_year'), year), field(t('budget_title'), title),
    h('button.primary#budget-new', { type: 'submit' }, t('new_budget')));
  return form;
}

export function viewExpenses() {
  const wrap = h('section.expenses#expenses');
  let fileBytes = null;
  let fileName = '';
  function draw() {
    const o = JSON.parse(app.client.expenseOverview(getLang()));
    const session = app.session();
    const budgets = o.budgets.filter((b) => b.in_force !== null && b.in_force !== undefined);
    const form = h('form#claim-form.card');
    const budgetSel = h('select#claim-budget', budgets.map((b) => h('option', { value: b.id }, `${b.title} (${b.year})`)));
    const itemSel = h('select#claim-item', o.items.map((i) => h('option', { value: i.name }, i.label)));
    const date = h('input#claim-date', { type: 'date', value: new Date().toISOString().slice(0, 10) });
    const amount = h('input#claim-amount', { type: 'number', step: '0.01', min: '0', inputmode: 'decimal' });
    const purpose = h('input#claim-purpose', { type: 'text' });
    const file = h('input#claim-receipt', { type: 'file', accept: 'image/*,application/pdf', capture: 'environment' });
    const left = h('p#claim-remaining.meta');
    const showLeft = () => {
      if (!budgetSel.value) return fill(left, t('no_budget'));
      const month = Number((date.value || '').slice(5, 7)) || 1;
      const rest = app.client.budgetRemaining(budgetSel.value, itemSel.value, month);
      const over = rest !== undefined && rest !== null && Number(amount.value || 0) * 100 > rest;
      left.dataset.remaining = rest ?? '';
      left.classList.toggle('warn', !!over);
      fill(left, `${t('budget_left')}：¥${yuan(rest)}`, over ? ` · ${t('verdict:needs_supplement')}` : '');
    };
    for (const el of [budgetSel, itemSel, date, amount]) el.addEventListener('input', showLeft);
    for (const el of [budgetSel, itemSel]) el.addEventListener('change', showLeft);
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      fileBytes = f ? new Uint8Array(await f.arrayBuffer()) : null;
      fileName = f ? f.name : '';
      file.dataset.loaded = fileBytes ? String(fileBytes.length) : '';
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!fileBytes) return showRefusal(form, JSON.stringify({ message: t('receipt_needed') }));
      try {
        const input = { budget: budgetSel.value, item: itemSel.value, date: date.value, amount: amount.value, purpose: purpose.value };
        await app.client.fileClaim(JSON.stringify(input), fileBytes, fileName, Date.now(), getLang());
        fileBytes = null;
        toast(t('saved'));
      } catch (err) {
        showRefusal(form, err);
      }
    });
    const field = (label, el) => h('div.field', h('label', label), el);
    fill(
      form,
      h('h3', t('new_claim')),
      field(t('budget'), budgetSel),
      field(t('expense_item'), itemSel),
      field(t('expense_date'), date),
      field(t('amount_yuan'), amount),
      field(t('purpose'), purpose),
      field(t('receipt'), file),
      left,
      h('button.primary#claim-submit', { type: 'submit' }, t('submit_claim')),
    );
    const budgetCards = o.budgets.map((b) => budgetCard(b, o, session));
    const mine = o.expenses.filter((x) => x.created_by === session.user);
    const approver = ['manager', 'executive', 'admin'].includes(session.role);
    const finance = ['finance', 'admin'].includes(session.role);
    fill(
      wrap,
      h('h2', t('expenses')),
      session.role === 'rep' || session.role === 'manager'
        ? [form, planForm(o, 'expense-request', budgets, mine), planForm(o, 'expense-supplement', budgets, mine)]
        : null,
      h('h3', t('budgets')),
      session.role === 'manager' ? newBudgetForm(session) : null,
      budgetCards.length ? h('ul.list.cards#budget-list', budgetCards) : h('p.empty', t('no_budget')),
      mine.length ? [h('h3', t('my_claims')), h('ul.list.cards#my-expenses', mine.map((x) => expenseRow(x)))] : null,
      approver
        ? [
            h('h3', t('expense_approvals')),
            o.approvals.length
              ? h('ul.list.cards#expense-approvals', o.approvals.map((x) => expenseRow(x, (x) => {
                  const box = () => document.querySelector(`[data-id="${x.id}"]`);
                  return h('div.actions', stepButton(x.id, 'approve', t('approve'), null, box), stepButton(x.id, 'reject', t('reject'), null, box));
                })))
              : h('p.empty#expense-approvals-empty', t('approvals_empty')),
          ]
        : null,
      finance
        ? [
            h('h3', t('finance_queue')),
            o.finance.length
              ? h('ul.list.cards#finance-queue', o.finance.map((x) => expenseRow(x, (x) => {
                  const box = () => document.querySelector(`#finance-queue [data-id="${x.id}"]`);
                  const checks = x.receipts.map((r, i) => {
                    const n = String(i + 1);
                    const sanctioned = h('input', { id: `x-sanction-${x.id}-${n}`, type: 'number', step: '0.01', value: yuan(r.amount_fen) });
                    const check = h('button', {
                      type: 'button',
                      id: `x-check-${x.id}-${n}`,
                      on: {
                        click: async () => {
                          try {
                            const input = { receipt: n, sanctioned: sanctioned.value, reason: '' };
                            await app.client.expenseStep(x.id, 'check', JSON.stringify(input), Date.now(), getLang());
                            toast(t('saved'));
                          } catch (e) {
                            showRefusal(box(), e);
                          }
                        },
                      },
                    }, t('check_receipt'));
                    return h('div.check', `${n}. `, sanctioned, check, receiptViewer(r, n, x.id));
                  });
                  return h('div.actions', checks, stepButton(x.id, 'reimburse', t('reimburse'), null, box));
                })))
              : h('p.empty#finance-empty', t('finance_empty')),
          ]
        : null,
    );
    showLeft();
  }
  draw();
  return { node: wrap, refresh: () => redraw(wrap, draw), nav: 'expenses' };
}
