//! Who may read which document. The single place that decides it: catch-up (as an SQL
//! filter), resync, live relays and territory moves all ask here, with the rule table of
//! `protocol::rules`.

use crate::db::ReadFilter;
use protocol::DocKind;
use protocol::rules::{DocFacts, Principal, Scope, read_grants};

/// What a device is told when documents leave its reach. Says nothing about where they
/// went.
pub const FORGET_REASON: &str = "moved out of your territories (reassigned); you may no longer read it";

pub fn may_read(principal: &Principal, facts: &DocFacts) -> bool {
    protocol::rules::may_read(principal, facts)
}

/// The same decision as [`may_read`], as a filter the database applies to whole tables.
pub fn read_filter(principal: &Principal) -> ReadFilter {
    let mut kinds = Vec::new();
    for kind in DocKind::ALL {
        match read_grants(kind).iter().find(|(r, _)| *r == principal.role).map(|(_, s)| *s) {
            Some(Scope::All) => kinds.push((kind.code(), None)),
            Some(Scope::Territory) => kinds.push((kind.code(), Some(principal.territories.clone()))),
            None => {}
        }
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
        let sc = Some(vec!["四川".to_string()]);
        assert_eq!(first(Role::Rep), vec![(1, sc.clone()), (2, sc.clone()), (3, sc.clone())]);
        assert_eq!(first(Role::Logistics), vec![(1, None), (3, None)]);
        assert_eq!(first(Role::Quality), vec![(1, None)]);
        assert_eq!(first(Role::Admin), vec![(1, None), (2, None), (3, None)]);
        // Every kind: the filter says what may_read says.
        for role in Role::ALL {
            let who = p(role);
            let filter = read_filter(&who);
            for kind in DocKind::ALL {
                for t in [Some("四川"), Some("贵州"), None] {
                    let facts = DocFacts { kind, territory: t.map(String::from), author: None };
                    let passes = filter.kinds.iter().any(|(k, ts)| {
                        *k == kind.code() && ts.as_ref().is_none_or(|ts| t.is_some_and(|t| ts.iter().any(|x| x == t)))
                    });
                    assert_eq!(passes, may_read(&who, &facts), "{role} {kind} {t:?}");
                }
            }
        }
    }
}
