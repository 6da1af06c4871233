//! Who may read and write what, evaluated by the server before it applies a change and by
//! honest clients before they commit one. The grants themselves are declared per kind in
//! the registry ([`crate::kinds`]); this module only evaluates them.
//!
//! Territories (regions such as 四川, 贵州) own customers; a customer's visits and orders
//! follow the customer. A rep works in one territory; a manager in the territories of
//! their reps (and their own); office roles see the whole company in the kinds they need.
//! [`markdown_table`] renders every grant as `docs/rules.md` (a test keeps it current).

use crate::ids::DocKind;
pub use crate::kinds::Scope;
use crate::kinds::{FieldType, Grants};
use crate::role::Role;
use crate::schema::KIND_KEY;
use std::fmt::Write;

/// The authenticated user, as access rules see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    /// Own territory, plus the team's for a manager.
    pub territories: Vec<String>,
}

/// What access to one document depends on. On the server every one of these comes from
/// its own storage (the parent's row, the session that created the document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocFacts {
    pub kind: DocKind,
    /// The territory it belongs to (a customer's own; a visit's or order's its customer's).
    pub territory: Option<String>,
    /// Who created it.
    pub author: Option<String>,
    /// Who it is assigned to (the kind's assignee field), if anyone.
    pub assignee: Option<String>,
    /// The kind's frozen fields are locked (the server recorded the effect that freezes
    /// them, [`crate::kinds::Freeze`]).
    pub frozen: bool,
}

impl DocFacts {
    pub fn new(kind: DocKind, territory: Option<String>, author: Option<String>) -> Self {
        DocFacts { kind, territory, author, assignee: None, frozen: false }
    }
}

/// Why a write was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub rule: String,
    pub message: String,
}

fn scope_of(grants: Grants, role: Role) -> Option<Scope> {
    grants.iter().find(|(r, _)| *r == role).map(|(_, s)| *s)
}

fn in_scope(p: &Principal, scope: Scope, facts: &DocFacts) -> bool {
    match scope {
        Scope::All => true,
        Scope::Territory => facts.territory.as_ref().is_some_and(|t| p.territories.iter().any(|mine| mine == t)),
        Scope::Own => facts.author.as_deref() == Some(p.user.as_str()) || facts.assignee.as_deref() == Some(&p.user),
    }
}

/// The scope `role` reads `kind` with, if any.
pub fn read_scope(kind: DocKind, role: Role) -> Option<Scope> {
    scope_of(kind.spec().read, role)
}

pub fn may_read(p: &Principal, facts: &DocFacts) -> bool {
    read_scope(facts.kind, p.role).is_some_and(|s| in_scope(p, s, facts))
}

/// Who may write `field` of `kind` (`doc_kind` = who may create one), and whether only at
/// creation. `None`: no such field.
pub fn writers(kind: DocKind, field: &str) -> Option<(Grants, bool)> {
    let spec = kind.spec();
    if field == KIND_KEY {
        return Some((spec.create, true));
    }
    spec.field(field).map(|f| (f.writers, f.create_only))
}

/// Who may write `field` of an existing document of `kind` (fewer than at creation for
/// fields with their own edit grants).
fn edit_writers(kind: DocKind, field: &str) -> Option<Grants> {
    kind.spec().field(field).and_then(|f| f.edits)
}

