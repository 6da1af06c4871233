//! The storage contract as tests: every engine runs this one suite
//! (`storage_contract!(engine_name, factory)` in the engine's module). A factory returns a
//! fresh, empty storage each time, and can reopen it (`Reopen`) for engines that persist.
//!
//! What is checked is what the hub relies on: one global sequence over chunks and moves;
//! chunks after a cursor, in order, surviving compaction; reads filtered by the engine;
//! facts and moves; transactions and savepoints; effects exactly once; identity rows.

use super::*;

/// Makes storages for the suite.
pub(crate) trait Factory {
    /// A new, empty storage.
    fn fresh(&self) -> Box<dyn Storage>;
    /// The same storage closed and opened again (what a restart sees), if the engine
    /// persists; `None` otherwise.
    fn reopen(&self, old: Box<dyn Storage>) -> Option<Box<dyn Storage>>;
    /// Another connection to the storage `fresh` made last, for an engine several servers
    /// share; `None` otherwise.
    fn another_node(&self) -> Option<Box<dyn Storage>> {
        None
    }
}

/// Instantiate the suite for one engine: one `#[test]` per contract case.
macro_rules! storage_contract {
    ($factory:expr) => {
        $crate::storage::contract::storage_contract!(@cases $factory;
            sequence_numbers_cover_chunks_and_moves,
            chunks_after_a_cursor_survive_compaction,
            reads_are_filtered_by_the_engine,
            facts_children_and_moves,
            transactions_and_savepoints,
            effects_happen_once,
            generic_effects_wakeups_and_shipped_batches,
            attachment_references,
            identity_rows,
            admin_commands_and_audit,
            committed_data_survives_a_restart,
        );
    };
    (@cases $factory:expr; $($case:ident,)+) => {
        $(
            #[test]
            fn $case() {
                $crate::storage::contract::$case(&$factory);
            }
        )+
    };
}
pub(crate) use storage_contract;

const A: [u8; 16] = [1; 16];
const B: [u8; 16] = [2; 16];
const C: [u8; 16] = [3; 16];
const H1: [u8; 32] = [7; 32];

fn store(s: &dyn Storage, id: &[u8], kind: i64, bytes: &[u8]) -> i64 {
    s.begin().unwrap();
    let seq = s.store_change(id, kind, &H1, bytes, 1_000).unwrap();
    s.commit().unwrap();
    seq
}

fn facts<'a>(territory: Option<&'a str>, parent: Option<&'a [u8]>, author: Option<&'a str>) -> DocFactsRow<'a> {
    DocFactsRow { territory, parent, author, assignee: None }
}

pub(crate) fn sequence_numbers_cover_chunks_and_moves(f: &dyn Factory) {
    let s = f.fresh();
    assert_eq!(s.max_seq().unwrap(), 0);
    let a1 = store(&*s, &A, 1, b"a1");
    let b1 = store(&*s, &B, 3, b"b1");
    let a2 = store(&*s, &A, 1, b"a2");
    assert!(a1 < b1 && b1 < a2, "{a1} {b1} {a2}");
    assert_eq!(s.max_seq().unwrap(), a2);
    s.begin().unwrap();
    let m = s.next_seq().unwrap();
    assert!(m > a2);
    s.record_move(&B, Some("四川"), Some("贵州"), m, 2_000).unwrap();
    s.commit().unwrap();
    assert_eq!(s.max_seq().unwrap(), m, "a move's number is visible like a chunk's");
    let changed: Vec<Vec<u8>> = s.docs_changed_since(a1).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(changed, vec![A.to_vec(), B.to_vec()], "oldest change first: A at {a2}, B moved at {m}");
    assert_eq!(s.doc_count().unwrap(), 2);
}

