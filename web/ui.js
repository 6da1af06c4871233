// A tiny DOM helper: h('div.card#id', {attrs, on: {click}}, ...children). No framework.

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

export function field(label, control, hint) {
  return h('label.field', h('span.label', label), control, hint ? h('small.hint', hint) : null);
}

export function toast(text, kind = 'ok') {
  const el = h('div.toast.' + kind, { role: 'status' }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), kind === 'ok' ? 2000 : 6000);
}

export function errorText(e) {
  return (e && (e.message || e.toString())) || String(e);
}

/// What a refused edit says, as {fields: [{field, code, label, message}], message}: the
/// generic record API rejects with that JSON; anything else becomes a message alone.
export function refusalOf(e) {
  if (typeof e === 'string') {
    try {
      const j = JSON.parse(e);
      if (j && Array.isArray(j.fields)) return j;
    } catch (_) {
      /* not JSON */
    }
  }
  return { fields: [], message: errorText(e) };
}
