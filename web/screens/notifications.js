// What this user is told — approvals waiting, orders to confirm or ship, decisions on
// their own orders — derived by the client core from the documents held here; which ones
// were read is kept in the profile (IndexedDB meta). Opening one marks it read.

import { h, fill } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';

export function viewNotifications() {
  const wrap = h('section.notifications');
  function refresh() {
    const n = JSON.parse(app.client.notifications(getLang()));
    fill(
      wrap,
      h(
        'div.head',
        h('h2', t('notifications')),
        n.unread ? h('span.badge#notif-unread', String(n.unread)) : null,
        n.unread ? h('button#mark-all-read', { type: 'button', on: { click: () => app.client.markRead('all') } }, t('mark_all_read')) : null,
      ),
      n.items.length
        ? h(
            'ul#notification-list.list',
            n.items.map((i) =>
              h(
                'li.notification',
                { dataset: { id: i.id, kind: i.kind, order: i.order, read: i.read ? 'true' : 'false' }, class: i.read ? 'read' : 'unread' },
                h(
                  'a.row-link',
                  { href: `#/order/${i.order}`, on: { click: () => app.client.markRead(JSON.stringify([i.id])) } },
                  i.read ? null : h('span.dot.unread-dot', { title: t('unread') }),
                  h('strong', t(`n:${i.kind}`, { customer: i.customer_name || '?', total: i.total, by: i.by })),
                  i.comment ? h('q.comment', i.comment) : null,
                  h('span.meta', ` ${i.at_local} · ${i.status_label}`),
                ),
              ),
            ),
          )
        : h('p.empty#notifications-empty', t('notifications_empty')),
    );
  }
  refresh();
  return { node: wrap, refresh, nav: 'notifications' };
}
