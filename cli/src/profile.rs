//! A device profile: one directory with one SQLite file, opened by every `jiuloop` command.
//!
//! Opening reads no document: the replica is lazy ([`Replica::lazy`]) over the profile's
//! SQLite file, list views read the index (`doc_index`), a command that reads or edits one
//! document loads it and what it refers to ([`Profile::load_doc`]), and a command that
//! reads across documents loads them all first ([`Profile::load_all_docs`]).

use crate::doc_index::ListedRow;
use crate::sqlite_store::{INDEX_VERSION, ORDERS_STALE, SqliteStore, StoreError};
use automerge::ActorId;
use client_core::{CoreError, IndexEntry, LocalStore, Replica, StoreOp};
use protocol::{DocId, DocKind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Order rows rewritten per transaction when every order's row is stale.
const REFRESH_PIECE: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("cannot create profile directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("not logged in: run `jiuloop login --server URL --user NAME` first")]
    NotLoggedIn,
    #[error("the company CA remembered in this profile: {0}")]
    Ca(#[from] crate::tls::TlsSetupError),
}

/// The profile meta key holding the company CA's PEM text.
const CA_KEY: &str = "server_ca_pem";

pub struct Profile {
    dir: PathBuf,
    store: SqliteStore,
    device_id: Uuid,
    pub replica: Replica,
    /// Every document is in memory ([`Profile::load_all_docs`]).
    all_loaded: bool,
    /// A sync runs: documents stored are evicted from memory, stale order rows are
    /// refreshed when it ends.
    syncing: bool,
}

impl Profile {
    /// Open (or create) the profile in `dir`. A new profile gets a device id and an
    /// Automerge actor id of its own.
    pub fn open(dir: &Path) -> Result<Self, ProfileError> {
        std::fs::create_dir_all(dir).map_err(|e| ProfileError::Dir(dir.to_path_buf(), e))?;
        let mut store = SqliteStore::open(&dir.join("jiuloop.db"))?;
        let device_id = match store.meta("device_id")?.and_then(|s| s.parse::<Uuid>().ok()) {
            Some(id) => id,
            None => {
                let id = Uuid::new_v4();
                store.set_meta("device_id", &id.to_string())?;
                id
            }
        };
        let actor = match store.meta("actor")?.and_then(|s| ActorId::try_from(s.as_str()).ok()) {
            Some(a) => a,
            None => {
                let a = ActorId::from(Uuid::new_v4().as_bytes());
                store.set_meta("actor", &a.to_hex_string())?;
                a
            }
        };
        let user = store.meta("user")?.unwrap_or_default();
        let principal = match store.meta("role")?.and_then(|r| r.parse::<protocol::Role>().ok()) {
            Some(role) => {
                let territories: Vec<String> =
                    store.meta("territories")?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_else(|| {
                        store.meta("territory").ok().flatten().into_iter().filter(|t| !t.is_empty()).collect()
                    });
                Some(protocol::rules::Principal { user: user.clone(), role, territories })
            }
            None => None,
        };
        if store.meta("index_version")?.as_deref() != Some(INDEX_VERSION) {
            // A profile written before the index (or by another version of it): build it
            // once from the documents.
            let mut all = store.load_all()?.into_replica(actor.clone(), user.clone())?;
            if let Some(p) = &principal {
                all.set_principal(p.clone());
            }
            let ids: Vec<DocId> = all.loaded_doc_ids();
            let entries: Vec<IndexEntry> = ids.into_iter().map(|id| all.index_entry(id)).collect();
            store.rebuild_index(&entries)?;
        }
        let state = store.load_state_without_docs()?;
        let source = store.source()?;
        let mut replica =
            Replica::lazy(actor, user.clone(), state.cursor, state.inbox, Box::new(source), store.not_in_sync()?);
        replica.set_blobs(state.blobs);
        // Attachments waiting to be uploaded are sent from memory.
        for hash in replica.pending_blobs_to_restore() {
            if let Some(bytes) = store.load_blob(&hash)? {
                replica.restore_blob(hash, bytes);
            }
        }
        if let Some(cap) = store.meta("blob_cap_bytes")?.and_then(|c| c.parse().ok()) {
            replica.set_blob_cap(cap);
        }
        if let Some(p) = principal {
            replica.set_principal(p);
        }
        let mut profile =
            Profile { dir: dir.to_path_buf(), store, device_id, replica, all_loaded: false, syncing: false };
        profile.refresh_stale_orders()?;
        Ok(profile)
    }

    /// Load every document (commands reading across documents: queues, reports, pricing).
    pub fn load_all_docs(&mut self) -> Result<(), ProfileError> {
        if !self.all_loaded {
            let state = self.store.load_all()?;
            let held: Vec<_> = state.docs.into_iter().filter(|d| !self.replica.is_loaded(d.id)).collect();
            self.replica.load_more(&held)?;
            self.all_loaded = true;
        }
        Ok(())
    }

    /// Load every document of a kind (a list that reads them whole).
    pub fn load_kind(&mut self, kind: DocKind) -> Result<(), ProfileError> {
        if !self.all_loaded {
            let docs = self.store.load_kind(kind)?;
            let held: Vec<_> = docs.into_iter().filter(|d| !self.replica.is_loaded(d.id)).collect();
            self.replica.load_more(&held)?;
        }
        Ok(())
    }

    pub fn all_loaded(&self) -> bool {
        self.all_loaded
    }

    /// Load one document and what reading, checking or editing it reads (its parents,
    /// the documents it references, the server's documents about it).
    pub fn load_doc(&mut self, id: DocId) -> Result<(), ProfileError> {
        self.replica.load_context_of(id);
        self.source_ok()
    }

    fn source_ok(&mut self) -> Result<(), ProfileError> {
        match self.replica.take_source_error() {
            Some(e) => Err(ProfileError::Store(StoreError::Corrupt(e))),
            None => Ok(()),
        }
    }

    /// A document by full id or unique prefix (of `kind`, if given), from the index.
    pub fn resolve(&self, text: &str, kind: Option<DocKind>) -> Result<DocId, CoreError> {
        if let Ok(id) = text.parse::<DocId>() {
            return Ok(id);
        }
        let text = text.trim().to_ascii_lowercase();
        if text.len() < 4 || !text.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(CoreError::BadId(text));
        }
        let hits = self.store.ids_with_prefix(&text, kind).unwrap_or_default();
        match hits.as_slice() {
            [(id, _)] => Ok(*id),
            _ => Err(match kind {
                Some(kind) => CoreError::NotFound { kind, id: text },
                None => CoreError::Unknown(text),
            }),
        }
    }

    /// The kind of a document the profile holds (index).
    pub fn kind_of(&self, id: DocId) -> Option<DocKind> {
        self.store.indexed_kind(id).ok().flatten()
    }

    /// The index rows of a kind (what lists show).
    pub fn listed(&self, kind: DocKind) -> Result<Vec<ListedRow>, ProfileError> {
        Ok(self.store.listed(Some(kind), None)?)
    }

    /// One document's index row.
    pub fn listed_one(&self, id: DocId) -> Option<ListedRow> {
        self.store.listed(None, Some(id)).ok()?.pop()
    }

    /// (documents held, documents with changes the server lacks), from the index.
    pub fn counts(&self) -> Result<(u64, u64), ProfileError> {
        Ok(self.store.index_counts()?)
    }

    /// A sync starts or ends: documents stored are dropped from memory meanwhile.
    pub fn set_syncing(&mut self, on: bool) -> Result<(), ProfileError> {
        self.syncing = on;
        if !on {
            self.refresh_stale_orders()?;
        }
        Ok(())
    }

    /// Rewrite every order's row after a document each order's status reads changed (or
    /// the user's role did), in pieces; the mark goes with the last piece, so a crash
    /// leaves it for the next open.
    fn refresh_stale_orders(&mut self) -> Result<(), ProfileError> {
        if self.store.meta(ORDERS_STALE)?.is_none() {
            return Ok(());
        }
        let ids = self.store.ids_of_kind(DocKind::Order)?;
        let pieces: Vec<&[DocId]> = ids.chunks(REFRESH_PIECE).collect();
        if pieces.is_empty() {
            self.store.refresh_orders(&[], true)?;
        }
        for (n, piece) in pieces.iter().enumerate() {
            let entries: Vec<IndexEntry> = piece.iter().map(|id| self.replica.index_entry(*id)).collect();
            self.source_ok()?;
            self.store.refresh_orders(&entries, n + 1 == pieces.len())?;
            if self.syncing || !self.all_loaded {
                self.replica.evict_synced();
            }
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, ProfileError> {
        Ok(self.store.meta(key)?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), ProfileError> {
        Ok(self.store.set_meta(key, value)?)
    }

    /// The server URL and token of the current login.
    pub fn login(&self) -> Result<(String, String), ProfileError> {
        match (self.store.meta("server")?, self.store.meta("token")?) {
            (Some(s), Some(t)) => Ok((s, t)),
            _ => Err(ProfileError::NotLoggedIn),
        }
    }

    /// The TLS config for this profile's server: the system's roots and the company CA
    /// given at login (`login --ca FILE`), if any.
    pub fn tls_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, ProfileError> {
        let ca = self.store.meta(CA_KEY)?;
        Ok(crate::tls::client_config(ca.as_deref())?)
    }

    /// Remember (or, `None`, forget) the company CA's PEM text.
    pub fn set_ca(&self, pem: Option<&str>) -> Result<(), ProfileError> {
        match pem {
            Some(pem) => Ok(self.store.set_meta(CA_KEY, pem)?),
            None => Ok(self.store.delete_meta(CA_KEY)?),
        }
    }

    /// Edits need a user to attribute them to.
    pub fn require_user(&self) -> Result<(), ProfileError> {
        if self.replica.user().is_empty() { Err(ProfileError::NotLoggedIn) } else { Ok(()) }
    }

    /// The user's sales territory, as the server said at login (new customers get it).
    pub fn territory(&self) -> Result<Option<String>, ProfileError> {
        Ok(self.store.meta("territory")?.filter(|t| !t.is_empty()))
    }

    pub fn save_login(&mut self, server: &str, user: &str, token: &str, expires_at: &str) -> Result<(), ProfileError> {
        for (k, v) in [("server", server), ("user", user), ("token", token), ("token_expires_at", expires_at)] {
            self.store.set_meta(k, v)?;
        }
        Ok(())
    }

    /// Forget the token (local data stays).
    pub fn forget_token(&mut self) -> Result<(), ProfileError> {
        self.store.delete_meta("token")?;
        Ok(self.store.delete_meta("token_expires_at")?)
    }

    /// An attachment's bytes, as stored in the profile.
    pub fn blob_bytes(&mut self, hash: &protocol::blob::BlobHash) -> Result<Option<Vec<u8>>, ProfileError> {
        Ok(self.store.load_blob(hash)?)
    }

    /// Make every pending store op of the replica durable, with the index rows they
    /// change (one transaction). While syncing, the documents stored are then dropped
    /// from memory.
    pub fn persist(&mut self) -> Result<(), ProfileError> {
        let ops = self.replica.take_store_ops();
        if ops.is_empty() {
            return Ok(());
        }
        let touched: BTreeSet<DocId> = ops
            .iter()
            .filter_map(|op| match op {
                StoreOp::AppendChunk { id, .. }
                | StoreOp::Compact { id, .. }
                | StoreOp::SetServerHeads { id, .. }
                | StoreOp::DeleteDoc { id } => Some(*id),
                _ => None,
            })
            .collect();
        let (entries, stale) = self.replica.index_entries(&touched);
        let failed = self.replica.take_source_error();
        self.store.apply_indexed(&ops, &entries, stale || failed.is_some())?;
        if let Some(e) = failed {
            // The rows may miss what could not be loaded: rebuild the index on next open.
            self.store.delete_meta("index_version")?;
            return Err(ProfileError::Store(StoreError::Corrupt(e)));
        }
        if self.syncing {
            // Every document loaded (JIULOOP_EAGER=1) keeps them all, as before.
            if !self.all_loaded {
                self.replica.evict_synced();
            }
        } else {
            self.refresh_stale_orders()?;
        }
        Ok(())
    }

    /// Every order's row is stale (the user's role changed at login: it decides pricing).
    pub fn mark_orders_stale(&self) -> Result<(), ProfileError> {
        Ok(self.store.set_meta(ORDERS_STALE, "1")?)
    }
}
