//! The [`LocalStore`] contract as data: scenarios (batches of store ops and what must
//! load back after them) and one runner that checks a store against every one of them.
//! Each device store runs it — [`crate::MemStore`] in client-core's tests, the SQLite
//! profile store in the CLI's tests (a real file, reopened), the IndexedDB store in
//! headless Chromium through its async API (`wasm-client/tests/in_browser.rs`).
//!
//! * A synchronous store runs the suite with [`run`] and a [`StoreFactory`] (how to make
//!   an empty store, reopen it, open a second handle on it, inject a failure).
//! * An asynchronous one implements [`Harness`] and awaits [`run_async`]: the same steps
//!   and the same checks (`run` is `run_async` over sync stores).
//!
//! Chunk bytes in the scenarios are labels (`b"X.2"`): stores treat them as opaque, and a
//! failure shows which chunk is missing or extra. The last scenario is a real session
//! of a [`Replica`] (edits, sync, a remote chunk, a refusal, compactions, a forgotten
//! document); it checks that a replica loaded from the store reads back the same
//! documents, with the same heads, as the replica that made them.

use crate::local_store::{LocalStore, StoredState};
use crate::{InboxItem, MemStore, Replica, StoreOp, StoredDoc, SyncEngine};
use automerge::ActorId;
use protocol::schema::OrderSource;
use protocol::schema::customer::NewCustomer;
use protocol::schema::order::NewLine;
use protocol::wire::{self, ClientMsg, DocAck, DocChunk, Hash, Refusal, ServerMsg};
use protocol::{DocId, DocKind, ErrorCode};
use std::fmt;
use uuid::Uuid;

/// One case of the contract: steps run in order on a new, empty store.
pub struct Scenario {
    pub name: &'static str,
    pub steps: Vec<Step>,
}

/// Which handle on the store's storage a step uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handle {
    /// The store the scenario started with (reopened by [`Step::Reopen`]).
    Main,
    /// A second handle on the same storage ([`Step::OpenOther`]), as a second `jiuloop`
    /// process or another browser tab holds.
    Other,
}

pub enum Step {
    /// Apply one batch through a handle; it must succeed.
    Apply(Handle, Vec<StoreOp>),
    /// Apply one batch made to fail after `after` of its ops; it must fail and leave
    /// nothing of it. Skipped by stores that cannot inject failures.
    ApplyFailing { ops: Vec<StoreOp>, after: usize },
    /// Close the main handle, open the storage again and load everything, as a device
    /// starting does. A store that is not persistent keeps its state (noted as skipped).
    Reopen,
    /// Open (and load) a second handle on the same storage. The rest of the scenario is
    /// skipped by stores that have no such thing.
    OpenOther,
    /// What the main handle must load now: every document (and each one alone), the
    /// cursor and the inbox; the `absent` documents must not load.
    Expect { state: StoredState, absent: Vec<DocId> },
    /// A replica loaded from the main handle must show this.
    ExpectReplica(Box<ReplicaView>),
    /// The main handle loads these bytes for the attachment (`None`: not held).
    ExpectBlob { hash: protocol::blob::BlobHash, bytes: Option<Vec<u8>> },
}

impl Step {
    fn describe(&self) -> String {
        match self {
            Step::Apply(Handle::Main, ops) => format!("apply a batch of {} op(s)", ops.len()),
            Step::Apply(Handle::Other, ops) => {
                format!("apply a batch of {} op(s) through the second handle", ops.len())
            }
            Step::ApplyFailing { ops, after } => format!("apply a batch of {} op(s) failing after {after}", ops.len()),
            Step::Reopen => "reopen".into(),
            Step::OpenOther => "open a second handle".into(),
            Step::Expect { .. } => "check what loads".into(),
            Step::ExpectReplica(_) => "check the replica loaded from the store".into(),
            Step::ExpectBlob { .. } => "check an attachment's bytes".into(),
        }
    }
}

/// What a replica shows of its documents: compared between the replica that made the
/// edits and one loaded from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaView {
    pub doc_count: usize,
    pub docs: Vec<DocView>,
    pub cursor: u64,
    pub inbox: Vec<InboxItem>,
    /// Documents whose changes the server lacks.
    pub unsent: Vec<DocId>,
    /// The cursor a fresh sync engine's hello carries.
    pub hello_cursor: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocView {
    pub id: DocId,
    pub kind: Option<DocKind>,
    pub heads: Vec<Hash>,
    pub server_heads: Vec<Hash>,
    /// The document read generically (every field with a value), as text.
    pub record: Option<String>,
}

impl ReplicaView {
    /// The view of `replica` over the documents `ids` (held or not).
    pub fn of(replica: &mut Replica, ids: &[DocId]) -> Self {
        let docs = ids
            .iter()
            .map(|&id| {
                let kind = replica.kind_of(id);
                let record = replica.record(id).ok().map(|r| format!("{r:?}"));
                let (mut heads, mut server_heads) = match replica.doc_mut(id) {
                    Some(d) => (d.heads_wire(), wire::hashes_to_wire(&d.server_heads)),
                    None => (Vec::new(), Vec::new()),
                };
                heads.sort();
                server_heads.sort();
                DocView { id, kind, heads, server_heads, record }
            })
            .collect();
        let mut unsent = replica.unsent_docs();
        unsent.sort();
        let mut engine = SyncEngine::new(Uuid::nil(), "store-contract");
        let frames = engine.connected(replica).expect("a hello encodes");
        let hello_cursor = match wire::decode::<ClientMsg>(&frames[0]) {
            Ok(ClientMsg::Hello(h)) => h.cursor,
            other => panic!("the first frame is a hello: {other:?}"),
        };
        ReplicaView {
            doc_count: replica.doc_count(),
            docs,
            cursor: replica.cursor(),
            inbox: replica.inbox().to_vec(),
            unsent,
            hello_cursor,
        }
    }
}

// ---- running the suite -----------------------------------------------------------

