// jiuloop web app: plain ES modules over the wasm client (wasm-client/). Everything the
// app knows — documents, rules, search, totals, sync — lives in Rust; this file only lays
// out screens, reads forms and calls the client.

import init, { Client, version } from './pkg/jiuloop_wasm.js';
import { h, fill, select, field, toast, errorText } from './ui.js';
import { t, getLang, setLang } from './i18n.js';
import { app, genericKinds, listHref, navLabel } from './kinds.js';
import { viewKindList, childRecords } from './kind_list.js';
import { viewKindForm } from './kind_form.js';
import { viewRecord } from './kind_detail.js';
import { shipBox } from './ship.js';

const DB = 'jiuloop';
const PAGE = 200;

let client = null;
let vocab = null;
let current = null; // the view on screen: {node, refresh?, live}
const customerQuery = { q: '', class: '', channel: '', region: '', limit: PAGE };
let lastQueryMs = 0;

// ---- start-up -------------------------------------------------------------------

async function main() {
  setLang(getLang());
  const offline = registerServiceWorker();
  const times = { start: Math.round(performance.now()) };
  await init();
  times.wasm = Math.round(performance.now());
  client = await Client.open(DB);
  app.client = client;
  app.go = go;
  times.open = Math.round(performance.now());
  Object.assign(times, JSON.parse(client.openTimings()));
  vocab = JSON.parse(client.vocab(getLang()));
  window.jiuloop = { client, offline, render: () => render() };
  client.onChange(onChange);
  window.addEventListener('hashchange', () => render());
  window.addEventListener('online', () => client.syncNow());
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) client.syncNow();
  });
  renderChrome();
  render();
  times.render = Math.round(performance.now());
  times.list_query_ms = lastQueryMs;
  window.jiuloopTimes = times;
  window.jiuloopReady = performance.now();
  performance.mark('jiuloop-interactive');
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return Promise.resolve(false);
  return navigator.serviceWorker
    .register('./sw.js')
    .then(() => navigator.serviceWorker.ready)
    .then(() => true)
    .catch((e) => {
      console.warn('service worker not available:', e);
      return false;
    });
}

// ---- change notifications --------------------------------------------------------

let refreshTimer = null;
// Roles that see the approvals queue (the queue itself is computed by the client core).
const APPROVERS = ['manager', 'executive'];

function onChange(reason) {
  if (reason === 'session') {
    renderChrome();
    render();
    return;
  }
  renderStatus();
  if (reason !== 'data' || refreshTimer) return;
  // Coalesce bursts (a catch-up applies many frames) into one repaint.
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    if (current && current.refresh) current.refresh();
  }, 60);
}

// ---- chrome: header, status, navigation ------------------------------------------

function renderChrome() {
  const session = JSON.parse(client.session());
  document.title = t('app');
  const header = document.getElementById('top');
  fill(header,
    h('a.brand', { href: '#/customers' }, t('app')),
    h('div#status', { role: 'status', 'aria-live': 'polite' }),
    h('button#lang.small', { type: 'button', on: { click: switchLang } }, t('lang_switch')),
  );
  const nav = document.getElementById('nav');
  const link = (href, key, extra) => h('a', { href, dataset: { nav: key } }, t(key), extra || null);
  fill(nav,
    link('#/customers', 'customers'),
    link('#/orders', 'orders'),
    link('#/inbox', 'inbox', h('span#inbox-badge.badge', { hidden: true })),
    APPROVERS.includes(session.role) ? link('#/approvals', 'approvals') : null,
    // Kinds without screens of their own, for the roles that may read them.
    session.user
      ? genericKinds().map((k) => h('a', { href: listHref(k.name), dataset: { nav: `k:${k.name}` } }, navLabel(k)))
      : null,
    link('#/me', 'me'),
  );
  nav.hidden = !session.user;
  document.getElementById('foot').textContent = `jiuloop ${version()}`;
  renderStatus();
}

function renderStatus() {
  const el = document.getElementById('status');
  if (!el || !client) return;
  const s = JSON.parse(client.status());
  const state = s.online ? 'online' : s.connecting ? 'connecting' : 'offline';
  el.dataset.state = state;
  el.dataset.pending = s.pending;
  el.dataset.online = s.online;
  fill(el,
    h('span.dot.' + state),
    h('span#net-state', t(state)),
    h('span#pending', { title: t('pending') }, `${t('pending')} ${s.pending}`),
    h('span#last-sync', `${t('last_sync')} ${s.last_sync_local ? s.last_sync_local.slice(5) : t('never')}`),
  );
  if (s.loading) el.append(h('span#loading', t('loading')));
  if (s.auth_needed) {
    el.append(h('a#auth-needed.warn', { href: '#/login' }, t('refused_login')));
  } else if (!s.logged_in && s.user) {
    el.append(h('a#auth-needed.warn', { href: '#/login' }, t('not_logged_in')));
  }
  if (s.storage_error) el.append(h('span.warn', `${t('storage_error')}: ${s.storage_error}`));
  const badge = document.getElementById('inbox-badge');
  if (badge) {
    badge.hidden = s.inbox === 0;
    badge.textContent = String(s.inbox);
  }
}

