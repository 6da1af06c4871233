//! The browser profile's IndexedDB database: documents as chunks, per-document server
//! heads, the cursor and other settings, the refused-edits inbox and the device's actor
//! ids. The counterpart of `cli/src/sqlite_store.rs`; only this module knows IndexedDB.
//!
//! Object stores (all written with blind adds, puts and deletes, so one batch of store ops
//! is one transaction with no reads in it):
//!
//! | store    | key                 | value                                  |
//! |----------|---------------------|----------------------------------------|
//! | `meta`   | name                | string (device id, login, cursor, …)   |
//! | `docs`   | document id         | kind code                              |
//! | `heads`  | document id         | server heads, concatenated 32-byte hashes |
//! | `chunks` | `[kind, id, seq]`   | Automerge bytes (snapshot or changes)  |
//! | `inbox`  | auto-increment      | refused edit (JSON)                    |
//! | `actors` | actor id (hex)      | `new`, or `registered` with the server  |
//! | `blob_meta` | attachment hash (hex) | `mime size at` (text)                |
//! | `blob_bytes` | attachment hash (hex) | its bytes                           |
//! | `blob_pending` | attachment hash (hex) | present while it waits to be uploaded |
//!
//! Several tabs write the same database. A chunk's `seq` grows with time, so chunks load
//! in the order they were written; two tabs may pick the same seq for one document in the
//! same millisecond, so chunks are added (not put) and a batch that collides is retried
//! with later seqs instead of overwriting the other tab's chunk. Compaction deletes only the chunk keys this tab has
//! read, written or merged from another tab's broadcast (as the SQLite store deletes only
//! the rows it knows), so a chunk another tab appended meanwhile is never lost.
//!
//! The store keeps the `client_core::LocalStore` contract through its async API
//! ([`IdbStore::apply`], [`IdbStore::load`], [`IdbStore::load_doc`]);
//! `wasm-client/tests/in_browser.rs` runs the shared suite (`client_core::store_contract`)
//! on it in headless Chromium.

use crate::js::err;
use client_core::{BlobMeta, InboxItem, StoreOp, StoredDoc, StoredState};
use js_sys::{Array, Promise, Uint8Array};
use protocol::wire::Hash;
use protocol::{DocId, DocKind};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbRequestReadyState, IdbTransaction, IdbTransactionMode,
};

const VERSION: u32 = 2;
const STORES: [&str; 9] =
    ["meta", "docs", "heads", "chunks", "inbox", "actors", "blob_meta", "blob_bytes", "blob_pending"];
const WRITE_STORES: [&str; 8] = ["meta", "docs", "heads", "chunks", "inbox", "blob_meta", "blob_bytes", "blob_pending"];
const ACTOR_NEW: &str = "new";
const ACTOR_REGISTERED: &str = "registered";

/// Everything a tab loads at start (like `Profile::open`).
pub struct Loaded {
    pub docs: Vec<StoredDoc>,
    pub meta: HashMap<String, String>,
    pub inbox: Vec<InboxItem>,
    pub actors: Vec<String>,
    pub blobs: Vec<BlobMeta>,
}

impl Loaded {
    /// The sync cursor stored (0 if none).
    pub fn cursor(&self) -> u64 {
        self.meta.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    /// What the `LocalStore` contract loads: documents, cursor, inbox.
    pub fn state(&self) -> StoredState {
        StoredState {
            docs: self.docs.clone(),
            cursor: self.cursor(),
            inbox: self.inbox.clone(),
            blobs: self.blobs.clone(),
        }
    }
}

pub struct IdbStore {
    name: String,
    db: IdbDatabase,
    /// Chunk seqs per document that this tab knows of (may delete when compacting).
    known: RefCell<HashMap<DocId, Vec<f64>>>,
    last_seq: Cell<f64>,
    /// Tests: fail the next batch after this many of its ops.
    fail_after: Cell<Option<usize>>,
}

fn factory() -> Result<IdbFactory, JsValue> {
    let f = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())?;
    if f.is_undefined() || f.is_null() {
        return Err(err("this browser has no IndexedDB (private mode?): local data cannot be stored"));
    }
    Ok(f.unchecked_into())
}

