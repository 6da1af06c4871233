//! What a device's list views show of one document, kept by the driver in an index beside
//! the documents (the CLI's `doc_index` table) and rewritten in the same transaction as
//! every store op of the document, so that lists and start-up never load the documents.

use crate::replica::Replica;
use protocol::kinds::{IdRule, Placement};
use protocol::schema::order::Order;
use protocol::schema::record::Record;
use protocol::schema::{KIND_KEY, root_string};
use protocol::{DocId, DocKind};
use std::collections::BTreeSet;

/// Kinds every order's status reads (pricing preview, approval rules, contract cover): a
/// lazy replica keeps them in memory, and a change to one makes every order's row stale.
pub const ORDER_CONTEXT_KINDS: &[DocKind] = &[DocKind::Policy, DocKind::ApprovalPolicy, DocKind::Contract];

/// One document's row of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexRow {
    pub id: DocId,
    pub kind: DocKind,
    /// The document its kind's placement names as parent (a visit's customer, a verdict's order).
    pub parent: Option<DocId>,
    /// Its title field as stored (a customer's name), for lookups and references.
    pub title: Option<String>,
    /// The one status views show: an order's lifecycle folded with the approvals the
    /// server's verdict requires (as `order show`); another kind's `status` field.
    pub status: Option<String>,
    pub territory: Option<String>,
    /// The latest change's time (UTC ms; 0 when it has none).
    pub updated: i64,
    /// The device's heads are exactly the server's (nothing to send, nothing lacking).
    pub in_sync: bool,
    /// The server lacks a change this device holds.
    pub unsent: bool,
    pub has_server_heads: bool,
    /// The document read generically (`None` while its first changes have not all arrived).
    pub record: Option<Record>,
    /// An order as `order list` shows it, its status the view's.
    pub order: Option<Order>,
}

/// A document's index entry after a batch: its row, or gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexEntry {
    Row(Box<IndexRow>),
    Gone(DocId),
}

impl Replica {
    /// The index entries to rewrite after store ops touched `touched`: theirs, and those of
    /// the documents whose row reads them (a verdict's order, a customer's orders). Loads
    /// from the source what the rows read. Also says whether a document every order reads
    /// changed ([`ORDER_CONTEXT_KINDS`]: then every order's row is stale).
    pub fn index_entries(&mut self, touched: &BTreeSet<DocId>) -> (Vec<IndexEntry>, bool) {
        let mut ids: BTreeSet<DocId> = touched.clone();
        let mut context_changed = false;
        // The documents in memory by parent, built once when a customer is touched.
        let mut by_parent: Option<std::collections::HashMap<DocId, Vec<DocId>>> = None;
        for &id in touched {
            self.fault_in(id);
            let Some(kind) = self.kind_of(id) else { continue };
            if ORDER_CONTEXT_KINDS.contains(&kind) {
                context_changed = true;
            }
            match kind {
                DocKind::Verdict => ids.extend(self.parent_of(id)),
                DocKind::Customer => {
                    let map = by_parent.get_or_insert_with(|| {
                        let mut map: std::collections::HashMap<DocId, Vec<DocId>> = Default::default();
                        for child in self.loaded_ids() {
                            if let Some(p) = self.parent_of(child) {
                                map.entry(p).or_default().push(child);
                            }
                        }
                        map
                    });
                    ids.extend(map.get(&id).into_iter().flatten().copied());
                    ids.extend(self.source_children(id));
                }
                _ => {}
            }
        }
        let entries = ids.into_iter().map(|id| self.index_entry(id)).collect();
        (entries, context_changed)
    }

    /// One document's entry, loading what its row reads.
    pub fn index_entry(&mut self, id: DocId) -> IndexEntry {
        self.load_context_of(id);
        let Some(kind) = self.kind_of(id) else { return IndexEntry::Gone(id) };
        let (in_sync, unsent, has_server_heads, updated) = {
            let d = self.doc_mut(id).expect("loaded above");
            let heads = d.doc.get_heads();
            let updated = heads
                .iter()
                .filter_map(|h| d.doc.get_change_by_hash(h).map(|c| c.timestamp() * 1000))
                .max()
                .unwrap_or(0);
            (d.in_sync(), d.has_unsent(), !d.server_heads.is_empty(), updated)
        };
        let spec = kind.spec();
        let record = self.record(id).ok();
        let order = (kind == DocKind::Order).then(|| self.order_view(id).ok().map(|v| v.order)).flatten();
        let status = match &order {
            Some(o) => Some(o.status.as_str().to_string()),
            None => record.as_ref().and_then(|r| match r.fields.get("status") {
                Some(protocol::schema::record::FieldValue::Str(s)) => Some(s.clone()),
                _ => None,
            }),
        }
        .filter(|s| !s.is_empty());
        let title = record.as_ref().and_then(|r| spec.title.map(|t| r.display(t, protocol::schema::Lang::Zh)));
        IndexEntry::Row(Box::new(IndexRow {
            id,
            kind,
            parent: self.parent_of(id),
            title: title.filter(|t| !t.is_empty()),
            status,
            territory: self.facts_of(id).and_then(|f| f.territory),
            updated,
            in_sync,
            unsent,
            has_server_heads,
            record,
            order,
        }))
    }

    /// The parent a document's placement names, as held here.
    fn parent_of(&self, id: DocId) -> Option<DocId> {
        let (doc, kind) = self.doc_and_kind(id)?;
        match kind.spec().placement {
            Placement::Parent { field, .. } => root_string(doc, field)?.parse().ok(),
            _ => None,
        }
    }

    /// Load what a document's facts, checks and row read: its parents, the documents its
    /// fields reference, the server-written documents derived from it (a verdict, a
    /// track), and the documents every order reads. A replica without source holds them.
    pub fn load_context_of(&mut self, id: DocId) {
        let mut todo = vec![id];
        let mut seen = BTreeSet::new();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) || seen.len() > 64 {
                continue;
            }
            self.fault_in(id);
            let Some((doc, kind)) = self.doc_and_kind(id) else { continue };
            if root_string(doc, KIND_KEY).as_deref() != Some(kind.spec().name) {
                continue;
            }
            // References: every root field naming a document.
            for f in kind.spec().fields {
                let named = matches!(f.ty, protocol::kinds::FieldType::Ref(_))
                    || matches!(kind.spec().placement, Placement::Parent { field, .. } if field == f.name);
                if named && let Some(r) = root_string(doc, f.name).and_then(|s| s.parse::<DocId>().ok()) {
                    todo.push(r);
                }
            }
            for k in DocKind::ALL {
                if let (IdRule::Derived(derive), Placement::Parent { kind: parent, .. }) =
                    (k.spec().id, k.spec().placement)
                    && parent == kind
                {
                    self.fault_in(derive(id));
                }
            }
            if kind == DocKind::Order {
                self.load_order_context();
            }
        }
    }

    /// Every document of the kinds each order's status reads ([`ORDER_CONTEXT_KINDS`]).
    /// Once per replica: those arriving later stay in memory ([`Replica::evict_synced`]).
    pub fn load_order_context(&mut self) {
        if self.take_order_context_unloaded() {
            for id in self.source_ids_of(ORDER_CONTEXT_KINDS) {
                self.fault_in(id);
            }
        }
    }
}
