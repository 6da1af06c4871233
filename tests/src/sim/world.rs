//! The simulated system: the real [`Hub`] over a SQLite file (or two hubs over one
//! PostgreSQL database, as two nodes), real devices
//! ([`Replica`] + [`SyncEngine`] + [`MemStore`]), the [`Net`] between them, and what the run
//! has observed that the invariants need (acknowledgements, refusals, authored changes).

use super::net::{Down, Net, Up};
use super::plan::{Action, AdminStep, LineSpec, Plan, SimUser, Step, TERRITORIES, USERS};
use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use client_core::{LocalStore, MemStore, Replica, StoreOp, SyncEngine, SyncError};
use jiuloop_server::SqliteDb;
use jiuloop_server::storage::{PgStorage, Storage};
use jiuloop_server::{ConnId, Hub, HubEvent, HubSettings, Outgoing, ServerStats, Session};
use protocol::pricing::Policy;
use protocol::schema::customer::NewCustomer;
use protocol::schema::order::NewLine;
use protocol::schema::visit::NewVisit;
use protocol::schema::{Channel, CustomerClass, ExceptionKind, OrderSource, VisitKind};
use protocol::wire::{self, ClientMsg, DocChunk, Hash, ServerMsg};
use protocol::{DocId, DocKind, Role};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// 2026-08-03 09:00 in Shanghai: the simulated clock starts here.
pub const START: i64 = 1_785_718_800_000;

/// What went wrong, as a sentence.
pub type Failure = String;

/// What the hub reports with `tracing` at error level, captured per thread: in a
/// simulation every such report is a failure (and says what went wrong inside).
mod hub_errors {
    use std::cell::RefCell;
    use std::sync::Once;

    thread_local! {
        static LINES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    struct ThreadBuffer;

    impl std::io::Write for ThreadBuffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            LINES.with(|l| l.borrow_mut().extend_from_slice(b));
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub fn capture() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| ThreadBuffer)
                // The server's own reports (Automerge logs cases the hub handles).
                .with_env_filter(tracing_subscriber::EnvFilter::new("jiuloop_server=error"))
                .with_ansi(false)
                .without_time()
                .finish();
            // Another subscriber may be installed already (then errors are not captured).
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
    }

    /// What was reported on this thread since the last call.
    pub fn take() -> String {
        LINES.with(|l| String::from_utf8_lossy(&std::mem::take(&mut *l.borrow_mut())).trim().to_string())
    }
}

/// The example policy (`examples/policy.csv`), parsed once.
pub fn example_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        protocol::pricing::parse_policy_csv(include_str!("../../../examples/policy.csv"))
            .expect("examples/policy.csv parses")
    })
}

/// Where the server's data lives: a SQLite file (one hub), or a PostgreSQL database shared
/// by several hubs (nodes).
#[derive(Clone, Debug)]
pub enum Backing {
    Sqlite(PathBuf),
    Postgres { url: String, hubs: usize },
}

impl Backing {
    /// A new connection to it.
    pub fn open(&self) -> Box<dyn Storage> {
        match self {
            Backing::Sqlite(path) => {
                Box::new(SqliteDb::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display())))
            }
            Backing::Postgres { url, .. } => {
                Box::new(PgStorage::connect(url).unwrap_or_else(|e| panic!("connect to {url}: {e}")))
            }
        }
    }

    /// How many hubs serve the devices.
    pub fn hubs(&self) -> usize {
        match self {
            Backing::Sqlite(_) => 1,
            Backing::Postgres { hubs, .. } => (*hubs).max(1),
        }
    }
}

/// The only place a hub is built.
pub fn open_hub(backing: &Backing, plan: &Plan) -> Hub {
    hub_errors::capture();
    let settings = HubSettings { cache_docs: plan.cache_docs, compact_after: plan.compact_after };
    Hub::new(backing.open(), settings, Arc::new(ServerStats::default())).expect("the hub opens")
}

fn insert_users(db: &dyn Storage) {
    for u in &USERS {
        db.insert_user(&jiuloop_server::storage::NewUser {
            name: u.name.into(),
            password_hash: "not used: sessions are made directly".into(),
            role: u.role.as_str().into(),
            territory: u.territory.map(String::from),
            manager: u.manager.map(String::from),
            created_at: START,
        })
        .expect("insert user");
    }
}

/// A database with the schema and every user, made once per process (migrating a fresh
/// file for each run would cost more than many runs' worth of steps): its bytes.
fn template_db() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("jiuloop-sim-template-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the template's directory");
        let path = dir.join("jiuloop.db");
        {
            let db = SqliteDb::open(&path).expect("create the template database");
            insert_users(&db);
        } // closed: the write-ahead log is folded into the file
        let bytes = std::fs::read(&path).expect("read the template database");
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    })
}

/// The users and devices a login would have registered, in a new database at `path`.
fn register(backing: &Backing, devices: &[SimDevice]) {
    let db = match backing {
        Backing::Sqlite(path) => {
            std::fs::write(path, template_db()).expect("write the database");
            backing.open()
        }
        Backing::Postgres { .. } => {
            let db = backing.open();
            insert_users(&*db);
            db
        }
    };
    db.begin().expect("begin");
    for d in devices {
        db.upsert_device(d.device_id, d.user.name, &d.name, START).expect("insert device");
    }
    db.commit().expect("commit");
}

/// The session a login of `user` on `device` gives: own territory, plus the team's for a
/// manager (as `Accounts` computes it).
fn session_of(user: &SimUser, device: Uuid) -> Session {
    let mut s = Session::for_tests(user.name, user.role, user.territory, device);
    if user.role == Role::Manager {
        for rep in USERS.iter().filter(|r| r.manager == Some(user.name)) {
            if let Some(t) = rep.territory
                && !s.territories.iter().any(|x| x == t)
            {
                s.territories.push(t.to_string());
            }
        }
    }
    s
}

