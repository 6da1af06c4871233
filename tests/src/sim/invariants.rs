//! What must hold after every plan round, once everyone has settled: read straight from
//! the server's tables (the SQLite file with rusqlite, or the PostgreSQL database with its
//! client — not through the hub) and from each device's store.

use super::world::{Backing, Coverage, World, changes_in};
use automerge::{AutoCommit, ChangeHash};
use protocol::rules::{DocFacts, may_read};
use protocol::schema::order_lifecycle;
use protocol::schema::policy_doc::{self, POLICY_DOC_ID};
use protocol::schema::verdict::{self, verdict_id};
use protocol::schema::{EventKind, OrderStatus, order};
use protocol::{DocId, DocKind};
use std::collections::{BTreeMap, HashSet};

/// One document as the server stores it.
pub struct ServerDoc {
    pub kind: DocKind,
    pub heads: Vec<ChangeHash>,
    pub facts: DocFacts,
    pub doc: AutoCommit,
    pub changes: HashSet<ChangeHash>,
}

/// A `docs` row: id, kind, heads, territory, author, assignee, snapshot.
type DocsRow = (Vec<u8>, i64, Vec<u8>, Option<String>, Option<String>, Option<String>, Option<Vec<u8>>);

/// Everything the server has stored.
pub struct ServerView {
    pub docs: BTreeMap<DocId, ServerDoc>,
    /// Every change of every document.
    pub all: HashSet<ChangeHash>,
    tables: Tables,
}

/// What the invariants read of the server's tables, the same queries on either engine.
struct Tables {
    docs: Vec<DocsRow>,
    /// (document, bytes) in sequence order.
    changes: Vec<(Vec<u8>, Vec<u8>)>,
    /// (order, department, kind) with more than one notification.
    dup_notes: i64,
    /// Orders assigned more than once.
    dup_assign: i64,
    /// Each assignment with its count of `assigned` notifications to logistics and finance.
    assignments: Vec<(Vec<u8>, i64)>,
    moves: i64,
}

const DOCS: &str = "SELECT id, kind, heads, territory, author, assignee, snapshot FROM docs";
const CHANGES: &str = "SELECT doc_id, bytes FROM changes ORDER BY seq";
const DUP_NOTES: &str =
    "SELECT count(*) FROM (SELECT 1 FROM notifications GROUP BY order_id, department, kind HAVING count(*) > 1) AS d";
const DUP_ASSIGN: &str = "SELECT count(*) FROM (SELECT 1 FROM assignments GROUP BY order_id HAVING count(*) > 1) AS d";
const ASSIGNMENTS: &str = "SELECT a.order_id, (SELECT count(*) FROM notifications n WHERE n.order_id = a.order_id
    AND n.kind = 'assigned' AND n.department IN ('logistics', 'finance')) FROM assignments a";
const MOVES: &str = "SELECT count(*) FROM moves";

fn sql(e: impl std::fmt::Display) -> String {
    format!("reading the server's database: {e}")
}

impl Tables {
    fn read(backing: &Backing) -> Result<Tables, String> {
        match backing {
            Backing::Sqlite(path) => Self::sqlite(path),
            Backing::Postgres { url, .. } => Self::postgres(url),
        }
    }

    fn sqlite(path: &std::path::Path) -> Result<Tables, String> {
        let c = rusqlite::Connection::open(path).map_err(sql)?;
        let count = |q: &str| c.query_row(q, [], |r| r.get::<_, i64>(0)).map_err(sql);
        let mut stmt = c.prepare(DOCS).map_err(sql)?;
        let docs = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .map_err(sql)?
            .collect::<Result<Vec<DocsRow>, _>>()
            .map_err(sql)?;
        let mut stmt = c.prepare(CHANGES).map_err(sql)?;
        let changes =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
        let mut stmt = c.prepare(ASSIGNMENTS).map_err(sql)?;
        let assignments =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
        Ok(Tables {
            docs,
            changes,
            dup_notes: count(DUP_NOTES)?,
            dup_assign: count(DUP_ASSIGN)?,
            assignments,
            moves: count(MOVES)?,
        })
    }

