// The account: who is logged in, this device, the sync state; logging out locks the data
// on this device (and may wipe it).

import { h, fill, confirmButton, toast } from '../ui.js';
import { t } from '../i18n.js';
import { app, genericKinds, listHref, navLabel, kindSpec } from '../kinds.js';
import { DASHBOARD_ROLES } from './dashboard.js';
import { version } from '../pkg/jiuloop_wasm.js';
import { wipe } from './login.js';

export function viewMe(session) {
  const wrap = h('section.me');
  function refresh() {
    const s = JSON.parse(app.client.status());
    const row = (k, v) => [h('dt', k), h('dd', v ?? '—')];
    fill(
      wrap,
      h('h2', t('account')),
      // Every kind without a screen of its own (on a phone they are not in the bar).
      genericKinds().length
        ? h('nav.more-kinds', { 'aria-label': t('more_kinds') }, genericKinds().map((k) => h('a.button', { href: listHref(k.name) }, navLabel(k))))
        : null,
      // The screens a phone's bar leaves out.
      h(
        'nav.more-kinds#me-screens',
        kindSpec('expense-claim') ? h('a.button', { href: '#/expenses' }, t('expenses')) : null,
        kindSpec('contract') ? h('a.button', { href: '#/contracts' }, t('contracts')) : null,
        DASHBOARD_ROLES.includes(session.role) ? h('a.button', { href: '#/dashboard' }, t('dashboard')) : null,
      ),
      ['manager', 'market', 'executive', 'admin'].includes(session.role)
        ? h('nav.more-kinds#me-field', h('a.button', { href: '#/field' }, t('field_reports')))
        : null,
      h(
        'dl.facts',
        row(t('user'), session.user),
        row(t('role'), session.role),
        row(t('territory'), (session.territories || []).join('、')),
        row(t('device'), app.client.deviceId()),
        row(t('docs'), s.docs),
        row(t('pending'), s.pending),
        row(t('last_sync'), s.last_sync_local || t('never')),
        row('', s.leader ? t('this_tab') : t('other_tab')),
        s.error ? row(t('error'), s.error) : null,
        row(t('version'), version()),
      ),
      h(
        'div.actions',
        h('button#sync-now', { type: 'button', on: { click: () => app.client.syncNow() } }, t('sync_now')),
        h('a.button#inbox-open', { href: '#/inbox' }, `${t('inbox')} ${s.inbox}`),
        h('button#logout', { type: 'button', on: { click: () => logout(false) } }, t('logout')),
        confirmButton({
          id: 'logout-wipe',
          label: t('logout_wipe'),
          confirmLabel: t('wipe_confirm'),
          question: s.pending ? t('wipe_unsent', { n: s.pending }) : null,
          run: () => logout(true),
        }),
      ),
    );
  }
  async function logout(andWipe) {
    const token = await app.client.logout();
    // Tell the server when it can be reached; the token is forgotten locally either way.
    if (token) {
      fetch(new URL('api/logout', location.href), { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {});
    }
    if (andWipe) {
      await wipe();
      toast(t('wiped'));
    }
    app.go('#/login');
  }
  refresh();
  return { node: wrap, refresh };
}
