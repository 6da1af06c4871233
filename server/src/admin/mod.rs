//! Admin commands given on the command line while the server runs (`user disable`,
//! `device revoke`, `customer reassign`, `policy import`). The command-line process writes
//! what it can itself (disabling a user rejects their tokens at once) and queues a command in the
//! `admin_commands` table; the running server's hub picks it up within
//! [`crate::sync::hub_runner::TICK`] and carries it out (closing open connections, moving a
//! customer and telling every connected device). When no server runs on the data
//! directory, the command-line process runs the hub's code itself.

pub mod audit;
pub mod instance_lock;

use crate::server_stats::ServerStats;
use crate::storage::{Database, DbError};
use crate::sync::hub::{Hub, HubSettings};
use protocol::DocId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Who the audit trail names for changes made by admin commands (not a possible user name:
/// user names have no spaces).
pub const ADMIN_AUTHOR: &str = "(server admin)";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum AdminCommand {
    /// The user was disabled: close their open connections.
    CloseUser { user: String },
    /// The device was revoked: close its open connections.
    CloseDevice { device: Uuid },
    /// Move a customer (with its visits and orders) to another territory.
    Reassign { customer: DocId, territory: String, owner: Option<String> },
    /// Publish a price policy version (`policy import`): numbered the file's version or one
    /// above the latest, whichever is higher.
    PublishPolicy { policy: Box<protocol::pricing::Policy> },
    /// A login was ended (`POST /api/logout` on some node of a shared database): every
    /// node closes the connections opened with the token (its SHA-256, never the token).
    CloseToken { token_hash: String },
}

/// What became of a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminOutcome {
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the server has not carried out command {0} within {1:?}; it will when it can")]
    Timeout(i64, Duration),
}

/// Tell every node of a shared database that a login ended, so each closes the
/// connections opened with it (the node that took the logout closes its own at once). On a
/// data directory there is one node and nothing to tell.
pub fn announce_logout(db: &dyn crate::storage::Storage, token_hash: &str) -> Result<(), DbError> {
    if !db.is_shared() {
        return Ok(());
    }
    let json = serde_json::to_string(&AdminCommand::CloseToken { token_hash: token_hash.to_string() })
        .map_err(|e| DbError::corrupt("admin_commands", e.to_string()))?;
    db.enqueue_admin_command(&json, crate::identity::accounts::now_ms())?;
    Ok(())
}

/// Queue `command` for the server running on `database` and wait for its outcome; when no
/// server runs there, carry it out in this process. (A server runs on a data directory
/// while it holds its lock file; on a shared database while some node leads.)
pub fn submit(database: &Database, command: &AdminCommand, wait: Duration) -> Result<AdminOutcome, AdminError> {
    let db = database.open()?;
    let json = serde_json::to_string(command).map_err(|e| DbError::corrupt("admin_commands", e.to_string()))?;
    let id = db.enqueue_admin_command(&json, crate::identity::accounts::now_ms())?;
    let running = match database {
        Database::Sqlite(dir) => instance_lock::is_server_running(dir),
        Database::Postgres(_) => !db.try_lead()?,
    };
    if running {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(row) = db.admin_command(id)?
                && row.done_at.is_some()
            {
                return Ok(AdminOutcome { ok: row.ok.unwrap_or(false), message: row.result.unwrap_or_default() });
            }
            if Instant::now() >= deadline {
                return Err(AdminError::Timeout(id, wait));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    drop(db);
    let settings = HubSettings { cache_docs: 64, compact_after: u64::from(crate::Config::DEFAULT_COMPACT_AFTER) };
    let mut hub = Hub::new(database.open()?, settings, Arc::new(ServerStats::default()))?;
    hub.run_admin_commands(crate::identity::accounts::now_ms());
    let row = hub.db().admin_command(id)?;
    Ok(match row {
        Some(r) if r.done_at.is_some() => {
            AdminOutcome { ok: r.ok.unwrap_or(false), message: r.result.unwrap_or_default() }
        }
        _ => AdminOutcome { ok: false, message: format!("command {id} was not carried out") },
    })
}