    fn postgres(url: &str) -> Result<Tables, String> {
        let mut c = postgres::Client::connect(url, postgres::NoTls).map_err(sql)?;
        let mut count = |q: &str| c.query_one(q, &[]).map(|r| r.get::<_, i64>(0)).map_err(sql);
        let (dup_notes, dup_assign, moves) = (count(DUP_NOTES)?, count(DUP_ASSIGN)?, count(MOVES)?);
        let docs = c
            .query(DOCS, &[])
            .map_err(sql)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
            .collect();
        let changes = c.query(CHANGES, &[]).map_err(sql)?.iter().map(|r| (r.get(0), r.get(1))).collect();
        let assignments = c.query(ASSIGNMENTS, &[]).map_err(sql)?.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(Tables { docs, changes, dup_notes, dup_assign, assignments, moves })
    }
}

impl ServerView {
    pub fn read(backing: &Backing) -> Result<ServerView, String> {
        let tables = Tables::read(backing)?;
        let mut bytes: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut rows = Vec::new();
        for (id, kind, heads, territory, author, assignee, snapshot) in &tables.docs {
            bytes.insert(id.clone(), snapshot.clone().unwrap_or_default());
            rows.push((id.clone(), *kind, heads.clone(), territory.clone(), author.clone(), assignee.clone()));
        }
        for (id, b) in &tables.changes {
            bytes.entry(id.clone()).or_default().extend_from_slice(b);
        }
        let mut docs = BTreeMap::new();
        let mut all = HashSet::new();
        for (id, kind, heads, territory, author, assignee) in rows {
            let doc_id = DocId::from_slice(&id).ok_or("a document id that is not 16 bytes")?;
            let kind = DocKind::from_code(kind).ok_or_else(|| format!("{doc_id}: unknown kind {kind}"))?;
            let mut doc = AutoCommit::load(&bytes[&id]).map_err(|e| format!("{doc_id} does not load: {e}"))?;
            let mut heads: Vec<ChangeHash> =
                heads.chunks_exact(32).map(|h| ChangeHash::try_from(h).expect("32 bytes")).collect();
            heads.sort();
            let mut actual = doc.get_heads();
            actual.sort();
            if actual != heads {
                return Err(format!("{doc_id}: the stored heads are not the heads of the stored changes"));
            }
            let changes: HashSet<ChangeHash> = doc.get_changes_meta(&[]).iter().map(|c| c.hash).collect();
            all.extend(changes.iter().copied());
            let facts = DocFacts { kind, territory, author, assignee, frozen: false };
            docs.insert(doc_id, ServerDoc { kind, heads, facts, doc, changes });
        }
        Ok(ServerView { docs, all, tables })
    }
}

/// A device's document as its store holds it.
struct HeldDoc {
    heads: Vec<ChangeHash>,
    server_heads: Vec<ChangeHash>,
    loaded: std::sync::Arc<super::world::Loaded>,
}

/// Check every invariant; the error lists what is violated (the first few).
pub fn check(w: &mut World) -> Result<(), String> {
    let server = ServerView::read(&w.backing)?;
    let mut bad: Vec<String> = Vec::new();
    let held: Vec<BTreeMap<DocId, HeldDoc>> = w.devices.iter_mut().map(held_docs).collect();
    docs_where_they_may_be_read(w, &held, &server, &mut bad);
    acknowledged_is_durable(w, &server, &mut bad);
    refused_is_not_stored(w, &held, &server, &mut bad);
    nothing_authored_is_lost(w, &server, &mut bad);
    effects_once(&server, &mut bad)?;
    verdicts_current(&server, &mut bad);
    w.stats.coverage = coverage(w, &server)?;
    if bad.is_empty() {
        return Ok(());
    }
    let n = bad.len();
    bad.truncate(12);
    Err(format!("{n} invariant violation(s):\n  - {}", bad.join("\n  - ")))
}

