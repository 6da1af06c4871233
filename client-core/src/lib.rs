//! jiuloop client core: everything a device does, with no IO.
//!
//! * [`Replica`] holds the device's documents and offers the typed domain API (customers,
//!   visits, orders). Every edit is committed locally at once and described as
//!   [`StoreOp`]s that the driver persists (SQLite natively, IndexedDB in the browser).
//! * [`SyncEngine`] is the sync protocol as a state machine: the driver tells it that a
//!   connection opened, a frame arrived, the connection dropped, or the user edited; it
//!   answers with frames to send (and leaves store ops in the replica's outbox).
//! * [`LocalStore`] is what every driver's store guarantees when it applies and loads
//!   store ops; [`store_contract`] checks a store against it (one shared suite).
//!
//! Time comes in as an argument (`now`, UTC milliseconds): `Instant::now()` does not exist
//! in the browser, and tests control the clock.

mod aftersales;
mod blobs;
mod contract_workflow;
mod doc_map;
mod doc_source;
mod error;
mod expense_workflow;
pub mod field_plan;
mod inbox_item;
mod index_row;
mod local_doc;
mod local_store;
mod mem_store;
mod order_steps;
mod order_workflow;
mod replica;
mod steps;
pub mod store_contract;
mod store_op;
mod sync_engine;
mod view_memo;

pub use aftersales::{ComplaintView, QualityView};
pub use blobs::{BlobState, DEFAULT_BLOB_CAP};
pub use contract_workflow::{ContractView, InventoryRow};
pub use doc_source::{DocSource, SourceEntry};
pub use error::CoreError;
pub use expense_workflow::{BudgetView, ExpenseView};
pub use inbox_item::InboxItem;
pub use index_row::{IndexEntry, IndexRow, ORDER_CONTEXT_KINDS};
pub use local_store::{InjectedFailure, LocalStore, StoredState};
pub use mem_store::MemStore;
pub use order_steps::{LineRevision, STEPS};
pub use order_workflow::{OrderView, content_hash_of};
pub use replica::Replica;
pub use steps::{LogView, ReportView, TimelineRow};
pub use store_op::{BlobMeta, StoreOp, StoredDoc};
pub use sync_engine::{SyncEngine, SyncError, SyncStats};

pub use protocol;
