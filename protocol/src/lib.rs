//! The contract shared by every jiuloop client and the server: wire messages, ids,
//! error codes, size limits and the Automerge document schemas. No IO happens here.

#[macro_use]
mod vocab;

pub mod blob;
pub mod error_code;
pub mod ids;
pub mod inspect;
pub mod kinds;
pub mod presales;
pub mod pricing;
pub mod role;
pub mod rules;
pub mod schema;
pub mod time;
pub mod wire;

pub use error_code::ErrorCode;
pub use ids::{DocId, DocKind};
pub use role::Role;
pub use wire::{ClientMsg, DocChunk, ServerMsg, WireError};