/// The changes in `bytes` (as pushed, stored or kept in an inbox: change chunks, or a
/// document chunk) with their authors.
pub fn changes_in(bytes: &[u8]) -> Vec<(ChangeHash, ActorId)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some((kind, end)) = chunk_extent(bytes, at) else {
            // Not a sequence of chunks we can split: let Automerge read it whole.
            return all_changes(bytes);
        };
        let chunk = &bytes[at..end];
        match kind {
            1 | 2 => match Change::from_bytes(chunk.to_vec()) {
                Ok(c) => out.push((c.hash(), c.actor_id().clone())),
                Err(_) => return all_changes(bytes),
            },
            _ => out.extend(all_changes(chunk)),
        }
        at = end;
    }
    out
}

/// Chunk header: magic (4), checksum (4), type (1), length (uLEB128), then the body.
fn chunk_extent(bytes: &[u8], at: usize) -> Option<(u8, usize)> {
    let header = bytes.get(at..at + 9)?;
    if header[..4] != [0x85, 0x6f, 0x4a, 0x83] {
        return None;
    }
    let kind = header[8];
    let (mut len, mut shift, mut i) = (0usize, 0u32, at + 9);
    loop {
        let b = *bytes.get(i)?;
        len |= usize::from(b & 0x7f).checked_shl(shift)?;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = i.checked_add(len)?;
    (end <= bytes.len()).then_some((kind, end))
}

fn all_changes(bytes: &[u8]) -> Vec<(ChangeHash, ActorId)> {
    let mut doc = AutoCommit::new();
    if doc.load_incremental(bytes).is_err() {
        return Vec::new();
    }
    doc.get_changes_meta(&[]).into_iter().map(|c| (c.hash, c.actor.into_owned())).collect()
}

/// A stored document as loaded for the checks: its heads (sorted) and all its changes.
pub struct Loaded {
    pub heads: Vec<ChangeHash>,
    pub changes: HashSet<ChangeHash>,
}

/// One device: a replica, its sync engine and its store, the user and the connection.
pub struct SimDevice {
    pub name: String,
    pub user: &'static SimUser,
    pub checked: bool,
    pub device_id: Uuid,
    pub actor: ActorId,
    pub session: Session,
    pub replica: Replica,
    pub engine: SyncEngine,
    pub store: MemStore,
    pub conn: Option<ConnId>,
    boots: u64,
    id_seed: u64,
    /// Every change of this device's actor that ever reached its store.
    pub authored: HashSet<ChangeHash>,
    /// The heads and changes of stored documents, by a fingerprint of their chunks (for
    /// the checks).
    pub heads_cache: HashMap<DocId, (u64, Arc<Loaded>)>,
}

impl SimDevice {
    fn boot(&mut self) {
        let mut replica = self.store.load(self.actor.clone(), self.user.name).expect("the store loads");
        if self.checked {
            replica.set_principal(self.session.principal());
        }
        self.boots += 1;
        replica.seed_ids(self.id_seed ^ (self.boots << 48));
        self.replica = replica;
        self.engine = SyncEngine::new(self.device_id, "sim");
    }

    /// Make the replica's store ops durable (before anything that depends on them is
    /// sent), noting the changes of this device's own actor (`scan`: the ops may hold
    /// some: an edit, or a document restored after a refusal).
    fn persist(&mut self, scan: bool) {
        let ops = self.replica.take_store_ops();
        if scan {
            for op in &ops {
                let bytes = match op {
                    StoreOp::AppendChunk { bytes, .. } => bytes,
                    StoreOp::Compact { snapshot, .. } => snapshot,
                    _ => continue,
                };
                for (hash, actor) in changes_in(bytes) {
                    if actor == self.actor {
                        self.authored.insert(hash);
                    }
                }
            }
        }
        self.store.apply(&ops).expect("the memory store applies every op");
    }

    pub fn principal(&self) -> protocol::rules::Principal {
        self.session.principal()
    }
}

/// A refusal the hub sent.
#[derive(Clone, Debug)]
pub struct RefusalRecord {
    pub dev: usize,
    pub doc: DocId,
    pub rule: String,
    pub path: String,
    /// The refused changes of the pusher's own actor that the server did not hold.
    pub hashes: Vec<ChangeHash>,
    /// The hub batch that refused it.
    pub batch: u64,
    /// The device received the refusal.
    pub delivered: bool,
}

/// What the run observed, for the invariants.
#[derive(Default)]
pub struct Track {
    /// Every acknowledgement the hub sent (it commits first): the heads it then held.
    pub acks: Vec<(DocId, Vec<Hash>)>,
    /// Change → the first hub batch that accepted a push holding it.
    pub accepted: HashMap<ChangeHash, u64>,
    pub refusals: Vec<RefusalRecord>,
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub steps: u64,
    pub edits: u64,
    pub edits_refused_locally: u64,
    pub batches: u64,
    pub frames_to_hub: u64,
    pub frames_to_devices: u64,
    pub refusals: u64,
    pub cuts: u64,
    pub hub_restarts: u64,
    pub device_restarts: u64,
    /// What the server held at the last check (coverage: what the plans reach).
    pub coverage: Coverage,
}

/// How far the plans got, summed over runs: documents on the server at each run's end.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub customers: u64,
    pub visits: u64,
    pub observations: u64,
    pub orders: u64,
    pub submitted: u64,
    pub needing_approval: u64,
    pub assigned: u64,
    pub shipped_or_later: u64,
    pub moves: u64,
    pub inbox_items: u64,
    pub policy_versions: u64,
}