function switchLang() {
  setLang(getLang() === 'zh' ? 'en' : 'zh');
  vocab = JSON.parse(client.vocab(getLang()));
  renderChrome();
  render();
}

// ---- routing ----------------------------------------------------------------------

function route() {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

function render() {
  const session = JSON.parse(client.session());
  let parts = route();
  if (!session.user) parts = ['login'];
  const [a, b, c] = parts;
  let view;
  try {
    if (a === 'login') view = viewLogin(session);
    else if (a === 'k' && b && c === 'new') view = viewKindForm(b, { presets: presetsOf(parts.slice(3)) });
    else if (a === 'k' && b) view = viewKindList(b);
    else if (a === 'r' && b && c === 'edit') view = viewKindForm(null, { id: b });
    else if (a === 'r' && b) view = viewRecord(b);
    else if (a === 'customers' && b === 'new') view = viewCustomerForm(null);
    else if (a === 'customer' && b && c === 'edit') view = viewCustomerForm(b);
    else if (a === 'customer' && b && c === 'visit') view = viewVisitForm(b);
    else if (a === 'customer' && b && c === 'order') view = viewOrderForm(b);
    else if (a === 'customer' && b) view = viewCustomer(b);
    else if (a === 'orders') view = viewOrders(b || '');
    else if (a === 'order' && b) view = viewOrder(b);
    else if (a === 'inbox') view = viewInbox();
    else if (a === 'approvals') view = viewApprovals();
    else if (a === 'me') view = viewMe(session);
    else view = viewCustomers();
  } catch (e) {
    console.error(e);
    view = { node: h('section', h('p.error', `${t('error')}: ${errorText(e)}`)) };
  }
  current = view;
  const main = document.getElementById('main');
  fill(main, view.node);
  main.dataset.view = a || 'customers';
  const active = view.nav || (a === 'customer' ? 'customers' : a === 'order' ? 'orders' : a || 'customers');
  for (const l of document.querySelectorAll('#nav a')) l.classList.toggle('active', l.dataset.nav === active);
  if (view.focus) view.focus();
}

/// `field=value` route parts (the fields a form starts with).
function presetsOf(parts) {
  const presets = {};
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i > 0) presets[p.slice(0, i)] = p.slice(i + 1);
  }
  return presets;
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// ---- login -------------------------------------------------------------------------

