//! The projection: a consumer of the server's change feed, outside the sync write path.
//! It has its own connection to the sync database (reading only: `docs_changed_since` and
//! `load_doc`), its own store ([`AnalyticsStore`]) and its own cursor there — the global
//! sequence number up to which it has projected. Each batch is written with the cursor
//! it reaches in one transaction, so after a crash (kill -9) it resumes from the last
//! committed batch and projects the same rows again: every row is a pure function of the
//! documents ([`super::project`]), so the figures come out the same.
//!
//! Documents are re-projected as a whole when any of them changes; a change of an order's
//! verdict re-projects the order, a change of a complaint's tracking document the
//! complaint. Kinds without analysis rows (competitor observations, tasks …) only move the
//! cursor; contracts and expenses plug in here when their kinds land.

use super::project;
use crate::storage::analytics::{AnalyticsStore, ComplaintFact, CustomerFact, OrderFact, Problem, VisitFact};
use crate::storage::{DbError, Storage};
use automerge::AutoCommit;
use protocol::schema::complaint::{self, track_id};
use protocol::schema::policy_doc::{self, POLICY_DOC_ID, PublishedPolicy};
use protocol::schema::verdict::{ContractGate, verdict_id};
use protocol::schema::{customer, order, visit};
use protocol::{DocId, DocKind, Role};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

/// Documents projected per transaction.
pub const BATCH_DOCS: usize = 500;

/// What is uncountable about one document.
type Problems = Vec<Problem>;

enum Write {
    Order(OrderFact),
    Customer(CustomerFact),
    Visit(VisitFact),
    Complaint(ComplaintFact),
}

/// Counters of a running projection (shared with `/api/analytics/status`).
#[derive(Debug, Default)]
pub struct ProjectionStats {
    pub cursor: AtomicI64,
    pub feed_seq: AtomicI64,
    pub docs_projected: AtomicI64,
}

pub struct Projector {
    feed: Box<dyn Storage>,
    store: Box<dyn AnalyticsStore>,
    /// The policy document's heads blob and its versions.
    policy: Option<(Vec<u8>, Arc<Vec<PublishedPolicy>>)>,
    roles: HashMap<String, Role>,
    /// Customers' channels read in this batch (`None`: no such customer).
    channels: HashMap<DocId, Option<Option<protocol::schema::Channel>>>,
}

fn load(stored: &crate::storage::StoredDoc) -> Option<AutoCommit> {
    let mut doc = AutoCommit::load(&stored.bytes).ok()?;
    // Every head the row names must be loaded (a compaction between reading the row and
    // its chunks could leave a gap: then the document is read again next time).
    let complete = stored.row.heads.chunks_exact(32).all(|h| {
        let mut hash = [0u8; 32];
        hash.copy_from_slice(h);
        doc.get_change_by_hash(&automerge::ChangeHash(hash)).is_some()
    });
    complete.then_some(doc)
}

fn doc_id(bytes: &[u8]) -> Option<DocId> {
    uuid::Uuid::from_slice(bytes).ok().map(DocId)
}

impl Projector {
    pub fn new(feed: Box<dyn Storage>, store: Box<dyn AnalyticsStore>) -> Self {
        Projector { feed, store, policy: None, roles: HashMap::new(), channels: HashMap::new() }
    }

    pub fn store(&self) -> &dyn AnalyticsStore {
        &*self.store
    }

    /// The highest sequence number in the feed.
    pub fn feed_seq(&self) -> Result<i64, DbError> {
        self.feed.max_seq()
    }

    /// Drop every projected row and start again from sequence number 0 (the caller then
    /// runs [`Self::catch_up`]).
    pub fn reset(&mut self) -> Result<(), DbError> {
        self.store.begin()?;
        if let Err(e) = self.store.clear() {
            self.store.rollback();
            return Err(e);
        }
        self.store.commit()
    }

    /// Project until the cursor reaches the feed's end as it was when called; returns the
    /// documents projected.
    pub fn catch_up(&mut self) -> Result<u64, DbError> {
        let mut total = 0;
        loop {
            let n = self.step(BATCH_DOCS)?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
        }
    }