impl std::ops::AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, o: &Stats) {
        self.steps += o.steps;
        self.edits += o.edits;
        self.edits_refused_locally += o.edits_refused_locally;
        self.batches += o.batches;
        self.frames_to_hub += o.frames_to_hub;
        self.frames_to_devices += o.frames_to_devices;
        self.refusals += o.refusals;
        self.cuts += o.cuts;
        self.hub_restarts += o.hub_restarts;
        self.device_restarts += o.device_restarts;
        let (c, d) = (&mut self.coverage, &o.coverage);
        c.customers += d.customers;
        c.visits += d.visits;
        c.observations += d.observations;
        c.orders += d.orders;
        c.submitted += d.submitted;
        c.needing_approval += d.needing_approval;
        c.assigned += d.assigned;
        c.shipped_or_later += d.shipped_or_later;
        c.moves += d.moves;
        c.inbox_items += d.inbox_items;
        c.policy_versions += d.policy_versions;
    }
}

pub struct World {
    pub plan: Plan,
    pub backing: Backing,
    /// One hub, or several nodes over one shared database (`None` while restarting).
    hubs: Vec<Option<Hub>>,
    /// Which hub each connection reached (a device lands on any node at each connect).
    hub_of: HashMap<ConnId, usize>,
    next_conn: u64,
    pub devices: Vec<SimDevice>,
    pub net: Net,
    pub now: i64,
    /// Every document the devices created, in creation order (what plan steps pick from).
    pub registry: Vec<(DocId, DocKind)>,
    pub track: Track,
    pub stats: Stats,
    /// What happened, one line per event (printed when the run fails).
    pub log: Vec<String>,
    line_ids: u64,
}

impl World {
    pub fn new(plan: Plan, backing: Backing) -> World {
        let mut rng = crate::Rng::new(plan.seed ^ 0xDE_71_CE);
        let mut devices = Vec::new();
        for (i, spec) in plan.devices.iter().enumerate() {
            let user = &USERS[spec.user];
            let device_id = uuid::Builder::from_random_bytes(random16(&mut rng)).into_uuid();
            let actor = ActorId::from(random16(&mut rng).as_slice());
            let session = session_of(user, device_id);
            let mut d = SimDevice {
                name: format!("d{i}:{}", user.name),
                user,
                checked: spec.checked,
                device_id,
                actor,
                session,
                // Replaced by `boot` (which loads the store) right below.
                replica: Replica::load(ActorId::from(&[0u8; 16][..]), "", vec![], 0, vec![]).expect("an empty replica"),
                engine: SyncEngine::new(device_id, "sim"),
                store: MemStore::default(),
                conn: None,
                boots: 0,
                id_seed: rng.next_u64(),
                authored: HashSet::new(),
                heads_cache: HashMap::new(),
            };
            d.boot();
            devices.push(d);
        }
        register(&backing, &devices);
        let hubs = (0..backing.hubs()).map(|_| Some(open_hub(&backing, &plan))).collect();
        World {
            plan,
            backing,
            hubs,
            hub_of: HashMap::new(),
            next_conn: 1,
            devices,
            net: Net::default(),
            now: START,
            registry: Vec::new(),
            track: Track::default(),
            stats: Stats::default(),
            log: Vec::new(),
            line_ids: 0,
        }
    }

    fn note(&mut self, line: String) {
        let t = (self.now - START) / 1000;
        self.log.push(format!("[t+{t:>5}s] {line}"));
    }

    /// The hub connection `conn` reached.
    fn hub(&mut self, conn: ConnId) -> &mut Hub {
        let i = self.hub_of.get(&conn).copied().unwrap_or(0);
        self.hubs[i].as_mut().expect("the hubs run between steps")
    }

    /// Carry out one step of the plan.
    pub fn step(&mut self, step: &Step) -> Result<(), Failure> {
        self.stats.steps += 1;
        self.now += 1_000 + (self.stats.steps as i64 % 7) * 3_001;
        match step {
            Step::Edit { dev, action } => self.edit(*dev, action),
            Step::Connect { dev } => self.connect(*dev),
            Step::Cut { dev, keep } => {
                self.cut(*dev, *keep);
                Ok(())
            }
            Step::ToHub { pick, frames, dup, spread } => self.deliver_to_hub(*pick, *frames, *dup, *spread),
            Step::ToDevice { pick, frames } => self.deliver_to_device(*pick, *frames),
            Step::RestartDevice { dev, keep } => {
                self.cut(*dev, *keep);
                self.stats.device_restarts += 1;
                self.devices[*dev].boot();
                let name = self.devices[*dev].name.clone();
                self.note(format!("{name} restarts from its store"));
                Ok(())
            }
            Step::CrashDevice { dev } => self.crash_device(*dev),
            Step::RestartHub => {
                self.restart_hub();
                Ok(())
            }
            Step::Admin(a) => self.admin(a),
            Step::Tick => self.tick(),
        }
    }

