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

/// May `principal` fetch the attachment `hash`? Only if some document they may read
/// references it, by a reference whose adder owns the file (uploaded it, or could read it
/// when referencing it): naming a hash in one's own document grants nothing.
pub fn may_read_blob(db: &dyn Storage, principal: &Principal, hash: &[u8]) -> Result<bool, DbError> {
    for r in db.blob_refs(hash)? {
        let Some(row) = db.doc(&r.doc_id)? else { continue };
        let meta = crate::sync::doc_state::DocMeta::try_from(row)?;
        if may_read(principal, &meta.facts.rules_facts()) && db.is_blob_owner(hash, &r.added_by)? {
            return Ok(true);
        }
    }
    Ok(false)
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