    /// Project up to `max_docs` documents changed after the cursor; returns how many.
    pub fn step(&mut self, max_docs: usize) -> Result<usize, DbError> {
        let cursor = self.store.cursor()?;
        let mut changed = self.feed.docs_changed_since(cursor)?;
        changed.truncate(max_docs.max(1));
        let Some(last) = changed.last().map(|r| r.last_seq) else {
            return Ok(0);
        };
        self.roles.clear();
        self.channels.clear();
        let now = crate::identity::accounts::now_ms();
        let mut targets: BTreeSet<(Vec<u8>, i64)> = BTreeSet::new();
        let mut reached = last;
        for row in &changed {
            let Some(kind) = DocKind::from_code(row.kind) else { continue };
            let Some(id) = doc_id(&row.id) else { continue };
            let target = match kind {
                DocKind::Verdict => verdict_id(id),
                DocKind::ComplaintTrack => track_id(id),
                DocKind::Policy => {
                    self.policy = None;
                    continue;
                }
                _ => id,
            };
            targets.insert((target.as_bytes().to_vec(), row.last_seq));
        }
        let mut writes: Vec<(Vec<u8>, Option<Box<Write>>, Problems)> = Vec::new();
        let mut done: BTreeSet<Vec<u8>> = BTreeSet::new();
        for (id, seq) in &targets {
            if done.contains(id) {
                continue;
            }
            match self.project(id, *seq, now)? {
                Projected::Row(w, p) => writes.push((id.clone(), w, p)),
                Projected::Nothing => {}
                Projected::Incomplete => {
                    // Stop before this document: everything numbered below it is done.
                    reached = reached.min(seq - 1);
                }
            }
            done.insert(id.clone());
        }
        self.store.begin()?;
        let result = (|| {
            if self.store.cursor()? != cursor {
                return Ok(false); // another projection (a rebuild) moved it meanwhile
            }
            for (id, w, problems) in &writes {
                match w.as_deref() {
                    Some(Write::Order(o)) => self.store.put_order(o)?,
                    Some(Write::Customer(c)) => self.store.put_customer(c)?,
                    Some(Write::Visit(v)) => self.store.put_visit(v)?,
                    Some(Write::Complaint(c)) => self.store.put_complaint(c)?,
                    None => {}
                }
                self.store.set_problems(id, problems)?;
            }
            self.store.set_cursor(reached.max(cursor))?;
            Ok(true)
        })();
        match result {
            Ok(true) => {
                self.store.commit()?;
                Ok(if reached > cursor { changed.len() } else { 0 })
            }
            Ok(false) => {
                self.store.rollback();
                Ok(0)
            }
            Err(e) => {
                self.store.rollback();
                Err(e)
            }
        }
    }

    fn policy_versions(&mut self) -> Result<Arc<Vec<PublishedPolicy>>, DbError> {
        let Some(row) = self.feed.doc(POLICY_DOC_ID.as_bytes())? else {
            return Ok(Arc::new(Vec::new()));
        };
        if let Some((heads, versions)) = &self.policy
            && *heads == row.heads
        {
            return Ok(versions.clone());
        }
        let Some(stored) = self.feed.load_doc(POLICY_DOC_ID.as_bytes())? else {
            return Ok(Arc::new(Vec::new()));
        };
        let versions = Arc::new(load(&stored).map(|d| policy_doc::read(&d)).unwrap_or_default());
        self.policy = Some((stored.row.heads.clone(), versions.clone()));
        Ok(versions)
    }

    fn role_of(&mut self, user: &str) -> Result<Role, DbError> {
        if let Some(r) = self.roles.get(user) {
            return Ok(*r);
        }
        let role = self.feed.user(user)?.and_then(|u| u.role.parse().ok()).unwrap_or(Role::Rep);
        self.roles.insert(user.to_string(), role);
        Ok(role)
    }