pub(crate) fn chunks_after_a_cursor_survive_compaction(f: &dyn Factory) {
    let s = f.fresh();
    let s1 = store(&*s, &A, 1, b"one,");
    let s2 = store(&*s, &A, 1, b"two,");
    let s3 = store(&*s, &A, 1, b"three,");
    assert_eq!(s.doc_bytes(&A, None).unwrap(), b"one,two,three,");
    assert_eq!(s.doc_bytes(&A, Some(s1)).unwrap(), b"two,three,");
    assert_eq!(s.chunk_rows(&A).unwrap(), 3);
    let sb = store(&*s, &B, 1, b"b,");
    let mut first = s.first_seqs_since(s1).unwrap();
    first.sort();
    assert_eq!(first, vec![(A.to_vec(), s2), (B.to_vec(), sb)], "each document's first chunk after the cursor");
    assert_eq!(s.first_seqs_since(sb).unwrap(), vec![]);
    s.begin().unwrap();
    s.compact_doc(&A, b"SNAP(one,two)", s2).unwrap();
    s.commit().unwrap();
    assert_eq!(s.chunk_rows(&A).unwrap(), 1);
    let row = s.doc(&A).unwrap().unwrap();
    assert_eq!((row.snapshot_seq, row.last_seq, row.chunk_count), (s2, s3, 1));
    assert_eq!(s.doc_bytes(&A, None).unwrap(), b"SNAP(one,two)three,");
    assert_eq!(s.doc_bytes(&A, Some(s2)).unwrap(), b"three,");
    let loaded = s.load_doc(&A).unwrap().unwrap();
    assert_eq!(loaded.bytes, b"SNAP(one,two)three,");
    assert_eq!(loaded.row.heads, H1.to_vec());
    assert!(s.load_doc(&C).unwrap().is_none());
    assert_eq!(s.max_seq().unwrap(), sb, "compaction keeps the sequence");
}

pub(crate) fn reads_are_filtered_by_the_engine(f: &dyn Factory) {
    let s = f.fresh();
    store(&*s, &A, 1, b"a");
    store(&*s, &B, 1, b"b");
    store(&*s, &C, 2, b"c");
    s.begin().unwrap();
    s.set_doc_facts(&A, &facts(Some("四川"), None, Some("li"))).unwrap();
    s.set_doc_facts(&B, &facts(Some("贵州"), None, Some("wang"))).unwrap();
    s.set_doc_facts(&C, &DocFactsRow { assignee: Some("li"), ..facts(Some("贵州"), Some(&B), Some("wang")) }).unwrap();
    s.commit().unwrap();
    let ids = |filter: &ReadFilter| -> Vec<Vec<u8>> {
        s.readable_docs_changed_since(0, filter).unwrap().into_iter().map(|r| r.id).collect()
    };
    let sc = KindFilter::Territories(vec!["四川".into()]);
    assert_eq!(ids(&ReadFilter { kinds: vec![(1, sc.clone())] }), vec![A.to_vec()]);
    assert_eq!(ids(&ReadFilter { kinds: vec![(1, KindFilter::All)] }), vec![A.to_vec(), B.to_vec()]);
    assert_eq!(ids(&ReadFilter { kinds: vec![(2, KindFilter::Own("li".into()))] }), vec![C.to_vec()], "assignee");
    assert_eq!(ids(&ReadFilter { kinds: vec![(1, KindFilter::Own("wang".into()))] }), vec![B.to_vec()], "author");
    assert_eq!(ids(&ReadFilter { kinds: vec![(2, sc)] }), Vec::<Vec<u8>>::new());
    assert_eq!(ids(&ReadFilter::default()), Vec::<Vec<u8>>::new(), "nothing listed: nothing readable");
    let last = s.max_seq().unwrap();
    assert!(s.readable_docs_changed_since(last, &ReadFilter { kinds: vec![(1, KindFilter::All)] }).unwrap().is_empty());
}

pub(crate) fn facts_children_and_moves(f: &dyn Factory) {
    let s = f.fresh();
    store(&*s, &A, 1, b"customer");
    store(&*s, &B, 3, b"order");
    assert!(!s.doc(&A).unwrap().unwrap().facts_known);
    assert_eq!(s.docs_without_facts().unwrap().len(), 2);
    s.begin().unwrap();
    s.set_doc_facts(&A, &facts(Some("四川"), None, Some("li"))).unwrap();
    s.set_doc_facts(&B, &facts(Some("四川"), Some(&A), Some("li"))).unwrap();
    s.commit().unwrap();
    assert!(s.docs_without_facts().unwrap().is_empty());
    let row = s.doc(&B).unwrap().unwrap();
    assert_eq!(
        (row.territory.as_deref(), row.parent.as_deref(), row.author.as_deref()),
        (Some("四川"), Some(&A[..]), Some("li"))
    );
    let kids: Vec<Vec<u8>> = s.children_of(&A).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(kids, vec![B.to_vec()]);
    let before = s.max_seq().unwrap();
    s.begin().unwrap();
    let m = s.next_seq().unwrap();
    s.record_move(&A, Some("四川"), Some("贵州"), m, 5).unwrap();
    s.record_move(&B, Some("四川"), Some("贵州"), m, 5).unwrap();
    s.commit().unwrap();
    let moves = s.moves_since(before).unwrap();
    assert_eq!(moves.len(), 2);
    assert!(moves.iter().all(|mv| mv.seq == m && mv.current_territory.as_deref() == Some("贵州")));
    assert_eq!(moves[0].old_territory.as_deref(), Some("四川"));
    assert!(s.moves_since(m).unwrap().is_empty());
    assert_eq!(s.doc(&A).unwrap().unwrap().territory.as_deref(), Some("贵州"));
}

