// UI texts in simplified Chinese (default) and English. Domain labels (channels, classes,
// statuses, field names) come from the Rust side, which has them in both languages.

const TEXTS = {
  zh: {
    app: 'jiuloop 销售',
    customers: '客户', orders: '订单', inbox: '被拒修改', me: '我的',
    online: '在线', offline: '离线', connecting: '连接中…', pending: '待发送', last_sync: '上次同步', never: '从未',
    refused_login: '登录已失效，请重新登录', not_logged_in: '未登录',
    login: '登录', user: '用户名', password: '密码', login_failed: '登录失败',
    login_hint: '首次使用请在联网时登录；之后离线也能打开和使用。',
    search: '搜索名称、电话、联系人', all: '全部', class: '分类', channel: '渠道', region: '区域',
    new_customer: '新建客户', edit: '编辑', save: '保存', cancel: '取消', saved: '已保存',
    n_customers: '共 {n} 个客户', n_lines: '{n} 行', showing: '显示前 {n} 个', more: '显示更多',
    contacts: '联系人', add_contact: '添加联系人', contact_name: '姓名', contact_phone: '电话', contact_title: '职务',
    notes: '备注', save_notes: '保存备注', notes_changed: '备注已被别处修改，保存时会合并',
    visits: '拜访记录', log_visit: '记录拜访', no_visits: '暂无拜访记录',
    customer_orders: '订单', new_order: '新建订单', no_orders: '暂无订单',
    visit_kind: '拜访类型', visit_method: '拜访方式', visit_notes: '拜访记录',
    order_source: '订单来源', lines: '订单明细', sku: '产品编码', spec: '规格', qty: '数量',
    unit_price: '单价（元）', amount: '金额', total: '合计', add_line: '添加一行', remove: '删除',
    delivery_date: '交货日期', delivery_place: '交货地点', payment_method: '付款方式',
    status: '状态', timeline: '状态记录', submit_order: '提交订单', cancel_order: '取消订单', created_by: '创建人', created_at: '创建时间', customer: '客户',
    inbox_empty: '没有被拒的修改。', inbox_intro: '服务器拒绝的修改会保留在这里，不会悄悄丢失。',
    rule: '规则', reason: '原因', field: '字段',
    account: '账户', device: '设备', territory: '销售片区', role: '角色', logout: '退出登录', sync_now: '立即同步',
    version: '版本', docs: '本地文档', storage_error: '本地存储出错',
    lang_switch: 'EN', error: '出错了', not_found: '找不到该记录', back: '返回',
    other_tab: '另一个标签页正在同步', this_tab: '本标签页负责同步', loading: '加载中…',
    offline_ready: '已可离线使用', required: '必填',
    product: '选择产品', policy_price: '政策价', discount: '折让', policy_total: '政策价合计',
    priced_with: '按价格政策第 {v} 版离线计算。', no_policy: '尚未同步价格政策，无法核价。',
    approval_needed: '需要{roles}审批', waiting_for: '等待{roles}审批',
    server_verdict: '服务器核价结果', offline_verdict: '离线核价（等待服务器确认）', checked_at: '核验于', policy_version: '政策版本',
    stale_policy: '下单时使用的价格政策（第 {a} 版）已过期，服务器按第 {b} 版核价', verdict_outdated: '订单已修改，服务器正在重新核价',
    approvals: '待审批', approvals_empty: '没有待您审批的订单。', approve: '批准', reject: '驳回', comment: '审批意见',
    unsent: '未发送', choose: '请选择', search_kind: '搜索{kind}', yes: '是', no: '否',
    n_records: '共 {n} 条', no_records: '暂无记录', new_record: '新建{kind}', recorded: '记录于',
    not_saved: '未保存：请修改标出的内容。', no_changes: '没有修改', no_customer_first: '请先选择{kind}',
    'new:competitor-observation': '记录竞品', 'nav:competitor-observation': '竞品',
    'new:complaint': '登记投诉', 'nav:complaint': '售后投诉', complaint_queue: '售后投诉（按剩余时限排序）', queue_all: '含已解决',
    'nav:revisit-task': '回访任务', 'nav:care-event': '关怀日历', 'nav:quality-issue': '质量问题',
    ship_order: '发货', carrier: '承运商', tracking: '运单号', batch: '批次号',
    complaint_history: '处理经过', waiting_customer: '等待客户回复', escalated_to: '已升级至',
  },
  en: {
    app: 'jiuloop Sales',
    customers: 'Customers', orders: 'Orders', inbox: 'Refused edits', me: 'Me',
    online: 'Online', offline: 'Offline', connecting: 'Connecting…', pending: 'Waiting to send', last_sync: 'Last synced', never: 'never',
    refused_login: 'This login is no longer valid: please log in again', not_logged_in: 'Not logged in',
    login: 'Log in', user: 'User name', password: 'Password', login_failed: 'Login failed',
    login_hint: 'Log in once while online; after that the app opens and works offline.',
    search: 'Search name, phone, contact', all: 'All', class: 'Class', channel: 'Channel', region: 'Region',
    new_customer: 'New customer', edit: 'Edit', save: 'Save', cancel: 'Cancel', saved: 'Saved',
    n_customers: '{n} customers', n_lines: '{n} lines', showing: 'showing the first {n}', more: 'Show more',
    contacts: 'Contacts', add_contact: 'Add contact', contact_name: 'Name', contact_phone: 'Phone', contact_title: 'Title',
    notes: 'Notes', save_notes: 'Save notes', notes_changed: 'The notes changed elsewhere; saving merges both',
    visits: 'Visits', log_visit: 'Log a visit', no_visits: 'No visits yet',
    customer_orders: 'Orders', new_order: 'New order', no_orders: 'No orders yet',
    visit_kind: 'Kind', visit_method: 'Method', visit_notes: 'Notes',
    order_source: 'Source', lines: 'Lines', sku: 'SKU', spec: 'Spec', qty: 'Qty',
    unit_price: 'Unit price (yuan)', amount: 'Amount', total: 'Total', add_line: 'Add a line', remove: 'Remove',
    delivery_date: 'Delivery date', delivery_place: 'Delivery place', payment_method: 'Payment method',
    status: 'Status', timeline: 'Status timeline', submit_order: 'Submit order', cancel_order: 'Cancel order', created_by: 'Created by', created_at: 'Created', customer: 'Customer',
    inbox_empty: 'No refused edits.', inbox_intro: 'Edits the server refused stay here; nothing is lost silently.',
    rule: 'Rule', reason: 'Reason', field: 'Field',
    account: 'Account', device: 'Device', territory: 'Territory', role: 'Role', logout: 'Log out', sync_now: 'Sync now',
    version: 'Version', docs: 'Local documents', storage_error: 'Local storage error',
    lang_switch: '中文', error: 'Error', not_found: 'Not found', back: 'Back',
    other_tab: 'Another tab is syncing', this_tab: 'This tab syncs', loading: 'Loading…',
    offline_ready: 'Works offline', required: 'required',
    product: 'Pick a product', policy_price: 'Policy price', discount: 'Discount', policy_total: 'Total at policy prices',
    priced_with: 'Priced offline with price policy version {v}.', no_policy: 'No price policy synced yet: prices cannot be checked.',
    approval_needed: 'Approval needed by {roles}', waiting_for: 'Waiting for approval by {roles}',
    server_verdict: "Server's price check", offline_verdict: 'Offline price check (the server will confirm)', checked_at: 'checked', policy_version: 'policy version',
    stale_policy: 'Priced with policy version {a}, which is out of date; the server checked it with version {b}', verdict_outdated: 'The order changed since; the server is re-checking it',
    approvals: 'Approvals', approvals_empty: 'No orders wait for your approval.', approve: 'Approve', reject: 'Reject', comment: 'Comment',
    unsent: 'Not sent yet', choose: 'Choose', search_kind: 'Search {kind}', yes: 'Yes', no: 'No',
    n_records: '{n} records', no_records: 'None yet', new_record: 'New {kind}', recorded: 'Recorded',
    not_saved: 'Nothing was saved: please correct the marked fields.', no_changes: 'Nothing changed', no_customer_first: 'Choose the {kind} first',
    'new:competitor-observation': 'Record competitor price', 'nav:competitor-observation': 'Competitors',
    'new:complaint': 'File a complaint', 'nav:complaint': 'Complaints', complaint_queue: 'Complaints (by SLA time left)', queue_all: 'resolved too',
    'nav:revisit-task': 'Revisits', 'nav:care-event': 'Care calendar', 'nav:quality-issue': 'Quality',
    ship_order: 'Ship', carrier: 'Carrier', tracking: 'Tracking number', batch: 'Batch number',
    complaint_history: 'What happened', waiting_customer: 'waiting on the customer', escalated_to: 'Escalated to',
  },
};

let lang = (typeof localStorage !== 'undefined' && localStorage.getItem('jiuloop.lang')) || 'zh';
if (!TEXTS[lang]) lang = 'zh';

export function getLang() { return lang; }

export function setLang(l) {
  lang = TEXTS[l] ? l : 'zh';
  localStorage.setItem('jiuloop.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

/// Is there a text for `key` (optional texts: a kind's short name, its action)?
export function has(key) {
  return !!(TEXTS[lang] && TEXTS[lang][key]) || !!TEXTS.zh[key];
}

export function t(key, vars) {
  let s = (TEXTS[lang] && TEXTS[lang][key]) || TEXTS.zh[key] || key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}
