// Logistics ships a confirmed order: carrier, tracking number, and the batch number(s)
// (批次号) each line ships with — what a recall later lists its customers by. The values
// are checked in Rust (client.shipOrder); a bad batch number is refused and nothing saved.
// What was typed survives the screen being redrawn by a sync meanwhile.

import { h } from './ui.js';
import { t } from './i18n.js';
import { app } from './kinds.js';

/// What was typed per order, until it ships.
const drafts = new Map();

export function shipBox(o, step) {
  const draft = drafts.get(o.id) || { carrier: '', tracking: '', batches: {} };
  drafts.set(o.id, draft);
  const keep = (el, save) => el.addEventListener('input', () => save(el.value));
  const carrier = h('input#ship-carrier', { required: true, autocomplete: 'off', value: draft.carrier });
  const tracking = h('input#ship-tracking', { required: true, autocomplete: 'off', value: draft.tracking });
  keep(carrier, (v) => (draft.carrier = v));
  keep(tracking, (v) => (draft.tracking = v));
  const batches = o.lines.map((l, i) => {
    const el = h('input.ship-batch', { id: `ship-batch-${i + 1}`, dataset: { line: l.id }, placeholder: 'B2026-03', value: draft.batches[l.id] || '' });
    keep(el, (v) => (draft.batches[l.id] = v));
    return el;
  });
  return h(
    'form#ship-form.card',
    {
      on: {
        submit: (e) => {
          e.preventDefault();
          const list = [];
          for (const b of batches) {
            for (const one of b.value.split(/[,，;；]/).map((x) => x.trim()).filter(Boolean)) list.push({ line: b.dataset.line, batch: one });
          }
          step(app.client.shipOrder(o.id, carrier.value, tracking.value, JSON.stringify(list), Date.now()));
        },
      },
    },
    h('h3', t('ship_order')),
    h('label.field', h('span.label', t('carrier')), carrier),
    h('label.field', h('span.label', t('tracking')), tracking),
    o.lines.map((l, i) => h('label.field', h('span.label', `${t('batch')} · ${l.sku} × ${l.qty}`), batches[i])),
    h('button#ship-order.primary', { type: 'submit' }, t('ship_order')),
  );
}
