//! Document schemas: the field names, types and enumerations of every document kind, and
//! the only code that reads or writes Automerge objects. Client and server both use it.
//!
//! A document is a root map. Scalars are strings and integers; times are Automerge
//! timestamps (UTC milliseconds); money is integer fen; free text that several people
//! edit is an Automerge Text object (merges character-wise); lists of records (contacts,
//! order lines) hold maps with a stable `id`.

mod access;
pub mod complaint;
pub mod complaint_lifecycle;
pub mod contract;
pub mod customer;
mod enums;
pub mod expense;
pub mod order;
pub mod order_lifecycle;
pub mod policy_doc;
pub mod presales_docs;
pub mod quality;
pub mod record;
pub mod sla;
pub mod verdict;
pub mod visit;

pub use access::{
    SchemaError, copy_root_fields, read_receipts, root_keys_written, root_scalar_text, root_string, write_receipts,
};
pub use enums::{
    BudgetEventKind, CareOccasion, Channel, ComplaintCategory, ComplaintChannel, ComplaintEventKind, ComplaintStatus,
    ContractEventKind, ContractStatus, ContractType, CustomerClass, EventKind, ExceptionKind, ExpenseEventKind,
    ExpenseItem, ExpenseStatus, Fulfilment, Intention, Lang, OrderSource, OrderStatus, PaymentMethod, PlanScope,
    QualityEventKind, QualitySource, QualityStatus, ResponsibleParty, RevisitContent, RevisitMethod, ScanCheck,
    Severity, TaskStatus, ToldVia, VisitKind, VisitMethod,
};

/// The root map where the server records when it received each entry of a log ordered by
/// arrival (entry id → UTC ms): written only by the server, it orders those entries
/// everywhere ([`crate::kinds::TimeWindow`]).
pub const RECEIVED_KEY: &str = "received";

/// The root key every document carries with its kind (`customer`, `visit`, `order`). Not `kind`: visits have a field of that name.
pub const KIND_KEY: &str = "doc_kind";
