// Issue 12 on a record's screen: the workflow of any kind that has one (its status, the
// steps this user may take now, its history with when the server received each step) and
// the read receipt of what market distributes; links from a market report to its printable
// page, from a partner to its evaluation, from a development plan to its progress, and an
// approved product plan's draft catalogue as CSV. Every step is an edit of this device,
// offline, sent with the next sync.

import { h, fill, toast, errorText, select, fieldBox } from './ui.js';
import { t, getLang } from './i18n.js';
import { app, PANELS } from './kinds.js';
import { VISIT_SECTIONS } from './screens/visit_form.js';

/// The logs of a record (client.record().logs) with their steps as buttons.
export function logsPanel(r) {
  const logs = (r.logs || []).filter((l) => l.receipts || l.status);
  if (!logs.length) return null;
  const wrap = h('section.workflow#record-workflow');
  const comment = h('input#step-comment', { type: 'text', placeholder: t('comment'), 'aria-label': t('comment') });
  const err = h('p.form-error.error#step-error', { role: 'alert' });
  async function take(step) {
    err.textContent = '';
    try {
      await app.client.step(r.id, step, comment.value, Date.now(), getLang());
      toast(t('saved'));
    } catch (e) {
      err.textContent = errorText(e);
    }
  }
  fill(
    wrap,
    logs.map((l) =>
      h(
        'div.log',
        { dataset: { field: l.field, status: l.status || '', receipts: l.receipts } },
        h('h3', l.label || l.field, ' ', l.receipts ? null : h('span.tag.status#record-status', { dataset: { status: l.status } }, l.status_label || l.status)),
        l.timeline.length
          ? h(
              'ol.timeline',
              l.timeline.map((e) =>
                h(
                  'li',
                  { class: e.applied ? null : 'not-applied' },
                  `${e.received || `${e.at} ${t('unsent')}`} · ${e.label} · ${e.by}${e.comment ? ` · ${e.comment}` : ''}`,
                  e.applied ? null : h('span.tag', t('note_not_applied')),
                ),
              ),
            )
          : null,
        l.steps.length
          ? h(
              'div.actions.steps',
              l.steps.map((s) =>
                h('button.step-button', { type: 'button', dataset: { step: s.step }, on: { click: () => take(s.step) } }, s.label || s.step),
              ),
            )
          : null,
      ),
    ),
    logs.some((l) => l.steps.length && !l.receipts) ? comment : null,
    err,
  );
  return wrap;
}

const link = (id, href, label) => () => h('div.actions.record-links', h('a.button', { id, href }, label));

PANELS['market-report'] = (id) => link('open-report-page', `#/field/report/${id}`, t('report_page'))();
PANELS.partner = (id) => link('open-evaluation', `#/field/evaluation/${id}`, t('f:evaluation'))();
PANELS['development-plan'] = (id) => link('open-progress', `#/field/progress/${id}`, t('f:progress'))();
PANELS['product-plan'] = (id) =>
  h(
    'div.actions.record-links',
    h(
      'button#catalogue-csv',
      {
        type: 'button',
        on: {
          click: () => {
            try {
              const csv = JSON.parse(app.client.field('catalogue', JSON.stringify({ id }), Date.now(), getLang()));
              const a = h('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' })), download: 'catalogue-draft.csv' });
              document.body.append(a);
              a.click();
              a.remove();
            } catch (e) {
              toast(errorText(e), 'error');
            }
          },
        },
      },
      t('catalogue_csv'),
    ),
  );

// The visit form offers the visit plans of this customer that are open today or missed
// (the first one chosen): the visit then carries out the plan (its `plan` field).
VISIT_SECTIONS.push((customerId) => {
  let plans = [];
  try {
    const today = JSON.parse(app.client.field('today', '', Date.now(), getLang()));
    const item = today.items.find((i) => i.customer === customerId);
    plans = item ? item.reasons.filter((r) => r.plan && (r.kind === 'planned' || r.kind === 'missed')) : [];
  } catch (_) {
    plans = [];
  }
  if (!plans.length) return { node: null, values: () => ({}) };
  const choice = select('vf-plan', plans.map((p) => ({ value: p.plan, label: p.text })), plans[0].plan, t('no_plan'));
  return {
    node: fieldBox('plan', t('visit_plan'), choice),
    values: () => (choice.value ? { plan: choice.value } : {}),
  };
});
