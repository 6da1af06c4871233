//! Human-readable output in simplified Chinese (default) or English, and `--json`.

use client_core::InboxItem;
use client_core::OrderView;
use jiuloop_cli::SyncReport;
use protocol::kinds::{FieldSpec, FieldType, Grants, Scope};
use protocol::pricing::{PricedOrder, format_bp};
use protocol::schema::EventKind;
use protocol::schema::Lang;
use protocol::schema::customer::Customer;
use protocol::schema::order::{Order, format_fen};
use protocol::schema::policy_doc::PublishedPolicy;
use protocol::schema::record::{self, FieldValue, Record, display_value};
use protocol::schema::visit::Visit;
use protocol::time::display_local;
use protocol::{DocId, DocKind};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// A table for people: columns padded to their widest cell by display width (a Chinese
/// character takes two columns), two spaces apart. A cell may hold several lines (they
/// stack, the other cells of the row stay empty below); tabs and other control
/// characters become spaces so a value can never break the layout.
#[derive(Default)]
pub struct Table {
    indent: usize,
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first line names the columns.
    pub fn with_header<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table { header: Some(header.into_iter().map(Into::into).collect()), ..Table::default() }
    }

    /// A table without a header line (label/value pairs).
    pub fn plain() -> Self {
        Table::default()
    }

    /// Every line starts with this many spaces.
    pub fn indent(mut self, spaces: usize) -> Self {
        self.indent = spaces;
        self
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The lines of the table, each without trailing spaces.
    pub fn render(&self) -> Vec<String> {
        let clean = |cell: &str| -> Vec<String> {
            cell.lines()
                .map(|l| l.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>())
                .collect::<Vec<_>>()
        };
        let rows: Vec<Vec<Vec<String>>> =
            self.header.iter().chain(&self.rows).map(|r| r.iter().map(|c| clean(c)).collect()).collect();
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.iter().map(|l| l.width()).max().unwrap_or(0));
            }
        }
        let mut out = Vec::new();
        for row in &rows {
            let height = row.iter().map(Vec::len).max().unwrap_or(0).max(1);
            for k in 0..height {
                let mut line = " ".repeat(self.indent);
                for (i, cell) in row.iter().enumerate() {
                    let text = cell.get(k).map(String::as_str).unwrap_or("");
                    line.push_str(text);
                    if i + 1 < row.len() {
                        line.push_str(&" ".repeat(widths[i] - text.width() + 2));
                    }
                }
                out.push(line.trim_end().to_string());
            }
        }
        out
    }

    pub fn print(&self) {
        for line in self.render() {
            println!("{line}");
        }
    }
}

pub struct Out {
    lang: Lang,
}