    /// Every device reconnects over a reliable network until nothing is left to send or
    /// receive; then every device must be quiescent.
    pub fn settle(&mut self) -> Result<(), Failure> {
        self.note("settle: reliable network, everyone connects".into());
        self.tick()?;
        for _ in 0..100 {
            let mut moved = false;
            for dev in 0..self.devices.len() {
                if self.devices[dev].conn.is_none() {
                    self.connect(dev)?;
                    moved = true;
                }
            }
            let conns: Vec<ConnId> = self.net.links.iter().map(|l| l.conn).collect();
            for conn in conns {
                let frames = self.net.by_conn(conn).map_or(0, |l| l.up.len());
                if frames > 0 {
                    self.hub_read(&[(conn, frames)], false)?;
                    moved = true;
                }
            }
            let open: Vec<(ConnId, usize)> =
                self.net.links.iter().filter(|l| l.open && !l.down.is_empty()).map(|l| (l.conn, l.dev)).collect();
            for (conn, dev) in open {
                while let Some(down) = self.net.by_conn(conn).filter(|l| l.open).and_then(|l| l.down.pop_front()) {
                    self.device_receive(dev, conn, down)?;
                }
                moved = true;
            }
            // Several nodes: each hears of the others' writes on its tick.
            if self.hubs.len() > 1 && self.tick_all()? {
                moved = true;
            }
            self.net.gc();
            if !moved {
                break;
            }
        }
        if !self.net.is_idle() {
            return Err("the network does not go quiet: frames keep flowing after 100 reliable rounds".into());
        }
        for d in &mut self.devices {
            if !d.engine.is_quiescent(&mut d.replica) {
                let unsent = d.replica.unsent_docs();
                return Err(format!(
                    "{} is not quiescent after settling (live: {}, unsent docs: {unsent:?})",
                    d.name,
                    d.engine.is_live()
                ));
            }
        }
        Ok(())
    }

    // ---- connections ---------------------------------------------------------

    fn connect(&mut self, dev: usize) -> Result<(), Failure> {
        if self.devices[dev].conn.is_some() {
            return Ok(());
        }
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.hub_of.insert(conn, (conn.0 % self.hubs.len() as u64) as usize);
        let d = &mut self.devices[dev];
        d.conn = Some(conn);
        self.net.open(conn, dev, d.session.clone());
        let frames = d.engine.connected(&mut d.replica).map_err(|e| format!("{}: connect: {e}", d.name))?;
        d.persist(false);
        let n = frames.len();
        let name = d.name.clone();
        self.send_up(conn, frames);
        self.note(format!("{name} connects as {conn} (hello + {} frames)", n - 1));
        Ok(())
    }

    fn send_up(&mut self, conn: ConnId, frames: Vec<Vec<u8>>) {
        if let Some(l) = self.net.by_conn(conn) {
            l.up.extend(frames.into_iter().map(Up::Frame));
        }
    }

    fn cut(&mut self, dev: usize, keep: usize) {
        let Some(conn) = self.devices[dev].conn.take() else { return };
        self.devices[dev].engine.disconnected();
        self.stats.cuts += 1;
        self.net.cut(conn, keep);
        let name = self.devices[dev].name.clone();
        self.note(format!("{name}: connection {conn} cut, {keep} unread frame(s) still reach the hub"));
    }

    fn crash_device(&mut self, dev: usize) -> Result<(), Failure> {
        let Some(conn) = self.devices[dev].conn else { return Ok(()) };
        let Some(down) = self.net.by_conn(conn).filter(|l| l.open).and_then(|l| l.down.pop_front()) else {
            return Ok(());
        };
        let msg: ServerMsg = wire::decode(&down.frame).map_err(|e| format!("undecodable server frame: {e}"))?;
        let now = self.now;
        let d = &mut self.devices[dev];
        // Applied in memory, never stored, never answered.
        let _ = d.engine.receive(&mut d.replica, &down.frame, now);
        drop(d.replica.take_store_ops());
        let name = d.name.clone();
        self.note(format!("{name} reads {} and dies before storing it", describe_server(&msg)));
        self.cut(dev, 0);
        self.stats.device_restarts += 1;
        self.devices[dev].boot();
        Ok(())
    }

    fn restart_hub(&mut self) {
        for h in &mut self.hubs {
            *h = None;
        }
        for dev in self.net.kill_all() {
            self.devices[dev].engine.disconnected();
        }
        for d in &mut self.devices {
            d.conn = None;
        }
        self.stats.hub_restarts += 1;
        self.note("the server restarts: every connection and everything in flight is lost".into());
        for i in 0..self.hubs.len() {
            self.hubs[i] = Some(open_hub(&self.backing, &self.plan));
        }
    }

    // ---- the hub's side --------------------------------------------------------

    fn deliver_to_hub(&mut self, pick: usize, frames: usize, dup: bool, spread: bool) -> Result<(), Failure> {
        let ready: Vec<ConnId> = self.net.links.iter().filter(|l| !l.up.is_empty()).map(|l| l.conn).collect();
        if ready.is_empty() {
            return Ok(());
        }
        let i = pick % ready.len();
        let mut reads = vec![(ready[i], frames)];
        if spread && ready.len() > 1 {
            // Another connection, also drawn from `pick`.
            let j = (i + 1 + pick / ready.len() % (ready.len() - 1)) % ready.len();
            reads.push((ready[j], frames));
        }
        self.hub_read(&reads, dup)
    }