/// Resolve on the request's success with its result, reject with its error. Requests may
/// be awaited in any order: one that finished before it is awaited answers at once.
async fn request(req: &IdbRequest) -> Result<JsValue, JsValue> {
    if req.ready_state() == IdbRequestReadyState::Done {
        if let Some(e) = req.error().ok().flatten() {
            return Err(e.into());
        }
        return req.result();
    }
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let (resolve, reject) = settle.expect("promise executor runs at once");
    let ok = Closure::<dyn FnMut(Event)>::new(move |_| {
        let _ = resolve.call0(&JsValue::NULL);
    });
    let r = req.clone();
    let bad = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        e.prevent_default();
        let error = r.error().ok().flatten().map(JsValue::from).unwrap_or_else(|| err("IndexedDB request failed"));
        let _ = reject.call1(&JsValue::NULL, &error);
    });
    req.set_onsuccess(Some(ok.as_ref().unchecked_ref()));
    req.set_onerror(Some(bad.as_ref().unchecked_ref()));
    let outcome = JsFuture::from(promise).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    outcome?;
    req.result()
}

/// Resolve when the transaction commits; reject if it aborts.
async fn committed(tx: &IdbTransaction) -> Result<(), JsValue> {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let (resolve, reject) = settle.expect("promise executor runs at once");
    let ok = Closure::<dyn FnMut(Event)>::new(move |_| {
        let _ = resolve.call0(&JsValue::NULL);
    });
    let t = tx.clone();
    let bad = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        let error =
            t.error().map(JsValue::from).unwrap_or_else(|| err("IndexedDB transaction aborted (storage full?)"));
        let _ = reject.call1(&JsValue::NULL, &error);
    });
    tx.set_oncomplete(Some(ok.as_ref().unchecked_ref()));
    tx.set_onabort(Some(bad.as_ref().unchecked_ref()));
    let outcome = JsFuture::from(promise).await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    outcome.map(|_| ())
}

/// `[kind, document id, seq]`: a kind's chunks read as one range (the first screen's
/// documents first), a document's as a sub-range, in the order they were written.
fn chunk_key(kind: DocKind, id: &str, seq: f64) -> JsValue {
    Array::of3(&JsValue::from_f64(kind.code() as f64), &id.into(), &seq.into()).into()
}

fn doc_range(kind: DocKind, id: &str) -> Result<IdbKeyRange, JsValue> {
    IdbKeyRange::bound(&chunk_key(kind, id, f64::NEG_INFINITY), &chunk_key(kind, id, f64::INFINITY))
}

fn kind_range(kind: DocKind) -> Result<IdbKeyRange, JsValue> {
    let code = kind.code() as f64;
    let (lo, hi) = (Array::of1(&code.into()), Array::of1(&(code + 1.0).into()));
    IdbKeyRange::bound_with_lower_open_and_upper_open(&lo, &hi, false, true)
}

fn parse_id(v: &JsValue) -> Result<DocId, JsValue> {
    v.as_string().and_then(|s| s.parse().ok()).ok_or_else(|| err("local database is damaged: bad document id"))
}

fn split_heads(bytes: &[u8]) -> Result<Vec<Hash>, JsValue> {
    if !bytes.len().is_multiple_of(32) {
        return Err(err("local database is damaged: bad heads"));
    }
    Ok(bytes.chunks(32).map(|c| c.try_into().expect("32 bytes")).collect())
}

/// What one batch wrote: per op the seq of its chunk; chunk keys added; documents whose
/// known chunks it deleted.
struct Written {
    seqs: Vec<Option<f64>>,
    added: Vec<(DocId, f64)>,
    dropped: Vec<DocId>,
}

fn is_constraint_error(e: &JsValue) -> bool {
    e.dyn_ref::<web_sys::DomException>().is_some_and(|d| d.name() == "ConstraintError")
}

/// Reads of documents issued in one transaction, turned into [`StoredDoc`]s by `finish`.
struct DocReads {
    kinds: Vec<DocKind>,
    docs: (IdbRequest, IdbRequest),
    heads: (IdbRequest, IdbRequest),
    chunks: Vec<(IdbRequest, IdbRequest)>,
}

