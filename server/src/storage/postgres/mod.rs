//! The scale-out storage engine: one PostgreSQL database shared by every server node
//! (`--database postgres://…`). Like `sqlite/`, the only code that knows its SQL; it
//! converts PostgreSQL rows to the storage rows explicitly, one file per row type.
//!
//! How it keeps the storage contract with several nodes writing at once (the decision
//! record is in ARCHITECTURE.md, "Scale-out on PostgreSQL"):
//! - **One writer at a time, cluster-wide.** `begin` takes a transaction-scoped advisory
//!   lock ([`WRITE_LOCK`]) before anything else — PostgreSQL's equivalent of SQLite's
//!   `BEGIN IMMEDIATE`. Write transactions of all nodes are therefore serial, and commit in
//!   the order they took their sequence numbers: a reader that sees number `n` committed
//!   sees every number below it (committed or rolled back), so a cursor never skips a chunk.
//! - **Sequence numbers** come from one counter row (`jiuloop_seq`), incremented inside the
//!   transaction that uses them — rolled back with it, unlike a PostgreSQL `SEQUENCE`.
//! - **A document's bytes** are read in one statement (one snapshot), falling back to the
//!   snapshot when another node compacted the document past the caller's cursor.
//! - **Statements are prepared once** per connection and cached; a lost connection is
//!   re-established on the next call outside a transaction (inside one, the transaction
//!   fails and the caller rolls back, as with any other error).
//!
//! Blocking: `postgres::Client` drives tokio-postgres on a runtime of its own, so these
//! methods are called where blocking is allowed — the hub's thread, `spawn_blocking`,
//! admin commands — like the SQLite engine's.

mod actor_registration;
mod admin_row;
mod audit_row;
mod blob_store;
mod device_row;
mod doc_row;
mod effects_row;
mod migrations;
mod node_row;
mod order_effects_row;
#[doc(hidden)]
pub mod test_cluster;
mod token_row;
mod user_row;

pub use blob_store::PgBlobStore;
pub use migrations::SCHEMA_VERSION;

use super::DbError;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The advisory lock every write transaction holds (an arbitrary constant: "jiuloop").
pub const WRITE_LOCK: i64 = 0x006a_6975_6c6f_6f70;

/// The session advisory lock the leading node holds: the one node that carries out queued
/// admin commands and validators' wake-ups (every node applies what it must locally).
pub const LEAD_LOCK: i64 = 0x006a_6975_6c6f_6f71;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One connection to the shared database.
pub struct PgStorage {
    config: postgres::Config,
    /// Where it points, without the password (for messages and `/health`).
    target: String,
    /// Always `Some` until dropped (see `Drop`).
    client: RefCell<Option<Client>>,
    statements: RefCell<HashMap<&'static str, Statement>>,
    in_tx: Cell<bool>,
    /// Whether this connection holds [`LEAD_LOCK`] (lost with the connection).
    leading: Cell<bool>,
}