pub(crate) fn transactions_and_savepoints(f: &dyn Factory) {
    let s = f.fresh();
    s.begin().unwrap();
    assert!(s.in_transaction());
    s.store_change(&A, 1, &H1, b"kept", 1).unwrap();
    s.savepoint("frame").unwrap();
    s.store_change(&B, 1, &H1, b"undone", 1).unwrap();
    s.rollback_to("frame").unwrap();
    s.savepoint("frame").unwrap();
    s.store_change(&C, 1, &H1, b"released", 1).unwrap();
    s.release("frame").unwrap();
    s.commit().unwrap();
    assert!(!s.in_transaction());
    assert!(s.doc(&A).unwrap().is_some());
    assert!(s.doc(&B).unwrap().is_none(), "rolled back to the savepoint");
    assert!(s.doc(&C).unwrap().is_some());
    s.begin().unwrap();
    s.store_change(&B, 1, &H1, b"dropped", 1).unwrap();
    s.rollback();
    assert!(s.doc(&B).unwrap().is_none());
    let before = s.max_seq().unwrap();
    s.begin().unwrap();
    let n = s.next_seq().unwrap();
    s.rollback();
    assert_eq!(s.max_seq().unwrap(), before, "an abandoned number is never visible");
    assert!(n > before);
}

pub(crate) fn effects_happen_once(f: &dyn Factory) {
    let s = f.fresh();
    let row = AssignmentRow {
        order_id: A.to_vec(),
        assigned_at: 10,
        customer: Some(B.to_vec()),
        created_by: "li".into(),
        total_fen: Some(149_900),
    };
    s.begin().unwrap();
    assert!(s.insert_assignment(&row).unwrap());
    assert!(!s.insert_assignment(&AssignmentRow { assigned_at: 99, ..row.clone() }).unwrap());
    assert!(s.insert_notification(&A, "logistics", "assigned", 10, "发货").unwrap());
    assert!(!s.insert_notification(&A, "logistics", "assigned", 11, "again").unwrap());
    assert!(s.insert_notification(&A, "finance", "assigned", 10, "收款").unwrap());
    s.record_order_check(&A, 500, 10).unwrap();
    s.record_order_check(&A, 500, 20).unwrap();
    s.record_order_check(&C, 700, 20).unwrap();
    s.commit().unwrap();
    assert_eq!(s.assignment(&A).unwrap().unwrap().assigned_at, 10, "the first one counts");
    assert!(s.assignment(&C).unwrap().is_none());
    assert_eq!(s.notifications(None, Some(&A), 100).unwrap().len(), 2);
    let logistics = s.notifications(Some("logistics"), None, 100).unwrap();
    assert_eq!(logistics.len(), 1);
    assert_eq!(logistics[0].message, "发货");
    assert_eq!(s.unassigned_orders_since(0).unwrap(), vec![C.to_vec()], "A is assigned");
    assert!(s.unassigned_orders_since(701).unwrap().is_empty());
}

