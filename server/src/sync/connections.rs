//! The hub's open connections, indexed by who may read what (role, territory, user), so
//! that relaying a change visits only the connections that may read it — fan-out costs
//! what it delivers, not the number of connections.

use crate::identity::session::Session;
use crate::sync::conn_id::ConnId;
use protocol::Role;
use protocol::rules::{DocFacts, Principal, Scope};
use std::collections::{BTreeSet, HashMap, HashSet};

pub(crate) struct ConnState {
    pub session: Session,
    pub principal: Principal,
    /// Hello done: catch-up sent, receives live relays.
    pub ready: bool,
    /// Every actor registered to the connection's device.
    pub actors: HashSet<Vec<u8>>,
}

#[derive(Default)]
pub(crate) struct Connections {
    all: HashMap<ConnId, ConnState>,
    by_role: HashMap<Role, BTreeSet<ConnId>>,
    by_territory: HashMap<String, BTreeSet<ConnId>>,
    by_user: HashMap<String, BTreeSet<ConnId>>,
}

impl Connections {
    pub fn insert(&mut self, conn: ConnId, state: ConnState) {
        self.remove(&conn);
        let p = &state.principal;
        self.by_role.entry(p.role).or_default().insert(conn);
        for t in &p.territories {
            self.by_territory.entry(t.clone()).or_default().insert(conn);
        }
        self.by_user.entry(p.user.clone()).or_default().insert(conn);
        self.all.insert(conn, state);
    }

    pub fn remove(&mut self, conn: &ConnId) -> Option<ConnState> {
        let state = self.all.remove(conn)?;
        let p = &state.principal;
        unindex(&mut self.by_role, &p.role, conn);
        for t in &p.territories {
            unindex(&mut self.by_territory, t, conn);
        }
        unindex(&mut self.by_user, &p.user, conn);
        Some(state)
    }

    pub fn get(&self, conn: &ConnId) -> Option<&ConnState> {
        self.all.get(conn)
    }

    pub fn get_mut(&mut self, conn: &ConnId) -> Option<&mut ConnState> {
        self.all.get_mut(conn)
    }

    pub fn contains_key(&self, conn: &ConnId) -> bool {
        self.all.contains_key(conn)
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ConnId, &ConnState)> {
        self.all.iter()
    }

    /// The connections that may read a document with these facts, by the kind's read
    /// grants (a superset is fine: callers still ask the rules; a connection that may read
    /// is never missing).
    pub fn readers_of(&self, facts: &DocFacts, out: &mut BTreeSet<ConnId>) {
        let empty = BTreeSet::new();
        for &(role, scope) in facts.kind.spec().read {
            let of_role = self.by_role.get(&role).unwrap_or(&empty);
            match scope {
                Scope::All => out.extend(of_role.iter().copied()),
                Scope::Territory => {
                    if let Some(t) = &facts.territory {
                        let here = self.by_territory.get(t).unwrap_or(&empty);
                        out.extend(here.intersection(of_role).copied());
                    }
                }
                Scope::Own => {
                    for user in [&facts.author, &facts.assignee].into_iter().flatten() {
                        let theirs = self.by_user.get(user).unwrap_or(&empty);
                        out.extend(theirs.intersection(of_role).copied());
                    }
                }
            }
        }
    }
}

fn unindex<K: std::hash::Hash + Eq>(index: &mut HashMap<K, BTreeSet<ConnId>>, key: &K, conn: &ConnId) {
    if let Some(set) = index.get_mut(key) {
        set.remove(conn);
        if set.is_empty() {
            index.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::DocKind;
    use protocol::rules::may_read;

    #[test]
    fn readers_are_exactly_those_the_rules_allow() {
        let mut conns = Connections::default();
        let people = [
            ("li", Role::Rep, vec!["四川"]),
            ("wang", Role::Rep, vec!["贵州"]),
            ("zhang", Role::Manager, vec!["四川", "贵州"]),
            ("qian", Role::Finance, vec![]),
            ("zhou", Role::Quality, vec![]),
            ("ma", Role::Market, vec![]),
        ];
        for (i, (user, role, territories)) in people.iter().enumerate() {
            let principal = Principal {
                user: user.to_string(),
                role: *role,
                territories: territories.iter().map(|t| t.to_string()).collect(),
            };
            let session = Session::for_tests(user, *role, territories.first().copied(), uuid::Uuid::new_v4());
            conns.insert(ConnId(i as u64), ConnState { session, principal, ready: true, actors: HashSet::new() });
        }
        for &kind in DocKind::ALL {
            for territory in [Some("四川"), Some("贵州"), None] {
                for author in [Some("li"), Some("qian"), None] {
                    let facts = DocFacts::new(kind, territory.map(String::from), author.map(String::from));
                    let mut got = BTreeSet::new();
                    conns.readers_of(&facts, &mut got);
                    let want: BTreeSet<ConnId> =
                        conns.iter().filter(|(_, s)| may_read(&s.principal, &facts)).map(|(c, _)| *c).collect();
                    assert_eq!(got, want, "{kind} {territory:?} {author:?}");
                }
            }
        }
        conns.remove(&ConnId(0));
        let mut got = BTreeSet::new();
        conns.readers_of(&DocFacts::new(DocKind::Customer, Some("四川".into()), None), &mut got);
        assert!(!got.contains(&ConnId(0)));
    }
}
