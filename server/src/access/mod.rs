//! Who may read which document. The single place that decides it: catch-up (as an SQL
//! filter), resync, live relays and territory moves all ask here, with the rule table of
//! `protocol::rules`.

pub mod authorize;
pub mod facts;
#[cfg(test)]
pub(crate) mod hostile_chunks;

use crate::storage::{DbError, KindFilter, ReadFilter, Storage};
use protocol::DocKind;
use protocol::rules::{DocFacts, Principal, Scope, read_scope};

/// What a device is told when documents leave its reach. Says nothing about where they
/// went.
pub const FORGET_REASON: &str = "moved out of your territories (reassigned); you may no longer read it";

pub fn may_read(principal: &Principal, facts: &DocFacts) -> bool {
    protocol::rules::may_read(principal, facts)
}

// ---- attachments ----
//
// Who may fetch an attachment is kept with the storage seam's generic effects, not in
// tables of its own (the blob store holds the bytes, their size and — by their first
// bytes — their type):
// - `blob-owner` (document: the 32-byte hash, key: a user): the user uploaded the file,
//   or could read it when they first referenced it;
// - `blob-ref` (document: the referencing document, key `HASH/N`, data: who added it):
//   the N-th time the document referenced the file; `blob-drop` with the same key: that
//   reference was dropped again.

/// Effect: a user owns a file.
pub const BLOB_OWNER: &str = "blob-owner";
/// Effect: a document references a file.
pub const BLOB_REF: &str = "blob-ref";
/// Effect: a document's reference to a file was dropped.
pub const BLOB_DROP: &str = "blob-drop";

fn ref_key(hash: &[u8], n: usize) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}/{n}")
}

pub fn is_blob_owner(db: &dyn Storage, hash: &[u8], user: &str) -> Result<bool, DbError> {
    Ok(db.effect(hash, BLOB_OWNER, user)?.is_some())
}

/// `false` when `user` owned the file already.
pub fn add_blob_owner(db: &dyn Storage, hash: &[u8], user: &str, at: i64) -> Result<bool, DbError> {
    db.insert_effect(hash, BLOB_OWNER, user, at, "")
}

/// The files document `doc` references now, with who added each reference (and its key).
fn current_refs(db: &dyn Storage, doc: &[u8]) -> Result<Vec<(String, String)>, DbError> {
    let dropped: std::collections::BTreeSet<String> =
        db.effects_of(doc, Some(BLOB_DROP))?.into_iter().map(|e| e.key).collect();
    Ok(db
        .effects_of(doc, Some(BLOB_REF))?
        .into_iter()
        .filter(|e| !dropped.contains(&e.key))
        .map(|e| (e.key, e.data))
        .collect())
}

/// Keep what storage says document `doc` references in line with `now` (the hashes it
/// references now): dropped references are marked dropped, new ones recorded as added by
/// `writer` at `at`. Returns the hashes newly referenced.
pub fn set_blob_refs(
    db: &dyn Storage,
    doc: &[u8],
    now: &std::collections::BTreeSet<protocol::blob::BlobHash>,
    writer: &str,
    at: i64,
) -> Result<Vec<protocol::blob::BlobHash>, DbError> {
    let current = current_refs(db, doc)?;
    let hash_of = |key: &str| key.split('/').next().and_then(protocol::blob::parse_hex);
    for (key, _) in &current {
        if hash_of(key).is_none_or(|h| !now.contains(&h)) {
            db.insert_effect(doc, BLOB_DROP, key, at, "")?;
        }
    }
    let mut added = Vec::new();
    for h in now {
        if current.iter().any(|(k, _)| hash_of(k) == Some(*h)) {
            continue;
        }
        // The next generation of this document's reference to the file.
        let mut n = 1;
        while db.effect(doc, BLOB_REF, &ref_key(h, n))?.is_some() {
            n += 1;
        }
        db.insert_effect(doc, BLOB_REF, &ref_key(h, n), at, writer)?;
        added.push(*h);
    }
    Ok(added)
}

/// May `principal` fetch the attachment `hash`? Only if some document they may read
/// references it now, by a reference whose adder owns the file (uploaded it, or could read
/// it when referencing it): naming a hash in one's own document grants nothing.
pub fn may_read_blob(db: &dyn Storage, principal: &Principal, hash: &[u8]) -> Result<bool, DbError> {
    let mut n = 1;
    loop {
        let key = ref_key(hash, n);
        let docs = db.effect_docs(BLOB_REF, &key)?;
        if docs.is_empty() {
            return Ok(false);
        }
        for doc in docs {
            if db.effect(&doc, BLOB_DROP, &key)?.is_some() {
                continue;
            }
            let Some(added_by) = db.effect(&doc, BLOB_REF, &key)?.map(|e| e.data) else { continue };
            let Some(row) = db.doc(&doc)? else { continue };
            let meta = crate::sync::doc_state::DocMeta::try_from(row)?;
            if may_read(principal, &meta.facts.rules_facts()) && is_blob_owner(db, hash, &added_by)? {
                return Ok(true);
            }
        }
        n += 1;
    }
}

/// The same decision as [`may_read`], as a filter the database applies to whole tables.
pub fn read_filter(principal: &Principal) -> ReadFilter {
    let mut kinds = Vec::new();
    for &kind in DocKind::ALL {
        let which = match read_scope(kind, principal.role) {
            Some(Scope::All) => KindFilter::All,
            Some(Scope::Territory) => KindFilter::Territories(principal.territories.clone()),
            Some(Scope::Own) => KindFilter::Own(principal.user.clone()),
            None => continue,
        };
        kinds.push((kind.code(), which));
    }
    ReadFilter { kinds }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Role;

    #[test]
    fn filter_matches_the_rule_table() {
        let p = |role| Principal { user: "x".into(), role, territories: vec!["四川".into()] };
        // The first three kinds: customers, visits, orders.
        let first = |role| read_filter(&p(role)).kinds.into_iter().filter(|(k, _)| *k <= 3).collect::<Vec<_>>();
        let sc = KindFilter::Territories(vec!["四川".to_string()]);
        let all = KindFilter::All;
        assert_eq!(first(Role::Rep), vec![(1, sc.clone()), (2, sc.clone()), (3, sc.clone())]);
        assert_eq!(first(Role::Logistics), vec![(1, all.clone()), (3, all.clone())]);
        assert_eq!(first(Role::Quality), vec![(1, all.clone())]);
        assert_eq!(first(Role::Admin), vec![(1, all.clone()), (2, all.clone()), (3, all)]);
        // Every kind: the filter says what may_read says.
        for role in Role::ALL {
            let who = p(role);
            let filter = read_filter(&who);
            for &kind in DocKind::ALL {
                for t in [Some("四川"), Some("贵州"), None] {
                    for author in [Some("x"), Some("y"), None] {
                        let facts = DocFacts::new(kind, t.map(String::from), author.map(String::from));
                        let passes = filter.kinds.iter().any(|(k, which)| {
                            *k == kind.code()
                                && match which {
                                    KindFilter::All => true,
                                    KindFilter::Territories(ts) => t.is_some_and(|t| ts.iter().any(|x| x == t)),
                                    KindFilter::Own(u) => author == Some(u.as_str()),
                                }
                        });
                        assert_eq!(passes, may_read(&who, &facts), "{role} {kind} {t:?} {author:?}");
                    }
                }
            }
        }
    }
}
