//! The device's documents and the typed domain API over them.

use crate::doc_map::DocMap;
use crate::doc_source::DocSource;
use crate::error::CoreError;
use crate::inbox_item::InboxItem;
use crate::local_doc::LocalDoc;
use crate::store_op::{StoreOp, StoredDoc};
use crate::view_memo::ViewMemo;
use automerge::{ActorId, AutoCommit};
use protocol::kinds::parse::ParseContext;
use protocol::kinds::{FieldErrorKind, FieldType, IdRule, Placement};
use protocol::rules::{self, DocFacts, Principal};
use protocol::schema::customer::{self, Customer, NewCustomer};
use protocol::schema::order::{self, NewLine, Order};
use protocol::schema::record::{self, Input, Record, Writer};
use protocol::schema::visit::{self, NewVisit, Visit};
use protocol::schema::{KIND_KEY, OrderSource, SchemaError, root_string};
use protocol::wire::Refusal;
use protocol::{DocId, DocKind};
use std::collections::BTreeSet;

pub struct Replica {
    actor: ActorId,
    user: String,
    docs: DocMap,
    /// Views computed from the documents, reused while their revisions hold.
    memo: ViewMemo,
    /// Docs that may hold changes the server lacks (checked precisely when pushing).
    maybe_unsent: BTreeSet<DocId>,
    cursor: u64,
    inbox: Vec<InboxItem>,
    outbox: Vec<StoreOp>,
    /// Who edits, for the same write rules the server applies (None: not checked
    /// locally; the server still checks).
    principal: Option<Principal>,
    /// Attachments held, pending, wanted ([`crate::blobs`]).
    blobs: crate::blobs::Blobs,
    /// Where fresh ids (documents, contacts) come from.
    ids: IdSource,
    /// Opened lazily: the store the documents not held in memory are loaded from.
    source: Option<Box<dyn DocSource>>,
    /// The first failure of `source`, for the driver.
    source_error: Option<String>,
    /// Documents deleted here (their deletion may not be stored yet): never loaded from
    /// the source again, unless they come back.
    forgotten: BTreeSet<DocId>,
    /// The documents every order's status reads have been loaded from the source.
    order_context_loaded: bool,
}

/// Fresh ids are random, unless a simulation asks for a seeded sequence.
enum IdSource {
    Random,
    /// SplitMix64 state.
    Seeded(u64),
}

impl Replica {
    /// A replica over what the driver loaded from storage. `actor` is this device's
    /// Automerge actor id; `user` the logged-in user name (recorded as author).
    pub fn load(
        actor: ActorId,
        user: impl Into<String>,
        stored: Vec<StoredDoc>,
        cursor: u64,
        inbox: Vec<InboxItem>,
    ) -> Result<Self, CoreError> {
        let mut docs = DocMap::default();
        let mut maybe_unsent = BTreeSet::new();
        for s in &stored {
            let mut local = LocalDoc::load(s, &actor)?;
            // Known in sync now (heads are the server's): nothing to look at on connect.
            if !local.in_sync() {
                maybe_unsent.insert(s.id);
            }
            docs.insert(s.id, local);
        }
        Ok(Replica {
            actor,
            user: user.into(),
            docs,
            memo: ViewMemo::default(),
            maybe_unsent,
            cursor,
            inbox,
            outbox: Vec::new(),
            principal: None,
            blobs: Default::default(),
            ids: IdSource::Random,
            source: None,
            source_error: None,
            forgotten: BTreeSet::new(),
            order_context_loaded: false,
        })
    }

    /// A replica that holds no document in memory yet: each is loaded from `source` when a
    /// mutation of the sync engine needs it, and the driver loads what a command reads or
    /// edits with [`Replica::load_more`] first. `maybe_unsent`: the documents the store
    /// does not know to be in sync (the ones a connection looks at).
    pub fn lazy(
        actor: ActorId,
        user: impl Into<String>,
        cursor: u64,
        inbox: Vec<InboxItem>,
        source: Box<dyn DocSource>,
        maybe_unsent: impl IntoIterator<Item = DocId>,
    ) -> Self {
        let mut r = Replica::load(actor, user, Vec::new(), cursor, inbox).expect("no documents to load");
        r.source = Some(source);
        r.maybe_unsent = maybe_unsent.into_iter().collect();
        r
    }

    /// Is this document in memory?
    pub fn is_loaded(&self, id: DocId) -> bool {
        self.docs.contains_key(&id)
    }

    /// Load a document from the source if it is not in memory (nothing without a source).
    pub(crate) fn fault_in(&mut self, id: DocId) {
        if self.docs.contains_key(&id) || self.forgotten.contains(&id) {
            return;
        }
        let Some(source) = self.source.as_mut() else { return };
        match source.load(id) {
            Ok(Some(stored)) => match LocalDoc::load(&stored, &self.actor) {
                Ok(local) => {
                    self.docs.insert(id, local);
                }
                Err(e) => {
                    self.source_error.get_or_insert(e.to_string());
                }
            },
            Ok(None) => {}
            Err(e) => {
                self.source_error.get_or_insert(e);
            }
        }
    }

    /// Every document the store holds loaded into memory (a lazy replica about to touch
    /// them all: forget the server's state, wipe).
    fn fault_in_all(&mut self) {
        let entries = match self.source.as_mut().map(|s| s.entries()) {
            Some(Ok(entries)) => entries,
            Some(Err(e)) => {
                self.source_error.get_or_insert(e);
                return;
            }
            None => return,
        };
        for e in entries {
            self.fault_in(e.id);
        }
    }

    /// True the first time it is called on a replica with a source (then the caller
    /// loads the documents every order reads).
    pub(crate) fn take_order_context_unloaded(&mut self) -> bool {
        let first = self.source.is_some() && !self.order_context_loaded;
        self.order_context_loaded = true;
        first
    }

    /// Ids of the documents in memory.
    pub fn loaded_doc_ids(&self) -> Vec<DocId> {
        self.loaded_ids()
    }

    /// Ids of the documents in memory.
    pub(crate) fn loaded_ids(&self) -> Vec<DocId> {
        self.docs.keys().copied().collect()
    }

