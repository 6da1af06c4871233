//! The red team of issue 16: valid accounts of every department and hostile clients
//! speaking the raw wire protocol try, against one real server process, every class of
//! attack the issue names that the mechanisms in this tree close — identity fields that
//! name someone else, times from the past, content edited after the point it freezes,
//! answers that differ by existence, creation that takes over others' records, changes
//! with nothing in them or to kinds the role cannot write, business steps beyond a role's
//! authority, and counts and output over their caps.
//!
//! Tests as data: [`rows`] is the table of single-push attacks, each with the refusal it
//! must get (code, rule, path) and honest controls beside it — the same request made
//! legitimately, accepted, by a raw client or a real CLI device — so that the test fails if
//! the rule refuses too much as well as too little. For every attack the runner checks the
//! exact refusal, that nothing was stored (the server's row counts), that nothing reached a
//! bystander who reads everything (an admin device, connected throughout), that the
//! refusal is in the audit trail, and that the controls are stored and relayed (so everyone
//! else keeps syncing). The scenarios that need more than one push (backdated orders and
//! events, existence probes, orphans, size caps) follow the same pattern and add their
//! lines to the same report, printed at the end (`--nocapture`).
//!
//! Login, token and transport hardening (issue 16, classes 8 and 9) and operation caps
//! from change headers (class 4's first half) are built elsewhere and tested there.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue};
use jiuloop_tests::{Device, Incoming, LocalDoc, RawClient, TestServer};
use protocol::pricing::{Policy, PriceTier};
use protocol::schema::order::{self, NewLine, OrderEvent};
use protocol::schema::policy_doc::{self, POLICY_DOC_ID};
use protocol::schema::verdict::{self, OrderVerdict, verdict_id};
use protocol::schema::{OrderSource, customer};
use protocol::wire::{self, ClientMsg, DocChunk, Hello};
use protocol::{DocId, DocKind, ErrorCode, Role, ServerMsg};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const GZ: &str = "贵州";
const SC: &str = "四川";
const DAY: i64 = 24 * 3_600_000;
const SKU: &str = "SC-52-500";
/// SC-52-500's wholesale (restaurant) price in version 1 of the policy…
const OLD_PRICE: i64 = 53_900;
/// … and since the rise of version 2, published 45 days ago.
const PRICE: i64 = 56_900;
/// SC-52-500's factory (distributor) price.
const FACTORY_PRICE: i64 = 42_900;
/// How long a bystander must stay silent after a refused push (its relay would have been
/// queued before the pusher's answer).
const SILENCE: Duration = Duration::from_millis(150);
/// The server's per-connection budget of queued output (`server/src/sync/hub_runner.rs`).
const OUTBOX_BYTES: u64 = 16 * 1024 * 1024;

/// name, role, territory, manager.
const USERS: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("zhang", "manager", Some(GZ), None),
    ("li", "rep", Some(GZ), Some("zhang")),
    ("wang", "rep", Some(GZ), Some("zhang")),
    ("chen", "rep", Some(SC), None),
    ("sun", "logistics", None, None),
    ("qian", "finance", None, None),
    ("ma", "market", None, None),
    ("zhao", "executive", None, None),
    ("it", "admin", None, None),
];

/// The users who push, each over a raw connection of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Li,
    Wang,
    Chen,
    Zhang,
    Sun,
    Qian,
    Ma,
}

impl Who {
    const ALL: [Who; 7] = [Who::Li, Who::Wang, Who::Chen, Who::Zhang, Who::Sun, Who::Qian, Who::Ma];

    fn user(self) -> &'static str {
        match self {
            Who::Li => "li",
            Who::Wang => "wang",
            Who::Chen => "chen",
            Who::Zhang => "zhang",
            Who::Sun => "sun",
            Who::Qian => "qian",
            Who::Ma => "ma",
        }
    }
}

fn now() -> i64 {
    jiuloop_cli::now_ms()
}

// ---- the world the attacks run in ------------------------------------------------------

/// What the attacks read: the server, the CLI devices of the honest side, and the records
/// made while setting up (by name).
struct Scene {
    server: TestServer,
    li_dev: Device,
    zhang_dev: Device,
    sun_dev: Device,
    qian_dev: Device,
    zhao_dev: Device,
    ids: BTreeMap<&'static str, DocId>,
    /// The next policy version number to publish.
    next_version: Cell<u32>,
}

impl Scene {
    fn id(&self, name: &str) -> DocId {
        *self.ids.get(name).unwrap_or_else(|| panic!("no record named {name}"))
    }

    /// What the server holds of `name`, to write on as `actor`.
    fn doc(&self, name: &str, actor: &ActorId) -> LocalDoc {
        let id = self.id(name);
        LocalDoc::from_server(&self.server, id, actor).unwrap_or_else(|| panic!("the server holds no {name} ({id})"))
    }

    fn verdict(&self, order: DocId) -> Option<OrderVerdict> {
        let doc = LocalDoc::from_server(&self.server, verdict_id(order), &ActorId::random())?;
        Some(verdict::read(&doc.doc).expect("a verdict document"))
    }

    /// The `created_by` of the order's assignment, if it was assigned.
    fn assigned(&self, order: DocId) -> Option<String> {
        use rusqlite::OptionalExtension;
        self.server
            .db()
            .query_row("SELECT created_by FROM assignments WHERE order_id = ?1", [order.as_bytes().as_slice()], |r| {
                r.get(0)
            })
            .optional()
            .expect("read assignments")
    }

    /// The order's lifecycle as li's CLI device shows it after a sync.
    fn lifecycle(&self, order: DocId) -> serde_json::Value {
        self.li_dev.sync();
        self.li_dev.order(&order.to_string())["lifecycle"].clone()
    }

    fn take_version(&self) -> u32 {
        let v = self.next_version.get();
        self.next_version.set(v + 1);
        v
    }
}

/// One line of the report.
struct Line {
    name: String,
    class: &'static str,
    expected: String,
    problems: Vec<String>,
}

struct World {
    scene: Scene,
    clients: BTreeMap<Who, RawClient>,
    /// An admin device that reads everything and writes nothing: what a refused change must
    /// never reach, and what every accepted one reaches.
    bystander: RawClient,
    report: Vec<Line>,
}

impl World {
    fn client(&mut self, who: Who) -> &mut RawClient {
        self.clients.get_mut(&who).expect("a client for every pusher")
    }

    fn actor(&self, who: Who) -> ActorId {
        self.clients[&who].actor.clone()
    }

    fn record(
        &mut self,
        name: impl Into<String>,
        class: &'static str,
        expected: impl Into<String>,
        problems: Vec<String>,
    ) {
        self.report.push(Line { name: name.into(), class, expected: expected.into(), problems });
    }

    /// Drops whatever `who`'s connection was sent and not read yet.
    async fn drain_client(&mut self, who: Who) {
        while self.client(who).next(Duration::from_millis(50)).await.is_some() {}
    }

    /// Reads whatever the bystander was sent until it has been silent for a while.
    async fn drain(&mut self) {
        while self.bystander.next(Duration::from_millis(120)).await.is_some() {}
    }

    /// Problems if the bystander hears anything now.
    async fn expect_bystander_silent(&mut self, what: &str) -> Vec<String> {
        match self.bystander.next(SILENCE).await {
            None => Vec::new(),
            Some(got) => vec![format!("{what}: the bystander received {}", describe(&got))],
        }
    }

    /// Problems unless the bystander receives a change of `id` soon.
    async fn expect_relayed(&mut self, id: DocId, what: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.bystander.next(left).await {
                Some(Incoming::Msg(ServerMsg::Changes { docs, .. })) if docs.iter().any(|d| d.id == id) => {
                    return Vec::new();
                }
                Some(Incoming::Msg(_)) => {}
                None => return vec![format!("{what}: {id} never reached the bystander")],
                Some(other) => return vec![format!("{what}: the bystander's connection failed: {other:?}")],
            }
        }
    }

    /// Pushes `chunk` as `who` and checks the refusal it must get, that nothing was stored
    /// or relayed, and that the refusal was audited.
    async fn expect_refused(
        &mut self,
        who: Who,
        chunk: DocChunk,
        want: (ErrorCode, &str, &str),
        what: &str,
    ) -> Vec<String> {
        self.drain().await;
        let id = chunk.id;
        let before = self.scene.server.counts();
        let audited = self.scene.server.audited_refusals(who.user()).len();
        let answer = self.client(who).push(vec![chunk]).await;
        let mut problems = Vec::new();
        match answer {
            ServerMsg::Refused { refusals } if refusals.len() == 1 => {
                let r = &refusals[0];
                let got = (r.code, r.rule.as_str(), r.path.as_str());
                if got != want || r.id != id {
                    problems.push(format!("{what}: refused as {got:?} (doc {}), want {want:?}: {}", r.id, r.message));
                }
            }
            other => problems.push(format!("{what}: want a refusal {want:?}, got {}", short(&other))),
        }
        let after = self.scene.server.counts();
        if after != before {
            problems.push(format!("{what}: stored something: {before:?} -> {after:?}"));
        }
        problems.extend(self.expect_bystander_silent(what).await);
        let trail = self.scene.server.audited_refusals(who.user());
        match trail.get(audited..) {
            Some([(rule, doc)]) if rule == want.1 && *doc == id => {}
            other => problems.push(format!("{what}: the audit trail gained {other:?}, want one '{}' of {id}", want.1)),
        }
        problems
    }

    /// Pushes `chunk` as `who`: it must be stored (acknowledged with a sequence number) and
    /// reach the bystander.
    async fn expect_stored(&mut self, who: Who, chunk: DocChunk, what: &str) -> Vec<String> {
        self.drain().await;
        let id = chunk.id;
        let answer = self.client(who).push(vec![chunk]).await;
        match answer {
            ServerMsg::Ack { docs } if docs.len() == 1 && docs[0].id == id && docs[0].seq > 0 => {}
            other => return vec![format!("{what}: want it stored, got {}", short(&other))],
        }
        self.expect_relayed(id, what).await
    }
}

