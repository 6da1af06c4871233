// A customer's page: facts (phones dial), notes (an edit in progress survives live
// updates; edits made elsewhere merge), contacts, orders with the one status, visits with
// their check-in, and the records of generic kinds that belong to the customer. Actions
// only for what this user may do (client.customer's `may`).

import { h, fill, toast, errorText, tel, rowsTable, statusChip, fieldBox, showRefusal, clearErrors } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { childRecords } from '../kind_list.js';

export function labelOf(kind, name) {
  const f = app.vocab.fields[kind].find((x) => x.name === name);
  return f ? f.label : name;
}

/// Order rows of any list (orders screen, customer page, queues): one status everywhere.
export function orderTable(rows, { id, customer = true, empty } = {}) {
  return rowsTable({
    id,
    rows,
    href: (o) => `#/order/${o.id}`,
    empty: empty || t('no_orders'),
    columns: [
      customer
        ? { label: t('customer'), cell: (o) => h('strong.name', o.customer_name || '?'), cls: 'grow' }
        : { label: t('created_at'), cell: (o) => h('strong', o.created_at_local), cls: 'grow' },
      { label: t('status'), cell: (o) => statusChip(o) },
      { label: t('amount'), cell: (o) => h('span.amount', `¥${o.total}`), cls: 'num' },
      { label: t('lines'), cell: (o) => t('n_lines', { n: o.lines }), cls: 'meta' },
      customer ? { label: t('created_at'), cell: (o) => o.created_at_local, cls: 'meta' } : null,
      { label: t('created_by'), cell: (o) => o.created_by, cls: 'meta' },
    ].filter(Boolean),
  });
}

/// A visit's check-in as a line of text with a map link.
export function checkinLine(c) {
  if (!c) return null;
  const map = `https://www.openstreetmap.org/?mlat=${c.lat}&mlon=${c.lng}#map=17/${c.lat}/${c.lng}`;
  return h(
    'p.checkin.meta',
    t('checkin_at', { at: c.at_local, lat: c.lat, lng: c.lng, acc: c.accuracy_m ?? '?' }),
    ' ',
    h('a.map-link', { href: map, target: '_blank', rel: 'noopener' }, t('map')),
  );
}

