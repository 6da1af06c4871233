//! The JavaScript API: one [`Client`] per tab over one IndexedDB profile.
//!
//! Reads are synchronous and return JSON text (the UI `JSON.parse`s it). Edits return a
//! promise that resolves once the edit is durable in IndexedDB; the sync loop pushes it
//! afterwards (nothing waits for the network). `onChange(cb)` calls `cb(reason)` when the
//! data (`"data"`), the connection status (`"status"`) or the login (`"session"`) changed.
//!
//! Several tabs may open the same profile. Each writes with an Automerge actor id of its
//! own (a Web Lock per actor id lets a later tab reuse a free one, so they do not pile up);
//! every tab mirrors the others' durable writes (BroadcastChannel, [`crate::peer`]); one
//! tab at a time — the holder of the profile's sync Web Lock — runs the WebSocket and
//! announces every actor id of the profile in its hello, so each change is sent once.

use crate::field_views;
use crate::idb::IdbStore;
use crate::js::{self, err};
use crate::kind_views;
use crate::mailbox::Mailbox;
use crate::peer::PeerMsg;
use crate::session::{LoginAnswer, Session};
use crate::sync_loop::{self, Ev};
use crate::text_merge::merge3;
use crate::views::{self, CheckedLine, CustomerQuery, LineInput};
use crate::work;
use automerge::ActorId;
use client_core::{CoreError, LineRevision, Replica, StoreOp, StoredDoc};
use js_sys::{Function, Promise};
use protocol::kinds::{FieldError, FieldErrorKind, FieldType};
use protocol::schema::order::NewLine;
use protocol::schema::{EventKind, ExceptionKind, Lang, OrderSource, SchemaError};
use protocol::{DocId, DocKind, ErrorCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::{Rc, Weak};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{BroadcastChannel, MessageEvent};

/// Connection status as the tab holding the connection sees it.
#[derive(Clone, Debug, Default)]
pub struct NetStatus {
    pub online: bool,
    pub connecting: bool,
    pub last_sync: Option<i64>,
    pub error: Option<String>,
    /// The server is up but refuses this login (expired or revoked token).
    pub auth_needed: bool,
    pub retry_at: Option<i64>,
    pub attempts: u32,
    /// Why the server did not store this device's last pushes, when it is a condition
    /// the user should know of until the pushes get through (`storage_full`).
    pub push_refused: Option<ErrorCode>,
}

impl NetStatus {
    fn to_json(&self) -> Value {
        json!({
            "online": self.online,
            "connecting": self.connecting,
            "last_sync": self.last_sync,
            "error": self.error,
            "auth_needed": self.auth_needed,
            "retry_at": self.retry_at,
            "attempts": self.attempts,
            "push_refused": self.push_refused.map(|c| c.as_str()),
        })
    }
}

pub(crate) struct Core {
    pub replica: Replica,
    pub session: Session,
    /// Actor ids of this profile known to this tab (its own and other tabs').
    pub actors: BTreeSet<String>,
}

type MessageHandler = Closure<dyn FnMut(MessageEvent)>;

pub(crate) struct Shared {
    pub db_name: String,
    pub tab_id: String,
    pub device_id: Uuid,
    pub actor_hex: String,
    pub store: IdbStore,
    pub core: RefCell<Core>,
    pub channel: Option<BroadcastChannel>,
    pub mailbox: Mailbox<Ev>,
    pub leader: Cell<bool>,
    pub net: RefCell<NetStatus>,
    /// The holder's status as last broadcast (when this tab does not hold the connection).
    pub remote: RefCell<Option<Value>>,
    pub listeners: RefCell<Vec<Function>>,
    /// Web Lock release functions (actor, sync), called by `close`.
    pub releases: RefCell<Vec<Function>>,
    pub closed: Cell<bool>,
    pub storage_error: RefCell<Option<String>>,
    on_message: RefCell<Option<MessageHandler>>,
    /// How long loading the profile took (IndexedDB read, replica load).
    open_timings: RefCell<Value>,
    /// Documents are still being loaded in the background (no sync until done).
    pub loading: Cell<bool>,
    /// Documents another tab compacted or deleted during the background load: what was
    /// read at start is stale for them.
    load_skip: RefCell<HashSet<DocId>>,
    /// Ids of the notifications the user has read (meta `notifications_read`).
    pub read: RefCell<HashSet<String>>,
}

impl Shared {
    pub fn notify(&self, reason: &str) {
        let listeners = self.listeners.borrow().clone();
        for f in listeners {
            if let Err(e) = f.call1(&JsValue::NULL, &reason.into()) {
                web_sys::console::error_2(&"jiuloop: onChange listener failed".into(), &e);
            }
        }
    }

    pub fn broadcast(&self, msg: &PeerMsg) {
        if let Some(ch) = &self.channel {
            let _ = ch.post_message(&msg.to_js(&self.tab_id));
        }
    }

    /// Make the replica's pending store ops durable, then tell the other tabs. `Ok(false)`:
    /// there was nothing to store.
    pub async fn persist(&self) -> Result<bool, JsValue> {
        let ops = self.core.borrow_mut().replica.take_store_ops();
        if ops.is_empty() {
            return Ok(false);
        }
        match self.store.apply(&ops).await {
            Ok(seqs) => {
                *self.storage_error.borrow_mut() = None;
                self.broadcast(&PeerMsg::Ops(ops.into_iter().zip(seqs).collect()));
                Ok(true)
            }
            Err(e) => {
                let msg = e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| e.message().into()));
                *self.storage_error.borrow_mut() = Some(msg.unwrap_or_else(|| "IndexedDB write failed".into()));
                self.notify("status");
                Err(e)
            }
        }
    }

    pub fn publish_status(&self) {
        if self.leader.get() {
            let json = self.net.borrow().to_json().to_string();
            self.broadcast(&PeerMsg::Status(json));
        }
        self.notify("status");
    }

    /// Actor ids known here but not announced on the current connection.
    pub fn unannounced(&self, announced: &BTreeSet<String>) -> bool {
        self.core.borrow().actors.iter().any(|a| !announced.contains(a))
    }

    fn status_json(&self) -> Value {
        let mut core = self.core.borrow_mut();
        let pending = core.replica.unsent_docs().len();
        let net = if self.leader.get() {
            self.net.borrow().to_json()
        } else {
            self.remote.borrow().clone().unwrap_or_else(|| NetStatus::default().to_json())
        };
        let last_sync = net["last_sync"].as_i64();
        json!({
            "user": core.session.user,
            "logged_in": core.session.token.is_some(),
            "leader": self.leader.get(),
            "online": net["online"],
            "connecting": net["connecting"],
            "last_sync": last_sync,
            "last_sync_local": last_sync.map(protocol::time::display_local),
            "error": net["error"],
            "auth_needed": net["auth_needed"].as_bool().unwrap_or(false) || core.session.expired(js::now_ms()),
            "retry_at": net["retry_at"],
            "push_refused": net["push_refused"],
            "pending": pending,
            "inbox": core.replica.inbox().len(),
            "docs": core.replica.doc_count(),
            "cursor": core.replica.cursor(),
            "storage_error": *self.storage_error.borrow(),
            "loading": self.loading.get(),
            "tab": self.tab_id,
            "actor": self.actor_hex,
        })
    }

    fn on_peer(self: &Rc<Self>, data: JsValue) {
        let Some((from, msg)) = PeerMsg::from_js(&data) else { return };
        if from == self.tab_id || self.closed.get() {
            return;
        }
        match msg {
            PeerMsg::Ops(ops) => {
                for (op, seq) in &ops {
                    match (op, seq) {
                        (StoreOp::AppendChunk { id, .. }, Some(s)) => self.store.learn(*id, *s),
                        (StoreOp::DeleteDoc { id }, _) => self.store.forget_doc(*id),
                        _ => {}
                    }
                }
                let ops: Vec<StoreOp> = ops.into_iter().map(|(op, _)| op).collect();
                if self.loading.get() {
                    let mut skip = self.load_skip.borrow_mut();
                    for op in &ops {
                        if let StoreOp::Compact { id, .. } | StoreOp::DeleteDoc { id } = op {
                            skip.insert(*id);
                        }
                    }
                }
                let reload = self.core.borrow_mut().replica.apply_peer_ops(&ops);
                match reload {
                    Ok(ids) if !ids.is_empty() => {
                        let me = self.clone();
                        wasm_bindgen_futures::spawn_local(async move {
                            for id in ids {
                                match me.store.load_doc(id).await {
                                    Ok(stored) => {
                                        if let Err(e) = me.core.borrow_mut().replica.replace_doc(id, stored.as_ref()) {
                                            web_sys::console::error_1(&format!("jiuloop: reload {id}: {e}").into());
                                        }
                                    }
                                    Err(e) => web_sys::console::error_1(&e),
                                }
                            }
                            me.mailbox.post(Ev::Local);
                            me.notify("data");
                        });
                    }
                    Ok(_) => {}
                    Err(e) => web_sys::console::error_1(&format!("jiuloop: another tab's change: {e}").into()),
                }
                self.mailbox.post(Ev::Local);
                self.notify("data");
            }
            PeerMsg::Actor(hex) => {
                self.core.borrow_mut().actors.insert(hex);
                self.mailbox.post(Ev::Actor);
            }
            PeerMsg::Status(json) => {
                if !self.leader.get() {
                    *self.remote.borrow_mut() = serde_json::from_str(&json).ok();
                    self.notify("status");
                }
            }
            PeerMsg::Login => {
                let me = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = me.reload_session().await {
                        web_sys::console::error_1(&e);
                    }
                    me.mailbox.post(Ev::Wake);
                    me.notify("session");
                    me.notify("data");
                });
            }
            PeerMsg::Hello => {
                if self.leader.get() {
                    self.publish_status();
                }
            }
        }
    }

    /// Re-read the login from the store; a first login (no user yet) reloads the replica
    /// so that edits are attributed to the user.
    async fn reload_session(&self) -> Result<(), JsValue> {
        let meta = self.store.meta().await?;
        let session = Session::from_meta(&meta);
        let user_changed = self.core.borrow().replica.user() != session.user;
        if user_changed {
            let loaded = self.store.load().await?;
            let cursor = loaded.meta.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
            let actor = ActorId::try_from(self.actor_hex.as_str()).map_err(err)?;
            let replica = Replica::load(actor, session.user.clone(), loaded.docs, cursor, loaded.inbox).map_err(err)?;
            self.core.borrow_mut().replica = replica;
        }
        let mut core = self.core.borrow_mut();
        if let Some(p) = session.principal() {
            core.replica.set_principal(p);
        }
        core.session = session;
        Ok(())
    }
}