/// May `p` write `field` of a document that is `before` (None: being created) and
/// `after` this change? Both states must be in scope: nobody writes a document out of
/// their reach, or into it.
pub fn check_write(p: &Principal, field: &str, before: Option<&DocFacts>, after: &DocFacts) -> Result<(), Violation> {
    let kind = after.kind;
    let refuse = |rule: &str, message: String| Violation { field: field.to_string(), rule: rule.to_string(), message };
    let Some((grants, create_only)) = writers(kind, field) else {
        return Err(refuse("unknown-field", format!("{kind} has no writable field '{field}'")));
    };
    if create_only && before.is_some() {
        return Err(refuse(
            "create-only",
            format!("{kind}.{field} is set when the record is created and never changed"),
        ));
    }
    if let (Some(b), Some(freeze)) = (before, kind.spec().freeze)
        && b.frozen
        && freeze.fields.contains(&field)
    {
        return Err(refuse(
            "frozen",
            format!(
                "{kind}.{field} is locked since the record was {}; it can no longer change",
                freeze.effect.as_str()
            ),
        ));
    }
    let grants = match (before, edit_writers(kind, field)) {
        (Some(_), Some(edits)) => edits,
        _ => grants,
    };
    let Some(scope) = scope_of(grants, p.role) else {
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

/// May `p` write at least one field of `kind` (else every change to one is refused whole)?
pub fn writes_any(kind: DocKind, role: Role) -> bool {
    let spec = kind.spec();
    scope_of(spec.create, role).is_some() || spec.fields.iter().any(|f| scope_of(f.writers, role).is_some())
}

/// Every grant as Markdown: one row per kind for reading and creating, one per field.
pub fn markdown_table() -> String {
    let cell = |grants: Grants, role: Role| scope_of(grants, role).map(Scope::as_str).unwrap_or("—");
    let mut out = String::from("| kind | field | ");
    out += &Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" | ");
    out += " |\n|---|---|";
    out += &"---|".repeat(Role::ALL.len());
    out += "\n";
    for &kind in DocKind::ALL {
        let spec = kind.spec();
        let mut row = |name: &str, grants: Grants| {
            let _ = write!(out, "| {kind} | {name} |");
            for &role in &Role::ALL {
                let _ = write!(out, " {} |", cell(grants, role));
            }
            out += "\n";
        };
        row("*(read)*", spec.read);
        if spec.server_written {
            row("*(written only by the server)*", &[]);
            continue;
        }
        row("*(create)*", spec.create);
        for f in spec.fields {
            let mut name = f.name.to_string();
            match f.ty {
                FieldType::Log(_) => name += " (append-only)",
                _ if f.create_only => name += " (at creation)",
                _ => {}
            }
            if spec.freeze.is_some_and(|z| z.fields.contains(&f.name)) {
                name += &format!(" (locked once {})", spec.freeze.map_or("", |z| z.effect.as_str()));
            }
            match f.edits {
                Some(edits) => {
                    row(&format!("{name} (at creation)"), f.writers);
                    row(&format!("{} (afterwards)", f.name), edits);
                }
                None => row(&name, f.writers),
            }
        }
    }
    out
}

/// Which role may append which entry to each log, as Markdown.
pub fn markdown_log_table() -> String {
    let mut out = String::from("| kind | log | entry | may append | must carry |\n|---|---|---|---|---|\n");
    for &kind in DocKind::ALL {
        for (f, log) in kind.spec().logs() {
            for e in log.entries {
                let roles: Vec<&str> = e.writers.iter().map(|r| r.as_str()).collect();
                let _ = writeln!(
                    out,
                    "| {kind} | {} | {} | {} | {} |",
                    f.name,
                    e.kind,
                    roles.join(", "),
                    e.requires.join(", ")
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocKind::{Customer as C, Order as O, Visit as V};

    fn who(role: Role, user: &str, territories: &[&str]) -> Principal {
        Principal { user: user.into(), role, territories: territories.iter().map(|t| t.to_string()).collect() }
    }

    fn facts(kind: DocKind, territory: &str, author: &str) -> DocFacts {
        DocFacts::new(kind, Some(territory.into()), Some(author.into()))
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
            (who(Role::Rep, "li", &["四川"]), DocFacts::new(C, None, None), false),
        ];
        for (p, f, want) in cases {
            assert_eq!(may_read(&p, &f), want, "{p:?} {f:?}");
        }
    }

    #[test]
    fn own_scope_is_the_author_or_the_assignee() {
        let li = who(Role::Rep, "li", &[]);
        let mine = facts(C, "x", "li");
        let assigned = DocFacts { assignee: Some("li".into()), ..facts(C, "x", "wang") };
        let theirs = facts(C, "x", "wang");
        assert!(in_scope(&li, Scope::Own, &mine));
        assert!(in_scope(&li, Scope::Own, &assigned));
        assert!(!in_scope(&li, Scope::Own, &theirs));
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

    /// `JIULOOP_BLESS=1 cargo test -p jiuloop-protocol docs_rules` rewrites the file.
    #[test]
    fn docs_rules_md_shows_the_current_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rules.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let want = rules_md();
        if std::env::var_os("JIULOOP_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
            return;
        }
        assert!(doc == want, "docs/rules.md is stale: run JIULOOP_BLESS=1 cargo test -p jiuloop-protocol docs_rules");
    }

    fn rules_md() -> String {
        format!(
            "# Who may read and write what\n\n\
             Generated from the kind registry (`protocol/src/kinds/`) by \
             `JIULOOP_BLESS=1 cargo test -p jiuloop-protocol docs_rules`; a test fails when it is stale.\n\n\
             `territory` = documents of the user's territories (a manager's are their own plus their reps'), \
             `own` = documents the user created or is assigned to, `all` = every document of that kind, \
             `—` = nothing. *(create)* is who may create one; fields marked *(at creation)* are written only \
             by the change that creates the record; *(append-only)* logs are checked entry by entry (below).\n\n\
             {}\n## Log entries\n\n\
             Every new entry must name its writer as its author and, where it states a role, the writer's own.\n\n{}",
            markdown_table(),
            markdown_log_table()
        )
    }
}