impl DocReads {
    async fn finish(self, store: &IdbStore) -> Result<Vec<StoredDoc>, JsValue> {
        let doc_k = Array::from(&request(&self.docs.0).await?);
        let doc_v = Array::from(&request(&self.docs.1).await?);
        let mut docs: HashMap<DocId, StoredDoc> = HashMap::new();
        for (k, v) in doc_k.iter().zip(doc_v.iter()) {
            let code = v.as_f64().unwrap_or(-1.0) as i64;
            let kind =
                DocKind::from_code(code).ok_or_else(|| err(format!("local database is damaged: kind {code}")))?;
            if self.kinds.contains(&kind) {
                let id = parse_id(&k)?;
                docs.insert(id, StoredDoc { id, kind, chunks: Vec::new(), server_heads: Vec::new() });
            }
        }
        let head_k = Array::from(&request(&self.heads.0).await?);
        let head_v = Array::from(&request(&self.heads.1).await?);
        for (k, v) in head_k.iter().zip(head_v.iter()) {
            let id = parse_id(&k)?;
            if let Some(d) = docs.get_mut(&id) {
                d.server_heads = split_heads(&v.unchecked_into::<Uint8Array>().to_vec())?;
            }
        }
        let mut known: HashMap<DocId, Vec<f64>> = HashMap::new();
        let mut max_seq = 0f64;
        for (keys, vals) in &self.chunks {
            let chunk_k = Array::from(&request(keys).await?);
            let chunk_v = Array::from(&request(vals).await?);
            for (k, v) in chunk_k.iter().zip(chunk_v.iter()) {
                let key = Array::from(&k);
                let id = parse_id(&key.get(1))?;
                let seq = key.get(2).as_f64().unwrap_or(0.0);
                max_seq = max_seq.max(seq);
                let Some(doc) = docs.get_mut(&id) else { continue };
                doc.chunks.push(v.unchecked_into::<Uint8Array>().to_vec());
                known.entry(id).or_default().push(seq);
            }
        }
        {
            let mut all = store.known.borrow_mut();
            for id in docs.keys() {
                all.insert(*id, known.remove(id).unwrap_or_default());
            }
        }
        store.last_seq.set(store.last_seq.get().max(max_seq));
        let mut docs: Vec<StoredDoc> = docs.into_values().collect();
        docs.sort_by_key(|d| d.id);
        Ok(docs)
    }
}