    /// The hub reads up to n frames from each of these connections, as one batch.
    fn hub_read(&mut self, reads: &[(ConnId, usize)], dup: bool) -> Result<(), Failure> {
        let mut events: Vec<(ConnId, HubEvent)> = Vec::new();
        let mut pushes: Vec<(ConnId, DocChunk)> = Vec::new();
        let mut desc = Vec::new();
        let mut resent = Vec::new();
        for &(conn, n) in reads {
            for _ in 0..n {
                let Some(up) = self.net.by_conn(conn).and_then(|l| l.up.pop_front()) else { break };
                self.stats.frames_to_hub += 1;
                match up {
                    Up::Connected(session) => {
                        desc.push(format!("{conn} connected"));
                        events.push((conn, HubEvent::Connected { conn, session: *session }));
                    }
                    Up::Disconnected => {
                        desc.push(format!("{conn} disconnected"));
                        events.push((conn, HubEvent::Disconnected { conn }));
                    }
                    Up::Frame(bytes) => {
                        let msg: ClientMsg =
                            wire::decode(&bytes).map_err(|e| format!("a device sent an undecodable frame: {e}"))?;
                        desc.push(format!("{conn} {}", describe_client(&msg)));
                        if let ClientMsg::Push { docs } = &msg {
                            pushes.extend(docs.iter().map(|c| (conn, c.clone())));
                            if dup {
                                resent.push((conn, msg.clone(), docs.clone()));
                            }
                        }
                        events.push((conn, HubEvent::Message { conn, msg }));
                    }
                }
            }
        }
        if events.is_empty() {
            return Ok(());
        }
        self.note(format!("hub reads: {}", desc.join("; ")));
        let now = self.now;
        // Each hub reads its own connections' frames, as one batch.
        let mut per_hub: Vec<Vec<HubEvent>> = vec![Vec::new(); self.hubs.len()];
        for (c, e) in events {
            per_hub[self.hub_of.get(&c).copied().unwrap_or(0)].push(e);
        }
        for (h, mine) in per_hub.into_iter().enumerate() {
            if mine.is_empty() {
                continue;
            }
            let out = self.hubs[h].as_mut().expect("the hubs run between steps").handle_batch(mine, now);
            self.hub_output(out, &pushes, None)?;
        }
        // A push the hub reads twice (a retransmission, or the same push on the device's
        // next connection after the first answer was lost): the device gets one answer
        // per push, so the copy's answer is lost on the way.
        for (conn, msg, docs) in resent {
            self.note(format!("hub reads {conn}'s push again; its answer is lost"));
            let out = self.hub(conn).handle(HubEvent::Message { conn, msg }, now);
            let pushes: Vec<(ConnId, DocChunk)> = docs.into_iter().map(|c| (conn, c)).collect();
            self.hub_output(out, &pushes, Some(conn))?;
        }
        Ok(())
    }

    fn tick(&mut self) -> Result<(), Failure> {
        self.tick_all().map(|_| ())
    }

    /// Every hub's tick; whether any said something.
    fn tick_all(&mut self) -> Result<bool, Failure> {
        let now = self.now;
        let mut said = false;
        for h in 0..self.hubs.len() {
            let out = self.hubs[h].as_mut().expect("the hubs run between steps").handle(HubEvent::Tick { now }, now);
            if !out.is_empty() {
                said = true;
                self.note(format!("tick of hub {h}: {} message(s)", out.len()));
            }
            self.hub_output(out, &[], None)?;
        }
        Ok(said)
    }

    /// Record what the hub answered (acks, refusals), and queue it for the devices (except
    /// the answers to `answer_lost`'s push).
    fn hub_output(
        &mut self,
        out: Vec<Outgoing>,
        pushes: &[(ConnId, DocChunk)],
        answer_lost: Option<ConnId>,
    ) -> Result<(), Failure> {
        let errors = hub_errors::take();
        if !errors.is_empty() {
            self.note(format!("hub logged: {errors}"));
            return Err(format!("the hub logged an error: {errors}"));
        }
        self.stats.batches += 1;
        let batch = self.stats.batches;
        let dev_of: HashMap<ConnId, usize> = self.net.links.iter().map(|l| (l.conn, l.dev)).collect();
        let chunks_of = |conn: ConnId, doc: DocId| pushes.iter().filter(move |(c, ch)| *c == conn && ch.id == doc);
        // Acknowledged pushes are stored: first the acks, so that a refusal in the same
        // batch is measured against what the server then held.
        for o in &out {
            if let ServerMsg::Ack { docs } = &o.msg {
                for ack in docs {
                    self.track.acks.push((ack.id, ack.heads.clone()));
                    if ack.seq == 0 {
                        continue;
                    }
                    for conn in &o.to {
                        for (_, chunk) in chunks_of(*conn, ack.id) {
                            for (hash, _) in changes_in(&chunk.changes) {
                                self.track.accepted.entry(hash).or_insert(batch);
                            }
                        }
                    }
                }
            }
        }
        let mut lines = Vec::new();
        for o in out {
            let mut refusal_ids: HashMap<ConnId, Vec<usize>> = HashMap::new();
            if let ServerMsg::Refused { refusals } = &o.msg {
                for conn in &o.to {
                    let Some(&dev) = dev_of.get(conn) else { continue };
                    let actor = self.devices[dev].actor.clone();
                    for r in refusals {
                        self.stats.refusals += 1;
                        let mut hashes = BTreeSet::new();
                        for (_, chunk) in chunks_of(*conn, r.id) {
                            for (hash, a) in changes_in(&chunk.changes) {
                                if a == actor && !self.track.accepted.contains_key(&hash) {
                                    hashes.insert(hash);
                                }
                            }
                        }
                        refusal_ids.entry(*conn).or_default().push(self.track.refusals.len());
                        self.track.refusals.push(RefusalRecord {
                            dev,
                            doc: r.id,
                            rule: r.rule.clone(),
                            path: r.path.clone(),
                            hashes: hashes.into_iter().collect(),
                            batch,
                            delivered: false,
                        });
                    }
                }
            }
            let frame = wire::encode(&o.msg).map_err(|e| format!("the hub produced an unencodable message: {e}"))?;
            let to: Vec<String> = o.to.iter().map(|c| c.to_string()).collect();
            lines.push(format!("{} → {}", describe_server(&o.msg), to.join(",")));
            let answer = matches!(o.msg, ServerMsg::Ack { .. } | ServerMsg::Refused { .. });
            for conn in o.to {
                if answer && answer_lost == Some(conn) {
                    continue;
                }
                if let Some(l) = self.net.by_conn(conn).filter(|l| l.open) {
                    l.down.push_back(Down {
                        frame: frame.clone(),
                        refusals: refusal_ids.remove(&conn).unwrap_or_default(),
                    });
                }
            }
        }
        if !lines.is_empty() {
            self.note(format!("hub answers: {}", lines.join("; ")));
        }
        Ok(())
    }

