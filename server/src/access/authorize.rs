//! Deciding whether a pushed chunk may be applied, on a scratch copy: the server's
//! document is never touched here. Pure: no storage, no network, unit-tested.
//!
//! Two steps. [`check_frame`] first measures every chunk of a Push frame without loading
//! anything (well formed, and the work it represents within [`Limits`]); then
//! [`authorize_inspected`] loads a chunk into a fork of its document and checks that every
//! new change comes from an actor registered to the pushing device. [`check_rights`]
//! then finds the top-level fields the new changes' *operations* write (a write inside a
//! contact, an order line or a Text counts for the root key holding it; a write that
//! loses a conflict counts too) and asks the shared rule table about each of them.
//! Append-only logs (an order's events, the policy's versions, …) are also checked entry
//! by entry, with the one log check of the kind registry ([`check_logs`]).

use automerge::{AutoCommit, AutomergeError, Change, ChangeHash, ReadDoc};
use protocol::inspect::{self, InspectError, Inspected, Limits};
use protocol::kinds::Entry;
use protocol::rules::{self, DocFacts, Principal};
use protocol::schema::record;
use protocol::wire::{DocChunk, Hash, Refusal, hashes_to_wire};
use protocol::{DocId, DocKind, ErrorCode};
use std::collections::{BTreeSet, HashSet};

/// Longest commit message a pushed change may carry (honest clients write none).
pub const MAX_CHANGE_MESSAGE_BYTES: usize = 200;

/// The chunk may be applied: `scratch` is the document with it applied, `new_changes`
/// the changes the server did not have (possibly none).
pub struct Authorized {
    pub scratch: AutoCommit,
    pub new_changes: Vec<Change>,
}

#[derive(Debug)]
pub enum Rejection {
    /// The bytes are not valid Automerge data: fatal for the connection.
    BadChanges(String),
    /// The bytes are more work than a push may be (counted before loading anything):
    /// fatal for the connection.
    TooMuchWork(String),
    /// Some changes depend on changes the server does not have: apply nothing of this
    /// document; the device re-pushes from the server's heads.
    MissingDeps,
    /// The changes are valid but not allowed.
    Refused(Refusal),
}

impl From<InspectError> for Rejection {
    fn from(e: InspectError) -> Self {
        match e.code() {
            ErrorCode::TooMuchWork => Rejection::TooMuchWork(e.to_string()),
            _ => Rejection::BadChanges(e.to_string()),
        }
    }
}

/// Both steps for one chunk: [`check_well_formed`] then [`authorize_inspected`] (`doc` is
/// only forked, never changed). `device_actors` are the actor ids registered to the
/// pushing device.
#[cfg(test)]
pub fn authorize(
    doc: &mut AutoCommit,
    chunk: &DocChunk,
    device_actors: &HashSet<Vec<u8>>,
) -> Result<Authorized, Rejection> {
    let inspected = check_well_formed(&chunk.changes)?;
    authorize_inspected(doc, chunk, &inspected, device_actors, &Limits::DEFAULT)
}

/// Check a chunk, measured already ([`check_frame`]), against the document it is pushed
/// to (`doc` is only forked, never changed). `device_actors` are the actor ids registered
/// to the pushing device. Refuses first, without loading anything, a push that would
/// take the document past [`Limits::max_ops_per_doc`].
pub fn authorize_inspected(
    doc: &mut AutoCommit,
    chunk: &DocChunk,
    inspected: &Inspected,
    device_actors: &HashSet<Vec<u8>>,
    limits: &Limits,
) -> Result<Authorized, Rejection> {
    let before = doc.get_heads();
    // Counted generously: changes the server already has count again.
    let held = doc.stats().num_ops;
    if held.saturating_add(inspected.work.ops) > limits.max_ops_per_doc {
        return Err(Rejection::Refused(Refusal {
            id: chunk.id,
            kind: chunk.kind,
            code: ErrorCode::TooMuchWork,
            path: String::new(),
            rule: "document-size".into(),
            message: format!(
                "the document holds {held} operations; with the {} pushed it would pass the limit of {}",
                inspected.work.ops, limits.max_ops_per_doc
            ),
            server_heads: hashes_to_wire(&before),
        }));
    }
    let mut scratch = doc.fork();
    let new_changes = load_scratch(&mut scratch, &chunk.changes, inspected, &before)?;
    if let Some(foreign) = new_changes.iter().find(|c| !device_actors.contains(c.actor_id().to_bytes())) {
        return Err(Rejection::Refused(Refusal {
            id: chunk.id,
            kind: chunk.kind,
            code: ErrorCode::ActorNotYours,
            path: String::new(),
            rule: "actor-registered".into(),
            message: format!(
                "change {} was made by actor {} which is not registered to this device",
                foreign.hash(),
                foreign.actor_id()
            ),
            server_heads: hashes_to_wire(&before),
        }));
    }
    Ok(Authorized { scratch, new_changes })
}

/// The document as the rules see it, before and after the chunk.
pub struct WriteContext<'a> {
    pub principal: &'a Principal,
    pub id: DocId,
    pub kind: DocKind,
    /// `None`: the server does not have the document; this chunk creates it.
    pub before: Option<&'a DocFacts>,
    pub after: &'a DocFacts,
    /// What the server holds (sent back with a refusal so the device restores to it).
    pub server_heads: &'a [Hash],
}