impl IdbStore {
    /// Open (creating if needed) the database `name`.
    pub async fn open(name: &str) -> Result<IdbStore, JsValue> {
        let req: IdbOpenDbRequest = factory()?.open_with_u32(name, VERSION)?;
        let upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new({
            let req = req.clone();
            move |_e| {
                let Ok(db) = req.result().map(|r| r.unchecked_into::<IdbDatabase>()) else { return };
                let existing = db.object_store_names();
                let has = |n: &str| (0..existing.length()).any(|i| existing.get(i).as_deref() == Some(n));
                for store in STORES {
                    if has(store) {
                        continue;
                    }
                    let result = if store == "inbox" {
                        let params = IdbObjectStoreParameters::new();
                        params.set_auto_increment(true);
                        db.create_object_store_with_optional_parameters(store, &params)
                    } else {
                        db.create_object_store(store)
                    };
                    if let Err(e) = result {
                        web_sys::console::error_1(&e);
                    }
                }
            }
        });
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let result = request(&req).await;
        req.set_onupgradeneeded(None);
        let db: IdbDatabase = result?.unchecked_into();
        // Another tab of a newer app version wants to upgrade: let it.
        let close = Closure::<dyn FnMut(Event)>::new({
            let db = db.clone();
            move |_| db.close()
        });
        db.set_onversionchange(Some(close.as_ref().unchecked_ref()));
        close.forget();
        Ok(IdbStore {
            name: name.to_string(),
            db,
            known: RefCell::new(HashMap::new()),
            last_seq: Cell::new(0.0),
            fail_after: Cell::new(None),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Delete a whole database (tests, "remove local data").
    pub async fn delete_database(name: &str) -> Result<(), JsValue> {
        let req = factory()?.delete_database(name)?;
        request(&req).await.map(|_| ())
    }

    pub fn close(&self) {
        self.db.close();
    }

    fn tx(&self, stores: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, JsValue> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        self.db.transaction_with_str_sequence_and_mode(&names, mode)
    }

    /// Everything stored, chunks in the order they were written.
    pub async fn load(&self) -> Result<Loaded, JsValue> {
        self.load_with(DocKind::ALL).await
    }

    /// Settings, inbox, actor ids, and the documents of `kinds` (the others are read
    /// later with [`IdbStore::load_docs`], so a first screen shows sooner).
    pub async fn load_with(&self, kinds: &[DocKind]) -> Result<Loaded, JsValue> {
        let tx = self.tx(&STORES, IdbTransactionMode::Readonly)?;
        let st = |n: &str| tx.object_store(n);
        let reqs = [
            st("meta")?.get_all_keys()?,
            st("meta")?.get_all()?,
            st("inbox")?.get_all()?,
            st("actors")?.get_all_keys()?,
            st("blob_meta")?.get_all_keys()?,
            st("blob_meta")?.get_all()?,
            st("blob_pending")?.get_all_keys()?,
        ];
        let docs = self.read_docs(&tx, kinds)?;
        let mut results = Vec::with_capacity(reqs.len());
        for r in &reqs {
            results.push(Array::from(&request(r).await?));
        }
        let [meta_k, meta_v, inbox_v, actor_k, blob_k, blob_v, pending_k] =
            <[Array; 7]>::try_from(results).expect("seven requests");
        let meta = meta_k
            .iter()
            .zip(meta_v.iter())
            .filter_map(|(k, v)| Some((k.as_string()?, v.as_string()?)))
            .collect::<HashMap<_, _>>();
        let inbox = inbox_v
            .iter()
            .map(|v| {
                let text = v.as_string().unwrap_or_default();
                serde_json::from_str::<InboxItem>(&text).map_err(|e| err(format!("inbox item: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let actors = actor_k.iter().filter_map(|k| k.as_string()).collect();
        let pending: std::collections::HashSet<String> = pending_k.iter().filter_map(|k| k.as_string()).collect();
        let mut blobs = blob_k
            .iter()
            .zip(blob_v.iter())
            .map(|(k, v)| {
                let key = k.as_string().unwrap_or_default();
                let hash = protocol::blob::parse_hex(&key).ok_or_else(|| err("local database is damaged: blob key"))?;
                let text = v.as_string().unwrap_or_default();
                let mut parts = text.split(' ');
                let (mime, size, at) = (parts.next(), parts.next(), parts.next());
                let meta = BlobMeta {
                    hash,
                    mime: mime.unwrap_or_default().to_string(),
                    size: size.and_then(|s| s.parse().ok()).unwrap_or(0),
                    pending: pending.contains(&key),
                    at: at.and_then(|a| a.parse().ok()).unwrap_or(0),
                };
                Ok(meta)
            })
            .collect::<Result<Vec<_>, JsValue>>()?;
        blobs.sort_by_key(|b| b.hash);
        Ok(Loaded { docs: docs.finish(self).await?, meta, inbox, actors, blobs })
    }

    /// The documents of `kinds`, as stored now.
    pub async fn load_docs(&self, kinds: &[DocKind]) -> Result<Vec<StoredDoc>, JsValue> {
        let tx = self.tx(&["docs", "heads", "chunks"], IdbTransactionMode::Readonly)?;
        self.read_docs(&tx, kinds)?.finish(self).await
    }

    /// Issue the reads of the documents of `kinds` in `tx` (all requests at once).
    fn read_docs(&self, tx: &IdbTransaction, kinds: &[DocKind]) -> Result<DocReads, JsValue> {
        let (docs, heads, chunks) = (tx.object_store("docs")?, tx.object_store("heads")?, tx.object_store("chunks")?);
        let mut chunk_reqs = Vec::new();
        for kind in kinds {
            let range = kind_range(*kind)?;
            chunk_reqs.push((chunks.get_all_keys_with_key(&range)?, chunks.get_all_with_key(&range)?));
        }
        Ok(DocReads {
            kinds: kinds.to_vec(),
            docs: (docs.get_all_keys()?, docs.get_all()?),
            heads: (heads.get_all_keys()?, heads.get_all()?),
            chunks: chunk_reqs,
        })
    }

    /// One document as stored now (after another tab compacted it), or None.
    pub async fn load_doc(&self, id: DocId) -> Result<Option<StoredDoc>, JsValue> {
        let key = id.to_string();
        let tx = self.tx(&["docs", "heads", "chunks"], IdbTransactionMode::Readonly)?;
        let kind_req = tx.object_store("docs")?.get(&key.as_str().into())?;
        let heads_req = tx.object_store("heads")?.get(&key.as_str().into())?;
        let chunks = tx.object_store("chunks")?;
        let mut chunk_reqs = Vec::new();
        for &kind in DocKind::ALL {
            let range = doc_range(kind, &key)?;
            chunk_reqs.push((kind, chunks.get_all_keys_with_key(&range)?, chunks.get_all_with_key(&range)?));
        }
        let kind = request(&kind_req).await?;
        let heads = request(&heads_req).await?;
        let Some(kind) = kind.as_f64().and_then(|c| DocKind::from_code(c as i64)) else {
            self.known.borrow_mut().remove(&id);
            return Ok(None);
        };
        let server_heads = if heads.is_undefined() {
            Vec::new()
        } else {
            split_heads(&heads.unchecked_into::<Uint8Array>().to_vec())?
        };
        let (mut seqs, mut bytes) = (Vec::new(), Vec::new());
        for (k, keys_req, vals_req) in chunk_reqs {
            let keys = Array::from(&request(&keys_req).await?);
            let vals = Array::from(&request(&vals_req).await?);
            if k == kind {
                seqs = keys.iter().map(|k| Array::from(&k).get(2).as_f64().unwrap_or(0.0)).collect();
                bytes = vals.iter().map(|v| v.unchecked_into::<Uint8Array>().to_vec()).collect();
            }
        }
        self.known.borrow_mut().insert(id, seqs);
        Ok(Some(StoredDoc { id, kind, chunks: bytes, server_heads }))
    }

    /// An attachment's bytes, or None.
    pub async fn load_blob(&self, hash: &protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, JsValue> {
        let tx = self.tx(&["blob_bytes"], IdbTransactionMode::Readonly)?;
        let req = tx.object_store("blob_bytes")?.get(&protocol::blob::hex(hash).into())?;
        let v = request(&req).await?;
        Ok(v.dyn_into::<Uint8Array>().ok().map(|b| b.to_vec()))
    }

    fn next_seq(&self) -> f64 {
        // Time-ordered across tabs, strictly increasing within this one.
        let seq = (js_sys::Date::now() * 1000.0).max(self.last_seq.get() + 1.0);
        self.last_seq.set(seq);
        seq
    }

    /// Make a batch of store ops durable, all or nothing. Returns, per op, the seq of the
    /// chunk it wrote (for appends and compactions), which other tabs learn.
    pub async fn apply(&self, ops: &[StoreOp]) -> Result<Vec<Option<f64>>, JsValue> {
        let fail_after = self.fail_after.take();
        if ops.is_empty() && fail_after.is_none() {
            return Ok(Vec::new());
        }
        let mut attempts = 0;
        loop {
            let tx = self.tx(&WRITE_STORES, IdbTransactionMode::Readwrite)?;
            let written = match self.write(&tx, ops, fail_after) {
                Ok(w) => w,
                Err(e) => {
                    // Requests issued before the failure would otherwise commit: half a batch.
                    let _ = tx.abort();
                    return Err(e);
                }
            };
            match committed(&tx).await {
                Ok(()) => {
                    let mut known = self.known.borrow_mut();
                    for id in written.dropped {
                        known.remove(&id);
                    }
                    for (id, s) in written.added {
                        known.entry(id).or_default().push(s);
                    }
                    return Ok(written.seqs);
                }
                // Another tab wrote a chunk of the same document with the same seq (in the
                // same millisecond): nothing of this batch was written; again, with later
                // seqs (next_seq has moved past the ones tried).
                Err(e) if attempts < 16 && is_constraint_error(&e) => attempts += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Issue the writes of one batch in `tx`. Chunks are added, never put: a key another
    /// tab took fails the transaction instead of overwriting its chunk.
    fn write(&self, tx: &IdbTransaction, ops: &[StoreOp], fail_after: Option<usize>) -> Result<Written, JsValue> {
        let (meta, docs, heads, chunks, inbox) = (
            tx.object_store("meta")?,
            tx.object_store("docs")?,
            tx.object_store("heads")?,
            tx.object_store("chunks")?,
            tx.object_store("inbox")?,
        );
        let (blob_meta, blob_bytes, blob_pending) =
            (tx.object_store("blob_meta")?, tx.object_store("blob_bytes")?, tx.object_store("blob_pending")?);
        // Chunk keys written or deleted by this batch, applied to `known` once committed.
        let mut w = Written { seqs: Vec::with_capacity(ops.len()), added: Vec::new(), dropped: Vec::new() };
        let Written { seqs, added, dropped } = &mut w;
        for (i, op) in ops.iter().enumerate() {
            if fail_after == Some(i) {
                return Err(err(format!("injected failure after {i} op(s) of the batch")));
            }
            let mut seq = None;
            match op {
                StoreOp::AppendChunk { id, kind, bytes } => {
                    let key = id.to_string();
                    docs.put_with_key(&JsValue::from_f64(kind.code() as f64), &key.as_str().into())?;
                    let s = self.next_seq();
                    chunks.add_with_key(&Uint8Array::from(&bytes[..]), &chunk_key(*kind, &key, s))?;
                    added.push((*id, s));
                    seq = Some(s);
                }
                StoreOp::Compact { id, kind, snapshot } => {
                    let key = id.to_string();
                    docs.put_with_key(&JsValue::from_f64(kind.code() as f64), &key.as_str().into())?;
                    let mut old = if dropped.contains(id) {
                        Vec::new()
                    } else {
                        self.known.borrow().get(id).cloned().unwrap_or_default()
                    };
                    old.extend(added.iter().filter(|(d, _)| d == id).map(|(_, s)| *s));
                    for s in old {
                        chunks.delete(&chunk_key(*kind, &key, s))?;
                    }
                    added.retain(|(d, _)| d != id);
                    dropped.push(*id);
                    let s = self.next_seq();
                    chunks.add_with_key(&Uint8Array::from(&snapshot[..]), &chunk_key(*kind, &key, s))?;
                    added.push((*id, s));
                    seq = Some(s);
                }
                StoreOp::SetServerHeads { id, kind, heads: h } => {
                    let key = id.to_string();
                    docs.put_with_key(&JsValue::from_f64(kind.code() as f64), &key.as_str().into())?;
                    heads.put_with_key(&Uint8Array::from(&h.concat()[..]), &key.as_str().into())?;
                }
                StoreOp::SetCursor(c) => {
                    meta.put_with_key(&c.to_string().into(), &"cursor".into())?;
                }
                StoreOp::AddInbox(item) => {
                    let json = serde_json::to_string(item).map_err(err)?;
                    inbox.add(&json.into())?;
                }
                StoreOp::DeleteDoc { id } => {
                    let key = id.to_string();
                    // The kind is not in the op: clear the document's range of every kind.
                    for &kind in DocKind::ALL {
                        chunks.delete(&doc_range(kind, &key)?.into())?;
                    }
                    docs.delete(&key.as_str().into())?;
                    heads.delete(&key.as_str().into())?;
                    added.retain(|(d, _)| d != id);
                    dropped.push(*id);
                }
                StoreOp::PutBlob { hash, mime, bytes, pending, at } => {
                    let key: JsValue = protocol::blob::hex(hash).into();
                    blob_meta.put_with_key(&format!("{mime} {} {at}", bytes.len()).into(), &key)?;
                    blob_bytes.put_with_key(&Uint8Array::from(&bytes[..]), &key)?;
                    if *pending {
                        blob_pending.put_with_key(&JsValue::from_f64(1.0), &key)?;
                    } else {
                        blob_pending.delete(&key)?;
                    }
                }
                StoreOp::BlobUploaded { hash } => {
                    blob_pending.delete(&protocol::blob::hex(hash).into())?;
                }
                StoreOp::DeleteBlob { hash } => {
                    let key: JsValue = protocol::blob::hex(hash).into();
                    blob_meta.delete(&key)?;
                    blob_bytes.delete(&key)?;
                    blob_pending.delete(&key)?;
                }
            }
            seqs.push(seq);
        }
        if fail_after.is_some() {
            return Err(err(format!("injected failure after {} op(s) of the batch", ops.len())));
        }
        Ok(w)
    }

    /// Make the next batch fail after `ops` of its ops (tests of atomicity).
    pub fn fail_next_batch_after(&self, ops: usize) {
        self.fail_after.set(Some(ops));
    }

    /// Chunks another tab wrote and this tab merged: they may be compacted away here.
    pub fn learn(&self, id: DocId, seq: f64) {
        self.known.borrow_mut().entry(id).or_default().push(seq);
        self.last_seq.set(self.last_seq.get().max(seq));
    }

    pub fn forget_doc(&self, id: DocId) {
        self.known.borrow_mut().remove(&id);
    }

    /// Set (Some) or delete (None) settings, in one transaction.
    pub async fn set_meta(&self, pairs: &[(&str, Option<&str>)]) -> Result<(), JsValue> {
        let tx = self.tx(&["meta"], IdbTransactionMode::Readwrite)?;
        let meta = tx.object_store("meta")?;
        for (k, v) in pairs {
            match v {
                Some(v) => meta.put_with_key(&JsValue::from_str(v), &JsValue::from_str(k))?,
                None => meta.delete(&JsValue::from_str(k))?,
            };
        }
        committed(&tx).await
    }

    pub async fn meta(&self) -> Result<HashMap<String, String>, JsValue> {
        let tx = self.tx(&["meta"], IdbTransactionMode::Readonly)?;
        let st = tx.object_store("meta")?;
        let (kr, vr) = (st.get_all_keys()?, st.get_all()?);
        let keys = Array::from(&request(&kr).await?);
        let vals = Array::from(&request(&vr).await?);
        Ok(keys.iter().zip(vals.iter()).filter_map(|(k, v)| Some((k.as_string()?, v.as_string()?))).collect())
    }

    /// A new actor id of this profile (not yet registered with the server).
    pub async fn add_actor(&self, hex: &str) -> Result<(), JsValue> {
        let tx = self.tx(&["actors"], IdbTransactionMode::Readwrite)?;
        tx.object_store("actors")?.put_with_key(&ACTOR_NEW.into(), &hex.into())?;
        committed(&tx).await
    }

    /// Every actor id of the profile, with whether the server has registered it (a
    /// registered actor need not be announced again: the server keeps registrations).
    pub async fn actors(&self) -> Result<Vec<(String, bool)>, JsValue> {
        let tx = self.tx(&["actors"], IdbTransactionMode::Readonly)?;
        let store = tx.object_store("actors")?;
        let (kr, vr) = (store.get_all_keys()?, store.get_all()?);
        let keys = Array::from(&request(&kr).await?);
        let vals = Array::from(&request(&vr).await?);
        Ok(keys
            .iter()
            .zip(vals.iter())
            .filter_map(|(k, v)| Some((k.as_string()?, v.as_string().as_deref() == Some(ACTOR_REGISTERED))))
            .collect())
    }

    /// The server accepted a hello announcing these actor ids.
    pub async fn mark_registered(&self, hexes: &[String]) -> Result<(), JsValue> {
        let tx = self.tx(&["actors"], IdbTransactionMode::Readwrite)?;
        let store = tx.object_store("actors")?;
        for hex in hexes {
            store.put_with_key(&ACTOR_REGISTERED.into(), &hex.as_str().into())?;
        }
        committed(&tx).await
    }
}