/// A store under test as the runner drives it. Async so that IndexedDB can implement it;
/// synchronous stores are driven through [`StoreFactory`] and [`run`].
#[allow(async_fn_in_trait)]
pub trait Harness {
    /// Start a scenario on a new, empty store (dropping the previous scenario's).
    async fn create(&mut self, scenario: &str) -> Result<(), String>;
    async fn apply(&mut self, handle: Handle, ops: &[StoreOp]) -> Result<(), String>;
    /// Apply `ops` through the main handle with a failure injected after `after` of
    /// them; `None`: this store cannot inject failures.
    async fn apply_failing(&mut self, ops: &[StoreOp], after: usize) -> Option<Result<(), String>>;
    /// Close the main handle, open the storage again and load everything; `Ok(false)`:
    /// the store is not persistent (its state stays as it is).
    async fn reopen(&mut self) -> Result<bool, String>;
    /// Open a second handle on the same storage and load everything with it;
    /// `Ok(false)`: unsupported.
    async fn open_other(&mut self) -> Result<bool, String>;
    /// Everything the main handle loads.
    async fn load_all(&mut self) -> Result<StoredState, String>;
    /// One document as the main handle loads it.
    async fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, String>;
    /// An attachment's bytes as the main handle loads them.
    async fn load_blob(&mut self, hash: protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, String>;
    /// The scenario is over (remove its files or databases).
    async fn finish(&mut self) {}
}

/// How to make the synchronous stores one implementation runs the suite on.
pub trait StoreFactory {
    type Store: LocalStore;
    /// A new, empty store for the scenario named.
    fn create(&mut self, scenario: &str) -> Result<Self::Store, String>;
    /// Replace `store` by a new handle on its storage, as a restarted device opens it
    /// (the runner then loads everything). `None`: the store is not persistent.
    fn reopen(&mut self, _store: &mut Self::Store) -> Option<Result<(), String>> {
        None
    }
    /// A second handle on `store`'s storage (another process). `None`: unsupported.
    fn open_other(&mut self, _store: &Self::Store) -> Option<Result<Self::Store, String>> {
        None
    }
    /// Make the next batch `store` applies fail after `after` of its ops; `false`:
    /// unsupported.
    fn fail_next_batch_after(&mut self, _store: &mut Self::Store, _after: usize) -> bool {
        false
    }
    /// The scenario is over.
    fn finish(&mut self, _store: Self::Store) {}
}

/// What ran.
#[derive(Debug, Default)]
pub struct Report {
    /// Every scenario, with the steps the store could not run (not persistent, no second
    /// handle, no failure injection).
    pub scenarios: Vec<(&'static str, Vec<String>)>,
}

impl Report {
    /// The steps skipped, as `scenario: step`.
    pub fn skipped(&self) -> Vec<String> {
        self.scenarios.iter().flat_map(|(name, skipped)| skipped.iter().map(move |s| format!("{name}: {s}"))).collect()
    }
}

/// One scenario the store failed.
#[derive(Debug)]
pub struct Failure {
    pub scenario: &'static str,
    /// 1-based.
    pub step: usize,
    pub step_is: String,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scenario \"{}\", step {} ({}): {}", self.scenario, self.step, self.step_is, self.message)
    }
}

/// Every scenario the store failed.
pub struct Failures(pub Vec<Failure>);

impl fmt::Display for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the store breaks the LocalStore contract in {} scenario(s):", self.0.len())?;
        for failure in &self.0 {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Run every scenario on the synchronous stores `factory` makes.
pub fn run<F: StoreFactory>(factory: F) -> Result<Report, Failures> {
    let mut harness = SyncHarness { factory, main: None, other: None };
    let future = std::pin::pin!(run_async(&mut harness));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => unreachable!("synchronous stores never wait"),
    }
}

/// Run every scenario through `harness`.
pub async fn run_async<H: Harness>(harness: &mut H) -> Result<Report, Failures> {
    let mut report = Report::default();
    let mut failures = Vec::new();
    for scenario in scenarios() {
        let mut skipped = Vec::new();
        let outcome = match harness.create(scenario.name).await {
            Ok(()) => run_steps(harness, &scenario, &mut skipped).await,
            Err(e) => Err((0, format!("cannot create the store: {e}"))),
        };
        harness.finish().await;
        if let Err((step, message)) = outcome {
            let step_is = step.checked_sub(1).map_or("create".into(), |i| scenario.steps[i].describe());
            failures.push(Failure { scenario: scenario.name, step, step_is, message });
        }
        report.scenarios.push((scenario.name, skipped));
    }
    if failures.is_empty() { Ok(report) } else { Err(Failures(failures)) }
}

async fn run_steps<H: Harness>(
    h: &mut H,
    scenario: &Scenario,
    skipped: &mut Vec<String>,
) -> Result<(), (usize, String)> {
    for (i, step) in scenario.steps.iter().enumerate() {
        let n = i + 1;
        let fail = |message: String| (n, message);
        match step {
            Step::Apply(handle, ops) => {
                h.apply(*handle, ops).await.map_err(|e| fail(format!("the batch failed: {e}")))?
            }
            Step::ApplyFailing { ops, after } => match h.apply_failing(ops, *after).await {
                None => skipped.push(format!("step {n}: {} (cannot inject failures)", step.describe())),
                Some(Ok(())) => return Err(fail("the batch was to fail but succeeded".into())),
                Some(Err(_)) => {}
            },
            Step::Reopen => {
                if !h.reopen().await.map_err(|e| fail(format!("cannot reopen: {e}")))? {
                    skipped.push(format!("step {n}: reopen (not persistent)"));
                }
            }
            Step::OpenOther => {
                if !h.open_other().await.map_err(|e| fail(format!("cannot open a second handle: {e}")))? {
                    skipped.push(format!("steps {n}–{}: no second handle", scenario.steps.len()));
                    return Ok(());
                }
            }
            Step::Expect { state, absent } => {
                let loaded = h.load_all().await.map_err(|e| fail(format!("cannot load: {e}")))?;
                check_state(state, &loaded).map_err(fail)?;
                for doc in &state.docs {
                    let alone = h.load_doc(doc.id).await.map_err(|e| fail(format!("cannot load {}: {e}", doc.id)))?;
                    match alone {
                        Some(d) => check_doc(doc, &d).map_err(|e| fail(format!("loaded alone, {e}")))?,
                        None => return Err(fail(format!("document {} does not load alone", doc.id))),
                    }
                }
                for id in absent {
                    if h.load_doc(*id).await.map_err(|e| fail(format!("cannot load {id}: {e}")))?.is_some() {
                        return Err(fail(format!("document {id} still loads alone")));
                    }
                }
            }
            Step::ExpectBlob { hash, bytes } => {
                let got = h.load_blob(*hash).await.map_err(|e| fail(format!("cannot load an attachment: {e}")))?;
                if got != *bytes {
                    let show = |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).to_string());
                    return Err(fail(format!(
                        "attachment {:02x}…: loaded {:?}, expected {:?}",
                        hash[0],
                        show(&got),
                        show(bytes)
                    )));
                }
            }
            Step::ExpectReplica(expected) => {
                let loaded = h.load_all().await.map_err(|e| fail(format!("cannot load: {e}")))?;
                let actor = ActorId::from(Uuid::from_u128(0x5eed).as_bytes());
                let mut replica =
                    loaded.into_replica(actor, "li").map_err(|e| fail(format!("no replica loads: {e}")))?;
                let ids: Vec<DocId> = expected.docs.iter().map(|d| d.id).collect();
                check_view(expected, &ReplicaView::of(&mut replica, &ids)).map_err(fail)?;
            }
        }
    }
    Ok(())
}

