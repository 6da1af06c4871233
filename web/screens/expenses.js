// Expenses (费用): a claim filed on a phone — the receipt photographed with the camera or
// picked from the files, the budget left for the item and month shown before submitting,
// offline too (computed by the client core from the documents held here) — the claims of
// this user with the server's verdict, the approvals queue of managers and executives,
// and finance's queue (check each receipt, reimburse).

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
    (x.receipts || []).length
      ? h('ul.receipts', x.receipts.map((r, i) => h('li', { dataset: { hash: r.hash } }, `${i + 1}. ${r.name} ¥${yuan(r.amount_fen)}`, x.receipts_held[i] ? '' : ` · ${t('not_here')}`)))
      : null,
    actions ? actions(x) : null,
  );
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
    const budgetCards = o.budgets.map((b) =>
      h(
        'li.card.budget',
        { dataset: { id: b.id } },
        h('div.head', h('strong', `${b.title}`), h('span.meta', `${b.team} ${b.year}`)),
        h(
          'table.budget-table',
          h('tr', [t('expense_item'), t('budget'), t('committed'), t('spent'), t('remaining')].map((c) => h('th', c))),
          b.items_labelled.map((c) => h('tr', { dataset: { item: c.item } }, [c.label, yuan(c.budget_fen), yuan(c.committed_fen), yuan(c.spent_fen), yuan(c.remaining_fen)].map((v) => h('td', v)))),
        ),
      ),
    );
    const mine = o.expenses.filter((x) => x.created_by === session.user);
    const approver = ['manager', 'executive', 'admin'].includes(session.role);
    const finance = ['finance', 'admin'].includes(session.role);
    fill(
      wrap,
      h('h2', t('expenses')),
      session.role === 'rep' || session.role === 'manager' ? form : null,
      h('h3', t('budgets')),
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
                    return h('div.check', `${n}. `, sanctioned, check);
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