    // ---- the devices' side -----------------------------------------------------

    fn deliver_to_device(&mut self, pick: usize, frames: usize) -> Result<(), Failure> {
        let ready: Vec<(ConnId, usize)> =
            self.net.links.iter().filter(|l| l.open && !l.down.is_empty()).map(|l| (l.conn, l.dev)).collect();
        if ready.is_empty() {
            return Ok(());
        }
        let (conn, dev) = ready[pick % ready.len()];
        for _ in 0..frames {
            let Some(down) = self.net.by_conn(conn).filter(|l| l.open).and_then(|l| l.down.pop_front()) else {
                break;
            };
            self.device_receive(dev, conn, down)?;
        }
        self.net.gc();
        Ok(())
    }

    fn device_receive(&mut self, dev: usize, conn: ConnId, down: Down) -> Result<(), Failure> {
        self.stats.frames_to_devices += 1;
        for r in &down.refusals {
            self.track.refusals[*r].delivered = true;
        }
        let msg: ServerMsg = wire::decode(&down.frame).map_err(|e| format!("undecodable server frame: {e}"))?;
        let refused = matches!(msg, ServerMsg::Refused { .. });
        let now = self.now;
        let d = &mut self.devices[dev];
        let result = d.engine.receive(&mut d.replica, &down.frame, now);
        d.persist(refused);
        let name = d.name.clone();
        match result {
            Ok(frames) => {
                let n = frames.len();
                self.send_up(conn, frames);
                self.note(format!("{name} reads {}{}", describe_server(&msg), answer(n)));
                Ok(())
            }
            // Nothing in a plan makes an honest device deserve an error (only pushes are
            // read twice, never a hello), so every one is a bug.
            Err(SyncError::Server { code, message }) => {
                self.note(format!("{name} reads error {code}: {message}; closes {conn}"));
                self.devices[dev].engine.disconnected();
                self.devices[dev].conn = None;
                self.net.close(conn);
                Err(format!("{name} was sent error {code} ({message})"))
            }
            Err(e) => Err(format!("{name} cannot apply what the server sent ({}): {e}", describe_server(&msg))),
        }
    }

    fn admin(&mut self, a: &AdminStep) -> Result<(), Failure> {
        let command = match a {
            AdminStep::Publish { authority_bp } => {
                let policy = policy_with(example_policy().clone(), 1, *authority_bp);
                jiuloop_server::admin::AdminCommand::PublishPolicy { policy: Box::new(policy) }
            }
            AdminStep::Reassign { customer, territory } => {
                let customers: Vec<DocId> =
                    self.registry.iter().filter(|(_, k)| *k == DocKind::Customer).map(|(id, _)| *id).collect();
                if customers.is_empty() {
                    return Ok(());
                }
                jiuloop_server::admin::AdminCommand::Reassign {
                    customer: customers[customer % customers.len()],
                    territory: TERRITORIES[territory % TERRITORIES.len()].into(),
                    owner: None,
                }
            }
        };
        let json = serde_json::to_string(&command).expect("admin commands serialize");
        let db = self.backing.open();
        db.enqueue_admin_command(&json, self.now).map_err(|e| format!("queue an admin command: {e}"))?;
        self.note(format!("admin queues {a:?}"));
        Ok(())
    }

    // ---- edits -----------------------------------------------------------------

