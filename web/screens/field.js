// The field and market reports (issue 12), computed on this device by the client core
// (client.field): follow-ups and overdue per rep, visit plans, planned against actual,
// conversion, a market report's competitor-price summary as a printable page, a partner's
// evaluation, a development plan's progress. Tables download as CSV (client.fieldCsv).

import { h, fill } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app, recordHref } from '../kinds.js';

/// The reports of the index screen (#/field), in order.
export const FIELD_REPORTS = ['followups', 'overdue', 'visit-plans', 'planned-vs-actual', 'conversion'];

function table(v, id) {
  if (!v.rows.length) return h('p.empty', { id: `${id}-empty` }, t('no_records'));
  return h(
    'table.rows.field-table',
    { id },
    h('thead', h('tr', v.columns.map((c) => h('th', c)))),
    h('tbody', v.rows.map((r) => h('tr', r.map((cell, i) => h('td', { dataset: { label: v.columns[i] } }, cell))))),
  );
}

function download(name, args) {
  const csv = app.client.fieldCsv(name, JSON.stringify(args), Date.now(), getLang());
  const a = h('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' })), download: `${name}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
}

/// `#/field`: the index; `#/field/NAME[/ID]`: one report.
export function viewField(name, id) {
  const wrap = h('section.field-report');
  const args = id ? { id } : {};
  const week = h('input#field-week', { type: 'week', 'aria-label': t('week') });
  week.addEventListener('change', () => {
    args.week = week.value || undefined;
    refresh();
  });
  function refresh() {
    wrap.dataset.report = name || '';
    if (!name) {
      fill(
        wrap,
        h('h2', t('field_reports')),
        h('nav.more-kinds#field-index', FIELD_REPORTS.map((n) => h('a.button', { href: `#/field/${n}`, dataset: { report: n } }, t(`f:${n}`)))),
      );
      return;
    }
    let v;
    try {
      v = JSON.parse(app.client.field(name, JSON.stringify(args), Date.now(), getLang()));
    } catch (e) {
      fill(wrap, h('p.error', `${t('error')}: ${e && e.message ? e.message : e}`));
      return;
    }
    if (name === 'evaluation') return fill(wrap, evaluation(v, id));
    if (name === 'progress') return fill(wrap, progress(v, id));
    const isReport = name === 'report';
    fill(
      wrap,
      h('div.head', h('h2#field-title', v.title || t(`f:${name}`))),
      h(
        'div.actions.no-print',
        ['visit-plans', 'planned-vs-actual'].includes(name) ? week : null,
        h('button#field-csv', { type: 'button', on: { click: () => download(name, args) } }, t('csv')),
        isReport ? h('button#field-print', { type: 'button', on: { click: () => window.print() } }, t('print')) : null,
        isReport && id ? h('a.button', { href: recordHref('market-report', id) }, t('back')) : null,
      ),
      v.note ? h('p.note#field-note', v.note) : null,
      table(v, 'field-rows'),
    );
  }
  refresh();
  return { node: wrap, refresh, nav: name === 'report' || name === 'evaluation' ? null : 'field' };
}

function evaluation(v, id) {
  const n = (x) => (x === null || x === undefined ? '—' : String(x));
  return [
    h('div.head', h('h2#field-title', t('f:evaluation')), h('a.button', { href: recordHref('partner', id) }, t('back'))),
    h('p#eval-criteria', `${t('criteria_score')}: ${n(v && v.criteria_score)}`),
    v && v.periods && v.periods.length
      ? table(
          {
            columns: [t('quarter'), t('base_score'), t('rewards'), t('penalties'), t('deductions'), t('eval_total')],
            rows: v.periods.map((p) => [p.period, n(p.base), n(p.rewards), n(p.penalties), n(p.deductions), n(p.total)]),
          },
          'eval-periods',
        )
      : h('p.empty', t('no_evaluation')),
    v && v.deductions && v.deductions.length
      ? [
          h('h3', t('deductions')),
          table(
            {
              columns: [t('quarter'), t('violation'), t('points'), t('found_at'), t('territory'), t('product_name')],
              rows: v.deductions.map((d) => [d.period, d.kind, String(d.points), d.at, d.territory, d.product]),
            },
            'eval-deductions',
          ),
        ]
      : null,
  ];
}

function progress(v, id) {
  const targets = (v && v.targets) || [];
  const n = (x) => (x === null || x === undefined ? '—' : String(x));
  return [
    h('div.head', h('h2#field-title', t('f:progress')), h('a.button', { href: recordHref('development-plan', id) }, t('back'))),
    h('p#progress-summary', t('progress_summary', { n: targets.length, contacted: v.contacted, reached: v.reached, ordered: v.ordered })),
    table(
      {
        columns: [t('customer'), t('target_class'), t('class_now'), t('visits'), t('reached'), t('first_order')],
        rows: targets.map((x) => [x.name || '', n(x.target_class), n(x.class_now), String(x.visits), x.reached ? t('yes') : t('no'), n(x.first_order)]),
      },
      'progress-rows',
    ),
  ];
}
