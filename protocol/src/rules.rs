//! Who may read and write what: one table, evaluated by the server before it applies a
//! change and by honest clients before they commit one.
//!
//! Territories (regions such as 四川, 贵州) own customers; a customer's visits and orders
//! follow the customer. A rep works in one territory; a manager in the territories of
//! their reps (and their own); office roles see the whole company in the kinds they need.
//! [`markdown_table`] renders the table for ARCHITECTURE.md (a test keeps them equal).

use crate::ids::DocKind;
use crate::role::Role;
use std::fmt::Write;

/// How far a role reaches for a kind of document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Documents in the user's territories.
    Territory,
    /// Every document of the kind.
    All,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Territory => "territory",
            Scope::All => "all",
        }
    }
}

/// The authenticated user, as access rules see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    /// Own territory, plus the team's for a manager.
    pub territories: Vec<String>,
}

/// What access to one document depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocFacts {
    pub kind: DocKind,
    /// The customer's territory (for visits and orders: their customer's).
    pub territory: Option<String>,
    /// Who created it (for visits: the rep who logged it).
    pub author: Option<String>,
}

/// Why a write was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub rule: String,
    pub message: String,
}

type Grants = &'static [(Role, Scope)];

const T: Scope = Scope::Territory;
const A: Scope = Scope::All;

/// Field rule: who may write it, and whether it may only be written when the document is
/// created (identity fields: never changed afterwards, by anyone).
pub struct FieldRule {
    pub kind: DocKind,
    pub field: &'static str,
    pub writers: Grants,
    pub create_only: bool,
}

const FIELD_STAFF: Grants = &[(Role::Rep, T), (Role::Manager, T), (Role::Admin, A)];
const ASSIGNERS: Grants = &[(Role::Manager, T), (Role::Admin, A)];
const VISIT_STAFF: Grants = FIELD_STAFF;
const PUBLISHERS: Grants = &[(Role::Market, A), (Role::Admin, A)];
/// Everyone who appends some kind of order event (which kinds each role may append is
/// `schema::order_lifecycle::event_writers`, checked by the server per event).
const ORDER_EVENTS: Grants = &[
    (Role::Rep, T),
    (Role::Manager, T),
    (Role::Logistics, A),
    (Role::Finance, A),
    (Role::AfterSales, A),
    (Role::Executive, A),
    (Role::Admin, A),
];

const fn rule(kind: DocKind, field: &'static str, writers: Grants, create_only: bool) -> FieldRule {
    FieldRule { kind, field, writers, create_only }
}

use DocKind::{Customer as C, Order as O, Policy as P, Visit as V};

/// Every field of every document kind. A field not listed here is writable by nobody.
pub const FIELD_RULES: &[FieldRule] = &[
    rule(C, "doc_kind", FIELD_STAFF, true),
    rule(C, "created_by", FIELD_STAFF, true),
    rule(C, "created_at", FIELD_STAFF, true),
    rule(C, "name", FIELD_STAFF, false),
    rule(C, "phone", FIELD_STAFF, false),
    rule(C, "contacts", FIELD_STAFF, false),
    rule(C, "address", FIELD_STAFF, false),
    rule(C, "region", FIELD_STAFF, false),
    rule(C, "channel", FIELD_STAFF, false),
    rule(C, "business_scope", FIELD_STAFF, false),
    rule(C, "purchase_intention", FIELD_STAFF, false),
    rule(C, "purchasing_power", FIELD_STAFF, false),
    rule(C, "class", FIELD_STAFF, false),
    rule(C, "class_history", FIELD_STAFF, false),
    rule(C, "next_follow_up", FIELD_STAFF, false),
    rule(C, "notes", FIELD_STAFF, false),
    rule(C, "owner", ASSIGNERS, false),
    rule(C, "territory", ASSIGNERS, false),
    rule(V, "doc_kind", VISIT_STAFF, true),
    rule(V, "customer", VISIT_STAFF, true),
    rule(V, "rep", VISIT_STAFF, true),
    rule(V, "at", VISIT_STAFF, true),
    rule(V, "kind", VISIT_STAFF, false),
    rule(V, "method", VISIT_STAFF, false),
    rule(V, "notes", VISIT_STAFF, false),
    rule(V, "outcome", VISIT_STAFF, false),
    rule(V, "feedback", VISIT_STAFF, false),
    rule(V, "satisfaction", VISIT_STAFF, false),
    rule(V, "next_action", VISIT_STAFF, false),
    rule(V, "next_action_date", VISIT_STAFF, false),
    rule(O, "doc_kind", FIELD_STAFF, true),
    rule(O, "customer", FIELD_STAFF, true),
    rule(O, "created_by", FIELD_STAFF, true),
    rule(O, "created_at", FIELD_STAFF, true),
    rule(O, "source", FIELD_STAFF, false),
    rule(O, "lines", FIELD_STAFF, false),
    rule(O, "delivery_date", FIELD_STAFF, false),
    rule(O, "delivery_place", FIELD_STAFF, false),
    rule(O, "payment_method", FIELD_STAFF, false),
    rule(O, "notes", FIELD_STAFF, false),
    rule(O, "priced_with", FIELD_STAFF, false),
    rule(O, "events", ORDER_EVENTS, false),
    rule(P, "doc_kind", PUBLISHERS, true),
    rule(P, "versions", PUBLISHERS, false),
    // Verdict documents have no rule: only the server writes them.
];

