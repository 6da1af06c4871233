// A department's queues: the orders waiting for a step this user may record now (to
// approve, to confirm payment, to ship, to deliver, exceptions to resolve, to close) and
// their own drafts and rejected orders — computed by the client core from the documents
// held here, with the same rules the server applies.

import { h, fill } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { orderTable } from './customer.js';

export function viewWork() {
  const wrap = h('section.work#work');
  function refresh() {
    const queues = JSON.parse(app.client.work(getLang()));
    fill(
      wrap,
      h('h2', t('work')),
      h('nav.tabs.queue-tabs', queues.map((q) => h('a.status-tab', { href: '#/work', dataset: { queue: q.queue }, on: { click: (e) => jump(e, q.queue) } }, `${t(`q:${q.queue}`)} ${q.count}`))),
      queues.map((q) =>
        h(
          'section.queue',
          { id: `q-${q.queue}`, dataset: { queue: q.queue, count: q.count } },
          h('h3', t(`q:${q.queue}`), ' ', h('span.badge', String(q.count))),
          orderTable(q.items, { id: `queue-${q.queue}`, empty: t('queue_empty') }),
        ),
      ),
    );
  }
  function jump(e, queue) {
    e.preventDefault();
    const el = document.getElementById(`q-${queue}`);
    if (el) el.scrollIntoView({ block: 'start' });
  }
  refresh();
  return { node: wrap, refresh, nav: 'work' };
}