/// The browser client of one tab.
#[wasm_bindgen]
pub struct Client {
    shared: Rc<Shared>,
}

fn parse_lang(lang: &str) -> Lang {
    lang.parse().unwrap_or_default()
}

fn not_logged_in(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "尚未登录：请先联网登录一次",
        Lang::En => "not logged in: log in once while online",
    }
}

fn parse_id(id: &str) -> Result<DocId, JsValue> {
    id.trim().parse().map_err(|_| err(format!("'{id}' is not a document id")))
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn take_lock(promise: Promise) -> Option<Function> {
    JsFuture::from(promise).await.ok().and_then(|f| f.dyn_into::<Function>().ok())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CustomerInput {
    name: String,
    phone: String,
    channel: String,
    class: String,
    region: String,
    /// Other settable fields (address, notes, next_follow_up, …) by name.
    fields: HashMap<String, String>,
}

#[derive(Deserialize)]
struct FieldEdit {
    /// The value the form showed when the user started editing.
    #[serde(default)]
    base: String,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VisitInput {
    customer: String,
    kind: String,
    method: String,
    notes: String,
    fields: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OrderInput {
    customer: String,
    source: String,
    lines: Vec<LineInput>,
    fields: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactInput {
    name: String,
    phone: String,
    title: String,
}

/// The meta key of the read notifications.
const READ_KEY: &str = "notifications_read";

/// What an edit's promise rejects with: the JSON text of [`kind_views::refusal`] (each
/// field's error with its code and parameters, in the user's language).
fn refuse(e: &CoreError, kind: Option<DocKind>, lang: Lang) -> JsValue {
    JsValue::from_str(&kind_views::refusal(e, kind, lang))
}

fn refuse_fields(errors: Vec<FieldError>, kind: Option<DocKind>, lang: Lang) -> JsValue {
    refuse(&CoreError::Schema(SchemaError::Fields(errors)), kind, lang)
}

/// A step's inputs: a JSON object of strings (empty text: none).
fn step_inputs(input: &str) -> Result<HashMap<String, String>, JsValue> {
    if input.trim().is_empty() { Ok(HashMap::new()) } else { serde_json::from_str(input).map_err(refuse_text) }
}

fn refuse_text(message: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&kind_views::refusal_text(message.to_string()))
}

fn lang_of(lang: Option<String>) -> Lang {
    lang.as_deref().map(parse_lang).unwrap_or_default()
}

fn id_of(id: &str, lang: Lang) -> Result<DocId, JsValue> {
    id.trim().parse().map_err(|_| refuse(&CoreError::BadId(id.to_string()), None, lang))
}

/// Lines as the order form holds them, checked: every error named `lines/N/field`
/// (N = 1-based), unknown products included.
fn checked_lines(replica: &Replica, lines: &[LineInput]) -> Result<Vec<(String, CheckedLine)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    if lines.is_empty() {
        errors.push(FieldError::new("lines", FieldErrorKind::Required));
    }
    for (n, l) in lines.iter().enumerate() {
        match views::check_line(l) {
            Ok(c) => out.push((l.id.trim().to_string(), c)),
            Err(e) => errors.extend(e.into_iter().map(|mut e| {
                e.field = format!("lines/{}/{}", n + 1, e.field);
                e
            })),
        }
    }
    let known: Vec<FieldError> = replica
        .unknown_products(lines.iter().map(|l| l.sku.as_str()))
        .into_iter()
        .filter(|e| !errors.iter().any(|x| x.field == e.field))
        .collect();
    errors.extend(known);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The order form's other fields as inputs, in field order (empty ones clear the field
/// when revising, are left out when creating).
fn order_inputs(fields: &HashMap<String, String>, keep_empty: bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fields
        .iter()
        .filter(|(_, v)| keep_empty || !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kind_views::in_field_order(DocKind::Order, &mut v);
    v
}

/// What a lifecycle step carries, as the order screen's step form sends it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StepInput {
    comment: String,
    carrier: String,
    tracking: String,
    exception: String,
    /// Shipping: the batch numbers lines ship with (a line by id or 1-based position).
    batches: Vec<BatchInput>,
}

#[derive(Deserialize)]
struct BatchInput {
    line: String,
    batch: String,
}

impl Client {
    fn require_user(&self) -> Result<(), JsValue> {
        if self.shared.core.borrow().replica.user().is_empty() {
            return Err(err("not logged in: log in once while online"));
        }
        Ok(())
    }

    /// [`Client::edit_raw`] for an edit in `lang`: not logged in, bad JSON and core errors
    /// all reject with a refusal's JSON text.
    fn edit_in<T: Into<JsValue> + 'static>(
        &self,
        lang: Lang,
        f: impl FnOnce(&mut Core) -> Result<T, JsValue> + 'static,
    ) -> Promise {
        let checked = self.require_user().map_err(|_| refuse_text(not_logged_in(lang)));
        self.edit_raw(checked, f)
    }

    /// [`Client::open`] for Rust callers (tests).
    pub async fn open_profile(db_name: String) -> Result<Client, JsValue> {
        let tab_id = format!("{:08x}{:08x}", js::random_u32(), js::random_u32());
        // Listen before loading so that nothing another tab stores meanwhile is missed
        // (a change seen twice merges as once).
        let channel = BroadcastChannel::new(&format!("jiuloop:{db_name}")).ok();
        let early: Rc<RefCell<Vec<JsValue>>> = Rc::default();
        let buffer = Closure::<dyn FnMut(MessageEvent)>::new({
            let early = early.clone();
            move |e: MessageEvent| early.borrow_mut().push(e.data())
        });
        if let Some(ch) = &channel {
            ch.set_onmessage(Some(buffer.as_ref().unchecked_ref()));
        }
        let store = IdbStore::open(&db_name).await?;
        let locks = js::locks_supported();
        let mut releases = Vec::new();
        // One tab at a time picks its device id and actor id.
        let init = if locks { take_lock(js::wait_lock(&format!("jiuloop-init:{db_name}"))).await } else { None };
        let picked: Result<(Uuid, String, bool), JsValue> = async {
            let meta = store.meta().await?;
            let device_id = match meta.get("device_id").and_then(|d| d.parse::<Uuid>().ok()) {
                Some(id) => id,
                None => {
                    let id = Uuid::new_v4();
                    store.set_meta(&[("device_id", Some(&id.to_string()))]).await?;
                    id
                }
            };
            // Reuse an actor id no open tab holds: its changes are all in the store.
            if locks {
                for (hex, _) in store.actors().await? {
                    if let Some(release) = take_lock(js::try_lock(&format!("jiuloop-actor:{db_name}:{hex}"))).await {
                        releases.push(release);
                        return Ok((device_id, hex, false));
                    }
                }
            }
            let hex = ActorId::from(Uuid::new_v4().as_bytes()).to_hex_string();
            if locks && let Some(release) = take_lock(js::try_lock(&format!("jiuloop-actor:{db_name}:{hex}"))).await {
                releases.push(release);
            }
            store.add_actor(&hex).await?;
            Ok((device_id, hex, true))
        }
        .await;
        if let Some(release) = init {
            let _ = release.call0(&JsValue::NULL);
        }
        let (device_id, actor_hex, new_actor) = picked?;

        let t0 = js_sys::Date::now();
        // The first screen (customers) is shown as soon as the customers are loaded; the
        // other documents follow in the background while the page already responds.
        let loaded = store.load_with(&[DocKind::Customer]).await?;
        let t1 = js_sys::Date::now();
        let session = Session::from_meta(&loaded.meta);
        let cursor = loaded.meta.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let last_sync = loaded.meta.get("last_sync").and_then(|c| c.parse().ok());
        let read: HashSet<String> =
            loaded.meta.get(READ_KEY).and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
        let actor = ActorId::try_from(actor_hex.as_str()).map_err(err)?;
        let mut replica = Replica::load(actor, session.user.clone(), loaded.docs, cursor, loaded.inbox).map_err(err)?;
        if let Some(p) = session.principal() {
            replica.set_principal(p);
        }
        // Attachments held here; those waiting to be uploaded are sent from memory.
        replica.set_blobs(loaded.blobs.clone());
        for hash in replica.pending_blobs_to_restore() {
            if let Some(bytes) = store.load_blob(&hash).await? {
                replica.restore_blob(hash, bytes);
            }
        }
        let t2 = js_sys::Date::now();
        let open_timings = json!({
            "store_ms": t1 - t0,
            "replica_ms": t2 - t1,
            "first_docs": replica.doc_count(),
        });
        let mut actors: BTreeSet<String> = loaded.actors.into_iter().collect();
        actors.insert(actor_hex.clone());
        let shared = Rc::new(Shared {
            db_name: db_name.clone(),
            tab_id,
            device_id,
            actor_hex: actor_hex.clone(),
            store,
            core: RefCell::new(Core { replica, session, actors }),
            channel,
            mailbox: Mailbox::default(),
            leader: Cell::new(false),
            net: RefCell::new(NetStatus { last_sync, ..NetStatus::default() }),
            remote: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            releases: RefCell::new(releases),
            closed: Cell::new(false),
            storage_error: RefCell::new(None),
            on_message: RefCell::new(None),
            open_timings: RefCell::new(open_timings),
            loading: Cell::new(true),
            load_skip: RefCell::new(HashSet::new()),
            read: RefCell::new(read),
        });

        // From now on, other tabs' messages go straight to the replica.
        let weak: Weak<Shared> = Rc::downgrade(&shared);
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(s) = weak.upgrade() {
                s.on_peer(e.data());
            }
        });
        if let Some(ch) = &shared.channel {
            ch.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        }
        *shared.on_message.borrow_mut() = Some(handler);
        drop(buffer);
        for data in early.take() {
            shared.on_peer(data);
        }
        if new_actor {
            shared.broadcast(&PeerMsg::Actor(actor_hex));
        }
        shared.broadcast(&PeerMsg::Hello);

        wasm_bindgen_futures::spawn_local(load_rest(shared.clone(), t0));

        // Whoever holds the profile's sync lock runs the connection.
        let runner = shared.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if locks {
                let Some(release) = take_lock(js::wait_lock(&format!("jiuloop-sync:{}", runner.db_name))).await else {
                    return;
                };
                if runner.closed.get() {
                    let _ = release.call0(&JsValue::NULL);
                    return;
                }
                runner.releases.borrow_mut().push(release);
            }
            sync_loop::run(runner).await;
        });
        Ok(Client { shared })
    }

    fn update(&self, kind: DocKind, id: String, edits: String, now: f64, lang: Lang) -> Promise {
        self.edit_in(lang, move |core| {
            let id = id_of(&id, lang)?;
            if core.replica.kind_of(id) != Some(kind) {
                return Err(refuse(&CoreError::NotFound { kind, id: id.to_string() }, Some(kind), lang));
            }
            let edits: HashMap<String, FieldEdit> = serde_json::from_str(&edits).map_err(refuse_text)?;
            let values = merged_edits(&core.replica, id, kind, edits).map_err(|e| refuse(&e, Some(kind), lang))?;
            let inputs: Vec<(&str, &str)> = values.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
            core.replica.edit(id, &inputs, now as i64).map_err(|e| refuse(&e, Some(kind), lang))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Run an edit on the replica, make it durable, wake the sync loop, tell the UI. The
    /// promise rejects with what `f` rejects with (a refusal's JSON text).
    fn edit_raw<T: Into<JsValue> + 'static>(
        &self,
        checked: Result<(), JsValue>,
        f: impl FnOnce(&mut Core) -> Result<T, JsValue> + 'static,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            checked?;
            let out = {
                let mut core = shared.core.borrow_mut();
                f(&mut core)
            };
            // Whatever was committed before an error is stored all the same; the screens
            // are told only when something changed (a refused edit leaves the form as it is).
            let stored = shared.persist().await;
            if !matches!(stored, Ok(false)) {
                shared.mailbox.post(Ev::Local);
                shared.notify("data");
            }
            let out = out?;
            stored?;
            Ok(out.into())
        })
    }

    /// Documents with changes the server has not acknowledged yet.
    fn unsent(&self) -> HashSet<DocId> {
        self.shared.core.borrow_mut().replica.unsent_docs().into_iter().collect()
    }
}