/// May the principal write what the new changes write? Returns the root fields written.
///
/// On an existing document every field written is checked with
/// [`rules::check_write`] (before and after the change must both be in the writer's
/// reach; create-only fields are refused). A document new to the server is checked once
/// as a whole: the writer must be allowed to create it where it lands (`doc_kind`, at
/// creation), every field written must exist, and the creator sets every field's first
/// value (a rep creating a customer sets its territory and owner to their own).
///
/// A refusal because the document is outside the writer's territories is the same
/// whether or not the document exists: see [`out_of_reach`].
pub fn check_rights(ctx: &WriteContext<'_>, authorized: &mut Authorized) -> Result<BTreeSet<String>, Rejection> {
    let refuse_change = |rule: &str, message: String| {
        Rejection::Refused(Refusal {
            id: ctx.id,
            kind: ctx.kind,
            code: ErrorCode::Forbidden,
            path: String::new(),
            rule: rule.into(),
            message,
            server_heads: ctx.server_heads.to_vec(),
        })
    };
    for c in &authorized.new_changes {
        if c.is_empty() {
            return Err(refuse_change("empty-change", format!("change {} has no operations", c.hash())));
        }
        if c.message().is_some_and(|m| m.len() > MAX_CHANGE_MESSAGE_BYTES) {
            return Err(refuse_change(
                "change-message",
                format!("a change message may be at most {MAX_CHANGE_MESSAGE_BYTES} bytes"),
            ));
        }
    }
    let fields = protocol::schema::root_keys_written(&mut authorized.scratch, &authorized.new_changes)
        .map_err(|e| Rejection::BadChanges(e.to_string()))?;
    let refuse = |v: rules::Violation| {
        Rejection::Refused(Refusal {
            id: ctx.id,
            kind: ctx.kind,
            code: ErrorCode::Forbidden,
            path: v.field,
            rule: v.rule,
            message: v.message,
            server_heads: ctx.server_heads.to_vec(),
        })
    };
    match ctx.before {
        None => {
            for f in &fields {
                if rules::writers(ctx.kind, f).is_none() {
                    return Err(refuse(rules::Violation {
                        field: f.clone(),
                        rule: "unknown-field".into(),
                        message: format!("{} has no writable field '{f}'", ctx.kind),
                    }));
                }
            }
            if let Err(v) = rules::check_write(ctx.principal, protocol::schema::KIND_KEY, None, ctx.after) {
                if v.rule == "territory" {
                    return Err(Rejection::Refused(out_of_reach(ctx.principal, ctx.id, ctx.kind)));
                }
                return Err(refuse(rules::Violation { field: String::new(), ..v }));
            }
            // Identity fields name the writer: a record is created by whoever sends it (the
            // server records that user as the author whatever the document says; a document
            // that names someone else is refused).
            for f in ctx.kind.spec().fields.iter().filter(|f| f.role == protocol::kinds::FieldRole::Author) {
                let named = protocol::schema::root_string(&authorized.scratch, f.name);
                if named.as_ref().is_some_and(|n| *n != ctx.principal.user) {
                    return Err(refuse(rules::Violation {
                        field: f.name.to_string(),
                        rule: "author".into(),
                        message: format!(
                            "{}.{} must name the writer {}, not '{}'",
                            ctx.kind,
                            f.name,
                            ctx.principal.user,
                            named.unwrap_or_default()
                        ),
                    }));
                }
            }
            // Whom a record is assigned to is decided by those who may assign it: a creator
            // whose role may not write the assignee field (a rep creating a customer) names
            // themselves there, or no one.
            for f in ctx.kind.spec().fields.iter().filter(|f| f.role == protocol::kinds::FieldRole::Assignee) {
                let may_assign = rules::writers(ctx.kind, f.name)
                    .is_some_and(|(grants, _)| grants.iter().any(|(role, _)| *role == ctx.principal.role));
                let named = protocol::schema::root_string(&authorized.scratch, f.name)
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty());
                if !may_assign && named.as_ref().is_some_and(|n| *n != ctx.principal.user) {
                    return Err(refuse(rules::Violation {
                        field: f.name.to_string(),
                        rule: "assignee".into(),
                        message: format!(
                            "role {} may not assign a {} to '{}': name yourself or leave it to a manager",
                            ctx.principal.role,
                            ctx.kind,
                            named.unwrap_or_default()
                        ),
                    }));
                }
            }
        }
        Some(before) => {
            for f in &fields {
                rules::check_write(ctx.principal, f, Some(before), ctx.after).map_err(refuse)?;
            }
        }
    }
    Ok(fields)
}