/// The documents a device's store holds (not the empty shells a refused creation leaves),
/// with their heads. Loading is what costs: a document whose stored bytes did not change
/// since the last check is not loaded again.
fn held_docs(d: &mut super::world::SimDevice) -> BTreeMap<DocId, HeldDoc> {
    use std::hash::{Hash as _, Hasher as _};
    let mut out = BTreeMap::new();
    let mut cache = std::mem::take(&mut d.heads_cache);
    for (id, s) in &d.store.docs {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        s.chunks.hash(&mut h);
        let fingerprint = h.finish();
        let loaded = match cache.get(id) {
            Some((f, loaded)) if *f == fingerprint => loaded.clone(),
            _ => {
                let mut doc = AutoCommit::new();
                for c in &s.chunks {
                    let _ = doc.load_incremental(c);
                }
                let mut heads = doc.get_heads();
                heads.sort();
                let changes = doc.get_changes_meta(&[]).iter().map(|c| c.hash).collect();
                let loaded = std::sync::Arc::new(super::world::Loaded { heads, changes });
                cache.insert(*id, (fingerprint, loaded.clone()));
                loaded
            }
        };
        let heads = loaded.heads.clone();
        if heads.is_empty() {
            continue; // an empty shell (a refused creation): holds nothing
        }
        let mut server_heads: Vec<ChangeHash> =
            s.server_heads.iter().map(|h| ChangeHash::try_from(h.as_slice()).expect("32 bytes")).collect();
        server_heads.sort();
        out.insert(*id, HeldDoc { heads, server_heads, loaded });
    }
    cache.retain(|id, _| d.store.docs.contains_key(id));
    d.heads_cache = cache;
    out
}

/// Every device that may read a document (the rules, with the server's stored facts)
/// holds exactly the server's heads of it, and knows them as the server's; no device holds
/// a document it may not read, or one the server does not have. What a device holds in
/// memory is what its store holds.
fn docs_where_they_may_be_read(
    w: &mut World,
    held: &[BTreeMap<DocId, HeldDoc>],
    server: &ServerView,
    bad: &mut Vec<String>,
) {
    for (d, held) in w.devices.iter_mut().zip(held) {
        let p = d.principal();
        for (id, s) in &server.docs {
            let readable = may_read(&p, &s.facts);
            match (readable, held.get(id)) {
                (true, None) => bad.push(format!("{} may read {} {id} but does not hold it", d.name, s.kind)),
                (true, Some(h)) if h.heads != s.heads => {
                    bad.push(format!("{} holds {} {id} at other heads than the server", d.name, s.kind))
                }
                (true, Some(h)) if h.server_heads != s.heads => bad
                    .push(format!("{} holds {} {id} like the server but remembers other server heads", d.name, s.kind)),
                (false, Some(_)) => bad.push(format!(
                    "{} holds {} {id} that it may not read (territory {:?})",
                    d.name, s.kind, s.facts.territory
                )),
                _ => {}
            }
        }
        for id in held.keys().filter(|id| !server.docs.contains_key(id)) {
            bad.push(format!("{} holds {id}, which the server does not have", d.name));
        }
        if d.replica.doc_count() != d.store.docs.len()
            || d.replica.inbox() != d.store.inbox.as_slice()
            || d.replica.cursor() != d.store.cursor
        {
            bad.push(format!("{}: memory and store differ (documents, inbox or cursor)", d.name));
        }
    }
}

