// A new order for a customer, or the revision of one (a draft, an order waiting for its
// approval, a rejected one — then "save and resubmit" sends it back to its approvers).
// Picking a product fills its code, spec and the price the policy gives this customer;
// every line is priced live, offline, by the shared pricing engine (policy price, the
// discount or the markup, what needs approval). Values are parsed in Rust (full-width
// digits, yuan to fen); a refused save marks each wrong field, lines included.

import { h, fill, select, toast, fieldBox, showRefusal, clearErrors } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { labelOf } from './customer.js';

export function viewOrderForm({ customer = null, order = null }) {
  let o = null;
  if (order) {
    try {
      o = JSON.parse(app.client.order(order, getLang()));
    } catch (_) {
      return { node: h('p.error', t('not_found')) };
    }
    customer = o.customer;
  }
  let name = null;
  try {
    name = JSON.parse(app.client.customer(customer, getLang())).customer.name;
  } catch (_) {
    return { node: h('p.error', t('not_found')) };
  }
  const vocab = app.vocab;
  const catalogue = JSON.parse(app.client.catalogue(customer, Date.now()));
  const product = (code) => catalogue.skus.find((x) => x.code === (code || '').trim());
  const source = select('of-source', vocab.order_source, o ? o.source || '' : 'electronic');
  const linesBody = h('div#order-lines.lines-edit');
  const total = h('strong#order-total', '¥0.00');
  const problems = h('p#order-problems.hint');
  const approval = h('div#order-approval', { hidden: true });

  function fillPrice(row, p) {
    const price = row.querySelector('.line-price');
    // The policy price for this customer, unless the rep wrote a price of their own.
    if (p && p.price && (!price.value || price.value === row.dataset.autoPrice)) {
      price.value = p.price;
      row.dataset.autoPrice = p.price;
    }
    price.placeholder = p && p.price ? p.price : t('unit_price');
  }
  function pick(row, code) {
    const p = product(code);
    if (!p) return;
    row.querySelector('.line-sku').value = p.code;
    row.querySelector('.line-spec').value = p.spec;
    if (!row.querySelector('.line-qty').value) row.querySelector('.line-qty').value = '1';
    fillPrice(row, p);
    preview();
  }
  const cell = (field, input) => h('div.line-cell', { dataset: { name: field } }, input, h('small.field-error', { role: 'alert' }));
  function lineRow(l = {}) {
    const sku = h('input.line-sku', { placeholder: t('sku'), autocomplete: 'off', 'aria-label': t('sku'), value: l.sku || '' });
    sku.addEventListener('change', () => {
      const p = product(sku.value);
      if (p) {
        const spec = row.querySelector('.line-spec');
        if (!spec.value) spec.value = p.spec;
        fillPrice(row, p);
        preview();
      }
    });
    const row = h(
      'div.line',
      { dataset: { id: l.id || '' } },
      catalogue.skus.length
        ? h(
            'select.line-pick',
            { 'aria-label': t('product'), on: { change: (e) => pick(row, e.target.value) } },
            h('option', { value: '' }, `— ${t('product')} —`),
            catalogue.skus.map((p) => h('option', { value: p.code }, `${p.name} · ${p.spec}`)),
          )
        : null,
      cell('sku', sku),
      h('small.line-name', ''),
      cell('spec', h('input.line-spec', { placeholder: t('spec'), 'aria-label': t('spec'), value: l.spec || '' })),
      cell('qty', h('input.line-qty', { inputmode: 'numeric', placeholder: t('qty'), 'aria-label': t('qty'), value: l.qty ?? '' })),
      cell('unit_price_fen', h('input.line-price', { inputmode: 'decimal', placeholder: t('unit_price'), 'aria-label': t('unit_price'), value: l.unit_price || '' })),
      h('span.line-amount', ''),
      h('small.line-policy', ''),
      h('button.remove-line', { type: 'button', title: t('remove'), 'aria-label': t('remove'), on: { click: () => (row.remove(), preview()) } }, '×'),
    );
    const p = product(l.sku);
    if (p) row.querySelector('.line-price').placeholder = p.price || t('unit_price');
    if (p && p.price === l.unit_price) row.dataset.autoPrice = p.price;
    return row;
  }
  const rows = () => [...linesBody.querySelectorAll('.line')];
  const lines = () =>
    rows().map((r) => ({
      id: r.dataset.id || '',
      sku: r.querySelector('.line-sku').value,
      spec: r.querySelector('.line-spec').value,
      qty: r.querySelector('.line-qty').value,
      unit_price: r.querySelector('.line-price').value,
    }));
  /// Name each line's cells as the core names its fields (`lines/N/qty`), N = position.
  function renumber() {
    rows().forEach((r, i) => {
      r.dataset.line = String(i + 1);
      for (const c of r.querySelectorAll('.line-cell')) c.dataset.field = `lines/${i + 1}/${c.dataset.name}`;
    });
  }
  // Live preview, computed by the client core with the synced policy.
  function preview() {
    renumber();
    const p = JSON.parse(app.client.previewOrder(customer, JSON.stringify(lines()), Date.now(), getLang()));
    const rs = rows();
    p.lines.forEach((l, i) => {
      const r = rs[i];
      const blank = !r.querySelector('.line-sku').value && !r.querySelector('.line-qty').value && !r.querySelector('.line-price').value;
      r.querySelector('.line-amount').textContent = l.ok ? `¥${l.amount}` : '';
      const named = product(r.querySelector('.line-sku').value);
      r.querySelector('.line-name').textContent = named ? `${named.name} · ${named.spec}` : '';
      const parts = [];
      if (l.policy_price) parts.push(`${t('policy_price')} ¥${l.policy_price}`);
      if (l.discount) parts.push(`${t('discount')} ${l.discount}`);
      if (l.markup) parts.push(`${t('markup')} ${l.markup}`);
      for (const n of l.notes || []) parts.push(n);
      if (!l.ok && !blank) parts.push(...l.errors.map((e) => e.message));
      r.querySelector('.line-policy').textContent = parts.join(' · ');
      r.dataset.ok = l.ok ? 'true' : 'false';
    });
    total.textContent = `¥${p.total}`;
    total.title = p.expected_total && p.expected_total !== p.total ? `${t('policy_total')} ¥${p.expected_total}` : '';
    problems.textContent = [p.policy_version ? t('priced_with', { v: p.policy_version }) : t('no_policy'), ...p.warnings].join(' ');
    approval.hidden = !p.approvals.length;
    approval.className = p.approvals.length ? 'warn-box' : '';
    approval.dataset.verdict = p.verdict || '';
    fill(
      approval,
      p.approvals.length
        ? [
            h('strong', t('approval_needed', { roles: [...new Set(p.approvals.map((a) => a.role_label))].join('、') })),
            h('ul', p.approvals.map((a) => h('li', a.text))),
          ]
        : null,
    );
  }
  linesBody.addEventListener('input', preview);
  for (const l of o ? o.lines : [{}]) linesBody.append(lineRow(l));
  const fields = {
    delivery_date: h('input#of-delivery_date', { type: 'date', value: o ? o.delivery_date || '' : '' }),
    delivery_place: h('input#of-delivery_place', { autocomplete: 'off', value: o ? o.delivery_place || '' : '' }),
    payment_method: select('of-payment_method', vocab.payment_method, o ? o.payment_method || '' : '', '—'),
    notes: h('textarea#of-notes', { rows: 2 }),
  };
  if (o) fields.notes.value = o.notes || '';
  const values = () => {
    const f = {};
    for (const [k, el] of Object.entries(fields)) if (o || el.value.trim()) f[k] = el.value;
    return f;
  };

  async function save(resubmit) {
    clearErrors(form);
    renumber();
    const ls = lines().filter((l) => l.id || l.sku.trim() || l.qty.trim() || l.unit_price.trim());
    try {
      let id = order;
      if (o) {
        const input = { lines: ls, fields: values() };
        await app.client.reviseOrder(order, JSON.stringify(input), resubmit, Date.now(), getLang());
      } else {
        const input = { customer, source: source.value, lines: ls, fields: values() };
        id = await app.client.createOrder(JSON.stringify(input), Date.now(), getLang());
      }
      toast(t('saved'));
      app.go(`#/order/${id}`);
    } catch (err) {
      showRefusal(form, err);
    }
  }

  const form = h(
    'form#order-form.card',
    { novalidate: true, on: { submit: (e) => (e.preventDefault(), save(false)) } },
    h('h2', `${o ? t('edit_order') : t('new_order')} · ${name}`),
    o ? null : fieldBox('source', t('order_source'), source),
    h('h3', t('lines')),
    h('div', { dataset: { field: 'lines' } }, linesBody, h('small.field-error', { role: 'alert' })),
    h('button#add-line', { type: 'button', on: { click: () => (linesBody.append(lineRow()), preview()) } }, `+ ${t('add_line')}`),
    h('p.total-row', `${t('total')} `, total),
    approval,
    problems,
    Object.entries(fields).map(([k, el]) => fieldBox(k, labelOf('order', k), el)),
    h(
      'div.actions',
      o && o.resubmit ? h('button#order-resubmit.primary', { type: 'button', on: { click: () => save(true) } }, t('resubmit')) : null,
      h('button#order-save', { type: 'submit', class: o && o.resubmit ? null : 'primary' }, o ? t('save_changes') : t('save')),
      h('a.button', { href: o ? `#/order/${order}` : `#/customer/${customer}` }, t('cancel')),
    ),
    h('p#order-error.form-error.error', { role: 'alert' }),
  );
  preview();
  return {
    node: h('section', form),
    focus: () => {
      const first = linesBody.querySelector('.line-pick, .line-sku');
      if (first) first.focus();
    },
    nav: 'orders',
    // Switching the language keeps every line and field of a half-filled order.
    keep: () => ({ lines: lines(), source: source.value, fields: Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value])) }),
    restore: (saved) => {
      fill(linesBody, (saved.lines.length ? saved.lines : [{}]).map((l) => lineRow(l)));
      source.value = saved.source;
      for (const [k, v] of Object.entries(saved.fields)) fields[k].value = v;
      preview();
    },
  };
}

