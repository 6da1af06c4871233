// Logging a visit, with an optional check-in on site: the browser's geolocation and the
// time of the fix, stored with the visit (checkin_at, checkin_lat/lng in micro-degrees,
// checkin_accuracy_m) and shown on the customer's page to the rep's manager. When the
// position is refused or unavailable the form says so and saves without it.
//
// Photos: issue 11's attachments plug in through VISIT_SECTIONS below — a section is
// {node, values()} built for the form; its values are saved with the visit's fields (an
// attachment section would add the ids of the attachments it stored). Nothing is
// registered until attachments exist.

import { h, select, toast, fieldBox, showRefusal, clearErrors } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { labelOf } from './customer.js';

/// Extra sections of the visit form: functions (customerId) → {node, values: () => {field: text}}.
export const VISIT_SECTIONS = [];

function customerName(id) {
  try {
    return JSON.parse(app.client.customer(id, getLang())).customer.name;
  } catch (_) {
    return null;
  }
}

/// The check-in control: a button that asks for the position, and what it found.
function checkin() {
  const values = {};
  const hidden = ['checkin_at', 'checkin_lat', 'checkin_lng', 'checkin_accuracy_m'].map((f) =>
    h('input', { type: 'hidden', id: `vf-${f}`, name: f }),
  );
  const state = h('p#checkin-state.hint', { role: 'status' });
  const show = () => {
    if (!values.checkin_at) return;
    const deg = (v) => (Number(v) / 1e6).toFixed(6);
    const at = new Date(values.checkin_at).toLocaleTimeString(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
    state.className = 'ok';
    state.textContent = t('checkin_done', { at, lat: deg(values.checkin_lat), lng: deg(values.checkin_lng), acc: values.checkin_accuracy_m });
  };
  const set = (f, v) => {
    values[f] = v;
    hidden.find((el) => el.name === f).value = v;
  };
  const button = h('button#checkin', {
    type: 'button',
    on: {
      click: () => {
        if (!('geolocation' in navigator)) {
          state.className = 'warn';
          state.textContent = t('checkin_unsupported');
          return;
        }
        state.className = 'hint';
        state.textContent = t('checkin_locating');
        button.disabled = true;
        navigator.geolocation.getCurrentPosition(
          (pos) => {
            button.disabled = false;
            set('checkin_at', new Date(pos.timestamp || Date.now()).toISOString());
            set('checkin_lat', String(Math.round(pos.coords.latitude * 1e6)));
            set('checkin_lng', String(Math.round(pos.coords.longitude * 1e6)));
            set('checkin_accuracy_m', String(Math.round(pos.coords.accuracy || 0)));
            show();
          },
          (err) => {
            button.disabled = false;
            state.className = 'warn';
            state.dataset.error = err.code === 1 ? 'denied' : 'failed';
            state.textContent = err.code === 1 ? t('checkin_denied') : t('checkin_failed', { why: err.message || err.code });
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
        );
      },
    },
  }, t('checkin_button'));
  const node = h('div.field.checkin-box', { dataset: { field: 'checkin_at' } }, h('span.label', t('checkin')), button, state, hidden, h('small.field-error', { role: 'alert' }));
  return {
    node,
    values: () => ({ ...values }),
    restore: (saved) => {
      for (const [f, v] of Object.entries(saved || {})) if (v) set(f, v);
      show();
    },
  };
}

export function viewVisitForm(customerId) {
  const name = customerName(customerId);
  if (name === null) return { node: h('p.error', t('not_found')) };
  const vocab = app.vocab;
  const kind = select('vf-kind', vocab.visit_kind, 'follow-up');
  const method = select('vf-method', vocab.visit_method, 'on-site', '—');
  const notes = h('textarea#vf-notes', { rows: 4 });
  const extra = {
    outcome: h('input#vf-outcome', { autocomplete: 'off' }),
    feedback: h('input#vf-feedback', { autocomplete: 'off' }),
    satisfaction: select('vf-satisfaction', [1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: '★'.repeat(n) })), '', '—'),
    next_action: h('input#vf-next_action', { autocomplete: 'off' }),
    next_action_date: h('input#vf-next_action_date', { type: 'date' }),
  };
  const place = checkin();
  const sections = VISIT_SECTIONS.map((make) => make(customerId));
  const form = h(
    'form#visit-form.card',
    {
      novalidate: true,
      on: {
        submit: async (e) => {
          e.preventDefault();
          clearErrors(form);
          const fields = { ...place.values() };
          for (const [k, el] of Object.entries(extra)) if (el.value.trim()) fields[k] = el.value;
          for (const s of sections) Object.assign(fields, s.values());
          try {
            await app.client.createVisit(
              JSON.stringify({ customer: customerId, kind: kind.value, method: method.value, notes: notes.value, fields }),
              Date.now(),
              getLang(),
            );
            toast(t('saved'));
            app.go(`#/customer/${customerId}`);
          } catch (err) {
            showRefusal(form, err);
          }
        },
      },
    },
    h('h2', `${t('log_visit')} · ${name}`),
    place.node,
    fieldBox('kind', t('visit_kind'), kind, { required: true }),
    fieldBox('method', t('visit_method'), method),
    fieldBox('notes', t('visit_notes'), notes),
    Object.entries(extra).map(([k, el]) => fieldBox(k, labelOf('visit', k), el)),
    sections.map((s) => s.node),
    h(
      'div.actions',
      h('button#visit-save.primary', { type: 'submit' }, t('save')),
      h('a.button', { href: `#/customer/${customerId}` }, t('cancel')),
    ),
    h('p#visit-error.form-error.error', { role: 'alert' }),
  );
  const inputs = () => {
    const v = { checkin: place.values() };
    for (const el of form.querySelectorAll('select[id], input[id]:not([type=hidden]), textarea[id]')) v[el.id] = el.value;
    return v;
  };
  return {
    node: h('section', form),
    focus: () => notes.focus(),
    nav: 'customers',
    keep: inputs,
    restore: (saved) => {
      for (const [id, v] of Object.entries(saved)) {
        const el = id !== 'checkin' && document.getElementById(id);
        if (el) el.value = v;
      }
      place.restore(saved.checkin);
    },
  };
}