struct SyncHarness<F: StoreFactory> {
    factory: F,
    main: Option<F::Store>,
    other: Option<F::Store>,
}

impl<F: StoreFactory> SyncHarness<F> {
    fn main(&mut self) -> &mut F::Store {
        self.main.as_mut().expect("a scenario is running")
    }
}

impl<F: StoreFactory> Harness for SyncHarness<F> {
    async fn create(&mut self, scenario: &str) -> Result<(), String> {
        self.main = Some(self.factory.create(scenario)?);
        Ok(())
    }

    async fn apply(&mut self, handle: Handle, ops: &[StoreOp]) -> Result<(), String> {
        let store = match handle {
            Handle::Main => self.main(),
            Handle::Other => self.other.as_mut().ok_or("no second handle is open")?,
        };
        store.apply(ops).map_err(|e| e.to_string())
    }

    async fn apply_failing(&mut self, ops: &[StoreOp], after: usize) -> Option<Result<(), String>> {
        let store = self.main.as_mut().expect("a scenario is running");
        if !self.factory.fail_next_batch_after(store, after) {
            return None;
        }
        Some(store.apply(ops).map_err(|e| e.to_string()))
    }

    async fn reopen(&mut self) -> Result<bool, String> {
        let store = self.main.as_mut().expect("a scenario is running");
        match self.factory.reopen(store) {
            None => Ok(false),
            Some(result) => {
                result?;
                store.load_all().map_err(|e| e.to_string())?;
                Ok(true)
            }
        }
    }

    async fn open_other(&mut self) -> Result<bool, String> {
        let store = self.main.as_ref().expect("a scenario is running");
        match self.factory.open_other(store) {
            None => Ok(false),
            Some(other) => {
                let mut other = other?;
                other.load_all().map_err(|e| e.to_string())?;
                self.other = Some(other);
                Ok(true)
            }
        }
    }

    async fn load_all(&mut self) -> Result<StoredState, String> {
        self.main().load_all().map_err(|e| e.to_string())
    }

    async fn load_doc(&mut self, id: DocId) -> Result<Option<StoredDoc>, String> {
        self.main().load_doc(id).map_err(|e| e.to_string())
    }