/// Nothing acknowledged is lost, across hub restarts.
fn acknowledged_is_durable(w: &World, server: &ServerView, bad: &mut Vec<String>) {
    for (id, heads) in &w.track.acks {
        let missing = heads
            .iter()
            .map(|h| ChangeHash::try_from(h.as_slice()).expect("32 bytes"))
            .filter(|h| !server.docs.get(id).is_some_and(|s| s.changes.contains(h)))
            .count();
        if missing > 0 {
            bad.push(format!("{id}: {missing} acknowledged head(s) are not stored"));
        }
    }
}

/// The hashes of the changes kept in a device's inbox.
fn inbox_changes(d: &super::world::SimDevice) -> HashSet<ChangeHash> {
    d.replica.inbox().iter().flat_map(|i| changes_in(&i.changes)).map(|(h, _)| h).collect()
}

/// Nothing refused is stored or relayed: a refused change reaches the server (and so any
/// device) only if a later push of it was accepted, and never once its author was told it
/// was refused. Every refused change is in its author's inbox, or on the server.
fn refused_is_not_stored(w: &World, held: &[BTreeMap<DocId, HeldDoc>], server: &ServerView, bad: &mut Vec<String>) {
    let inboxes: Vec<HashSet<ChangeHash>> = w.devices.iter().map(inbox_changes).collect();
    for r in &w.track.refusals {
        let who = &w.devices[r.dev].name;
        for h in &r.hashes {
            let stored = server.all.contains(h);
            for (d, docs) in w.devices.iter().zip(held) {
                let holds = docs.get(&r.doc).is_some_and(|doc| doc.loaded.changes.contains(h));
                if holds && (r.delivered || !stored) {
                    bad.push(format!(
                        "{} holds a change to {} that was refused ({}:{}){}",
                        d.name,
                        r.doc,
                        r.rule,
                        r.path,
                        if stored { " and its author was told so" } else { " and the server does not have" }
                    ));
                }
            }
            let accepted_later = w.track.accepted.get(h).is_some_and(|b| *b > r.batch);
            if stored && r.delivered {
                bad.push(format!(
                    "{who} was told a change to {} was refused ({}:{}), but the server stores it",
                    r.doc, r.rule, r.path
                ));
            } else if stored && !accepted_later {
                bad.push(format!("a change to {} refused ({}:{}) is stored", r.doc, r.rule, r.path));
            } else if !stored && !inboxes[r.dev].contains(h) {
                bad.push(format!(
                    "a change {who} made to {} was refused ({}:{}) and is in neither its inbox nor on the server",
                    r.doc, r.rule, r.path
                ));
            }
        }
    }
}

/// No silent loss: every change a device made is on the server or in its inbox.
fn nothing_authored_is_lost(w: &World, server: &ServerView, bad: &mut Vec<String>) {
    for d in &w.devices {
        let inbox = inbox_changes(d);
        let lost = d.authored.iter().filter(|h| !server.all.contains(*h) && !inbox.contains(*h)).count();
        if lost > 0 {
            bad.push(format!("{lost} change(s) {} made are neither on the server nor in its inbox", d.name));
        }
    }
}

