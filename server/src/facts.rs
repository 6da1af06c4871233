//! What access to a document depends on, as the server stores it next to the document:
//! its territory (a customer's own; a visit's or order's is its customer's, an order
//! verdict's its order's), its parent (the customer of a visit or order, the order of a
//! verdict) and its author.

use automerge::AutoCommit;
use protocol::rules::DocFacts;
use protocol::schema::root_string;
use protocol::{DocId, DocKind};

/// What a document says about itself (a visit's or order's territory is not in it: it is
/// its customer's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnFacts {
    /// Customers only.
    pub territory: Option<String>,
    /// Visits and orders: the customer they belong to; verdicts: their order.
    pub parent: Option<DocId>,
    pub author: Option<String>,
}

pub fn own_facts(kind: DocKind, doc: &AutoCommit) -> OwnFacts {
    if kind == DocKind::Customer {
        return OwnFacts {
            territory: root_string(doc, "territory").map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            parent: None,
            author: root_string(doc, "created_by"),
        };
    }
    // Visits and orders hang off a customer, an order's verdict off the order; the price
    // policy off nothing.
    let parent_key = if kind == DocKind::Verdict { "order" } else { "customer" };
    OwnFacts {
        territory: None,
        parent: root_string(doc, parent_key).and_then(|c| c.parse().ok()),
        author: root_string(doc, if kind == DocKind::Visit { "rep" } else { "created_by" }),
    }
}

/// A document's facts as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFacts {
    pub kind: DocKind,
    pub territory: Option<String>,
    pub parent: Option<DocId>,
    pub author: Option<String>,
}

impl StoredFacts {
    pub fn rules_facts(&self) -> DocFacts {
        DocFacts { kind: self.kind, territory: self.territory.clone(), author: self.author.clone() }
    }

    /// The same document in another territory.
    pub fn in_territory(&self, territory: Option<String>) -> DocFacts {
        DocFacts { kind: self.kind, territory, author: self.author.clone() }
    }
}