fn describe(i: &Incoming) -> String {
    match i {
        Incoming::Msg(m) => short(m),
        other => format!("{other:?}"),
    }
}

/// A message without its bytes.
fn short(m: &ServerMsg) -> String {
    match m {
        ServerMsg::Changes { docs, cursor } => {
            let ids: Vec<String> = docs.iter().map(|d| format!("{} {}", d.kind, d.id)).collect();
            format!("Changes {ids:?} cursor {cursor:?}")
        }
        ServerMsg::Refused { refusals } => {
            let rs: Vec<String> =
                refusals.iter().map(|r| format!("{} {} @{}: {}", r.code, r.rule, r.path, r.message)).collect();
            format!("Refused {rs:?}")
        }
        other => format!("{other:?}"),
    }
}

// ---- building documents by hand ---------------------------------------------------------

/// The example policy as version `version`, with SC-52-500's wholesale price raised.
fn policy(version: u32) -> Policy {
    let text = std::fs::read_to_string(example_policy()).expect("read examples/policy.csv");
    let mut p = protocol::pricing::parse_policy_csv(&text).expect("the example policy parses");
    p.version = version;
    for price in p.prices.iter_mut().filter(|p| p.sku == SKU && p.tier == PriceTier::Wholesale) {
        price.price_fen = PRICE;
    }
    p
}

fn example_policy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv")
}

/// A new order of `customer` written by `writer` at `at` (its `created_at` and its events'
/// times), naming `created_by` as its author (`None`: no author field at all).
fn new_order(
    actor: &ActorId,
    customer: DocId,
    writer: &str,
    created_by: Option<&str>,
    at: i64,
    lines: &[(&str, i64, i64)],
    submit: bool,
) -> LocalDoc {
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    order::init(&mut doc, customer, OrderSource::Written, at, writer).expect("init order");
    match created_by {
        None => doc.delete(ROOT, "created_by").expect("no author"),
        Some(by) if by != writer => doc.put(ROOT, "created_by", by).expect("an author"),
        Some(_) => {}
    }
    for (i, (sku, qty, price)) in lines.iter().enumerate() {
        let line = NewLine { id: format!("l{i}"), sku: sku.to_string(), spec: None, qty: *qty, unit_price_fen: *price };
        order::add_line(&mut doc, &line).expect("a line");
    }
    if submit {
        order::set_priced_with(&mut doc, 2).expect("priced with");
        order::record_event(&mut doc, "submitted", at, writer).expect("submitted");
    }
    doc.commit();
    LocalDoc::from_doc(DocId::new_random(), DocKind::Order, doc)
}

fn simple_order(s: &Scene, actor: &ActorId, created_by: Option<&str>) -> DocChunk {
    new_order(actor, s.id("C1"), "li", created_by, now(), &[(SKU, 6, PRICE)], false).chunk()
}

/// A new customer of li's territory, without an author field (the server records it).
fn customer_of(actor: &ActorId, name: &str) -> LocalDoc {
    LocalDoc::new_customer(actor, name)
}

fn event(kind: &str, by: &str) -> OrderEvent {
    OrderEvent { kind: kind.into(), at: now(), by: by.into(), ..Default::default() }
}

fn decision(kind: &str, by: &str, role: &str, hash: &str) -> OrderEvent {
    OrderEvent { role: Some(role.into()), hash: Some(hash.into()), ..event(kind, by) }
}

/// `record` appended to what the server holds of `name`, as `actor`.
fn appended(s: &Scene, actor: &ActorId, name: &str, e: OrderEvent) -> DocChunk {
    let mut d = s.doc(name, actor);
    order::append_event(&mut d.doc, &e).expect("append an event");
    d.chunk()
}

/// The content hash the server's verdict on `name` decided on (what approvals carry).
fn content_hash(s: &Scene, name: &str) -> String {
    s.verdict(s.id(name)).unwrap_or_else(|| panic!("{name} has no verdict")).content_hash
}

/// Over the 200 bytes a change message may carry, under the 4 KiB beyond which the
/// change inspector closes the connection before anything is loaded (a 3 KB message is
/// `too_much_work`, fatal: protocol/src/inspect_tests.rs).
fn big_message() -> String {
    "备注".repeat(500) // 3 KB
}

fn publish(s: &Scene, actor: &ActorId, by: &str, published_at: i64) -> DocChunk {
    let mut d = LocalDoc::from_server(&s.server, POLICY_DOC_ID, actor).expect("the policy document");
    policy_doc::publish(&mut d.doc, &policy(s.take_version()), published_at, by).expect("publish");
    d.chunk()
}

// ---- the table -------------------------------------------------------------------------

type Make = fn(&Scene, &ActorId) -> DocChunk;
/// What must hold of the stored document once a control was accepted.
type Check = fn(&Scene, DocId) -> Result<(), String>;