    fn project(&mut self, id: &[u8], seq: i64, now: i64) -> Result<Projected, DbError> {
        let Some(stored) = self.feed.load_doc(id)? else {
            return Ok(Projected::Nothing);
        };
        let Some(kind) = DocKind::from_code(stored.row.kind) else {
            return Ok(Projected::Nothing);
        };
        let Some(doc_id) = doc_id(id) else {
            return Ok(Projected::Nothing);
        };
        let Some(doc) = load(&stored) else {
            return Ok(Projected::Incomplete);
        };
        let unreadable = |kind: &str, e: String| {
            // Unreadable: nothing to count, the reason listed.
            let p = Problem { doc_id: id.to_vec(), kind: kind.into(), reason: "unreadable".into(), detail: e };
            Projected::Row(None, vec![p])
        };
        let out = match kind {
            DocKind::Order => match order::read(&doc, doc_id) {
                Ok(o) => {
                    let (channel, known) = match o.customer {
                        Some(c) => match self.channel(c)? {
                            Some(channel) => (channel, true),
                            None => (None, false),
                        },
                        None => (None, false),
                    };
                    let pricer = self.role_of(&o.created_by)?;
                    let versions = self.policy_versions()?;
                    let territory = stored.row.territory.clone();
                    // Whether it waits for a signed contract, as the hub recorded in its verdict.
                    let verdict = self
                        .feed
                        .load_doc(verdict_id(doc_id).as_bytes())?
                        .and_then(|v| load(&v))
                        .and_then(|v| protocol::schema::verdict::read(&v).ok());
                    let contract_gate = match verdict {
                        Some(v) if v.contract == "covered" => {
                            v.contract_id.map_or(ContractGate::Needed, ContractGate::Covered)
                        }
                        Some(v) if v.contract == "needed" => ContractGate::Needed,
                        _ => ContractGate::NotRequired,
                    };
                    let cx = project::OrderContext {
                        contract_gate,
                        channel,
                        customer_known: known,
                        pricer,
                        versions: &versions,
                        territory,
                        seq,
                        now,
                    };
                    let (fact, problems) = project::order_fact(&o, cx);
                    Projected::Row(Some(Box::new(Write::Order(fact))), problems)
                }
                Err(e) => unreadable("order", e.to_string()),
            },
            DocKind::Customer => match customer::read(&doc, doc_id) {
                Ok(c) => {
                    let (f, p) = project::customer_fact(&c);
                    Projected::Row(Some(Box::new(Write::Customer(f))), p)
                }
                Err(e) => unreadable("customer", e.to_string()),
            },
            DocKind::Visit => match visit::read(&doc, doc_id) {
                Ok(v) => {
                    let (f, p) = project::visit_fact(&v);
                    Projected::Row(Some(Box::new(Write::Visit(f))), p)
                }
                Err(e) => unreadable("visit", e.to_string()),
            },
            DocKind::Complaint => match complaint::read(&doc, doc_id) {
                Ok(c) => {
                    let track = match self.feed.load_doc(track_id(doc_id).as_bytes())? {
                        Some(t) => load(&t).and_then(|d| complaint::read_track(&d).ok()),
                        None => None,
                    };
                    let (f, p) = project::complaint_fact(&c, track.as_ref());
                    Projected::Row(Some(Box::new(Write::Complaint(f))), p)
                }
                Err(e) => unreadable("complaint", e.to_string()),
            },
            _ => Projected::Nothing,
        };
        Ok(out)
    }

    /// A customer's channel (`None`: no such customer).
    fn channel(&mut self, id: DocId) -> Result<Option<Option<protocol::schema::Channel>>, DbError> {
        if let Some(c) = self.channels.get(&id) {
            return Ok(*c);
        }
        let channel = match self.feed.load_doc(id.as_bytes())? {
            Some(stored) => load(&stored).and_then(|d| customer::read(&d, id).ok()).map(|c| c.channel),
            None => None,
        };
        self.channels.insert(id, channel);
        Ok(channel)
    }
}

enum Projected {
    Row(Option<Box<Write>>, Vec<Problem>),
    Nothing,
    /// The stored document could not be read whole just now: read it again later.
    Incomplete,
}