    async fn load_blob(&mut self, hash: protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, String> {
        self.main().load_blob(&hash).map_err(|e| e.to_string())
    }

    async fn finish(&mut self) {
        self.other = None;
        if let Some(store) = self.main.take() {
            self.factory.finish(store);
        }
    }
}

// ---- checks ----------------------------------------------------------------------

/// Compare what loaded with what must load; the error says what differs.
pub fn check_state(expected: &StoredState, loaded: &StoredState) -> Result<(), String> {
    let mut want: Vec<&StoredDoc> = expected.docs.iter().collect();
    let mut got: Vec<&StoredDoc> = loaded.docs.iter().collect();
    want.sort_by_key(|d| d.id);
    got.sort_by_key(|d| d.id);
    let ids = |docs: &[&StoredDoc]| docs.iter().map(|d| d.id).collect::<Vec<_>>();
    let (want_ids, got_ids) = (ids(&want), ids(&got));
    if want_ids != got_ids {
        let missing: Vec<String> = want_ids.iter().filter(|i| !got_ids.contains(i)).map(short).collect();
        let extra: Vec<String> = got_ids.iter().filter(|i| !want_ids.contains(i)).map(short).collect();
        let dup = got_ids.windows(2).any(|w| w[0] == w[1]);
        return Err(format!(
            "documents differ: {} loaded, {} expected; missing {missing:?}, unexpected {extra:?}{}",
            got_ids.len(),
            want_ids.len(),
            if dup { ", some loaded twice" } else { "" }
        ));
    }
    for (w, g) in want.iter().zip(&got) {
        check_doc(w, g)?;
    }
    if expected.cursor != loaded.cursor {
        return Err(format!("cursor is {}, expected {}", loaded.cursor, expected.cursor));
    }
    let mut got_blobs = loaded.blobs.clone();
    got_blobs.sort_by_key(|b| b.hash);
    if expected.blobs != got_blobs {
        let show = |bs: &[crate::BlobMeta]| {
            bs.iter()
                .map(|b| {
                    format!(
                        "{:02x}… {} {}B{} at {}",
                        b.hash[0],
                        b.mime,
                        b.size,
                        if b.pending { " pending" } else { "" },
                        b.at
                    )
                })
                .collect::<Vec<_>>()
        };
        return Err(format!("attachments are {:?}, expected {:?}", show(&got_blobs), show(&expected.blobs)));
    }
    if expected.inbox != loaded.inbox {
        let show = |items: &[InboxItem]| {
            items
                .iter()
                .map(|i| format!("{}/{} at {} ({} bytes)", short(&i.doc), i.path, i.at, i.changes.len()))
                .collect::<Vec<_>>()
        };
        return Err(format!("inbox is {:?}, expected {:?}", show(&loaded.inbox), show(&expected.inbox)));
    }
    Ok(())
}

fn check_doc(expected: &StoredDoc, loaded: &StoredDoc) -> Result<(), String> {
    let id = short(&expected.id);
    if expected.id != loaded.id {
        return Err(format!("document {} loaded for {id}", short(&loaded.id)));
    }
    if expected.kind != loaded.kind {
        return Err(format!("document {id} is a {}, expected a {}", loaded.kind, expected.kind));
    }
    if expected.chunks != loaded.chunks {
        return Err(format!(
            "document {id}: chunks are {}, expected {}",
            show_chunks(&loaded.chunks),
            show_chunks(&expected.chunks)
        ));
    }
    if expected.server_heads != loaded.server_heads {
        return Err(format!(
            "document {id}: server heads are {}, expected {}",
            show_heads(&loaded.server_heads),
            show_heads(&expected.server_heads)
        ));
    }
    Ok(())
}

fn check_view(expected: &ReplicaView, loaded: &ReplicaView) -> Result<(), String> {
    for (w, g) in expected.docs.iter().zip(&loaded.docs) {
        let id = short(&w.id);
        if w.kind != g.kind {
            return Err(format!("document {id}: kind {:?}, expected {:?}", g.kind, w.kind));
        }
        if w.heads != g.heads {
            return Err(format!("document {id}: heads {}, expected {}", show_heads(&g.heads), show_heads(&w.heads)));
        }
        if w.server_heads != g.server_heads {
            return Err(format!(
                "document {id}: server heads {}, expected {}",
                show_heads(&g.server_heads),
                show_heads(&w.server_heads)
            ));
        }
        if w.record != g.record {
            return Err(format!("document {id} reads {:?}, expected {:?}", g.record, w.record));
        }
    }
    let fields = [
        ("documents held", expected.doc_count.to_string(), loaded.doc_count.to_string()),
        ("cursor", expected.cursor.to_string(), loaded.cursor.to_string()),
        ("hello cursor", expected.hello_cursor.to_string(), loaded.hello_cursor.to_string()),
        ("unsent documents", format!("{:?}", expected.unsent), format!("{:?}", loaded.unsent)),
        ("inbox", format!("{:?}", expected.inbox), format!("{:?}", loaded.inbox)),
    ];
    for (what, want, got) in fields {
        if want != got {
            return Err(format!("{what}: {got}, expected {want}"));
        }
    }
    Ok(())
}

fn short(id: &DocId) -> String {
    let s = id.to_string();
    // Scenario ids are small numbers: show them as such.
    match s.strip_prefix("00000000-0000-0000-0000-") {
        Some(tail) => format!("#{}", tail.trim_start_matches('0')),
        None => s,
    }
}

fn show_chunks(chunks: &[Vec<u8>]) -> String {
    let shown: Vec<String> = chunks
        .iter()
        .map(|c| match std::str::from_utf8(c) {
            Ok(s) if s.len() <= 40 && s.chars().all(|ch| !ch.is_control()) => format!("{s:?}"),
            _ => {
                let hash =
                    c.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3));
                format!("<{} bytes {:08x}>", c.len(), hash as u32)
            }
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

fn show_heads(heads: &[Hash]) -> String {
    let shown: Vec<String> = heads.iter().map(|h| h[..4].iter().map(|b| format!("{b:02x}")).collect()).collect();
    format!("[{}]", shown.join(", "))
}

// ---- the scenarios ---------------------------------------------------------------

const C: DocKind = DocKind::Customer;
const O: DocKind = DocKind::Order;
const V: DocKind = DocKind::Visit;

/// Scenario document `n` (shown as `#n` in failures).
fn id(n: u128) -> DocId {
    DocId(Uuid::from_u128(n))
}

fn append(id: DocId, kind: DocKind, label: &str) -> StoreOp {
    StoreOp::AppendChunk { id, kind, bytes: label.as_bytes().to_vec() }
}

fn compact(id: DocId, kind: DocKind, label: &str) -> StoreOp {
    StoreOp::Compact { id, kind, snapshot: label.as_bytes().to_vec() }
}

fn hash(n: u8) -> Hash {
    let mut h = [n; 32];
    h[31] = n.wrapping_mul(31);
    h
}

fn heads(id: DocId, kind: DocKind, hs: &[u8]) -> StoreOp {
    StoreOp::SetServerHeads { id, kind, heads: hs.iter().map(|n| hash(*n)).collect() }
}

fn doc(id: DocId, kind: DocKind, chunks: &[&str], hs: &[u8]) -> StoredDoc {
    StoredDoc {
        id,
        kind,
        chunks: chunks.iter().map(|c| c.as_bytes().to_vec()).collect(),
        server_heads: hs.iter().map(|n| hash(*n)).collect(),
    }
}

fn state(docs: Vec<StoredDoc>, cursor: u64, inbox: Vec<InboxItem>) -> StoredState {
    StoredState { docs, cursor, inbox, blobs: vec![] }
}

fn expect(docs: Vec<StoredDoc>, absent: &[DocId]) -> Step {
    Step::Expect { state: state(docs, 0, vec![]), absent: absent.to_vec() }
}

fn apply(ops: Vec<StoreOp>) -> Step {
    Step::Apply(Handle::Main, ops)
}

fn refused(doc: DocId, kind: DocKind, at: i64, changes: &[u8]) -> InboxItem {
    InboxItem {
        doc,
        kind,
        code: ErrorCode::Forbidden.as_str().to_string(),
        path: "owner".into(),
        rule: "assigners".into(),
        message: "业务员不能改负责人 (reps may not reassign customers)".into(),
        at,
        changes: changes.to_vec(),
    }
}

/// Every scenario, in the order they run.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        empty(),
        append_compact_append(),
        server_heads(),
        delete(),
        compact_after_delete(),
        recreate(),
        many_docs(),
        inbox(),
        cursor(),
        failing_batch(),
        two_writers(),
        attachments(),
        replica_session(),
    ]
}

fn empty() -> Scenario {
    Scenario {
        name: "an empty store loads nothing",
        steps: vec![expect(vec![], &[id(1)]), Step::Reopen, expect(vec![], &[id(1)])],
    }
}

