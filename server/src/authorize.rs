//! Deciding whether a pushed chunk may be applied, on a scratch copy: the server's
//! document is never touched here. Pure: no storage, no network, unit-tested.

use automerge::{AutoCommit, Automerge, AutomergeError, Change, LoadOptions};
use protocol::ErrorCode;
use protocol::wire::{DocChunk, Refusal, hashes_to_wire};
use std::collections::HashSet;

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
    /// Some changes depend on changes the server does not have: apply nothing of this
    /// document; the device re-pushes from the server's heads.
    MissingDeps,
    /// The changes are valid but not allowed.
    Refused(Refusal),
}

/// Check a chunk against the document it is pushed to (`doc` is only forked, never
/// changed). `device_actors` are the actor ids registered to the pushing device.
pub fn authorize(
    doc: &mut AutoCommit,
    chunk: &DocChunk,
    device_actors: &HashSet<Vec<u8>>,
) -> Result<Authorized, Rejection> {
    check_well_formed(&chunk.changes)?;
    let before = doc.get_heads();
    let mut scratch = doc.fork();
    scratch.load_incremental(&chunk.changes).map_err(|e| Rejection::BadChanges(e.to_string()))?;
    if !scratch.get_missing_deps(&[]).is_empty() {
        return Err(Rejection::MissingDeps);
    }
    let new_changes = scratch.get_changes(&before);
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

/// `load_incremental` skips undecodable trailing data with only a log line, so decode
/// the bytes strictly on their own first. Changes whose dependencies are elsewhere
/// (in the server's document) are fine here.
fn check_well_formed(bytes: &[u8]) -> Result<(), Rejection> {
    match Automerge::load_with_options(bytes, LoadOptions::new()) {
        Ok(_) | Err(AutomergeError::MissingDeps) => Ok(()),
        Err(e) => Err(Rejection::BadChanges(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};
    use protocol::{DocId, DocKind};

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

    #[test]
    fn nothing_new_is_accepted_empty() {
        let mut server = AutoCommit::new();
        let ok = authorize(&mut server, &chunk(vec![]), &actors(&[])).unwrap();
        assert!(ok.new_changes.is_empty());
    }
}