/// Who may read each kind.
pub fn read_grants(kind: DocKind) -> Grants {
    const OFFICE_ALL: Grants = &[
        (Role::Rep, T),
        (Role::Manager, T),
        (Role::Market, A),
        (Role::Logistics, A),
        (Role::Finance, A),
        (Role::Legal, A),
        (Role::AfterSales, A),
        (Role::Quality, A),
        (Role::Executive, A),
        (Role::Admin, A),
    ];
    const VISITS: Grants = &[
        (Role::Rep, T),
        (Role::Manager, T),
        (Role::Market, A),
        (Role::AfterSales, A),
        (Role::Executive, A),
        (Role::Admin, A),
    ];
    const ORDERS: Grants = &[
        (Role::Rep, T),
        (Role::Manager, T),
        (Role::Market, A),
        (Role::Logistics, A),
        (Role::Finance, A),
        (Role::Legal, A),
        (Role::AfterSales, A),
        (Role::Executive, A),
        (Role::Admin, A),
    ];
    const EVERYONE: Grants = &[
        (Role::Rep, A),
        (Role::Manager, A),
        (Role::Market, A),
        (Role::Logistics, A),
        (Role::Finance, A),
        (Role::Legal, A),
        (Role::AfterSales, A),
        (Role::Quality, A),
        (Role::Executive, A),
        (Role::Admin, A),
    ];
    match kind {
        DocKind::Customer => OFFICE_ALL,
        DocKind::Visit => VISITS,
        DocKind::Order | DocKind::Verdict => ORDERS,
        DocKind::Policy => EVERYONE,
    }
}

pub fn field_rule(kind: DocKind, field: &str) -> Option<&'static FieldRule> {
    FIELD_RULES.iter().find(|r| r.kind == kind && r.field == field)
}

fn scope_of(grants: Grants, role: Role) -> Option<Scope> {
    grants.iter().find(|(r, _)| *r == role).map(|(_, s)| *s)
}

fn in_scope(p: &Principal, scope: Scope, facts: &DocFacts) -> bool {
    let in_territory = facts.territory.as_ref().is_some_and(|t| p.territories.iter().any(|mine| mine == t));
    match scope {
        Scope::All => true,
        Scope::Territory => in_territory,
    }
}

pub fn may_read(p: &Principal, facts: &DocFacts) -> bool {
    scope_of(read_grants(facts.kind), p.role).is_some_and(|s| in_scope(p, s, facts))
}

/// May `p` write `field` of a document that is `before` (None: being created) and
/// `after` this change? Both states must be in scope: nobody writes a document out of
/// their reach, or into it.
pub fn check_write(p: &Principal, field: &str, before: Option<&DocFacts>, after: &DocFacts) -> Result<(), Violation> {
    let kind = after.kind;
    let refuse = |rule: &str, message: String| Violation { field: field.to_string(), rule: rule.to_string(), message };
    let Some(rule) = field_rule(kind, field) else {
        return Err(refuse("unknown-field", format!("{kind} has no writable field '{field}'")));
    };
    if rule.create_only && before.is_some() {
        return Err(refuse(
            "create-only",
            format!("{kind}.{field} is set when the record is created and never changed"),
        ));
    }
    let Some(scope) = scope_of(rule.writers, p.role) else {
        return Err(refuse("role", format!("role {} may not write {kind}.{field}", p.role)));
    };
    for facts in before.into_iter().chain(std::iter::once(after)) {
        if !in_scope(p, scope, facts) {
            return Err(refuse(
                "territory",
                format!("{} may not write {kind}.{field} of a record outside their {}", p.user, scope.as_str()),
            ));
        }
    }
    Ok(())
}

