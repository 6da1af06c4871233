//! A device profile: one directory with one SQLite file, opened by every `jiuloop` command.

use crate::sqlite_store::{SqliteStore, StoreError};
use automerge::ActorId;
use client_core::{CoreError, LocalStore, Replica};
use std::path::{Path, PathBuf};
use uuid::Uuid;

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
        let mut replica = store.load_all()?.into_replica(actor, user.clone())?;
        // Attachments waiting to be uploaded are sent from memory.
        for hash in replica.pending_blobs_to_restore() {
            if let Some(bytes) = store.load_blob(&hash)? {
                replica.restore_blob(hash, bytes);
            }
        }
        if let Some(cap) = store.meta("blob_cap_bytes")?.and_then(|c| c.parse().ok()) {
            replica.set_blob_cap(cap);
        }
        if let Some(role) = store.meta("role")?.and_then(|r| r.parse::<protocol::Role>().ok()) {
            let territories: Vec<String> =
                store.meta("territories")?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_else(|| {
                    store.meta("territory").ok().flatten().into_iter().filter(|t| !t.is_empty()).collect()
                });
            replica.set_principal(protocol::rules::Principal { user, role, territories });
        }
        Ok(Profile { dir: dir.to_path_buf(), store, device_id, replica })
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

    /// Make every pending store op of the replica durable (one transaction).
    pub fn persist(&mut self) -> Result<(), ProfileError> {
        let ops = self.replica.take_store_ops();
        Ok(self.store.apply(&ops)?)
    }
}
