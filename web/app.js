// jiuloop web app: plain ES modules over the wasm client (wasm-client/). Everything the
// app knows — documents, rules, statuses, queues, search, totals, sync — lives in Rust;
// the screens (web/screens/, one module each) only lay out what the client returns, read
// forms and call it. This module starts the app, routes, and draws the chrome (header,
// connection status, navigation with the unread count).

import init, { Client, version } from './pkg/jiuloop_wasm.js';
import { h, fill, errorText, forgetOpenQuestions } from './ui.js';
import { t, getLang, setLang } from './i18n.js';
import { app, genericKinds, listHref, navLabel, kindSpec } from './kinds.js';
import { currentDb, setCurrentDb } from './profile.js';
import { viewKindList } from './kind_list.js';
import { viewKindForm } from './kind_form.js';
import { viewRecord } from './kind_detail.js';
import { viewLogin } from './screens/login.js';
import { viewCustomers } from './screens/customers.js';
import { viewCustomer } from './screens/customer.js';
import { viewCustomerForm } from './screens/customer_form.js';
import { viewVisitForm } from './screens/visit_form.js';
import { viewOrderForm } from './screens/order_form.js';
import { viewOrders } from './screens/orders.js';
import { viewOrder } from './screens/order.js';
import { viewApprovals } from './screens/approvals.js';
import { viewWork } from './screens/work.js';
import { viewNotifications } from './screens/notifications.js';
import { viewInbox } from './screens/inbox.js';
import { viewMe } from './screens/me.js';
import { viewExpenses } from './screens/expenses.js';
import { viewContracts, viewContract } from './screens/contracts.js';
import { viewToday } from './screens/today.js';
import { viewField } from './screens/field.js';
import './presales.js';
import { viewDashboard, DASHBOARD_ROLES } from './screens/dashboard.js';

let current = null; // the view on screen: {node, refresh?, focus?, keep?, restore?, nav?}
let db = null;

// Roles that see the approvals queue in the navigation (the queue itself is the core's).
const APPROVERS = ['manager', 'executive', 'admin'];

// The generic kinds that are a role's daily work: kept in a phone's navigation bar (the
// others are listed on the 我的 screen there; a desk's side bar shows them all).
const PRIMARY_KINDS = {
  'after-sales': ['complaint'],
  quality: ['quality-issue'],
  market: ['research-plan', 'market-report'],
};

// The screens of a role's daily work kept in a phone's navigation bar; the other screens
// (expenses, contracts, the dashboard) are buttons on the 我的 screen there.
const PRIMARY_SCREENS = { rep: ['expenses'], finance: ['expenses'], legal: ['contracts'], executive: ['dashboard'] };

// Roles that see the field reports (follow-ups, visit plans, planned against actual).
const FIELD_ROLES = ['manager', 'market', 'executive', 'admin'];

// ---- start-up and the profile -------------------------------------------------------

async function main() {
  setLang(getLang());
  const offline = registerServiceWorker();
  const times = { start: Math.round(performance.now()) };
  await init();
  times.wasm = Math.round(performance.now());
  await openProfile(currentDb());
  times.open = Math.round(performance.now());
  Object.assign(times, JSON.parse(app.client.openTimings()));
  window.jiuloop = { get client() { return app.client; }, offline, render: () => render(), db: () => db };
  app.go = go;
  app.switchProfile = switchProfile;
  app.render = render;
  window.addEventListener('hashchange', () => {
    forgetOpenQuestions();
    render();
  });
  window.addEventListener('online', () => app.client.syncNow());
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) app.client.syncNow();
  });
  renderChrome();
  render();
  times.render = Math.round(performance.now());
  times.list_query_ms = app.lastQueryMs || 0;
  window.jiuloopTimes = times;
  window.jiuloopReady = performance.now();
  performance.mark('jiuloop-interactive');
}

async function openProfile(name) {
  app.client = await Client.open(name);
  db = name;
  setCurrentDb(name);
  app.vocab = JSON.parse(app.client.vocab(getLang()));
  app.client.onChange(onChange);
}