/// The edits of a form `{field: {base, value}}` as inputs: only fields whose value differs
/// from what the form showed; free text someone changed meanwhile merged with this edit
/// (three-way, from the form's base), not overwritten.
fn merged_edits(
    replica: &Replica,
    id: DocId,
    kind: DocKind,
    edits: HashMap<String, FieldEdit>,
) -> Result<Vec<(String, String)>, client_core::CoreError> {
    let current = replica.record(id)?;
    let mut values: Vec<(String, String)> = edits
        .into_iter()
        .filter(|(_, e)| e.base != e.value)
        .map(|(field, e)| {
            let is_text = kind.spec().field(&field).is_some_and(|f| matches!(f.ty, FieldType::Text { .. }));
            let value =
                if is_text { merge3(&e.base, &e.value, current.str(&field).unwrap_or_default()) } else { e.value };
            (field, value)
        })
        .collect();
    kind_views::in_field_order(kind, &mut values);
    Ok(values)
}

#[wasm_bindgen]
impl Client {
    /// Open the profile stored in the IndexedDB database `db_name` (one per server origin;
    /// the app uses `"jiuloop"`). Resolves to a `Client`.
    pub fn open(db_name: String) -> Promise {
        future_to_promise(async move { Ok(Client::open_profile(db_name).await?.into()) })
    }