/// The rule table as Markdown (rendered into ARCHITECTURE.md).
pub fn markdown_table() -> String {
    let cell = |grants: Grants, role: Role| scope_of(grants, role).map(Scope::as_str).unwrap_or("—");
    let mut out = String::from("| kind | field | ");
    out += &Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" | ");
    out += " |\n|---|---|";
    out += &"---|".repeat(Role::ALL.len());
    out += "\n";
    for kind in DocKind::ALL {
        let _ = write!(out, "| {kind} | *(read)* |");
        for role in Role::ALL {
            let _ = write!(out, " {} |", cell(read_grants(kind), role));
        }
        out += "\n";
        for r in FIELD_RULES.iter().filter(|r| r.kind == kind) {
            let name = if r.create_only { format!("{} (at creation)", r.field) } else { r.field.to_string() };
            let _ = write!(out, "| {kind} | {name} |");
            for role in Role::ALL {
                let _ = write!(out, " {} |", cell(r.writers, role));
            }
            out += "\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, user: &str, territories: &[&str]) -> Principal {
        Principal { user: user.into(), role, territories: territories.iter().map(|t| t.to_string()).collect() }
    }

    fn facts(kind: DocKind, territory: &str, author: &str) -> DocFacts {
        DocFacts { kind, territory: Some(territory.into()), author: Some(author.into()) }
    }

    #[test]
    fn reads() {
        let cases = [
            (who(Role::Rep, "li", &["四川"]), facts(C, "四川", "x"), true),
            (who(Role::Rep, "li", &["四川"]), facts(C, "贵州", "x"), false),
            (who(Role::Rep, "li", &["四川"]), facts(V, "四川", "wang"), true),
            (who(Role::Manager, "m", &["四川", "贵州"]), facts(O, "贵州", "x"), true),
            (who(Role::Logistics, "l", &[]), facts(O, "贵州", "x"), true),
            (who(Role::Logistics, "l", &[]), facts(V, "贵州", "x"), false),
            (who(Role::Quality, "q", &[]), facts(O, "贵州", "x"), false),
            (who(Role::Rep, "li", &["四川"]), DocFacts { kind: C, territory: None, author: None }, false),
        ];
        for (p, f, want) in cases {
            assert_eq!(may_read(&p, &f), want, "{p:?} {f:?}");
        }
    }

    #[test]
    fn writes() {
        let rep = who(Role::Rep, "li", &["四川"]);
        let mgr = who(Role::Manager, "m", &["四川"]);
        let fin = who(Role::Finance, "f", &[]);
        let sc = facts(C, "四川", "li");
        let gz = facts(C, "贵州", "li");
        let (v_wang, v_li, o_gz) = (facts(V, "四川", "wang"), facts(V, "贵州", "li"), facts(O, "贵州", "x"));
        type Case<'a> = (&'a Principal, &'a str, Option<&'a DocFacts>, &'a DocFacts, Result<(), &'a str>);
        let cases: Vec<Case> = vec![
            (&rep, "name", Some(&sc), &sc, Ok(())),
            (&rep, "name", None, &sc, Ok(())),
            (&rep, "name", Some(&gz), &gz, Err("territory")),
            (&rep, "territory", Some(&sc), &sc, Err("role")),
            (&rep, "owner", Some(&sc), &sc, Err("role")),
            (&mgr, "territory", Some(&sc), &gz, Err("territory")),
            (&rep, "doc_kind", Some(&sc), &sc, Err("create-only")),
            (&rep, "doc_kind", None, &sc, Ok(())),
            (&rep, "colour", Some(&sc), &sc, Err("unknown-field")),
            (&fin, "name", Some(&sc), &sc, Err("role")),
            (&rep, "notes", Some(&v_wang), &v_wang, Ok(())),
            (&rep, "notes", Some(&v_li), &v_li, Err("territory")),
            (&fin, "events", Some(&o_gz), &o_gz, Ok(())),
            (&fin, "lines", Some(&o_gz), &o_gz, Err("role")),
        ];
        for (p, field, before, after, want) in cases {
            let got = check_write(p, field, before, after).map_err(|v| v.rule);
            assert_eq!(got.as_ref().map_err(String::as_str), want.as_ref().map_err(|s| *s), "{} {field}", p.user);
        }
    }

    #[test]
    fn every_schema_field_has_a_rule() {
        for kind in DocKind::ALL {
            for f in crate::schema::fields_of(kind) {
                assert!(field_rule(kind, f.name).is_some(), "{kind}.{}", f.name);
            }
        }
    }

    #[test]
    fn architecture_md_shows_the_current_table() {
        let doc = include_str!("../../ARCHITECTURE.md");
        assert!(
            doc.contains(&markdown_table()),
            "ARCHITECTURE.md is stale; paste rules::markdown_table():\n{}",
            markdown_table()
        );
    }
}