fn append_compact_append() -> Scenario {
    let x = id(1);
    Scenario {
        name: "append, compact, append",
        steps: vec![
            apply(vec![append(x, C, "X.1")]),
            apply(vec![append(x, C, "X.2")]),
            expect(vec![doc(x, C, &["X.1", "X.2"], &[])], &[]),
            apply(vec![compact(x, C, "X.snap1")]),
            expect(vec![doc(x, C, &["X.snap1"], &[])], &[]),
            apply(vec![append(x, C, "X.3")]),
            expect(vec![doc(x, C, &["X.snap1", "X.3"], &[])], &[]),
            Step::Reopen,
            expect(vec![doc(x, C, &["X.snap1", "X.3"], &[])], &[]),
            // A reopened store compacts the chunks it loaded.
            apply(vec![compact(x, C, "X.snap2")]),
            expect(vec![doc(x, C, &["X.snap2"], &[])], &[]),
            // A compaction covers the chunks appended before it in its own batch, not after.
            apply(vec![append(x, C, "X.4"), append(x, C, "X.5"), compact(x, C, "X.snap3"), append(x, C, "X.6")]),
            expect(vec![doc(x, C, &["X.snap3", "X.6"], &[])], &[]),
            Step::Reopen,
            expect(vec![doc(x, C, &["X.snap3", "X.6"], &[])], &[]),
        ],
    }
}

fn server_heads() -> Scenario {
    let x = id(1);
    Scenario {
        name: "server heads: set, replaced, kept by a compaction, stored with a reopen",
        steps: vec![
            apply(vec![heads(x, C, &[1])]),
            expect(vec![doc(x, C, &[], &[1])], &[]),
            apply(vec![append(x, C, "X.1"), heads(x, C, &[2, 3])]),
            expect(vec![doc(x, C, &["X.1"], &[2, 3])], &[]),
            apply(vec![compact(x, C, "X.snap")]),
            expect(vec![doc(x, C, &["X.snap"], &[2, 3])], &[]),
            apply(vec![heads(x, C, &[])]),
            Step::Reopen,
            expect(vec![doc(x, C, &["X.snap"], &[])], &[]),
            apply(vec![heads(x, C, &[4]), heads(x, C, &[5, 6, 7])]),
            Step::Reopen,
            expect(vec![doc(x, C, &["X.snap"], &[5, 6, 7])], &[]),
        ],
    }
}

fn delete() -> Scenario {
    let (x, y, z) = (id(1), id(2), id(3));
    let others = || vec![doc(y, O, &["Y.1"], &[2]), doc(z, V, &["Z.1", "Z.2"], &[])];
    Scenario {
        name: "a deletion removes the document's chunks and heads, and nothing else",
        steps: vec![
            apply(vec![
                append(x, C, "X.1"),
                append(x, C, "X.2"),
                heads(x, C, &[1]),
                append(y, O, "Y.1"),
                heads(y, O, &[2]),
                append(z, V, "Z.1"),
            ]),
            apply(vec![append(z, V, "Z.2")]),
            apply(vec![StoreOp::DeleteDoc { id: x }]),
            expect(others(), &[x]),
            Step::Reopen,
            expect(others(), &[x]),
            // Deleting again, or deleting what was never held, is no error.
            apply(vec![StoreOp::DeleteDoc { id: x }, StoreOp::DeleteDoc { id: id(9) }]),
            expect(others(), &[x, id(9)]),
        ],
    }
}

fn compact_after_delete() -> Scenario {
    let (x, y) = (id(1), id(2));
    Scenario {
        name: "compaction of a document another batch deleted",
        steps: vec![
            apply(vec![append(x, C, "X.1"), append(x, C, "X.2"), heads(x, C, &[1]), append(y, O, "Y.1")]),
            apply(vec![StoreOp::DeleteDoc { id: x }]),
            apply(vec![compact(x, C, "X.snap")]),
            expect(vec![doc(x, C, &["X.snap"], &[]), doc(y, O, &["Y.1"], &[])], &[]),
            apply(vec![append(x, C, "X.3")]),
            // Deleted, then the store restarts before the compaction arrives.
            apply(vec![StoreOp::DeleteDoc { id: y }]),
            Step::Reopen,
            apply(vec![compact(y, O, "Y.snap")]),
            expect(vec![doc(x, C, &["X.snap", "X.3"], &[]), doc(y, O, &["Y.snap"], &[])], &[]),
            Step::Reopen,
            expect(vec![doc(x, C, &["X.snap", "X.3"], &[]), doc(y, O, &["Y.snap"], &[])], &[]),
        ],
    }
}

fn recreate() -> Scenario {
    let x = id(1);
    Scenario {
        name: "delete, then re-create the same id",
        steps: vec![
            apply(vec![append(x, C, "X.1"), append(x, C, "X.2"), heads(x, C, &[1])]),
            // In the same batch, as another kind: nothing of the old document remains.
            apply(vec![StoreOp::DeleteDoc { id: x }, append(x, O, "X.order.1")]),
            expect(vec![doc(x, O, &["X.order.1"], &[])], &[]),
            Step::Reopen,
            expect(vec![doc(x, O, &["X.order.1"], &[])], &[]),
            // In a later batch, by a compaction with heads.
            apply(vec![StoreOp::DeleteDoc { id: x }]),
            expect(vec![], &[x]),
            apply(vec![compact(x, V, "X.visit.snap"), heads(x, V, &[2])]),
            expect(vec![doc(x, V, &["X.visit.snap"], &[2])], &[]),
            // Re-created with the same kind: a compaction covers only the new chunks' doc.
            apply(vec![StoreOp::DeleteDoc { id: x }, append(x, V, "X.visit.1")]),
            apply(vec![append(x, V, "X.visit.2")]),
            apply(vec![compact(x, V, "X.visit.snap2")]),
            Step::Reopen,
            expect(vec![doc(x, V, &["X.visit.snap2"], &[])], &[]),
        ],
    }
}