/// (key, 中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("error", "错误", "error"),
    ("logged-in", "已登录：{user}", "logged in as {user}"),
    ("tls-failed", "无法与 {server} 建立安全连接", "cannot connect securely to {server}"),
    (
        "tls-unknown-ca",
        "服务器证书不是本机信任的机构签发的（公司自己的 CA 请用 login --ca 文件 指定）",
        "the server's certificate is not signed by a CA this device trusts (a company CA: login --ca FILE)",
    ),
    (
        "tls-wrong-host",
        "服务器证书上的主机名与地址中的不符",
        "the server's certificate is for another host name than the one in the URL",
    ),
    (
        "tls-expired",
        "服务器证书已过期或尚未生效（请检查本机时间）",
        "the server's certificate has expired or is not valid yet (check this device's clock)",
    ),
    (
        "tls-not-tls",
        "该地址上的服务器不使用 TLS（试试 http:// 或其他端口）",
        "the server at that address does not speak TLS (try http:// or another port)",
    ),
    ("tls-other", "TLS 握手失败", "the TLS handshake failed"),
    ("logged-out", "已退出登录", "logged out"),
    (
        "logged-out-locally",
        "已在本机退出登录，但未能通知服务器",
        "logged out on this device; the server could not be told",
    ),
    (
        "profile-refused",
        "配置目录 {path} 中的本地数据库已损坏或属于其他程序，未作任何改动；请移走该文件或换用其他 --profile",
        "the local database in profile {path} is damaged or belongs to another program; it was left untouched — move it away or use another --profile",
    ),
    (
        "storage-full",
        "服务器磁盘已满：本次修改未保存到服务器（仍保存在本机），请稍后再同步（storage_full）",
        "the server's disk is full: your changes were not stored there (they are kept on this device); sync again later (storage_full)",
    ),
    (
        "synced",
        "同步完成：发送 {pushed} 个文档，收到 {received} 个文档",
        "synced: sent {pushed} documents, received {received}",
    ),
    (
        "refused",
        "有 {n} 项修改被服务器拒绝，见 jiuloop inbox",
        "{n} edits were refused by the server, see jiuloop inbox",
    ),
    ("id", "编号", "Id"),
    ("no-customers", "（没有客户）", "(no customers)"),
    ("no-visits", "（没有拜访记录）", "(no visits)"),
    ("no-orders", "（没有订单）", "(no orders)"),
    ("inbox-empty", "没有被拒绝的修改", "no refused edits"),
    ("contacts", "联系人", "Contacts"),
    ("class-history", "分类变更", "Class changes"),
    ("visits", "拜访记录", "Visits"),
    ("orders", "订单", "Orders"),
    ("lines", "订单明细", "Lines"),
    ("total", "合计（元）", "Total (CNY)"),
    ("status", "状态", "Status"),
    ("customer", "客户", "Customer"),
    ("created", "创建", "Created"),
    ("user", "用户", "User"),
    ("server", "服务器", "Server"),
    ("documents", "本地文档", "Local documents"),
    ("pending", "待发送", "Waiting to send"),
    ("last-sync", "上次同步", "Last sync"),
    ("never", "从未", "never"),
    ("inbox", "被拒绝的修改", "Refused edits"),
    ("no-policy", "本机还没有价格体系，请先同步", "no price policy on this device yet: sync first"),
    ("preview", "离线价格预览", "Offline price preview"),
    ("verdict", "服务器校验", "Server verdict"),
    ("not-checked", "尚未校验", "not checked yet"),
    ("rechecking", "内容已修改，待重新校验", "content changed since; to be re-checked"),
    ("policy", "价格体系", "policy"),
    ("policy-price", "政策价", "policy price"),
    ("stale", "下单时使用旧版", "priced with old"),
    ("paid", "已确认收款", "Payment confirmed"),
    ("exception", "异常", "Exception"),
    ("timeline", "流程记录", "Timeline"),
    ("upcoming", "即将生效的调价", "Upcoming price changes"),
    ("no-approvals", "没有待审批的订单", "no orders waiting for your approval"),
    // The generic commands (generic.rs).
    ("no-records", "（没有{kind}）", "(no {kind} records)"),
    ("unknown-kind", "没有“{kind}”这种记录（可用：{kinds}）", "no kind of record '{kind}' (kinds: {kinds})"),
    (
        "not-creatable",
        "{kind}（{name}）不能用 jiuloop new 创建",
        "{kind} ({name}) records are not created with jiuloop new",
    ),
    (
        "bad-assignment",
        "“{arg}”应写成 字段=值（例如 brand=五粮液；字段见 jiuloop kinds）",
        "'{arg}' is not FIELD=VALUE (e.g. brand=Wuliangye; fields: jiuloop kinds)",
    ),
    (
        "no-record",
        "本机没有编号为 {id} 的记录（或不止一条以它开头）",
        "no record {id} on this device (or several start with it)",
    ),
    ("bad-id", "“{id}”不是记录编号", "'{id}' is not a record id"),
    ("nothing-to-set", "请给出要修改的字段：字段=值", "give the fields to set: FIELD=VALUE"),
    ("exists", "{kind}已存在", "the {kind} record exists already"),
    (
        "refused-role-create",
        "{role}不能新建{kind}（{name}，规则 {rule}）",
        "role {role} may not create {kind} records ({name}, rule {rule})",
    ),
    (
        "refused-role-field",
        "{role}不能修改{kind}的{field}（规则 {rule}）",
        "role {role} may not change {field} of a {kind} (rule {rule})",
    ),
    (
        "refused-territory-create",
        "只能在自己负责的区域内新建{kind}（{name}，规则 {rule}）",
        "{kind} records ({name}) may be created only in your own territory (rule {rule})",
    ),
    (
        "refused-territory-field",
        "不能修改自己负责区域以外的{kind}的{field}（规则 {rule}）",
        "{field} of a {kind} outside your territory may not be changed (rule {rule})",
    ),
    (
        "refused-create-only",
        "{field}只能在创建时填写（规则 {rule}）",
        "{field} is set when the record is created (rule {rule})",
    ),
    (
        "refused-needs-supplement",
        "超出该项目本月的预算剩余，不能批准：须先由总经理批准一份覆盖超出部分的费用追加申请（规则 {rule}）",
        "{message} (rule {rule})",
    ),
    (
        "refused-claim-needs-supplement",
        "报销金额超出该项目本月的预算剩余，不能报销：须先由总经理批准一份覆盖超出部分的费用追加申请（规则 {rule}）",
        "{message} (rule {rule})",
    ),
    ("refused-other", "不允许：{message}（规则 {rule}）", "not allowed: {message} (rule {rule})"),
    ("field", "字段", "Field"),
    ("label", "名称", "Label"),
    ("type", "类型", "Type"),
    ("required", "必填", "Required"),
    ("settable", "填写", "Set"),
    ("values", "可选值 / 引用", "Values / refers to"),
    ("yes", "是", "yes"),
    ("at-creation", "创建时", "at creation"),
    ("any-time", "随时", "any time"),
    ("settable-never", "—", "—"),
    ("readers", "读取", "Read by"),
    ("creators", "新建", "Created by"),
    ("nobody", "无", "nobody"),
    ("server-only", "仅服务器写入", "written by the server only"),
    ("scope-territory", "本区域", "territory"),
    ("scope-own", "本人", "own"),
    ("scope-all", "全部", "all"),
];