/// Close this profile and open `name` (another user logs in on this browser, or the data
/// was wiped).
async function switchProfile(name) {
  if (name === db) return;
  app.client.close();
  await openProfile(name);
  renderChrome();
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

// ---- change notifications ----------------------------------------------------------

let refreshTimer = null;
// What the last repaint cost and when it ended (ms, performance.now()).
const repaint = { cost: 0, end: 0 };

function onChange(reason) {
  if (reason === 'session') {
    renderChrome();
    render();
    return;
  }
  renderStatus();
  if (reason !== 'data' || refreshTimer) return;
  // Coalesce bursts (a catch-up applies many frames) into one repaint, and leave the sync
  // at least four fifths of the main thread: the badges and lists read every document held,
  // so with thousands of them a repaint after every frame would cost more than the sync
  // (a first sync of 6,000 documents took minutes). A lone edit still shows within 60 ms.
  const wait = Math.max(60, repaint.end + 4 * repaint.cost - performance.now());
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    const started = performance.now();
    renderBadges();
    if (current && current.refresh) current.refresh();
    repaint.end = performance.now();
    repaint.cost = repaint.end - started;
  }, wait);
}

// ---- chrome: header, status, navigation ---------------------------------------------

function locked(session) {
  return !session.user || !session.logged_in;
}

function renderChrome() {
  const session = app.session();
  document.title = t('app');
  fill(
    document.getElementById('top'),
    h('a.brand', { href: '#/' }, t('app')),
    h('div#status', { role: 'status', 'aria-live': 'polite' }),
    h('button#lang.small', { type: 'button', on: { click: switchLang } }, t('lang_switch')),
  );
  const nav = document.getElementById('nav');
  const link = (href, key, label, badge) =>
    h('a', { href, dataset: { nav: key } }, h('span.nav-label', label || t(key)), badge || null);
  const rep = session.role === 'rep';
  const secondary = (a, key) => {
    if (!(PRIMARY_SCREENS[session.role] || []).includes(key)) a.classList.add('nav-extra');
    return a;
  };
  const customers = kindSpec('customer') ? link('#/customers', 'customers') : null;
  const orders = kindSpec('order') ? link('#/orders', 'orders') : null;
  const work = link('#/work', 'work', null, h('span#work-badge.badge', { hidden: true }));
  // The rep's today list (also the head of their home screen).
  const today = rep ? link('#/today', 'today') : null;
  const field = FIELD_ROLES.includes(session.role) ? link('#/field', 'field', t('field_nav')) : null;
  if (field) field.classList.add('nav-extra');
  fill(
    nav,
    locked(session)
      ? null
      : [
          rep ? [today, customers, orders, work] : [work, orders, customers, field],
          APPROVERS.includes(session.role) ? link('#/approvals', 'approvals') : null,
          kindSpec('expense-claim') ? secondary(link('#/expenses', 'expenses'), 'expenses') : null,
          kindSpec('contract') ? secondary(link('#/contracts', 'contracts'), 'contracts') : null,
          DASHBOARD_ROLES.includes(session.role) ? secondary(link('#/dashboard', 'dashboard'), 'dashboard') : null,
          link('#/notifications', 'notifications', null, h('span#notif-badge.badge', { hidden: true })),
          // Kinds without screens of their own, for the roles that may read them: on a
          // phone only the role's own work stays in the bar, the rest is under 我的.
          genericKinds().map((k) => {
            const a = link(listHref(k.name), `k:${k.name}`, navLabel(k));
            if (!(PRIMARY_KINDS[session.role] || []).includes(k.name)) a.classList.add('nav-extra');
            return a;
          }),
          link('#/me', 'me'),
        ],
  );
  nav.hidden = locked(session);
  document.body.dataset.role = session.role || '';
  document.getElementById('foot').textContent = `jiuloop ${version()}`;
  renderStatus();
  renderBadges();
}

function renderStatus() {
  const el = document.getElementById('status');
  if (!el || !app.client) return;
  const s = JSON.parse(app.client.status());
  const state = s.online ? 'online' : s.connecting ? 'connecting' : 'offline';
  el.dataset.state = state;
  el.dataset.pending = s.pending;
  el.dataset.online = s.online;
  fill(
    el,
    h('span.dot.' + state),
    h('span#net-state', t(state)),
    h('span#pending', { title: t('pending') }, `${t('pending')} ${s.pending}`),
    h('span#last-sync', `${t('last_sync')} ${s.last_sync_local ? s.last_sync_local.slice(5) : t('never')}`),
  );
  if (s.loading) el.append(h('span#loading', t('loading')));
  if (s.inbox > 0 && s.logged_in) el.append(h('a#inbox-link.warn', { href: '#/inbox' }, `${t('inbox')} `, h('span#inbox-badge.badge', String(s.inbox))));
  if (s.auth_needed) {
    el.append(h('a#auth-needed.warn', { href: '#/login' }, t('refused_login')));
  } else if (!s.logged_in && s.user) {
    el.append(h('a#auth-needed.warn', { href: '#/login' }, t('not_logged_in')));
  }
  if (s.storage_error) el.append(h('span.warn', `${t('storage_error')}: ${s.storage_error}`));
  // The server could not store the pushes (its disk is full): say so until they get through.
  if (s.push_refused) el.append(h('span#push-refused.warn', { dataset: { code: s.push_refused } }, t(`push_refused:${s.push_refused}`)));
}

