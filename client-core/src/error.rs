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
    #[error("there is already a {kind} with id {id}")]
    Exists { kind: DocKind, id: DocId },
    #[error("no record with id {0} here")]
    Unknown(String),
}

impl CoreError {
    /// The field errors of an edit refused for its values (empty for other errors).
    pub fn field_errors(&self) -> &[protocol::kinds::FieldError] {
        match self {
            CoreError::Schema(SchemaError::Fields(e)) => e,
            _ => &[],
        }
    }
}
