//! Identifiers: documents are named by UUID and typed by [`DocKind`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The id of one Automerge document (one customer, one visit log, one order …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocId(pub Uuid);

impl DocId {
    pub fn new_random() -> Self {
        DocId(Uuid::new_v4())
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        Uuid::from_slice(b).ok().map(DocId)
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for DocId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(DocId)
    }
}

/// What a document holds. Stored next to every document on client and server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DocKind {
    Customer,
    Visit,
    Order,
    /// The published price policy (one document, [`crate::schema::policy_doc::POLICY_DOC_ID`]).
    Policy,
    /// The server's validation verdict of one order (written only by the server).
    Verdict,
}

impl DocKind {
    pub const ALL: [DocKind; 5] =
        [DocKind::Customer, DocKind::Visit, DocKind::Order, DocKind::Policy, DocKind::Verdict];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Customer => "customer",
            DocKind::Visit => "visit",
            DocKind::Order => "order",
            DocKind::Policy => "policy",
            DocKind::Verdict => "verdict",
        }
    }

    /// Stable small integer used in storage columns.
    pub fn code(self) -> i64 {
        match self {
            DocKind::Customer => 1,
            DocKind::Visit => 2,
            DocKind::Order => 3,
            DocKind::Policy => 4,
            DocKind::Verdict => 5,
        }
    }

    pub fn from_code(c: i64) -> Option<Self> {
        DocKind::ALL.into_iter().find(|k| k.code() == c)
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown document kind '{s}'"))
    }
}
