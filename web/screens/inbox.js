// Edits the server refused: kept with the reason, never lost silently.

import { h, fill } from '../ui.js';
import { t, getLang } from '../i18n.js';
import { app } from '../kinds.js';

export function viewInbox() {
  const wrap = h('section.inbox');
  function refresh() {
    const items = JSON.parse(app.client.inbox(getLang()));
    fill(
      wrap,
      h('h2', t('inbox')),
      h('p.hint', t('inbox_intro')),
      items.length
        ? h(
            'ul#inbox-list.list',
            items.map((i) =>
              h(
                'li.inbox-item',
                h('div', h('strong', i.doc_name || `${i.kind} ${i.doc.slice(0, 8)}`), h('span.meta', ` ${i.at_local}`)),
                h('p', `${t('reason')}: ${i.message}`),
                h('p.meta', `${t('field')}: ${i.field_label || i.path || '—'} · ${t('rule')}: ${i.rule} · ${i.code}`),
              ),
            ),
          )
        : h('p.empty#inbox-empty', t('inbox_empty')),
    );
  }
  refresh();
  return { node: wrap, refresh };
}
