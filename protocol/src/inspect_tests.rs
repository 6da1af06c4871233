use super::*;
use automerge::marks::{ExpandMark, Mark};
use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, Automerge, Change, LoadOptions, ObjType, OnPartialLoad, ROOT, ReadDoc, ScalarValue,
};
use std::time::{Duration, Instant};

// ---- counting what this thread allocates ----------------------------------------------

mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static BYTES: Cell<usize> = const { Cell::new(0) };
    }

    fn count(n: usize) {
        let _ = BYTES.try_with(|b| b.set(b.get().saturating_add(n)));
    }

    /// Bytes this thread allocated so far (every allocation, frees not subtracted).
    pub fn allocated() -> usize {
        BYTES.try_with(Cell::get).unwrap_or(0)
    }

    pub struct Counting;

    // SAFETY: forwards every call to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;
}

// ---- real data, made by automerge -----------------------------------------------------

const A: [u8; 16] = [0xa1; 16];
const B: [u8; 16] = [0xb2; 16];

fn device(actor: [u8; 16]) -> AutoCommit {
    AutoCommit::new().with_actor(ActorId::from(actor))
}

/// What automerge itself says about some changes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Truth {
    changes: u64,
    ops: u64,
    preds: u64,
    deps: u64,
    message_bytes: u64,
}

fn truth(changes: &[Change]) -> Truth {
    let mut t = Truth::default();
    for c in changes {
        t.changes += 1;
        t.ops += c.len() as u64;
        t.preds += c.decode().operations.iter().map(|op| op.pred.len() as u64).sum::<u64>();
        t.deps += c.deps().len() as u64;
        t.message_bytes += c.message().map_or(0, |m| m.len() as u64);
    }
    t
}

fn seen(w: &Work) -> Truth {
    Truth { changes: w.changes, ops: w.ops, preds: w.preds, deps: w.deps, message_bytes: w.message_bytes }
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    kinds: Vec<ChunkKind>,
    /// The changes the bytes hold (what automerge loads from them).
    changes: Vec<Change>,
    /// Change hashes and document heads the chunks name.
    hashes: Vec<Hash>,
}

fn change_chunks(name: &'static str, doc: &mut AutoCommit, before: &[automerge::ChangeHash]) -> Case {
    let changes = doc.get_changes(before);
    Case {
        name,
        bytes: doc.save_after(before),
        kinds: vec![ChunkKind::Change; changes.len()],
        hashes: changes.iter().map(|c| c.hash().0).collect(),
        changes,
    }
}

fn document(name: &'static str, doc: &mut AutoCommit, bytes: Vec<u8>) -> Case {
    Case {
        name,
        bytes,
        kinds: vec![ChunkKind::Document],
        changes: doc.get_changes(&[]),
        hashes: doc.get_heads().iter().map(|h| h.0).collect(),
    }
}