    /// Delete a profile's database (tests; "remove local data" once everything is sent).
    #[wasm_bindgen(js_name = deleteDatabase)]
    pub fn delete_database(db_name: String) -> Promise {
        future_to_promise(async move {
            IdbStore::delete_database(&db_name).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Stop syncing, release this tab's locks and close the database.
    pub fn close(&self) {
        let s = &self.shared;
        if s.closed.replace(true) {
            return;
        }
        s.mailbox.post(Ev::Shutdown);
        if let Some(ch) = &s.channel {
            ch.set_onmessage(None);
            ch.close();
        }
        s.on_message.borrow_mut().take();
        s.listeners.borrow_mut().clear();
        for release in s.releases.borrow_mut().drain(..) {
            let _ = release.call0(&JsValue::NULL);
        }
        s.store.close();
    }

    #[wasm_bindgen(js_name = onChange)]
    pub fn on_change(&self, callback: Function) {
        self.shared.listeners.borrow_mut().push(callback);
    }

    /// `{store_ms, replica_ms, docs}` of opening the profile.
    #[wasm_bindgen(js_name = openTimings)]
    pub fn open_timings(&self) -> String {
        self.shared.open_timings.borrow().to_string()
    }

    #[wasm_bindgen(js_name = deviceId)]
    pub fn device_id(&self) -> String {
        self.shared.device_id.to_string()
    }

    /// `{user, server, logged_in, role, territory, territories, expires_at}`.
    pub fn session(&self) -> String {
        self.shared.core.borrow().session.to_json().to_string()
    }

    /// `{online, connecting, leader, pending, last_sync, last_sync_local, inbox, error,
    /// auth_needed, …}`.
    pub fn status(&self) -> String {
        self.shared.status_json().to_string()
    }

    /// Store a successful `POST /api/login` answer (the UI made the request).
    #[wasm_bindgen(js_name = completeLogin)]
    pub fn complete_login(&self, server: String, answer_json: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let answer: LoginAnswer =
                serde_json::from_str(&answer_json).map_err(|e| err(format!("login answer: {e}")))?;
            let previous = shared.core.borrow().replica.user().to_string();
            if !previous.is_empty() && previous != answer.user {
                return Err(err(format!(
                    "this browser profile belongs to {previous}; {} must use another browser profile",
                    answer.user
                )));
            }
            let meta = Session::login_meta(&server, &answer);
            let pairs: Vec<(&str, Option<&str>)> = meta.iter().map(|(k, v)| (*k, v.as_deref())).collect();
            shared.store.set_meta(&pairs).await?;
            shared.reload_session().await?;
            shared.net.borrow_mut().auth_needed = false;
            shared.broadcast(&PeerMsg::Login);
            shared.mailbox.post(Ev::Wake);
            shared.notify("session");
            shared.notify("data");
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Forget the token (local data stays; unsent edits are sent after the next login).
    /// Resolves to the forgotten token (for `POST /api/logout`), or null.
    pub fn logout(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let token = shared.core.borrow().session.token.clone();
            shared.store.set_meta(&[("token", None), ("token_expires_at", None)]).await?;
            shared.reload_session().await?;
            shared.broadcast(&PeerMsg::Login);
            shared.mailbox.post(Ev::Wake);
            shared.notify("session");
            Ok(token.map_or(JsValue::NULL, JsValue::from))
        })
    }

    /// Try to connect now (network came back, the user asked).
    #[wasm_bindgen(js_name = syncNow)]
    pub fn sync_now(&self) {
        self.shared.mailbox.post(Ev::Wake);
    }

    // ---- reads (JSON text) -------------------------------------------------------

    /// `query`: `{q, class, channel, region, limit}` → `{total, count, items}`.
    pub fn customers(&self, query: String, lang: String) -> Result<String, JsValue> {
        let q: CustomerQuery = if query.trim().is_empty() {
            CustomerQuery::default()
        } else {
            serde_json::from_str(&query).map_err(err)?
        };
        Ok(views::customers(&self.shared.core.borrow().replica, &q, parse_lang(&lang)).to_string())
    }

    /// `{customer, visits, orders, may: {edit, notes, contacts, channel, visit, order},
    /// unsent}`.
    pub fn customer(&self, id: String, lang: String) -> Result<String, JsValue> {
        let id = parse_id(&id)?;
        let unsent = self.unsent();
        views::customer_detail(&self.shared.core.borrow().replica, &unsent, id, parse_lang(&lang))
            .map(|v| v.to_string())
            .map_err(err)
    }

    /// `status`: `""` for all, or one status name; rows and counts by the one status
    /// (see [`crate::order_state`]).
    pub fn orders(&self, status: String, limit: Option<u32>, lang: String) -> String {
        let limit = limit.map(|l| l as usize);
        let unsent = self.unsent();
        views::orders(&self.shared.core.borrow().replica, &unsent, status.trim(), limit, parse_lang(&lang)).to_string()
    }

    pub fn order(&self, id: String, lang: String) -> Result<String, JsValue> {
        let id = parse_id(&id)?;
        let unsent = self.unsent();
        views::order_detail(&self.shared.core.borrow().replica, &unsent, id, js::now_ms(), parse_lang(&lang))
            .map(|v| v.to_string())
            .map_err(err)
    }

    pub fn inbox(&self, lang: String) -> String {
        views::inbox(&self.shared.core.borrow().replica, parse_lang(&lang)).to_string()
    }

    pub fn vocab(&self, lang: String) -> String {
        views::vocab(parse_lang(&lang)).to_string()
    }

    /// Live offline preview of order lines `[{sku, spec, qty, unit_price}]` (unit price in
    /// yuan) for `customer`, priced with the synced policy: per line the product name, the
    /// policy price and the discount or markup (or the line's errors, in `lang`), the total,
    /// the verdict and the approvals needed.
    #[wasm_bindgen(js_name = previewOrder)]
    pub fn preview_order(&self, customer: String, lines: String, now: f64, lang: String) -> Result<String, JsValue> {
        let lines: Vec<LineInput> = serde_json::from_str(&lines).map_err(err)?;
        let customer = customer.trim().parse::<DocId>().ok();
        let core = self.shared.core.borrow();
        Ok(views::preview_order(&core.replica, customer, &lines, now as i64, parse_lang(&lang)).to_string())
    }

    /// The active products of the synced price policy: `{version, title, skus: [{code,
    /// name, spec, price}]}` — `price`: what the policy gives `customer` (when given) now.
    pub fn catalogue(&self, customer: Option<String>, now: Option<f64>) -> String {
        let customer = customer.and_then(|c| c.trim().parse::<DocId>().ok());
        let now = now.map(|n| n as i64).unwrap_or_else(js::now_ms);
        views::catalogue(&self.shared.core.borrow().replica, customer, now).to_string()
    }

    /// Orders waiting for an approval this user's role can give, with their lines, prices
    /// against the policy, discounts and the rep's note.
    pub fn approvals(&self, lang: String) -> String {
        let unsent = self.unsent();
        views::approvals(&self.shared.core.borrow().replica, &unsent, js::now_ms(), parse_lang(&lang)).to_string()
    }

    /// This user's queues: `[{queue, count, items}]` (see [`crate::work::queues`]).
    pub fn work(&self, lang: String) -> String {
        let unsent = self.unsent();
        work::queues(&self.shared.core.borrow().replica, &unsent, js::now_ms(), parse_lang(&lang)).to_string()
    }

    /// `{unread, items}`: what this user is told, derived from the documents held here
    /// (see [`crate::work::notifications`]).
    pub fn notifications(&self, lang: String) -> String {
        let unsent = self.unsent();
        let read = self.shared.read.borrow();
        work::notifications(&self.shared.core.borrow().replica, &unsent, &read, js::now_ms(), parse_lang(&lang))
            .to_string()
    }

    /// Mark notifications read (`ids`: a JSON list; `"all"`: every current one). Kept in
    /// the profile's meta store; marks of notifications that are gone are forgotten.
    #[wasm_bindgen(js_name = markRead)]
    pub fn mark_read(&self, ids: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let current = {
                let unsent: HashSet<DocId> = shared.core.borrow_mut().replica.unsent_docs().into_iter().collect();
                let none = HashSet::new();
                let all = work::notifications(&shared.core.borrow().replica, &unsent, &none, js::now_ms(), Lang::En);
                work::current_ids(&all)
            };
            let text = {
                let mut read = shared.read.borrow_mut();
                if ids.trim() == "all" {
                    read.extend(current.iter().cloned());
                } else {
                    let list: Vec<String> = serde_json::from_str(&ids).map_err(err)?;
                    read.extend(list);
                }
                read.retain(|id| current.contains(id));
                serde_json::to_string(&*read).unwrap_or_default()
            };
            shared.store.set_meta(&[(READ_KEY, Some(&text))]).await?;
            shared.notify("data");
            Ok(JsValue::UNDEFINED)
        })
    }

    // ---- after-sales ---------------------------------------------------------------

    /// The after-sales queue at `now`: open complaints (all with `all`) by SLA time left,
    /// breached first (see [`crate::aftersales_views::complaint_queue`]).
    #[wasm_bindgen(js_name = complaintQueue)]
    pub fn complaint_queue(&self, now: f64, all: bool, lang: String) -> String {
        let unsent = self.unsent();
        crate::aftersales_views::complaint_queue(
            &self.shared.core.borrow().replica,
            &unsent,
            now as i64,
            all,
            parse_lang(&lang),
        )
        .to_string()
    }

    /// One complaint as the customer experienced it: its clocks and its history (see
    /// [`crate::aftersales_views::complaint_detail`]).
    #[wasm_bindgen(js_name = complaintDetail)]
    pub fn complaint_detail(&self, id: String, now: f64, lang: String) -> Result<String, JsValue> {
        let id = parse_id(&id)?;
        crate::aftersales_views::complaint_detail(&self.shared.core.borrow().replica, id, now as i64, parse_lang(&lang))
            .map(|v| v.to_string())
            .map_err(err)
    }

    // ---- any kind, from its declaration (the generic screens) ---------------------

    /// Every kind this user may read, with its fields and whether they may create one
    /// (see [`kind_views::kinds`]).
    pub fn kinds(&self, lang: String) -> String {
        kind_views::kinds(&self.shared.core.borrow().replica, parse_lang(&lang)).to_string()
    }

    /// `query`: `{q, where: {field: value}, limit}` → `{kind, total, count, items: [{id,
    /// title, when, by, summary, values, unsent}]}`.
    pub fn records(&self, kind: String, query: String, lang: String) -> Result<String, JsValue> {
        let kind: DocKind = kind.parse().map_err(err)?;
        let q: kind_views::RecordQuery =
            if query.trim().is_empty() { Default::default() } else { serde_json::from_str(&query).map_err(err)? };
        let unsent = self.unsent();
        Ok(kind_views::records(&self.shared.core.borrow().replica, &unsent, kind, &q, parse_lang(&lang)).to_string())
    }

    /// One record of any kind: every field with label, raw, display and form value, and
    /// whether this user may write it.
    pub fn record(&self, id: String, lang: String) -> Result<String, JsValue> {
        let id = parse_id(&id)?;
        let unsent = self.unsent();
        kind_views::record(&self.shared.core.borrow().replica, &unsent, id, parse_lang(&lang))
            .map(|v| v.to_string())
            .map_err(err)
    }

    /// `{field: text}` (money in yuan, enums by name or label, references by id) → the new
    /// record's id, once durable. Nothing is written when any field is wrong: the promise
    /// rejects with a JSON string `{"fields": [{"field", "code", "label", "message"}],
    /// "message", "code"}`, its messages in `lang`.
    #[wasm_bindgen(js_name = createRecord)]
    pub fn create_record(&self, kind: String, inputs: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        let checked =
            self.require_user().map_err(|_| JsValue::from_str(&kind_views::refusal_text(not_logged_in(lang))));
        self.edit_raw(checked, move |core| {
            let reject = |text: String| JsValue::from_str(&text);
            let kind: DocKind = kind.parse().map_err(|e: String| reject(kind_views::refusal_text(e)))?;
            let inputs: HashMap<String, String> =
                serde_json::from_str(&inputs).map_err(|e| reject(kind_views::refusal_text(e.to_string())))?;
            let inputs = kind_views::create_inputs(kind, inputs);
            let pairs: Vec<(&str, &str)> = inputs.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
            let id = core
                .replica
                .create(kind, &pairs, now as i64)
                .map_err(|e| reject(kind_views::refusal(&e, Some(kind), lang)))?;
            Ok(id.to_string())
        })
    }