impl Out {
    pub fn new(lang: Lang) -> Self {
        Out { lang }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn t(&self, key: &str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh, en)| if self.lang == Lang::Zh { *zh } else { *en })
            .unwrap_or("?")
    }

    fn label(&self, kind: DocKind, field: &str) -> &'static str {
        kind.spec().field(field).map(|f| f.label(self.lang)).unwrap_or("?")
    }

    pub fn json<T: Serialize + ?Sized>(&self, v: &T) {
        println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
    }

    pub fn sync_summary(&self, r: &SyncReport) {
        println!(
            "{}",
            self.t("synced")
                .replace("{pushed}", &r.stats.pushed_docs.to_string())
                .replace("{received}", &r.stats.received_docs.to_string())
        );
        if r.stats.refused > 0 {
            println!("{}", self.t("refused").replace("{n}", &r.stats.refused.to_string()));
        }
    }

    pub fn status(&self, s: &serde_json::Value) {
        let text = |k: &str| s[k].as_str().map(str::to_string).unwrap_or_else(|| s[k].to_string());
        println!("{}: {}", self.t("user"), text("user"));
        println!("{}: {}", self.t("server"), text("server"));
        println!("{}: {}", self.t("documents"), text("documents"));
        println!("{}: {}", self.t("pending"), text("pending_docs"));
        let last = s["last_sync"]
            .as_str()
            .and_then(protocol::time::parse_rfc3339)
            .map(display_local)
            .unwrap_or_else(|| self.t("never").to_string());
        println!("{}: {}", self.t("last-sync"), last);
        println!("{}: {}", self.t("inbox"), text("inbox"));
    }

    pub fn inbox(&self, items: &[InboxItem]) {
        if items.is_empty() {
            println!("{}", self.t("inbox-empty"));
        }
        for i in items {
            println!(
                "{}  {} {}  {}  {} ({}, {})",
                display_local(i.at),
                i.kind,
                i.doc,
                i.path,
                i.message,
                i.code,
                i.rule
            );
        }
    }

    pub fn customers(&self, all: &[Customer]) {
        if all.is_empty() {
            println!("{}", self.t("no-customers"));
            return;
        }
        let k = DocKind::Customer;
        let mut table = Table::with_header(
            [self.t("id")].into_iter().chain(["name", "class", "channel", "region", "owner"].map(|f| self.label(k, f))),
        );
        for c in all {
            table.row([
                c.id.to_string(),
                c.name.clone(),
                c.class.map(|c| c.as_str()).unwrap_or("-").to_string(),
                c.channel.map(|c| c.label(self.lang)).unwrap_or("-").to_string(),
                c.region.clone().unwrap_or_else(|| "-".into()),
                c.owner.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        table.print();
    }

    pub fn customer(&self, c: &Customer, visits: &[Visit], orders: &[Order]) {
        let k = DocKind::Customer;
        println!("{}  {}", c.id, c.name);
        let rows = [
            ("phone", c.phone.clone()),
            ("address", c.address.clone()),
            ("region", c.region.clone()),
            ("channel", c.channel.map(|v| v.label(self.lang).to_string())),
            ("business_scope", c.business_scope.clone()),
            ("purchase_intention", c.purchase_intention.clone()),
            ("purchasing_power", c.purchasing_power.clone()),
            ("class", c.class.map(|v| v.label(self.lang).to_string())),
            ("owner", c.owner.clone()),
            ("next_follow_up", c.next_follow_up.clone()),
        ];
        for (field, value) in rows {
            if let Some(v) = value {
                println!("  {}: {}", self.label(k, field), v);
            }
        }
        if !c.notes.is_empty() {
            println!("  {}: {}", self.label(k, "notes"), c.notes);
        }
        if !c.contacts.is_empty() {
            println!("  {}:", self.t("contacts"));
            for ct in &c.contacts {
                println!(
                    "    {}  {}  {}",
                    ct.name,
                    ct.phone.as_deref().unwrap_or("-"),
                    ct.title.as_deref().unwrap_or("")
                );
            }
        }
        if !c.class_history.is_empty() {
            println!("  {}:", self.t("class-history"));
            for h in &c.class_history {
                let from = h.from.map(|f| f.as_str()).unwrap_or("-");
                println!("    {}  {} → {}  {}", display_local(h.at), from, h.to, h.by);
            }
        }
        println!("  {}: {}", self.t("created"), display_local(c.created_at));
        println!("  {}:", self.t("visits"));
        self.visits(visits);
        let mine: Vec<Order> = orders.iter().filter(|o| o.customer == Some(c.id)).cloned().collect();
        println!("  {}:", self.t("orders"));
        self.orders(&mine);
    }

    pub fn visits(&self, visits: &[Visit]) {
        if visits.is_empty() {
            println!("    {}", self.t("no-visits"));
            return;
        }
        let k = DocKind::Visit;
        let mut table = Table::with_header(
            [self.t("id")].into_iter().chain(["at", "kind", "rep", "notes"].map(|f| self.label(k, f))),
        )
        .indent(4);
        for v in visits {
            table.row([
                v.id.to_string(),
                display_local(v.at),
                v.kind.map(|k| k.label(self.lang)).unwrap_or("-").to_string(),
                v.rep.clone(),
                v.notes.clone(),
            ]);
        }
        table.print();
    }

    pub fn orders(&self, orders: &[Order]) {
        let rows: Vec<OrderRow> = orders
            .iter()
            .map(|o| OrderRow {
                id: o.id.to_string(),
                created_at: o.created_at,
                status: o.status,
                total_fen: o.total_fen,
                created_by: o.created_by.clone(),
            })
            .collect();
        self.order_rows(&rows)
    }

    /// The orders table (`order list`, a customer's orders).
    pub fn order_rows(&self, orders: &[OrderRow]) {
        if orders.is_empty() {
            println!("    {}", self.t("no-orders"));
            return;
        }
        let k = DocKind::Order;
        let mut table = Table::with_header([
            self.t("id"),
            self.label(k, "created_at"),
            self.t("status"),
            self.t("total"),
            self.label(k, "created_by"),
        ])
        .indent(4);
        for o in orders {
            table.row([
                o.id.clone(),
                display_local(o.created_at),
                o.status.label(self.lang).to_string(),
                format!("¥{}", format_fen(o.total_fen)),
                o.created_by.clone(),
            ]);
        }
        table.print();
    }

    pub fn order(&self, view: &OrderView, customer: Option<&str>) {
        let o = &view.order;
        let l = &view.lifecycle;
        println!("{}  {}", o.id, l.status.label(self.lang));
        println!("  {}: {}", self.t("customer"), customer.unwrap_or("?"));
        let k = DocKind::Order;
        let rows = [
            ("source", o.source.map(|v| v.label(self.lang).to_string())),
            ("delivery_date", o.delivery_date.clone()),
            ("delivery_place", o.delivery_place.clone()),
            ("payment_method", o.payment_method.map(|v| v.label(self.lang).to_string())),
        ];
        for (field, value) in rows {
            if let Some(v) = value {
                println!("  {}: {}", self.label(k, field), v);
            }
        }
        println!("  {}:", self.t("lines"));
        for line in &o.lines {
            println!(
                "    {}  {}  × {}  ¥{}  = ¥{}",
                line.sku,
                line.spec.as_deref().unwrap_or(""),
                line.qty,
                format_fen(line.unit_price_fen),
                format_fen(line.amount_fen)
            );
        }
        println!("  {}: ¥{}", self.t("total"), format_fen(o.total_fen));
        if let Some(p) = &view.priced {
            println!("  {}:", self.t("preview"));
            self.priced_body(p);
        }
        match &view.verdict {
            Some(v) => println!(
                "  {}: {} ({} v{}{}){}",
                self.t("verdict"),
                v.verdict,
                self.t("policy"),
                v.policy_version,
                if v.stale { format!(", {} v{}", self.t("stale"), v.priced_with) } else { String::new() },
                if view.verdict_current { String::new() } else { format!(" — {}", self.t("rechecking")) }
            ),
            None => println!("  {}: {}", self.t("verdict"), self.t("not-checked")),
        }
        if l.paid {
            println!("  {}", self.t("paid"));
        }
        for ex in &l.open_exceptions {
            println!(
                "  {}: {} {}",
                self.t("exception"),
                ex.exception.as_deref().unwrap_or(""),
                ex.comment.as_deref().unwrap_or("")
            );
        }
        println!("  {}:", self.t("timeline"));
        for t in &l.timeline {
            let kind = t.event.kind.parse::<EventKind>().map(|k| k.label(self.lang)).unwrap_or(t.event.kind.as_str());
            let extra = [&t.event.carrier, &t.event.tracking, &t.event.exception, &t.event.comment]
                .iter()
                .filter_map(|x| x.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            let mark = if t.applied { "" } else { " ✗" };
            println!(
                "    {}  {}{}  {}  {}  → {}",
                display_local(t.event.at),
                kind,
                mark,
                t.event.by,
                extra,
                t.status_after.label(self.lang)
            );
        }
    }

    pub fn priced(&self, p: &PricedOrder) {
        self.priced_body(p);
    }

    fn priced_body(&self, p: &PricedOrder) {
        for line in &p.lines {
            let expected = line.expected_unit_price_fen.map(format_fen).unwrap_or_else(|| "?".into());
            println!(
                "    #{} {}  ¥{} ({} ¥{}, {})",
                line.line,
                line.sku,
                format_fen(line.unit_price_fen),
                self.t("policy-price"),
                expected,
                line.discount_bp.map(format_bp).unwrap_or_default()
            );
            for f in &line.findings {
                println!("      - {}", f.text(self.lang));
            }
        }
        if let Some(t) = p.total_fen {
            println!("    {}: ¥{}", self.t("total"), format_fen(t));
        }
        for a in &p.approvals {
            println!("    ! {}", a.text(self.lang));
        }
        println!("    {}: {:?} ({} v{})", self.t("verdict"), p.verdict, self.t("policy"), p.policy_version);
    }

    pub fn policy(&self, p: &PublishedPolicy, upcoming: bool, now: i64) {
        println!("{} v{}  {}  {}", self.t("policy"), p.version, p.policy.title, display_local(p.published_at));
        for sku in &p.policy.skus {
            println!("  {}  {}  {}  {}", sku.code, sku.name, sku.spec, if sku.active { "" } else { "(停售)" });
        }
        if upcoming {
            println!("{}:", self.t("upcoming"));
            for a in p.policy.upcoming_adjustments(now) {
                println!("  {}  {:?}  ¥{}  {}", a.sku, a.tier, format_fen(a.price_fen), display_local(a.effective_at));
            }
        }
    }

    pub fn approvals(&self, queue: &[OrderView]) {
        if queue.is_empty() {
            println!("{}", self.t("no-approvals"));
        }
        for v in queue {
            let missing: Vec<&str> = v.lifecycle.missing_approvals.iter().map(|r| r.as_str()).collect();
            println!(
                "{}  ¥{}  {}  {}",
                v.order.id,
                format_fen(v.order.total_fen),
                v.order.created_by,
                missing.join(",")
            );
        }
    }

    // ---- the generic commands ---------------------------------------------------

    /// A field's value for people; a reference shows the referenced record's title
    /// (`titles`) when it is held here.
    fn value(
        &self,
        f: &FieldSpec,
        v: Option<&FieldValue>,
        titles: &dyn Fn(DocId) -> Option<String>,
        with_id: bool,
    ) -> String {
        match (f.ty, v) {
            (FieldType::Ref(_), Some(FieldValue::Str(s))) => match s.parse().ok().and_then(titles) {
                Some(t) if with_id && self.lang == Lang::Zh => format!("{t}（{s}）"),
                Some(t) if with_id => format!("{t} ({s})"),
                Some(t) => t,
                None => s.clone(),
            },
            (FieldType::Records(fields), Some(FieldValue::Records(list))) if with_id => list
                .iter()
                .map(|entry| {
                    let cells: Vec<String> = fields
                        .iter()
                        .filter(|sub| sub.name != "id")
                        .map(|sub| display_value(sub, entry.get(sub.name), self.lang))
                        .filter(|t| !t.is_empty())
                        .collect();
                    cells.join("  ")
                })
                .collect::<Vec<_>>()
                .join("\n"),
            _ => display_value(f, v, self.lang),
        }
    }

    /// `jiuloop show`: the kind and id, then every field that has a value, labelled.
    pub fn record(&self, r: &Record, titles: &dyn Fn(DocId) -> Option<String>) {
        let spec = r.kind.spec();
        println!("{}  {}", spec.label(self.lang), r.id);
        let mut table = Table::plain().indent(2);
        for f in spec.fields {
            let text = self.value(f, r.fields.get(f.name), titles, true);
            if !text.is_empty() {
                table.row([f.label(self.lang).to_string(), text]);
            }
        }
        table.print();
    }

    /// `jiuloop list`: one line per record; the columns are the kind's short fields
    /// (no long texts, lists or bytes) that any listed record has a value for.
    pub fn records(&self, kind: DocKind, records: &[Record], titles: &dyn Fn(DocId) -> Option<String>) {
        let spec = kind.spec();
        if records.is_empty() {
            println!("{}", self.t("no-records").replace("{kind}", spec.label(self.lang)));
            return;
        }
        let short = |f: &FieldSpec| match f.ty {
            FieldType::Str { max } => max <= 100,
            FieldType::Text { .. } | FieldType::Bytes | FieldType::Records(_) | FieldType::Log(_) => false,
            _ => true,
        };
        let columns: Vec<&FieldSpec> =
            spec.fields.iter().filter(|f| short(f) && records.iter().any(|r| r.fields.contains_key(f.name))).collect();
        let mut table =
            Table::with_header([self.t("id")].into_iter().chain(columns.iter().map(|f| f.label(self.lang))));
        for r in records {
            let cells = columns.iter().map(|f| {
                let text = self.value(f, r.fields.get(f.name), titles, false);
                if text.is_empty() { "-".to_string() } else { text }
            });
            table.row(std::iter::once(r.id.to_string()).chain(cells));
        }
        table.print();
    }

    fn grants(&self, grants: Grants) -> String {
        if grants.is_empty() {
            return self.t("nobody").to_string();
        }
        let sep = if self.lang == Lang::Zh { "、" } else { ", " };
        grants
            .iter()
            .map(|(role, scope)| {
                let scope = match scope {
                    Scope::Territory => self.t("scope-territory"),
                    Scope::Own => self.t("scope-own"),
                    Scope::All => self.t("scope-all"),
                };
                let role = protocol::pricing::role_label(*role, self.lang);
                if self.lang == Lang::Zh { format!("{role}（{scope}）") } else { format!("{role} ({scope})") }
            })
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// `jiuloop kinds`: each kind, who reads and creates it, and a table of its fields.
    pub fn kinds(&self, kinds: &[DocKind]) {
        let sep = if self.lang == Lang::Zh { "、" } else { ", " };
        for (n, kind) in kinds.iter().enumerate() {
            let spec = kind.spec();
            if n > 0 {
                println!();
            }
            println!("{}  {}", spec.name, spec.label(self.lang));
            println!("  {}: {}", self.t("readers"), self.grants(spec.read));
            if spec.server_written {
                println!("  {}: {}", self.t("creators"), self.t("server-only"));
            } else {
                println!("  {}: {}", self.t("creators"), self.grants(spec.create));
            }
            let mut table =
                Table::with_header(["field", "label", "type", "required", "settable", "values"].map(|k| self.t(k)))
                    .indent(2);
            for f in spec.fields {
                let when = match (record::settable(f, true), record::settable(f, false)) {
                    (_, true) => self.t("any-time"),
                    (true, false) => self.t("at-creation"),
                    (false, false) => self.t("settable-never"),
                };
                let values = match f.ty {
                    FieldType::Enum(vocab) => vocab
                        .entries
                        .iter()
                        .map(|e| format!("{}={}", e.name, if self.lang == Lang::Zh { e.zh } else { e.en }))
                        .collect::<Vec<_>>()
                        .join(sep),
                    FieldType::Ref(target) => format!("→ {}", target.as_str()),
                    FieldType::Money { .. } => {
                        if self.lang == Lang::Zh {
                            "元".into()
                        } else {
                            "yuan".into()
                        }
                    }
                    _ => String::new(),
                };
                table.row([
                    f.name.to_string(),
                    f.label(self.lang).to_string(),
                    f.ty.name().to_string(),
                    if f.required { self.t("yes").to_string() } else { String::new() },
                    when.to_string(),
                    values,
                ]);
            }
            table.print();
        }
    }
}

/// What the orders table shows of an order.
pub struct OrderRow {
    pub id: String,
    pub created_at: i64,
    pub status: protocol::schema::OrderStatus,
    pub total_fen: i64,
    pub created_by: String,
}

impl OrderRow {
    /// From an order's JSON (`order list --json`, the profile's index).
    pub fn from_json(o: &serde_json::Value) -> Option<OrderRow> {
        Some(OrderRow {
            id: o["id"].as_str()?.to_string(),
            created_at: protocol::time::parse_rfc3339(o["created_at"].as_str()?)?,
            status: o["status"].as_str()?.parse().ok()?,
            total_fen: o["total_fen"].as_i64()?,
            created_by: o["created_by"].as_str()?.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Table;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn tables_align_chinese_text_by_display_width() {
        let mut t = Table::with_header(["编号", "客户名称", "区域"]).indent(2);
        t.row(["1", "贵阳名酒行", "贵州"]);
        t.row(["22", "Chengdu Wine", "-"]);
        t.row(["333", "多行\n备注", "x\ty"]);
        let lines = t.render();
        assert_eq!(
            lines,
            [
                "  编号  客户名称      区域",
                "  1     贵阳名酒行    贵州",
                "  22    Chengdu Wine  -",
                "  333   多行          x y",
                "        备注",
            ]
        );
        // Every third column starts at the same display column.
        let col = |l: &str, text: &str| l[..l.find(text).unwrap()].width();
        assert_eq!(col(&lines[0], "区域"), col(&lines[1], "贵州"));
        assert_eq!(col(&lines[1], "贵州"), col(&lines[2], "-"));
        assert!(Table::plain().render().is_empty());
    }
}