    /// The documents of `kind` this device holds (and whose first changes have all
    /// arrived), in creation order.
    fn held(&self, dev: usize, kind: DocKind) -> Vec<DocId> {
        let r = &self.devices[dev].replica;
        self.registry
            .iter()
            .filter(|(id, k)| *k == kind && r.kind_of(*id) == Some(kind) && r.facts_of(*id).is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    fn line(&mut self, dev: usize, customer: Option<DocId>, spec: &LineSpec) -> NewLine {
        let policy = example_policy();
        let skus: Vec<_> = policy.skus.iter().filter(|s| s.active).collect();
        let sku = skus[spec.sku % skus.len()];
        let channel = customer.and_then(|c| self.devices[dev].replica.customer(c).ok()).and_then(|c| c.channel);
        let tier = channel.and_then(|c| policy.tier_for(c)).unwrap_or(protocol::pricing::PriceTier::Retail);
        let list = policy.list_price(&sku.code, tier, self.now).unwrap_or(10_000);
        self.line_ids += 1;
        NewLine {
            id: format!("L{}", self.line_ids),
            sku: sku.code.clone(),
            spec: None,
            qty: spec.qty,
            unit_price_fen: list * (100 - spec.discount_pct) / 100,
        }
    }

    fn edit(&mut self, dev: usize, action: &Action) -> Result<(), Failure> {
        let now = self.now;
        let choose = |ids: &[DocId], pick: usize| (!ids.is_empty()).then(|| ids[pick % ids.len()]);
        let target = action.target();
        let customers = if target == Some(DocKind::Customer) { self.held(dev, DocKind::Customer) } else { vec![] };
        let orders = if target == Some(DocKind::Order) { self.held(dev, DocKind::Order) } else { vec![] };
        let mut created: Option<(DocId, DocKind)> = None;
        let d_principal = self.devices[dev].principal();
        let result: Result<String, client_core::CoreError> = match action {
            Action::CreateCustomer { territory, channel, class } => {
                let territories: Vec<&str> = if self.devices[dev].checked {
                    d_principal.territories.iter().map(String::as_str).collect()
                } else {
                    TERRITORIES.to_vec()
                };
                let Some(&t) = (!territories.is_empty()).then(|| &territories[territory % territories.len()]) else {
                    return Ok(());
                };
                let channels = [
                    Channel::Distributor,
                    Channel::DirectStore,
                    Channel::ECommerce,
                    Channel::GroupPurchase,
                    Channel::Restaurant,
                ];
                let classes = [CustomerClass::A, CustomerClass::B, CustomerClass::C];
                let n = self.registry.len();
                let new = NewCustomer {
                    name: format!("客户{n}"),
                    channel: Some(channels[channel % channels.len()]),
                    class: Some(classes[class % classes.len()]),
                    territory: Some(t.to_string()),
                    ..Default::default()
                };
                self.devices[dev].replica.create_customer(&new, now).map(|id| {
                    created = Some((id, DocKind::Customer));
                    format!("creates customer {id} in {t}")
                })
            }
            Action::SetCustomer { customer, field, value } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                let (f, v) = match field % 5 {
                    0 => ("phone", format!("1380000{:04}", value % 10_000)),
                    1 => ("address", format!("地址{value}")),
                    2 => ("notes", format!("备注{value}")),
                    3 => ("channel", ["distributor", "restaurant", "direct-store"][value % 3].to_string()),
                    _ => ("class", ["A", "B", "C"][value % 3].to_string()),
                };
                self.devices[dev].replica.set_customer(c, f, &v, now).map(|()| format!("sets {c}.{f} = {v}"))
            }
            Action::AddContact { customer } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                let name = format!("联系人{}", self.stats.steps);
                self.devices[dev]
                    .replica
                    .add_contact(c, &name, None, None, now)
                    .map(|()| format!("adds contact {name} to {c}"))
            }
            Action::CreateVisit { customer, kind } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                let kinds = [VisitKind::Development, VisitKind::FollowUp, VisitKind::Revisit, VisitKind::Tasting];
                let new =
                    NewVisit { customer: c, kind: kinds[kind % kinds.len()], method: None, notes: "拜访".into() };
                self.devices[dev].replica.create_visit(&new, now).map(|id| {
                    created = Some((id, DocKind::Visit));
                    format!("logs visit {id} of {c}")
                })
            }
            Action::SetVisit { visit, value } => {
                let visits = self.held(dev, DocKind::Visit);
                let Some(v) = choose(&visits, *visit) else { return Ok(()) };
                let text = format!("结果{value}");
                self.devices[dev].replica.set_visit(v, "outcome", &text, now).map(|()| format!("sets {v}.outcome"))
            }
            Action::Observe { customer, price } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                let (cs, p) = (c.to_string(), format!("{}.00", 100 + price));
                let inputs = [
                    ("customer", cs.as_str()),
                    ("brand", "茅台"),
                    ("product", "飞天 53%vol 500ml"),
                    ("shelf_price", p.as_str()),
                ];
                self.devices[dev].replica.create(DocKind::CompetitorObservation, &inputs, now).map(|id| {
                    created = Some((id, DocKind::CompetitorObservation));
                    format!("records competitor observation {id} at {c}")
                })
            }
            Action::CreateOrder { customer, lines } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                let lines: Vec<NewLine> = lines.iter().map(|l| self.line(dev, Some(c), l)).collect();
                self.devices[dev].replica.create_order_with(c, OrderSource::Written, &lines, &[], now).map(|id| {
                    created = Some((id, DocKind::Order));
                    format!("creates order {id} for {c} with {} line(s)", lines.len())
                })
            }
            Action::AddLine { order, line } => {
                let Some(o) = choose(&orders, *order) else { return Ok(()) };
                let customer = self.devices[dev].replica.order(o).ok().and_then(|o| o.customer);
                let l = self.line(dev, customer, line);
                self.devices[dev].replica.add_order_line(o, &l, now).map(|()| format!("adds line {} to {o}", l.sku))
            }
            Action::SetLine { order, qty } => {
                let Some(o) = choose(&orders, *order) else { return Ok(()) };
                self.devices[dev]
                    .replica
                    .set_order_line(o, "1", Some(*qty), None, now)
                    .map(|()| format!("sets {o} line 1 qty {qty}"))
            }
            Action::Submit { order } => self.order_step(dev, &orders, *order, "submits", |r, o| r.submit_order(o, now)),
            Action::Decide { order, approve } => {
                let approve = *approve;
                self.order_step(dev, &orders, *order, if approve { "approves" } else { "rejects" }, |r, o| {
                    r.decide_order(o, approve, "审批", now)
                })
            }
            Action::Pay { order } => {
                self.order_step(dev, &orders, *order, "confirms payment of", |r, o| r.confirm_payment(o, now))
            }
            Action::Ship { order } => {
                self.order_step(dev, &orders, *order, "ships", |r, o| r.ship_order(o, "顺丰", "SF1", now))
            }
            Action::Deliver { order } => {
                self.order_step(dev, &orders, *order, "delivers", |r, o| r.deliver_order(o, None, now))
            }
            Action::Exception { order } => self.order_step(dev, &orders, *order, "raises an exception on", |r, o| {
                r.order_exception(o, ExceptionKind::Delayed, "延迟", now)
            }),
            Action::Resolve { order } => {
                self.order_step(dev, &orders, *order, "resolves", |r, o| r.resolve_exception(o, "已处理", now))
            }
            Action::Cancel { order } => self.order_step(dev, &orders, *order, "cancels", |r, o| r.cancel_order(o, now)),
            Action::Close { order } => self.order_step(dev, &orders, *order, "closes", |r, o| r.close_order(o, now)),
            Action::Reassign { customer, territory } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                let current = self.devices[dev].replica.customer(c).ok().and_then(|c| c.territory);
                let options: Vec<&str> = if self.devices[dev].checked {
                    d_principal.territories.iter().map(String::as_str).collect()
                } else {
                    TERRITORIES.to_vec()
                };
                let options: Vec<&str> = options.into_iter().filter(|t| Some(*t) != current.as_deref()).collect();
                let Some(&t) = (!options.is_empty()).then(|| &options[territory % options.len()]) else {
                    return Ok(());
                };
                self.devices[dev].replica.reassign_customer(c, t, None, now).map(|()| format!("moves {c} to {t}"))
            }
            Action::Publish { authority_bp } => {
                let r = &mut self.devices[dev].replica;
                let version = r.current_policy().map_or(1, |p| p.version + 1);
                let policy = policy_with(example_policy().clone(), version, *authority_bp);
                r.publish_policy(&policy, now).map(|()| format!("publishes policy version {version}"))
            }
            Action::SetOwner { customer } => {
                let Some(c) = choose(&customers, *customer) else { return Ok(()) };
                self.devices[dev].replica.set_customer(c, "owner", "wang", now).map(|()| format!("sets {c}.owner"))
            }
        };
        self.stats.edits += 1;
        let name = self.devices[dev].name.clone();
        match result {
            Ok(what) => self.note(format!("{name} {what}")),
            Err(e) => {
                self.stats.edits_refused_locally += 1;
                self.note(format!("{name} tries {action:?}: {e}"));
            }
        }
        if let Some(c) = created {
            self.registry.push(c);
        }
        let d = &mut self.devices[dev];
        d.persist(true);
        if let Some(conn) = d.conn {
            let frames = d.engine.local_changes(&mut d.replica).map_err(|e| format!("{}: push: {e}", d.name))?;
            d.persist(false);
            self.send_up(conn, frames);
        }
        Ok(())
    }

    fn order_step(
        &mut self,
        dev: usize,
        orders: &[DocId],
        pick: usize,
        what: &str,
        f: impl FnOnce(&mut Replica, DocId) -> Result<(), client_core::CoreError>,
    ) -> Result<String, client_core::CoreError> {
        if orders.is_empty() {
            return Ok(format!("{what} nothing (holds no order)"));
        }
        let o = orders[pick % orders.len()];
        f(&mut self.devices[dev].replica, o).map(|()| format!("{what} order {o}"))
    }
}