impl PgStorage {
    /// Connect to `url` (`postgres://user:password@host:port/database`) and bring the
    /// schema up to date.
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let config: postgres::Config =
            url.parse().map_err(|e| DbError::Open { target: redact(url), reason: format!("{e}") })?;
        let target = redact(url);
        let mut client = open(&config, &target)?;
        migrations::migrate(&mut client).map_err(|e| match e {
            DbError::Backend(reason) => DbError::Open { target: target.clone(), reason },
            other => other,
        })?;
        Ok(PgStorage {
            config,
            target,
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            in_tx: Cell::new(false),
            leading: Cell::new(false),
        })
    }

    /// The database this storage points at (host, port, database; never the password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The connection, re-established first if it was lost outside a transaction.
    fn client(&self) -> Result<std::cell::RefMut<'_, Client>, DbError> {
        let mut client = self.client.borrow_mut();
        if client.as_ref().is_none_or(Client::is_closed) && !self.in_tx.get() {
            tracing::warn!(target = %self.target, "connection to PostgreSQL lost; reconnecting");
            *client = Some(open(&self.config, &self.target)?);
            self.statements.borrow_mut().clear();
            self.leading.set(false);
        }
        std::cell::RefMut::filter_map(client, Option::as_mut)
            .map_err(|_| DbError::Backend("connection to PostgreSQL lost".into()))
    }

    /// `sql` prepared once on this connection.
    fn statement(&self, client: &mut Client, sql: &'static str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql)?;
        self.statements.borrow_mut().insert(sql, s.clone());
        Ok(s)
    }

    pub(crate) fn rows(&self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>, DbError> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        Ok(client.query(&stmt, params)?)
    }

    pub(crate) fn row(&self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>, DbError> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        Ok(client.query_opt(&stmt, params)?)
    }

    /// Rows affected.
    pub(crate) fn exec(&self, sql: &'static str, params: Params<'_>) -> Result<u64, DbError> {
        let mut client = self.client()?;
        let stmt = self.statement(&mut client, sql)?;
        Ok(client.execute(&stmt, params)?)
    }

    /// A statement built at run time (not cached); rows affected.
    pub(crate) fn exec_dynamic(&self, sql: &str, params: Params<'_>) -> Result<u64, DbError> {
        Ok(self.client()?.execute(sql, params)?)
    }

    /// A statement built at run time (not cached).
    pub(crate) fn rows_dynamic(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, DbError> {
        Ok(self.client()?.query(sql, params)?)
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.client()?.batch_execute(sql)?)
    }

    /// Lead if no other node does: true while this connection holds [`LEAD_LOCK`]. A node
    /// that dies (or loses its connection) releases it; another node takes over within a
    /// tick.
    pub fn try_lead(&self) -> Result<bool, DbError> {
        if self.leading.get() && self.client.borrow().as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(true);
        }
        let row = self.row("SELECT pg_try_advisory_lock($1)", &[&LEAD_LOCK])?;
        let lead = row.is_some_and(|r| r.get::<_, bool>(0));
        self.leading.set(lead);
        Ok(lead)
    }

    /// Several servers may share this database.
    pub fn is_shared(&self) -> bool {
        true
    }

    /// Start a write transaction, holding the cluster-wide write lock until it ends.
    pub fn begin(&self) -> Result<(), DbError> {
        self.batch(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"))?;
        self.in_tx.set(true);
        Ok(())
    }

    /// Commit the open transaction. On failure it is rolled back.
    pub fn commit(&self) -> Result<(), DbError> {
        let done = self.batch("COMMIT");
        if done.is_err() {
            self.rollback();
        }
        self.in_tx.set(false);
        done
    }

    /// Roll back the open transaction, if any.
    pub fn rollback(&self) {
        if self.in_tx.replace(false)
            && let Err(e) = self.batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rollback failed");
        }
    }

    pub fn in_transaction(&self) -> bool {
        self.in_tx.get()
    }

    pub fn savepoint(&self, name: &str) -> Result<(), DbError> {
        self.batch(&format!("SAVEPOINT {name}"))
    }

    pub fn release(&self, name: &str) -> Result<(), DbError> {
        self.batch(&format!("RELEASE SAVEPOINT {name}"))
    }

    pub fn rollback_to(&self, name: &str) -> Result<(), DbError> {
        self.batch(&format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"))
    }
}

/// The blocking client closes its connection by running its own runtime, which panics on
/// an async thread (the HTTP routes' state is dropped there at shutdown): close it on a
/// thread of its own then.
impl Drop for PgStorage {
    fn drop(&mut self) {
        let Some(client) = self.client.get_mut().take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

fn open(config: &postgres::Config, target: &str) -> Result<Client, DbError> {
    config.connect(NoTls).map_err(|e| DbError::Open { target: target.to_string(), reason: e.to_string() })
}

/// `url` without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let text = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => e.to_string(),
        };
        match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => DbError::Unique(text),
            Some(c) if *c == SqlState::DISK_FULL || *c == SqlState::INSUFFICIENT_RESOURCES => DbError::Full(text),
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::LOCK_NOT_AVAILABLE =>
            {
                DbError::Busy(text)
            }
            _ if e.is_closed() => DbError::Backend(format!("connection to PostgreSQL lost: {text}")),
            _ => DbError::Backend(text),
        }
    }
}

#[cfg(test)]
mod contract_tests {
    use super::PgStorage;
    use super::test_cluster::TestCluster;
    use crate::storage::Storage;
    use crate::storage::contract::{Factory, storage_contract};
    use std::cell::RefCell;

    /// Fresh databases of the test process's PostgreSQL cluster.
    #[derive(Default)]
    struct Databases(RefCell<Option<String>>);

    impl Factory for Databases {
        fn fresh(&self) -> Box<dyn Storage> {
            let url = TestCluster::shared().fresh_database();
            let db = PgStorage::connect(&url).unwrap_or_else(|e| panic!("{e}\n{}", TestCluster::shared().log()));
            *self.0.borrow_mut() = Some(url);
            Box::new(db)
        }

        fn reopen(&self, old: Box<dyn Storage>) -> Option<Box<dyn Storage>> {
            drop(old);
            let url = self.0.borrow().clone()?;
            Some(Box::new(PgStorage::connect(&url).expect("reconnect")))
        }

        fn another_node(&self) -> Option<Box<dyn Storage>> {
            let url = self.0.borrow().clone()?;
            Some(Box::new(PgStorage::connect(&url).expect("connect a second node")))
        }
    }

    storage_contract!(Databases::default());

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            super::redact("postgres://jl:s3cret@db.example:5432/jiuloop"),
            "postgres://jl@db.example:5432/jiuloop"
        );
        assert_eq!(super::redact("postgres://db/jiuloop"), "postgres://db/jiuloop");
    }
}
