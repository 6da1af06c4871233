//! What access to a document depends on, as the server stores it next to the document
//! (declared per kind by its placement in the registry): its territory (a customer's own;
//! a child's is its parent's, read from the parent's stored row), its parent, its author
//! (the user of the session that created it — never what the document says) and its
//! assignee.

use automerge::AutoCommit;
use protocol::kinds::Placement;
use protocol::rules::DocFacts;
use protocol::schema::root_string;
use protocol::{DocId, DocKind};

/// What a document says about itself that its facts need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnFacts {
    /// Kinds placed by their own territory field.
    pub territory: Option<String>,
    /// Kinds placed under a parent: the parent they name.
    pub parent: Option<DocId>,
    /// What the document's author field says (used only for rows stored before the server
    /// recorded authors itself).
    pub stated_author: Option<String>,
    pub assignee: Option<String>,
}

pub fn own_facts(kind: DocKind, doc: &AutoCommit) -> OwnFacts {
    let spec = kind.spec();
    let text = |field: &str| root_string(doc, field).map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let (territory, parent) = match spec.placement {
        Placement::Own { territory } => (text(territory), None),
        Placement::Parent { field, .. } => (None, text(field).and_then(|c| c.parse().ok())),
        Placement::Nowhere => (None, None),
    };
    OwnFacts {
        territory,
        parent,
        stated_author: spec.author_field().and_then(|f| text(f.name)),
        assignee: spec.assignee_field().and_then(|f| text(f.name)),
    }
}

/// A document's facts as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFacts {
    pub kind: DocKind,
    pub territory: Option<String>,
    pub parent: Option<DocId>,
    pub author: Option<String>,
    pub assignee: Option<String>,
}

impl StoredFacts {
    pub fn rules_facts(&self) -> DocFacts {
        DocFacts {
            kind: self.kind,
            territory: self.territory.clone(),
            author: self.author.clone(),
            assignee: self.assignee.clone(),
            frozen: false,
        }
    }

    /// As written to the document's row.
    pub fn row(&self) -> crate::storage::DocFactsRow<'_> {
        crate::storage::DocFactsRow {
            territory: self.territory.as_deref(),
            parent: self.parent.as_ref().map(|p| p.as_bytes().as_slice()),
            author: self.author.as_deref(),
            assignee: self.assignee.as_deref(),
        }
    }

    /// The same document in another territory.
    pub fn in_territory(&self, territory: Option<String>) -> DocFacts {
        DocFacts { territory, ..self.rules_facts() }
    }
}
