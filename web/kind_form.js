// The form of any kind, built from its field declarations (client.kinds()): the right
// input per type, every value checked in Rust when saved (client.createRecord /
// updateRecord, one change or nothing), each refusal shown next to its field in the
// current language.
//
// Reusable pieces: fieldControl() (one input for one declared field), kindForm() (a
// whole form for create or edit, to embed in any screen), viewKindForm() (the screen).

import { h, toast, refusalOf, select } from './ui.js';
import { t, getLang } from './i18n.js';
import { app, kindSpec, recordHref } from './kinds.js';
import { refPicker, fixedRef } from './ref_picker.js';

/// Types a person types in; lists, logs and bytes are edited by screens of their own.
const FORM_TYPES = ['str', 'text', 'phone', 'enum', 'date', 'time', 'int', 'money', 'ref', 'flag'];

function plainControl(el) {
  return {
    node: el,
    input: el,
    get: () => el.value,
    set: (v) => {
      el.value = v ?? '';
    },
    reload: () => {},
    onChange: (fn) => el.addEventListener('change', () => fn(el.value)),
  };
}

/// One control for field `f` holding `value` (form text: yuan for money, names for
/// enums, ids for references). `opts`: {fixed: a reference that may not change,
/// scope: () => value of the field a reference is scoped by, scopeLabel}.
/// Returns {node, input, get(), set(v), reload(), onChange(fn)}, or null for a type no
/// form edits.
export function fieldControl(f, value, opts = {}) {
  if (!FORM_TYPES.includes(f.type)) return null;
  const id = `kf-${f.name}`;
  const v = value ?? '';
  const common = { id, name: f.name, 'aria-required': f.required ? 'true' : null, 'aria-describedby': `kf-err-${f.name}` };
  switch (f.type) {
    case 'ref':
      return opts.fixed ? fixedRef(f, v) : refPicker(f, v, opts);
    case 'enum':
      return plainControl(select(id, f.options, v, `— ${t('choose')} —`));
    case 'flag':
      return plainControl(select(id, [{ value: 'yes', label: t('yes') }, { value: 'no', label: t('no') }], v, '—'));
    case 'text': {
      const el = h('textarea', { ...common, rows: 3, maxlength: f.max || null });
      el.value = v;
      return plainControl(el);
    }
    case 'money': {
      const el = h('input', { ...common, type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.00' });
      el.value = v;
      const c = plainControl(el);
      c.node = h('div.money-input', el, h('span.unit', f.unit || '元'));
      return c;
    }
    case 'int': {
      const el = h('input', { ...common, type: 'text', inputmode: 'numeric', autocomplete: 'off' });
      el.value = v;
      return plainControl(el);
    }
    case 'date': {
      const el = h('input', { ...common, type: 'date' });
      el.value = v;
      return plainControl(el);
    }
    case 'time': {
      const el = h('input', { ...common, type: 'text', placeholder: '2026-01-31T09:00:00+08:00' });
      el.value = v;
      return plainControl(el);
    }
    case 'phone': {
      const el = h('input', { ...common, type: 'tel', inputmode: 'tel', autocomplete: 'off' });
      el.value = v;
      return plainControl(el);
    }
    default: {
      const el = h('input', { ...common, type: 'text', maxlength: f.max || null, autocomplete: 'off' });
      el.value = v;
      return plainControl(el);
    }
  }
}

/// A labelled field with the place for its error.
function fieldBox(f, control) {
  return h(
    'div.field',
    { dataset: { field: f.name, type: f.type } },
    h('label.label', { for: control.input.id }, f.label, f.required ? h('span.req', ' *') : null),
    control.node,
    h('small.field-error', { id: `kf-err-${f.name}`, role: 'alert' }),
  );
}

/// A form for a record of kind `spec` (from client.kinds()): a new one (`presets`: field
/// values to start with; `fixed`: fields that may not change, e.g. the parent it was
/// opened from) or an existing one (`record`: client.record()). `onSaved(id)` after the
/// save is durable. Returns {node, focus(), controls}.
export function kindForm(spec, { record = null, presets = {}, fixed = [], onSaved, cancelHref } = {}) {
  const editing = !!record;
  const current = {};
  if (record) for (const f of record.fields) current[f.name] = f;
  const shown = spec.fields.filter((f) => (editing ? f.edit && current[f.name] && current[f.name].may_write : f.create));
  const controls = {};
  const base = {};
  const boxes = [];
  // The value of a field as the form has it: its control's, else the record's or preset.
  const valueOf = (name) => (controls[name] ? controls[name].get() : editing ? (current[name] || {}).input || '' : presets[name] || '');
  for (const f of shown) {
    const value = editing ? current[f.name].input : presets[f.name] ?? '';
    const scopeField = f.scope ? spec.fields.find((g) => g.name === f.scope.field) : null;
    const control = fieldControl(f, value, {
      fixed: !editing && fixed.includes(f.name) && !!value,
      scope: scopeField ? () => valueOf(scopeField.name) : null,
      scopeLabel: scopeField ? scopeField.label : '',
    });
    if (!control) continue;
    controls[f.name] = control;
    base[f.name] = value;
    boxes.push(fieldBox(f, control));
  }
  // References scoped by another field follow it (a visit of the chosen customer).
  for (const f of shown) {
    if (f.scope && controls[f.name] && controls[f.scope.field]) controls[f.scope.field].onChange(() => controls[f.name].reload());
  }
  const error = h('p#kind-error.error', { role: 'alert' });
  const save = h('button#kind-save.primary', { type: 'submit' }, t('save'));
  const form = h(
    'form#kind-form.card.kind-form',
    { novalidate: true, dataset: { kind: spec.name, mode: editing ? 'edit' : 'create' }, on: { submit: (e) => (e.preventDefault(), submit()) } },
    h('h2', editing ? `${t('edit')} · ${record.title}` : spec.label),
    boxes,
    h('div.actions', save, cancelHref ? h('a.button#kind-cancel', { href: cancelHref }, t('cancel')) : null),
    error,
  );

  function clearErrors() {
    error.textContent = '';
    for (const box of form.querySelectorAll('.field')) {
      box.classList.remove('invalid');
      box.querySelector('.field-error').textContent = '';
    }
  }

  function showRefusal(e) {
    const r = refusalOf(e);
    const unplaced = [];
    for (const fe of r.fields) {
      const box = form.querySelector(`.field[data-field="${CSS.escape(fe.field)}"]`);
      if (!box) {
        unplaced.push(fe.label ? `${fe.label}: ${fe.message}` : fe.message);
        continue;
      }
      box.classList.add('invalid');
      const slot = box.querySelector('.field-error');
      slot.textContent = slot.textContent ? `${slot.textContent}；${fe.message}` : fe.message;
    }
    const placed = r.fields.length > unplaced.length;
    error.textContent = placed ? [t('not_saved'), ...unplaced].join(' ') : r.message || unplaced.join(' ');
    const first = form.querySelector('.field.invalid input, .field.invalid select, .field.invalid textarea');
    if (first) first.focus();
  }

  async function submit() {
    clearErrors();
    save.disabled = true;
    try {
      if (editing) {
        const edits = {};
        for (const [name, c] of Object.entries(controls)) {
          if (c.get() !== base[name]) edits[name] = { base: base[name], value: c.get() };
        }
        if (!Object.keys(edits).length) {
          toast(t('no_changes'));
          if (onSaved) onSaved(record.id);
          return;
        }
        await app.client.updateRecord(record.id, JSON.stringify(edits), Date.now(), getLang());
        toast(t('saved'));
        if (onSaved) onSaved(record.id);
      } else {
        const inputs = {};
        for (const [name, c] of Object.entries(controls)) inputs[name] = c.get();
        const id = await app.client.createRecord(spec.name, JSON.stringify(inputs), Date.now(), getLang());
        toast(t('saved'));
        if (onSaved) onSaved(id);
      }
    } catch (e) {
      showRefusal(e);
    } finally {
      save.disabled = false;
    }
  }

  const focus = () => {
    const first = form.querySelector('.field input:not([type=hidden]):not(.ref-search), .field select, .field textarea');
    if (first) first.focus();
  };
  return { node: form, focus, controls };
}

/// The screen: a new record of `kindName` (`presets` from the route: `customer=ID`), or an
/// existing record `id` to edit. Back where it came from once saved.
export function viewKindForm(kindName, { id = null, presets = {} } = {}) {
  let record = null;
  if (id) {
    try {
      record = JSON.parse(app.client.record(id, getLang()));
    } catch (e) {
      return { node: h('p.error', `${t('not_found')}: ${refusalOf(e).message}`) };
    }
    kindName = record.kind;
  }
  const spec = kindSpec(kindName);
  if (!spec) return { node: h('p.error', `${t('not_found')}: ${kindName}`) };
  const parentField = spec.parent ? spec.parent.field : null;
  const parentId = record ? record.parent && record.parent.id : presets[parentField];
  // Opened from the parent's page: back there; else to the record (or the list).
  const back = parentId && spec.parent ? recordHref(spec.parent.kind, parentId) : null;
  const cancelHref = record ? recordHref(spec.name, record.id, parentId) : back || `#/k/${spec.name}`;
  const form = kindForm(spec, {
    record,
    presets,
    fixed: parentField && presets[parentField] ? [parentField] : [],
    cancelHref,
    onSaved: (saved) => app.go(record ? recordHref(spec.name, saved, parentId) : back || recordHref(spec.name, saved, parentId)),
  });
  return { node: h('section.kind-form-view', form.node), focus: form.focus, nav: `k:${spec.name}` };
}
