//! Human-readable output in simplified Chinese (default) or English, and `--json`.

use client_core::InboxItem;
use jiuloop_cli::SyncReport;
use protocol::DocKind;
use protocol::schema::customer::Customer;
use protocol::schema::order::{Order, format_fen};
use protocol::schema::visit::Visit;
use protocol::schema::{Lang, fields_of};
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
        fields_of(kind)
            .iter()
            .find(|f| f.name == field)
            .map(|f| if self.lang == Lang::Zh { f.zh } else { f.en })
            .unwrap_or("?")
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

    pub fn order(&self, o: &Order, customer: Option<&str>) {
        println!("{}  {}", o.id, o.status.label(self.lang));
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
        for l in &o.lines {
            println!(
                "    {}  {}  × {}  ¥{}  = ¥{}",
                l.sku,
                l.spec.as_deref().unwrap_or(""),
                l.qty,
                format_fen(l.unit_price_fen),
                format_fen(l.amount_fen)
            );
        }
        println!("  {}: ¥{}", self.t("total"), format_fen(o.total_fen));
        println!("  {}: {}  {}", self.t("created"), display_local(o.created_at), o.created_by);
    }
}