pub(crate) fn generic_effects_wakeups_and_shipped_batches(f: &dyn Factory) {
    let s = f.fresh();
    s.begin().unwrap();
    assert!(s.insert_effect(&A, "sla-breach", "ack", 10, "boss").unwrap());
    assert!(!s.insert_effect(&A, "sla-breach", "ack", 99, "again").unwrap(), "the same effect twice");
    assert!(s.insert_effect(&A, "sla-breach", "resolve", 20, "").unwrap());
    assert!(s.insert_effect(&B, "recall", "B2026-03", 30, "").unwrap());
    assert!(s.insert_effect(&C, "recall", "B2026-03", 31, "").unwrap());
    s.commit().unwrap();
    let row = s.effect(&A, "sla-breach", "ack").unwrap().unwrap();
    assert_eq!((row.at, row.data.as_str()), (10, "boss"), "the first one counts");
    assert!(s.effect(&A, "sla-breach", "other").unwrap().is_none());
    let keys: Vec<String> = s.effects_of(&A, Some("sla-breach")).unwrap().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, ["ack", "resolve"]);
    assert!(s.effects_of(&A, Some("recall")).unwrap().is_empty());
    assert_eq!(s.effects_of(&B, None).unwrap().len(), 1);
    assert_eq!(s.effect_docs("recall", "B2026-03").unwrap(), vec![B.to_vec(), C.to_vec()]);

    s.begin().unwrap();
    s.set_wakeup(&A, "sla", Some(100)).unwrap();
    s.set_wakeup(&B, "sla", Some(50)).unwrap();
    s.set_wakeup(&A, "sla", Some(200)).unwrap();
    s.set_wakeup(&C, "other", Some(10)).unwrap();
    s.commit().unwrap();
    let due: Vec<(Vec<u8>, String)> =
        s.due_wakeups(150, 10).unwrap().into_iter().map(|w| (w.doc_id, w.validator)).collect();
    assert_eq!(due, vec![(C.to_vec(), "other".to_string()), (B.to_vec(), "sla".to_string())], "moved, earliest first");
    assert_eq!(s.due_wakeups(1_000, 1).unwrap().len(), 1, "limit");
    assert_eq!(s.wakeups_of("sla").unwrap().len(), 2);
    s.begin().unwrap();
    s.set_wakeup(&B, "sla", None).unwrap();
    s.commit().unwrap();
    assert_eq!(s.wakeups_of("sla").unwrap().iter().map(|w| w.at).collect::<Vec<_>>(), vec![200]);

    let line = |order: &[u8], line: &str, batch: &str, customer: &[u8]| ShippedBatchRow {
        order_id: order.to_vec(),
        line: line.into(),
        batch: batch.into(),
        customer: Some(customer.to_vec()),
        sku: "MT-53-500".into(),
        qty: 6,
        at: 1,
    };
    s.begin().unwrap();
    assert!(s.insert_shipped_batch(&line(&A, "1", "B2026-03", &C)).unwrap());
    assert!(!s.insert_shipped_batch(&line(&A, "1", "B2026-03", &C)).unwrap());
    assert!(s.insert_shipped_batch(&line(&A, "1", "B2026-04", &C)).unwrap());
    assert!(s.insert_shipped_batch(&line(&B, "2", "B2026-03", &A)).unwrap());
    s.store_change(&A, 3, &H1, b"o", 1).unwrap();
    s.store_change(&B, 3, &H1, b"o", 1).unwrap();
    s.store_change(&C, 1, &H1, b"c", 1).unwrap();
    s.commit().unwrap();
    let customers: Vec<Option<Vec<u8>>> =
        s.shipped_with_batch("B2026-03").unwrap().into_iter().map(|r| r.customer).collect();
    assert_eq!(customers, vec![Some(A.to_vec()), Some(C.to_vec())]);
    assert!(s.shipped_with_batch("B0").unwrap().is_empty());
    assert_eq!(s.doc_ids_of_kind(3).unwrap(), vec![A.to_vec(), B.to_vec()]);
    assert_eq!(s.doc_ids_of_kind(1).unwrap(), vec![C.to_vec()]);
}

