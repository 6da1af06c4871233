use protocol::ErrorCode;
use protocol::wire::Refusal;
use protocol::{DocId, DocKind};
use serde::{Deserialize, Serialize};

/// A refused edit, kept until the user has seen it: never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub doc: DocId,
    pub kind: DocKind,
    pub code: String,
    pub path: String,
    pub rule: String,
    pub message: String,
    /// When the device learned of the refusal (UTC ms).
    pub at: i64,
    /// The refused Automerge changes, kept so nothing is lost.
    #[serde(default)]
    pub changes: Vec<u8>,
}

impl InboxItem {
    pub fn from_refusal(r: &Refusal, at: i64, changes: Vec<u8>) -> Self {
        InboxItem {
            doc: r.id,
            kind: r.kind,
            code: r.code.as_str().to_string(),
            path: r.path.clone(),
            rule: r.rule.clone(),
            message: r.message.clone(),
            at,
            changes,
        }
    }

    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.code)
    }
}
