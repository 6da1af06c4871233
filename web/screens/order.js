// One order: the one status (with "not yet sent / not yet checked by the server"), its
// lines with product names and prices against the policy, the server's verdict (or the
// offline one), and the steps this user may take now — asked of the client core, which
// applies the server's rules (who records which event, nobody approves their own order, a
// department resolves its own exceptions) and the lifecycle (a step that would not take
// effect is not offered). A rejection needs a reason and a confirmation; a rejected order
// can be revised and resubmitted.

import { h, fill, redraw, toast, select, fieldBox, showRefusal, clearErrors, currentForm, confirmButton, statusChip, errorText, onForget } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { labelOf } from './customer.js';

/// The order's lines: product names, quantities, prices, and how each price stands
/// against the policy. Used by the order screen and the approvals queue.
export function linesTable(lines, { id, total } = {}) {
  return h(
    'div.table-wrap',
    h(
      'table.lines',
      { id: id || null },
      h('thead', h('tr', [t('product_name'), t('spec'), t('qty'), t('unit_price'), t('amount'), t('policy_price')].map((x) => h('th', x)))),
      h(
        'tbody',
        lines.map((l) =>
          h(
            'tr.line',
            { dataset: { id: l.id } },
            h('td.product', { dataset: { label: t('product_name') } }, h('strong', l.name || l.sku), l.name ? h('small.meta.sku', ` ${l.sku}`) : null),
            h('td', { dataset: { label: t('spec') } }, l.spec || ''),
            h('td.qty.num', { dataset: { label: t('qty') } }, l.qty),
            h('td.num', { dataset: { label: t('unit_price') } }, `¥${l.unit_price}`),
            h('td.num', { dataset: { label: t('amount') } }, `¥${l.amount}`),
            h(
              'td.policy',
              { dataset: { label: t('policy_price') } },
              l.policy_price ? `¥${l.policy_price}` : '',
              l.discount ? h('span.tag.discount', ` ${t('discount')} ${l.discount}`) : null,
              l.markup ? h('span.tag.markup', ` ${t('markup')} ${l.markup}`) : null,
              (l.notes || []).length ? h('small.line-notes', (l.notes || []).join('；')) : null,
            ),
          ),
        ),
      ),
      total ? h('tfoot', h('tr', h('td', { colspan: 4 }, t('total')), h('td#order-total.num', `¥${total}`), h('td'))) : null,
    ),
  );
}

export function viewOrder(id) {
  const wrap = h('section.detail.order-detail');
  async function step(kind, input, form) {
    try {
      await app.client.orderStep(id, kind, JSON.stringify(input || {}), Date.now(), getLang());
      if (form) clearErrors(currentForm(form));
      toast(t('saved'));
      refresh({ fresh: true });
    } catch (e) {
      if (form) showRefusal(form, e);
      else toast(errorText(e), 'error');
    }
  }
  function refresh({ fresh = false } = {}) {
    if (fresh) draw();
    else redraw(wrap, draw);
  }
  function draw() {
    let o;
    try {
      o = JSON.parse(app.client.order(id, getLang()));
    } catch (e) {
      fill(wrap, h('p.error', `${t('not_found')}: ${errorText(e)}`));
      return;
    }
    const vocab = app.vocab;
    const facts = [
      [t('customer'), o.customer ? h('a#order-customer', { href: `#/customer/${o.customer}` }, o.customer_name || o.customer) : '?'],
      [t('order_source'), o.source_label],
      [labelOf('order', 'payment_method'), o.payment_method_label],
      [labelOf('order', 'delivery_date'), o.delivery_date],
      [labelOf('order', 'delivery_place'), o.delivery_place],
      [t('created_at'), `${o.created_at_local} · ${o.created_by}`],
      o.shipping ? [t('shipping'), h('span#order-shipping', `${o.shipping.carrier || ''} ${o.shipping.tracking || ''}`)] : null,
      ['confirmed', 'shipped', 'delivered', 'closed'].includes(o.status) ? [t('paid'), o.paid ? t('yes') : t('unpaid')] : null,
    ].filter((r) => r && r[1]);
    fill(
      wrap,
      h('div.head', h('h2', `${t('orders')} · ${o.customer_name || ''}`), statusChip(o, 'order-status')),
      o.rejection
        ? h(
            'div#order-rejection.warn-box',
            h('strong', t('rejected_because', { by: o.rejection.by })),
            h('q.comment', o.rejection.comment || ''),
            h('p.meta', t('rejected_at', { at: o.rejection.at_local })),
            o.may_revise ? h('a#revise-order.button.primary', { href: `#/order/${id}/edit` }, t('revise_order')) : null,
          )
        : null,
      h(
        'div.actions',
        o.may_revise && !o.rejection ? h('a#edit-order.button', { href: `#/order/${id}/edit` }, t('edit_order')) : null,
      ),
      h('dl.facts', facts.map(([k, v]) => [h('dt', k), h('dd', v)])),
      h('h3', t('lines')),
      linesTable(o.lines, { id: 'order-line-table', total: o.total }),
      o.notes ? [h('h3', labelOf('order', 'notes')), h('p#order-notes.record-text', o.notes)] : null,
      verdictBox(o),
      o.exceptions.length
        ? h(
            'div#order-exceptions.warn-box',
            h('strong', t('open_exceptions')),
            h('ul', o.exceptions.map((e) => h('li', `${e.kind || ''} · ${e.comment || ''} · ${e.by} ${e.at_local}`))),
          )
        : null,
      o.steps.length ? stepsBox(o, vocab, step) : null,
      h('h3', t('timeline')),
      h(
        'ol#order-timeline.timeline',
        o.timeline.map((e) =>
          h(
            'li',
            { dataset: { kind: e.kind, statusAfter: e.status_after, pending: e.pending ? 'true' : 'false' }, class: e.applied ? null : 'not-applied' },
            h('strong', e.label),
            h('span.meta', ` ${e.at_local} · ${e.by}${e.role ? ` (${e.role})` : ''}`),
            e.pending ? h('span.tag.sync.unsent', ` ${t('sync_unsent')}`) : null,
            e.exception ? h('span.tag', ` ${e.exception}`) : null,
            e.carrier || e.tracking ? h('span.meta', ` ${e.carrier || ''} ${e.tracking || ''}`) : null,
            e.comment ? h('q.comment', e.comment) : null,
            e.note ? h('small.hint', ` ${t(`note_${e.note}`)}`) : null,
          ),
        ),
      ),
    );
  }
  draw();
  return { node: wrap, refresh: () => refresh(), nav: 'orders' };
}