/// The projection running on its own thread: it looks at the feed every `interval` and
/// projects what is new, resting after each batch as long as the batch took (so it takes
/// at most half a core away from the sync hub). Stopping it (or dropping it) waits for the batch under way.
pub struct ProjectionThread {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
    pub stats: Arc<ProjectionStats>,
}

impl ProjectionThread {
    pub fn spawn(mut projector: Projector, interval: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(ProjectionStats::default());
        let (s, st) = (stop.clone(), stats.clone());
        let handle = std::thread::Builder::new().name("analytics".into()).spawn(move || {
            lower_priority();
            while !s.load(Ordering::Relaxed) {
                let mut worked = false;
                let batch = std::time::Instant::now();
                match projector.feed_seq() {
                    Ok(max) => {
                        st.feed_seq.store(max, Ordering::Relaxed);
                        match projector.step(BATCH_DOCS) {
                            Ok(n) => {
                                worked = n > 0;
                                st.docs_projected.fetch_add(n as i64, Ordering::Relaxed);
                            }
                            Err(e) => tracing::warn!(error = %e, "analytics projection failed; retrying"),
                        }
                        if let Ok(c) = projector.store().cursor() {
                            st.cursor.store(c, Ordering::Relaxed);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "analytics projection cannot read the feed"),
                }
                // Never more than half a core: after a batch, rest as long as it took (the
                // hub and the connections come first; a burst is projected a little later).
                let rest = if worked { batch.elapsed().min(Duration::from_millis(500)) } else { interval };
                std::thread::sleep(rest);
            }
        })?;
        Ok(ProjectionThread { stop, handle: Some(handle), stats })
    }

    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Make the calling thread yield the CPU to the sync hub and the connections when they
/// want it (nice 10: about a tenth of a contended core), so a burst of pushes is never
/// slowed by projecting the previous one. A no-op where thread priorities are not per
/// thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take plain integers and touch only this thread.
        let rc = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, 10)
        };
        if rc != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "analytics thread keeps its priority");
        }
    }
}

