//! Least-recently-used cache of loaded documents: memory is bounded by its capacity, not
//! by the number of stored documents.

use crate::sync::doc_state::DocState;
use protocol::DocId;
use std::collections::{BTreeMap, HashMap};

pub struct DocCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<DocId, (DocState, u64)>,
    /// Last use → document, oldest first.
    order: BTreeMap<u64, DocId>,
}

impl DocCache {
    /// A cache holding at most `capacity` documents (at least one).
    pub fn new(capacity: usize) -> Self {
        DocCache { capacity: capacity.max(1), tick: 0, entries: HashMap::new(), order: BTreeMap::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn contains(&self, id: &DocId) -> bool {
        self.entries.contains_key(id)
    }

    /// The document, marked as just used.
    pub fn get_mut(&mut self, id: &DocId) -> Option<&mut DocState> {
        let (state, used) = self.entries.get_mut(id)?;
        self.order.remove(used);
        self.tick += 1;
        *used = self.tick;
        self.order.insert(self.tick, *id);
        Some(state)
    }

    /// Insert or replace a document, evicting the least recently used ones over capacity.
    pub fn insert(&mut self, id: DocId, state: DocState) {
        self.tick += 1;
        if let Some((_, used)) = self.entries.insert(id, (state, self.tick)) {
            self.order.remove(&used);
        }
        self.order.insert(self.tick, id);
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }

    /// Drop a document (another node changed it: it is reloaded from storage when needed).
    pub fn remove(&mut self, id: &DocId) {
        if let Some((_, used)) = self.entries.remove(id) {
            self.order.remove(&used);
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::DocKind;

    #[test]
    fn evicts_least_recently_used() {
        let mut c = DocCache::new(2);
        let (a, b, d) = (DocId::new_random(), DocId::new_random(), DocId::new_random());
        c.insert(a, DocState::new(DocKind::Order));
        c.insert(b, DocState::new(DocKind::Order));
        assert!(c.get_mut(&a).is_some()); // a is now more recent than b
        c.insert(d, DocState::new(DocKind::Order));
        assert_eq!(c.len(), 2);
        assert!(c.contains(&a) && c.contains(&d) && !c.contains(&b));
        c.insert(d, DocState::new(DocKind::Visit)); // replace keeps the size
        assert_eq!(c.len(), 2);
        assert_eq!(c.get_mut(&d).unwrap().kind, DocKind::Visit);
    }
}
