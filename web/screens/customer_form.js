// A new customer, or an existing one edited. Every value is parsed in Rust; a refused save
// shows each field's reason next to it, in the user's language, and writes nothing. The
// channel (it decides the price tier) is set by the rep at creation and changed only by
// managers: the control says so when this user may not change it.

import { h, select, toast, fieldBox, showRefusal, clearErrors } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { labelOf } from './customer.js';

const EXTRA = ['address', 'business_scope', 'purchase_intention', 'purchasing_power', 'next_follow_up', 'notes'];

export function viewCustomerForm(id) {
  let c = {};
  let may = { edit: true, channel: true };
  if (id) {
    try {
      const d = JSON.parse(app.client.customer(id, getLang()));
      c = d.customer;
      may = d.may;
    } catch (e) {
      return { node: h('p.error', `${t('not_found')}`) };
    }
  }
  const vocab = app.vocab;
  const base = {};
  const controls = {};
  const input = (name, attrs = {}) => {
    const v = c[name] ?? '';
    base[name] = v;
    const el =
      name === 'notes'
        ? h('textarea', { id: `cf-${name}`, name, rows: 3 })
        : h('input', { id: `cf-${name}`, name, autocomplete: 'off', ...attrs });
    el.value = v;
    controls[name] = el;
    return fieldBox(name, labelOf('customer', name), el, { required: name === 'name' });
  };
  const choice = (name, options, opts = {}) => {
    const v = c[name] ?? '';
    base[name] = v;
    const el = select(`cf-${name}`, options, v, '—');
    if (opts.disabled) el.disabled = true;
    controls[name] = el;
    return fieldBox(name, labelOf('customer', name), el, { hint: opts.hint });
  };
  const channelLocked = !!id && !may.channel;
  const form = h(
    'form#customer-form.card',
    { novalidate: true, on: { submit: (e) => (e.preventDefault(), save()) } },
    h('h2', id ? `${t('edit')} · ${c.name}` : t('new_customer')),
    input('name'),
    input('phone', { inputmode: 'tel', type: 'tel' }),
    choice('channel', vocab.channel, { disabled: channelLocked, hint: channelLocked || !id ? t('channel_by_manager') : null }),
    choice('class', vocab.class),
    input('region'),
    input('address'),
    input('business_scope'),
    input('purchase_intention'),
    input('purchasing_power'),
    input('next_follow_up', { type: 'date' }),
    input('notes'),
    h(
      'div.actions',
      h('button#customer-save.primary', { type: 'submit' }, t('save')),
      h('a.button', { href: id ? `#/customer/${id}` : '#/customers' }, t('cancel')),
    ),
    h('p#customer-error.form-error.error', { role: 'alert' }),
  );
  async function save() {
    clearErrors(form);
    const value = (k) => controls[k].value;
    try {
      if (id) {
        const edits = {};
        for (const k of Object.keys(controls)) {
          if (!controls[k].disabled && value(k) !== base[k]) edits[k] = { base: base[k], value: value(k) };
        }
        if (Object.keys(edits).length) await app.client.updateCustomer(id, JSON.stringify(edits), Date.now(), getLang());
        toast(Object.keys(edits).length ? t('saved') : t('no_changes'));
        app.go(`#/customer/${id}`);
      } else {
        const fields = {};
        for (const k of EXTRA) if (value(k).trim()) fields[k] = value(k);
        const inputs = {
          name: value('name'),
          phone: value('phone'),
          channel: value('channel'),
          class: value('class'),
          region: value('region'),
          fields,
        };
        const newId = await app.client.createCustomer(JSON.stringify(inputs), Date.now(), getLang());
        toast(t('saved'));
        app.go(`#/customer/${newId}`);
      }
    } catch (e) {
      showRefusal(form, e);
    }
  }
  return { node: h('section', form), focus: () => controls.name.focus(), nav: 'customers' };
}