/// `policy` as version `version`, with the reps' discount authority set to `rep_bp`.
fn policy_with(mut policy: Policy, version: u32, rep_bp: u32) -> Policy {
    policy.version = version;
    for a in &mut policy.authorities {
        if a.role == Role::Rep {
            a.max_discount_bp = rep_bp;
        }
    }
    policy
}

fn random16(rng: &mut crate::Rng) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    b[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    b
}

fn answer(n: usize) -> String {
    if n == 0 { String::new() } else { format!(", answers {n} frame(s)") }
}

fn short(id: &DocId) -> String {
    id.to_string()[..8].to_string()
}

fn describe_client(m: &ClientMsg) -> String {
    match m {
        ClientMsg::Hello(h) => format!("hello cursor {}", h.cursor),
        ClientMsg::Push { docs } => {
            format!("push [{}]", docs.iter().map(|c| short(&c.id)).collect::<Vec<_>>().join(" "))
        }
        ClientMsg::Resync { docs } => format!("resync [{}]", docs.iter().map(short).collect::<Vec<_>>().join(" ")),
        ClientMsg::BlobStart { hash, size } => format!("blob-start {} ({size} B)", protocol::blob::hex(hash)),
        ClientMsg::BlobPut { hash, offset, bytes, .. } => {
            format!("blob-put {} @{offset} +{}", protocol::blob::hex(hash), bytes.len())
        }
        ClientMsg::BlobGet { hash, offset } => format!("blob-get {} @{offset}", protocol::blob::hex(hash)),
    }
}

fn describe_server(m: &ServerMsg) -> String {
    match m {
        ServerMsg::Changes { docs, cursor } => {
            format!("changes [{}] cursor {cursor:?}", docs.iter().map(|c| short(&c.id)).collect::<Vec<_>>().join(" "))
        }
        ServerMsg::CaughtUp { cursor, docs_sent } => format!("caught-up {cursor} ({docs_sent} docs)"),
        ServerMsg::Ack { docs } => format!(
            "ack [{}]",
            docs.iter().map(|a| format!("{}@{}", short(&a.id), a.seq)).collect::<Vec<_>>().join(" ")
        ),
        ServerMsg::Refused { refusals } => format!(
            "refused [{}]",
            refusals.iter().map(|r| format!("{} {}:{}", short(&r.id), r.rule, r.path)).collect::<Vec<_>>().join(" ")
        ),
        ServerMsg::Error { code, message } => format!("error {code}: {message}"),
        ServerMsg::Forget { docs, .. } => format!("forget [{}]", docs.iter().map(short).collect::<Vec<_>>().join(" ")),
        ServerMsg::BlobProgress { hash, received } => format!("blob-progress {} {received}", protocol::blob::hex(hash)),
        ServerMsg::BlobStored { hash, size, mime } => {
            format!("blob-stored {} {size} {mime}", protocol::blob::hex(hash))
        }
        ServerMsg::BlobData { hash, offset, bytes, .. } => {
            format!("blob-data {} @{offset} +{}", protocol::blob::hex(hash), bytes.len())
        }
        ServerMsg::BlobRefused { hash, code, .. } => format!("blob-refused {} {code}", protocol::blob::hex(hash)),
        ServerMsg::CatchUpMark { cursor } => format!("catch-up-mark {cursor}"),
    }
}
