// A tiny DOM helper and the pieces every screen shares. No framework, no innerHTML:
// h('div.card#id', {attrs, on: {click}}, ...children) builds elements, text is always text.

import { t } from './i18n.js';

export function h(tag, attrs, ...children) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(tag) || [];
  const el = document.createElement(m[1] || 'div');
  for (const part of (m[2] || '').match(/[.#][\w-]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/// Redraw `root` with `draw()` (a live update: something changed elsewhere) keeping what
/// its inputs hold — by id — and the focus, so nobody loses what they were typing.
export function redraw(root, draw) {
  const values = {};
  for (const el of root.querySelectorAll('input[id], textarea[id], select[id]')) if (el.type !== 'hidden') values[el.id] = el.value;
  const active = document.activeElement;
  const focus = active && root.contains(active) && active.id ? active.id : null;
  draw();
  for (const [id, v] of Object.entries(values)) {
    const el = document.getElementById(id);
    if (el && v && root.contains(el) && el.value !== v) el.value = v;
  }
  // A refusal shown in a form stays shown when the form is drawn again. Over a copy:
  // showing one deletes and sets its entry again, which a live iteration would visit
  // again, for ever (the page froze on the first live update after a refusal).
  for (const [id, e] of [...shownRefusals]) {
    const form = document.getElementById(id);
    if (form && root.contains(form)) showRefusal(form, e, { focus: false });
    else if (!form) shownRefusals.delete(id);
  }
  if (focus) {
    const el = document.getElementById(focus);
    if (el) el.focus();
  }
}

/// Refusals shown in forms with an id, by form id (kept across redraws).
const shownRefusals = new Map();

/// The form as it is on the page now: a live update may have drawn it again while a step
/// was being recorded (the element a handler captured is then detached).
export function currentForm(form) {
  return (form && form.id && document.getElementById(form.id)) || form;
}

/// Replace an element's children (null, false and nested arrays allowed, as in h()).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/// A <select> of {value,label} options with an optional empty first option.
export function select(id, options, value, emptyLabel) {
  const opts = [];
  if (emptyLabel !== undefined) opts.push(h('option', { value: '' }, emptyLabel));
  for (const o of options) opts.push(h('option', { value: o.value, selected: o.value === value ? true : null }, o.label));
  const s = h('select', { id, name: id }, opts);
  s.value = value || '';
  return s;
}

/// A labelled control (no error place: see fieldBox for form fields).
export function field(label, control, hint) {
  return h('label.field', h('span.label', label), control, hint ? h('small.hint', hint) : null);
}

/// A form field: label, control, hint and the place for its error, found by
/// showRefusal() through `data-field` (the field's name as the core names it).
export function fieldBox(name, label, control, { hint, required } = {}) {
  if (control.id) control.setAttribute('aria-describedby', `err-${cssId(name)}`);
  return h(
    'div.field',
    { dataset: { field: name } },
    h('label.label', { for: control.id || null }, label, required ? h('span.req', ' *') : null),
    control,
    hint ? h('small.hint', hint) : null,
    h('small.field-error', { id: `err-${cssId(name)}`, role: 'alert' }),
  );
}

function cssId(name) {
  return name.replace(/[^\w-]/g, '-');
}

export function toast(text, kind = 'ok') {
  const el = h('div.toast.' + kind, { role: 'status' }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), kind === 'ok' ? 2000 : 6000);
}

export function errorText(e) {
  if (typeof e === 'string') return refusalOf(e).message;
  return (e && (e.message || e.toString())) || String(e);
}

/// What a refused edit says, as {fields: [{field, code, label, message}], message}: every
/// edit of the client rejects with that JSON; anything else becomes a message alone.
export function refusalOf(e) {
  if (typeof e === 'string') {
    try {
      const j = JSON.parse(e);
      if (j && Array.isArray(j.fields)) return j;
    } catch (_) {
      /* not JSON */
    }
    return { fields: [], message: e };
  }
  return { fields: [], message: (e && (e.message || e.toString())) || String(e) };
}

/// Clear the errors shown in a form.
export function clearErrors(form) {
  if (form.id) shownRefusals.delete(form.id);
  for (const box of form.querySelectorAll('[data-field]')) {
    box.classList.remove('invalid');
    const slot = box.querySelector(':scope > .field-error');
    if (slot) slot.textContent = '';
  }
  for (const g of form.querySelectorAll('.form-error')) g.textContent = '';
}

/// Show a refusal in `form`: each field's message next to it (the element with its
/// `data-field`, marked invalid), the rest — and "nothing was saved" — in the form's
/// `.form-error`. Focuses the first wrong field.
export function showRefusal(form, e, { focus = true } = {}) {
  form = currentForm(form);
  clearErrors(form);
  if (form.id) shownRefusals.set(form.id, e);
  const r = refusalOf(e);
  const unplaced = [];
  let placed = 0;
  for (const fe of r.fields) {
    const box = form.querySelector(`[data-field="${CSS.escape(fe.field)}"]`);
    const slot = box && box.querySelector(':scope > .field-error');
    if (!slot) {
      unplaced.push(fe.label ? `${fe.label}: ${fe.message}` : fe.message);
      continue;
    }
    placed += 1;
    box.classList.add('invalid');
    slot.textContent = slot.textContent ? `${slot.textContent}；${fe.message}` : fe.message;
  }
  const general = form.querySelector('.form-error');
  const text = placed ? [t('not_saved'), ...unplaced].join(' ') : r.message || unplaced.join(' ');
  if (general) general.textContent = text;
  else if (focus) toast(text, 'error');
  const first = form.querySelector('.invalid input, .invalid select, .invalid textarea');
  if (first && focus) first.focus();
}

/// A phone number as a link that dials it.
export function tel(phone) {
  if (!phone) return null;
  return h('a.tel', { href: `tel:${String(phone).replace(/[^\d+]/g, '')}` }, phone);
}

/// The one status of an order, as every screen shows it: the status and, when the server
/// has not received or checked it yet, that mark (see wasm-client order_state.rs).
export function statusChip(o, id) {
  return h(
    'span.status-chip',
    { dataset: { status: o.status, sync: o.sync || '' } },
    h('span.status.' + o.status, { id: id || null }, o.status_label),
    o.sync ? h('span.tag.sync.' + o.sync, { id: id ? `${id}-sync` : null }, t(`sync_${o.sync}`)) : null,
  );
}

/// A list that is a table on a desktop and a column of cards on a phone. `columns`:
/// [{label, cell: (row) => node|text, cls}]; the first column links the row to
/// `href(row)` (the whole row is the tap target).
export function rowsTable({ id, rows, columns, href, empty, cls }) {
  if (!rows.length) return h('p.empty', { id: id ? `${id}-empty` : null }, empty || '');
  return h(
    'table.rows',
    { id: id || null, class: cls ? `rows ${cls}` : null },
    h('thead', h('tr', columns.map((c) => h('th', { class: c.cls || null }, c.label)))),
    h(
      'tbody',
      rows.map((r) =>
        h(
          'tr',
          { dataset: { id: r.id, status: r.status || '' } },
          columns.map((c, i) =>
            h(
              'td',
              { class: c.cls || null, dataset: { label: c.label } },
              i === 0 && href ? h('a.row-link', { href: href(r) }, c.cell(r)) : c.cell(r),
            ),
          ),
        ),
      ),
    ),
  );
}

/// Two-step confirmation for a consequential action: the button turns into "confirm /
/// back" next to it (no blocking dialog). `run()` is called on confirmation.
export function confirmButton({ id, label, confirmLabel, cls = '', run, question }) {
  const wrap = h('span.confirm-wrap');
  const button = h('button', { type: 'button', id, class: cls || null, on: { click: ask } }, label);
  function ask() {
    if (id) openConfirms.add(id);
    fill(
      wrap,
      h(
        'span.confirm',
        { role: 'group' },
        question ? h('span.confirm-question', question) : null,
        h('button.danger', { type: 'button', id: id ? `${id}-confirm` : null, on: { click: () => { openConfirms.delete(id); run(); } } }, confirmLabel || label),
        h('button', { type: 'button', id: id ? `${id}-back` : null, on: { click: () => { openConfirms.delete(id); fill(wrap, button); } } }, t('back')),
      ),
    );
  }
  // Asked already (a live update drew it again): still asking.
  if (id && openConfirms.has(id)) ask();
  else fill(wrap, button);
  return wrap;
}

/// Confirm buttons (by id) whose question is showing.
const openConfirms = new Set();

/// Another screen: no question stays asked, no refusal stays shown.
export function forgetOpenQuestions() {
  openConfirms.clear();
  shownRefusals.clear();
  for (const hook of forgetHooks) hook();
}

/// What other modules keep across redraws of one screen (cleared with the screen).
const forgetHooks = [];
export function onForget(hook) {
  forgetHooks.push(hook);
}