    /// The documents the source holds whose parent is `parent` (none without a source).
    pub(crate) fn source_children(&mut self, parent: DocId) -> Vec<DocId> {
        match self.source.as_mut().map(|s| s.children(parent)) {
            Some(Ok(ids)) => ids,
            Some(Err(e)) => {
                self.source_error.get_or_insert(e);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// The documents of these kinds the source holds and memory does not.
    pub(crate) fn source_ids_of(&mut self, kinds: &[DocKind]) -> Vec<DocId> {
        match self.source.as_mut().map(|s| s.entries()) {
            Some(Ok(entries)) => entries
                .into_iter()
                .filter(|e| kinds.contains(&e.kind) && !self.docs.contains_key(&e.id))
                .map(|e| e.id)
                .collect(),
            Some(Err(e)) => {
                self.source_error.get_or_insert(e);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// The first failure to load a document from the source since the last call (a
    /// driver stops: the replica went on without the document).
    pub fn take_source_error(&mut self) -> Option<String> {
        self.source_error.take()
    }

    /// Drop from memory every document the store holds exactly as the server does (no
    /// unsent change, nothing lacking), except those every order's status reads
    /// ([`crate::index_row::ORDER_CONTEXT_KINDS`]). Only a
    /// lazy replica evicts (the others have nowhere to load them from again); the driver
    /// calls it after persisting. Returns how many were dropped.
    pub fn evict_synced(&mut self) -> usize {
        if self.source.is_none() || !self.outbox.is_empty() {
            return 0;
        }
        let before = self.docs.len();
        let (maybe_unsent, forgotten) = (&mut self.maybe_unsent, &mut self.forgotten);
        self.docs.retain(|id, d| {
            let keep = crate::index_row::ORDER_CONTEXT_KINDS.contains(&d.kind) || !d.in_sync();
            if !keep {
                maybe_unsent.remove(id);
                // Held here, so stored again since any deletion: the source has it.
                forgotten.remove(id);
            }
            keep
        });
        before - self.docs.len()
    }

    /// Add more stored documents to a loaded replica (a driver may load the documents
    /// the first screen needs, show it, then load the rest). A document the replica got
    /// meanwhile (another writer's change, a new edit) is merged with what was stored.
    pub fn load_more(&mut self, stored: &[StoredDoc]) -> Result<(), CoreError> {
        for s in stored {
            match self.docs.get_mut(&s.id) {
                Some(local) => {
                    for chunk in &s.chunks {
                        local
                            .merge_stored(chunk)
                            .map_err(|e| CoreError::Corrupt { id: s.id, reason: e.to_string() })?;
                    }
                    if local.server_heads.is_empty() {
                        local.server_heads = protocol::wire::hashes_from_wire(&s.server_heads);
                    }
                }
                None => {
                    self.docs.insert(s.id, LocalDoc::load(s, &self.actor)?);
                }
            }
            self.maybe_unsent.insert(s.id);
        }
        Ok(())
    }

    /// Check edits against the shared rule table as this principal before committing
    /// them, so an honest client refuses locally instead of producing a change the server
    /// will refuse.
    pub fn set_principal(&mut self, principal: Principal) {
        self.principal = Some(principal);
    }

    /// Draw fresh ids (of new documents and contacts) from a sequence seeded with `seed`
    /// instead of at random, so that a simulation replays exactly: ids decide, among
    /// others, the order in which documents are pushed. Devices must use different seeds.
    pub fn seed_ids(&mut self, seed: u64) {
        self.ids = IdSource::Seeded(seed);
    }

    fn fresh_id(&mut self) -> DocId {
        match &mut self.ids {
            IdSource::Random => DocId::new_random(),
            IdSource::Seeded(state) => {
                let mut bytes = [0u8; 16];
                for half in bytes.chunks_exact_mut(8) {
                    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = *state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    half.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
                }
                DocId(uuid::Builder::from_random_bytes(bytes).into_uuid())
            }
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    pub fn inbox(&self) -> &[InboxItem] {
        &self.inbox
    }

    pub fn doc_count(&self) -> usize {
        self.docs.len()
    }

    /// How many documents this replica holds: those in memory and, for a lazy replica,
    /// those only in its store.
    pub fn held_count(&mut self) -> usize {
        let stored = match self.source.as_mut().map(|s| s.entries()) {
            Some(Ok(entries)) => entries,
            Some(Err(e)) => {
                self.source_error.get_or_insert(e);
                Vec::new()
            }
            None => Vec::new(),
        };
        self.docs.len() + stored.iter().filter(|e| !self.docs.contains_key(&e.id)).count()
    }

    /// Writes to make durable, in order. The driver persists them (one transaction)
    /// before it reports an edit as done or sends anything that depends on them.
    pub fn take_store_ops(&mut self) -> Vec<StoreOp> {
        std::mem::take(&mut self.outbox)
    }

    // ---- customers -------------------------------------------------------------

    pub fn create_customer(&mut self, new: &NewCustomer, now: i64) -> Result<DocId, CoreError> {
        let user = self.user.clone();
        let facts = DocFacts::new(DocKind::Customer, new.territory.clone(), Some(user.clone()));
        self.create_with(facts, now, |doc| customer::init(doc, new, now, &user))
    }

    /// Create many customers; all or nothing.
    pub fn import_customers(&mut self, rows: &[NewCustomer], now: i64) -> Result<Vec<DocId>, CoreError> {
        let user = self.user.clone();
        let mut created = Vec::with_capacity(rows.len());
        let mut ops = Vec::new();
        for new in rows {
            let facts = DocFacts::new(DocKind::Customer, new.territory.clone(), Some(user.clone()));
            self.check(None, &facts, &[KIND_KEY])?;
            let id = self.fresh_id();
            let mut local = LocalDoc::new(id, DocKind::Customer, &self.actor);
            let ((), op) = local.edit(now, |doc| customer::init(doc, new, now, &user))?;
            ops.extend(op);
            created.push(local);
        }
        let ids = created.iter().map(|d| d.id).collect();
        for d in created {
            self.maybe_unsent.insert(d.id);
            self.docs.insert(d.id, d);
        }
        self.outbox.extend(ops);
        Ok(ids)
    }

    pub fn set_customer(&mut self, id: DocId, field: &str, value: &str, now: i64) -> Result<(), CoreError> {
        self.get(id, DocKind::Customer)?;
        self.edit(id, &[(field, value)], now)
    }

    /// Move a customer (and so its visits and orders) to another territory.
    pub fn reassign_customer(
        &mut self,
        id: DocId,
        territory: &str,
        owner: Option<&str>,
        now: i64,
    ) -> Result<(), CoreError> {
        let before =
            self.facts_of(id).ok_or_else(|| CoreError::NotFound { kind: DocKind::Customer, id: id.to_string() })?;
        let after = DocFacts { territory: Some(territory.trim().to_string()), ..before.clone() };
        let fields: &[&str] = if owner.is_some() { &["territory", "owner"] } else { &["territory"] };
        self.check(Some(&before), &after, fields)?;
        self.edit_unchecked(id, DocKind::Customer, now, |doc| customer::reassign(doc, territory, owner))
    }

    pub fn add_contact(
        &mut self,
        id: DocId,
        name: &str,
        phone: Option<&str>,
        title: Option<&str>,
        now: i64,
    ) -> Result<(), CoreError> {
        let contact_id = self.fresh_id().to_string();
        self.edit_checked(id, DocKind::Customer, now, &["contacts"], |doc| {
            customer::add_contact(doc, &contact_id, name, phone, title)
        })
    }

    /// Append a record to list field `list` of any document from typed text (a contact
    /// with a birthday …), checked by the list's field declarations; it gets a fresh id
    /// unless one is given.
    pub fn add_record(&mut self, id: DocId, list: &str, inputs: &[Input<'_>], now: i64) -> Result<(), CoreError> {
        let kind = self.docs.get(&id).map(|d| d.kind).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        let fresh = DocId::new_random().to_string();
        let mut inputs = inputs.to_vec();
        if !inputs.iter().any(|(f, _)| *f == "id") {
            inputs.push(("id", fresh.as_str()));
        }
        let values = record::parse_record(kind, list, &inputs, &Self::parse_context(now))?;
        self.edit_checked(id, kind, now, &[list], |doc| record::add_record_values(doc, kind, list, &values))
    }

    pub fn customer(&self, id: DocId) -> Result<Customer, CoreError> {
        let doc = self.get(id, DocKind::Customer)?;
        let c = self.memo.customers.get_or_try(id, self.docs.rev(&id), || customer::read(doc, id))?;
        Ok((*c).clone())
    }

    /// All customers, by name (each read once per revision).
    pub fn customers(&self) -> Vec<Customer> {
        let memo = &self.memo.customers;
        let mut all: Vec<Customer> = self
            .held_of_kind(DocKind::Customer)
            .filter_map(|(id, doc)| memo.get_or(id, self.docs.rev(&id), || customer::read(doc, id).ok()))
            .map(|c| (*c).clone())
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        all
    }

    // ---- visits ----------------------------------------------------------------

    pub fn create_visit(&mut self, new: &NewVisit, now: i64) -> Result<DocId, CoreError> {
        self.get(new.customer, DocKind::Customer)?;
        let user = self.user.clone();
        let facts = self.new_facts(DocKind::Visit, Some(new.customer), None)?;
        self.create_with(facts, now, |doc| visit::init(doc, new, now, &user))
    }

    pub fn set_visit(&mut self, id: DocId, field: &str, value: &str, now: i64) -> Result<(), CoreError> {
        self.get(id, DocKind::Visit)?;
        self.edit(id, &[(field, value)], now)
    }

    pub fn visit(&self, id: DocId) -> Result<Visit, CoreError> {
        Ok(visit::read(self.get(id, DocKind::Visit)?, id)?)
    }

    /// Every visit held here (in no particular order).
    pub(crate) fn all_visits(&self) -> Vec<Visit> {
        self.read_all(DocKind::Visit, visit::read)
    }

    /// A document held here with its kind.
    pub(crate) fn doc_and_kind(&self, id: DocId) -> Option<(&AutoCommit, DocKind)> {
        self.docs.get(&id).map(|d| (&d.doc, d.kind))
    }

    /// A customer's visits, oldest first.
    pub fn visits_of(&self, customer: DocId) -> Vec<Visit> {
        let mut all: Vec<Visit> =
            self.read_all(DocKind::Visit, visit::read).into_iter().filter(|v| v.customer == Some(customer)).collect();
        all.sort_by_key(|v| (v.at, v.id));
        all
    }

    // ---- orders ----------------------------------------------------------------

    pub fn create_order(&mut self, customer: DocId, source: OrderSource, now: i64) -> Result<DocId, CoreError> {
        self.get(customer, DocKind::Customer)?;
        let user = self.user.clone();
        let facts = self.new_facts(DocKind::Order, Some(customer), None)?;
        self.create_with(facts, now, |doc| order::init(doc, customer, source, now, &user))
    }

    /// Create an order with its lines and fields as one change: every line and field is
    /// checked first; nothing is created if any is wrong.
    pub fn create_order_with(
        &mut self,
        customer: DocId,
        source: OrderSource,
        lines: &[NewLine],
        inputs: &[Input<'_>],
        now: i64,
    ) -> Result<DocId, CoreError> {
        self.get(customer, DocKind::Customer)?;
        let ctx = Self::parse_context(now);
        record::parse_inputs(DocKind::Order, inputs, false, &ctx).map_err(SchemaError::Fields)?;
        let user = self.user.clone();
        let facts = self.new_facts(DocKind::Order, Some(customer), None)?;
        self.create_with(facts, now, |doc| {
            order::init(doc, customer, source, now, &user)?;
            let mut errors = Vec::new();
            for (n, line) in lines.iter().enumerate() {
                if let Err(SchemaError::Fields(e)) = order::add_line(doc, line) {
                    errors.extend(e.into_iter().map(|mut e| {
                        e.field = e.field.replacen("lines/", &format!("lines/{}/", n + 1), 1);
                        e
                    }));
                }
            }
            if !errors.is_empty() {
                return Err(SchemaError::Fields(errors));
            }
            record::set(doc, DocKind::Order, inputs, &Writer { user: &user, now }, &ctx).map(|_| ())
        })
    }

    pub fn add_order_line(&mut self, id: DocId, line: &NewLine, now: i64) -> Result<(), CoreError> {
        self.edit_checked(id, DocKind::Order, now, &["lines"], |doc| order::add_line(doc, line))
    }

    /// Change a line's quantity and/or unit price (`line`: its id or 1-based position).
    pub fn set_order_line(
        &mut self,
        id: DocId,
        line: &str,
        qty: Option<i64>,
        unit_price_fen: Option<i64>,
        now: i64,
    ) -> Result<(), CoreError> {
        self.edit_checked(id, DocKind::Order, now, &["lines"], |doc| order::set_line(doc, line, qty, unit_price_fen))
    }

    pub fn set_order(&mut self, id: DocId, field: &str, value: &str, now: i64) -> Result<(), CoreError> {
        self.get(id, DocKind::Order)?;
        self.edit(id, &[(field, value)], now)
    }

    pub fn order(&self, id: DocId) -> Result<Order, CoreError> {
        Ok(order::read(self.get(id, DocKind::Order)?, id)?)
    }

    /// All orders, newest first.
    pub fn orders(&self) -> Vec<Order> {
        let mut all: Vec<Order> = self.read_all(DocKind::Order, order::read);
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// Resolve a full id, or a unique prefix of one (people type the first characters).
    pub fn resolve_id(&self, text: &str, kind: DocKind) -> Result<DocId, CoreError> {
        if let Ok(id) = text.parse::<DocId>() {
            return Ok(id);
        }
        let text = text.trim().to_ascii_lowercase();
        if text.len() < 4 || !text.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(CoreError::BadId(text));
        }
        let mut hits = self.docs.values().filter(|d| d.kind == kind && d.id.to_string().starts_with(&text));
        match (hits.next(), hits.next()) {
            (Some(d), None) => Ok(d.id),
            _ => Err(CoreError::NotFound { kind, id: text }),
        }
    }

    // ---- internals shared with the sync engine ----------------------------------

    fn get(&self, id: DocId, kind: DocKind) -> Result<&AutoCommit, CoreError> {
        match self.docs.get(&id) {
            Some(d) if d.kind == kind => Ok(&d.doc),
            Some(d) => Err(CoreError::WrongKind { id, expected: kind, found: d.kind }),
            None => Err(CoreError::NotFound { kind, id: id.to_string() }),
        }
    }

    fn read_all<T>(&self, kind: DocKind, read: fn(&AutoCommit, DocId) -> Result<T, SchemaError>) -> Vec<T> {
        // Documents whose first changes have not all arrived yet do not read; skip them.
        self.docs.values().filter(|d| d.kind == kind).filter_map(|d| read(&d.doc, d.id).ok()).collect()
    }

    /// What the access rules need to know about a document held here, from its kind's
    /// declaration: its territory (its own, or its parent's as held here), its author and
    /// assignee. `None` for a document not held, or one whose first changes have not all
    /// arrived.
    pub fn facts_of(&self, id: DocId) -> Option<DocFacts> {
        self.facts_at(id, DocKind::ALL.len())
    }

    fn facts_at(&self, id: DocId, depth: usize) -> Option<DocFacts> {
        let d = self.docs.get(&id)?;
        let spec = d.kind.spec();
        if root_string(&d.doc, KIND_KEY).as_deref() != Some(spec.name) {
            return None;
        }
        let territory = match spec.placement {
            Placement::Own { territory } => root_string(&d.doc, territory).map(|t| t.trim().to_string()),
            Placement::Parent { field, .. } => {
                let parent: DocId = root_string(&d.doc, field)?.parse().ok()?;
                depth.checked_sub(1).and_then(|depth| self.facts_at(parent, depth)).and_then(|f| f.territory)
            }
            Placement::Nowhere => None,
        };
        Some(DocFacts {
            kind: d.kind,
            territory,
            author: spec.author_field().and_then(|f| root_string(&d.doc, f.name)),
            assignee: spec.assignee_field().and_then(|f| root_string(&d.doc, f.name)),
            frozen: spec.freeze.is_some_and(|f| self.effect_recorded(id, f.effect)),
        })
    }

    /// Has the server recorded `effect` for document `id`, as far as this device knows
    /// (from the server-written documents it holds)?
    pub fn effect_recorded(&self, id: DocId, effect: protocol::kinds::Effect) -> bool {
        use protocol::kinds::Effect;
        match effect {
            Effect::Assigned => self.verdict(id).is_some_and(|v| v.assigned_at.is_some()),
            Effect::SlaBreached => {
                self.track(id).is_some_and(|t| t.ack_breached_at.is_some() || t.resolve_breached_at.is_some())
            }
            Effect::Recalled => self.docs.contains_key(&protocol::schema::quality::recall_id(id)),
            Effect::Signed => self.contract_locked(id),
            Effect::Reimbursed => self.claim_reimbursed(id),
            // Published as far as this device has folded the document's workflow.
            Effect::Published => self.docs.get(&id).is_some_and(|d| {
                protocol::schema::presales_docs::workflow_status(&d.doc, d.kind, "published")
                    .is_some_and(|(status, _)| status == "published")
            }),
        }
    }

    /// The facts of a document this user is about to create: its territory is the one it
    /// states (a customer's) or its parent's, which must be held here.
    fn new_facts(
        &self,
        kind: DocKind,
        parent: Option<DocId>,
        own_territory: Option<&str>,
    ) -> Result<DocFacts, CoreError> {
        let spec = kind.spec();
        let territory = match spec.placement {
            Placement::Own { .. } => own_territory.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            Placement::Parent { kind: parent_kind, field } => {
                let Some(parent) = parent else {
                    return Err(SchemaError::Fields(vec![protocol::kinds::FieldError::new(
                        field,
                        FieldErrorKind::Required,
                    )])
                    .into());
                };
                self.get(parent, parent_kind).map_err(|_| {
                    SchemaError::Fields(vec![protocol::kinds::FieldError::new(
                        field,
                        FieldErrorKind::UnknownRef { kind: parent_kind.as_str().into(), value: parent.to_string() },
                    )])
                })?;
                self.facts_of(parent).and_then(|f| f.territory)
            }
            Placement::Nowhere => None,
        };
        Ok(DocFacts { kind, territory, author: Some(self.user.clone()), assignee: None, frozen: false })
    }

    /// How people's input is parsed here: today's date and now, for "not in the past" and `now`.
    pub(crate) fn parse_context(now: i64) -> ParseContext {
        let today = chrono::DateTime::from_timestamp_millis(now)
            .map(|t| t.with_timezone(&protocol::time::shanghai()).date_naive());
        ParseContext { today, now: Some(now) }
    }

    /// Create a document of any kind from typed text, as one change: every field is parsed
    /// with the kind's declaration (all errors at once; nothing created on any), references
    /// must name documents held here, and the write rules must allow it.
    pub fn create(&mut self, kind: DocKind, inputs: &[Input<'_>], now: i64) -> Result<DocId, CoreError> {
        self.create_stated(kind, inputs, now, now)
    }

    /// [`Replica::create`] with the record's own time (its creation time field, the first
    /// entry of its log) stated as `stated` — a complaint the customer made an hour ago,
    /// written up now. The server holds the stated time to its window around the arrival.
    pub fn create_stated(
        &mut self,
        kind: DocKind,
        inputs: &[Input<'_>],
        stated: i64,
        now: i64,
    ) -> Result<DocId, CoreError> {
        let spec = kind.spec();
        if spec.server_written {
            return Err(CoreError::NotAllowed {
                field: KIND_KEY.into(),
                rule: "role".into(),
                message: format!("only the server writes {kind} documents"),
            });
        }
        let ctx = Self::parse_context(now);
        let (values, mut errors) = record::parse_inputs_all(kind, inputs, true, &ctx);
        errors.extend(self.unknown_refs(&values));
        if !errors.is_empty() {
            return Err(SchemaError::Fields(errors).into());
        }
        let value_of = |name: &str| {
            values.iter().find(|(f, _)| f.name == name).and_then(|(_, v)| match v {
                protocol::kinds::Value::Str(s) => Some(s.clone()),
                _ => None,
            })
        };
        let facts = match spec.placement {
            Placement::Own { territory } => self.new_facts(kind, None, value_of(territory).as_deref())?,
            Placement::Parent { field, .. } => {
                let parent = value_of(field).and_then(|p| p.parse().ok());
                self.new_facts(kind, parent, None)?
            }
            Placement::Nowhere => self.new_facts(kind, None, None)?,
        };
        let id = match spec.id {
            IdRule::Random => self.fresh_id(),
            IdRule::Fixed(id) if !self.docs.contains_key(&id) => id,
            IdRule::Fixed(id) => return Err(CoreError::Exists { kind, id }),
            IdRule::Derived(_) => unreachable!("derived ids are server-written kinds"),
        };
        let user = self.user.clone();
        self.create_as(id, facts, now, |doc| {
            record::create(doc, kind, inputs, &Writer { user: &user, now: stated }, &ctx)
        })
    }

    /// Edit fields of any document from typed text, as one change (all or nothing).
    pub fn edit(&mut self, id: DocId, inputs: &[Input<'_>], now: i64) -> Result<(), CoreError> {
        let kind = self.docs.get(&id).map(|d| d.kind).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        let ctx = Self::parse_context(now);
        let values = record::parse_inputs(kind, inputs, false, &ctx).map_err(SchemaError::Fields)?;
        self.check_refs(&values)?;
        let fields = record::fields_written(kind, inputs);
        let user = self.user.clone();
        self.edit_checked(id, kind, now, &fields, |doc| {
            record::set(doc, kind, inputs, &Writer { user: &user, now }, &ctx).map(|_| ())
        })
    }

    /// Every reference among parsed values names a document of its kind held here.
    fn check_refs(
        &self,
        values: &[(&'static protocol::kinds::FieldSpec, protocol::kinds::Value)],
    ) -> Result<(), CoreError> {
        let errors = self.unknown_refs(values);
        if errors.is_empty() { Ok(()) } else { Err(SchemaError::Fields(errors).into()) }
    }

    /// The references among parsed values that name no document of their kind held here.
    fn unknown_refs(
        &self,
        values: &[(&'static protocol::kinds::FieldSpec, protocol::kinds::Value)],
    ) -> Vec<protocol::kinds::FieldError> {
        let mut errors = Vec::new();
        for (f, v) in values {
            if let (FieldType::Ref(kind), protocol::kinds::Value::Str(s)) = (f.ty, v) {
                let held = s.parse::<DocId>().ok().is_some_and(|id| self.get(id, kind).is_ok());
                if !held {
                    errors.push(protocol::kinds::FieldError::new(
                        f.name,
                        FieldErrorKind::UnknownRef { kind: kind.as_str().into(), value: s.clone() },
                    ));
                }
            }
        }
        errors
    }

    /// A document read generically from its kind's declaration.
    pub fn record(&self, id: DocId) -> Result<Record, CoreError> {
        let d = self.docs.get(&id).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        Ok(record::read(&d.doc, id, d.kind)?)
    }

    /// Every readable document of `kind`, generically.
    pub fn records(&self, kind: DocKind) -> Vec<Record> {
        self.docs.values().filter(|d| d.kind == kind).filter_map(|d| record::read(&d.doc, d.id, kind).ok()).collect()
    }

    /// The kind of a document held here.
    pub fn kind_of(&self, id: DocId) -> Option<DocKind> {
        self.docs.get(&id).map(|d| d.kind)
    }

    /// The documents of `kind` held here.
    pub(crate) fn held_of_kind(&self, kind: DocKind) -> impl Iterator<Item = (DocId, &AutoCommit)> {
        self.docs.values().filter(move |d| d.kind == kind).map(|d| (d.id, &d.doc))
    }

    /// A held document's revision (0: not held; see [`DocMap`]).
    pub(crate) fn rev(&self, id: DocId) -> u64 {
        self.docs.rev(&id)
    }

    /// The revision of the last change to the documents of `kind` held here.
    pub(crate) fn kind_rev(&self, kind: DocKind) -> u64 {
        self.docs.kind_rev(kind)
    }

    pub(crate) fn memo(&self) -> &ViewMemo {
        &self.memo
    }

    /// Resolve a full id, or a unique prefix of one, of a document of any kind.
    pub fn resolve_any(&self, text: &str) -> Result<DocId, CoreError> {
        if let Ok(id) = text.parse::<DocId>() {
            return Ok(id);
        }
        let text = text.trim().to_ascii_lowercase();
        if text.len() < 4 || !text.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(CoreError::BadId(text));
        }
        let mut hits = self.docs.values().filter(|d| d.id.to_string().starts_with(&text));
        match (hits.next(), hits.next()) {
            (Some(d), None) => Ok(d.id),
            _ => Err(CoreError::BadId(text)),
        }
    }

    pub(crate) fn doc_ref(&self, id: DocId, kind: DocKind) -> Result<&AutoCommit, CoreError> {
        self.get(id, kind)
    }

    /// Append an entry to a log of a document after checking it with the log's rules (the
    /// same check the server makes): the field's write rule, then the entry itself.
    pub(crate) fn append_entry(
        &mut self,
        id: DocId,
        log_field: &str,
        entry: protocol::kinds::Entry,
        now: i64,
        write: impl FnOnce(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<(), CoreError> {
        let kind = self.docs.get(&id).map(|d| d.kind).ok_or_else(|| CoreError::Unknown(id.to_string()))?;
        if let (Some(p), Some(FieldType::Log(log))) = (&self.principal, kind.spec().field(log_field).map(|f| f.ty)) {
            let before = match self.docs.get(&id) {
                Some(d) => protocol::schema::record::log_entries(&d.doc, log_field),
                None => Vec::new(),
            };
            let author = self.facts_of(id).and_then(|f| f.author);
            protocol::kinds::check_entry(log, log_field, p, author.as_deref(), &before, std::slice::from_ref(&entry))
                .map_err(|v| CoreError::NotAllowed { field: v.field, rule: v.rule, message: v.message })?;
        }
        self.edit_checked(id, kind, now, &[log_field], write)
    }

    /// Append an order event after checking it against the shared rules: the `events`
    /// field rule and who may append this kind of event.
    pub(crate) fn append_order_event(
        &mut self,
        id: DocId,
        event: &order::OrderEvent,
        now: i64,
    ) -> Result<(), CoreError> {
        self.get(id, DocKind::Order)?;
        let entry = order::event_entry(event);
        self.append_entry(id, "events", entry, now, |doc| order::append_event(doc, event))
    }

    pub(crate) fn set_priced_with(&mut self, id: DocId, version: u32, now: i64) -> Result<(), CoreError> {
        self.edit_checked(id, DocKind::Order, now, &["priced_with"], |doc| order::set_priced_with(doc, version))
    }

    /// Publish a price policy version from this device (market department).
    pub fn publish_policy(&mut self, policy: &protocol::pricing::Policy, now: i64) -> Result<(), CoreError> {
        use protocol::schema::policy_doc::{self, POLICY_DOC_ID};
        let facts = DocFacts::new(DocKind::Policy, None, None);
        let exists = self.docs.contains_key(&POLICY_DOC_ID);
        self.check(exists.then_some(&facts), &facts, &["versions"])?;
        let user = self.user.clone();
        if !exists {
            let local = LocalDoc::new(POLICY_DOC_ID, DocKind::Policy, &self.actor);
            self.docs.insert(POLICY_DOC_ID, local);
        }
        let local = self.docs.get_mut(&POLICY_DOC_ID).expect("inserted above");
        let ((), ops) = local.edit(now, |doc| policy_doc::publish(doc, policy, now, &user))?;
        self.outbox.extend(ops);
        self.maybe_unsent.insert(POLICY_DOC_ID);
        Ok(())
    }

    /// May the current principal write `field` of document `id` (true when unchecked)?
    pub fn may_write(&self, id: DocId, field: &str) -> bool {
        match self.facts_of(id) {
            Some(f) => self.check(Some(&f), &f, &[field]).is_ok(),
            None => self.principal.is_none(),
        }
    }

    /// May the current principal create a document of `kind` at all (in some territory)?
    pub fn may_create(&self, kind: DocKind) -> bool {
        self.principal.as_ref().is_none_or(|p| kind.spec().create.iter().any(|(r, _)| *r == p.role))
    }

    fn check(&self, before: Option<&DocFacts>, after: &DocFacts, fields: &[&str]) -> Result<(), CoreError> {
        let Some(p) = &self.principal else { return Ok(()) };
        for field in fields {
            rules::check_write(p, field, before, after).map_err(|v| CoreError::NotAllowed {
                field: v.field,
                rule: v.rule,
                message: v.message,
            })?;
        }
        Ok(())
    }

    fn create_with(
        &mut self,
        facts: DocFacts,
        now: i64,
        init: impl FnOnce(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<DocId, CoreError> {
        let id = self.fresh_id();
        self.create_as(id, facts, now, init)
    }

    fn create_as(
        &mut self,
        id: DocId,
        facts: DocFacts,
        now: i64,
        init: impl FnOnce(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<DocId, CoreError> {
        self.check(None, &facts, &[KIND_KEY])?;
        let kind = facts.kind;
        let mut local = LocalDoc::new(id, kind, &self.actor);
        let ((), ops) = local.edit(now, init)?;
        self.outbox.extend(ops);
        self.docs.insert(id, local);
        self.maybe_unsent.insert(id);
        Ok(id)
    }

    pub(crate) fn edit_checked(
        &mut self,
        id: DocId,
        kind: DocKind,
        now: i64,
        fields: &[&str],
        f: impl FnOnce(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<(), CoreError> {
        self.get(id, kind)?;
        if let Some(facts) = self.facts_of(id) {
            self.check(Some(&facts), &facts, fields)?;
        }
        self.edit_unchecked(id, kind, now, f)
    }

    fn edit_unchecked(
        &mut self,
        id: DocId,
        kind: DocKind,
        now: i64,
        f: impl FnOnce(&mut AutoCommit) -> Result<(), SchemaError>,
    ) -> Result<(), CoreError> {
        self.get(id, kind)?;
        let local = self.docs.get_mut(&id).expect("checked above");
        let ((), ops) = local.edit(now, f)?;
        self.outbox.extend(ops);
        self.maybe_unsent.insert(id);
        Ok(())
    }

    /// Build new documents in several steps as one edit: when `build` fails, every document
    /// it created and every store operation it produced are dropped, as if it had not run.
    /// Sound because nothing of them can have been persisted or sent yet — drivers take the
    /// store operations and push only after a call returns. `build` must create, and edit
    /// only what it creates (an edit to a document held before would be dropped with them).
    pub(crate) fn all_or_nothing<T>(
        &mut self,
        build: impl FnOnce(&mut Self) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        let ops = self.outbox.len();
        let held: BTreeSet<DocId> = self.docs.keys().copied().collect();
        let result = build(self);
        if result.is_err() {
            self.outbox.truncate(ops);
            let created: Vec<DocId> = self.docs.keys().filter(|id| !held.contains(id)).copied().collect();
            for id in created {
                self.docs.remove(&id);
                self.maybe_unsent.remove(&id);
            }
        }
        result
    }

    pub(crate) fn doc_mut(&mut self, id: DocId) -> Option<&mut LocalDoc> {
        self.fault_in(id);
        self.docs.get_mut(&id)
    }

    /// Create an empty local document for one the server sends first.
    pub(crate) fn doc_or_new(&mut self, id: DocId, kind: DocKind) -> &mut LocalDoc {
        self.fault_in(id);
        self.forgotten.remove(&id);
        let actor = self.actor.clone();
        self.docs.get_or_insert_with(id, || LocalDoc::new(id, kind, &actor))
    }

    pub(crate) fn push_ops(&mut self, ops: impl IntoIterator<Item = StoreOp>) {
        self.outbox.extend(ops);
    }

    /// The server knows nothing of what it acknowledged (it was restored from a backup):
    /// cursor 0 and no known server heads, so the next connection pushes every document
    /// whole (the server keeps what it has and stores the rest) and catches up from the start.
    pub(crate) fn forget_server_state(&mut self) {
        self.cursor = 0;
        self.outbox.push(StoreOp::SetCursor(0));
        self.fault_in_all();
        let ids: Vec<DocId> = self.docs.keys().copied().collect();
        for id in ids {
            if let Some(local) = self.docs.get_mut(&id) {
                let op = local.set_server_heads(&[]);
                self.outbox.push(op);
                self.maybe_unsent.insert(id);
            }
        }
    }

    pub(crate) fn set_cursor(&mut self, cursor: u64) {
        if cursor > self.cursor {
            self.cursor = cursor;
            self.outbox.push(StoreOp::SetCursor(cursor));
        }
    }

    pub(crate) fn add_inbox(&mut self, item: InboxItem) {
        self.inbox.push(item.clone());
        self.outbox.push(StoreOp::AddInbox(item));
    }

    pub(crate) fn mark_maybe_unsent(&mut self, id: DocId) {
        self.maybe_unsent.insert(id);
    }

    /// The server refused a push: restore the document to what the server holds, keep
    /// what that discards in the inbox — the refused changes, and any edit made since on
    /// top of them (`changes`: what was pushed) — and redo the edits of other fields that
    /// the rules still allow.
    pub(crate) fn restore_refused(&mut self, r: &Refusal, changes: Vec<u8>, now: i64) -> Result<(), CoreError> {
        self.fault_in(r.id);
        let allowed: Vec<String> = match self.docs.get(&r.id) {
            // Refused whole (no field: out of reach, a creation where the user may not
            // create, a reserved id): there is nothing to redo. Redoing its fields would
            // make the same document again, refused again, forever.
            Some(_) if r.path.is_empty() => Vec::new(),
            Some(d) => d
                .kind
                .spec()
                .fields
                .iter()
                .filter(|f| f.name != r.path && self.may_write(r.id, f.name))
                .map(|f| f.name.to_string())
                .collect(),
            None => {
                self.add_inbox(InboxItem::from_refusal(r, now, changes));
                return Ok(());
            }
        };
        let actor = self.actor.clone();
        let local = self.docs.get_mut(&r.id).expect("checked above");
        let held_before = local.known_server_heads();
        let op = local.set_server_heads(&r.server_heads);
        // Edits made while the push was in flight build on the refused changes: the
        // restore discards them too (lists are not redone), so they go to the inbox with them.
        let discarded = local.unsent_changes();
        self.outbox.push(op);
        self.add_inbox(InboxItem::from_refusal(r, now, if discarded.is_empty() { changes } else { discarded }));
        let local = self.docs.get_mut(&r.id).expect("checked above");
        let keep = |f: &str| allowed.iter().any(|a| a == f);
        let (ops, _redone) = local.restore_to_server(&actor, now, &keep, &held_before)?;
        self.outbox.extend(ops);
        self.maybe_unsent.insert(r.id);
        Ok(())
    }

    /// The server says these documents are no longer readable here: delete them. Local
    /// changes it never received go to the inbox first, so nothing disappears silently.
    pub(crate) fn forget(&mut self, ids: &[DocId], reason: &str, now: i64) {
        for id in ids {
            self.fault_in(*id);
            let Some(mut local) = self.docs.remove(id) else { continue };
            self.forgotten.insert(*id);
            if local.has_unsent() {
                self.add_inbox(InboxItem {
                    doc: *id,
                    kind: local.kind,
                    code: protocol::ErrorCode::Forbidden.as_str().to_string(),
                    path: String::new(),
                    rule: "no-longer-readable".into(),
                    message: reason.to_string(),
                    at: now,
                    changes: local.unsent_changes(),
                });
            }
            self.maybe_unsent.remove(id);
            self.outbox.push(StoreOp::DeleteDoc { id: *id });
        }
    }

    /// Documents the server has sent or acknowledged (they have server heads) that are not
    /// in `listed`.
    pub(crate) fn server_docs_not_in(&mut self, listed: &BTreeSet<DocId>) -> Vec<DocId> {
        let mut ids: BTreeSet<DocId> = self
            .docs
            .values()
            .filter(|d| !d.server_heads.is_empty() && !listed.contains(&d.id))
            .map(|d| d.id)
            .collect();
        match self.source.as_mut().map(|s| s.entries()) {
            Some(Ok(entries)) => ids.extend(
                entries
                    .into_iter()
                    .filter(|e| e.has_server_heads && !listed.contains(&e.id) && !self.docs.contains_key(&e.id))
                    .map(|e| e.id),
            ),
            Some(Err(e)) => {
                self.source_error.get_or_insert(e);
            }
            None => {}
        }
        ids.into_iter().collect()
    }

    /// The user or device was revoked: delete every document (unsent edits go to the
    /// inbox first, as with [`Replica::forget`]).
    pub fn wipe(&mut self, reason: &str, now: i64) {
        self.fault_in_all();
        let all: Vec<DocId> = self.docs.keys().copied().collect();
        self.forget(&all, reason, now);
        self.wipe_blobs();
    }

    pub(crate) fn blobs_ref(&self) -> &crate::blobs::Blobs {
        &self.blobs
    }

    pub(crate) fn blobs_mut(&mut self) -> &mut crate::blobs::Blobs {
        &mut self.blobs
    }

    /// Mirror in memory what another writer of this device (another browser tab) has just
    /// made durable in the shared store: appended chunks are merged, server heads, cursor,
    /// inbox items and deletions are taken over. No store ops result (they are stored
    /// already). A compaction may have discarded refused changes, which merging cannot
    /// undo: the documents returned must be reloaded from the store with
    /// [`Replica::replace_doc`].
    pub fn apply_peer_ops(&mut self, ops: &[StoreOp]) -> Result<Vec<DocId>, CoreError> {
        let mut reload = Vec::new();
        for op in ops {
            match op {
                StoreOp::AppendChunk { id, kind, bytes } => {
                    let local = self.doc_or_new(*id, *kind);
                    if local.kind != *kind {
                        return Err(CoreError::WrongKind { id: *id, expected: *kind, found: local.kind });
                    }
                    local.merge_stored(bytes).map_err(|e| CoreError::Corrupt { id: *id, reason: e.to_string() })?;
                    self.maybe_unsent.insert(*id);
                }
                StoreOp::Compact { id, kind, snapshot } => {
                    // A document new here (or still empty) is exactly its snapshot; one held
                    // here may have lost refused changes in the compaction: reload it.
                    let fresh = self.docs.get_mut(id).is_none_or(|d| d.doc.get_heads().is_empty());
                    if fresh && !snapshot.is_empty() {
                        let local = self.doc_or_new(*id, *kind);
                        local
                            .merge_stored(snapshot)
                            .map_err(|e| CoreError::Corrupt { id: *id, reason: e.to_string() })?;
                        self.maybe_unsent.insert(*id);
                    } else if !reload.contains(id) {
                        reload.push(*id);
                    }
                }
                StoreOp::SetServerHeads { id, kind, heads } => {
                    self.doc_or_new(*id, *kind).server_heads = protocol::wire::hashes_from_wire(heads);
                    self.maybe_unsent.insert(*id);
                }
                StoreOp::SetCursor(c) => self.cursor = self.cursor.max(*c),
                StoreOp::AddInbox(item) => {
                    if !self.inbox.contains(item) {
                        self.inbox.push(item.clone());
                    }
                }
                StoreOp::DeleteDoc { id } => {
                    self.docs.remove(id);
                    self.maybe_unsent.remove(id);
                    reload.retain(|r| r != id);
                }
                StoreOp::PutBlob { .. } | StoreOp::BlobUploaded { .. } | StoreOp::DeleteBlob { .. } => {
                    self.apply_peer_blob(op)
                }
            }
        }
        Ok(reload)
    }

    /// Replace a document by what the store holds (`None`: it is gone), after another
    /// writer of this device compacted or deleted it.
    pub fn replace_doc(&mut self, id: DocId, stored: Option<&StoredDoc>) -> Result<(), CoreError> {
        match stored {
            Some(s) => {
                let local = LocalDoc::load(s, &self.actor)?;
                self.docs.insert(id, local);
                self.maybe_unsent.insert(id);
            }
            None => {
                self.docs.remove(&id);
                self.maybe_unsent.remove(&id);
            }
        }
        Ok(())
    }

    /// Documents lacking changes the server told us about (e.g. after a crash while a
    /// resync was outstanding). Only documents touched since they were last in sync are
    /// looked at: a connect with nothing changed costs nothing per document.
    pub(crate) fn lacking_docs(&mut self) -> Vec<DocId> {
        let candidates: Vec<DocId> = self.maybe_unsent.iter().copied().collect();
        candidates
            .into_iter()
            .filter(|id| {
                self.fault_in(*id);
                self.docs.get_mut(id).is_some_and(|d| d.lacks_server_changes())
            })
            .collect()
    }

    /// Documents holding changes the server lacks (precise; drops the documents found in
    /// sync from the candidates).
    pub fn unsent_docs(&mut self) -> Vec<DocId> {
        self.unsent_docs_besides(|_| false)
    }

    /// [`Self::unsent_docs`] without looking at the candidates `skip` names (they stay
    /// candidates). A push skips the documents already in flight: asking each of them
    /// what the server lacks after every acknowledgement made a first push of thousands
    /// of documents quadratic.
    pub fn unsent_docs_besides(&mut self, skip: impl Fn(&DocId) -> bool) -> Vec<DocId> {
        let candidates: Vec<DocId> = self.maybe_unsent.iter().copied().filter(|id| !skip(id)).collect();
        let mut unsent = Vec::new();
        for id in candidates {
            self.fault_in(id);
            let Some(d) = self.docs.get_mut(&id) else {
                self.maybe_unsent.remove(&id);
                continue;
            };
            if d.in_sync() {
                self.maybe_unsent.remove(&id);
            } else if d.has_unsent() {
                unsent.push(id);
            }
        }
        unsent
    }
}
