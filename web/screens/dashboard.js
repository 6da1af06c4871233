// The sales dashboard (issue 13) for managers, executives, finance and market: this
// period's revenue, volume, new customers, visits and complaints, a revenue trend, the
// breakdown by rep / territory / channel / series / SKU and the A/B/C conversion funnel,
// with filters. Every figure comes from the server's read model
// (GET /api/analytics/INDICATOR, checked against the session: a manager sees their
// team's territories); the charts are uPlot (web/vendor/uplot, MIT).

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, fill, select } from '../ui.js';
import { t } from '../i18n.js';
import { apiGet } from '../api.js';

export const DASHBOARD_ROLES = ['manager', 'executive', 'finance', 'market', 'admin'];

const yuan = (fen) => `¥${(fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const pct = (bp) => `${(bp / 100).toFixed(2)}%`;

function thisYear() {
  // The current year in Asia/Shanghai.
  const y = new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
  return { from: `${y}-01-01`, to: `${y}-12-31` };
}

let state = null;

function sums(table) {
  const out = table.columns.map(() => 0);
  for (const r of table.rows) r.values.forEach((v, i) => (out[i] += v));
  return out;
}

function column(table, name) {
  return table.columns.findIndex((c) => c.name === name);
}

/// A uPlot chart of `labels` (x) and series of values; bars when `bars`.
function chart(id, labels, series, { bars = false, width = 560, height = 240 } = {}) {
  const box = h('div.chart', { id });
  const xs = labels.map((_, i) => i);
  const colors = ['#b22222', '#1f6feb', '#2da44e', '#bf8700', '#8250df'];
  const opts = {
    width,
    height,
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { values: (u, splits) => splits.map((s) => (Number.isInteger(s) && labels[s] !== undefined ? labels[s] : '')) },
      { size: 70 },
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: colors[i % colors.length],
        fill: bars ? colors[i % colors.length] + '99' : null,
        width: 2,
        paths: bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined,
        points: { show: !bars },
      })),
    ],
  };
  const data = [xs, ...series.map((s) => s.values)];
  // Drawn once the box is in the document (uPlot measures its container).
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    box.replaceChildren();
    const w = Math.max(280, Math.min(width, box.parentElement ? box.parentElement.clientWidth - 16 : width));
    new uPlot({ ...opts, width: w }, data, box);
    box.dataset.drawn = 'true';
  });
  return box;
}

function query(extra) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...state.filters, ...extra })) if (v) p.set(k, v);
  return p.toString();
}

async function load(wrap) {
  const body = wrap.querySelector('#dash-body');
  fill(body, h('p#dash-loading', t('loading')));
  try {
    const period = state.filters.period;
    const [trend, by, volume, fresh, conv, complaints, visits] = await Promise.all([
      apiGet(`/api/analytics/revenue?${query({})}`),
      apiGet(`/api/analytics/revenue?${query({ by: state.by, period: 'year' })}`),
      apiGet(`/api/analytics/volume?${query({})}`),
      apiGet(`/api/analytics/new_customers?${query({ series: '', sku: '' })}`).catch(() => null),
      apiGet(`/api/analytics/conversion?${query({ series: '', sku: '' })}`).catch(() => null),
      apiGet(`/api/analytics/complaints?${query({ series: '', sku: '' })}`).catch(() => null),
      apiGet(`/api/analytics/visits?${query({ series: '', sku: '' })}`).catch(() => null),
    ]);
    const rev = sums(trend);
    const vol = sums(volume);
    const keys = new Map();
    for (const r of by.rows) keys.set(r.key || t('dash_all'), (keys.get(r.key || t('dash_all')) || 0) + r.values[0]);
    const breakdown = [...keys.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
    const tiles = [
      ['dash-revenue', t('dash_revenue'), yuan(rev[0])],
      ['dash-orders', t('dash_orders'), String(rev[1])],
      ['dash-bottles', t('dash_bottles'), `${vol[0]}`],
      ['dash-cases', t('dash_cases'), (vol[1] / 100).toFixed(2)],
      fresh ? ['dash-new', t('dash_new_customers'), String(sums(fresh)[0])] : null,
      visits ? ['dash-visits', t('dash_visits'), String(sums(visits)[0])] : null,
      complaints
        ? ['dash-breach', t('dash_breach_rate'), (() => {
            const s = sums(complaints);
            const breached = complaints.rows.reduce((a, r) => a + Math.round((r.values[5] * r.values[0]) / 10000), 0);
            return s[0] ? pct(Math.floor((breached * 10000) / s[0])) : '—';
          })()]
        : null,
    ].filter(Boolean);
    const c = conv ? sums(conv) : null;
    fill(
      body,
      h('div.tiles', tiles.map(([id, label, value]) => h('div.tile', h('span.tile-label', label), h('strong', { id }, value)))),
      h(
        'div.charts',
        h('figure', h('figcaption', t('dash_trend', { period: t(`period_${period}`) })),
          chart('chart-trend', trend.rows.map((r) => r.period), [
            { label: t('dash_revenue_yuan'), values: trend.rows.map((r) => r.values[0] / 100) },
            { label: t('dash_previous'), values: trend.rows.map((r) => (r.previous[0] ?? 0) / 100) },
          ])),
        h('figure', h('figcaption', t('dash_by', { by: t(`by_${state.by}`) })),
          chart('chart-breakdown', breakdown.map(([k]) => k), [{ label: t('dash_revenue_yuan'), values: breakdown.map(([, v]) => v / 100) }], { bars: true })),
        c
          ? h('figure', h('figcaption', t('dash_funnel')),
              chart('chart-funnel', [t('dash_to_c'), t('dash_to_b'), t('dash_to_a')], [{ label: t('dash_customers'), values: [c[column(conv, 'to_c')], c[column(conv, 'to_b')], c[column(conv, 'to_a')]] }], { bars: true, height: 200 }))
          : null,
      ),
      h(
        'table.rows#dash-table',
        h('thead', h('tr', h('th', t(`by_${state.by}`)), h('th', t('dash_revenue')))),
        h('tbody', breakdown.map(([k, v]) => h('tr', { dataset: { key: k } }, h('td', k), h('td.num', yuan(v))))),
      ),
    );
    wrap.dataset.loaded = String(Date.now());
  } catch (e) {
    fill(body, h('p.error#dash-error', e.status === 403 ? t('dash_forbidden') : `${t('error')}: ${e.message}`));
  }
}

export function viewDashboard() {
  if (!state) state = { filters: { period: 'month', ...thisYear(), territory: '', channel: '', series: '', rep: '' }, by: 'rep' };
  const wrap = h('section.dashboard#dashboard');
  const input = (id, key, type = 'text') =>
    h('label', h('span', t(`dash_${key}`)), h('input', { id, type, value: state.filters[key], on: { change: (e) => { state.filters[key] = e.target.value.trim(); load(wrap); } } }));
  const periods = ['day', 'week', 'month', 'quarter', 'year'].map((p) => ({ value: p, label: t(`period_${p}`) }));
  const dims = ['rep', 'territory', 'region', 'channel', 'series', 'sku'].map((d) => ({ value: d, label: t(`by_${d}`) }));
  const periodSel = select('dash-period', periods, state.filters.period);
  periodSel.addEventListener('change', (e) => { state.filters.period = e.target.value; load(wrap); });
  const bySel = select('dash-by', dims, state.by);
  bySel.addEventListener('change', (e) => { state.by = e.target.value; load(wrap); });
  fill(
    wrap,
    h('div.head', h('h2', t('dashboard'))),
    h(
      'form.filters#dash-filters',
      { on: { submit: (e) => { e.preventDefault(); load(wrap); } } },
      h('label', h('span', t('dash_period')), periodSel),
      input('dash-from', 'from', 'date'),
      input('dash-to', 'to', 'date'),
      h('label', h('span', t('dash_breakdown')), bySel),
      input('dash-territory', 'territory'),
      input('dash-channel', 'channel'),
      input('dash-series', 'series'),
      input('dash-rep', 'rep'),
    ),
    h('div#dash-body'),
  );
  load(wrap);
  return { node: wrap, nav: 'dashboard' };
}
