// The kind registry as the web app sees it: every kind this user may read, with its
// fields, comes from the Rust declarations (client.kinds()); this module only records
// which kinds have screens of their own. Every other kind gets the generic list, form and
// detail screens (kind_list.js, kind_form.js, kind_detail.js) and a place in the
// navigation — declaring a kind in protocol/src/kinds/ is all it takes.

import { getLang, t, has } from './i18n.js';

// What every screen needs from the app; app.js fills it in at start-up (and again when
// the profile changes: another user logs in on this browser).
export const app = {
  client: null,
  /// The closed vocabularies and field labels in the current language (client.vocab()).
  vocab: null,
  go: (hash) => {
    location.hash = hash;
  },
  /// The login this profile holds: {user, role, territories, logged_in, …}.
  session: () => JSON.parse(app.client.session()),
  /// Where a user starts: a rep with their customers, everyone else with their queues.
  home: (session) => (session.role === 'rep' ? '#/customers' : '#/work'),
};

// Kinds with bespoke screens (or shown inside another kind's screen), and where one of
// their records opens. `parent` is the record's parent id, when it has one.
const BESPOKE = {
  customer: { open: (id) => `#/customer/${id}` },
  visit: { open: (id, parent) => (parent ? `#/customer/${parent}` : null) },
  order: { open: (id) => `#/order/${id}` },
  verdict: { open: (id, parent) => (parent ? `#/order/${parent}` : null) },
  policy: { open: () => null },
};

/// Kinds whose list screen is their own (a module registers it: complaints.js puts the
/// after-sales queue here); every other kind gets the generic list.
export const VIEWS = {};

/// What a kind's record screen shows below its fields (complaints.js: the clocks and the
/// history as the customer experienced it): `PANELS[kind](id)` → a node.
export const PANELS = {};

let cache = { key: '', kinds: [] };

/// Every kind this user may read, in the current language (cached until the language or
/// the login changes).
export function kinds() {
  const session = app.client.session();
  const key = `${getLang()}|${session}`;
  if (cache.key !== key) cache = { key, kinds: JSON.parse(app.client.kinds(getLang())) };
  return cache.kinds;
}

export function kindSpec(name) {
  return kinds().find((k) => k.name === name) || null;
}

export function isBespoke(name) {
  return Object.prototype.hasOwnProperty.call(BESPOKE, name);
}

/// Kinds shown with the generic screens: readable, made by people, many records each.
export function genericKinds() {
  return kinds().filter((k) => !isBespoke(k.name) && !k.server_written && !k.singleton);
}

/// Generic kinds whose records belong to a record of `parent` (a customer's competitor
/// observations): the parent's screen lists them and offers to add one.
export function childKinds(parent) {
  return genericKinds().filter((k) => k.parent && k.parent.kind === parent);
}

/// Where a record opens.
export function recordHref(kind, id, parent) {
  const b = BESPOKE[kind];
  return (b && b.open(id, parent)) || `#/r/${id}`;
}

export function listHref(kind) {
  return `#/k/${encodeURIComponent(kind)}`;
}

/// The create form, with fields filled in (`{customer: id}`: fixed, for a parent).
export function newHref(kind, presets) {
  const extra = Object.entries(presets || {}).map(([f, v]) => `/${encodeURIComponent(f)}=${encodeURIComponent(v)}`);
  return `#/k/${encodeURIComponent(kind)}/new${extra.join('')}`;
}

/// A kind's name where space is short (`nav:KIND` in i18n.js, else its label), and the
/// action that records one (`new:KIND`, else "新建 …"). Both optional for a new kind.
export function navLabel(k) {
  return has(`nav:${k.name}`) ? t(`nav:${k.name}`) : k.label;
}

export function newLabel(k) {
  return has(`new:${k.name}`) ? t(`new:${k.name}`) : t('new_record', { kind: k.label });
}