fn many_docs() -> Scenario {
    const N: u128 = 150;
    let kind = |n: u128| DocKind::ALL[n as usize % DocKind::ALL.len()];
    let labels = |n: u128| (0..1 + n % 3).map(|c| format!("#{n}.{c}")).collect::<Vec<_>>();
    let mut steps = Vec::new();
    for batch in (1..=N).collect::<Vec<_>>().chunks(25) {
        let mut ops = Vec::new();
        for &n in batch {
            ops.extend(labels(n).iter().map(|l| append(id(n), kind(n), l)));
            if n % 2 == 0 {
                ops.push(heads(id(n), kind(n), &[n as u8]));
            }
        }
        steps.push(apply(ops));
    }
    let mut last = Vec::new();
    let mut docs = Vec::new();
    let mut absent = Vec::new();
    for n in 1..=N {
        let hs: Vec<u8> = if n % 2 == 0 { vec![n as u8] } else { vec![] };
        if n % 7 == 0 {
            last.push(StoreOp::DeleteDoc { id: id(n) });
            absent.push(id(n));
        } else if n % 5 == 0 {
            last.push(compact(id(n), kind(n), &format!("#{n}.snap")));
            docs.push(doc(id(n), kind(n), &[&format!("#{n}.snap")], &hs));
        } else {
            let l = labels(n);
            docs.push(doc(id(n), kind(n), &l.iter().map(String::as_str).collect::<Vec<_>>(), &hs));
        }
    }
    last.push(StoreOp::SetCursor(N as u64));
    steps.push(apply(last));
    let expected = state(docs, N as u64, vec![]);
    steps.push(Step::Expect { state: expected.clone(), absent: absent.clone() });
    steps.push(Step::Reopen);
    steps.push(Step::Expect { state: expected, absent });
    Scenario { name: "many documents of every kind", steps }
}

fn inbox() -> Scenario {
    let (x, y) = (id(1), id(2));
    let binary: Vec<u8> = (0..=255u8).rev().chain([0, 0, 133, 111, 74, 131]).collect();
    let (i1, i2, i3) = (refused(x, C, 1_000, &binary), refused(y, O, 2_000, &[]), refused(x, C, 3_000, b"again"));
    Scenario {
        name: "inbox items keep their refused changes, in order, after their document is deleted",
        steps: vec![
            apply(vec![append(x, C, "X.1"), StoreOp::AddInbox(i1.clone())]),
            apply(vec![StoreOp::AddInbox(i2.clone()), StoreOp::DeleteDoc { id: x }]),
            Step::Expect { state: state(vec![], 0, vec![i1.clone(), i2.clone()]), absent: vec![x] },
            Step::Reopen,
            apply(vec![StoreOp::AddInbox(i3.clone())]),
            Step::Expect { state: state(vec![], 0, vec![i1.clone(), i2.clone(), i3.clone()]), absent: vec![x] },
            Step::Reopen,
            Step::Expect { state: state(vec![], 0, vec![i1, i2, i3]), absent: vec![x] },
        ],
    }
}

fn cursor() -> Scenario {
    let x = id(1);
    let big = (1u64 << 53) + 1;
    let at = |cursor: u64, docs: Vec<StoredDoc>| Step::Expect { state: state(docs, cursor, vec![]), absent: vec![] };
    Scenario {
        name: "the cursor: the last one set wins, and it is stored",
        steps: vec![
            at(0, vec![]),
            apply(vec![StoreOp::SetCursor(3), StoreOp::SetCursor(8)]),
            at(8, vec![]),
            apply(vec![append(x, C, "X.1"), StoreOp::SetCursor(12)]),
            Step::Reopen,
            at(12, vec![doc(x, C, &["X.1"], &[])]),
            apply(vec![StoreOp::SetCursor(big)]),
            Step::Reopen,
            at(big, vec![doc(x, C, &["X.1"], &[])]),
        ],
    }
}

fn failing_batch() -> Scenario {
    let (x, y, z) = (id(1), id(2), id(3));
    let i1 = refused(x, C, 1, b"i1");
    let i2 = refused(y, O, 2, b"i2");
    let base = state(vec![doc(x, C, &["X.1"], &[1]), doc(y, O, &["Y.1"], &[])], 5, vec![i1.clone()]);
    let batch = vec![
        append(x, C, "X.2"),
        compact(y, O, "Y.snap"),
        heads(x, C, &[2]),
        StoreOp::SetCursor(9),
        StoreOp::AddInbox(i2.clone()),
        StoreOp::DeleteDoc { id: x },
        append(z, V, "Z.1"),
    ];
    let after = state(vec![doc(y, O, &["Y.snap"], &[]), doc(z, V, &["Z.1"], &[])], 9, vec![i1.clone(), i2.clone()]);
    let failing = |after: usize| Step::ApplyFailing { ops: batch.clone(), after };
    let with_y = |chunks: &[&str]| {
        let mut s = after.clone();
        s.docs[0] = doc(y, O, chunks, &[]);
        s
    };
    Scenario {
        name: "a batch that fails midway leaves nothing of it",
        steps: vec![
            apply(vec![append(x, C, "X.1"), heads(x, C, &[1]), append(y, O, "Y.1"), StoreOp::SetCursor(5)]),
            apply(vec![StoreOp::AddInbox(i1)]),
            Step::Expect { state: base.clone(), absent: vec![z] },
            failing(0),
            Step::Expect { state: base.clone(), absent: vec![z] },
            failing(3),
            Step::Expect { state: base.clone(), absent: vec![z] },
            // Every op done, the commit fails.
            failing(batch.len()),
            Step::Expect { state: base.clone(), absent: vec![z] },
            Step::Reopen,
            Step::Expect { state: base, absent: vec![z] },
            // The store goes on working: the same batch now succeeds.
            apply(batch.clone()),
            Step::Expect { state: after.clone(), absent: vec![x] },
            // A failed compaction leaves the store knowing the chunks it still holds.
            Step::ApplyFailing { ops: vec![append(y, O, "Y.2"), compact(y, O, "Y.lost")], after: 2 },
            Step::Expect { state: after.clone(), absent: vec![x] },
            apply(vec![append(y, O, "Y.3")]),
            Step::Expect { state: with_y(&["Y.snap", "Y.3"]), absent: vec![x] },
            apply(vec![compact(y, O, "Y.snap2")]),
            Step::Expect { state: with_y(&["Y.snap2"]), absent: vec![x] },
        ],
    }
}