/// Attachments' owners and references live in the generic effects (`crate::access`):
/// dropped and re-added references, owners once each, across a restart.
pub(crate) fn attachment_references(f: &dyn Factory) {
    use crate::access::{add_blob_owner, is_blob_owner, set_blob_refs};
    let s = f.fresh();
    let (h, g) = ([9u8; 32], [7u8; 32]);
    let set = |v: &[[u8; 32]]| v.iter().copied().collect::<std::collections::BTreeSet<_>>();
    s.begin().unwrap();
    assert!(add_blob_owner(&*s, &h, "li", 5).unwrap());
    assert!(!add_blob_owner(&*s, &h, "li", 6).unwrap(), "owned once");
    assert_eq!(set_blob_refs(&*s, &A, &set(&[h, g]), "li", 7).unwrap(), vec![g, h]);
    assert!(set_blob_refs(&*s, &A, &set(&[h, g]), "wang", 8).unwrap().is_empty(), "the first adder stays");
    assert_eq!(set_blob_refs(&*s, &B, &set(&[h]), "wang", 9).unwrap(), vec![h]);
    assert!(set_blob_refs(&*s, &A, &set(&[g]), "li", 10).unwrap().is_empty(), "h dropped from A");
    assert_eq!(set_blob_refs(&*s, &A, &set(&[h, g]), "wang", 11).unwrap(), vec![h], "h referenced again");
    s.commit().unwrap();
    let refs = |doc: &[u8]| -> Vec<(String, String)> {
        let dropped: Vec<String> = s.effects_of(doc, Some("blob-drop")).unwrap().into_iter().map(|e| e.key).collect();
        let mut v: Vec<(String, String)> = s
            .effects_of(doc, Some("blob-ref"))
            .unwrap()
            .into_iter()
            .filter(|e| !dropped.contains(&e.key))
            .map(|e| (e.key[62..].to_string(), e.data))
            .collect();
        v.sort();
        v
    };
    assert_eq!(refs(&A), vec![("07/1".to_string(), "li".to_string()), ("09/2".into(), "wang".into())]);
    assert_eq!(s.effect_docs("blob-ref", &format!("{}/1", "09".repeat(32))).unwrap(), vec![A.to_vec(), B.to_vec()]);
    assert!(is_blob_owner(&*s, &h, "li").unwrap() && !is_blob_owner(&*s, &h, "wang").unwrap());
    let Some(s) = f.reopen(s) else { return };
    assert!(is_blob_owner(&*s, &h, "li").unwrap(), "owners survive a restart");
}

pub(crate) fn identity_rows(f: &dyn Factory) {
    let s = f.fresh();
    let user = |name: &str, territory: &str, manager: Option<&str>| NewUser {
        name: name.into(),
        password_hash: "h".into(),
        role: "rep".into(),
        territory: Some(territory.into()),
        manager: manager.map(String::from),
        created_at: 1,
    };
    s.insert_user(&user("zhang", "成都", None)).unwrap();
    s.insert_user(&user("li", "四川", Some("zhang"))).unwrap();
    s.insert_user(&user("wang", "贵州", Some("zhang"))).unwrap();
    assert!(s.insert_user(&user("li", "x", None)).unwrap_err().is_unique_violation());
    assert_eq!(s.users().unwrap().len(), 3);
    let mut team = s.team_territories("zhang").unwrap();
    team.sort();
    assert_eq!(team, vec!["四川".to_string(), "贵州".to_string()]);
    assert!(s.set_user_disabled("li", true).unwrap());
    assert!(s.user("li").unwrap().unwrap().disabled);
    assert!(!s.set_user_disabled("nobody", true).unwrap());
    let (d1, d2) = (Uuid::from_u128(1), Uuid::from_u128(2));
    s.upsert_device(d1, "li", "phone", 1).unwrap();
    s.upsert_device(d2, "wang", "laptop", 1).unwrap();
    assert_eq!(s.devices(Some("li")).unwrap().len(), 1);
    assert!(s.set_device_revoked(d1, true).unwrap());
    assert!(s.device(d1).unwrap().unwrap().revoked);
    s.insert_token("t1", "li", d1, 1, 100).unwrap();
    assert_eq!(s.token("t1").unwrap().unwrap().expires_at, 100);
    assert!(s.revoke_token("t1").unwrap());
    assert!(s.token("t1").unwrap().unwrap().revoked);
    assert!(s.token("none").unwrap().is_none());
    // Every token of a user, of a device, and no other.
    let d3 = Uuid::from_u128(3);
    s.upsert_device(d3, "li", "laptop", 1).unwrap();
    for (hash, user, device) in [("t2", "li", d1), ("t3", "li", d3), ("t4", "wang", d2), ("t5", "li", d3)] {
        s.insert_token(hash, user, device, 1, 100).unwrap();
    }
    assert_eq!(s.revoke_device_tokens(d3).unwrap(), 2);
    assert!(s.token("t3").unwrap().unwrap().revoked && s.token("t5").unwrap().unwrap().revoked);
    assert!(!s.token("t2").unwrap().unwrap().revoked);
    assert_eq!(s.revoke_user_tokens("li").unwrap(), 1, "t1, t3, t5 were revoked already");
    assert!(s.token("t2").unwrap().unwrap().revoked);
    assert!(!s.token("t4").unwrap().unwrap().revoked, "another user's token stays");
    assert_eq!(s.revoke_user_tokens("nobody").unwrap(), 0);
    let (a1, a2) = (vec![9u8; 16], vec![8u8; 16]);
    assert_eq!(
        s.register_actors(d1, "li", std::slice::from_ref(&a1), 1).unwrap(),
        ActorRegistration::Registered(vec![a1.clone()])
    );
    assert_eq!(
        s.register_actors(d2, "wang", &[a2.clone(), a1.clone()], 1).unwrap(),
        ActorRegistration::Conflict(a1.clone())
    );
    assert!(s.device_actors(d2).unwrap().is_empty(), "a conflict registers nothing");
    assert_eq!(
        s.register_actors(d1, "li", std::slice::from_ref(&a1), 2).unwrap(),
        ActorRegistration::Registered(vec![a1])
    );
}

