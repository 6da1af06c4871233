//! The documents a replica holds, each stamped with a revision.
//!
//! Every way to reach a document mutably (`get_mut`, `insert`, `get_or_insert_with`,
//! `retain`) stamps it with a fresh number from the map's clock, and every change of the
//! set of documents of a kind (a document of it stamped, removed) stamps the kind. So a
//! revision is a conservative "may have changed since": a view computed from documents at
//! some revisions is current as long as they still have them ([`crate::view_memo`]). There
//! is no other way to mutate a held document, so no view can go stale by omission.

use crate::local_doc::LocalDoc;
use protocol::{DocId, DocKind};
use std::collections::BTreeMap;

#[derive(Default)]
pub(crate) struct DocMap {
    docs: BTreeMap<DocId, LocalDoc>,
    /// The last revision handed out.
    clock: u64,
    /// Per kind, the revision of its last stamp or removal.
    kinds: BTreeMap<DocKind, u64>,
}

impl DocMap {
    fn tick(&mut self, kind: DocKind) -> u64 {
        self.clock += 1;
        self.kinds.insert(kind, self.clock);
        self.clock
    }

    pub fn contains_key(&self, id: &DocId) -> bool {
        self.docs.contains_key(id)
    }

    pub fn get(&self, id: &DocId) -> Option<&LocalDoc> {
        self.docs.get(id)
    }

    /// The document, stamped: whoever holds the reference may change it.
    pub fn get_mut(&mut self, id: &DocId) -> Option<&mut LocalDoc> {
        let kind = self.docs.get(id)?.kind;
        let rev = self.tick(kind);
        let d = self.docs.get_mut(id)?;
        d.rev = rev;
        Some(d)
    }

    pub fn insert(&mut self, id: DocId, mut doc: LocalDoc) -> Option<LocalDoc> {
        doc.rev = self.tick(doc.kind);
        let old = self.docs.insert(id, doc);
        if let Some(o) = &old {
            self.tick(o.kind);
        }
        old
    }

    pub fn get_or_insert_with(&mut self, id: DocId, new: impl FnOnce() -> LocalDoc) -> &mut LocalDoc {
        if !self.docs.contains_key(&id) {
            self.insert(id, new());
        }
        self.get_mut(&id).expect("inserted above")
    }

    pub fn remove(&mut self, id: &DocId) -> Option<LocalDoc> {
        let old = self.docs.remove(id)?;
        self.tick(old.kind);
        Some(old)
    }

    /// Keep the documents `keep` says to. Each it is shown is stamped: it gets a mutable
    /// reference (to ask for its heads, say) — and removals stamp their kinds.
    pub fn retain(&mut self, mut keep: impl FnMut(&DocId, &mut LocalDoc) -> bool) {
        let mut touched: Vec<DocKind> = Vec::new();
        let clock = &mut self.clock;
        self.docs.retain(|id, d| {
            *clock += 1;
            d.rev = *clock;
            touched.push(d.kind);
            keep(id, d)
        });
        for kind in touched {
            self.tick(kind);
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &DocId> {
        self.docs.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &LocalDoc> {
        self.docs.values()
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// A held document's revision; 0 for one not held (never a revision handed out).
    pub fn rev(&self, id: &DocId) -> u64 {
        self.docs.get(id).map_or(0, |d| d.rev)
    }

    /// The revision of the last change to any document of `kind`, or to which are held.
    pub fn kind_rev(&self, kind: DocKind) -> u64 {
        self.kinds.get(&kind).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;

    fn doc(id: DocId, kind: DocKind) -> LocalDoc {
        LocalDoc::new(id, kind, &ActorId::from(&[1u8; 16][..]))
    }

    #[test]
    fn every_mutable_access_and_every_removal_moves_the_revisions() {
        let (a, b) = (DocId::new_random(), DocId::new_random());
        let mut m = DocMap::default();
        assert_eq!((m.rev(&a), m.kind_rev(DocKind::Order)), (0, 0));
        m.insert(a, doc(a, DocKind::Order));
        m.insert(b, doc(b, DocKind::Contract));
        let (ra, order, contract) = (m.rev(&a), m.kind_rev(DocKind::Order), m.kind_rev(DocKind::Contract));
        assert!(ra > 0 && order > 0 && contract > order);
        // Reading changes nothing.
        let _ = m.get(&a);
        let _ = m.values().count();
        assert_eq!((m.rev(&a), m.kind_rev(DocKind::Order)), (ra, order));
        // A mutable reference stamps the document and its kind, not the others.
        let _ = m.get_mut(&a);
        assert!(m.rev(&a) > ra && m.kind_rev(DocKind::Order) > order);
        assert_eq!(m.kind_rev(DocKind::Contract), contract);
        // Removal stamps the kind; a document back again never has its old revision.
        let before = m.rev(&b);
        m.remove(&b);
        assert!(m.kind_rev(DocKind::Contract) > contract);
        m.get_or_insert_with(b, || doc(b, DocKind::Contract));
        assert!(m.rev(&b) > before);
        let (ra, rb) = (m.rev(&a), m.rev(&b));
        m.retain(|id, _| *id == a);
        assert!(m.rev(&a) > ra && m.rev(&b) == 0 && m.kind_rev(DocKind::Contract) > rb);
    }
}