    /// `{field: {base, value}}`: writes, as one change, the fields whose value differs
    /// from what the form showed (`base`); free text is three-way merged with what changed
    /// meanwhile. Rejects like [`Client::create_record`].
    #[wasm_bindgen(js_name = updateRecord)]
    pub fn update_record(&self, id: String, edits: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        let checked =
            self.require_user().map_err(|_| JsValue::from_str(&kind_views::refusal_text(not_logged_in(lang))));
        self.edit_raw(checked, move |core| {
            let reject = |text: String| JsValue::from_str(&text);
            let id: DocId = id
                .trim()
                .parse()
                .map_err(|_| reject(kind_views::refusal_text(format!("'{id}' is not a document id"))))?;
            let kind = core.replica.kind_of(id);
            let refuse = |e: client_core::CoreError| reject(kind_views::refusal(&e, kind, lang));
            let Some(kind) = kind else { return Err(refuse(client_core::CoreError::Unknown(id.to_string()))) };
            let edits: HashMap<String, FieldEdit> =
                serde_json::from_str(&edits).map_err(|e| reject(kind_views::refusal_text(e.to_string())))?;
            let values = merged_edits(&core.replica, id, kind, edits).map_err(refuse)?;
            let inputs: Vec<(&str, &str)> = values.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
            core.replica.edit(id, &inputs, now as i64).map_err(refuse)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    // ---- field planning and what market publishes (issue 12) ----------------------

    /// A field-planning view as JSON (see [`field_views::view`]: `today`, `followups`,
    /// `overdue`, `visit-plans`, `planned-vs-actual`, `conversion`, `report`, `evaluation`,
    /// `progress`, `catalogue`); `args`: `{date, from, to, week, id, rep}`.
    pub fn field(&self, name: String, args: String, now: f64, lang: String) -> Result<String, JsValue> {
        let a: field_views::Args =
            if args.trim().is_empty() { Default::default() } else { serde_json::from_str(&args).map_err(err)? };
        let core = self.shared.core.borrow();
        field_views::view(&core.replica, name.trim(), &a, now as i64, parse_lang(&lang))
            .map(|v| v.to_string())
            .map_err(err)
    }

    /// A field-planning table as CSV (UTF-8 with BOM), for download.
    #[wasm_bindgen(js_name = fieldCsv)]
    pub fn field_csv(&self, name: String, args: String, now: f64, lang: String) -> Result<String, JsValue> {
        let a: field_views::Args =
            if args.trim().is_empty() { Default::default() } else { serde_json::from_str(&args).map_err(err)? };
        let core = self.shared.core.borrow();
        field_views::csv(&core.replica, name.trim(), &a, now as i64, parse_lang(&lang)).map_err(err)
    }

    /// Take a workflow step on a record (`approve`, `publish`, `cancel` …), or `read` to
    /// record a read receipt. Rejects like [`Client::create_record`].
    pub fn step(&self, id: String, step: String, comment: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        let checked =
            self.require_user().map_err(|_| JsValue::from_str(&kind_views::refusal_text(not_logged_in(lang))));
        self.edit_raw(checked, move |core| {
            let id: DocId = id
                .trim()
                .parse()
                .map_err(|_| JsValue::from_str(&kind_views::refusal_text(format!("'{id}' is not a document id"))))?;
            let kind = core.replica.kind_of(id);
            let done = match step.trim() {
                "read" => core.replica.mark_read(id, now as i64),
                s => core.replica.step(id, s, &comment, now as i64),
            };
            done.map_err(|e| JsValue::from_str(&kind_views::refusal(&e, kind, lang)))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    // ---- edits (promises, resolved once durable; refused with a refusal's JSON) ---

    /// `{name, phone, channel, class, region, fields: {address, notes, …}}` → new id, in
    /// the user's territory, owned by them.
    #[wasm_bindgen(js_name = createCustomer)]
    pub fn create_customer(&self, input: String, now: f64, lang: Option<String>) -> Promise {
        let lang = lang_of(lang);
        self.edit_in(lang, move |core| {
            let i: CustomerInput = serde_json::from_str(&input).map_err(refuse_text)?;
            let territory = core.session.territory.clone().unwrap_or_default();
            let user = core.replica.user().to_string();
            let mut inputs: Vec<(String, String)> = vec![
                ("name".into(), i.name),
                ("phone".into(), i.phone),
                ("channel".into(), i.channel),
                ("class".into(), i.class),
                ("region".into(), i.region),
                ("owner".into(), user),
                ("territory".into(), territory),
            ];
            inputs.extend(i.fields);
            inputs.retain(|(k, v)| k == "name" || !v.trim().is_empty());
            kind_views::in_field_order(DocKind::Customer, &mut inputs);
            let pairs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let id = core
                .replica
                .create(DocKind::Customer, &pairs, now as i64)
                .map_err(|e| refuse(&e, Some(DocKind::Customer), lang))?;
            Ok(id.to_string())
        })
    }

    /// `{field: {base, value}}`: writes the fields whose value differs from what the form
    /// showed; free text is merged with what changed meanwhile.
    #[wasm_bindgen(js_name = updateCustomer)]
    pub fn update_customer(&self, id: String, edits: String, now: f64, lang: Option<String>) -> Promise {
        self.update(DocKind::Customer, id, edits, now, lang_of(lang))
    }

    #[wasm_bindgen(js_name = updateVisit)]
    pub fn update_visit(&self, id: String, edits: String, now: f64, lang: Option<String>) -> Promise {
        self.update(DocKind::Visit, id, edits, now, lang_of(lang))
    }

    #[wasm_bindgen(js_name = updateOrder)]
    pub fn update_order(&self, id: String, edits: String, now: f64, lang: Option<String>) -> Promise {
        self.update(DocKind::Order, id, edits, now, lang_of(lang))
    }

    /// `{name, phone, title}`; errors name `contacts/name`, `contacts/phone`, ….
    #[wasm_bindgen(js_name = addContact)]
    pub fn add_contact(&self, id: String, input: String, now: f64, lang: Option<String>) -> Promise {
        let lang = lang_of(lang);
        self.edit_in(lang, move |core| {
            let id = id_of(&id, lang)?;
            let c: ContactInput = serde_json::from_str(&input).map_err(refuse_text)?;
            core.replica
                .add_contact(id, &c.name, opt(&c.phone).as_deref(), opt(&c.title).as_deref(), now as i64)
                .map_err(|e| refuse(&e, Some(DocKind::Customer), lang))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `{customer, kind, method, notes, fields: {outcome, feedback, satisfaction, …,
    /// checkin_at, checkin_lat, checkin_lng, checkin_accuracy_m}}` → new id. A visit must
    /// say something: notes, an outcome, the customer's feedback or a next action.
    #[wasm_bindgen(js_name = createVisit)]
    pub fn create_visit(&self, input: String, now: f64, lang: Option<String>) -> Promise {
        let lang = lang_of(lang);
        self.edit_in(lang, move |core| {
            let i: VisitInput = serde_json::from_str(&input).map_err(refuse_text)?;
            let said = ["outcome", "feedback", "next_action"]
                .iter()
                .any(|f| i.fields.get(*f).is_some_and(|v| !v.trim().is_empty()))
                || !i.notes.trim().is_empty();
            if !said {
                return Err(refuse_fields(
                    vec![FieldError::new("notes", FieldErrorKind::Required)],
                    Some(DocKind::Visit),
                    lang,
                ));
            }
            let mut inputs: Vec<(String, String)> = vec![
                ("customer".into(), i.customer),
                ("kind".into(), i.kind),
                ("method".into(), i.method),
                ("notes".into(), i.notes),
            ];
            inputs.extend(i.fields);
            let inputs = kind_views::create_inputs(DocKind::Visit, inputs.into_iter().collect());
            let pairs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let id = core
                .replica
                .create(DocKind::Visit, &pairs, now as i64)
                .map_err(|e| refuse(&e, Some(DocKind::Visit), lang))?;
            Ok(id.to_string())
        })
    }

    /// Submit a draft order (records the price policy it was priced with).
    #[wasm_bindgen(js_name = submitOrder)]
    pub fn submit_order(&self, id: String, now: f64, lang: Option<String>) -> Promise {
        self.order_step(id, "submitted".into(), String::new(), now, lang)
    }

    /// Approve or reject the order's current content; a rejection needs a reason
    /// (`comment`).
    #[wasm_bindgen(js_name = decideOrder)]
    pub fn decide_order(&self, id: String, approve: bool, comment: String, now: f64, lang: Option<String>) -> Promise {
        let step = if approve { "approved" } else { "rejected" };
        let input = json!({ "comment": comment }).to_string();
        self.order_step(id, step.into(), input, now, lang)
    }

    #[wasm_bindgen(js_name = cancelOrder)]
    pub fn cancel_order(&self, id: String, now: f64, lang: Option<String>) -> Promise {
        self.order_step(id, "cancelled".into(), String::new(), now, lang)
    }

    /// Record a lifecycle step on an order: `step` is an event kind (`submitted`,
    /// `approved`, `rejected`, `paid`, `shipped`, `delivered`, `exception`, `resolved`,
    /// `closed`, `cancelled`); `input` `{comment, carrier, tracking, exception}` what it
    /// carries. Required: a reason to reject, carrier and tracking number to ship, the kind
    /// and a note for an exception, a note to resolve one. The rules are the core's (the
    /// same the server applies); refusals name the field.
    #[wasm_bindgen(js_name = orderStep)]
    pub fn order_step(&self, id: String, step: String, input: String, now: f64, lang: Option<String>) -> Promise {
        let lang = lang_of(lang);
        self.edit_in(lang, move |core| {
            let id = id_of(&id, lang)?;
            let i: StepInput = if input.trim().is_empty() {
                StepInput::default()
            } else {
                serde_json::from_str(&input).map_err(refuse_text)?
            };
            let kind: EventKind = step.parse().map_err(refuse_text)?;
            let mut missing = Vec::new();
            let mut need = |field: &str, v: &str| {
                if v.trim().is_empty() {
                    missing.push(FieldError::new(field, FieldErrorKind::Required));
                }
            };
            match kind {
                EventKind::Rejected | EventKind::Resolved => need("comment", &i.comment),
                EventKind::Shipped => {
                    need("carrier", &i.carrier);
                    need("tracking", &i.tracking);
                }
                EventKind::Exception => {
                    need("exception", &i.exception);
                    need("comment", &i.comment);
                }
                _ => {}
            }
            if !missing.is_empty() {
                return Err(refuse_fields(missing, Some(DocKind::Order), lang));
            }
            let now = now as i64;
            let r = &mut core.replica;
            let comment = i.comment.trim();
            let done = match kind {
                EventKind::Submitted => r.submit_order(id, now),
                EventKind::Approved | EventKind::Rejected => {
                    r.decide_order(id, kind == EventKind::Approved, comment, now)
                }
                EventKind::Paid => r.confirm_payment(id, now),
                EventKind::Shipped => {
                    let pairs: Vec<(String, String)> = i
                        .batches
                        .iter()
                        .filter(|b| !b.batch.trim().is_empty())
                        .map(|b| (b.line.clone(), b.batch.clone()))
                        .collect();
                    r.ship_order_with_batches(id, i.carrier.trim(), i.tracking.trim(), &pairs, now)
                }
                EventKind::Delivered => r.deliver_order(id, opt(comment).as_deref(), now),
                EventKind::Exception => match i.exception.parse::<ExceptionKind>() {
                    Ok(x) => r.order_exception(id, x, comment, now),
                    Err(e) => return Err(refuse_text(e)),
                },
                EventKind::Resolved => r.resolve_exception(id, comment, now),
                EventKind::Closed => r.close_order(id, now),
                EventKind::Cancelled => r.cancel_order(id, now),
                EventKind::Created => return Err(refuse_text("created is not a step")),
                EventKind::ContractWaived => r.waive_contract(id, comment, now),
            };
            done.map_err(|e| refuse(&e, Some(DocKind::Order), lang))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `{customer, source, lines: [{sku, spec, qty, unit_price}], fields: {delivery_date,
    /// delivery_place, payment_method, notes}}` (unit price in yuan) → new id. Every line
    /// and field is checked before anything is written (errors name `lines/N/FIELD`; a
    /// product the synced policy does not know is one).
    #[wasm_bindgen(js_name = createOrder)]
    pub fn create_order(&self, input: String, now: f64, lang: Option<String>) -> Promise {
        let lang = lang_of(lang);
        self.edit_in(lang, move |core| {
            let i: OrderInput = serde_json::from_str(&input).map_err(refuse_text)?;
            let kind = Some(DocKind::Order);
            let mut errors = Vec::new();
            let customer = i.customer.trim().parse::<DocId>().ok();
            if customer.is_none() {
                errors.push(FieldError::new("customer", FieldErrorKind::Required));
            }
            let source = match opt(&i.source) {
                Some(s) => s.parse::<OrderSource>().map_err(refuse_text)?,
                None => OrderSource::Electronic,
            };
            let lines = checked_lines(&core.replica, &i.lines).unwrap_or_else(|e| {
                errors.extend(e);
                Vec::new()
            });
            let fields = order_inputs(&i.fields, false);
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let ctx_errors = protocol::schema::record::parse_inputs(DocKind::Order, &pairs, false, &today(now))
                .err()
                .unwrap_or_default();
            errors.extend(ctx_errors);
            let Some(customer) = customer.filter(|_| errors.is_empty()) else {
                return Err(refuse_fields(errors, kind, lang));
            };
            let lines: Vec<NewLine> = lines
                .into_iter()
                .map(|(_, l)| NewLine {
                    id: DocId::new_random().to_string(),
                    sku: l.sku,
                    spec: l.spec,
                    qty: l.qty,
                    unit_price_fen: l.unit_price_fen,
                })
                .collect();
            let id = core
                .replica
                .create_order_with(customer, source, &lines, &pairs, now as i64)
                .map_err(|e| refuse(&e, kind, lang))?;
            Ok(id.to_string())
        })
    }

    /// Revise an order's content (a draft, or an order waiting or rejected before it is
    /// confirmed): `{lines: [{id, sku, spec, qty, unit_price}], fields: {…}}` — lines with
    /// an `id` keep it, lines left out are taken out — as one change, checked like
    /// [`Client::create_order`]. `resubmit`: then submit it again (a rejected order goes
    /// back to its approvers).
    #[wasm_bindgen(js_name = reviseOrder)]
    pub fn revise_order(&self, id: String, input: String, resubmit: bool, now: f64, lang: Option<String>) -> Promise {
        let lang = lang_of(lang);
        self.edit_in(lang, move |core| {
            let id = id_of(&id, lang)?;
            let i: OrderInput = serde_json::from_str(&input).map_err(refuse_text)?;
            let kind = Some(DocKind::Order);
            let lines = checked_lines(&core.replica, &i.lines).map_err(|e| refuse_fields(e, kind, lang))?;
            let revisions: Vec<LineRevision> = lines
                .into_iter()
                .map(|(id, l)| LineRevision {
                    id: Some(id).filter(|i| !i.is_empty()),
                    sku: l.sku,
                    spec: l.spec,
                    qty: l.qty,
                    unit_price_fen: l.unit_price_fen,
                })
                .collect();
            let current = core.replica.order(id).map_err(|e| refuse(&e, kind, lang))?;
            // Only fields whose value differs from the order's are written.
            let fields: Vec<(String, String)> = order_inputs(&i.fields, true)
                .into_iter()
                .filter(|(k, v)| {
                    let now = match k.as_str() {
                        "delivery_date" => current.delivery_date.clone().unwrap_or_default(),
                        "delivery_place" => current.delivery_place.clone().unwrap_or_default(),
                        "payment_method" => current.payment_method.map(|p| p.as_str().to_string()).unwrap_or_default(),
                        "notes" => current.notes.clone(),
                        _ => String::new(),
                    };
                    v.trim() != now.trim()
                })
                .collect();
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            core.replica.revise_order(id, &revisions, &pairs, now as i64).map_err(|e| refuse(&e, kind, lang))?;
            if resubmit {
                let steps = core.replica.order_steps(id, now as i64).unwrap_or_default();
                if steps.contains(&EventKind::Submitted) {
                    core.replica.submit_order(id, now as i64).map_err(|e| refuse(&e, kind, lang))?;
                } else if let Some(p) = core.replica.current_policy() {
                    // Back to its approvers by the revision itself: record the policy it
                    // was priced with now.
                    let v = p.version.to_string();
                    if current.priced_with != Some(i64::from(p.version)) {
                        core.replica
                            .edit(id, &[("priced_with", &v)], now as i64)
                            .map_err(|e| refuse(&e, kind, lang))?;
                    }
                }
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// How a form's dates are read on `now` (today, for "not in the past").
fn today(now: f64) -> protocol::kinds::parse::ParseContext {
    let now = now as i64;
    let today =
        chrono::DateTime::from_timestamp_millis(now).map(|t| t.with_timezone(&protocol::time::shanghai()).date_naive());
    protocol::kinds::parse::ParseContext { today, now: Some(now) }
}

/// Documents loaded in one go before the page gets a turn again.
const LOAD_BATCH: usize = 400;

async fn load_rest(shared: Rc<Shared>, started: f64) {
    js::yield_now().await;
    let kinds: Vec<DocKind> = DocKind::ALL.iter().copied().filter(|k| *k != DocKind::Customer).collect();
    let rest = match shared.store.load_docs(&kinds).await {
        Ok(docs) => docs,
        Err(e) => {
            let msg = e.as_string().unwrap_or_else(|| "IndexedDB read failed".into());
            *shared.storage_error.borrow_mut() = Some(msg);
            Vec::new()
        }
    };
    for batch in rest.chunks(LOAD_BATCH) {
        js::yield_now().await;
        if shared.closed.get() {
            return;
        }
        let skip = shared.load_skip.borrow().clone();
        let batch: Vec<StoredDoc> = batch.iter().filter(|d| !skip.contains(&d.id)).cloned().collect();
        if let Err(e) = shared.core.borrow_mut().replica.load_more(&batch) {
            *shared.storage_error.borrow_mut() = Some(e.to_string());
            web_sys::console::error_1(&format!("jiuloop: loading stored documents: {e}").into());
        }
    }
    shared.loading.set(false);
    shared.load_skip.borrow_mut().clear();
    {
        let mut t = shared.open_timings.borrow_mut();
        t["all_loaded_ms"] = json!(js_sys::Date::now() - started);
        t["docs"] = json!(shared.core.borrow().replica.doc_count());
    }
    shared.mailbox.post(Ev::Loaded);
    shared.notify("data");
    shared.notify("status");
}

// ---- expenses and contracts (the screens of `web/screens/expenses.js`, `contracts.js`) ----

fn expense_item(text: &str) -> Result<protocol::schema::ExpenseItem, JsValue> {
    text.parse().map_err(refuse_text)
}

fn yuan(text: &str) -> Result<i64, JsValue> {
    protocol::kinds::parse::parse_yuan(text).ok_or_else(|| refuse_text(format!("{text}: an amount in yuan")))
}

fn labelled_expense(r: &Replica, v: &client_core::ExpenseView, lang: Lang) -> Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    j["status_label"] = json!(v.lifecycle.status.label(lang));
    j["item_label"] = json!(v.expense.item.map(|i| i.label(lang)));
    j["kind"] = json!(v.expense.kind.as_str());
    j["receipts_held"] = json!(
        v.expense
            .receipts
            .iter()
            .map(|x| protocol::blob::parse_hex(&x.hash)
                .is_some_and(|h| r.blob_state(&h) == client_core::BlobState::Held))
            .collect::<Vec<_>>()
    );
    j
}

#[wasm_bindgen]
impl Client {
    /// `{budgets: [BudgetView + labels], expenses: [...], approvals: [...], finance: [...],
    /// items: [{name, label}]}`: what the expense screens show, computed here offline.
    #[wasm_bindgen(js_name = expenseOverview)]
    pub fn expense_overview(&self, lang: String) -> String {
        let lang = parse_lang(&lang);
        let core = self.shared.core.borrow();
        let r = &core.replica;
        let budgets: Vec<Value> = r
            .budgets()
            .into_iter()
            .filter_map(|b| r.budget_view(b.id).ok())
            .map(|v| {
                let mut j = serde_json::to_value(&v).unwrap_or_default();
                j["items_labelled"] = json!(
                    v.items
                        .iter()
                        .map(|c| {
                            let label =
                                c.item.parse::<protocol::schema::ExpenseItem>().map(|i| i.label(lang)).unwrap_or("?");
                            json!({"item": c.item, "label": label, "budget_fen": c.budget_fen,
                                   "committed_fen": c.committed_fen, "spent_fen": c.spent_fen,
                                   "remaining_fen": c.remaining_fen()})
                        })
                        .collect::<Vec<_>>()
                );
                j
            })
            .collect();
        let list =
            |v: Vec<client_core::ExpenseView>| v.iter().map(|x| labelled_expense(r, x, lang)).collect::<Vec<_>>();
        let items: Vec<Value> = protocol::schema::ExpenseItem::ALL
            .iter()
            .map(|i| json!({"name": i.as_str(), "label": i.label(lang)}))
            .collect();
        json!({
            "budgets": budgets,
            "expenses": list(r.expenses(None)),
            "approvals": list(r.expense_approvals()),
            "finance": list(r.reimbursement_queue()),
            "items": items,
        })
        .to_string()
    }

    /// What is left of `item` in `month` of a budget (fen), before a new expense.
    #[wasm_bindgen(js_name = budgetRemaining)]
    pub fn budget_remaining(&self, budget: String, item: String, month: u32) -> Result<Option<f64>, JsValue> {
        let (b, item) = (parse_id(&budget)?, expense_item(&item)?);
        Ok(self.shared.core.borrow().replica.remaining(b, item, month).map(|f| f as f64))
    }

    /// A claim with one receipt, filed as one step: `{budget, item, purpose, date, amount}`
    /// (amount in yuan) and the receipt file's bytes → the claim's id, submitted.
    #[wasm_bindgen(js_name = fileClaim)]
    pub fn file_claim(
        &self,
        input: String,
        receipt: js_sys::Uint8Array,
        name: String,
        now: f64,
        lang: String,
    ) -> Promise {
        let lang = parse_lang(&lang);
        let bytes = receipt.to_vec();
        self.edit_raw(self.require_user(), move |core| {
            let v: HashMap<String, String> = serde_json::from_str(&input).map_err(refuse_text)?;
            let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
            let budget = parse_id(&get("budget"))?;
            let item = expense_item(&get("item"))?;
            let amount = yuan(&get("amount"))?;
            let now = now as i64;
            let r = &mut core.replica;
            let refuse = |e: CoreError| refuse(&e, Some(DocKind::ExpenseClaim), lang);
            let id = r.create_claim(budget, item, &get("purpose"), &get("date"), None, now).map_err(refuse)?;
            r.add_receipt(id, bytes, &name, amount, None, now).map_err(refuse)?;
            r.expense_simple(id, protocol::schema::ExpenseEventKind::Submitted, "", now).map_err(refuse)?;
            Ok(id.to_string())
        })
    }

    /// A step of an expense: `submit`, `approve`, `reject`, `cancel`, `return`, `reimburse`,
    /// or `check` (`input`: `{receipt, sanctioned, reason}`, sanctioned in yuan).
    #[wasm_bindgen(js_name = expenseStep)]
    pub fn expense_step(&self, id: String, step: String, input: String, now: f64, lang: String) -> Promise {
        use protocol::schema::ExpenseEventKind as E;
        let lang = parse_lang(&lang);
        self.edit_raw(self.require_user(), move |core| {
            let id = parse_id(&id)?;
            let v = step_inputs(&input)?;
            let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
            let now = now as i64;
            let r = &mut core.replica;
            let kind = r.kind_of(id);
            let done = match step.as_str() {
                "submit" => r.expense_simple(id, E::Submitted, &get("comment"), now),
                "cancel" => r.expense_simple(id, E::Cancelled, &get("comment"), now),
                "return" => r.expense_simple(id, E::Returned, &get("comment"), now),
                "approve" => r.decide_expense(id, true, &get("comment"), now),
                "reject" => r.decide_expense(id, false, &get("comment"), now),
                "reimburse" => r.reimburse(id, now),
                "check" => r.check_receipt(id, &get("receipt"), yuan(&get("sanctioned"))?, &get("reason"), now),
                other => return Err(refuse_text(format!("unknown step {other}"))),
            };
            done.map_err(|e| refuse(&e, kind, lang))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A budget's step: `new` (`{team, year, title}` → the new budget's id; `id` unused),
    /// `line` (`{item, month, amount}`, amount in yuan: set the draft's cell), `submit`
    /// (the draft as the next version → its number), `approve` / `reject` (`{version,
    /// comment}`, the executive's). Every refusal as [`Client::create_record`]'s.
    #[wasm_bindgen(js_name = budgetStep)]
    pub fn budget_step(&self, id: String, step: String, input: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        self.edit_raw(self.require_user(), move |core| {
            let v = step_inputs(&input)?;
            let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
            let now = now as i64;
            let r = &mut core.replica;
            let refuse = |e: CoreError| refuse(&e, Some(DocKind::ExpenseBudget), lang);
            let number = |k: &str| get(k).parse::<u32>().map_err(|_| refuse_text(format!("{k}: a number")));
            let out = match step.as_str() {
                "new" => {
                    let year = get("year").parse::<i32>().map_err(|_| refuse_text("year: a number"))?;
                    r.create_budget(&get("team"), year, &get("title"), now).map_err(refuse)?.to_string()
                }
                "line" => {
                    let id = parse_id(&id)?;
                    let (item, month, amount) = (expense_item(&get("item"))?, number("month")?, yuan(&get("amount"))?);
                    r.set_budget_line(id, item, month, amount, now).map_err(refuse)?;
                    String::new()
                }
                "submit" => r.submit_budget(parse_id(&id)?, now).map_err(refuse)?.to_string(),
                "approve" | "reject" => {
                    let version = number("version")?;
                    r.decide_budget(parse_id(&id)?, version, step == "approve", &get("comment"), now)
                        .map_err(refuse)?;
                    String::new()
                }
                other => return Err(refuse_text(format!("unknown step {other}"))),
            };
            Ok(JsValue::from_str(&out))
        })
    }

    /// An attachment's bytes as this device holds them, or `null` when it holds none (ask
    /// for it with [`Client::want_blob`]): the receipt viewer's image.
    #[wasm_bindgen(js_name = blobBytes)]
    pub fn blob_bytes(&self, hash: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let h = protocol::blob::parse_hex(&hash).ok_or_else(|| refuse_text(format!("{hash}: not a SHA-256")))?;
            Ok(match shared.store.load_blob(&h).await? {
                Some(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
                None => JsValue::NULL,
            })
        })
    }

    /// Fetch an attachment (on the next sync if it is not here): its state,
    /// `{state, reason}`.
    #[wasm_bindgen(js_name = wantBlob)]
    pub fn want_blob(&self, hash: String) -> Result<String, JsValue> {
        let h = protocol::blob::parse_hex(&hash).ok_or_else(|| refuse_text(format!("{hash}: not a SHA-256")))?;
        let state = self.shared.core.borrow_mut().replica.want_blob(h);
        self.shared.mailbox.post(Ev::Local);
        Ok(serde_json::to_string(&state).unwrap_or_default())
    }

    /// Every contract held, with its status (and legal's queue flag).
    #[wasm_bindgen(js_name = contractOverview)]
    pub fn contract_overview(&self, lang: String) -> String {
        let lang = parse_lang(&lang);
        let core = self.shared.core.borrow();
        let r = &core.replica;
        let queue: HashSet<DocId> = r.legal_queue().iter().map(|v| v.contract.id).collect();
        let all: Vec<Value> = r
            .contracts()
            .into_iter()
            .filter_map(|c| r.contract_view(c.id).ok())
            .map(|v| {
                json!({
                    "id": v.contract.id.to_string(),
                    "title": v.contract.title,
                    "status": v.lifecycle.status.as_str(),
                    "status_label": v.lifecycle.status.label(lang),
                    "open_comments": v.lifecycle.open_comments,
                    "locked": v.locked,
                    "in_queue": queue.contains(&v.contract.id),
                    "fulfilment": v.fulfilment.as_str(),
                    "fulfilment_label": v.fulfilment.label(lang),
                })
            })
            .collect();
        // What a draft can start from: the orders held and legal's clause templates.
        let may_draft =
            r.principal().is_some_and(|p| DocKind::Contract.spec().create.iter().any(|(role, _)| *role == p.role));
        let pick = |kind: DocKind| -> Vec<Value> {
            if !may_draft {
                return Vec::new();
            }
            r.records(kind)
                .iter()
                .map(|x| json!({"id": x.id.to_string(), "title": kind_views::record_title(r, x, lang)}))
                .collect()
        };
        json!({ "contracts": all, "orders": pick(DocKind::Order), "templates": pick(DocKind::ClauseTemplate) })
            .to_string()
    }

    /// One contract: its view (clauses, comments, versions, lock) with labels.
    #[wasm_bindgen(js_name = contractDetail)]
    pub fn contract_detail(&self, id: String, lang: String) -> Result<String, JsValue> {
        let lang = parse_lang(&lang);
        let id = parse_id(&id)?;
        let core = self.shared.core.borrow();
        let r = &core.replica;
        let v = r.contract_view(id).map_err(|e| refuse(&e, Some(DocKind::Contract), lang))?;
        let mut j = serde_json::to_value(&v).unwrap_or_default();
        j["status_label"] = json!(v.lifecycle.status.label(lang));
        j["fulfilment_label"] = json!(v.fulfilment.label(lang));
        // What the last version submitted changed against the one before (or, with one
        // version, what the clauses changed since it).
        let versions = &v.lifecycle.versions;
        let (from, to, label) = match versions.as_slice() {
            [.., a, b] => (a.text.as_str(), b.text.as_str(), format!("v{} → v{}", a.number, b.number)),
            [a] if a.text != v.contract.clauses => {
                (a.text.as_str(), v.contract.clauses.as_str(), format!("v{} → *", a.number))
            }
            _ => ("", "", String::new()),
        };
        if !label.is_empty() {
            let lines: Vec<Value> = protocol::schema::contract::diff(from, to)
                .into_iter()
                .map(|(c, l)| json!([c.to_string(), l]))
                .collect();
            j["diff"] = json!({ "label": label, "lines": lines });
        }
        // Legal's clause templates, to insert into a draft.
        if v.may_edit {
            let templates: Vec<Value> = r
                .records(DocKind::ClauseTemplate)
                .iter()
                .map(|t| json!({"id": t.id.to_string(), "name": t.str("name"), "body": t.str("body")}))
                .collect();
            j["templates"] = json!(templates);
        }
        Ok(j.to_string())
    }

    /// The contract inventory (盘点): `{inventories: [{id, title}], rows: [InventoryRow +
    /// checked_label, checked_at] | null}` — `id` (an inventory, or empty for the newest):
    /// every archived contract with its scan on file or not and what this inventory found.
    #[wasm_bindgen(js_name = contractInventory)]
    pub fn contract_inventory(&self, id: String, lang: String) -> Result<String, JsValue> {
        let lang = parse_lang(&lang);
        let core = self.shared.core.borrow();
        let r = &core.replica;
        let mut all = r.records(DocKind::ContractInventory);
        all.sort_by_key(|x| std::cmp::Reverse(x.int("created_at").unwrap_or(0)));
        let list: Vec<Value> = all
            .iter()
            .map(|x| json!({"id": x.id.to_string(), "title": kind_views::record_title(r, x, lang)}))
            .collect();
        let chosen = if id.trim().is_empty() { all.first().map(|x| x.id) } else { Some(parse_id(&id)?) };
        let rows = match chosen {
            Some(inv) => {
                let rows = r.inventory_view(inv).map_err(|e| refuse(&e, Some(DocKind::ContractInventory), lang))?;
                json!(
                    rows.iter()
                        .map(|row| {
                            let mut j = serde_json::to_value(row).unwrap_or_default();
                            j["checked_label"] =
                                json!(row.checked.as_ref().map(|(s, by, _)| format!("{} · {by}", s.label(lang))));
                            j["checked_at"] =
                                json!(row.checked.as_ref().map(|(_, _, at)| protocol::time::display_local(*at)));
                            j
                        })
                        .collect::<Vec<_>>()
                )
            }
            None => Value::Null,
        };
        Ok(json!({"inventories": list, "inventory": chosen.map(|c| c.to_string()), "rows": rows}).to_string())
    }

    /// An inventory's step: `start` (`{period}` → its id), `check` (`{inventory, contract,
    /// scan: present|missing, note}`).
    #[wasm_bindgen(js_name = inventoryStep)]
    pub fn inventory_step(&self, step: String, input: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        self.edit_raw(self.require_user(), move |core| {
            let v: HashMap<String, String> = serde_json::from_str(&input).map_err(refuse_text)?;
            let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
            let r = &mut core.replica;
            let refuse = |e: CoreError| refuse(&e, Some(DocKind::ContractInventory), lang);
            let out = match step.as_str() {
                "start" => r.start_inventory(&get("period"), now as i64).map_err(refuse)?.to_string(),
                "check" => {
                    let scan: protocol::schema::ScanCheck = get("scan").parse().map_err(refuse_text)?;
                    let (inv, contract) = (parse_id(&get("inventory"))?, parse_id(&get("contract"))?);
                    r.check_inventory(inv, contract, scan, &get("note"), now as i64).map_err(refuse)?;
                    String::new()
                }
                other => return Err(refuse_text(format!("unknown step {other}"))),
            };
            Ok(JsValue::from_str(&out))
        })
    }

    /// Draft a contract for an order (its customer, lines and delivery; the clauses from
    /// legal's template `template` when not empty) → the contract's id. All or nothing.
    #[wasm_bindgen(js_name = draftContract)]
    pub fn draft_contract(&self, order: String, title: String, template: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        self.edit_raw(self.require_user(), move |core| {
            let order = parse_id(&order)?;
            let template = if template.trim().is_empty() { None } else { Some(parse_id(&template)?) };
            let id = core
                .replica
                .draft_contract(order, title.trim(), template, now as i64)
                .map_err(|e| refuse(&e, Some(DocKind::Contract), lang))?;
            Ok(id.to_string())
        })
    }

    /// A step of a contract: `submit`, `review`, `comment` (`{clause, text}`), `resolve`
    /// (`{comment, note}`), `changes` (`{note}`), `approve`, `sign` (`{note}`), `clauses`
    /// (`{text}`: the new clause text, merged into the shared text).
    #[wasm_bindgen(js_name = contractStep)]
    pub fn contract_step(&self, id: String, step: String, input: String, now: f64, lang: String) -> Promise {
        let lang = parse_lang(&lang);
        self.edit_raw(self.require_user(), move |core| {
            let id = parse_id(&id)?;
            let v = step_inputs(&input)?;
            let get = |k: &str| v.get(k).cloned().unwrap_or_default();
            let now = now as i64;
            let r = &mut core.replica;
            let done = match step.as_str() {
                "submit" => r.submit_contract(id, now),
                "review" => r.start_review(id, now),
                "comment" => r.comment_clause(id, &get("clause"), &get("text"), now),
                "resolve" => r.resolve_comment(id, &get("comment"), &get("note"), now),
                "changes" => r.request_changes(id, &get("note"), now),
                "approve" => r.approve_contract(id, now),
                "sign" => r.sign_contract(id, &get("note"), now),
                "clauses" => r.edit(id, &[("clauses", get("text").as_str())], now),
                other => return Err(refuse_text(format!("unknown step {other}"))),
            };
            done.map_err(|e| refuse(&e, Some(DocKind::Contract), lang))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
