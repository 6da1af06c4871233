use protocol::schema::SchemaError;
use protocol::{DocId, DocKind};

/// Errors of the domain API. A failed edit changes nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CoreError {
    #[error("no {kind} with id {id}")]
    NotFound { kind: DocKind, id: String },
    #[error("{id} is a {found}, not a {expected}")]
    WrongKind { id: DocId, expected: DocKind, found: DocKind },
    #[error("'{0}' is not a valid id")]
    BadId(String),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("not allowed: {message} (rule {rule})")]
    NotAllowed { field: String, rule: String, message: String },
    #[error("stored document {id} cannot be loaded: {reason}")]
    Corrupt { id: DocId, reason: String },
}