/// The entries each append-only log gained, by field name.
pub type NewEntries = Vec<(&'static str, Vec<Entry>)>;

/// Beyond the field rules (may this role write the log at all?): what each new entry of
/// each of the kind's append-only logs says — the one log check of the registry
/// ([`record::check_appended`]): existing entries are never changed, deleted or replaced
/// (operations are checked, so a write that loses a conflict is refused too), and every
/// new entry is one the writer's role may append, names the writer, carries the writer's
/// own role where it names one, and passes the log's own check (the policy: a consistent
/// body, a rising version number). `before` is the document as the server holds it
/// (`None`: the push creates it); `fields` the root fields the changes write.
pub fn check_logs(
    ctx: &WriteContext<'_>,
    doc_author: Option<&str>,
    before: Option<&AutoCommit>,
    authorized: &mut Authorized,
    fields: &BTreeSet<String>,
) -> Result<NewEntries, Rejection> {
    let mut out = Vec::new();
    for (field, log) in ctx.kind.spec().logs() {
        if before.is_some() && !fields.contains(field.name) {
            continue;
        }
        let new = record::check_appended(
            field,
            log,
            ctx.principal,
            doc_author,
            before,
            &mut authorized.scratch,
            &authorized.new_changes,
        )
        .map_err(|e| Rejection::BadChanges(e.to_string()))?
        .map_err(|v| refusal(ctx, v))?;
        if !new.is_empty() {
            out.push((field.name, new));
        }
    }
    Ok(out)
}

fn refusal(ctx: &WriteContext<'_>, v: rules::Violation) -> Rejection {
    Rejection::Refused(Refusal {
        id: ctx.id,
        kind: ctx.kind,
        code: ErrorCode::Forbidden,
        path: v.field,
        rule: v.rule,
        message: v.message,
        server_heads: ctx.server_heads.to_vec(),
    })
}

/// The refusal of any change to a kind the writer's role may write no field of (refused
/// before the changes are even loaded).
pub fn kind_not_writable(principal: &Principal, id: DocId, kind: DocKind) -> Refusal {
    Refusal {
        id,
        kind,
        code: ErrorCode::Forbidden,
        path: String::new(),
        rule: "role".into(),
        message: format!("role {} may not write {kind} documents", principal.role),
        server_heads: Vec::new(),
    }
}

/// The refusal of a write to a document outside the writer's territories: identical for
/// a document that exists (which the writer may not even know of) and for one being
/// created there, so a refusal never tells whether a document exists, nor its heads.
pub fn out_of_reach(principal: &Principal, id: DocId, kind: DocKind) -> Refusal {
    Refusal {
        id,
        kind,
        code: ErrorCode::Forbidden,
        path: String::new(),
        rule: "territory".into(),
        message: format!("{} may not write this {kind}: it is outside their territories", principal.user),
        server_heads: Vec::new(),
    }
}

/// The changes of `doc` (what the server holds) that a device pushing `chunk` may lack, as
/// one chunk of concatenated changes (empty if it lacks none). A device holds every change
/// it pushes, their dependencies and its heads, and with each of them all they depend on:
/// everything else the server holds may be missing there — say its own changes that the
/// server accepted on a connection that died before the device read the answer, and the
/// server's stamp on them. A refusal is preceded by these, so that the device holds the
/// server heads it restores to: restoring below them would drop its own changes that the
/// server holds, and its next change would re-use their sequence numbers.
pub fn changes_pusher_lacks(doc: &mut AutoCommit, chunk: &DocChunk, inspected: &Inspected) -> Vec<u8> {
    let mut shown: Vec<ChangeHash> = inspected.hashes().chain(chunk.heads.iter()).map(|h| ChangeHash(*h)).collect();
    for info in inspected.chunks.iter().filter(|c| c.kind != inspect::ChunkKind::Document) {
        let bytes = chunk.changes.get(info.offset..info.offset.saturating_add(info.len));
        if let Some(change) = bytes.and_then(|b| Change::try_from(b).ok()) {
            shown.extend_from_slice(change.deps());
        }
    }
    let mut seen = HashSet::new();
    let held: Vec<ChangeHash> =
        shown.into_iter().filter(|h| seen.insert(*h) && doc.get_change_meta_by_hash(h).is_some()).collect();
    doc.save_after(&held)
}

/// Read the pushed chunks of a Push frame without loading them: every chunk well formed
/// (magic, checksum, lengths, columns, no trailing bytes), each push and the frame as a
/// whole within `limits` (operations, references, changes, strings, inflated bytes).
/// Whether the operations make sense is decided by the load ([`authorize_inspected`]).
/// Changes whose dependencies are elsewhere (in the server's document) are fine here.
/// Much cheaper than loading: O(runs of the columns), no allocation per operation.
pub fn check_frame(docs: &[DocChunk], limits: &Limits) -> Result<Vec<Inspected>, (DocId, InspectError)> {
    let mut frame = inspect::Frame::new(*limits);
    docs.iter().map(|c| frame.inspect(&c.changes).map_err(|e| (c.id, e))).collect()
}

/// [`check_frame`] for one chunk alone.
#[cfg(test)]
pub fn check_well_formed(bytes: &[u8]) -> Result<Inspected, Rejection> {
    Ok(inspect::inspect(bytes, &Limits::DEFAULT)?)
}

/// Load the pushed bytes into the scratch copy; the changes new to it.
///
/// `load_incremental` skips a chunk it cannot decode (and everything after it) with
/// only a log line, so every change and document head the inspection found must be in
/// the scratch copy afterwards, or waiting there for a dependency. And automerge 0.12
/// panics on some data it cannot decode (or would not have encoded so): a panic is
/// bad changes too, the scratch copy is dropped.
fn load_scratch(
    scratch: &mut AutoCommit,
    bytes: &[u8],
    inspected: &Inspected,
    before: &[ChangeHash],
) -> Result<Vec<Change>, Rejection> {
    let load = || -> Result<Vec<Change>, Rejection> {
        scratch.load_incremental(bytes).map_err(|e: AutomergeError| Rejection::BadChanges(e.to_string()))?;
        let pushed: Vec<ChangeHash> = inspected.hashes().map(|h| ChangeHash(*h)).collect();
        // Neither applied nor queued (a queued change reports its missing dependencies
        // instead): skipped.
        let missing = scratch.get_missing_deps(&pushed);
        if let Some(lost) = pushed.iter().find(|h| missing.contains(h)) {
            return Err(Rejection::BadChanges(format!("change {lost} could not be loaded")));
        }
        if !missing.is_empty() {
            return Err(Rejection::MissingDeps);
        }
        Ok(scratch.get_changes(before))
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(load))
        .unwrap_or_else(|_| Err(Rejection::BadChanges("automerge could not load these changes".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT, ReadDoc};

    const MINE: &[u8] = &[1; 16];
    const THEIRS: &[u8] = &[2; 16];

    fn actors(a: &[&[u8]]) -> HashSet<Vec<u8>> {
        a.iter().map(|a| a.to_vec()).collect()
    }

    fn device_doc(actor: &[u8]) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(actor))
    }

    fn chunk(changes: Vec<u8>) -> DocChunk {
        DocChunk { id: DocId::new_random(), kind: DocKind::Customer, heads: vec![], changes }
    }

    fn edit(doc: &mut AutoCommit, key: &str, value: &str) -> Vec<u8> {
        let before = doc.get_heads();
        doc.put(ROOT, key, value).unwrap();
        doc.commit();
        doc.save_after(&before)
    }

    /// What a pusher lacks is what the server holds beyond the pushed changes, their
    /// dependencies and the pusher's heads: nothing it showed it holds is sent back.
    #[test]
    fn a_pusher_lacks_what_is_not_below_what_it_pushed() {
        let mut device = device_doc(MINE);
        let mut pushed = edit(&mut device, "name", "x");
        let mut server = AutoCommit::new();
        server.load_incremental(&pushed).unwrap();
        let mut theirs = server.fork().with_actor(ActorId::from(THEIRS));
        let lacking = edit(&mut theirs, "phone", "1");
        server.load_incremental(&lacking).unwrap();
        // The device pushes its change again with one on top (not held by the server).
        let top = edit(&mut device, "class", "A");
        pushed.extend_from_slice(&top);
        let mut c = chunk(pushed);
        c.heads = hashes_to_wire(&device.get_heads());
        let inspected = check_well_formed(&c.changes).unwrap();
        assert_eq!(changes_pusher_lacks(&mut server, &c, &inspected), lacking);
        // Only the new change, which depends on what the server holds: the same.
        let mut c = chunk(top);
        c.heads = hashes_to_wire(&device.get_heads());
        let inspected = check_well_formed(&c.changes).unwrap();
        assert_eq!(changes_pusher_lacks(&mut server, &c, &inspected), lacking);
        // Holding everything the server holds, it lacks nothing.
        device.load_incremental(&lacking).unwrap();
        let bytes = edit(&mut device, "notes", "m");
        let mut c = chunk(bytes);
        c.heads = hashes_to_wire(&device.get_heads());
        let inspected = check_well_formed(&c.changes).unwrap();
        assert!(changes_pusher_lacks(&mut server, &c, &inspected).is_empty());
    }

    #[test]
    fn own_changes_are_accepted() {
        let mut server = AutoCommit::new();
        let mut device = device_doc(MINE);
        let bytes = edit(&mut device, "name", "茅台专卖店");
        let ok = authorize(&mut server, &chunk(bytes), &actors(&[MINE])).unwrap();
        assert_eq!(ok.new_changes.len(), 1);
        assert!(server.get_heads().is_empty(), "the server's document is untouched");
        let mut scratch = ok.scratch;
        assert_eq!(scratch.get_heads(), device.get_heads());
    }

    #[test]
    fn whole_document_save_is_accepted() {
        let mut server = AutoCommit::new();
        let mut device = device_doc(MINE);
        edit(&mut device, "a", "1");
        edit(&mut device, "b", "2");
        let ok = authorize(&mut server, &chunk(device.save()), &actors(&[MINE])).unwrap();
        assert_eq!(ok.new_changes.len(), 2);
    }

    #[test]
    fn foreign_actor_is_refused_with_server_heads() {
        let mut server = device_doc(THEIRS);
        edit(&mut server, "name", "x");
        let heads = server.get_heads();
        let mut device = server.fork().with_actor(ActorId::from(THEIRS));
        let bytes = edit(&mut device, "name", "y");
        let Err(Rejection::Refused(r)) = authorize(&mut server, &chunk(bytes), &actors(&[MINE])) else {
            panic!("expected a refusal");
        };
        assert_eq!(r.code, ErrorCode::ActorNotYours);
        assert_eq!(r.rule, "actor-registered");
        assert_eq!(r.server_heads, hashes_to_wire(&heads));
    }

    #[test]
    fn known_foreign_changes_are_fine() {
        // Re-pushing changes the server already has (made by someone else) is allowed.
        let mut server = device_doc(THEIRS);
        let theirs = edit(&mut server, "name", "x");
        let mut device = device_doc(MINE);
        device.load_incremental(&theirs).unwrap();
        edit(&mut device, "class", "A");
        let ok = authorize(&mut server, &chunk(device.save()), &actors(&[MINE])).unwrap();
        assert_eq!(ok.new_changes.len(), 1);
        assert_eq!(ok.new_changes[0].actor_id().to_bytes(), MINE);
    }

    #[test]
    fn missing_dependencies_are_reported() {
        let mut server = AutoCommit::new();
        let mut device = device_doc(MINE);
        edit(&mut device, "a", "1");
        let second = edit(&mut device, "b", "2");
        assert!(matches!(authorize(&mut server, &chunk(second), &actors(&[MINE])), Err(Rejection::MissingDeps)));
    }

    #[test]
    fn garbage_is_bad_changes() {
        let mut server = AutoCommit::new();
        let mut device = device_doc(MINE);
        let good = edit(&mut device, "a", "1");
        let cases: Vec<Vec<u8>> = vec![
            b"definitely not automerge".to_vec(),
            vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 5, 1, 2, 3],
            [&good[..], b"trailing junk"].concat(),
            good[..good.len() - 2].to_vec(),
        ];
        for bytes in cases {
            assert!(
                matches!(
                    authorize(&mut server, &chunk(bytes.clone()), &actors(&[MINE])),
                    Err(Rejection::BadChanges(_))
                ),
                "{bytes:?}"
            );
        }
        // Also against a non-empty document.
        authorize(&mut server, &chunk(good.clone()), &actors(&[MINE])).unwrap();
        assert!(matches!(
            authorize(&mut server, &chunk(b"junk".to_vec()), &actors(&[MINE])),
            Err(Rejection::BadChanges(_))
        ));
    }

    // ---- work measured before loading ------------------------------------------------

    use crate::access::hostile_chunks;
    use std::time::{Duration, Instant};

    fn refusal_reason(got: Result<Authorized, Rejection>) -> Rejection {
        match got {
            Ok(a) => panic!("accepted {} changes", a.new_changes.len()),
            Err(r) => r,
        }
    }

    #[test]
    fn a_push_of_millions_of_operations_is_refused_before_loading() {
        let mut server = AutoCommit::new();
        let bytes = hostile_chunks::list_of_nulls(MINE, 5_000_000);
        let start = Instant::now();
        let got = refusal_reason(authorize(&mut server, &chunk(bytes.clone()), &actors(&[MINE])));
        let elapsed = start.elapsed();
        let Rejection::TooMuchWork(reason) = got else { panic!("{got:?}") };
        assert_eq!(reason, "too much work: 5000001 operations in one change, over the limit of 20000");
        assert!(elapsed < Duration::from_millis(50), "{elapsed:?} for {} bytes", bytes.len());
    }

    #[test]
    fn a_chunk_automerge_cannot_decode_is_bad_changes_even_when_load_incremental_skips_it() {
        let mut held = device_doc(THEIRS);
        edit(&mut held, "a", "1");
        for mut server in [AutoCommit::new(), held] {
            let mut device = server.fork().with_actor(ActorId::from(MINE));
            let good = edit(&mut device, "b", "2");
            let bad = hostile_chunks::undecodable(MINE);
            for bytes in [bad.clone(), [&good[..], &bad].concat(), [&bad[..], &good].concat()] {
                let got = refusal_reason(authorize(&mut server, &chunk(bytes), &actors(&[MINE, THEIRS])));
                assert!(matches!(got, Rejection::BadChanges(_)), "{got:?}");
            }
            assert!(authorize(&mut server, &chunk(good), &actors(&[MINE, THEIRS])).is_ok());
        }
    }

    #[test]
    fn changes_automerge_would_not_have_written_so_are_loaded_or_refused_never_a_panic() {
        // The hostile change with three nulls is valid, but encoded otherwise than
        // automerge would: automerge 0.12 loads it, then panics rebuilding it.
        let mut server = AutoCommit::new();
        match authorize(&mut server, &chunk(hostile_chunks::list_of_nulls(MINE, 3)), &actors(&[MINE])) {
            Ok(a) => assert_eq!(a.new_changes.len(), 1),
            Err(Rejection::BadChanges(reason)) => assert!(reason.contains("automerge"), "{reason}"),
            Err(other) => panic!("{other:?}"),
        }
        assert!(server.get_heads().is_empty());
    }

    #[test]
    fn a_push_that_would_make_the_document_too_big_is_refused_with_the_server_heads() {
        let mut server = device_doc(MINE);
        edit(&mut server, "a", "1");
        let heads = server.get_heads();
        let mut device = server.fork().with_actor(ActorId::from(MINE));
        let c = chunk(edit(&mut device, "b", "2"));
        let inspected = check_well_formed(&c.changes).unwrap();
        let tight = Limits { max_ops_per_doc: 1, ..Limits::DEFAULT };
        let got = refusal_reason(authorize_inspected(&mut server, &c, &inspected, &actors(&[MINE]), &tight));
        let Rejection::Refused(r) = got else { panic!("{got:?}") };
        assert_eq!((r.code, r.rule.as_str()), (ErrorCode::TooMuchWork, "document-size"));
        assert_eq!(r.server_heads, hashes_to_wire(&heads));
        let enough = Limits { max_ops_per_doc: 2, ..Limits::DEFAULT };
        assert!(authorize_inspected(&mut server, &c, &inspected, &actors(&[MINE]), &enough).is_ok());
    }

    #[test]
    fn a_frame_is_measured_as_a_whole() {
        // Eleven pushes of five changes of 20,000 operations: each push within its
        // 100,000, the frame over its 1,000,000.
        let push = hostile_chunks::list_of_nulls(MINE, 19_999).repeat(5);
        let docs: Vec<DocChunk> = (0..11).map(|_| chunk(push.clone())).collect();
        assert_eq!(check_frame(&docs[..10], &Limits::DEFAULT).unwrap().len(), 10);
        let Err((id, e)) = check_frame(&docs, &Limits::DEFAULT) else { panic!("accepted") };
        assert_eq!((id, e.code()), (docs[10].id, ErrorCode::TooMuchWork));
        assert!(e.to_string().contains("operations in one push frame, over the limit of 1000000"), "{e}");
    }

    // ---- field rights: a table of hostile changes ---------------------------------

    use protocol::Role;
    use protocol::schema::{customer, order};

    const LI: &[u8] = &[3; 16];
    const ADMIN_ACTOR: &[u8] = &[0xff; 16];

    fn who(role: Role, user: &str, territories: &[&str]) -> Principal {
        Principal { user: user.into(), role, territories: territories.iter().map(|t| t.to_string()).collect() }
    }

    fn facts(kind: DocKind, territory: Option<&str>) -> DocFacts {
        DocFacts::new(kind, territory.map(String::from), Some("li".into()))
    }

    /// A customer of 四川 as the server holds it (created by li's device).
    fn sichuan_customer(territory: &str) -> AutoCommit {
        let mut doc = device_doc(LI);
        let new =
            customer::NewCustomer {
                name: "成都酒行".into(), territory: Some(territory.into()), ..Default::default()
            };
        customer::init(&mut doc, &new, 1_000, "li").unwrap();
        customer::add_contact(&mut doc, "c1", "王经理", None, None).unwrap();
        doc.commit();
        doc
    }

    fn an_order() -> AutoCommit {
        let mut doc = device_doc(LI);
        order::init(&mut doc, DocId::new_random(), protocol::schema::OrderSource::Written, 1_000, "li").unwrap();
        let line =
            order::NewLine { id: "l1".into(), sku: "飞天53度".into(), spec: None, qty: 6, unit_price_fen: 149_900 };
        order::add_line(&mut doc, &line).unwrap();
        doc.commit();
        doc
    }

    /// What the case's writer does, on their replica of the server's document.
    type Edit = fn(&mut AutoCommit);

    struct Case {
        name: &'static str,
        who: Principal,
        kind: DocKind,
        /// The server's document, or None: the change creates it.
        server: Option<fn() -> AutoCommit>,
        /// For a new document: what the writer creates.
        create: Option<fn() -> AutoCommit>,
        edit: Edit,
        /// The territory a visit/order lands in (its customer's), if not a customer.
        child_territory: Option<&'static str>,
        /// Ok(fields written) or Err((path, rule)).
        want: Result<&'static [&'static str], (&'static str, &'static str)>,
    }

    fn run(case: &Case) -> Result<Vec<String>, (String, String, ErrorCode, usize)> {
        let mut server = case.server.map(|f| f()).unwrap_or_default();
        let writer_actor = match case.who.role {
            Role::Admin => ADMIN_ACTOR,
            _ => MINE,
        };
        let mut device = match case.create {
            Some(create) => create(),
            None => server.fork(),
        }
        .with_actor(ActorId::from(writer_actor));
        let before_heads = device.get_heads();
        (case.edit)(&mut device);
        device.commit();
        let bytes = if case.create.is_some() { device.save() } else { device.save_after(&before_heads) };
        let c = chunk(bytes);
        let actors = actors(&[MINE, LI, ADMIN_ACTOR]);
        let server_heads = hashes_to_wire(&server.get_heads());
        let mut authorized = authorize(&mut server, &c, &actors)
            .map_err(|e| (format!("{e:?}"), String::new(), ErrorCode::Internal, 0))?;
        let territory_of = |doc: &AutoCommit| match case.kind {
            DocKind::Customer => protocol::schema::root_string(doc, "territory"),
            _ => case.child_territory.map(String::from),
        };
        let before = case.server.map(|_| facts(case.kind, territory_of(&server).as_deref()));
        let after = facts(case.kind, territory_of(&authorized.scratch).as_deref());
        let ctx = WriteContext {
            principal: &case.who,
            id: c.id,
            kind: case.kind,
            before: before.as_ref(),
            after: &after,
            server_heads: &server_heads,
        };
        match check_rights(&ctx, &mut authorized) {
            Ok(fields) => Ok(fields.into_iter().collect()),
            Err(Rejection::Refused(r)) => Err((r.path, r.rule, r.code, r.server_heads.len())),
            Err(other) => Err((format!("{other:?}"), String::new(), ErrorCode::Internal, 0)),
        }
    }

    fn sc() -> AutoCommit {
        sichuan_customer("四川")
    }
    fn gz() -> AutoCommit {
        sichuan_customer("贵州")
    }

    #[test]
    fn hostile_changes_are_refused_field_by_field() {
        let rep = who(Role::Rep, "li", &["四川"]);
        let mgr = who(Role::Manager, "zhang", &["四川", "贵州"]);
        let fin = who(Role::Finance, "qian", &[]);
        let cases = vec![
            Case {
                name: "own customer's name",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| customer::set(d, "name", "成都名酒行", 2, "li").unwrap(),
                child_territory: None,
                want: Ok(&["name"]),
            },
            Case {
                name: "a contact's phone counts as contacts",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| customer::add_contact(d, "c2", "李总", Some("139"), None).unwrap(),
                child_territory: None,
                want: Ok(&["contacts"]),
            },
            Case {
                name: "notes text",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| customer::set(d, "notes", "喜欢酱香", 2, "li").unwrap(),
                child_territory: None,
                want: Ok(&["notes"]),
            },
            Case {
                name: "rep moves own customer",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| customer::reassign(d, "贵州", None).unwrap(),
                child_territory: None,
                want: Err(("territory", "role")),
            },
            Case {
                name: "rep sets the owner",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| d.put(automerge::ROOT, "owner", "wang").unwrap(),
                child_territory: None,
                want: Err(("owner", "role")),
            },
            Case {
                name: "rewriting created_by",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| d.put(automerge::ROOT, "created_by", "wang").unwrap(),
                child_territory: None,
                want: Err(("created_by", "create-only")),
            },
            Case {
                name: "deleting and re-creating doc_kind",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| {
                    d.delete(automerge::ROOT, "doc_kind").unwrap();
                    d.put(automerge::ROOT, "doc_kind", "customer").unwrap();
                },
                child_territory: None,
                want: Err(("doc_kind", "create-only")),
            },
            Case {
                name: "deleting the territory (even by a manager it is a territory write)",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| d.delete(automerge::ROOT, "territory").unwrap(),
                child_territory: None,
                want: Err(("territory", "role")),
            },
            Case {
                name: "unknown field",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| d.put(automerge::ROOT, "colour", "red").unwrap(),
                child_territory: None,
                want: Err(("colour", "unknown-field")),
            },
            Case {
                name: "another territory's customer",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: Some(gz),
                create: None,
                edit: |d| customer::set(d, "phone", "138", 2, "li").unwrap(),
                child_territory: None,
                want: Err(("phone", "territory")),
            },
            Case {
                name: "manager moves a customer inside the team",
                who: mgr.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| customer::reassign(d, "贵州", Some("wang")).unwrap(),
                child_territory: None,
                want: Ok(&["owner", "territory"]),
            },
            Case {
                name: "manager moves a customer out of the team",
                who: mgr.clone(),
                kind: DocKind::Customer,
                server: Some(sc),
                create: None,
                edit: |d| customer::reassign(d, "云南", None).unwrap(),
                child_territory: None,
                want: Err(("territory", "territory")),
            },
            Case {
                name: "finance confirms payment (an order event)",
                who: fin.clone(),
                kind: DocKind::Order,
                server: Some(an_order),
                create: None,
                edit: |d| order::record_event(d, "paid", 3, "qian").unwrap(),
                child_territory: Some("四川"),
                want: Ok(&["events"]),
            },
            Case {
                name: "finance edits an order line's price",
                who: fin.clone(),
                kind: DocKind::Order,
                server: Some(an_order),
                create: None,
                edit: |d| {
                    let lines = match d.get(automerge::ROOT, "lines").unwrap() {
                        Some((_, id)) => id,
                        None => panic!("no lines"),
                    };
                    let line = d.get(&lines, 0).unwrap().unwrap().1;
                    d.put(&line, "unit_price_fen", 1).unwrap();
                },
                child_territory: Some("四川"),
                want: Err(("lines", "role")),
            },
            Case {
                name: "finance deletes and re-creates the lines",
                who: fin.clone(),
                kind: DocKind::Order,
                server: Some(an_order),
                create: None,
                edit: |d| {
                    d.delete(automerge::ROOT, "lines").unwrap();
                    d.put_object(automerge::ROOT, "lines", automerge::ObjType::List).unwrap();
                },
                child_territory: Some("四川"),
                want: Err(("lines", "role")),
            },
            Case {
                name: "rep re-points an order to another customer",
                who: rep.clone(),
                kind: DocKind::Order,
                server: Some(an_order),
                create: None,
                edit: |d| d.put(automerge::ROOT, "customer", DocId::new_random().to_string()).unwrap(),
                child_territory: Some("四川"),
                want: Err(("customer", "create-only")),
            },
            Case {
                name: "rep creates a customer at home (sets territory and owner)",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: None,
                create: Some(sc),
                edit: |_| {},
                child_territory: None,
                want: Ok(&[
                    "class_history",
                    "contacts",
                    "created_at",
                    "created_by",
                    "doc_kind",
                    "name",
                    "notes",
                    "owner",
                    "territory",
                ]),
            },
            Case {
                name: "rep creates a customer in another territory",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: None,
                create: Some(gz),
                edit: |_| {},
                child_territory: None,
                want: Err(("", "territory")),
            },
            Case {
                name: "rep creates an order for another territory's customer",
                who: rep.clone(),
                kind: DocKind::Order,
                server: None,
                create: Some(an_order),
                edit: |_| {},
                child_territory: Some("贵州"),
                want: Err(("", "territory")),
            },
            Case {
                name: "finance creates an order",
                who: fin.clone(),
                kind: DocKind::Order,
                server: None,
                create: Some(an_order),
                edit: |_| {},
                child_territory: Some("四川"),
                want: Err(("", "role")),
            },
            Case {
                name: "a new document with an unknown field",
                who: rep.clone(),
                kind: DocKind::Customer,
                server: None,
                create: Some(sc),
                edit: |d| d.put(automerge::ROOT, "discount_override", 90).unwrap(),
                child_territory: None,
                want: Err(("discount_override", "unknown-field")),
            },
        ];
        for case in &cases {
            let got = run(case);
            match (&got, &case.want) {
                (Ok(fields), Ok(want)) => assert_eq!(fields, want, "{}", case.name),
                (Err((path, rule, code, _)), Err((want_path, want_rule))) => {
                    assert_eq!((path.as_str(), rule.as_str()), (*want_path, *want_rule), "{}", case.name);
                    assert_eq!(*code, ErrorCode::Forbidden, "{}", case.name);
                }
                _ => panic!("{}: got {got:?}, want {:?}", case.name, case.want),
            }
        }
    }

    #[test]
    fn out_of_reach_refusals_do_not_tell_whether_the_document_exists() {
        let rep = who(Role::Rep, "li", &["四川"]);
        let existing = out_of_reach(&rep, DocId(uuid::Uuid::nil()), DocKind::Customer);
        let created = run(&Case {
            name: "create",
            who: rep.clone(),
            kind: DocKind::Customer,
            server: None,
            create: Some(gz),
            edit: |_| {},
            child_territory: None,
            want: Err(("", "territory")),
        })
        .unwrap_err();
        assert_eq!((existing.path.as_str(), existing.rule.as_str()), (created.0.as_str(), created.1.as_str()));
        assert!(existing.server_heads.is_empty());
        assert_eq!(created.3, 0, "no server heads for a document that does not exist");
    }

    #[test]
    fn a_write_that_loses_a_conflict_is_still_checked() {
        // The server took an admin's owner change; li's device, not having seen it, sets the
        // owner too. Li's write loses the conflict (higher actor wins), so no patch would
        // show it: the operation is refused all the same.
        let mut server = sc();
        let mut li = server.fork().with_actor(ActorId::from(MINE));
        let mut admin = server.fork().with_actor(ActorId::from(ADMIN_ACTOR));
        admin.put(automerge::ROOT, "owner", "wang").unwrap();
        admin.commit();
        server.merge(&mut admin).unwrap();
        let before = li.get_heads();
        li.put(automerge::ROOT, "owner", "zhao").unwrap();
        li.commit();
        let c = chunk(li.save_after(&before));
        let mut authorized = authorize(&mut server, &c, &actors(&[MINE])).unwrap();
        assert_eq!(protocol::schema::root_string(&authorized.scratch, "owner").as_deref(), Some("wang"));
        let rep = who(Role::Rep, "li", &["四川"]);
        let f = facts(DocKind::Customer, Some("四川"));
        let ctx = WriteContext {
            principal: &rep,
            id: c.id,
            kind: DocKind::Customer,
            before: Some(&f),
            after: &f,
            server_heads: &[],
        };
        let got = check_rights(&ctx, &mut authorized);
        let Err(Rejection::Refused(r)) = got else { panic!("{got:?}") };
        assert_eq!((r.path.as_str(), r.rule.as_str()), ("owner", "role"));
    }

    #[test]
    fn nothing_new_is_accepted_empty() {
        let mut server = AutoCommit::new();
        let ok = authorize(&mut server, &chunk(vec![]), &actors(&[])).unwrap();
        assert!(ok.new_changes.is_empty());
    }

    // ---- order events: what each new entry says, and append-only ------------------

    /// An order of 四川 as the server holds it: created and submitted by li.
    fn submitted_order() -> AutoCommit {
        let mut doc = an_order();
        order::record_event(&mut doc, "submitted", 2_000, "li").unwrap();
        doc.commit();
        doc
    }

    fn event(kind: &str, by: &str) -> order::OrderEvent {
        order::OrderEvent { kind: kind.into(), at: 5_000, by: by.into(), ..Default::default() }
    }

    fn decision(kind: &str, by: &str, role: Option<&str>, hash: Option<&str>) -> order::OrderEvent {
        order::OrderEvent { role: role.map(String::from), hash: hash.map(String::from), ..event(kind, by) }
    }

    fn events_list(d: &AutoCommit) -> automerge::ObjId {
        match d.get(automerge::ROOT, "events").unwrap() {
            Some((_, id)) => id,
            None => panic!("no events"),
        }
    }

    /// Everything the server checks on a write to an order: field rights, then the events.
    fn check_order_write(
        who: &Principal,
        server: Option<&AutoCommit>,
        device: &mut AutoCommit,
        edit: &dyn Fn(&mut AutoCommit),
    ) -> Result<(), (String, String)> {
        let before_heads = device.get_heads();
        edit(device);
        device.commit();
        let bytes = if server.is_some() { device.save_after(&before_heads) } else { device.save() };
        let c = DocChunk { id: DocId::new_random(), kind: DocKind::Order, heads: vec![], changes: bytes };
        let mut server_doc = server.cloned().unwrap_or_default();
        let mut authorized =
            authorize(&mut server_doc, &c, &actors(&[MINE, LI])).map_err(|e| (format!("{e:?}"), String::new()))?;
        let f = facts(DocKind::Order, Some("四川"));
        let ctx = WriteContext {
            principal: who,
            id: c.id,
            kind: DocKind::Order,
            before: server.map(|_| &f),
            after: &f,
            server_heads: &[],
        };
        let as_pair = |r: Rejection| match r {
            Rejection::Refused(r) => {
                assert_eq!(r.code, ErrorCode::Forbidden);
                (r.path, r.rule)
            }
            other => (format!("{other:?}"), String::new()),
        };
        let fields = check_rights(&ctx, &mut authorized).map_err(as_pair)?;
        let author = if server.is_some() { "li" } else { who.user.as_str() };
        check_logs(&ctx, Some(author), server, &mut authorized, &fields).map(|_| ()).map_err(as_pair)
    }

    #[test]
    fn hostile_event_writes_are_refused() {
        let rep = who(Role::Rep, "li", &["四川"]);
        let mgr = who(Role::Manager, "zhang", &["四川"]);
        let exec = who(Role::Executive, "zhao", &[]);
        let fin = who(Role::Finance, "qian", &[]);
        let logi = who(Role::Logistics, "sun", &[]);
        let after_sales = who(Role::AfterSales, "zhou", &[]);
        let legal = who(Role::Legal, "wu", &[]);
        type Edit = Box<dyn Fn(&mut AutoCommit)>;
        type Want = Result<(), (&'static str, &'static str)>;
        let append = |e: order::OrderEvent| -> Edit { Box::new(move |d| order::append_event(d, &e).unwrap()) };
        let ok: Result<(), (&str, &str)> = Ok(());
        let no = |rule: &'static str| -> Result<(), (&str, &str)> { Err(("events", rule)) };
        let cases: Vec<(&str, &Principal, Edit, Want)> = vec![
            ("finance confirms payment", &fin, append(event("paid", "qian")), ok),
            ("logistics ships", &logi, append(event("shipped", "sun")), ok),
            ("the rep cancels", &rep, append(event("cancelled", "li")), ok),
            (
                "after-sales records an exception",
                &after_sales,
                append(decision("exception", "zhou", Some("after-sales"), None)),
                ok,
            ),
            ("the manager approves", &mgr, append(decision("approved", "zhang", Some("manager"), Some("ab"))), ok),
            ("an executive approves", &exec, append(decision("approved", "zhao", Some("executive"), Some("ab"))), ok),
            ("finance ships", &fin, append(event("shipped", "qian")), no("event-role")),
            ("logistics confirms payment", &logi, append(event("paid", "sun")), no("event-role")),
            ("the rep approves", &rep, append(decision("approved", "li", Some("rep"), Some("ab"))), no("event-role")),
            (
                "the rep closes as admin",
                &rep,
                append(decision("closed", "li", Some("admin"), None)),
                no("event-approver-role"),
            ),
            ("finance makes up a kind", &fin, append(event("refunded", "qian")), no("event-kind")),
            ("a label is not a kind", &fin, append(event("确认收款", "qian")), no("event-kind")),
            ("finance signs as someone else", &fin, append(event("paid", "li")), no("event-author")),
            (
                "the manager approves in the executive's name",
                &mgr,
                append(decision("approved", "zhang", Some("executive"), Some("ab"))),
                no("event-approver-role"),
            ),
            (
                "an approval without a role",
                &mgr,
                append(decision("approved", "zhang", None, Some("ab"))),
                no("event-approver-role"),
            ),
            (
                "an approval of no content",
                &mgr,
                append(decision("rejected", "zhang", Some("manager"), None)),
                no("event-hash"),
            ),
            ("legal may not append at all", &legal, append(event("exception", "wu")), Err(("events", "role"))),
            (
                "finance rewrites who submitted",
                &fin,
                Box::new(|d| {
                    let list = events_list(d);
                    let e = d.get(&list, 1).unwrap().unwrap().1;
                    d.put(&e, "by", "qian").unwrap();
                }),
                no("events-append-only"),
            ),
            (
                "the rep deletes the submission",
                &rep,
                Box::new(|d| {
                    let list = events_list(d);
                    d.delete(&list, 1).unwrap();
                }),
                no("events-append-only"),
            ),
            (
                "logistics overwrites an entry",
                &logi,
                Box::new(|d| {
                    let list = events_list(d);
                    d.put(&list, 0, "shipped").unwrap();
                }),
                no("events-append-only"),
            ),
            (
                "the rep replaces the whole list",
                &rep,
                Box::new(|d| {
                    d.delete(automerge::ROOT, "events").unwrap();
                    d.put_object(automerge::ROOT, "events", automerge::ObjType::List).unwrap();
                    order::record_event(d, "created", 1, "li").unwrap();
                }),
                no("events-append-only"),
            ),
            (
                "finance nests an object in a new event",
                &fin,
                Box::new(|d| {
                    order::record_event(d, "paid", 5_000, "qian").unwrap();
                    let list = events_list(d);
                    let n = d.length(&list);
                    let e = d.get(&list, n - 1).unwrap().unwrap().1;
                    d.put_object(&e, "comment", automerge::ObjType::Text).unwrap();
                }),
                no("events-append-only"),
            ),
            (
                "finance appends a plain value",
                &fin,
                Box::new(|d| {
                    let list = events_list(d);
                    let n = d.length(&list);
                    d.insert(&list, n, "paid").unwrap();
                }),
                no("events-append-only"),
            ),
        ];
        let mut server = submitted_order();
        for (name, who, edit, want) in cases {
            let mut device = server.fork().with_actor(ActorId::from(MINE));
            let got = check_order_write(who, Some(&server), &mut device, &*edit);
            let got = got.as_ref().map_err(|(p, r)| (p.as_str(), r.as_str())).map(|_| ());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_new_order_is_checked_event_by_event() {
        let rep = who(Role::Rep, "li", &["四川"]);
        let mut fine = an_order().with_actor(ActorId::from(MINE));
        assert_eq!(check_order_write(&rep, None, &mut fine, &|_| {}), Ok(()));
        // A rep creates an order that arrives already approved.
        let mut forged = an_order().with_actor(ActorId::from(MINE));
        let approve = |d: &mut AutoCommit| {
            order::append_event(d, &decision("approved", "li", Some("manager"), Some("ab"))).unwrap()
        };
        let got = check_order_write(&rep, None, &mut forged, &approve);
        assert_eq!(got, Err(("events".to_string(), "event-role".to_string())));
    }

    #[test]
    fn a_change_to_an_existing_event_that_loses_a_conflict_is_still_refused() {
        // The server holds a correction of the submission time (made before the rule, by
        // the highest actor); the rep's device, not having seen it, sets the time too. The
        // rep's write loses the conflict — no patch would show it — and is refused all the same.
        let mut server = submitted_order();
        let mut device = server.fork().with_actor(ActorId::from(MINE));
        let mut admin = server.fork().with_actor(ActorId::from(ADMIN_ACTOR));
        let list = events_list(&admin);
        let e = admin.get(&list, 1).unwrap().unwrap().1;
        admin.put(&e, "at", 9).unwrap();
        admin.commit();
        server.merge(&mut admin).unwrap();
        let rep = who(Role::Rep, "li", &["四川"]);
        let rewrite = |d: &mut AutoCommit| {
            let list = events_list(d);
            let e = d.get(&list, 1).unwrap().unwrap().1;
            d.put(&e, "at", 1).unwrap();
        };
        let got = check_order_write(&rep, Some(&server), &mut device, &rewrite);
        assert_eq!(got, Err(("events".to_string(), "events-append-only".to_string())));
        let mut merged = server.clone();
        merged.merge(&mut device).unwrap();
        assert_eq!(order::read(&merged, DocId::new_random()).unwrap().events[1].at, 9, "the rep's write lost");
    }

    // ---- policy publications ------------------------------------------------------

    fn example_policy(version: u32) -> protocol::pricing::Policy {
        let mut p = protocol::pricing::parse_policy_csv(include_str!("../../../examples/policy.csv")).unwrap();
        p.version = version;
        p
    }

    fn published_v1() -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(LI));
        protocol::schema::policy_doc::publish(&mut doc, &example_policy(1), 1_000, "ma").unwrap();
        doc.commit();
        doc
    }

    #[test]
    fn only_valid_policy_versions_are_published() {
        use automerge::ScalarValue;
        let market = who(Role::Market, "ma", &[]);
        let raw_version = |d: &mut AutoCommit, version: i64, body: Vec<u8>| {
            let list = d.get(automerge::ROOT, "versions").unwrap().unwrap().1;
            let n = d.length(&list);
            let v = d.insert_object(&list, n, automerge::ObjType::Map).unwrap();
            d.put(&v, "version", version).unwrap();
            d.put(&v, "published_at", ScalarValue::Timestamp(2_000)).unwrap();
            d.put(&v, "published_by", "ma").unwrap();
            d.put(&v, "body", ScalarValue::Bytes(body)).unwrap();
        };
        type Edit = Box<dyn Fn(&mut AutoCommit)>;
        let cases: Vec<(&str, Edit, Result<usize, &str>)> = vec![
            (
                "version 2",
                Box::new(|d| protocol::schema::policy_doc::publish(d, &example_policy(2), 2_000, "ma").unwrap()),
                Ok(1),
            ),
            ("a body that does not decode", Box::new(move |d| raw_version(d, 2, vec![1, 2, 3])), Err("policy-invalid")),
            (
                "an inconsistent policy",
                Box::new(move |d| {
                    let mut p = example_policy(2);
                    p.prices[0].sku = "NOT-IN-CATALOGUE".into();
                    raw_version(d, 2, p.to_bytes())
                }),
                Err("policy-invalid"),
            ),
            (
                "a body of another version",
                Box::new(move |d| raw_version(d, 2, example_policy(3).to_bytes())),
                Err("policy-invalid"),
            ),
            (
                "a number not above the published",
                Box::new(move |d| raw_version(d, 1, example_policy(1).to_bytes())),
                Err("policy-invalid"),
            ),
            (
                "rewriting version 1",
                Box::new(|d| {
                    let list = d.get(automerge::ROOT, "versions").unwrap().unwrap().1;
                    let v = d.get(&list, 0).unwrap().unwrap().1;
                    let mut cheaper = example_policy(1);
                    cheaper.prices[0].price_fen -= 100;
                    d.put(&v, "body", ScalarValue::Bytes(cheaper.to_bytes())).unwrap();
                }),
                Err("policy-invalid"),
            ),
            (
                "someone else's name",
                Box::new(|d| protocol::schema::policy_doc::publish(d, &example_policy(2), 2_000, "boss").unwrap()),
                Err("policy-invalid"),
            ),
        ];
        let server = published_v1();
        for (name, edit, want) in cases {
            let mut server = server.clone();
            let mut device = server.fork().with_actor(ActorId::from(MINE));
            let before_heads = device.get_heads();
            edit(&mut device);
            device.commit();
            let c = DocChunk {
                id: protocol::schema::policy_doc::POLICY_DOC_ID,
                kind: DocKind::Policy,
                heads: vec![],
                changes: device.save_after(&before_heads),
            };
            let before_doc = server.clone();
            let mut authorized = authorize(&mut server, &c, &actors(&[MINE])).unwrap();
            let f = DocFacts::new(DocKind::Policy, None, None);
            let ctx = WriteContext {
                principal: &market,
                id: c.id,
                kind: DocKind::Policy,
                before: Some(&f),
                after: &f,
                server_heads: &[],
            };
            let fields = check_rights(&ctx, &mut authorized).unwrap();
            let got = match check_logs(&ctx, None, Some(&before_doc), &mut authorized, &fields) {
                Ok(new) => Ok(new.iter().map(|(_, e)| e.len()).sum::<usize>()),
                Err(Rejection::Refused(r)) => {
                    assert_eq!((r.code, r.path.as_str()), (ErrorCode::Forbidden, "versions"), "{name}");
                    Err(r.rule)
                }
                Err(other) => panic!("{name}: {other:?}"),
            };
            assert_eq!(got.as_ref().map_err(String::as_str), want.as_ref().map_err(|r| *r), "{name}");
        }
    }
}