// The server's verdict (or, before it arrives, the offline preview) and what is missing.
function verdictBox(o) {
  const v = o.verdict;
  const p = o.preview;
  const shown = v && v.current ? v : p || v;
  if (!shown) return h('p#order-verdict.hint', { dataset: { verdict: 'none' } }, t('no_policy'));
  const server = shown === v;
  const approvals = (shown.approvals || []);
  return h(
    'div#order-verdict.card',
    { dataset: { verdict: shown.verdict, source: server ? 'server' : 'preview', stale: v && v.stale ? 'true' : 'false' } },
    h('h3', server ? t('server_verdict') : t('offline_verdict')),
    h(
      'p',
      h('span.status.verdict-' + shown.verdict, t(`verdict_${shown.verdict}`)),
      server ? h('span.meta', ` ${t('checked_at')} ${v.checked_at_local} · ${t('policy_version')} ${v.policy_version}`) : null,
    ),
    v && v.stale ? h('p.warn#verdict-stale', t('stale_policy', { a: v.priced_with, b: v.policy_version })) : null,
    v && !v.current ? h('p.hint', t('verdict_outdated')) : null,
    approvals.length ? h('ul.reasons', approvals.map((a) => h('li', a.text))) : null,
    o.missing_approvals.length ? h('p.warn#missing-approvals', t('waiting_for', { roles: o.missing_approvals.join('、') })) : null,
  );
}

/// Approve, or reject with a reason and a confirmation. `done(kind, input, form)`.
export function decideBox(done, id = 'decide-comment') {
  const comment = h('textarea.decide-comment', { id, rows: 2, placeholder: t('reject_reason'), 'aria-label': t('comment') });
  const box = h(
    'div.decide',
    fieldBox('comment', t('comment'), comment),
    h(
      'div.actions',
      h('button.approve.primary', { type: 'button', on: { click: () => done('approved', { comment: comment.value }, box) } }, t('approve')),
      h('button.reject', {
        type: 'button',
        on: {
          click: () => {
            clearErrors(box);
            // A rejection needs its reason before it is confirmed.
            if (!comment.value.trim()) {
              done('rejected', { comment: '' }, box);
              return;
            }
            askToReject();
          },
        },
      }, t('reject')),
    ),
  );
  const confirmSlot = h('div.confirm-slot');
  // The question stays asked when a live update draws the box again.
  function askToReject() {
    openRejects.add(id);
    fill(
      confirmSlot,
      h(
        'span.confirm',
        h('span.confirm-question', t('reject_question')),
        h('button.danger.reject-confirm', {
          type: 'button',
          on: {
            click: () => {
              openRejects.delete(id);
              done('rejected', { comment: comment.value }, box);
            },
          },
        }, t('reject_confirm')),
        h('button.reject-back', {
          type: 'button',
          on: {
            click: () => {
              openRejects.delete(id);
              fill(confirmSlot);
            },
          },
        }, t('back')),
      ),
    );
  }
  box.append(confirmSlot, h('p.form-error.error', { role: 'alert' }));
  if (openRejects.has(id)) askToReject();
  return box;
}