fn busy_customer() -> AutoCommit {
    let mut doc = device(A);
    doc.put(ROOT, "doc_kind", "customer").unwrap();
    doc.put(ROOT, "name", "成都酒行").unwrap();
    let notes = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
    doc.splice_text(&notes, 0, 0, "客户喜欢酱香型白酒，每月订货一次。").unwrap();
    doc.commit();
    let contacts = doc.put_object(ROOT, "contacts", ObjType::List).unwrap();
    for i in 0..20 {
        let c = doc.insert_object(&contacts, i, ObjType::Map).unwrap();
        doc.put(&c, "name", format!("联系人{i}")).unwrap();
        doc.put(&c, "phone", format!("1390000{i:04}")).unwrap();
        doc.commit();
    }
    let mut other = doc.fork().with_actor(ActorId::from(B));
    other.put(ROOT, "class", "A").unwrap();
    other.splice_text(&notes, 2, 0, "王总").unwrap();
    other.commit();
    doc.put(ROOT, "class", "B").unwrap();
    doc.commit();
    doc.merge(&mut other).unwrap();
    for day in 0..30 {
        doc.put(ROOT, "next_follow_up", ScalarValue::Timestamp(1_700_000_000_000 + day * 86_400_000)).unwrap();
        let long = "拜访记录：客户对新品反应良好，计划下月追加订单。".repeat(3);
        doc.splice_text(&notes, 0, 0, &long).unwrap();
        doc.commit();
    }
    doc
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();

    let mut doc = device(A);
    let before = doc.get_heads();
    doc.put(ROOT, "name", "茅台专卖").unwrap();
    doc.put(ROOT, "qty", 6).unwrap();
    doc.put(ROOT, "unit_price_fen", 149_900u64).unwrap();
    doc.put(ROOT, "discount", 0.95).unwrap();
    doc.put(ROOT, "paid", false).unwrap();
    doc.put(ROOT, "nothing", ScalarValue::Null).unwrap();
    doc.put(ROOT, "body", ScalarValue::Bytes(vec![1, 2, 3, 4, 5])).unwrap();
    doc.put(ROOT, "at", ScalarValue::Timestamp(1_700_000_000_000)).unwrap();
    doc.put(ROOT, "visits", ScalarValue::counter(0)).unwrap();
    doc.commit();
    out.push(change_chunks("puts of every scalar type", &mut doc, &before));

    let before = doc.get_heads();
    let notes = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
    doc.splice_text(&notes, 0, 0, "客户喜欢酱香型白酒，下次带样品。🍶").unwrap();
    doc.commit();
    out.push(change_chunks("a Text with Chinese", &mut doc, &before));

    let before = doc.get_heads();
    let lines = doc.put_object(ROOT, "lines", ObjType::List).unwrap();
    for i in 0..5 {
        let line = doc.insert_object(&lines, i, ObjType::Map).unwrap();
        doc.put(&line, "sku", format!("飞天53度-{i}")).unwrap();
        doc.put(&line, "qty", (i as i64) + 1).unwrap();
    }
    for i in 0..30 {
        doc.insert(&lines, 5 + i, ScalarValue::Null).unwrap();
    }
    doc.commit();
    out.push(change_chunks("list inserts (an order with five lines, thirty nulls)", &mut doc, &before));

    let before = doc.get_heads();
    doc.delete(ROOT, "paid").unwrap();
    doc.put(ROOT, "name", "茅台专卖店").unwrap();
    doc.splice_text(&notes, 2, 5, "").unwrap();
    doc.delete(&lines, 7).unwrap();
    doc.increment(ROOT, "visits", 3).unwrap();
    doc.increment(ROOT, "visits", -1).unwrap();
    doc.commit();
    out.push(change_chunks("deletes, overwrites, increments (predecessors)", &mut doc, &before));

    let before = doc.get_heads();
    doc.mark(&notes, Mark::new("bold".into(), true, 0, 2), ExpandMark::Both).unwrap();
    doc.commit();
    out.push(change_chunks("a mark on the text", &mut doc, &before));

    let before = doc.get_heads();
    doc.put(ROOT, "territory", "四川").unwrap();
    doc.commit_with(
        automerge::transaction::CommitOptions::default().with_message("reassigned by an administrator").with_time(7),
    );
    out.push(change_chunks("a server change with a commit message", &mut doc, &before));

    let before = doc.get_heads();
    let mut other = doc.fork().with_actor(ActorId::from(B));
    other.put(ROOT, "class", "A").unwrap();
    other.commit();
    doc.put(ROOT, "class", "B").unwrap();
    doc.commit();
    doc.merge(&mut other).unwrap();
    doc.put(ROOT, "class", "A").unwrap();
    doc.commit();
    out.push(change_chunks("several changes of two actors, a merge", &mut doc, &before));

    out.push(change_chunks("the whole history as change chunks", &mut doc, &[]));
    let saved = doc.save();
    out.push(document("a whole-document save()", &mut doc, saved));

    let mut busy = busy_customer();
    let saved = busy.save();
    out.push(document("a busy customer's document (deflated columns)", &mut busy, saved));
    let saved = busy.save_nocompress();
    out.push(document("the same, not deflated", &mut busy, saved));

    let mut big = device(A);
    let text = big.put_object(ROOT, "notes", ObjType::Text).unwrap();
    big.splice_text(&text, 0, 0, &"酱香型白酒，窖藏十五年。".repeat(40)).unwrap();
    big.commit();
    let mut change = big.get_last_local_change().unwrap();
    let compressed = change.bytes().into_owned();
    assert!(compressed.len() < change.raw_bytes().len(), "automerge compressed the change");
    out.push(Case {
        name: "a compressed change",
        bytes: compressed,
        kinds: vec![ChunkKind::CompressedChange],
        hashes: vec![change.hash().0],
        changes: vec![change],
    });

    let mut doc_then = busy_customer();
    let heads = doc_then.get_heads();
    let mut bytes = doc_then.save();
    doc_then.put(ROOT, "class", "C").unwrap();
    doc_then.commit();
    bytes.extend(doc_then.save_after(&heads));
    let mut changes = busy_customer().get_changes(&[]);
    changes.extend(doc_then.get_changes(&heads));
    let mut hashes: Vec<Hash> = heads.iter().map(|h| h.0).collect();
    hashes.extend(doc_then.get_changes(&heads).iter().map(|c| c.hash().0));
    out.push(Case {
        name: "a document then a change",
        bytes,
        kinds: vec![ChunkKind::Document, ChunkKind::Change],
        changes,
        hashes,
    });
    out
}

#[test]
fn real_changes_count_what_automerge_counts() {
    for case in cases() {
        let got = inspect(&case.bytes, &Limits::DEFAULT).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(got.chunks.iter().map(|c| c.kind).collect::<Vec<_>>(), case.kinds, "{}", case.name);
        assert_eq!(seen(&got.work), truth(&case.changes), "{}", case.name);
        assert_eq!(got.hashes().copied().collect::<Vec<_>>(), case.hashes, "{}", case.name);
        assert_eq!(got.chunks.iter().map(|c| c.len).sum::<usize>(), case.bytes.len(), "{}", case.name);
        assert_eq!(got.work.chunks, case.kinds.len() as u64, "{}", case.name);
        let largest = case.changes.iter().map(|c| c.len() as u64).max().unwrap_or(0);
        if case.kinds.iter().all(|k| *k != ChunkKind::Document) {
            assert_eq!(got.work.largest_change_ops, largest, "{}", case.name);
            let actors = case.changes.iter().map(|c| 1 + c.other_actor_ids().len() as u64).max().unwrap_or(0);
            assert_eq!(got.work.actors, actors, "{}", case.name);
        }
        // The inspector agrees with automerge's own load of the bytes.
        let loaded = Automerge::load(&case.bytes);
        if let Ok(doc) = &loaded {
            assert!(doc.stats().num_ops <= got.work.ops, "{}", case.name);
        }
    }
}

