// Orders, newest first, by status: the tabs, their counts and every row come from the one
// status of the client core (wasm-client order_state.rs), so no two views disagree.

import { h, fill } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';
import { orderTable } from './customer.js';

const PAGE = 200;

export function viewOrders(status) {
  const wrap = h('section.orders');
  let limit = PAGE;
  function refresh() {
    const res = JSON.parse(app.client.orders(status, limit, getLang()));
    const all = Object.values(res.counts).reduce((a, b) => a + b, 0);
    const tab = (value, label, n) =>
      h('a', { href: `#/orders/${value}`, class: value === status ? 'status-tab active' : 'status-tab', dataset: { status: value } }, `${label} ${n}`);
    fill(
      wrap,
      h('nav.tabs', { 'aria-label': t('status') }, tab('', t('all'), all), app.vocab.order_status.map((s) => tab(s.value, s.label, res.counts[s.value] || 0))),
      orderTable(res.items, { id: 'order-list' }),
      res.total > res.items.length
        ? h('button#more-orders', { type: 'button', on: { click: () => ((limit += PAGE), refresh()) } }, t('more'))
        : null,
    );
  }
  refresh();
  return { node: wrap, refresh, nav: 'orders' };
}