fn two_writers() -> Scenario {
    let (x, y) = (id(1), id(2));
    let i1 = refused(x, C, 1, b"from the other handle");
    let other = |ops: Vec<StoreOp>| Step::Apply(Handle::Other, ops);
    let st = |docs: Vec<StoredDoc>, cursor: u64, inbox: Vec<InboxItem>| state(docs, cursor, inbox);
    Scenario {
        name: "two writers: a compaction keeps the chunk the other one appended",
        steps: vec![
            apply(vec![append(x, C, "X.a1"), heads(x, C, &[1])]),
            Step::OpenOther,
            other(vec![append(x, C, "X.b1")]),
            // The main handle has not loaded X.b1: its snapshot may lack it, so it stays.
            apply(vec![compact(x, C, "X.a-snap")]),
            Step::Expect { state: st(vec![doc(x, C, &["X.b1", "X.a-snap"], &[1])], 0, vec![]), absent: vec![] },
            // The other handle knew X.a1 and X.b1, not the main one's snapshot.
            other(vec![compact(x, C, "X.b-snap"), StoreOp::AddInbox(i1.clone()), StoreOp::SetCursor(4)]),
            Step::Expect {
                state: st(vec![doc(x, C, &["X.a-snap", "X.b-snap"], &[1])], 4, vec![i1.clone()]),
                absent: vec![],
            },
            // Once it has loaded everything, a compaction covers everything.
            Step::Reopen,
            apply(vec![compact(x, C, "X.final")]),
            other(vec![append(y, O, "Y.b1")]),
            Step::Expect {
                state: st(vec![doc(x, C, &["X.final"], &[1]), doc(y, O, &["Y.b1"], &[])], 4, vec![i1.clone()]),
                absent: vec![],
            },
            // A deletion removes chunks whoever wrote them.
            apply(vec![StoreOp::DeleteDoc { id: y }]),
            other(vec![StoreOp::DeleteDoc { id: x }]),
            Step::Expect { state: st(vec![], 4, vec![i1]), absent: vec![x, y] },
        ],
    }
}

fn blob(n: u8) -> protocol::blob::BlobHash {
    [n; 32]
}

fn put_blob(n: u8, mime: &str, bytes: &str, pending: bool, at: i64) -> StoreOp {
    StoreOp::PutBlob { hash: blob(n), mime: mime.into(), bytes: bytes.as_bytes().to_vec(), pending, at }
}

fn blob_meta(n: u8, mime: &str, bytes: &str, pending: bool, at: i64) -> crate::BlobMeta {
    crate::BlobMeta { hash: blob(n), mime: mime.into(), size: bytes.len() as u64, pending, at }
}

fn attachments() -> Scenario {
    let x = id(1);
    let with =
        |blobs: Vec<crate::BlobMeta>, docs: Vec<StoredDoc>| StoredState { docs, cursor: 0, inbox: vec![], blobs };
    let jpeg = |pending| blob_meta(1, "image/jpeg", "receipt.jpg bytes", pending, 10);
    let pdf = blob_meta(2, "application/pdf", "signed.pdf", false, 11);
    let expect = |blobs, docs| Step::Expect { state: with(blobs, docs), absent: vec![] };
    let bytes = |n: u8, b: Option<&str>| Step::ExpectBlob { hash: blob(n), bytes: b.map(|b| b.as_bytes().to_vec()) };
    Scenario {
        name: "attachments: stored whole, pending until uploaded, evicted, apart from documents",
        steps: vec![
            apply(vec![
                put_blob(1, "image/jpeg", "receipt.jpg bytes", true, 10),
                put_blob(2, "application/pdf", "signed.pdf", false, 11),
            ]),
            expect(vec![jpeg(true), pdf.clone()], vec![]),
            bytes(1, Some("receipt.jpg bytes")),
            bytes(2, Some("signed.pdf")),
            bytes(3, None),
            // Uploaded and evicted; ops on attachments not held change nothing.
            apply(vec![
                StoreOp::BlobUploaded { hash: blob(1) },
                StoreOp::DeleteBlob { hash: blob(2) },
                StoreOp::BlobUploaded { hash: blob(3) },
                StoreOp::DeleteBlob { hash: blob(3) },
            ]),
            expect(vec![jpeg(false)], vec![]),
            bytes(2, None),
            // All or nothing, attachments included.
            Step::ApplyFailing {
                ops: vec![put_blob(3, "image/png", "photo", true, 12), StoreOp::DeleteBlob { hash: blob(1) }],
                after: 2,
            },
            expect(vec![jpeg(false)], vec![]),
            bytes(3, None),
            Step::Reopen,
            expect(vec![jpeg(false)], vec![]),
            bytes(1, Some("receipt.jpg bytes")),
            // Documents come and go without them; put again replaces.
            apply(vec![
                append(x, C, "X.1"),
                StoreOp::DeleteDoc { id: x },
                put_blob(2, "application/pdf", "signed.pdf", true, 13),
            ]),
            expect(vec![jpeg(false), blob_meta(2, "application/pdf", "signed.pdf", true, 13)], vec![]),
            Step::OpenOther,
            Step::Apply(Handle::Other, vec![put_blob(4, "image/webp", "from the other tab", true, 14)]),
            bytes(4, Some("from the other tab")),
            expect(
                vec![
                    jpeg(false),
                    blob_meta(2, "application/pdf", "signed.pdf", true, 13),
                    blob_meta(4, "image/webp", "from the other tab", true, 14),
                ],
                vec![],
            ),
        ],
    }
}