#[test]
fn deflated_document_columns_are_inflated_and_counted() {
    let mut doc = busy_customer();
    let deflated = inspect(&doc.save(), &Limits::DEFAULT).unwrap();
    let plain = inspect(&doc.save_nocompress(), &Limits::DEFAULT).unwrap();
    assert!(deflated.work.inflated_bytes > 0, "the busy customer has a deflated column");
    assert_eq!(plain.work.inflated_bytes, 0);
    assert_eq!(Work { inflated_bytes: 0, ..deflated.work }, plain.work);
}

#[test]
fn an_empty_push_is_no_work() {
    assert_eq!(inspect(&[], &Limits::DEFAULT).unwrap(), Inspected::default());
}

// ---- hand-made chunks -------------------------------------------------------------------

fn uleb(v: u64) -> Vec<u8> {
    uleb_bytes(v)
}

fn sleb(mut v: i64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A chunk with a correct checksum.
fn chunk(ty: u8, data: &[u8]) -> Vec<u8> {
    let len = uleb(data.len() as u64);
    let hash = sha256(&[&[ty], &len, data]);
    cat(&[&MAGIC, &hash[..4], &[ty], &len, data])
}

/// A compressed change chunk: the checksum is that of the change uncompressed.
fn compressed_chunk(checksum_of: &[u8], deflated: &[u8]) -> Vec<u8> {
    let hash = sha256(&[&[1], &uleb(checksum_of.len() as u64), checksum_of]);
    cat(&[&MAGIC, &hash[..4], &[2], &uleb(deflated.len() as u64), deflated])
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const fn spec(id: u32, ty: u32) -> u32 {
    (id << 4) | ty
}

// The columns of a change's operations (automerge's ids).
const OBJ_ACTOR: u32 = spec(0, 1);
const OBJ_CTR: u32 = spec(0, 2);
const KEY_ACTOR: u32 = spec(1, 1);
const KEY_CTR: u32 = spec(1, DELTA);
const KEY_STR: u32 = spec(1, STRING);
const INSERT: u32 = spec(3, BOOLEAN);
const ACTION: u32 = spec(4, 2);
const VAL_META: u32 = spec(5, VALUE_META);
const VAL: u32 = spec(5, VALUE);
const PRED_GROUP: u32 = spec(7, GROUP);
const PRED_ACTOR: u32 = spec(7, 1);
const PRED_CTR: u32 = spec(7, DELTA);

/// RLE: `n` copies of one encoded value.
fn run(n: u64, value: &[u8]) -> Vec<u8> {
    cat(&[&sleb(n as i64), value])
}

fn nulls(n: u64) -> Vec<u8> {
    cat(&[&[0], &uleb(n)])
}

fn string(s: &[u8]) -> Vec<u8> {
    cat(&[&uleb(s.len() as u64), s])
}

/// The body of a change chunk, written field by field.
struct RawChange {
    deps: Vec<Hash>,
    actor: Vec<u8>,
    seq: u64,
    start_op: u64,
    message: Vec<u8>,
    others: Vec<Vec<u8>>,
    cols: Vec<(u32, Vec<u8>)>,
}

impl RawChange {
    fn new(cols: Vec<(u32, Vec<u8>)>) -> Self {
        RawChange { deps: vec![], actor: A.to_vec(), seq: 1, start_op: 1, message: vec![], others: vec![], cols }
    }

    fn body(&self) -> Vec<u8> {
        let mut b = uleb(self.deps.len() as u64);
        self.deps.iter().for_each(|d| b.extend(d));
        b.extend(string(&self.actor));
        b.extend(uleb(self.seq));
        b.extend(uleb(self.start_op));
        b.extend(sleb(0));
        b.extend(string(&self.message));
        b.extend(uleb(self.others.len() as u64));
        self.others.iter().for_each(|a| b.extend(string(a)));
        b.extend(uleb(self.cols.len() as u64));
        for (s, data) in &self.cols {
            b.extend(uleb(u64::from(*s)));
            b.extend(uleb(data.len() as u64));
        }
        self.cols.iter().for_each(|(_, data)| b.extend(data));
        b
    }

    fn chunk(&self) -> Vec<u8> {
        chunk(1, &self.body())
    }
}

/// One change: make a list at the root, then insert `n` nulls into it — every column a
/// run or two, whatever `n`. Written by hand, it is the hostile push of the security
/// report (a few dozen bytes for millions of operations) and, for a small `n`, a change
/// automerge loads like any other.
fn list_of_nulls(n: u64) -> Vec<u8> {
    RawChange::new(vec![
        (OBJ_ACTOR, cat(&[&nulls(1), &run(n, &uleb(0))])),
        (OBJ_CTR, cat(&[&nulls(1), &run(n, &uleb(1))])),
        (KEY_ACTOR, nulls(n + 1)),
        (KEY_CTR, cat(&[&nulls(1), &run(n, &sleb(0))])),
        (KEY_STR, cat(&[&run(1, &string(b"l")), &nulls(n)])),
        (INSERT, cat(&[&uleb(1), &uleb(n)])),
        (ACTION, cat(&[&run(1, &uleb(2)), &run(n, &uleb(1))])),
        (VAL_META, run(n + 1, &uleb(0))),
        (PRED_GROUP, run(n + 1, &uleb(0))),
    ])
    .chunk()
}

#[test]
fn the_hand_made_list_of_nulls_is_what_automerge_loads() {
    let bytes = list_of_nulls(3);
    let doc = Automerge::load(&bytes).expect("automerge loads the hand-made change");
    // (Not `get_changes`: automerge 0.12 rebuilds changes from its operations and
    // expects the bytes it would have written itself.)
    assert_eq!((doc.stats().num_changes, doc.stats().num_ops), (1, 4));
    let (_, list) = doc.get(ROOT, "l").unwrap().unwrap();
    assert_eq!(doc.length(&list), 3);
    let change = Change::try_from(&bytes[..]).unwrap();
    assert_eq!(change.len(), 4);
    let got = inspect(&bytes, &Limits::DEFAULT).unwrap();
    assert_eq!(seen(&got.work), truth(std::slice::from_ref(&change)));
    assert_eq!(got.hashes().copied().collect::<Vec<_>>(), vec![change.hash().0]);
}

#[test]
fn the_hostile_push_is_refused_in_microseconds_without_allocating() {
    let n = 5_000_000;
    let bytes = list_of_nulls(n);
    let before = counting::allocated();
    let start = Instant::now();
    let got = inspect(&bytes, &Limits::DEFAULT);
    let elapsed = start.elapsed();
    let allocated = counting::allocated() - before;
    assert_eq!(
        got,
        Err(InspectError::TooMuch { measure: Measure::Ops, scope: Scope::Change, got: n + 1, limit: 20_000 })
    );
    eprintln!(
        "hostile push: {} bytes for {} operations, refused in {elapsed:?}, {allocated} bytes allocated",
        bytes.len(),
        n + 1
    );
    assert!(bytes.len() < 200, "{} bytes", bytes.len());
    assert!(elapsed < Duration::from_millis(50), "{elapsed:?} (a sanity bound, not a benchmark)");
    assert!(allocated < 4096, "{allocated} bytes allocated");
    // Even with no caps at all it is counted, not expanded.
    let before = counting::allocated();
    let work = check(&list_of_nulls(u64::MAX >> 2), &Limits::UNLIMITED).unwrap();
    assert_eq!(work.ops, (u64::MAX >> 2) + 1);
    assert!(counting::allocated() - before < 4096);
}

#[test]
fn work_bombs_are_refused_by_name() {
    let long_key = vec![b'k'; 1024];
    let pred_bomb = RawChange::new(vec![
        (KEY_STR, run(1, &string(b"name"))),
        (INSERT, uleb(1)),
        (ACTION, run(1, &uleb(1))),
        (VAL_META, run(1, &uleb(0))),
        (PRED_GROUP, run(1, &uleb(10_000_000))),
        (PRED_ACTOR, run(10_000_000, &uleb(0))),
        (PRED_CTR, run(10_000_000, &sleb(1))),
    ])
    .chunk();
    let key_bomb = RawChange::new(vec![
        (KEY_STR, run(10_000, &string(&long_key))),
        (INSERT, uleb(10_000)),
        (ACTION, run(10_000, &uleb(1))),
        (VAL_META, run(10_000, &uleb(0))),
        (PRED_GROUP, run(10_000, &uleb(0))),
    ])
    .chunk();
    let mut message = RawChange::new(vec![]);
    message.message = "很长的提交说明".repeat(300).into_bytes();
    let mut actors = RawChange::new(vec![]);
    actors.others = (0..2_000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let one_put = list_of_nulls(0);
    let many_small = one_put.repeat(20_001);
    // A longer column than the action column counts too.
    let long_insert =
        RawChange::new(vec![(INSERT, uleb(1_000_000)), (ACTION, run(1, &uleb(1))), (KEY_STR, run(1, &string(b"k")))]);
    let mut long_insert = long_insert;
    long_insert.cols.sort_by_key(|(s, _)| *s);
    let too_much = |measure, scope, got, limit| Err(InspectError::TooMuch { measure, scope, got, limit });
    let cases: Vec<(&str, Vec<u8>, Result<(), InspectError>)> = vec![
        ("ten million predecessors", pred_bomb, too_much(Measure::Preds, Scope::Push, 10_000_000, 200_000)),
        (
            "a 1 KB key repeated 10,000 times",
            key_bomb,
            too_much(Measure::StringBytes, Scope::Push, 10_240_000, 8 << 20),
        ),
        ("a long commit message", message.chunk(), too_much(Measure::MessageBytes, Scope::Change, 6300, 4096)),
        ("2,000 other actors", actors.chunk(), too_much(Measure::Actors, Scope::Change, 2001, 1000)),
        ("20,001 chunks", many_small, too_much(Measure::Changes, Scope::Push, 20_001, 20_000)),
        (
            "an insert column of a million rows",
            long_insert.chunk(),
            too_much(Measure::Ops, Scope::Change, 1_000_000, 20_000),
        ),
    ];
    for (name, bytes, want) in cases {
        let start = Instant::now();
        assert_eq!(inspect(&bytes, &Limits::DEFAULT).map(|_| ()), want, "{name}");
        assert!(start.elapsed() < Duration::from_secs(1), "{name}: {:?}", start.elapsed());
    }
}

/// A document chunk written by hand: no actors, no heads, the given columns.
fn raw_document(change_cols: &[(u32, Vec<u8>)], op_cols: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut b = cat(&[&uleb(1), &string(&A), &uleb(0)]);
    for cols in [change_cols, op_cols] {
        b.extend(uleb(cols.len() as u64));
        for (s, data) in cols {
            b.extend(uleb(u64::from(*s)));
            b.extend(uleb(data.len() as u64));
        }
    }
    for cols in [change_cols, op_cols] {
        cols.iter().for_each(|(_, data)| b.extend(data));
    }
    chunk(0, &b)
}

#[test]
fn document_bombs_are_refused_by_name() {
    const CHANGE_ACTOR: u32 = spec(0, 1);
    const DEPS_GROUP: u32 = spec(4, GROUP);
    const DEPS_INDEX: u32 = spec(4, DELTA);
    const MAX_OP: u32 = spec(1, DELTA);
    const MESSAGE: u32 = spec(3, STRING);
    let ops = raw_document(&[], &[(ACTION, run(5_000_000, &uleb(1)))]);
    let changes = raw_document(&[(CHANGE_ACTOR, run(1_000_000, &uleb(0)))], &[]);
    let deps = raw_document(&[(CHANGE_ACTOR, run(1, &uleb(0))), (DEPS_GROUP, run(1, &uleb(1 << 40)))], &[]);
    let deps_members = raw_document(
        &[(CHANGE_ACTOR, run(1, &uleb(0))), (DEPS_GROUP, run(1, &uleb(0))), (DEPS_INDEX, run(500_000, &sleb(1)))],
        &[],
    );
    let messages = raw_document(
        &[(CHANGE_ACTOR, run(10, &uleb(0))), (MAX_OP, run(10, &sleb(0))), (MESSAGE, run(10, &string(&[b'm'; 5000])))],
        &[],
    );
    let overflow = raw_document(&[(CHANGE_ACTOR, cat(&[&nulls(u64::MAX), &nulls(1)]))], &[]);
    let deflated_bomb = raw_document(&[], &[(ACTION | DEFLATE_BIT, deflate(&vec![0x7f; 20 << 20]))]);
    let too_much = |measure, scope, got, limit| Err(InspectError::TooMuch { measure, scope, got, limit });
    let cases: Vec<(&str, Vec<u8>, Result<(), InspectError>)> = vec![
        ("five million operations", ops, too_much(Measure::Ops, Scope::DocumentChunk, 5_000_000, 1_000_000)),
        ("a million changes", changes, too_much(Measure::Changes, Scope::Push, 1_000_000, 20_000)),
        ("2^40 dependencies", deps, too_much(Measure::Deps, Scope::Push, 1 << 40, 100_000)),
        ("half a million dependency rows", deps_members, too_much(Measure::Deps, Scope::Push, 500_000, 100_000)),
        ("long messages", messages, too_much(Measure::MessageBytes, Scope::Change, 5000, 4096)),
        ("a row count over 64 bits", overflow, Err(InspectError::Overflow { chunk: 0, what: "rows" })),
        (
            "a deflated column bomb",
            deflated_bomb,
            Err(InspectError::InflateCap { chunk: 0, scope: Scope::Push, limit: 8 << 20 }),
        ),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(inspect(&bytes, &Limits::DEFAULT).map(|_| ()), want, "{name}");
    }
}

#[test]
fn a_zip_bomb_is_refused_not_inflated() {
    // 32 MiB of zeros deflate to about 32 KB; the change would be 32 MiB once inflated.
    let zeros = vec![0u8; 32 << 20];
    let bomb = compressed_chunk(&zeros, &deflate(&zeros));
    drop(zeros);
    let before = counting::allocated();
    let start = Instant::now();
    let got = inspect(&bomb, &Limits::DEFAULT);
    let elapsed = start.elapsed();
    let allocated = counting::allocated() - before;
    eprintln!("zip bomb: {} bytes, refused in {elapsed:?}, {allocated} bytes allocated", bomb.len());
    assert_eq!(got, Err(InspectError::InflateCap { chunk: 0, scope: Scope::Push, limit: 8 << 20 }));
    // At most the budget plus one byte is ever held; counted cumulatively, the buffer
    // doubling on its way there allocates about three times the budget.
    assert!(allocated < 4 * (8 << 20), "{allocated}");

    // The budget is the push's: two compressed changes that fit alone do not together.
    let mut big = device(A);
    let text = big.put_object(ROOT, "notes", ObjType::Text).unwrap();
    big.splice_text(&text, 0, 0, &"窖藏十五年。".repeat(100)).unwrap();
    big.commit();
    let mut change = big.get_last_local_change().unwrap();
    let one = change.bytes().into_owned();
    let inflated = inspect(&one, &Limits::DEFAULT).unwrap().work.inflated_bytes;
    assert_eq!(inflated as usize, change.raw_bytes().len() - 8 - 1 - uleb(inflated).len());
    let tight = Limits { max_inflated_bytes_per_push: inflated * 3 / 2, ..Limits::DEFAULT };
    assert!(inspect(&one, &tight).is_ok());
    assert_eq!(
        inspect(&one.repeat(2), &tight),
        Err(InspectError::InflateCap { chunk: 1, scope: Scope::Push, limit: inflated * 3 / 2 })
    );
}

#[test]
fn a_frame_is_capped_as_a_whole() {
    let push = list_of_nulls(99);
    let limits = Limits { max_ops_per_push: 100, pushes_per_frame: 3, ..Limits::DEFAULT };
    let mut frame = Frame::new(limits);
    for _ in 0..3 {
        frame.inspect(&push).unwrap();
    }
    assert_eq!(frame.total().ops, 300);
    assert_eq!(
        frame.inspect(&push),
        Err(InspectError::TooMuch { measure: Measure::Ops, scope: Scope::Frame, got: 400, limit: 300 })
    );
    // The frame's inflation budget shrinks as its pushes inflate.
    let mut big = device(A);
    let text = big.put_object(ROOT, "notes", ObjType::Text).unwrap();
    big.splice_text(&text, 0, 0, &"窖藏十五年。".repeat(100)).unwrap();
    big.commit();
    let one = big.get_last_local_change().unwrap().bytes().into_owned();
    let inflated = inspect(&one, &Limits::DEFAULT).unwrap().work.inflated_bytes;
    let limits = Limits { max_inflated_bytes_per_push: inflated, pushes_per_frame: 2, ..Limits::DEFAULT };
    let mut frame = Frame::new(limits);
    frame.inspect(&one).unwrap();
    frame.inspect(&one).unwrap();
    assert_eq!(
        frame.inspect(&one),
        Err(InspectError::InflateCap { chunk: 0, scope: Scope::Frame, limit: 2 * inflated })
    );
}

// ---- malformed input --------------------------------------------------------------------

fn reason(r: Result<Inspected, InspectError>) -> String {
    match r {
        Err(InspectError::Malformed { reason, .. }) => reason,
        other => panic!("expected a malformed-data error, got {other:?}"),
    }
}

#[test]
fn malformed_input_is_named() {
    let good = list_of_nulls(3);
    let body = RawChange::new(vec![]).body();
    let with_body = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = body.clone();
        f(&mut b);
        chunk(1, &b)
    };
    let mut bad_checksum = good.clone();
    bad_checksum[4] ^= 1;
    let mut overlong_len = good[..8].to_vec();
    overlong_len.extend([1, 0x80 | (good.len() as u8 - 10), 0x00]);
    let mut zero_start = RawChange::new(vec![]);
    zero_start.start_op = 0;
    let mut bad_utf8 = RawChange::new(vec![]);
    bad_utf8.message = vec![0xff, 0xfe];
    let out_of_order = RawChange::new(vec![(ACTION, run(1, &uleb(1))), (KEY_STR, run(1, &string(b"k")))]);
    let deflated_col = RawChange::new(vec![(ACTION | DEFLATE_BIT, deflate(&run(1, &uleb(1))))]);
    let value_alone = RawChange::new(vec![(VAL, vec![1, 2, 3])]);
    let value_short = RawChange::new(vec![(VAL_META, run(1, &uleb((4 << 4) | 6))), (VAL, b"abc".to_vec())]);
    let values_missing = RawChange::new(vec![(VAL_META, run(1, &uleb((4 << 4) | 6)))]);
    let literal_lie = RawChange::new(vec![(ACTION, cat(&[&sleb(-1000), &uleb(1)]))]);
    let run_cut = RawChange::new(vec![(ACTION, sleb(5))]);
    let many_cols = RawChange::new((0..65).map(|i| (spec(20 + i, 2), vec![])).collect());
    let overlong_col = RawChange::new(vec![(ACTION, vec![0x82, 0x00, 0x01])]);
    let mut trailing_doc = raw_document(&[], &[]);
    let doc_data_len = trailing_doc.len() - 10;
    trailing_doc = chunk(0, &cat(&[&trailing_doc[10..10 + doc_data_len], &[7, 7]]));
    let zeros = b"not a change at all".to_vec();
    let truncated_deflate = {
        let inner = RawChange::new(vec![]).body();
        let d = deflate(&inner);
        compressed_chunk(&inner, &d[..d.len() - 2])
    };
    let deflate_trailing = {
        let inner = RawChange::new(vec![]).body();
        compressed_chunk(&inner, &cat(&[&deflate(&inner), b"xx"]))
    };
    let not_deflate = compressed_chunk(b"x", &[0xff; 8]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad magic", b"definitely not automerge".to_vec(), "bad magic"),
        ("magic only", MAGIC.to_vec(), "checksum: 4 bytes"),
        ("truncated header", good[..9].to_vec(), "truncated: chunk length"),
        ("length past the end", good[..good.len() - 1].to_vec(), "only"),
        ("an overlong length", overlong_len, "overlong"),
        ("trailing garbage", cat(&[&good, b"trailing junk"]), "bad magic"),
        ("a second chunk cut short", cat(&[&good, &good[..20]]), "only"),
        ("checksum mismatch", bad_checksum, "checksum"),
        ("unknown chunk type", chunk(7, &body), "unknown chunk type 7"),
        ("a bundle", chunk(3, &body), "bundle"),
        ("start op zero", zero_start.chunk(), "start op is zero"),
        ("a message that is not UTF-8", bad_utf8.chunk(), "UTF-8"),
        ("columns out of order", out_of_order.chunk(), "ascending order"),
        ("a deflated column in a change", deflated_col.chunk(), "may not be deflated"),
        ("a value column alone", value_alone.chunk(), "without its metadata"),
        ("values shorter than declared", value_short.chunk(), "declares 4 bytes"),
        ("values missing", values_missing.chunk(), "no value column"),
        ("a literal run longer than its column", literal_lie.chunk(), "literal run"),
        ("a run cut before its value", run_cut.chunk(), "truncated"),
        ("65 columns", many_cols.chunk(), "65 columns"),
        ("an overlong run length", overlong_col.chunk(), "overlong"),
        ("bytes after the columns' data in a document", trailing_doc, "after the end of the document"),
        ("dependencies past the end", with_body(&|b| b[0] = 5), "dependencies"),
        ("a truncated deflate stream", truncated_deflate, "deflate"),
        ("bytes after a deflate stream", deflate_trailing, "after the end of the deflate stream"),
        ("not deflate", not_deflate, "deflate"),
        ("garbage", zeros, "bad magic"),
        ("the old test's garbage", vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 5, 1, 2, 3], "only"),
    ];
    for (name, bytes, want) in cases {
        let got = reason(inspect(&bytes, &Limits::DEFAULT));
        assert!(got.contains(want), "{name}: {got}");
    }
    let e = inspect(&cat(&[&good, b"junk"]), &Limits::DEFAULT).unwrap_err();
    assert_eq!(e.to_string(), format!("chunk 1, byte {}: not an Automerge chunk (bad magic bytes)", good.len()));
    assert_eq!(e.code(), ErrorCode::BadChanges);
    let e = inspect(&list_of_nulls(1 << 30), &Limits::DEFAULT).unwrap_err();
    assert_eq!(e.to_string(), "too much work: 1073741825 operations in one change, over the limit of 20000");
    assert_eq!(e.code(), ErrorCode::TooMuchWork);
}

#[test]
fn truncations_and_bit_flips_are_errors() {
    let mut doc = device(A);
    doc.put(ROOT, "name", "成都酒行").unwrap();
    doc.commit();
    doc.put(ROOT, "class", "A").unwrap();
    doc.commit();
    let two = doc.save_after(&[]);
    let first_len = inspect(&two, &Limits::DEFAULT).unwrap().chunks[0].len;
    for cut in 1..two.len() {
        let got = inspect(&two[..cut], &Limits::DEFAULT);
        if cut == first_len {
            assert_eq!(got.unwrap().chunks.len(), 1);
        } else {
            assert!(matches!(got, Err(InspectError::Malformed { .. })), "cut at {cut}: {got:?}");
        }
    }
    for bytes in [two.clone(), doc.save()] {
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let got = inspect(&flipped, &Limits::DEFAULT);
            assert!(matches!(got, Err(InspectError::Malformed { .. })), "bit {bit}: {got:?}");
        }
    }
}