/// The unread count (and the number of orders waiting for this user) in the navigation,
/// computed by the client from the documents it holds.
function renderBadges() {
  const session = app.session();
  if (locked(session)) return;
  const set = (id, n) => {
    const b = document.getElementById(id);
    if (!b) return;
    b.hidden = !n;
    b.textContent = String(n);
  };
  const notes = JSON.parse(app.client.notifications(getLang()));
  set('notif-badge', notes.unread);
  set('work-badge', notes.waiting);
}

/// Switch the language and redraw, keeping what a half-filled form holds.
function switchLang() {
  setLang(getLang() === 'zh' ? 'en' : 'zh');
  app.vocab = JSON.parse(app.client.vocab(getLang()));
  renderChrome();
  render({ keep: true });
}

// ---- routing ------------------------------------------------------------------------

function route() {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

function viewFor(parts, session) {
  const [a, b, c] = parts;
  if (a === 'login' || locked(session)) return viewLogin(session);
  if (a === 'k' && b && c === 'new') return viewKindForm(b, { presets: presetsOf(parts.slice(3)) });
  if (a === 'k' && b) return viewKindList(b);
  if (a === 'r' && b && c === 'edit') return viewKindForm(null, { id: b });
  if (a === 'r' && b) return viewRecord(b);
  if (a === 'customers' && b === 'new') return viewCustomerForm(null);
  if (a === 'customers') return viewCustomers();
  if (a === 'customer' && b && c === 'edit') return viewCustomerForm(b);
  if (a === 'customer' && b && c === 'visit') return viewVisitForm(b);
  if (a === 'customer' && b && c === 'order') return viewOrderForm({ customer: b });
  if (a === 'customer' && b) return viewCustomer(b);
  if (a === 'orders') return viewOrders(b || '');
  if (a === 'order' && b && c === 'edit') return viewOrderForm({ order: b });
  if (a === 'order' && b) return viewOrder(b);
  if (a === 'inbox') return viewInbox();
  if (a === 'approvals') return viewApprovals();
  if (a === 'work') return viewWork();
  if (a === 'notifications') return viewNotifications();
  if (a === 'me') return viewMe(session);
  if (a === 'expenses') return viewExpenses();
  if (a === 'contracts') return viewContracts();
  if (a === 'contract' && b) return viewContract(b);
  if (a === 'today') return viewToday();
  if (a === 'field') return viewField(b || '', c);
  if (a === 'dashboard' && DASHBOARD_ROLES.includes(session.role)) return viewDashboard();
  return session.role === 'rep' || !session.role ? viewCustomers() : viewWork();
}

/// Draw the screen of the current route. `keep`: carry over what the screen's form holds
/// (the screen's own keep/restore, else every input by id).
function render({ keep = false } = {}) {
  const session = app.session();
  const parts = route();
  const saved = keep && current ? (current.keep ? current.keep() : snapshotInputs()) : null;
  let view;
  try {
    view = viewFor(parts, session);
  } catch (e) {
    console.error(e);
    view = { node: h('section', h('p.error', `${t('error')}: ${errorText(e)}`)) };
  }
  current = view;
  const main = document.getElementById('main');
  fill(main, view.node);
  const a = locked(session) ? 'login' : parts[0] || (session.role === 'rep' ? 'customers' : 'work');
  main.dataset.view = a;
  if (saved) {
    if (view.restore) view.restore(saved);
    else restoreInputs(saved);
  }
  const active = view.nav || (a === 'customer' ? 'customers' : a === 'order' ? 'orders' : a);
  for (const l of document.querySelectorAll('#nav a')) l.classList.toggle('active', l.dataset.nav === active);
  if (view.focus && !saved) view.focus();
}

function snapshotInputs() {
  const values = {};
  for (const el of document.querySelectorAll('#main input[id], #main select[id], #main textarea[id]')) {
    if (el.type !== 'password') values[el.id] = el.value;
  }
  return values;
}

function restoreInputs(values) {
  for (const [id, v] of Object.entries(values || {})) {
    const el = document.getElementById(id);
    if (!el || el.value === v) continue;
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }
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

main().catch((e) => {
  console.error(e);
  document.getElementById('main').replaceChildren(h('p.error#fatal', `${t('error')}: ${errorText(e)}`));
});