/// Exactly-once effects: at most one assignment and one notification per (order,
/// department, kind); an assignment has its two notifications; the verdict says when it
/// was assigned; an order the server's rules confirm is assigned.
fn effects_once(server: &ServerView, bad: &mut Vec<String>) -> Result<(), String> {
    let t = &server.tables;
    if t.dup_notes > 0 {
        bad.push(format!("{} (order, department, kind) have more than one notification", t.dup_notes));
    }
    if t.dup_assign > 0 {
        bad.push(format!("{} orders are assigned more than once", t.dup_assign));
    }
    let mut assigned = HashSet::new();
    for (id, notes) in &t.assignments {
        let id = DocId::from_slice(id).ok_or("an assignment of a bad id")?;
        if *notes != 2 {
            bad.push(format!("order {id} is assigned with {notes} notifications, not 2"));
        }
        assigned.insert(id);
    }
    let versions = server.docs.get(&POLICY_DOC_ID).map(|p| policy_doc::read(&p.doc)).unwrap_or_default();
    for (id, s) in &server.docs {
        if s.kind != DocKind::Order {
            continue;
        }
        let Some(v) = server.docs.get(&verdict_id(*id)).and_then(|v| verdict::read(&v.doc).ok()) else { continue };
        if v.assigned_at.is_some() != assigned.contains(id) {
            bad.push(format!("order {id}: the verdict's assigned_at and the assignments table disagree"));
        }
        let (Ok(o), Some(required)) = (order::read(&s.doc, *id), v.required_approvals()) else { continue };
        let hash = client_core::content_hash_of(&o);
        let Some(policy) = policy_doc::in_force(&versions, o.created_at) else { continue };
        let may_approve = |a, r| policy.policy.may_approve(a, r);
        let life = order_lifecycle::fold(&o.events, Some(&required), &hash, &may_approve);
        let confirmed = matches!(
            life.status,
            OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Closed
        );
        if confirmed && v.content_hash == hash && !assigned.contains(id) {
            bad.push(format!("order {id} is {} but not assigned", life.status.as_str()));
        }
    }
    Ok(())
}

/// Once a policy is published, every submitted order has a verdict on its current content.
fn verdicts_current(server: &ServerView, bad: &mut Vec<String>) {
    let published = server.docs.get(&POLICY_DOC_ID).is_some_and(|p| !policy_doc::read(&p.doc).is_empty());
    if !published {
        return;
    }
    for (id, s) in &server.docs {
        if s.kind != DocKind::Order {
            continue;
        }
        let Ok(o) = order::read(&s.doc, *id) else { continue };
        if !o.events.iter().any(|e| e.kind == EventKind::Submitted.as_str()) {
            continue;
        }
        // No verdict without the parent: an order whose customer the server does not hold
        // (its creation refused, or not arrived yet) is priced when it does.
        if o.customer.is_none_or(|c| server.docs.get(&c).is_none_or(|d| d.kind != DocKind::Customer)) {
            continue;
        }
        let hash = client_core::content_hash_of(&o);
        match server.docs.get(&verdict_id(*id)).map(|v| verdict::read(&v.doc)) {
            None => bad.push(format!("submitted order {id} has no verdict")),
            Some(Err(e)) => bad.push(format!("the verdict of order {id} does not read: {e}")),
            Some(Ok(v)) if v.content_hash != hash => {
                bad.push(format!("the verdict of order {id} is about other content than the order's"))
            }
            Some(Ok(_)) => {}
        }
    }
}

fn coverage(w: &World, server: &ServerView) -> Result<Coverage, String> {
    let mut c = Coverage::default();
    for (id, s) in &server.docs {
        match s.kind {
            DocKind::Customer => c.customers += 1,
            DocKind::Visit => c.visits += 1,
            DocKind::CompetitorObservation => c.observations += 1,
            DocKind::Policy => c.policy_versions += policy_doc::read(&s.doc).len() as u64,
            DocKind::Order => {
                c.orders += 1;
                let Ok(o) = order::read(&s.doc, *id) else { continue };
                if o.events.iter().any(|e| e.kind == EventKind::Submitted.as_str()) {
                    c.submitted += 1;
                }
                if o.events.iter().any(|e| e.kind == EventKind::Shipped.as_str()) {
                    c.shipped_or_later += 1;
                }
            }
            DocKind::Verdict => {
                if let Ok(v) = verdict::read(&s.doc) {
                    c.needing_approval += u64::from(!v.required.is_empty());
                    c.assigned += u64::from(v.assigned_at.is_some());
                }
            }
            // Kinds the plans do not write (after-sales, planning …).
            _ => {}
        }
    }
    c.moves = server.tables.moves as u64;
    c.inbox_items = w.devices.iter().map(|d| d.replica.inbox().len() as u64).sum();
    Ok(c)
}