/// The decide boxes (by their comment's id) whose rejection is waiting for its confirmation.
const openRejects = new Set();
onForget(() => openRejects.clear());

/// The steps this user may take now, each with what it needs.
function stepsBox(o, vocab, step) {
  const has = (k) => o.steps.includes(k);
  const part = (k, ...children) => h('div.step', { dataset: { step: k } }, ...children, h('p.form-error.error', { role: 'alert' }));
  const parts = [];
  if (has('submitted')) {
    const label = o.status === 'rejected' ? t('resubmit_as_is') : t('submit_order');
    parts.push(part('submitted', h('button#submit-order.primary', { type: 'button', on: { click: () => step('submitted') } }, label)));
  }
  if (has('approved') || has('rejected')) parts.push(decideBox(step));
  if (has('paid')) parts.push(part('paid', h('button#pay-order.primary', { type: 'button', on: { click: () => step('paid') } }, t('pay'))));
  if (has('shipped')) {
    // Carrier, tracking number, and the batch number(s) (批次号) each line ships with —
    // what a recall later finds its customers by (checked by the core: a bad one is refused).
    const carrier = h('input#ship-carrier', { autocomplete: 'off' });
    const tracking = h('input#ship-tracking', { autocomplete: 'off' });
    const batches = o.lines.map((l, i) => h('input.ship-batch', { id: `ship-batch-${i + 1}`, autocomplete: 'off', placeholder: 'B2026-03', dataset: { line: l.id } }));
    const batchList = () =>
      batches.flatMap((b) => b.value.split(/[,，;；]/).map((x) => x.trim()).filter(Boolean).map((batch) => ({ line: b.dataset.line, batch })));
    const box = part(
      'shipped',
      fieldBox('carrier', t('carrier'), carrier, { required: true }),
      fieldBox('tracking', t('tracking'), tracking, { required: true }),
      o.lines.length
        ? fieldBox(
            'batches',
            t('batch'),
            h('div.ship-batches', o.lines.map((l, i) => h('label.ship-line', h('span', `${l.name || l.sku} × ${l.qty}`), batches[i]))),
            { hint: t('batches_hint') },
          )
        : null,
      h('button#ship-order.primary', { type: 'button', on: { click: () => step('shipped', { carrier: carrier.value, tracking: tracking.value, batches: batchList() }, box) } }, t('ship')),
    );
    box.id = 'ship-form';
    parts.push(box);
  }
  if (has('delivered')) {
    const feedback = h('textarea#deliver-feedback', { rows: 2 });
    const box = part(
      'delivered',
      fieldBox('comment', t('delivery_feedback'), feedback),
      h('button#deliver-order.primary', { type: 'button', on: { click: () => step('delivered', { comment: feedback.value }, box) } }, t('deliver')),
    );
    parts.push(box);
  }
  if (has('resolved')) {
    const note = h('textarea#resolve-note', { rows: 2 });
    const box = part(
      'resolved',
      fieldBox('comment', t('resolution'), note, { required: true }),
      h('button#resolve-exception.primary', { type: 'button', on: { click: () => step('resolved', { comment: note.value }, box) } }, t('resolve')),
    );
    parts.push(box);
  }
  if (has('closed')) parts.push(part('closed', h('button#close-order.primary', { type: 'button', on: { click: () => step('closed') } }, t('close_order'))));
  if (has('exception')) {
    const kind = select('exception-kind', vocab.exception, '', '—');
    const note = h('textarea#exception-note', { rows: 2 });
    const box = part(
      'exception',
      h(
        'details',
        h('summary', t('raise_exception')),
        fieldBox('exception', t('exception_kind'), kind, { required: true }),
        fieldBox('comment', t('exception_note'), note, { required: true }),
        h('button#raise-exception', { type: 'button', on: { click: () => step('exception', { exception: kind.value, comment: note.value }, box) } }, t('raise_exception')),
      ),
    );
    parts.push(box);
  }
  if (has('cancelled')) {
    const shipped = ['shipped', 'delivered'].includes(o.status);
    parts.push(
      part(
        'cancelled',
        confirmButton({
          id: 'cancel-order',
          label: shipped ? t('request_cancel') : t('cancel_order'),
          question: t('cancel_question'),
          run: () => step('cancelled'),
        }),
      ),
    );
  }
  return h('section#order-steps.card', h('h3', t('steps')), parts);
}