pub(crate) fn admin_commands_and_audit(f: &dyn Factory) {
    let s = f.fresh();
    let first = s.enqueue_admin_command(r#"{"x":1}"#, 1).unwrap();
    let second = s.enqueue_admin_command(r#"{"x":2}"#, 2).unwrap();
    let pending: Vec<i64> = s.pending_admin_commands().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(pending, vec![first, second]);
    assert!(s.finish_admin_command(first, true, "done", 3).unwrap());
    assert!(!s.finish_admin_command(first, false, "again", 4).unwrap(), "finished once");
    let done = s.admin_command(first).unwrap().unwrap();
    assert_eq!((done.ok, done.result.as_deref()), (Some(true), Some("done")));
    assert_eq!(s.pending_admin_commands().unwrap().len(), 1);
    // Every node reads the commands after the last it saw, done or not.
    let after: Vec<i64> = s.admin_commands_after(0).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(after, vec![first, second]);
    let after: Vec<i64> = s.admin_commands_after(first).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(after, vec![second]);
    let entry = |doc: &'static [u8], user: &'static str, at: i64| NewAudit {
        at,
        user,
        device: None,
        doc_id: doc,
        kind: 1,
        seq: Some(at),
        refused: false,
        fields: r#"["name"]"#,
        changes: "[]",
        code: None,
        rule: None,
        message: None,
    };
    s.insert_audit(&entry(&A, "li", 1)).unwrap();
    s.insert_audit(&entry(&A, "wang", 2)).unwrap();
    s.insert_audit(&entry(&B, "li", 3)).unwrap();
    let of_a: Vec<i64> = s.audit_of_doc(&A, 10).unwrap().into_iter().map(|r| r.at).collect();
    let of_li: Vec<i64> = s.audit_of_user("li", 10).unwrap().into_iter().map(|r| r.at).collect();
    assert_eq!(of_a.len(), 2);
    assert_eq!(of_li.len(), 2);
    assert_eq!(s.audit_of_user("li", 1).unwrap().len(), 1, "limit");
    // One leader per database: a second connection does not lead while the first does.
    assert!(s.try_lead().unwrap() && s.try_lead().unwrap(), "the leader keeps leading");
    if let Some(other) = f.another_node() {
        assert!(s.is_shared());
        assert!(!other.try_lead().unwrap(), "a second node does not lead");
        drop(s);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !other.try_lead().unwrap() {
            assert!(std::time::Instant::now() < deadline, "the lead passes on when the leader goes");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

pub(crate) fn committed_data_survives_a_restart(f: &dyn Factory) {
    let s = f.fresh();
    let seq = store(&*s, &A, 1, b"durable");
    s.begin().unwrap();
    s.store_change(&B, 1, &H1, b"in flight", 1).unwrap();
    // Closed without commit: a crash before the commit.
    let Some(s) = f.reopen(s) else { return };
    assert_eq!(s.doc_bytes(&A, None).unwrap(), b"durable");
    assert!(s.doc(&B).unwrap().is_none(), "what was not committed is gone");
    assert_eq!(s.max_seq().unwrap(), seq);
    assert!(store(&*s, &C, 1, b"after") > seq, "numbers keep rising after a restart");
}