enum Control {
    /// The same request made legitimately by `by`: stored and relayed, then `check`ed.
    Push { by: Who, make: Make, check: Option<Check> },
    /// An honest user's CLI device doing it; returns the document the bystander must receive.
    Cli { what: &'static str, run: fn(&Scene) -> DocId },
}

struct Row {
    name: &'static str,
    class: &'static str,
    by: Who,
    attack: Make,
    want: (ErrorCode, &'static str, &'static str),
    controls: Vec<Control>,
}

fn refused(rule: &'static str, path: &'static str) -> (ErrorCode, &'static str, &'static str) {
    (ErrorCode::Forbidden, rule, path)
}

fn push(by: Who, make: Make) -> Control {
    Control::Push { by, make, check: None }
}

fn push_then(by: Who, make: Make, check: Check) -> Control {
    Control::Push { by, make, check: Some(check) }
}

const IDENTITY: &str = "1 identity";
const TIME: &str = "2 time";
const FROZEN: &str = "3 frozen content";
const EXISTENCE: &str = "5 existence";
const CREATION: &str = "6 creation";
const EMPTY_OR_UNWRITABLE: &str = "7 empty / unwritable";
const AUTHORITY: &str = "10 authority";
const SIZE: &str = "4 size caps";

fn rows() -> Vec<Row> {
    vec![
        // 1. Identity fields name the writer.
        Row {
            name: "an order whose created_by names an executive",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, a| simple_order(s, a, Some("zhao")),
            want: refused("author", "created_by"),
            controls: vec![push(Who::Li, |s, a| simple_order(s, a, Some("li")))],
        },
        Row {
            name: "a customer whose created_by names another rep",
            class: IDENTITY,
            by: Who::Li,
            attack: |_, a| {
                let mut c = customer_of(a, "冒名客户");
                c.doc.put(ROOT, "created_by", "wang").unwrap();
                c.chunk()
            },
            want: refused("author", "created_by"),
            controls: vec![push_then(
                Who::Li,
                |_, a| customer_of(a, "不写作者的客户").chunk(),
                |s, id| match s.server.doc_facts(id).and_then(|f| f.author) {
                    Some(a) if a == "li" => Ok(()),
                    other => Err(format!("the server recorded author {other:?}, want li (the session's user)")),
                },
            )],
        },
        Row {
            name: "a visit whose rep names someone else",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, a| visit(s, a, "wang"),
            want: refused("author", "rep"),
            controls: vec![push(Who::Li, |s, a| visit(s, a, "li"))],
        },
        Row {
            name: "a competitor observation observed_by someone else",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, a| observation(s, a, "wang"),
            want: refused("author", "observed_by"),
            controls: vec![push(Who::Li, |s, a| observation(s, a, "li"))],
        },
        Row {
            name: "an order event whose by names someone else",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, a| appended(s, a, "O_draft2", event("submitted", "wang")),
            want: refused("event-author", "events"),
            controls: vec![push_then(
                Who::Li,
                |s, a| appended(s, a, "O_draft2", event("submitted", "li")),
                |s, id| s.verdict(id).map(|_| ()).ok_or_else(|| "the submitted order got no verdict".into()),
            )],
        },
        Row {
            name: "a manager's approval in the executive's role",
            class: IDENTITY,
            by: Who::Zhang,
            attack: |s, a| {
                appended(s, a, "O_need", decision("approved", "zhang", "executive", &content_hash(s, "O_need")))
            },
            want: refused("event-approver-role", "events"),
            controls: vec![push_then(
                Who::Zhang,
                |s, a| appended(s, a, "O_need", decision("approved", "zhang", "manager", &content_hash(s, "O_need"))),
                |s, id| {
                    s.assigned(id)
                        .map(|_| ())
                        .ok_or_else(|| "approved in the manager's own role, it is not confirmed".into())
                },
            )],
        },
        Row {
            name: "a class change recorded in another rep's name",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, a| class_change(s, a, "wang"),
            want: refused("class-change-author", "class_history"),
            controls: vec![push(Who::Li, |s, a| class_change(s, a, "li"))],
        },
        Row {
            name: "a policy version published in the executive's name",
            class: IDENTITY,
            by: Who::Ma,
            attack: |s, a| publish(s, a, "zhao", now()),
            want: refused("policy-invalid", "versions"),
            controls: vec![push(Who::Ma, |s, a| publish(s, a, "ma", now()))],
        },
        Row {
            name: "rewriting created_by of an existing order",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, a| {
                let mut d = s.doc("O_draft", a);
                d.doc.put(ROOT, "created_by", "zhao").unwrap();
                d.chunk()
            },
            want: refused("create-only", "created_by"),
            controls: vec![push(Who::Li, |s, a| {
                let mut d = s.doc("O_draft", a);
                order::set(&mut d.doc, "delivery_place", "遵义市红花岗区").unwrap();
                d.chunk()
            })],
        },
        Row {
            name: "a change made with another device's actor",
            class: IDENTITY,
            by: Who::Li,
            attack: |s, _| {
                // wang's actor, read off the changes of wang's customer.
                let mut d = s.doc("C1", &actor_of(s, "C_wang"));
                d.set_customer("phone", "13000000000");
                d.chunk()
            },
            want: (ErrorCode::ActorNotYours, "actor-registered", ""),
            controls: vec![push(Who::Li, |s, a| {
                let mut d = s.doc("C1", a);
                d.set_customer("phone", "13000000001");
                d.chunk()
            })],
        },
        // 3. Content freezes at confirmation.
        Row {
            name: "editing a line of a shipped order",
            class: FROZEN,
            by: Who::Li,
            attack: |s, a| set_line(s, a, "O_ship"),
            want: refused("frozen", "lines"),
            controls: vec![push(Who::Li, |s, a| set_line(s, a, "O_draft"))],
        },
        Row {
            name: "replacing the lines of a confirmed order",
            class: FROZEN,
            by: Who::Li,
            attack: |s, a| replace_lines(s, a, "O_conf"),
            want: refused("frozen", "lines"),
            controls: vec![push(Who::Li, |s, a| replace_lines(s, a, "O_draft"))],
        },
        Row {
            name: "changing priced_with of a confirmed order",
            class: FROZEN,
            by: Who::Li,
            attack: |s, a| priced_with(s, a, "O_conf"),
            want: refused("frozen", "priced_with"),
            controls: vec![push(Who::Li, |s, a| priced_with(s, a, "O_draft"))],
        },
        Row {
            name: "changing the payment method of a shipped order",
            class: FROZEN,
            by: Who::Li,
            attack: |s, a| {
                let mut d = s.doc("O_ship", a);
                d.doc.put(ROOT, "payment_method", "credit").unwrap();
                d.chunk()
            },
            want: refused("frozen", "payment_method"),
            // Notes are not content: they stay editable.
            controls: vec![push(Who::Li, |s, a| {
                let mut d = s.doc("O_ship", a);
                order::set(&mut d.doc, "notes", "客户要求周五前送达").unwrap();
                d.chunk()
            })],
        },
        // 7. Changes with nothing in them, or to kinds the role cannot write.
        Row {
            name: "an empty change (no operations)",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| {
                let mut d = s.doc("C1", a);
                d.doc.empty_change(CommitOptions::default());
                d.chunk()
            },
            want: refused("empty-change", ""),
            controls: vec![push(Who::Li, |s, a| phone_with_message(s, a, None))],
        },
        Row {
            name: "a change with a 3 KB commit message",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| phone_with_message(s, a, Some(big_message())),
            want: refused("change-message", ""),
            controls: vec![push(Who::Li, |s, a| phone_with_message(s, a, Some("改电话".repeat(22))))],
        },
        Row {
            name: "an empty change with a 3 KB message into the policy",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Ma,
            attack: |s, a| {
                let mut d = LocalDoc::from_server(&s.server, POLICY_DOC_ID, a).expect("policy");
                d.doc.empty_change(CommitOptions::default().with_message(big_message()));
                d.chunk()
            },
            want: refused("empty-change", ""),
            controls: vec![push(Who::Ma, |s, a| publish(s, a, "ma", now()))],
        },
        Row {
            name: "an empty change with a 3 KB message into a verdict",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| {
                let id = verdict_id(s.id("O_conf"));
                let mut d = LocalDoc::from_server(&s.server, id, a).expect("O_conf's verdict");
                d.doc.empty_change(CommitOptions::default().with_message(big_message()));
                d.chunk()
            },
            want: refused("role", ""),
            // Only the server writes verdicts: submitting an order makes it write one.
            controls: vec![Control::Cli {
                what: "li submits a draft; the server's verdict is relayed",
                run: |s| {
                    let o = s.id("O_draft3");
                    s.li_dev.ok(&["order", "submit", &o.to_string()]);
                    s.li_dev.sync();
                    verdict_id(o)
                },
            }],
        },
        Row {
            name: "a rep publishing a policy version",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| publish(s, a, "li", now()),
            want: refused("role", ""),
            controls: vec![push(Who::Ma, |s, a| publish(s, a, "ma", now()))],
        },
        Row {
            name: "logistics writing a visit log",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Sun,
            attack: |s, a| visit(s, a, "sun"),
            want: refused("role", ""),
            controls: vec![push(Who::Li, |s, a| visit(s, a, "li"))],
        },
        Row {
            name: "writing the server-only received map",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| {
                let mut d = s.doc("O_draft", a);
                let map = d.doc.put_object(ROOT, "received", ObjType::Map).unwrap();
                d.doc.put(&map, "1@00", ScalarValue::Timestamp(now() - 90 * DAY)).unwrap();
                d.chunk()
            },
            want: refused("unknown-field", "received"),
            controls: vec![push_then(
                Who::Li,
                |s, a| appended(s, a, "O_draft", event("created", "li")),
                |s, id| {
                    let d = LocalDoc::from_server(&s.server, id, &ActorId::random()).expect("the order");
                    let (events, receipts) =
                        (order::read(&d.doc, id).expect("an order").events, protocol::schema::read_receipts(&d.doc));
                    if events.iter().all(|e| e.received.is_some()) && receipts.len() == events.len() {
                        Ok(())
                    } else {
                        Err(format!("the server recorded {} arrivals for {} events", receipts.len(), events.len()))
                    }
                },
            )],
        },
        Row {
            name: "a customer at a verdict's reserved id",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| {
                let mut c = customer_of(a, "占用校验编号");
                // The verdict a draft will get once submitted.
                c.id = verdict_id(s.id("O_draft"));
                c.chunk()
            },
            want: refused("reserved-id", ""),
            controls: vec![push(Who::Li, |_, a| customer_of(a, "随机编号的客户").chunk())],
        },
        Row {
            name: "an order whose verdict id is an existing customer",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |s, a| {
                let mut o = new_order(a, s.id("C1"), "li", Some("li"), now(), &[(SKU, 1, PRICE)], false);
                o.id = verdict_id(s.id("C1"));
                o.chunk()
            },
            want: refused("reserved-id", ""),
            controls: vec![push(Who::Li, |s, a| simple_order(s, a, Some("li")))],
        },
        Row {
            name: "a new order that arrives already approved",
            class: AUTHORITY,
            by: Who::Li,
            attack: |s, a| {
                let mut o = new_order(a, s.id("C1"), "li", Some("li"), now(), &[(SKU, 6, 30_000)], true);
                order::append_event(&mut o.doc, &decision("approved", "li", "rep", "00")).unwrap();
                o.chunk()
            },
            want: refused("event-role", "events"),
            controls: vec![push(Who::Li, |s, a| {
                new_order(a, s.id("C1"), "li", Some("li"), now(), &[(SKU, 6, PRICE)], true).chunk()
            })],
        },
        // 10. Business steps beyond a role's authority.
        Row {
            name: "a manager approving their own order",
            class: AUTHORITY,
            by: Who::Zhang,
            attack: |s, a| appended(s, a, "O_mgr", decision("approved", "zhang", "manager", &content_hash(s, "O_mgr"))),
            want: refused("event-own", "events"),
            controls: vec![Control::Cli {
                what: "the executive approves it from their CLI",
                run: |s| {
                    let o = s.id("O_mgr").to_string();
                    s.zhao_dev.sync();
                    s.zhao_dev.ok(&["order", "approve", &o, "--comment", "同意"]);
                    s.zhao_dev.sync();
                    let status = s.lifecycle(s.id("O_mgr"))["status"].clone();
                    assert_eq!(status, "confirmed", "the executive's approval confirms the manager's order");
                    s.id("O_mgr")
                },
            }],
        },
        Row {
            name: "a rep resolving logistics' exception",
            class: AUTHORITY,
            by: Who::Li,
            attack: |s, a| appended(s, a, "O_exc", event("resolved", "li")),
            want: refused("event-invalid", "events"),
            controls: vec![Control::Cli {
                what: "logistics resolves it from their CLI",
                run: |s| {
                    let o = s.id("O_exc").to_string();
                    s.sun_dev.sync();
                    s.sun_dev.ok(&["order", "resolve", &o, "--note", "已改道"]);
                    s.sun_dev.sync();
                    s.id("O_exc")
                },
            }],
        },
        Row {
            name: "a rep confirming payment",
            class: AUTHORITY,
            by: Who::Li,
            attack: |s, a| appended(s, a, "O_conf", event("paid", "li")),
            want: refused("event-role", "events"),
            controls: vec![Control::Cli {
                what: "finance confirms it from their CLI",
                run: |s| {
                    let o = s.id("O_conf").to_string();
                    s.qian_dev.sync();
                    s.qian_dev.ok(&["order", "pay-confirm", &o]);
                    s.qian_dev.sync();
                    s.id("O_conf")
                },
            }],
        },
        Row {
            name: "finance recording a shipment",
            class: AUTHORITY,
            by: Who::Qian,
            attack: |s, a| appended(s, a, "O_conf", event("shipped", "qian")),
            want: refused("event-role", "events"),
            controls: vec![Control::Cli {
                what: "logistics ships it from their CLI",
                run: |s| {
                    let o = s.id("O_conf").to_string();
                    s.sun_dev.sync();
                    s.sun_dev.ok(&["order", "ship", &o, "--carrier", "顺丰速运", "--tracking", "SF0001"]);
                    s.sun_dev.sync();
                    s.id("O_conf")
                },
            }],
        },
        Row {
            name: "a rep changing a customer's channel after creation",
            class: AUTHORITY,
            by: Who::Li,
            attack: |s, a| channel(s, a),
            want: refused("role", "channel"),
            controls: vec![
                push(Who::Zhang, channel),
                push(Who::Li, |_, a| {
                    let mut c = customer_of(a, "新经销商");
                    c.set_customer("channel", "distributor");
                    c.chunk()
                }),
            ],
        },
        Row {
            name: "a rep assigning their customer to another rep",
            class: AUTHORITY,
            by: Who::Li,
            attack: |s, a| owner(s, a, "C1"),
            want: refused("role", "owner"),
            controls: vec![push(Who::Zhang, |s, a| owner(s, a, "C2"))],
        },
        Row {
            name: "a rep creating a customer owned by another rep",
            class: AUTHORITY,
            by: Who::Li,
            attack: |_, a| {
                let mut c = customer_of(a, "替别人建的客户");
                c.set_customer("owner", "wang");
                c.chunk()
            },
            want: refused("assignee", "owner"),
            controls: vec![push(Who::Li, |_, a| {
                let mut c = customer_of(a, "自己负责的客户");
                c.set_customer("owner", "li");
                c.chunk()
            })],
        },
        // 6. Creation: only where the writer may write.
        Row {
            name: "a customer created in another territory",
            class: CREATION,
            by: Who::Li,
            attack: |_, a| LocalDoc::new_customer_in(a, "成都冒充客户", SC).chunk(),
            want: refused("territory", ""),
            controls: vec![push(Who::Li, |_, a| LocalDoc::new_customer_in(a, "贵阳新客户", GZ).chunk())],
        },
        Row {
            name: "an order of another territory's customer",
            class: CREATION,
            by: Who::Li,
            attack: |s, a| new_order(a, s.id("H"), "li", Some("li"), now(), &[(SKU, 6, PRICE)], false).chunk(),
            want: refused("territory", ""),
            controls: vec![push(Who::Li, |s, a| simple_order(s, a, Some("li")))],
        },
    ]
}

/// The actor of the first change of `name` (its creator's device).
fn actor_of(s: &Scene, name: &str) -> ActorId {
    let mut d = s.doc(name, &ActorId::random());
    d.actors().into_iter().next().expect("a change")
}

fn visit(s: &Scene, a: &ActorId, by: &str) -> DocChunk {
    let c = s.id("C1").to_string();
    LocalDoc::new_record(a, DocKind::Visit, &[("customer", &c), ("kind", "follow-up"), ("notes", "品鉴会回访")], by)
        .chunk()
}

fn observation(s: &Scene, a: &ActorId, by: &str) -> DocChunk {
    let c = s.id("C1").to_string();
    let inputs = [("customer", c.as_str()), ("brand", "五粮液"), ("product", "普五"), ("shelf_price", "1099")];
    LocalDoc::new_record(a, DocKind::CompetitorObservation, &inputs, by).chunk()
}

fn class_change(s: &Scene, a: &ActorId, by: &str) -> DocChunk {
    let mut d = s.doc("C1", a);
    let class = if customer::read(&d.doc, d.id).unwrap().class.map(|c| c.as_str()) == Some("A") { "B" } else { "A" };
    customer::set(&mut d.doc, "class", class, now(), by).expect("set class");
    d.chunk()
}

fn set_line(s: &Scene, a: &ActorId, name: &str) -> DocChunk {
    let mut d = s.doc(name, a);
    order::set_line(&mut d.doc, "1", Some(1), None).expect("set a line");
    d.chunk()
}

fn replace_lines(s: &Scene, a: &ActorId, name: &str) -> DocChunk {
    let mut d = s.doc(name, a);
    d.doc.put_object(ROOT, "lines", ObjType::List).unwrap();
    let line = NewLine { id: "cheap".into(), sku: SKU.into(), spec: None, qty: 1, unit_price_fen: 53_900 };
    order::add_line(&mut d.doc, &line).unwrap();
    d.chunk()
}

fn priced_with(s: &Scene, a: &ActorId, name: &str) -> DocChunk {
    let mut d = s.doc(name, a);
    order::set_priced_with(&mut d.doc, 1).unwrap();
    d.chunk()
}

fn phone_with_message(s: &Scene, a: &ActorId, message: Option<String>) -> DocChunk {
    let mut d = s.doc("C1", a);
    d.set_customer("phone", &format!("138{:08}", now() % 100_000_000));
    let options = message.map_or_else(CommitOptions::default, |m| CommitOptions::default().with_message(m));
    d.doc.commit_with(options);
    d.chunk()
}

fn channel(s: &Scene, a: &ActorId) -> DocChunk {
    let mut d = s.doc("C2", a);
    d.set_customer("channel", "distributor");
    d.chunk()
}

fn owner(s: &Scene, a: &ActorId, name: &str) -> DocChunk {
    let mut d = s.doc(name, a);
    d.set_customer("owner", "wang");
    d.chunk()
}

async fn run_row(w: &mut World, row: &Row) {
    let actor = w.actor(row.by);
    let chunk = (row.attack)(&w.scene, &actor);
    let mut problems = w.expect_refused(row.by, chunk, row.want, "attack").await;
    for (i, control) in row.controls.iter().enumerate() {
        let what = format!("control {}", i + 1);
        match control {
            Control::Push { by, make, check } => {
                let actor = w.actor(*by);
                let chunk = make(&w.scene, &actor);
                let id = chunk.id;
                let got = w.expect_stored(*by, chunk, &what).await;
                let stored = got.is_empty();
                problems.extend(got);
                if stored && let Some(check) = check {
                    problems.extend(check(&w.scene, id).err().map(|e| format!("{what}: {e}")));
                }
            }
            Control::Cli { what: did, run } => {
                w.drain().await;
                let id = run(&w.scene);
                problems.extend(w.expect_relayed(id, &format!("{what} ({did})")).await);
            }
        }
    }
    let (code, rule, path) = row.want;
    let expected = format!("refused {code} `{rule}` @{}", if path.is_empty() { "-" } else { path });
    w.record(row.name, row.class, expected, problems);
}

// ---- setting the company up -----------------------------------------------------------

async fn company() -> World {
    let mut server = TestServer::new();
    for (name, role, territory, manager) in USERS {
        server.add_user_with(name, role, *territory, *manager);
    }
    server.start();
    let out = server.admin_ok(&["policy", "import", example_policy().to_str().expect("a UTF-8 path")]);
    assert!(out.contains("version 1"), "{out}");

    let (bystander, _) = RawClient::caught_up(&server, "it").await;
    let mut clients = BTreeMap::new();
    for who in Who::ALL {
        let (c, _) = RawClient::caught_up(&server, who.user()).await;
        clients.insert(who, c);
    }
    // The market department raised SC-52-500's wholesale price 45 days ago (version 2).
    let ma = clients.get_mut(&Who::Ma).expect("ma");
    let mut p = LocalDoc::from_server(&server, POLICY_DOC_ID, &ma.actor).expect("the imported policy");
    policy_doc::publish(&mut p.doc, &policy(2), now() - 45 * DAY, "ma").expect("publish v2");
    assert!(matches!(ma.push(vec![p.chunk()]).await, ServerMsg::Ack { .. }));

    let scene = Scene {
        li_dev: Device::logged_in(&server, "li"),
        zhang_dev: Device::logged_in(&server, "zhang"),
        sun_dev: Device::logged_in(&server, "sun"),
        qian_dev: Device::logged_in(&server, "qian"),
        zhao_dev: Device::logged_in(&server, "zhao"),
        server,
        ids: BTreeMap::new(),
        next_version: Cell::new(3),
    };
    let mut w = World { scene, clients, bystander, report: Vec::new() };
    let s = &mut w.scene;
    let li = &s.li_dev;
    let id = |text: String| -> DocId { text.parse().unwrap_or_else(|_| panic!("not an id: {text}")) };
    s.ids.insert("C1", id(li.add_customer("遵义老酒馆", &["--channel", "restaurant"])));
    s.ids.insert("C2", id(li.add_customer("湄潭酒家", &["--channel", "restaurant"])));
    let c1 = s.ids["C1"].to_string();
    let order = |qty: i64, price: i64, submit: bool| -> DocId {
        let o = li.ok(&["order", "new", "--customer", &c1]);
        li.ok(&["order", "add-line", &o, "--sku", SKU, "--qty", &qty.to_string(), "--unit-price", &price.to_string()]);
        if submit {
            li.ok(&["order", "submit", &o]);
        }
        id(o)
    };
    for name in ["O_draft", "O_draft2", "O_draft3"] {
        s.ids.insert(name, order(6, PRICE, false));
    }
    for name in ["O_conf", "O_ship", "O_exc", "O_cancel"] {
        s.ids.insert(name, order(6, PRICE, true));
    }
    // 5.1 % below the policy price: beyond the rep's 3 %, the manager approves it.
    s.ids.insert("O_need", order(6, 54_000, true));
    li.sync();
    assert_eq!(s.lifecycle(s.ids["O_conf"])["status"], "confirmed", "at today's price, nothing to approve");
    assert_eq!(s.lifecycle(s.ids["O_need"])["status"], "awaiting-approval");

    // The manager's own order: over 200,000 yuan, it needs a manager's approval.
    let zhang = &s.zhang_dev;
    let cz = zhang.add_customer("仁怀酒厂直营", &["--channel", "restaurant"]);
    let o = zhang.ok(&["order", "new", "--customer", &cz]);
    zhang.ok(&["order", "add-line", &o, "--sku", SKU, "--qty", "400", "--unit-price", &PRICE.to_string()]);
    zhang.ok(&["order", "submit", &o]);
    zhang.sync();
    s.ids.insert("O_mgr", id(o));

    // Logistics ships two orders and reports a delay on one.
    let sun = &s.sun_dev;
    sun.sync();
    for name in ["O_ship", "O_exc"] {
        sun.ok(&["order", "ship", &s.ids[name].to_string(), "--carrier", "德邦物流", "--tracking", "DB2026"]);
    }
    sun.ok(&["order", "exception", &s.ids["O_exc"].to_string(), "--kind", "delayed", "--note", "暴雨封路"]);
    sun.sync();
    s.zhao_dev.sync();
    s.qian_dev.sync();

    // 四川 (another territory): chen's customer, which li may not read.
    let chen = w.clients.get_mut(&Who::Chen).expect("chen");
    let mut h = LocalDoc::new_customer_in(&chen.actor, "成都锦江酒行", SC);
    assert!(matches!(chen.push(vec![h.chunk()]).await, ServerMsg::Ack { .. }));
    w.scene.ids.insert("H", h.id);
    // A customer whose first change is wang's (for the forged-actor row).
    let wang = w.clients.get_mut(&Who::Wang).expect("wang");
    let mut cw = customer_of(&wang.actor, "王的客户");
    assert!(matches!(wang.push(vec![cw.chunk()]).await, ServerMsg::Ack { .. }));
    w.scene.ids.insert("C_wang", cw.id);
    w.drain().await;
    w
}

// ---- scenarios -------------------------------------------------------------------------

/// Class 1: without a `created_by`, an order is priced with the authority of the user who
/// pushed it (never an executive's), and the assignment names that user.
async fn authority_comes_from_the_session(w: &mut World) {
    let actor = w.actor(Who::Li);
    // 25 % below the policy price: only an executive may grant that.
    let mut cheap = new_order(&actor, w.scene.id("C1"), "li", None, now(), &[(SKU, 6, 42_675)], true);
    let id = cheap.id;
    let mut problems = w.expect_stored(Who::Li, cheap.chunk(), "order without created_by").await;
    match w.scene.verdict(id) {
        Some(v) => {
            let pricer = v.priced.as_ref().map(|p| p.pricer);
            if (pricer, v.verdict.as_str(), v.required.as_slice())
                != (Some(Role::Rep), "needs_approval", &[Role::Executive][..])
            {
                problems.push(format!("priced by {pricer:?}: {} requiring {:?}", v.verdict, v.required));
            }
        }
        None => problems.push("no verdict".into()),
    }
    if let Some(a) = w.scene.assigned(id) {
        problems.push(format!("assigned (to {a}) without the executive's approval"));
    }
    w.record(
        "an order without created_by, 25 % below policy",
        IDENTITY,
        "stored; priced with the pusher's (rep's) authority: needs the executive",
        problems,
    );

    // At the policy price it is confirmed; the assignment names the session's user.
    let mut fair = new_order(&actor, w.scene.id("C1"), "li", None, now(), &[(SKU, 6, PRICE)], true);
    let id = fair.id;
    let mut problems = w.expect_stored(Who::Li, fair.chunk(), "order without created_by at policy").await;
    match w.scene.assigned(id) {
        Some(by) if by == "li" => {}
        other => problems.push(format!("the assignment names {other:?}, want li")),
    }
    w.record(
        "an order without created_by, confirmed",
        IDENTITY,
        "assigned under the session's user, not the document's (empty) author",
        problems,
    );
}

/// Class 2: an order dated 60 days back is priced with the policy in force 30 days before
/// it arrived (after the rise of 45 days ago), not with the older price.
async fn order_dates_are_clamped(w: &mut World) {
    let actor = w.actor(Who::Li);
    let c1 = w.scene.id("C1");
    let back = now() - 60 * DAY;
    let check = |v: Option<OrderVerdict>, want: &str, arrived: i64| -> Vec<String> {
        let Some(v) = v else { return vec!["no verdict".into()] };
        let at = v.priced.as_ref().map_or(0, |p| p.at);
        let mut p = Vec::new();
        if (v.policy_version, v.verdict.as_str()) != (2, want) {
            p.push(format!("priced with version {} as {}, want version 2 as {want}", v.policy_version, v.verdict));
        }
        if (at - (arrived - 30 * DAY)).abs() > 60_000 {
            p.push(format!("priced at {at}, want the arrival minus 30 days ({})", arrived - 30 * DAY));
        }
        p
    };
    let mut old = new_order(&actor, c1, "li", Some("li"), back, &[(SKU, 6, OLD_PRICE)], true);
    let id = old.id;
    let arrived = now();
    let mut problems = w.expect_stored(Who::Li, old.chunk(), "order dated 60 days back").await;
    problems.extend(check(w.scene.verdict(id), "needs_approval", arrived));
    if w.scene.assigned(id).is_some() {
        problems.push("the order at the old price was confirmed".into());
    }
    // Control: dated 60 days back at today's price, it is what the policy says.
    let mut fair = new_order(&actor, c1, "li", Some("li"), back, &[(SKU, 6, PRICE)], true);
    let fair_id = fair.id;
    let arrived = now();
    problems.extend(w.expect_stored(Who::Li, fair.chunk(), "control: dated back at today's price").await);
    problems.extend(check(w.scene.verdict(fair_id), "ok", arrived).into_iter().map(|p| format!("control: {p}")));
    if w.scene.assigned(fair_id).is_none() {
        problems.push("control: the order at today's price was not confirmed".into());
    }
    w.record(
        "an order dated 60 days back, before a price rise of 45 days ago",
        TIME,
        "stored; priced at arrival − 30 days with version 2 (needs approval), control ok",
        problems,
    );
}

/// Class 2: a new policy version re-prices the unassigned orders it applies to by their
/// clamped date, a backdated order included.
async fn backdated_orders_are_rechecked(w: &mut World) {
    const JX: &str = "JX-53-475";
    let actor = w.actor(Who::Li);
    let c1 = w.scene.id("C1");
    // 21 % below JX-53-475's 318.00: it waits for the executive.
    let mut back = new_order(&actor, c1, "li", Some("li"), now() - 60 * DAY, &[(JX, 6, 25_000)], true);
    let mut fresh = new_order(&actor, c1, "li", Some("li"), now() - DAY, &[(JX, 6, 25_000)], true);
    let (back_id, fresh_id) = (back.id, fresh.id);
    let mut problems = w.expect_stored(Who::Li, back.chunk(), "backdated order").await;
    problems.extend(w.expect_stored(Who::Li, fresh.chunk(), "control order").await);
    // The market lowers JX-53-475 to 250.00, effective from 35 days ago.
    let ma = w.actor(Who::Ma);
    let version = w.scene.take_version();
    let mut p = LocalDoc::from_server(&w.scene.server, POLICY_DOC_ID, &ma).expect("policy");
    let mut cut = policy(version);
    for price in cut.prices.iter_mut().filter(|p| p.sku == JX && p.tier == PriceTier::Wholesale) {
        price.price_fen = 25_000;
    }
    policy_doc::publish(&mut p.doc, &cut, now() - 35 * DAY, "ma").expect("publish the cut");
    problems.extend(w.expect_stored(Who::Ma, p.chunk(), "the price cut").await);
    for (what, id) in [("the backdated order", back_id), ("control: the order of yesterday", fresh_id)] {
        match w.scene.verdict(id) {
            Some(v) if v.policy_version == version && v.verdict == "ok" => {}
            Some(v) => problems.push(format!("{what}: still {} under version {}", v.verdict, v.policy_version)),
            None => problems.push(format!("{what}: no verdict")),
        }
    }
    w.record(
        "an order dated 60 days back, when a version effective 35 days ago is published",
        TIME,
        "re-checked like any order of its clamped date (and confirmed by the cut)",
        problems,
    );
}

/// Class 2: a cancellation dated before the shipment, sent after it, cannot reorder what the
/// server accepted: the order stays shipped with a "cancel after shipment" exception.
async fn backdated_cancellation(w: &mut World) {
    let actor = w.actor(Who::Li);
    let ship = w.scene.id("O_ship");
    let d = LocalDoc::from_server(&w.scene.server, ship, &actor).expect("O_ship");
    let first = order::read(&d.doc, ship).expect("an order").events.iter().map(|e| e.at).min().unwrap_or(0);
    let mut problems = Vec::new();
    let backdated = OrderEvent { at: first - 3_600_000, ..event("cancelled", "li") };
    let chunk = appended(&w.scene, &actor, "O_ship", backdated);
    problems.extend(w.expect_stored(Who::Li, chunk, "the backdated cancellation").await);
    let l = w.scene.lifecycle(ship);
    let open: Vec<&str> =
        l["open_exceptions"].as_array().into_iter().flatten().filter_map(|e| e["exception"].as_str()).collect();
    if l["status"] != "shipped" || !open.contains(&"cancel-after-shipment") {
        problems.push(format!("status {} with open exceptions {open:?}", l["status"]));
    }
    // Control: cancelled before shipment, an order is cancelled.
    let chunk = appended(&w.scene, &actor, "O_cancel", event("cancelled", "li"));
    problems.extend(w.expect_stored(Who::Li, chunk, "control: a cancellation before shipment").await);
    let l = w.scene.lifecycle(w.scene.id("O_cancel"));
    if l["status"] != "cancelled" {
        problems.push(format!("control: status {}", l["status"]));
    }
    w.record(
        "a cancellation dated before the shipment, sent after it",
        TIME,
        "stored as a cancel-after-shipment exception; the order stays shipped",
        problems,
    );
}

/// Class 5: for every message, a document the user may not read gets exactly the answer a
/// document that does not exist gets.
async fn answers_do_not_tell_existence(w: &mut World) {
    let actor = w.actor(Who::Li);
    let hidden = w.scene.id("H");
    type Probe = Box<dyn Fn(DocId) -> ClientMsg>;
    let push = |chunk: DocChunk| -> Probe {
        Box::new(move |id| ClientMsg::Push { docs: vec![DocChunk { id, ..chunk.clone() }] })
    };
    let empty = |kind: DocKind| DocChunk { id: DocId::new_random(), kind, heads: Vec::new(), changes: Vec::new() };
    // Changes whose dependency the server lacks (the first change is never sent).
    let mut dep = AutoCommit::new().with_actor(actor.clone());
    dep.put(ROOT, "name", "a").unwrap();
    dep.commit();
    let heads = dep.get_heads();
    dep.put(ROOT, "phone", "13800000000").unwrap();
    dep.commit();
    let missing = DocChunk { changes: dep.save_after(&heads), ..empty(DocKind::Customer) };
    let mut none = AutoCommit::new().with_actor(actor.clone());
    none.empty_change(CommitOptions::default());
    let no_ops = DocChunk { changes: none.save(), ..empty(DocKind::Customer) };
    let mut long = customer_of(&actor, "长消息");
    long.doc.commit_with(CommitOptions::default().with_message(big_message()));
    let probes: Vec<(&str, Probe)> = vec![
        ("an empty push", push(empty(DocKind::Customer))),
        ("an empty push naming another kind", push(empty(DocKind::Order))),
        ("a resync", Box::new(|id| ClientMsg::Resync { docs: vec![id] })),
        ("changes whose dependencies the server lacks", push(missing)),
        ("a change by an actor not registered to the device", push(customer_of(&ActorId::random(), "x").chunk())),
        ("a change without operations", push(no_ops)),
        ("a 3 KB commit message", push(long.chunk())),
        ("a customer of another territory", push(LocalDoc::new_customer_in(&actor, "y", SC).chunk())),
    ];
    for (what, probe) in probes {
        w.drain().await;
        let before = w.scene.server.counts();
        let audited = w.scene.server.audited_refusals("li").len();
        let writes = matches!(probe(hidden), ClientMsg::Push { docs } if !docs[0].changes.is_empty());
        let mut answers = Vec::new();
        for id in [hidden, DocId::new_random()] {
            w.drain_client(Who::Li).await;
            let msg = probe(id);
            let c = w.client(Who::Li);
            let answer = match msg {
                ClientMsg::Push { docs } => c.push(docs).await,
                other => {
                    c.send(&other).await;
                    c.recv().await
                }
            };
            answers.push((id, answer));
        }
        let mut problems = Vec::new();
        let encoded: Vec<Vec<u8>> = answers.iter().map(|(id, a)| wire::encode(&without_id(a, *id)).unwrap()).collect();
        if encoded[0] != encoded[1] {
            problems.push(format!("another territory's document: {}", short(&answers[0].1)));
            problems.push(format!("an unknown id: {}", short(&answers[1].1)));
        }
        if w.scene.server.counts() != before {
            problems.push("stored something".into());
        }
        // A write to the other territory's document is audited, whatever it was answered.
        let trail = w.scene.server.audited_refusals("li");
        if writes && !trail.get(audited..).unwrap_or_default().iter().any(|(_, doc)| *doc == hidden) {
            problems.push("the attempt on the other territory's document is not in the audit trail".into());
        }
        problems.extend(w.expect_bystander_silent(what).await);
        let expected = if writes { "byte-identical answers; the attempt audited" } else { "byte-identical answers" };
        w.record(format!("{what}: another territory's document vs an unknown id"), EXISTENCE, expected, problems);
    }
}

/// `msg` with every mention of `id` replaced by the nil id.
fn without_id(msg: &ServerMsg, id: DocId) -> ServerMsg {
    let nil = DocId(uuid::Uuid::nil());
    let fix = |d: DocId| if d == id { nil } else { d };
    match msg.clone() {
        ServerMsg::Ack { mut docs } => {
            docs.iter_mut().for_each(|d| d.id = fix(d.id));
            ServerMsg::Ack { docs }
        }
        ServerMsg::Refused { mut refusals } => {
            refusals.iter_mut().for_each(|r| r.id = fix(r.id));
            ServerMsg::Refused { refusals }
        }
        other => other,
    }
}

/// Class 6: an order pushed before its customer (an orphan) is never taken over by someone
/// else creating a customer with that id — in another territory or the same one.
async fn orphans_stay_their_authors(w: &mut World) {
    let wang = w.actor(Who::Wang);
    let mut x = LocalDoc::new_customer(&wang, "王的新经销商");
    x.set_customer("channel", "distributor");
    // At the factory price: fine for a distributor, far below the restaurant price.
    let mut orphan = new_order(&wang, x.id, "wang", Some("wang"), now(), &[(SKU, 6, FACTORY_PRICE)], true);
    let o = orphan.id;
    let mut setup = w.expect_stored(Who::Wang, orphan.chunk(), "the orphan order").await;
    if w.scene.verdict(o).is_some() {
        setup.push("an order whose customer the server does not hold got a verdict".into());
    }
    let untouched = |s: &Scene| -> Vec<String> {
        let mut p = Vec::new();
        let t = s.server.doc_facts(o).and_then(|f| f.territory);
        if t.as_deref() != Some(GZ) {
            p.push(format!("the orphan moved to {t:?}"));
        }
        if s.verdict(o).is_some() {
            p.push("the orphan got a verdict".into());
        }
        if s.assigned(o).is_some() {
            p.push("the orphan was assigned".into());
        }
        p
    };
    for (who, territory, name) in
        [(Who::Chen, SC, "another territory's rep"), (Who::Li, GZ, "a rep of the same territory")]
    {
        let actor = w.actor(who);
        let mut squat = LocalDoc::new_customer_in(&actor, "抢注的客户", territory);
        squat.set_customer("channel", "distributor");
        squat.id = x.id;
        let mut problems = std::mem::take(&mut setup);
        problems.extend(w.expect_refused(who, squat.chunk(), refused("reserved-id", ""), "attack").await);
        problems.extend(untouched(&w.scene));
        w.record(
            format!("{name} creates the customer another rep's orphan order names"),
            CREATION,
            "refused `reserved-id`; the orphan stays in 贵州 without verdict",
            problems,
        );
    }
    // Control: its author's customer arrives, the orphan is checked and confirmed.
    let mut problems = w.expect_stored(Who::Wang, x.chunk(), "the orphan's own customer").await;
    match w.scene.verdict(o) {
        Some(v) if v.verdict == "ok" => {}
        other => problems.push(format!("the orphan's verdict: {:?}", other.map(|v| v.verdict))),
    }
    if w.scene.assigned(o).is_none() {
        problems.push("the orphan was not confirmed once its customer arrived".into());
    }
    w.record(
        "the orphan's author pushes its customer",
        CREATION,
        "stored; the orphan is priced and confirmed",
        problems,
    );
}

fn print_report(report: &[Line], started: Instant) -> usize {
    println!("\n| # | attack | class | expected | result |\n|---|---|---|---|---|");
    let mut failed = 0;
    for (i, l) in report.iter().enumerate() {
        let result = if l.problems.is_empty() {
            "ok".to_string()
        } else {
            failed += 1;
            format!("FAILED: {}", l.problems.join("; "))
        };
        println!("| {} | {} | {} | {} | {result} |", i + 1, l.name, l.class, l.expected);
    }
    println!("\n{} attacks, {failed} failed, in {:.1} s", report.len(), started.elapsed().as_secs_f64());
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_is_refused_and_every_honest_twin_accepted() {
    let started = Instant::now();
    let mut w = company().await;
    eprintln!("company set up in {:.1} s", started.elapsed().as_secs_f64());
    for row in rows() {
        run_row(&mut w, &row).await;
    }
    authority_comes_from_the_session(&mut w).await;
    order_dates_are_clamped(&mut w).await;
    backdated_orders_are_rechecked(&mut w).await;
    backdated_cancellation(&mut w).await;
    answers_do_not_tell_existence(&mut w).await;
    orphans_stay_their_authors(&mut w).await;

    // Everyone else kept syncing: the honest devices converge on the same orders.
    for d in [&w.scene.li_dev, &w.scene.zhang_dev, &w.scene.sun_dev, &w.scene.qian_dev, &w.scene.zhao_dev] {
        let s = d.sync();
        assert!(s.refused == serde_json::json!(0) || s.refused == serde_json::json!([]), "[{}] {s:?}", d.name);
    }
    let o = w.scene.id("O_conf").to_string();
    let view = w.scene.li_dev.order(&o)["lifecycle"].clone();
    for d in [&w.scene.zhang_dev, &w.scene.sun_dev, &w.scene.qian_dev, &w.scene.zhao_dev] {
        assert_eq!(d.order(&o)["lifecycle"], view, "[{}]", d.name);
    }
    let failed = print_report(&w.report, started);
    assert!(w.report.len() >= 30, "only {} attacks", w.report.len());
    assert_eq!(failed, 0, "{failed} of {} attacks got through or their controls failed (table above)", w.report.len());
}

// ---- size caps -------------------------------------------------------------------------

/// What a size attack must leave behind: the attacker closed with `code`, nothing stored,
/// and the witness's next edit reaching the bystander.
struct Arena {
    server: TestServer,
    witness: Device,
    witness_customer: String,
    bystander: RawClient,
    edits: usize,
}

impl Arena {
    async fn others_still_sync(&mut self, after: &str) -> Vec<String> {
        self.edits += 1;
        let note = format!("第{}次正常编辑（{after}之后）", self.edits);
        self.witness.ok(&["customer", "set", &self.witness_customer, "notes", &note]);
        let s = self.witness.sync();
        let id: DocId = self.witness_customer.parse().expect("an id");
        let mut problems = Vec::new();
        if s.pushed_docs != 1 {
            problems.push(format!("the witness pushed {} documents", s.pushed_docs));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.bystander.next(left).await {
                Some(Incoming::Msg(ServerMsg::Changes { docs, .. })) if docs.iter().any(|d| d.id == id) => break,
                Some(Incoming::Msg(_)) => {}
                other => {
                    problems.push(format!("the bystander did not get the witness's edit: {other:?}"));
                    break;
                }
            }
        }
        problems
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_output_over_their_caps_close_only_the_offender() {
    let started = Instant::now();
    // li (贵州) attacks; wang (四川) is the witness and the bystander, who never reads li's
    // documents.
    let mut server = TestServer::new();
    server.add_user("li", "rep", Some(GZ));
    server.add_user("wang", "rep", Some(SC));
    server.start();
    let witness = Device::logged_in(&server, "wang");
    let witness_customer = witness.add_customer("见证客户", &[]);
    witness.sync();
    let (bystander, _) = RawClient::caught_up(&server, "wang").await;
    let mut arena = Arena { server, witness, witness_customer, bystander, edits: 0 };
    let mut report: Vec<Line> = Vec::new();

    let hello = |actors: usize, client: String| {
        ClientMsg::Hello(Hello {
            device_id: uuid::Uuid::nil(), // replaced below
            actors: (0..actors).map(|_| ActorId::random().to_bytes().to_vec()).collect(),
            cursor: 0,
            client,
        })
    };
    let empties = |n: usize| ClientMsg::Push {
        docs: (0..n)
            .map(|_| DocChunk {
                id: DocId::new_random(),
                kind: DocKind::Customer,
                heads: Vec::new(),
                changes: Vec::new(),
            })
            .collect(),
    };
    let resync = |n: usize| ClientMsg::Resync { docs: (0..n).map(|_| DocId::new_random()).collect() };
    // (name, messages, after a hello, the honest twin under the cap)
    let cases: Vec<(&str, ClientMsg, bool, ClientMsg)> = vec![
        (
            "a push of MAX_DOCS_PER_PUSH + 1 documents",
            empties(wire::MAX_DOCS_PER_PUSH + 1),
            true,
            empties(wire::MAX_DOCS_PER_PUSH),
        ),
        ("a hello with 300 actors", hello(300, "raw".into()), false, hello(wire::MAX_ACTORS_PER_HELLO, "raw".into())),
        ("a hello with a 3 MB client name", hello(1, "x".repeat(3_000_000)), false, hello(1, "x".repeat(128))),
        ("a resync of 20,000 ids", resync(20_000), true, resync(wire::MAX_RESYNC_DOCS)),
    ];
    for (name, attack, hello_first, honest) in cases {
        let before = arena.server.counts();
        let mut problems = Vec::new();
        // The hello's device must be the token's: fill it in per connection.
        let mut c = RawClient::login(&arena.server, "li").await;
        let with_device = |m: &ClientMsg, device: uuid::Uuid| match m.clone() {
            ClientMsg::Hello(h) => ClientMsg::Hello(Hello { device_id: device, ..h }),
            other => other,
        };
        if hello_first {
            c.hello(0).await;
            c.catch_up().await;
        }
        c.send_bytes(wire::encode(&with_device(&attack, c.device_id)).expect("encodable")).await;
        match c.try_error_close().await {
            Ok(ErrorCode::Malformed) => {}
            other => problems.push(format!("closed with {other:?}, want malformed")),
        }
        if arena.server.counts() != before {
            problems.push("stored something".into());
        }
        problems.extend(arena.others_still_sync(name).await);
        // The honest twin, at the cap, is answered and the connection stays.
        let mut c = RawClient::login(&arena.server, "li").await;
        if hello_first {
            c.hello(0).await;
            c.catch_up().await;
        }
        c.send(&with_device(&honest, c.device_id)).await;
        let answer = match &honest {
            ClientMsg::Hello(_) => {
                let up = c.catch_up().await;
                ServerMsg::CaughtUp { cursor: up.cursor, docs_sent: up.docs_sent }
            }
            _ => c.recv().await,
        };
        let answered = match (&honest, answer) {
            (ClientMsg::Push { docs }, ServerMsg::Ack { docs: acks }) => acks.len() == docs.len(),
            (ClientMsg::Hello(_), ServerMsg::CaughtUp { .. }) => true,
            (ClientMsg::Resync { .. }, ServerMsg::Changes { docs, .. }) => docs.is_empty(),
            (_, other) => {
                problems.push(format!("the honest twin got {}", short(&other)));
                true
            }
        };
        if !answered {
            problems.push("the honest twin was not fully answered".into());
        }
        report.push(Line {
            name: name.into(),
            class: SIZE,
            expected: "closed `malformed`; twin at the cap answered".into(),
            problems,
        });
    }

    // A connection that never reads while asking again and again for a 2 MB document.
    let problems = slow_consumer(&mut arena).await;
    report.push(Line {
        name: "never reading while asking 100 times for a 1 MB document".into(),
        class: SIZE,
        expected: format!(
            "closed `slow_consumer`; the server grows by less than {} MiB",
            OUTBOX_BYTES / 1024 / 1024 + 16
        ),
        problems,
    });
    let failed = print_report(&report, started);
    assert_eq!(failed, 0, "{failed} size attacks got through (table above)");
}

async fn slow_consumer(arena: &mut Arena) -> Vec<String> {
    let mut problems = Vec::new();
    // A customer of 1 MB (random bytes do not compress).
    let mut rng = jiuloop_tests::Rng::new(16);
    let (mut li, _) = RawClient::caught_up(&arena.server, "li").await;
    let noise: Vec<u8> = (0..1_000_000 / 8).flat_map(|_| rng.next_u64().to_le_bytes()).collect();
    let mut big = LocalDoc::new_customer(&li.actor, "大客户");
    big.doc.put(ROOT, "address", ScalarValue::Bytes(noise)).unwrap();
    let big_id = big.id;
    assert!(matches!(li.push(vec![big.chunk()]).await, ServerMsg::Ack { .. }), "the big customer is stored");
    // The honest twin: asked again and again, each answer read before the next question —
    // more than the whole budget in all — every resync is answered.
    for i in 0..20 {
        li.send(&ClientMsg::Resync { docs: vec![big_id] }).await;
        match li.recv().await {
            ServerMsg::Changes { docs, .. } if docs.len() == 1 => {}
            other => {
                problems.push(format!("honest resync {i}: {}", short(&other)));
                break;
            }
        }
    }
    li.close().await;
    let cursor: i64 =
        arena.server.db().query_row("SELECT coalesce(max(last_seq), 0) FROM docs", [], |r| r.get(0)).expect("max seq");
    let cursor = cursor as u64;
    let pid = arena.server.pid().expect("the server runs");
    let rss = || jiuloop_tests::load::procfs::rss_kib(pid).map_or(0, |(now, _)| now);
    let baseline = rss();
    let mut slow = RawClient::login(&arena.server, "li").await;
    slow.hello(cursor).await; // nothing to catch up on: only the resyncs' answers are queued
    slow.catch_up().await;
    let mut peak = baseline;
    for _ in 0..100 {
        slow.send(&ClientMsg::Resync { docs: vec![big_id] }).await;
    }
    // It reads nothing until the server has given up on it (or a minute and a half).
    let asked = Instant::now();
    let log_before = arena.server.log().matches("slow_consumer").count();
    while asked.elapsed() < Duration::from_secs(90) && arena.server.log().matches("slow_consumer").count() == log_before
    {
        peak = peak.max(rss());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waited = asked.elapsed();
    for _ in 0..10 {
        peak = peak.max(rss());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let grown_mib = peak.saturating_sub(baseline) as f64 / 1024.0;
    println!(
        "slow consumer: dropped after {:.1} s; server RSS {baseline} KiB -> peak {peak} KiB (+{grown_mib:.1} MiB)",
        waited.as_secs_f64()
    );
    if grown_mib > (OUTBOX_BYTES / 1024 / 1024 + 16) as f64 {
        problems.push(format!("the server grew by {grown_mib:.1} MiB"));
    }
    // Now it reads: what was in flight, then the error and the close.
    let mut code = None;
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline {
        match slow.next(Duration::from_secs(35)).await {
            Some(Incoming::Msg(ServerMsg::Changes { .. })) => {}
            Some(Incoming::Msg(ServerMsg::Error { code: c, .. })) => {
                let close = slow.next(Duration::from_secs(5)).await;
                if !matches!(close, Some(Incoming::Close(Some(n))) if n == c.close_code()) {
                    problems.push(format!("after Error({c}) came {close:?}"));
                }
                code = Some(c);
                break;
            }
            other => {
                problems.push(format!("instead of slow_consumer: {other:?}"));
                break;
            }
        }
    }
    if code != Some(ErrorCode::SlowConsumer) {
        problems.push(format!("closed with {code:?}, want slow_consumer"));
    }
    problems.extend(arena.others_still_sync("the slow consumer").await);
    problems
}

// ---- the policy's fixed id, before the first publication --------------------------------

/// Class 7 on a fresh installation: nobody takes the policy's fixed id for another kind
/// before the market department first publishes, nor publishes a policy anywhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_id_is_the_policy_s_even_before_it_exists() {
    let started = Instant::now();
    let mut server = TestServer::new();
    server.add_user("li", "rep", Some(GZ));
    server.add_user("ma", "market", None);
    server.add_user("it", "admin", None);
    server.start();
    let (bystander, _) = RawClient::caught_up(&server, "it").await;
    let (li, _) = RawClient::caught_up(&server, "li").await;
    let (ma, _) = RawClient::caught_up(&server, "ma").await;
    let scene = Scene {
        li_dev: Device::new("li-unused"),
        zhang_dev: Device::new("zhang-unused"),
        sun_dev: Device::new("sun-unused"),
        qian_dev: Device::new("qian-unused"),
        zhao_dev: Device::new("zhao-unused"),
        server,
        ids: BTreeMap::new(),
        next_version: Cell::new(1),
    };
    let clients = BTreeMap::from([(Who::Li, li), (Who::Ma, ma)]);
    let mut w = World { scene, clients, bystander, report: Vec::new() };
    let rows = vec![
        Row {
            name: "a customer at the policy's id, before the first publication",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Li,
            attack: |_, a| {
                let mut c = customer_of(a, "占用价格体系编号");
                c.id = POLICY_DOC_ID;
                c.chunk()
            },
            want: refused("reserved-id", ""),
            controls: vec![push(Who::Li, |_, a| customer_of(a, "普通客户").chunk())],
        },
        Row {
            name: "a policy published under another id",
            class: EMPTY_OR_UNWRITABLE,
            by: Who::Ma,
            attack: |s, a| {
                let mut doc = AutoCommit::new().with_actor(a.clone());
                policy_doc::publish(&mut doc, &policy(s.take_version()), now(), "ma").expect("publish");
                LocalDoc::from_doc(DocId::new_random(), DocKind::Policy, doc).chunk()
            },
            want: refused("reserved-id", ""),
            controls: vec![push(Who::Ma, |s, a| {
                let mut doc = AutoCommit::new().with_actor(a.clone());
                policy_doc::publish(&mut doc, &policy(s.take_version()), now(), "ma").expect("publish");
                LocalDoc::from_doc(POLICY_DOC_ID, DocKind::Policy, doc).chunk()
            })],
        },
    ];
    for row in rows {
        run_row(&mut w, &row).await;
    }
    let failed = print_report(&w.report, started);
    assert_eq!(failed, 0, "{failed} attacks on the policy's id got through (table above)");
}