impl Drop for ProjectionThread {
    fn drop(&mut self) {
        self.stop_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteDb;
    use crate::storage::analytics::{
        AnalyticsCounts, Correction, QualitativeScore, SalesBucket, SalesQuery, Sanction, SqliteAnalytics,
    };
    use protocol::schema::customer::NewCustomer;
    use protocol::schema::order::NewLine;
    use protocol::schema::{Channel, OrderSource};
    use std::cell::Cell;

    struct Dir(std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn dir() -> Dir {
        let p = std::env::temp_dir().join(format!("jiuloop-projector-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn store_doc(feed: &SqliteDb, id: DocId, kind: DocKind, doc: &mut AutoCommit) {
        let heads: Vec<u8> = doc.get_heads().iter().flat_map(|h| h.0).collect();
        feed.begin().unwrap();
        feed.store_change(id.as_bytes(), kind.code(), &heads, &doc.save(), 0).unwrap();
        feed.commit().unwrap();
    }

    /// A feed of `n` customers with drafts and submitted orders (no policy: they wait).
    fn feed(path: &std::path::Path, n: usize) -> SqliteDb {
        let feed = SqliteDb::open_in(path).unwrap();
        for i in 0..n {
            let cid = DocId::new_random();
            let mut c = AutoCommit::new();
            let new = NewCustomer {
                name: format!("客户{i}"),
                channel: Some(Channel::Restaurant),
                territory: Some("贵州".into()),
                ..Default::default()
            };
            customer::init(&mut c, &new, 1_000 + i as i64, "li").unwrap();
            store_doc(&feed, cid, DocKind::Customer, &mut c);
            let oid = DocId::new_random();
            let mut o = AutoCommit::new();
            order::init(&mut o, cid, OrderSource::Written, 2_000 + i as i64, "li").unwrap();
            let line = NewLine {
                id: "1".into(),
                sku: "SC-52-500".into(),
                spec: None,
                qty: 1 + i as i64,
                unit_price_fen: 53_900,
            };
            order::add_line(&mut o, &line).unwrap();
            if i % 2 == 0 {
                order::record_event(&mut o, "submitted", 3_000, "li").unwrap();
            }
            store_doc(&feed, oid, DocKind::Order, &mut o);
        }
        feed
    }

    /// A store that fails its `n`th order write (a crash in the middle of a batch).
    struct Failing {
        inner: SqliteAnalytics,
        left: Cell<i64>,
    }
    impl AnalyticsStore for Failing {
        fn begin(&self) -> Result<(), DbError> {
            self.inner.begin()
        }
        fn commit(&self) -> Result<(), DbError> {
            self.inner.commit()
        }
        fn rollback(&self) {
            self.inner.rollback()
        }
        fn cursor(&self) -> Result<i64, DbError> {
            self.inner.cursor()
        }
        fn set_cursor(&self, seq: i64) -> Result<(), DbError> {
            self.inner.set_cursor(seq)
        }
        fn clear(&self) -> Result<(), DbError> {
            self.inner.clear()
        }
        fn counts(&self) -> Result<AnalyticsCounts, DbError> {
            self.inner.counts()
        }
        fn put_order(&self, o: &OrderFact) -> Result<(), DbError> {
            self.left.set(self.left.get() - 1);
            if self.left.get() == 0 {
                return Err(DbError::Backend("disk gone".into()));
            }
            self.inner.put_order(o)
        }
        fn orders_between(&self, from: i64, to: i64) -> Result<Vec<OrderFact>, DbError> {
            self.inner.orders_between(from, to)
        }
        fn put_customer(&self, c: &CustomerFact) -> Result<(), DbError> {
            self.inner.put_customer(c)
        }
        fn customers(&self) -> Result<Vec<CustomerFact>, DbError> {
            self.inner.customers()
        }
        fn sales(&self, q: &SalesQuery) -> Result<Vec<SalesBucket>, DbError> {
            self.inner.sales(q)
        }
        fn put_visit(&self, v: &VisitFact) -> Result<(), DbError> {
            self.inner.put_visit(v)
        }
        fn visits_between(&self, from: i64, to: i64) -> Result<Vec<VisitFact>, DbError> {
            self.inner.visits_between(from, to)
        }
        fn put_complaint(&self, c: &ComplaintFact) -> Result<(), DbError> {
            self.inner.put_complaint(c)
        }
        fn complaints_between(&self, from: i64, to: i64) -> Result<Vec<ComplaintFact>, DbError> {
            self.inner.complaints_between(from, to)
        }
        fn set_problems(&self, doc: &[u8], p: &[Problem]) -> Result<(), DbError> {
            self.inner.set_problems(doc, p)
        }
        fn problems(&self) -> Result<Vec<Problem>, DbError> {
            self.inner.problems()
        }
        fn set_cost(&self, sku: &str, c: Option<i64>) -> Result<(), DbError> {
            self.inner.set_cost(sku, c)
        }
        fn costs(&self) -> Result<Vec<(String, i64)>, DbError> {
            self.inner.costs()
        }
        fn set_scheme(&self, k: &str, j: &str, by: &str, at: i64) -> Result<(), DbError> {
            self.inner.set_scheme(k, j, by, at)
        }
        fn scheme(&self, k: &str) -> Result<Option<String>, DbError> {
            self.inner.scheme(k)
        }
        fn set_qualitative(&self, q: &QualitativeScore) -> Result<bool, DbError> {
            self.inner.set_qualitative(q)
        }
        fn qualitative(&self, p: &str) -> Result<Vec<QualitativeScore>, DbError> {
            self.inner.qualitative(p)
        }
        fn lock_period(&self, p: &str, j: &str, by: &str, at: i64) -> Result<bool, DbError> {
            self.inner.lock_period(p, j, by, at)
        }
        fn locked(&self, p: &str) -> Result<Option<String>, DbError> {
            self.inner.locked(p)
        }
        fn add_correction(&self, c: &Correction) -> Result<(), DbError> {
            self.inner.add_correction(c)
        }
        fn corrections(&self, p: &str) -> Result<Vec<Correction>, DbError> {
            self.inner.corrections(p)
        }
        fn add_sanction(&self, s: &Sanction) -> Result<(), DbError> {
            self.inner.add_sanction(s)
        }
        fn sanctions(&self, p: &str) -> Result<Vec<Sanction>, DbError> {
            self.inner.sanctions(p)
        }
    }

    fn rows(s: &dyn AnalyticsStore) -> (Vec<OrderFact>, Vec<CustomerFact>, AnalyticsCounts) {
        (s.orders_between(i64::MIN, i64::MAX).unwrap(), s.customers().unwrap(), s.counts().unwrap())
    }

    #[test]
    fn a_batch_cut_short_leaves_its_cursor_and_resumes_to_the_same_rows() {
        let d = dir();
        let f = feed(&d.0, 30);
        let max = f.max_seq().unwrap();
        // The reference: one projection from scratch.
        let reference_dir = dir();
        let mut reference = Projector::new(
            Box::new(SqliteDb::open_in(&d.0).unwrap()),
            Box::new(SqliteAnalytics::open_in(&reference_dir.0).unwrap()),
        );
        reference.catch_up().unwrap();
        let want = rows(reference.store());
        assert_eq!((want.2.cursor, want.2.orders, want.2.customers), (max, 30, 30));
        assert!(want.0.iter().all(|o| !o.counted), "no policy: nothing confirmed");
        assert_eq!(want.0.iter().filter(|o| o.status == "submitted").count(), 15);

        // A projection whose store fails in the middle of its first batch of 25 documents.
        let out = dir();
        let failing = Failing { inner: SqliteAnalytics::open_in(&out.0).unwrap(), left: Cell::new(5) };
        let mut p = Projector::new(Box::new(f), Box::new(failing));
        assert!(p.step(25).is_err());
        let after = SqliteAnalytics::open_in(&out.0).unwrap();
        assert_eq!(after.counts().unwrap(), AnalyticsCounts::default(), "nothing of the batch, cursor 0");
        // Restarted (a new projection on the same files): the same rows as the reference.
        let mut again = Projector::new(
            Box::new(SqliteDb::open_in(&d.0).unwrap()),
            Box::new(SqliteAnalytics::open_in(&out.0).unwrap()),
        );
        again.catch_up().unwrap();
        assert_eq!(rows(again.store()), want);
        // And a rebuild of it too.
        again.reset().unwrap();
        assert_eq!(again.store().cursor().unwrap(), 0);
        again.catch_up().unwrap();
        assert_eq!(rows(again.store()), want);
    }

    /// The nice value of each thread of this process named `name` (Linux /proc).
    #[cfg(target_os = "linux")]
    fn nice_of_threads(name: &str) -> Vec<i64> {
        let mut out = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // After "pid (comm)": state is field 3, nice field 19.
            let rest = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
            if let Some(n) = rest.split_whitespace().nth(16).and_then(|n| n.parse().ok()) {
                out.push(n);
            }
        }
        out
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_projection_thread_yields_the_cpu_to_the_sync_hub() {
        let d = dir();
        let f = feed(&d.0, 3);
        let max = f.max_seq().unwrap();
        let out = dir();
        let projector = Projector::new(Box::new(f), Box::new(SqliteAnalytics::open_in(&out.0).unwrap()));
        let thread = ProjectionThread::spawn(projector, Duration::from_millis(10)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while thread.stats.cursor.load(Ordering::Relaxed) < max {
            assert!(std::time::Instant::now() < deadline, "the projection never caught up");
            std::thread::sleep(Duration::from_millis(10));
        }
        let own = nice_of_threads(std::fs::read_to_string("/proc/thread-self/comm").unwrap().trim());
        let projecting = nice_of_threads("analytics");
        thread.stop();
        assert!(!projecting.is_empty(), "an analytics thread runs");
        assert!(projecting.iter().all(|n| *n >= 10), "analytics threads at nice {projecting:?}");
        assert!(own.iter().all(|n| *n < 10), "the calling thread keeps its priority: {own:?}");
    }
}