/// A real session: the batches a replica produces (create a customer, edit it, an order
/// with lines, sync with acks, a chunk another device made, a new document from the
/// server, a refused edit, enough edits for the chunk-count compaction, a forgotten
/// document), what must load after them (the batches applied to a [`MemStore`]), and what
/// a replica loaded from the store must show.
fn replica_session() -> Scenario {
    let mut session = Session::new();
    let c = session
        .replica
        .create_customer(&NewCustomer { name: "贵阳酒行".into(), ..Default::default() }, 1_000)
        .expect("create");
    session.persist();
    session.replica.set_customer(c, "notes", "喜欢酱香型", 1_001).expect("edit");
    session.persist();
    let o = session.replica.create_order(c, OrderSource::Verbal, 1_002).expect("order");
    session.persist();
    for (sku, qty, price) in [("MT-53-500", 6, 149_900), ("XJ-52-500", 2, 89_950)] {
        let line = NewLine { id: sku.into(), sku: sku.into(), spec: None, qty, unit_price_fen: price };
        session.replica.add_order_line(o, &line, 1_003).expect("line");
    }
    session.persist();

    // Sync: hello and pushes, caught up, acks — progress stored with what it covers.
    let frames = session.engine.connected(&mut session.replica).expect("hello");
    session.persist();
    let first_push = pushed(&frames);
    assert_eq!(first_push.len(), 2, "customer and order pushed");
    session.receive(ServerMsg::CaughtUp { cursor: 5, docs_sent: 0 });
    session.receive(ack(&first_push, 7));
    let mid = session.batches.len();

    // Another device edits the customer; its chunk arrives live.
    let created = first_push.iter().find(|p| p.id == c).expect("customer pushed").changes.clone();
    let first = StoredDoc { id: c, kind: C, chunks: vec![created], server_heads: vec![] };
    let other_actor = ActorId::from(Uuid::from_u128(2).as_bytes());
    let mut other = Replica::load(other_actor, "wang", vec![first], 0, vec![]).expect("other device");
    other.set_customer(c, "phone", "0851-1", 2_000).expect("remote edit");
    let remote = only_chunk(other.take_store_ops());
    let remote_heads = other.doc_mut(c).expect("held").heads_wire();
    session.receive(ServerMsg::Changes {
        docs: vec![DocChunk { id: c, kind: C, heads: remote_heads.clone(), changes: remote }],
        cursor: Some(9),
    });
    // A document new here arrives (stored as a snapshot).
    let d = other.create_customer(&NewCustomer { name: "遵义酒行".into(), ..Default::default() }, 2_001).expect("d");
    let snapshot = only_chunk(other.take_store_ops());
    let d_heads = other.doc_mut(d).expect("held").heads_wire();
    session.receive(ServerMsg::Changes {
        docs: vec![DocChunk { id: d, kind: C, heads: d_heads, changes: snapshot }],
        cursor: Some(10),
    });

    // An edit the server refuses: restored by a compaction, kept in the inbox.
    session.replica.set_customer(c, "owner", "zhang", 3_000).expect("local edit");
    session.persist();
    let frames = session.engine.local_changes(&mut session.replica).expect("push");
    session.persist();
    assert_eq!(pushed(&frames).len(), 1, "the refused edit is pushed");
    let refusal = Refusal {
        id: c,
        kind: C,
        code: ErrorCode::Forbidden,
        path: "owner".into(),
        rule: "assigners".into(),
        message: "reps may not reassign customers".into(),
        server_heads: remote_heads,
    };
    session.receive(ServerMsg::Refused { refusals: vec![refusal] });

    // Edits until the order is compacted for its number of chunks; then synced.
    let mut compacted = false;
    for i in 0..1_000 {
        session.replica.set_order(o, "notes", &format!("第{i}次修改"), 4_000 + i).expect("order edit");
        let ops = session.replica.take_store_ops();
        compacted = ops.iter().any(|op| matches!(op, StoreOp::Compact { id, .. } if *id == o));
        session.batches.push(ops);
        if compacted {
            break;
        }
    }
    assert!(compacted, "the order was compacted for its number of chunks");
    let frames = session.engine.local_changes(&mut session.replica).expect("push");
    session.persist();
    let chunks = pushed(&frames);
    session.receive(ack(&chunks, 12));
    // The user may no longer read `d`: it is deleted.
    session.receive(ServerMsg::Forget { docs: vec![d], reason: "转给四川".into() });
    assert!(session.engine.is_quiescent(&mut session.replica), "the session ends in sync");
    let customer = session.replica.customer(c).expect("customer");
    assert_eq!((customer.notes.as_str(), customer.phone.as_deref()), ("喜欢酱香型", Some("0851-1")));
    assert_eq!(customer.owner.as_deref(), Some("li"), "the refused change is undone");
    assert_eq!(session.replica.order(o).expect("order").total_fen, 6 * 149_900 + 2 * 89_950);
    assert_eq!(session.replica.cursor(), 12);

    let view = ReplicaView::of(&mut session.replica, &[c, o, d]);
    assert!(view.inbox.len() == 1 && !view.inbox[0].changes.is_empty(), "the refused change is in the inbox");
    let mut oracle = MemStore::default();
    let mut steps = Vec::new();
    for (i, batch) in session.batches.into_iter().enumerate() {
        if batch.is_empty() {
            continue;
        }
        oracle.apply(&batch).expect("memory");
        steps.push(apply(batch));
        if i + 1 == mid {
            steps.push(Step::Reopen);
        }
    }
    steps.push(Step::Reopen);
    steps.push(Step::Expect { state: oracle.load_all().expect("memory"), absent: vec![d] });
    steps.push(Step::ExpectReplica(Box::new(view)));
    Scenario { name: "a replica loaded after a real session reads back the same documents", steps }
}

/// A replica and its sync engine, every batch of store ops it produced kept in order.
struct Session {
    replica: Replica,
    engine: SyncEngine,
    batches: Vec<Vec<StoreOp>>,
}

impl Session {
    fn new() -> Self {
        let actor = ActorId::from(Uuid::from_u128(1).as_bytes());
        Session {
            replica: Replica::load(actor, "li", vec![], 0, vec![]).expect("empty replica"),
            engine: SyncEngine::new(Uuid::from_u128(1), "store-contract"),
            batches: Vec::new(),
        }
    }

    fn persist(&mut self) {
        self.batches.push(self.replica.take_store_ops());
    }

    /// A server frame; pushes it causes are acknowledged at once.
    fn receive(&mut self, msg: ServerMsg) {
        let frames =
            self.engine.receive(&mut self.replica, &wire::encode(&msg).expect("encode"), 5_000).expect("frame");
        self.persist();
        let chunks = pushed(&frames);
        if !chunks.is_empty() {
            self.receive(ack(&chunks, 0));
        }
    }
}

fn pushed(frames: &[Vec<u8>]) -> Vec<DocChunk> {
    frames
        .iter()
        .flat_map(|f| match wire::decode::<ClientMsg>(f).expect("client frame") {
            ClientMsg::Push { docs } => docs,
            _ => vec![],
        })
        .collect()
}

fn ack(chunks: &[DocChunk], seq: u64) -> ServerMsg {
    ServerMsg::Ack { docs: chunks.iter().map(|c| DocAck { id: c.id, heads: c.heads.clone(), seq }).collect() }
}

fn only_chunk(ops: Vec<StoreOp>) -> Vec<u8> {
    match &ops[..] {
        [StoreOp::AppendChunk { bytes, .. } | StoreOp::Compact { snapshot: bytes, .. }] => bytes.clone(),
        other => panic!("one chunk expected: {other:?}"),
    }
}