// ---- random mutations ---------------------------------------------------------------------

/// xorshift64*: deterministic, no crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Recompute the checksum of every uncompressed chunk whose header still parses, so that
/// mutations reach the body parsers (and automerge) instead of all failing the checksum.
fn fix_checksums(bytes: &mut [u8]) {
    let mut pos = 0;
    while pos + 10 <= bytes.len() && bytes[pos..pos + 4] == MAGIC {
        let ty = bytes[pos + 8];
        let mut r = Reader::new(&bytes[pos + 9..], 0, false);
        let Ok(len) = r.uleb("len") else { return };
        let data_start = pos + 9 + r.pos;
        let Some(end) = usize::try_from(len).ok().and_then(|l| data_start.checked_add(l)) else { return };
        if end > bytes.len() {
            return;
        }
        if ty == 0 || ty == 1 {
            let hash = sha256(&[&bytes[pos + 8..end]]);
            bytes[pos + 4..pos + 8].copy_from_slice(&hash[..4]);
        }
        pos = end;
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, others: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(3) {
        let len = bytes.len();
        let at = rng.below(len);
        match rng.below(9) {
            0 if len > 0 => bytes[at] ^= 1 << rng.below(8),
            1 if len > 0 => bytes[at] = rng.next() as u8,
            2 => bytes.insert(at.min(len), rng.next() as u8),
            3 if len > 0 => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            5 if len > 0 => {
                // A byte that often is a run length or a count: make it large.
                bytes[at] = [0x7f, 0x80, 0xff, 0x40, 0x00][rng.below(5)];
            }
            6 => {
                let from = rng.below(len);
                let to = (from + rng.below(32)).min(len);
                let piece = bytes[from..to].to_vec();
                let at = rng.below(bytes.len() + 1);
                bytes.splice(at..at, piece);
            }
            7 => {
                let other = &others[rng.below(others.len())];
                bytes.extend_from_slice(other);
            }
            _ if len > 0 => {
                // Plausible LEB128: a multi-byte number in place of one byte.
                let v = uleb(rng.next() >> rng.below(64));
                bytes.splice(at..at + 1, v);
            }
            _ => {}
        }
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run automerge on mutated data: `Err` if it panicked (silently: the panics are
/// counted, not printed).
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, ()> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                default(info)
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let got = std::panic::catch_unwind(f).map_err(|_| ());
    QUIET.with(|q| q.set(false));
    got
}

/// Automerge's own strict load; `Err` if it panicked.
fn strictly_loaded(bytes: &[u8]) -> Result<Option<Automerge>, ()> {
    quietly(|| Automerge::load_with_options(bytes, LoadOptions::new().on_partial_load(OnPartialLoad::Error)).ok())
}

#[test]
fn random_mutations_never_panic_nor_undercount() {
    let mut samples: Vec<Vec<u8>> = cases()
        .into_iter()
        .filter(|c| matches!(strictly_loaded(&c.bytes), Ok(Some(_))))
        .map(|c| c.bytes)
        .filter(|b| b.len() < 6_000)
        .collect();
    samples.push(list_of_nulls(3));
    assert!(samples.len() >= 5);
    // INSPECT_MUTATIONS / INSPECT_SEED run it longer or otherwise.
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let mut rng = Rng(env("INSPECT_SEED").unwrap_or(0x6a69_756c_6f6f_7021) | 1);
    let (mut accepted, mut loaded, mut automerge_panics) = (0, 0, 0);
    let iterations = env("INSPECT_MUTATIONS").unwrap_or(3_000);
    for i in 0..iterations {
        let mut bytes = samples[rng.below(samples.len())].clone();
        mutate(&mut rng, &mut bytes, &samples);
        if rng.below(4) != 0 {
            fix_checksums(&mut bytes);
        }
        let Ok(got) = inspect(&bytes, &Limits::DEFAULT) else { continue };
        accepted += 1;
        // Bounded work, so automerge may look: it never finds more than was counted.
        let Ok(doc) = strictly_loaded(&bytes) else {
            automerge_panics += 1;
            continue;
        };
        let Some(doc) = doc else { continue };
        loaded += 1;
        let Ok(real) = quietly(|| truth(&doc.get_changes(&[]))) else {
            automerge_panics += 1;
            continue;
        };
        assert!(real.ops <= got.work.ops, "iteration {i}: {real:?} vs {:?}", got.work);
        assert!(doc.stats().num_ops <= got.work.ops, "iteration {i}");
        assert!(real.changes <= got.work.changes, "iteration {i}: {real:?} vs {:?}", got.work);
    }
    // Automerge 0.12 panics on some of what the inspector lets through (data it cannot
    // decode, changes it would not have encoded so): the server catches those panics.
    eprintln!(
        "{iterations} mutations: {accepted} passed the inspector, {loaded} of them loaded by automerge, {automerge_panics} made automerge panic"
    );
    assert!(loaded > 0, "some mutations are valid data (else the comparison says nothing)");
}

// ---- cost ---------------------------------------------------------------------------------

/// `cargo test -p jiuloop-protocol --release measure_the_inspector -- --ignored --nocapture`:
/// the inspector against the `Automerge::load` the server used to check a push with.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_the_inspector_against_a_load() {
    let mut order = device(A);
    let before = order.get_heads();
    order.put(ROOT, "doc_kind", "order").unwrap();
    order.put(ROOT, "customer", "c-1").unwrap();
    let lines = order.put_object(ROOT, "lines", ObjType::List).unwrap();
    for i in 0..5 {
        let line = order.insert_object(&lines, i, ObjType::Map).unwrap();
        for (k, v) in [("sku", "飞天53度"), ("spec", "500ml×6"), ("id", "l1")] {
            order.put(&line, k, v).unwrap();
        }
        order.put(&line, "qty", 6).unwrap();
        order.put(&line, "unit_price_fen", 149_900).unwrap();
    }
    let notes = order.put_object(ROOT, "notes", ObjType::Text).unwrap();
    order.splice_text(&notes, 0, 0, "春节前送到，联系王经理。").unwrap();
    order.commit();
    let order_change = order.save_after(&before);
    let mut edit = order.fork();
    let before = edit.get_heads();
    edit.put(ROOT, "delivery_place", "成都市锦江区").unwrap();
    edit.commit();
    let small_edit = edit.save_after(&before);
    let mut busy = busy_customer();
    let samples: Vec<(&str, Vec<u8>)> = vec![
        ("one field edit", small_edit),
        ("an order with five lines", order_change),
        ("a busy customer, save()", busy.save()),
        ("a busy customer, 53 change chunks", busy.save_after(&[])),
    ];
    for (name, bytes) in samples {
        let work = check(&bytes, &Limits::DEFAULT).unwrap();
        let time = |f: &dyn Fn()| {
            let n = 2_000;
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed() / n
        };
        let inspector = time(&|| {
            std::hint::black_box(check(std::hint::black_box(&bytes), &Limits::DEFAULT).unwrap());
        });
        let load = time(&|| {
            std::hint::black_box(Automerge::load_with_options(std::hint::black_box(&bytes), LoadOptions::new()).ok());
        });
        eprintln!(
            "{name}: {} bytes, {} chunks, {} ops — inspector {inspector:?}, Automerge::load {load:?} ({:.0}×)",
            bytes.len(),
            work.chunks,
            work.ops,
            load.as_secs_f64() / inspector.as_secs_f64()
        );
    }
}
