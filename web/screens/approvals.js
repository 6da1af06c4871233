// Orders waiting for an approval this user's role gives (never their own): everything an
// approver decides on — customer, lines with product names, prices against the policy and
// discounts, the total, the rep's note, why approval is needed — and the decision.

import { h, fill, redraw, toast, showRefusal, statusChip } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { linesTable, decideBox } from './order.js';

export function viewApprovals() {
  const wrap = h('section.approvals');
  function refresh() {
    redraw(wrap, draw);
  }
  function draw() {
    const items = JSON.parse(app.client.approvals(getLang()));
    fill(
      wrap,
      h('h2', t('approvals')),
      items.length
        ? h(
            'ul#approval-list.list.cards',
            items.map((o) =>
              h(
                'li.approval-row.card',
                { dataset: { id: o.id } },
                h('div.head', h('a.name', { href: `#/order/${o.id}` }, o.customer_name || '?'), statusChip(o), h('strong.amount', `¥${o.total}`)),
                h('p.meta', `${t('n_lines', { n: o.lines })} · ${o.created_at_local} · ${o.created_by}`),
                linesTable(o.line_items, { total: null }),
                o.notes ? h('p.rep-note', h('span.label', `${t('rep_note')}：`), o.notes) : null,
                h('p.warn', t('waiting_for', { roles: o.missing.join('、') })),
                h('ul.reasons', o.reasons.map((r) => h('li', r.text))),
                decideBox(async (kind, input, box) => {
                  try {
                    await app.client.orderStep(o.id, kind, JSON.stringify(input), Date.now(), getLang());
                    toast(t('saved'));
                    draw();
                  } catch (e) {
                    showRefusal(box, e);
                  }
                }, `decide-comment-${o.id}`),
              ),
            ),
          )
        : h('p.empty#approvals-empty', t('approvals_empty')),
    );
  }
  draw();
  return { node: wrap, refresh, nav: 'approvals' };
}