export function viewCustomer(id) {
  const wrap = h('section.detail.customer-detail');
  let notesArea = null;
  // Made once: a live update moves it, with what it holds, into the redrawn page.
  const contacts = contactForm(id);

  async function saveNotes() {
    const edit = { notes: { base: notesArea.dataset.base, value: notesArea.value } };
    try {
      await app.client.updateCustomer(id, JSON.stringify(edit), Date.now(), getLang());
      notesArea.dataset.base = notesArea.value;
      toast(t('saved'));
      refresh(true);
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }

  function refresh(afterSave) {
    let d;
    try {
      d = JSON.parse(app.client.customer(id, getLang()));
    } catch (e) {
      fill(wrap, h('p.error', `${t('not_found')}: ${errorText(e)}`), h('a.button', { href: '#/customers' }, t('back')));
      return;
    }
    const c = d.customer;
    const may = d.may;
    // Keep a notes edit in progress; show what changed meanwhile as a hint.
    const dirty = notesArea && notesArea.value !== notesArea.dataset.base;
    const focused = notesArea && document.activeElement === notesArea;
    if (!notesArea || (!dirty && !focused) || afterSave) {
      notesArea = h('textarea#notes', { rows: 4, value: c.notes, readonly: may.notes ? null : true, 'aria-label': t('notes') });
      notesArea.value = c.notes;
      notesArea.dataset.base = c.notes;
    } else if (!dirty) {
      notesArea.value = c.notes;
      notesArea.dataset.base = c.notes;
    }
    const changedElsewhere = notesArea.dataset.base !== c.notes;
    // Records of generic kinds that belong to this customer (competitor observations).
    const children = childRecords('customer', id, may.edit);
    const info = [
      ['phone', c.phone ? tel(c.phone) : null],
      ['region', c.region],
      ['channel', c.channel_label],
      ['class', c.class_label],
      ['address', c.address],
      ['business_scope', c.business_scope],
      ['purchase_intention', c.purchase_intention],
      ['purchasing_power', c.purchasing_power],
      ['owner', c.owner],
      ['next_follow_up', c.next_follow_up],
    ].filter(([, v]) => v);
    fill(
      wrap,
      h(
        'div.head',
        h('h2#customer-name', c.name),
        c.class ? h('span.tag.class-' + c.class, c.class_label) : null,
        d.unsent ? h('span.tag.unsent#customer-unsent', t('unsent')) : null,
      ),
      h(
        'div.actions',
        may.visit ? h('a#log-visit.button.primary', { href: `#/customer/${id}/visit` }, t('log_visit')) : null,
        may.order ? h('a#new-order.button.primary', { href: `#/customer/${id}/order` }, t('new_order')) : null,
        children.actions,
        may.edit ? h('a#edit-customer.button', { href: `#/customer/${id}/edit` }, t('edit')) : null,
      ),
      h(
        'dl.facts',
        info.map(([k, v]) => [h('dt', labelOf('customer', k)), h('dd', { dataset: { field: k } }, v)]),
        c.territory ? [h('dt', t('territory')), h('dd', c.territory)] : null,
        h('dt', t('created_at')),
        h('dd', `${c.created_at_local} · ${c.created_by}`),
      ),
      h('h3', t('notes')),
      h(
        'div.notes',
        notesArea,
        changedElsewhere ? h('p.hint#notes-changed', t('notes_changed')) : null,
        may.notes ? h('button#save-notes', { type: 'button', on: { click: saveNotes } }, t('save_notes')) : null,
      ),
      h('h3', t('contacts')),
      h(
        'ul#contact-list.list.compact',
        c.contacts.map((p) => h('li', h('strong', p.name), ' ', p.title ? `${p.title} · ` : '', tel(p.phone))),
      ),
      may.contacts ? contacts : null,
      h('h3', t('customer_orders')),
      orderTable(d.orders, { id: 'customer-orders', customer: false }),
      h('h3', t('visits')),
      d.visits.length
        ? h(
            'ul#visit-list.list',
            d.visits.map((v) =>
              h(
                'li.visit-row',
                { dataset: { id: v.id } },
                h(
                  'div',
                  h('strong', v.kind_label || ''),
                  ' ',
                  v.method_label || '',
                  h('span.meta', ` ${v.at_local} · ${v.rep}`),
                  v.unsent ? h('span.tag.unsent', ` ${t('unsent')}`) : null,
                ),
                v.notes ? h('p.visit-notes', v.notes) : null,
                v.outcome ? h('p.meta', `${labelOf('visit', 'outcome')}: ${v.outcome}`) : null,
                v.feedback ? h('p.meta', `${labelOf('visit', 'feedback')}: ${v.feedback}`) : null,
                checkinLine(v.checkin),
              ),
            ),
          )
        : h('p.empty', t('no_visits')),
      children.sections,
    );
    if (focused) notesArea.focus();
  }
  refresh();
  return { node: wrap, refresh, nav: 'customers' };
}

function contactForm(id) {
  const name = h('input#contact-name', { placeholder: t('contact_name'), 'aria-label': t('contact_name') });
  const phone = h('input#contact-phone', { placeholder: t('contact_phone'), inputmode: 'tel', type: 'tel', 'aria-label': t('contact_phone') });
  const title = h('input#contact-title', { placeholder: t('contact_title'), 'aria-label': t('contact_title') });
  const form = h(
    'form#contact-form.inline',
    {
      novalidate: true,
      on: {
        submit: async (e) => {
          e.preventDefault();
          clearErrors(form);
          try {
            await app.client.addContact(id, JSON.stringify({ name: name.value, phone: phone.value, title: title.value }), Date.now(), getLang());
            toast(t('saved'));
          } catch (err) {
            showRefusal(form, err);
          }
        },
      },
    },
    fieldBox('contacts/name', t('contact_name'), name),
    fieldBox('contacts/phone', t('contact_phone'), phone),
    fieldBox('contacts/title', t('contact_title'), title),
    h('button#contact-add', { type: 'submit' }, t('add_contact')),
    h('p.form-error.error', { role: 'alert' }),
  );
  return form;
}
