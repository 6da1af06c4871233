//! Human-readable output in simplified Chinese (default) or English, and `--json`.

use client_core::InboxItem;
use client_core::OrderView;
use jiuloop_cli::SyncReport;
use protocol::DocKind;
use protocol::pricing::{PricedOrder, format_bp};
use protocol::schema::EventKind;
use protocol::schema::Lang;
use protocol::schema::customer::Customer;
use protocol::schema::order::{Order, format_fen};
use protocol::schema::policy_doc::PublishedPolicy;
use protocol::schema::visit::Visit;
use protocol::time::display_local;
use serde::Serialize;

pub struct Out {
    lang: Lang,
}

/// (key, 中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("error", "错误", "error"),
    ("logged-in", "已登录：{user}", "logged in as {user}"),
    ("logged-out", "已退出登录", "logged out"),
    (
        "logged-out-locally",
        "已在本机退出登录，但未能通知服务器",
        "logged out on this device; the server could not be told",
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
];

impl Out {
    pub fn new(lang: Lang) -> Self {
        Out { lang }
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
        }
        for c in all {
            println!(
                "{}  {}  {}  {}  {}  {}",
                c.id,
                c.name,
                c.class.map(|c| c.as_str()).unwrap_or("-"),
                c.channel.map(|c| c.label(self.lang)).unwrap_or("-"),
                c.region.as_deref().unwrap_or("-"),
                c.owner.as_deref().unwrap_or("-"),
            );
        }
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
        }
        for v in visits {
            println!(
                "    {}  {}  {}  {}  {}",
                v.id,
                display_local(v.at),
                v.kind.map(|k| k.label(self.lang)).unwrap_or("-"),
                v.rep,
                v.notes
            );
        }
    }

    pub fn orders(&self, orders: &[Order]) {
        if orders.is_empty() {
            println!("    {}", self.t("no-orders"));
        }
        for o in orders {
            println!(
                "    {}  {}  {}  ¥{}  {}",
                o.id,
                display_local(o.created_at),
                o.status.label(self.lang),
                format_fen(o.total_fen),
                o.created_by
            );
        }
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
}