function viewLogin(session) {
  const user = h('input#login-user', { autocomplete: 'username', value: session.user || '', required: true });
  const password = h('input#login-password', { type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p#login-error.error', { role: 'alert' });
  const submit = h('button#login-submit.primary', { type: 'submit' }, t('login'));
  const form = h(
    'form#login-form.card',
    {
      on: {
        submit: async (e) => {
          e.preventDefault();
          submit.disabled = true;
          error.textContent = '';
          try {
            await login(user.value.trim(), password.value);
            go('#/customers');
          } catch (err) {
            error.textContent = `${t('login_failed')}: ${errorText(err)}`;
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h('h1', t('app')),
    h('p.hint', t('login_hint')),
    field(t('user'), user),
    field(t('password'), password),
    submit,
    error,
  );
  return { node: h('section.login', form), focus: () => (session.user ? password : user).focus() };
}

async function login(user, password) {
  const body = JSON.stringify({
    user,
    password,
    device_id: client.deviceId(),
    device_name: `jiuloop-web ${navigator.userAgent.slice(0, 80)}`,
  });
  let resp;
  try {
    resp = await fetch(new URL('api/login', location.href), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  } catch (e) {
    throw new Error(`${t('offline')}: ${errorText(e)}`);
  }
  const text = await resp.text();
  if (!resp.ok) {
    let msg = `HTTP ${resp.status}`;
    try {
      const j = JSON.parse(text);
      msg = j.message || j.code || msg;
    } catch (_) {
      /* not JSON */
    }
    throw new Error(msg);
  }
  const server = new URL('.', location.href).href.replace(/\/$/, '');
  await client.completeLogin(server, text);
}

// ---- customers ---------------------------------------------------------------------

function viewCustomers() {
  const q = customerQuery;
  const results = h('div#customer-results');
  const search = h('input#search', {
    type: 'search',
    placeholder: t('search'),
    value: q.q,
    on: {
      input: (e) => {
        q.q = e.target.value;
        q.limit = PAGE;
        refresh();
      },
    },
  });
  const filter = (id, key, options, label) => {
    const s = select(id, options, q[key], `${label}: ${t('all')}`);
    s.addEventListener('change', () => {
      q[key] = s.value;
      q.limit = PAGE;
      refresh();
    });
    return s;
  };
  const filters = h(
    'div.filters',
    filter('filter-class', 'class', vocab.class, t('class')),
    filter('filter-channel', 'channel', vocab.channel, t('channel')),
    filter('filter-region', 'region', [], t('region')),
  );
  let regions = '';
  function refresh() {
    const t0 = performance.now();
    const res = JSON.parse(client.customers(JSON.stringify(q), getLang()));
    lastQueryMs = Math.round(performance.now() - t0);
    if (JSON.stringify(res.regions) !== regions) {
      // The regions present in the data, as the region filter's options.
      regions = JSON.stringify(res.regions);
      const old = filters.querySelector('#filter-region');
      old.replaceWith(filter('filter-region', 'region', res.regions.map((r) => ({ value: r, label: r })), t('region')));
    }
    fill(results,
      h(
        'p.count',
        t('n_customers', { n: res.total }),
        res.total > res.items.length ? ` · ${t('showing', { n: res.items.length })}` : '',
      ),
      h(
        'ul#customer-list.list',
        res.items.map((c) =>
          h(
            'li.customer-row',
            { dataset: { id: c.id } },
            h(
              'a',
              { href: `#/customer/${c.id}` },
              h('strong.name', c.name),
              c.class ? h('span.tag.class-' + c.class, c.class) : null,
              h('span.meta', [c.channel_label, c.region, c.phone].filter(Boolean).join(' · ')),
            ),
          ),
        ),
      ),
      res.total > res.items.length
        ? h('button#more.small', { type: 'button', on: { click: () => ((q.limit += PAGE), refresh()) } }, t('more'))
        : null,
    );
  }
  refresh();
  const node = h(
    'section.customers',
    h('div.toolbar', search, h('a#new-customer.button.primary', { href: '#/customers/new' }, `+ ${t('new_customer')}`)),
    filters,
    results,
  );
  return { node, refresh };
}

function labelOf(kind, name) {
  const f = vocab.fields[kind].find((x) => x.name === name);
  return f ? f.label : name;
}

function viewCustomer(id) {
  const wrap = h('section.detail.customer-detail');
  let notesArea = null;

  async function saveNotes() {
    const edit = { notes: { base: notesArea.dataset.base, value: notesArea.value } };
    try {
      await client.updateCustomer(id, JSON.stringify(edit), Date.now());
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
      d = JSON.parse(client.customer(id, getLang()));
    } catch (e) {
      fill(wrap, h('p.error', `${t('not_found')}: ${errorText(e)}`), h('a', { href: '#/customers' }, t('back')));
      return;
    }
    const c = d.customer;
    // Keep a notes edit in progress; show what changed meanwhile as a hint.
    const dirty = notesArea && notesArea.value !== notesArea.dataset.base;
    const focused = notesArea && document.activeElement === notesArea;
    if (!notesArea || (!dirty && !focused) || afterSave) {
      notesArea = h('textarea#notes', { rows: 4, value: c.notes });
      notesArea.value = c.notes;
      notesArea.dataset.base = c.notes;
    } else if (!dirty) {
      notesArea.value = c.notes;
      notesArea.dataset.base = c.notes;
    }
    const changedElsewhere = notesArea.dataset.base !== c.notes;
    // Records of generic kinds that belong to this customer (competitor observations).
    const children = childRecords('customer', id, d.may_edit);
    const info = [
      ['phone', c.phone],
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
    fill(wrap,
      h(
        'div.head',
        h('h2#customer-name', c.name),
        c.class ? h('span.tag.class-' + c.class, c.class_label) : null,
      ),
      h(
        'div.actions',
        h('a#log-visit.button.primary', { href: `#/customer/${id}/visit` }, t('log_visit')),
        h('a#new-order.button.primary', { href: `#/customer/${id}/order` }, t('new_order')),
        children.actions,
        h('a#edit-customer.button', { href: `#/customer/${id}/edit` }, t('edit')),
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
        h('button#save-notes.small', { type: 'button', on: { click: saveNotes } }, t('save_notes')),
      ),
      h('h3', t('contacts')),
      h(
        'ul#contact-list.list.compact',
        c.contacts.map((p) => h('li', h('strong', p.name), ' ', [p.title, p.phone].filter(Boolean).join(' · '))),
      ),
      contactForm(id),
      h('h3', t('customer_orders')),
      d.orders.length
        ? h(
            'ul#customer-orders.list',
            d.orders.map((o) =>
              h(
                'li.order-row',
                { dataset: { id: o.id } },
                h(
                  'a',
                  { href: `#/order/${o.id}` },
                  h('span.status.' + o.status, o.status_label),
                  h('strong', `¥${o.total}`),
                  h('span.meta', `${t('n_lines', { n: o.lines.length })} · ${o.created_at_local}`),
                ),
              ),
            ),
          )
        : h('p.empty', t('no_orders')),
      h('h3', t('visits')),
      d.visits.length
        ? h(
            'ul#visit-list.list',
            d.visits.map((v) =>
              h(
                'li.visit-row',
                { dataset: { id: v.id } },
                h('div', h('strong', v.kind_label || ''), ' ', v.method_label || '', h('span.meta', ` ${v.at_local} · ${v.rep}`)),
                v.notes ? h('p.visit-notes', v.notes) : null,
                v.outcome ? h('p.meta', `${labelOf('visit', 'outcome')}: ${v.outcome}`) : null,
              ),
            ),
          )
        : h('p.empty', t('no_visits')),
      children.sections,
    );
    if (focused) notesArea.focus();
  }
  refresh();
  return { node: wrap, refresh };
}

function contactForm(id) {
  const name = h('input#contact-name', { placeholder: t('contact_name') });
  const phone = h('input#contact-phone', { placeholder: t('contact_phone'), inputmode: 'tel' });
  const title = h('input#contact-title', { placeholder: t('contact_title') });
  return h(
    'form#contact-form.inline',
    {
      on: {
        submit: async (e) => {
          e.preventDefault();
          try {
            await client.addContact(id, JSON.stringify({ name: name.value, phone: phone.value, title: title.value }), Date.now());
            toast(t('saved'));
          } catch (err) {
            toast(errorText(err), 'error');
          }
        },
      },
    },
    name,
    phone,
    title,
    h('button#contact-add.small', { type: 'submit' }, t('add_contact')),
  );
}

const CUSTOMER_EXTRA = ['address', 'business_scope', 'purchase_intention', 'purchasing_power', 'next_follow_up', 'notes'];

function viewCustomerForm(id) {
  let c = {};
  if (id) {
    try {
      c = JSON.parse(client.customer(id, getLang())).customer;
    } catch (e) {
      return { node: h('p.error', `${t('not_found')}: ${errorText(e)}`) };
    }
  }
  const base = {};
  const controls = {};
  const input = (name, attrs = {}) => {
    const v = c[name] ?? '';
    base[name] = v;
    const el =
      name === 'notes'
        ? h('textarea', { id: `cf-${name}`, name, rows: 3, value: v })
        : h('input', { id: `cf-${name}`, name, value: v, ...attrs });
    el.value = v;
    controls[name] = el;
    return field(labelOf('customer', name), el);
  };
  const choice = (name, options) => {
    const v = c[name] ?? '';
    base[name] = v;
    const el = select(`cf-${name}`, options, v, '—');
    controls[name] = el;
    return field(labelOf('customer', name), el);
  };
  const error = h('p#customer-error.error', { role: 'alert' });
  const form = h(
    'form#customer-form.card',
    { on: { submit: (e) => (e.preventDefault(), save()) } },
    h('h2', id ? `${t('edit')} · ${c.name}` : t('new_customer')),
    input('name', { required: true, autocomplete: 'off' }),
    input('phone', { inputmode: 'tel' }),
    choice('channel', vocab.channel),
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
    error,
  );
  async function save() {
    const value = (k) => controls[k].value;
    try {
      if (id) {
        const edits = {};
        for (const k of Object.keys(controls)) if (value(k) !== base[k]) edits[k] = { base: base[k], value: value(k) };
        await client.updateCustomer(id, JSON.stringify(edits), Date.now());
        go(`#/customer/${id}`);
      } else {
        const fields = {};
        for (const k of CUSTOMER_EXTRA) if (value(k).trim()) fields[k] = value(k);
        const input = {
          name: value('name'),
          phone: value('phone'),
          channel: value('channel'),
          class: value('class'),
          region: value('region'),
          fields,
        };
        const newId = await client.createCustomer(JSON.stringify(input), Date.now());
        go(`#/customer/${newId}`);
      }
      toast(t('saved'));
    } catch (e) {
      error.textContent = errorText(e);
    }
  }
  return { node: h('section', form), focus: () => controls.name.focus() };
}

// ---- visits ------------------------------------------------------------------------

function customerName(id) {
  try {
    return JSON.parse(client.customer(id, getLang())).customer.name;
  } catch (_) {
    return null;
  }
}

function viewVisitForm(customerId) {
  const name = customerName(customerId);
  if (name === null) return { node: h('p.error', t('not_found')) };
  const kind = select('vf-kind', vocab.visit_kind, 'follow-up');
  const method = select('vf-method', vocab.visit_method, 'on-site', '—');
  const notes = h('textarea#vf-notes', { rows: 4 });
  const extra = {
    outcome: h('input#vf-outcome'),
    feedback: h('input#vf-feedback'),
    satisfaction: select('vf-satisfaction', [1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: '★'.repeat(n) })), '', '—'),
    next_action: h('input#vf-next_action'),
    next_action_date: h('input#vf-next_action_date', { type: 'date' }),
  };
  const error = h('p#visit-error.error', { role: 'alert' });
  const form = h(
    'form#visit-form.card',
    {
      on: {
        submit: async (e) => {
          e.preventDefault();
          const fields = {};
          for (const [k, el] of Object.entries(extra)) if (el.value.trim()) fields[k] = el.value;
          try {
            await client.createVisit(
              JSON.stringify({ customer: customerId, kind: kind.value, method: method.value, notes: notes.value, fields }),
              Date.now(),
            );
            toast(t('saved'));
            go(`#/customer/${customerId}`);
          } catch (err) {
            error.textContent = errorText(err);
          }
        },
      },
    },
    h('h2', `${t('log_visit')} · ${name}`),
    field(t('visit_kind'), kind),
    field(t('visit_method'), method),
    field(t('visit_notes'), notes),
    Object.entries(extra).map(([k, el]) => field(labelOf('visit', k), el)),
    h(
      'div.actions',
      h('button#visit-save.primary', { type: 'submit' }, t('save')),
      h('a.button', { href: `#/customer/${customerId}` }, t('cancel')),
    ),
    error,
  );
  return { node: h('section', form), focus: () => notes.focus() };
}

// ---- orders --------------------------------------------------------------------------

function viewOrderForm(customerId) {
  const name = customerName(customerId);
  if (name === null) return { node: h('p.error', t('not_found')) };
  const source = select('of-source', vocab.order_source, 'electronic');
  const linesBody = h('div#order-lines.lines-edit');
  const total = h('strong#order-total', '¥0.00');
  const problems = h('p#order-problems.hint');
  const approval = h('div#order-approval', { hidden: true });
  const catalogue = JSON.parse(client.catalogue());
  const pick = (row, code) => {
    const p = catalogue.skus.find((x) => x.code === code);
    if (!p) return;
    row.querySelector('.line-sku').value = p.code;
    row.querySelector('.line-spec').value = p.spec;
    if (!row.querySelector('.line-qty').value) row.querySelector('.line-qty').value = '1';
    preview();
  };
  const lineRow = () => {
    const row = h(
      'div.line',
      catalogue.skus.length
        ? h('select.line-pick', { 'aria-label': t('product'), on: { change: (e) => pick(row, e.target.value) } },
            h('option', { value: '' }, `— ${t('product')} —`),
            catalogue.skus.map((p) => h('option', { value: p.code }, `${p.name} · ${p.spec} (${p.code})`)))
        : null,
      h('input.line-sku', { placeholder: t('sku'), autocomplete: 'off', 'aria-label': t('sku') }),
      h('input.line-spec', { placeholder: t('spec'), 'aria-label': t('spec') }),
      h('input.line-qty', { inputmode: 'numeric', placeholder: t('qty'), 'aria-label': t('qty') }),
      h('input.line-price', { inputmode: 'decimal', placeholder: t('unit_price'), 'aria-label': t('unit_price') }),
      h('span.line-amount', ''),
      h('small.line-policy', ''),
      h('button.small.remove-line', { type: 'button', title: t('remove'), on: { click: () => (row.remove(), preview()) } }, '×'),
    );
    return row;
  };
  const lines = () =>
    [...linesBody.querySelectorAll('.line')].map((r) => ({
      sku: r.querySelector('.line-sku').value,
      spec: r.querySelector('.line-spec').value,
      qty: r.querySelector('.line-qty').value,
      unit_price: r.querySelector('.line-price').value,
    }));
  // Live preview, computed by the client core: the pricing issue's product picker, list
  // prices and "approval needed" warnings plug in here (previewOrder's notes/warnings).
  function preview() {
    const p = JSON.parse(client.previewOrder(customerId, JSON.stringify(lines()), Date.now(), getLang()));
    const rows = [...linesBody.querySelectorAll('.line')];
    p.lines.forEach((l, i) => {
      const cell = rows[i].querySelector('.line-amount');
      const blank = !rows[i].querySelector('.line-sku').value && !rows[i].querySelector('.line-qty').value;
      cell.textContent = l.ok ? `¥${l.amount}` : blank ? '' : '!';
      cell.title = l.error || '';
      const pol = rows[i].querySelector('.line-policy');
      const parts = [];
      if (l.policy_price) parts.push(`${t('policy_price')} ¥${l.policy_price}`);
      if (l.discount) parts.push(`${t('discount')} ${l.discount}`);
      if (l.note) parts.push(l.note);
      pol.textContent = parts.join(' · ');
    });
    total.textContent = `¥${p.total}`;
    if (p.expected_total && p.expected_total !== p.total) total.title = `${t('policy_total')} ¥${p.expected_total}`;
    problems.textContent = [p.policy_version ? t('priced_with', { v: p.policy_version }) : t('no_policy'), ...p.warnings].join(' ');
    approval.hidden = !p.approvals.length;
    approval.className = p.approvals.length ? 'warn-box' : '';
    approval.dataset.verdict = p.verdict || '';
    fill(approval, p.approvals.length
      ? [h('strong', t('approval_needed', { roles: [...new Set(p.approvals.map((a) => a.role_label))].join('、') })), h('ul', p.approvals.map((a) => h('li', a.text)))]
      : null);
  }
  linesBody.addEventListener('input', preview);
  linesBody.append(lineRow());
  const fields = {
    delivery_date: h('input#of-delivery_date', { type: 'date' }),
    delivery_place: h('input#of-delivery_place'),
    payment_method: select('of-payment_method', vocab.payment_method, '', '—'),
    notes: h('textarea#of-notes', { rows: 2 }),
  };
  const error = h('p#order-error.error', { role: 'alert' });
  const form = h(
    'form#order-form.card',
    {
      on: {
        submit: async (e) => {
          e.preventDefault();
          const f = {};
          for (const [k, el] of Object.entries(fields)) if (el.value.trim()) f[k] = el.value;
          const ls = lines().filter((l) => l.sku.trim() || l.qty.trim() || l.unit_price.trim());
          try {
            const id = await client.createOrder(
              JSON.stringify({ customer: customerId, source: source.value, lines: ls, fields: f }),
              Date.now(),
            );
            toast(t('saved'));
            go(`#/order/${id}`);
          } catch (err) {
            error.textContent = errorText(err);
          }
        },
      },
    },
    h('h2', `${t('new_order')} · ${name}`),
    field(t('order_source'), source),
    h('h3', t('lines')),
    linesBody,
    h('p.total-row', `${t('total')} `, total),
    approval,
    h('button#add-line.small', { type: 'button', on: { click: () => (linesBody.append(lineRow()), preview()) } }, `+ ${t('add_line')}`),
    problems,
    Object.entries(fields).map(([k, el]) => field(labelOf('order', k), el)),
    h(
      'div.actions',
      h('button#order-save.primary', { type: 'submit' }, t('save')),
      h('a.button', { href: `#/customer/${customerId}` }, t('cancel')),
    ),
    error,
  );
  return { node: h('section', form), focus: () => linesBody.querySelector('.line-sku').focus() };
}

function viewOrders(status) {
  const wrap = h('section.orders');
  let limit = PAGE;
  function refresh() {
    const res = JSON.parse(client.orders(status, limit, getLang()));
    const all = Object.values(res.counts).reduce((a, b) => a + b, 0);
    const tab = (value, label, n) =>
      h('a.status-tab', { href: `#/orders/${value}`, class: value === status ? 'status-tab active' : 'status-tab', dataset: { status: value } }, `${label} ${n}`);
    fill(wrap,
      h('nav.tabs', tab('', t('all'), all), vocab.order_status.map((s) => tab(s.value, s.label, res.counts[s.value] || 0))),
      res.items.length
        ? h(
            'ul#order-list.list',
            res.items.map((o) =>
              h(
                'li.order-row',
                { dataset: { id: o.id, status: o.status } },
                h(
                  'a',
                  { href: `#/order/${o.id}` },
                  h('strong.name', o.customer_name || '?'),
                  h('span.status.' + o.status, o.status_label),
                  h('span.amount', `¥${o.total}`),
                  h('span.meta', `${t('n_lines', { n: o.lines })} · ${o.created_at_local} · ${o.created_by}`),
                ),
              ),
            ),
          )
        : h('p.empty', t('no_orders')),
      res.total > res.items.length
        ? h('button#more-orders.small', { type: 'button', on: { click: () => ((limit += PAGE), refresh()) } }, t('more'))
        : null,
    );
  }
  refresh();
  return { node: wrap, refresh };
}

function viewOrder(id) {
  const wrap = h('section.detail.order-detail');
  async function step(promise) {
    try {
      await promise;
      toast(t('saved'));
      refresh();
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }
  function refresh() {
    let o;
    try {
      o = JSON.parse(client.order(id, getLang()));
    } catch (e) {
      fill(wrap, h('p.error', `${t('not_found')}: ${errorText(e)}`));
      return;
    }
    const facts = [
      [t('customer'), o.customer ? h('a#order-customer', { href: `#/customer/${o.customer}` }, o.customer_name || o.customer) : '?'],
      [t('order_source'), o.source_label],
      [labelOf('order', 'payment_method'), o.payment_method_label],
      [labelOf('order', 'delivery_date'), o.delivery_date],
      [labelOf('order', 'delivery_place'), o.delivery_place],
      [t('created_at'), `${o.created_at_local} · ${o.created_by}`],
    ].filter(([, v]) => v);
    fill(wrap,
      h('div.head', h('h2', `${t('orders')} · ${o.customer_name || ''}`), h('span#order-status.status.' + o.status, o.status_label)),
      h(
        'div.actions',
        o.may_submit ? h('button#submit-order.primary', { type: 'button', on: { click: () => step(client.submitOrder(id, Date.now())) } }, t('submit_order')) : null,
        o.may_cancel ? h('button#cancel-order', { type: 'button', on: { click: () => confirm(t('cancel_order') + '?') && step(client.cancelOrder(id, Date.now())) } }, t('cancel_order')) : null,
      ),
      h('dl.facts', facts.map(([k, v]) => [h('dt', k), h('dd', v)])),
      h('h3', t('lines')),
      h(
        'div.table-wrap',
        h(
          'table.lines#order-line-table',
          h('thead', h('tr', [t('sku'), t('spec'), t('qty'), t('unit_price'), t('amount')].map((x) => h('th', x)))),
          h(
            'tbody',
            o.lines.map((l) =>
              h('tr.line', h('td.sku', l.sku), h('td', l.spec || ''), h('td.qty', l.qty), h('td', `¥${l.unit_price}`), h('td', `¥${l.amount}`)),
            ),
          ),
          h('tfoot', h('tr', h('td', { colspan: 4 }, t('total')), h('td#order-total', `¥${o.total}`))),
        ),
      ),
      o.notes ? [h('h3', labelOf('order', 'notes')), h('p', o.notes)] : null,
      verdictBox(o),
      o.may_decide ? decideBox(id, step) : null,
      o.may_ship ? shipBox(o, step) : null,
      h('h3', t('timeline')),
      h(
        'ol#order-timeline.timeline',
        o.timeline.map((e) =>
          h(
            'li',
            { dataset: { kind: e.kind, statusAfter: e.status_after }, class: e.applied ? null : 'not-applied' },
            h('strong', e.label),
            h('span.meta', ` ${e.at_local} · ${e.by}${e.role ? ` (${e.role})` : ''}`),
            e.comment ? h('q.comment', e.comment) : null,
            e.note ? h('small.hint', ` ${e.note}`) : null,
          ),
        ),
      ),
    );
  }
  refresh();
  return { node: wrap, refresh };
}

// The server's verdict (or, before it arrives, the offline preview) and what is missing.
function verdictBox(o) {
  const v = o.verdict;
  const p = o.preview;
  const shown = v || p;
  if (!shown) return h('p#order-verdict.hint', { dataset: { verdict: 'none' } }, t('no_policy'));
  const approvals = (v && v.current ? v.approvals : p ? p.approvals : []) || [];
  return h(
    'div#order-verdict.card',
    { dataset: { verdict: shown.verdict, source: v ? 'server' : 'preview', stale: v && v.stale ? 'true' : 'false' } },
    h('h3', v ? t('server_verdict') : t('offline_verdict')),
    h('p', h('span.status.verdict-' + shown.verdict, shown.label),
      v ? h('span.meta', ` ${t('checked_at')} ${v.checked_at_local} · ${t('policy_version')} ${v.policy_version}`) : null),
    v && v.stale ? h('p.warn#verdict-stale', t('stale_policy', { a: v.priced_with, b: v.policy_version })) : null,
    v && !v.current ? h('p.hint', t('verdict_outdated')) : null,
    approvals.length ? h('ul.reasons', approvals.map((a) => h('li', a.text))) : null,
    o.missing_approvals.length ? h('p.warn#missing-approvals', t('waiting_for', { roles: o.missing_approvals.join('、') })) : null,
  );
}

function decideBox(id, done) {
  const comment = h('textarea.decide-comment', { rows: 2, placeholder: t('comment'), 'aria-label': t('comment') });
  const decide = (approve) => done(client.decideOrder(id, approve, comment.value, Date.now()));
  return h(
    'div.decide.card',
    field(t('comment'), comment),
    h(
      'div.actions',
      h('button.approve.primary', { type: 'button', on: { click: () => decide(true) } }, t('approve')),
      h('button.reject', { type: 'button', on: { click: () => decide(false) } }, t('reject')),
    ),
  );
}

function viewApprovals() {
  const wrap = h('section.approvals');
  function refresh() {
    const items = JSON.parse(client.approvals(getLang()));
    fill(wrap,
      h('h2', t('approvals')),
      items.length
        ? h(
            'ul#approval-list.list',
            items.map((o) =>
              h(
                'li.approval-row.card',
                { dataset: { id: o.id } },
                h('a', { href: `#/order/${o.id}` }, h('strong.name', o.customer_name || '?'), h('span.amount', ` ¥${o.total}`)),
                h('p.meta', `${t('n_lines', { n: o.lines })} · ${o.created_at_local} · ${o.created_by}`),
                h('p.warn', t('waiting_for', { roles: o.missing.join('、') })),
                h('ul.reasons', o.reasons.map((r) => h('li', r.text))),
                decideBox(o.id, async (promise) => {
                  try {
                    await promise;
                    toast(t('saved'));
                    refresh();
                  } catch (e) {
                    toast(errorText(e), 'error');
                  }
                }),
              ),
            ),
          )
        : h('p.empty#approvals-empty', t('approvals_empty')),
    );
  }
  refresh();
  return { node: wrap, refresh };
}

// ---- inbox, account ----------------------------------------------------------------------

function viewInbox() {
  const wrap = h('section.inbox');
  function refresh() {
    const items = JSON.parse(client.inbox(getLang()));
    fill(wrap,
      h('h2', t('inbox')),
      h('p.hint', t('inbox_intro')),
      items.length
        ? h(
            'ul#inbox-list.list',
            items.map((i) =>
              h(
                'li.inbox-item',
                h('div', h('strong', i.doc_name || `${i.kind} ${i.doc.slice(0, 8)}`), h('span.meta', ` ${i.at_local}`)),
                h('p', `${t('reason')}: ${i.message}`),
                h('p.meta', `${t('field')}: ${i.field_label || i.path || '—'} · ${t('rule')}: ${i.rule} · ${i.code}`),
              ),
            ),
          )
        : h('p.empty#inbox-empty', t('inbox_empty')),
    );
  }
  refresh();
  return { node: wrap, refresh };
}

function viewMe(session) {
  const wrap = h('section.me');
  function refresh() {
    const s = JSON.parse(client.status());
    const row = (k, v) => [h('dt', k), h('dd', v ?? '—')];
    fill(wrap,
      h('h2', t('account')),
      h(
        'dl.facts',
        row(t('user'), session.user),
        row(t('role'), session.role),
        row(t('territory'), (session.territories || []).join('、')),
        row(t('device'), client.deviceId()),
        row(t('docs'), s.docs),
        row(t('pending'), s.pending),
        row(t('last_sync'), s.last_sync_local || t('never')),
        row('', s.leader ? t('this_tab') : t('other_tab')),
        s.error ? row(t('error'), s.error) : null,
        row(t('version'), version()),
      ),
      h(
        'div.actions',
        h('button#sync-now', { type: 'button', on: { click: () => client.syncNow() } }, t('sync_now')),
        h('button#logout', { type: 'button', on: { click: logout } }, t('logout')),
      ),
    );
  }
  async function logout() {
    const token = await client.logout();
    go('#/login');
    // Tell the server when it can be reached; the token is forgotten locally either way.
    if (token) {
      fetch(new URL('api/logout', location.href), { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {});
    }
  }
  refresh();
  return { node: wrap, refresh };
}

main().catch((e) => {
  console.error(e);
  document.getElementById('main').replaceChildren(h('p.error#fatal', `${t('error')}: ${errorText(e)}`));
});
