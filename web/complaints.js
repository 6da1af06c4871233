// The after-sales queue: open complaints by the time left on their SLA clock — breached
// ones first, in red — computed offline in Rust with the same clock function as the
// server (client.complaintQueue). It is the complaint kind's list screen (registered in
// kinds.js VIEWS); filing a complaint is the kind's generic form, from the customer's
// page or from here.

import { h, fill } from './ui.js';
import { t, getLang } from './i18n.js';
import { app, VIEWS, PANELS, recordHref, newHref, newLabel } from './kinds.js';

/// How often the time left is recomputed while the queue is on screen.
const TICK_MS = 15_000;

function row(c) {
  return h(
    'li.record-row.complaint-row',
    {
      dataset: { id: c.id, state: c.clock.state, breached: c.breached ? 'true' : 'false', unsent: c.unsent ? 'true' : 'false' },
      class: c.breached ? 'record-row complaint-row breached' : null,
    },
    h(
      'a',
      { href: recordHref('complaint', c.id) },
      h('span.sla.' + c.clock.state, { title: c.clock.label }, `${c.clock.label} · ${c.clock.text}`),
      h('strong.name', c.content),
      c.unsent ? h('span.tag.unsent', t('unsent')) : null,
      h('span.meta.summary', [c.customer_name, c.severity_label, c.category_label, c.status_label].filter(Boolean).join(' · ')),
      h('span.meta.when', [c.received_local, c.batch].filter(Boolean).join(' · ')),
    ),
  );
}

export function viewComplaintQueue(spec) {
  const state = { all: false };
  const results = h('div.kind-results', { id: 'kind-results' });
  const all = h('input#queue-all', {
    type: 'checkbox',
    on: { change: (e) => ((state.all = e.target.checked), refresh()) },
  });
  function refresh() {
    const res = JSON.parse(app.client.complaintQueue(Date.now(), state.all, getLang()));
    fill(
      results,
      h('p.count', t('n_records', { n: res.total })),
      res.items.length ? h('ul.list.record-list#complaint-queue', res.items.map(row)) : h('p.empty#records-empty', t('no_records')),
    );
  }
  refresh();
  const timer = setInterval(() => (node.isConnected ? refresh() : clearInterval(timer)), TICK_MS);
  const node = h(
    'section.kind-list.complaint-queue',
    { dataset: { kind: spec.name } },
    h('h2', t('complaint_queue')),
    h(
      'div.toolbar',
      h('label.inline', all, ` ${t('queue_all')}`),
      spec.may_create ? h('a#kind-new.button.primary', { href: newHref(spec.name) }, `+ ${newLabel(spec)}`) : null,
    ),
    results,
  );
  return { node, refresh, nav: `k:${spec.name}` };
}

/// Below a complaint's fields: its clocks and its history as the customer experienced it.
export function complaintPanel(id) {
  let d;
  try {
    d = JSON.parse(app.client.complaintDetail(id, Date.now(), getLang()));
  } catch (_) {
    return null;
  }
  return h(
    'section#complaint-panel',
    h('p#complaint-status', h('strong', d.status_label), d.waiting ? ` · ${t('waiting_customer')}` : ''),
    h(
      'ul#complaint-clocks.list',
      d.clocks.map((c) => h('li', { dataset: { clock: c.clock, state: c.state } }, h('span.sla.' + c.state, `${c.label} · ${c.text}`))),
    ),
    d.escalated_to ? h('p.warn#complaint-escalated', `${t('escalated_to')} ${d.escalated_to}`) : null,
    h('h3', t('complaint_history')),
    h(
      'ol#complaint-timeline.timeline',
      d.timeline.map((e) =>
        h(
          'li',
          { dataset: { kind: e.kind }, class: e.applied ? null : 'not-applied' },
          h('strong', e.label),
          h('span.meta', ` ${e.at_local} · ${e.by || ''}`),
          e.text ? h('q.comment', e.text) : null,
        ),
      ),
    ),
  );
}

VIEWS.complaint = viewComplaintQueue;
PANELS.complaint = complaintPanel;
