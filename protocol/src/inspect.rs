//! How much work pushed Automerge bytes are, read from the chunk headers and the column
//! metadata *before* anything is loaded.
//!
//! A push (`DocChunk::changes`) is a concatenation of Automerge chunks. Its size in bytes
//! says little about the work it represents: a column is run-length encoded, so a few
//! bytes can say "five million operations", and a deflated column or change can inflate a
//! thousandfold. Loading such bytes into Automerge allocates and computes per operation.
//! This module is a small, strict reader of the storage format that counts the work in
//! O(number of runs) — never per operation, never allocating per operation — with checked
//! arithmetic, and refuses what is beyond [`Limits`].
//!
//! The subset read (Automerge binary format, as written by automerge 0.12):
//!
//! * chunk header: magic `85 6f 4a 83`, 4-byte checksum (first bytes of the SHA-256 of
//!   type, length and data — verified), type, LEB128 length;
//! * type 1, a change: dependencies, actor, seq, start op, time, commit message, other
//!   actors, the operation columns (none deflated), extra bytes;
//! * type 2, a compressed change: a raw deflate stream of a change's body, inflated
//!   within the inflation budget (a zip bomb stops at the cap, it is never inflated);
//! * type 0, a whole document: actors, heads, change columns, operation columns (each
//!   possibly deflated, inflated within the same budget), head indices.
//!
//! Bundles (type 3) and any other type are refused, as is anything truncated, any length
//! past the end, overlong or oversized LEB128, columns out of order, and trailing bytes.
//!
//! Every column is read by its type: RLE columns (actor, integer, delta, group, string,
//! value metadata) run by run, boolean columns count by count, raw value columns not at
//! all (their length is checked against what the value metadata declares). The number of
//! rows of a column is the sum of its run lengths; the operations of a change or a
//! document are the rows of its operation columns (the largest of them, so that a column
//! longer than the others is never overlooked: for data Automerge writes they are all the
//! action column's length, which is the number Automerge loads). The rows of the columns
//! inside a group (predecessors, successors, dependencies) are counted apart, as
//! references.
//!
//! What this reader does not decide: whether the operations make sense (the actions,
//! values, references). Automerge does, when the server loads the push — and because
//! `load_incremental` skips a chunk it cannot decode without failing, the server then
//! checks that every change and document head listed by [`Inspected::hashes`] arrived.

use crate::error_code::ErrorCode;
use crate::wire::Hash;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Automerge writes at most 14 columns per section; anything far beyond is not its data.
const MAX_COLUMNS: u64 = 64;
const HASH_LEN: u64 = 32;

// Column types (the low three bits of a column spec; 1 actor and 2 integer are plain
// unsigned RLE); bit 3 is "deflated", the rest the column id.
const GROUP: u32 = 0;
const DELTA: u32 = 3;
const BOOLEAN: u32 = 4;
const STRING: u32 = 5;
const VALUE_META: u32 = 6;
const VALUE: u32 = 7;
const DEFLATE_BIT: u32 = 8;
// A document's change columns read one by one: max op (1, delta), commit message
// (3, string), dependencies (4, group of delta-encoded change indices).
const DOC_MAX_OP_SPEC: u32 = (1 << 4) | DELTA;
const DOC_MESSAGE_SPEC: u32 = (3 << 4) | STRING;
const DOC_DEPS_GROUP_SPEC: u32 = (4 << 4) | GROUP;
const DOC_DEPS_INDEX_SPEC: u32 = (4 << 4) | DELTA;
/// At most this many changes (and dependencies) of one document chunk are walked to
/// count its operations exactly, whatever the limits (only with unlimited ones does it
/// matter).
const EXACT_UP_TO: u64 = 1 << 22;

/// Caps on the work a push may represent. Honest figures, for scale: an order with five
/// lines is about 100 operations; a whole document of a busy customer a few thousand
/// operations and a few hundred changes. The defaults leave ten times that headroom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Operations in one change chunk.
    pub max_ops_per_change: u64,
    /// Bytes of one commit message (devices write none; the server's are one line).
    pub max_message_bytes: u64,
    /// Operations in one push (the changes of one document, every chunk together).
    pub max_ops_per_push: u64,
    /// Changes in one push (change chunks plus the changes inside document chunks); also
    /// caps the number of chunks.
    pub max_changes_per_push: u64,
    /// Predecessor references in one push (a change's `pred`, a document's `succ`).
    pub max_preds_per_push: u64,
    /// Dependency references in one push.
    pub max_deps_per_push: u64,
    /// Actor ids one chunk names (a change's own and the others it refers to, a
    /// document's table): each new actor costs the document an index update.
    pub max_actors_per_chunk: u64,
    /// Bytes the string columns of one push expand to (keys, mark names, messages): a run
    /// of a million copies of a 1 KB key is a gigabyte once loaded.
    pub max_string_bytes_per_push: u64,
    /// Bytes one push may inflate to (compressed changes, deflated document columns).
    pub max_inflated_bytes_per_push: u64,
    /// Operations in one whole-document chunk, and in the document the server holds once
    /// the push is applied (checked by the server, which knows the document).
    pub max_ops_per_doc: u64,
    /// A Push frame carries the pushes of several documents: in total, at most this many
    /// times each per-push cap.
    pub pushes_per_frame: u64,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_ops_per_change: 20_000,
        max_message_bytes: 4 * 1024,
        max_ops_per_push: 100_000,
        max_changes_per_push: 20_000,
        max_preds_per_push: 200_000,
        max_deps_per_push: 100_000,
        max_actors_per_chunk: 1_000,
        max_string_bytes_per_push: 8 * 1024 * 1024,
        max_inflated_bytes_per_push: 8 * 1024 * 1024,
        max_ops_per_doc: 1_000_000,
        pushes_per_frame: 10,
    };

    /// No cap at all (tests, tools reading trusted data). Inflation is unbounded too.
    pub const UNLIMITED: Limits = Limits {
        max_ops_per_change: u64::MAX,
        max_message_bytes: u64::MAX,
        max_ops_per_push: u64::MAX,
        max_changes_per_push: u64::MAX,
        max_preds_per_push: u64::MAX,
        max_deps_per_push: u64::MAX,
        max_actors_per_chunk: u64::MAX,
        max_string_bytes_per_push: u64::MAX,
        max_inflated_bytes_per_push: u64::MAX,
        max_ops_per_doc: u64::MAX,
        pushes_per_frame: 1,
    };

    fn push_cap(&self, m: Measure) -> u64 {
        match m {
            Measure::Ops => self.max_ops_per_push,
            Measure::Changes | Measure::Chunks => self.max_changes_per_push,
            Measure::Preds => self.max_preds_per_push,
            Measure::Deps => self.max_deps_per_push,
            Measure::Actors => self.max_actors_per_chunk,
            Measure::StringBytes => self.max_string_bytes_per_push,
            Measure::InflatedBytes => self.max_inflated_bytes_per_push,
            Measure::MessageBytes => self.max_message_bytes,
        }
    }

    fn frame_cap(&self, m: Measure) -> u64 {
        self.push_cap(m).saturating_mul(self.pushes_per_frame.max(1))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The work some chunks represent. Every field is a count computed from the headers and
/// run lengths, never by materialising operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub chunks: u64,
    /// Changes: one per change chunk, the rows of a document chunk's change columns.
    pub changes: u64,
    /// Operations (rows of the operation columns).
    pub ops: u64,
    /// Predecessor references of changes, successor references of documents.
    pub preds: u64,
    /// Dependency references.
    pub deps: u64,
    /// The most actor ids one chunk names (a change's own and others, a document's
    /// table).
    pub actors: u64,
    /// Bytes of commit messages, every change's together.
    pub message_bytes: u64,
    /// Bytes the string columns expand to, commit messages included.
    pub string_bytes: u64,
    /// Bytes inflated (compressed changes, deflated document columns).
    pub inflated_bytes: u64,
    /// Operations of the largest change chunk.
    pub largest_change_ops: u64,
    /// Operations of the largest document chunk.
    pub largest_document_ops: u64,
    /// Bytes of the longest commit message.
    pub longest_message: u64,
}

impl Work {
    /// The sum of two amounts of work (largest-of for the `largest_*`/`longest_*` fields);
    /// `None` if a count overflows.
    pub fn checked_add(&self, o: &Work) -> Option<Work> {
        Some(Work {
            chunks: self.chunks.checked_add(o.chunks)?,
            changes: self.changes.checked_add(o.changes)?,
            ops: self.ops.checked_add(o.ops)?,
            preds: self.preds.checked_add(o.preds)?,
            deps: self.deps.checked_add(o.deps)?,
            actors: self.actors.max(o.actors),
            message_bytes: self.message_bytes.checked_add(o.message_bytes)?,
            string_bytes: self.string_bytes.checked_add(o.string_bytes)?,
            inflated_bytes: self.inflated_bytes.checked_add(o.inflated_bytes)?,
            largest_change_ops: self.largest_change_ops.max(o.largest_change_ops),
            largest_document_ops: self.largest_document_ops.max(o.largest_document_ops),
            longest_message: self.longest_message.max(o.longest_message),
        })
    }

    fn get(&self, m: Measure) -> u64 {
        match m {
            Measure::Ops => self.ops,
            Measure::Changes => self.changes,
            Measure::Chunks => self.chunks,
            Measure::Preds => self.preds,
            Measure::Deps => self.deps,
            Measure::Actors => self.actors,
            Measure::StringBytes => self.string_bytes,
            Measure::InflatedBytes => self.inflated_bytes,
            Measure::MessageBytes => self.message_bytes,
        }
    }
}

/// What a count is of, in an [`InspectError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Ops,
    Changes,
    Chunks,
    Preds,
    Deps,
    Actors,
    StringBytes,
    InflatedBytes,
    MessageBytes,
}

/// Summed over the push and the frame (message bytes and actors are capped per chunk).
const TOTALS: [Measure; 7] = [
    Measure::Ops,
    Measure::Changes,
    Measure::Chunks,
    Measure::Preds,
    Measure::Deps,
    Measure::StringBytes,
    Measure::InflatedBytes,
];

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Measure::Ops => "operations",
            Measure::Changes => "changes",
            Measure::Chunks => "chunks",
            Measure::Preds => "predecessor references",
            Measure::Deps => "dependency references",
            Measure::Actors => "actor ids",
            Measure::StringBytes => "bytes of strings",
            Measure::InflatedBytes => "inflated bytes",
            Measure::MessageBytes => "bytes of commit message",
        })
    }
}

/// Over what a cap is counted, in an [`InspectError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Change,
    DocumentChunk,
    Push,
    Frame,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::Change => "change",
            Scope::DocumentChunk => "document chunk",
            Scope::Push => "push",
            Scope::Frame => "push frame",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// Not Automerge data this server accepts. `offset` is in the pushed bytes, or in the
    /// inflated data of the chunk when `inflated`.
    #[error("chunk {chunk}, byte {offset}{}: {reason}", if *inflated { " of its inflated data" } else { "" })]
    Malformed { chunk: usize, offset: usize, inflated: bool, reason: String },
    /// Valid as far as the reader can tell, but more work than the limits allow.
    #[error("too much work: {got} {measure} in one {scope}, over the limit of {limit}")]
    TooMuch { measure: Measure, scope: Scope, got: u64, limit: u64 },
    /// A deflate stream would inflate past the budget (it was not inflated further).
    #[error("too much work: chunk {chunk} inflates past the limit of {limit} bytes for one {scope}")]
    InflateCap { chunk: usize, scope: Scope, limit: u64 },
    /// A count does not even fit in 64 bits.
    #[error("too much work: chunk {chunk}: the count of {what} overflows 64 bits")]
    Overflow { chunk: usize, what: &'static str },
}

impl InspectError {
    /// `bad_changes` for data that is not Automerge, `too_much_work` for the rest.
    pub fn code(&self) -> ErrorCode {
        match self {
            InspectError::Malformed { .. } => ErrorCode::BadChanges,
            _ => ErrorCode::TooMuchWork,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkKind {
    Document,
    Change,
    CompressedChange,
}

/// One chunk of a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkInfo {
    pub kind: ChunkKind,
    /// Where the chunk starts in the pushed bytes, and its length (header included).
    pub offset: usize,
    pub len: usize,
    /// What the document holds once the chunk is loaded: the change's hash, or the
    /// document chunk's heads.
    pub hashes: Vec<Hash>,
    pub work: Work,
}

/// The chunks of one push and their total work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspected {
    pub chunks: Vec<ChunkInfo>,
    pub work: Work,
}

impl Inspected {
    /// Every change hash and document head the push brings.
    pub fn hashes(&self) -> impl Iterator<Item = &Hash> + '_ {
        self.chunks.iter().flat_map(|c| c.hashes.iter())
    }
}

/// Inspect one push and refuse it beyond `limits`.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspected, InspectError> {
    Frame::new(*limits).inspect(bytes)
}

/// The work of one push, or why it is refused.
pub fn check(bytes: &[u8], limits: &Limits) -> Result<Work, InspectError> {
    inspect(bytes, limits).map(|i| i.work)
}

/// The pushes of one Push frame, inspected one after the other: each within the per-push
/// caps, all together within [`Limits::pushes_per_frame`] times them (inflation included:
/// the frame's budget shrinks as its pushes inflate).
#[derive(Clone, Debug)]
pub struct Frame {
    limits: Limits,
    total: Work,
}

impl Frame {
    pub fn new(limits: Limits) -> Self {
        Frame { limits, total: Work::default() }
    }

    /// The work of the pushes inspected so far.
    pub fn total(&self) -> Work {
        self.total
    }

    /// Inspect the next push of the frame (one document's bytes), failing fast: each
    /// chunk is checked as soon as it is read.
    pub fn inspect(&mut self, bytes: &[u8]) -> Result<Inspected, InspectError> {
        let limits = self.limits;
        let mut push = Work::default();
        let mut chunks = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let index = chunks.len();
            let push_left = limits.max_inflated_bytes_per_push.saturating_sub(push.inflated_bytes);
            let frame_left = limits
                .frame_cap(Measure::InflatedBytes)
                .saturating_sub(self.total.inflated_bytes.saturating_add(push.inflated_bytes));
            let (budget, scope) =
                if push_left <= frame_left { (push_left, Scope::Push) } else { (frame_left, Scope::Frame) };
            let exact_up_to = limits.max_changes_per_push.min(limits.max_deps_per_push).min(EXACT_UP_TO);
            let info = read_chunk(bytes, pos, budget, exact_up_to).map_err(|f| match f {
                Fault::Bad { offset, inflated, reason } => {
                    InspectError::Malformed { chunk: index, offset, inflated, reason }
                }
                Fault::Overflow(what) => InspectError::Overflow { chunk: index, what },
                Fault::Inflate => InspectError::InflateCap { chunk: index, scope, limit: limits.inflate_cap(scope) },
            })?;
            check_chunk(&info, &limits)?;
            push =
                push.checked_add(&info.work).ok_or(InspectError::Overflow { chunk: index, what: "the push's work" })?;
            let frame = self
                .total
                .checked_add(&push)
                .ok_or(InspectError::Overflow { chunk: index, what: "the frame's work" })?;
            for m in TOTALS {
                over(m, Scope::Push, push.get(m), limits.push_cap(m))?;
                over(m, Scope::Frame, frame.get(m), limits.frame_cap(m))?;
            }
            pos += info.len;
            chunks.push(info);
        }
        self.total =
            self.total.checked_add(&push).ok_or(InspectError::Overflow { chunk: 0, what: "the frame's work" })?;
        Ok(Inspected { chunks, work: push })
    }
}

impl Limits {
    fn inflate_cap(&self, scope: Scope) -> u64 {
        match scope {
            Scope::Frame => self.frame_cap(Measure::InflatedBytes),
            _ => self.max_inflated_bytes_per_push,
        }
    }
}

fn over(measure: Measure, scope: Scope, got: u64, limit: u64) -> Result<(), InspectError> {
    if got > limit { Err(InspectError::TooMuch { measure, scope, got, limit }) } else { Ok(()) }
}

fn check_chunk(c: &ChunkInfo, limits: &Limits) -> Result<(), InspectError> {
    let scope = match c.kind {
        ChunkKind::Change | ChunkKind::CompressedChange => {
            over(Measure::Ops, Scope::Change, c.work.ops, limits.max_ops_per_change)?;
            Scope::Change
        }
        ChunkKind::Document => {
            over(Measure::Ops, Scope::DocumentChunk, c.work.ops, limits.max_ops_per_doc)?;
            Scope::DocumentChunk
        }
    };
    over(Measure::Actors, scope, c.work.actors, limits.max_actors_per_chunk)?;
    over(Measure::MessageBytes, Scope::Change, c.work.longest_message, limits.max_message_bytes)
}

// ---- reading ----------------------------------------------------------------------------

/// Why reading stopped (turned into an [`InspectError`] with the chunk's index).
enum Fault {
    Bad {
        offset: usize,
        inflated: bool,
        reason: String,
    },
    Overflow(&'static str),
    /// The inflation budget ran out.
    Inflate,
}

type Read<T> = Result<T, Fault>;

fn add(a: u64, b: u64, what: &'static str) -> Read<u64> {
    a.checked_add(b).ok_or(Fault::Overflow(what))
}

fn mul(a: u64, b: u64, what: &'static str) -> Read<u64> {
    a.checked_mul(b).ok_or(Fault::Overflow(what))
}

/// A cursor over bytes that are either part of the push (`base` is where they start in
/// it) or inflated data (`base` 0).
#[derive(Clone)]
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    inflated: bool,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize, inflated: bool) -> Self {
        Reader { buf, pos: 0, base, inflated }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn bad_at(&self, pos: usize, reason: impl Into<String>) -> Fault {
        Fault::Bad { offset: self.base + pos, inflated: self.inflated, reason: reason.into() }
    }

    fn bad(&self, reason: impl Into<String>) -> Fault {
        self.bad_at(self.pos, reason)
    }

    fn byte(&mut self, what: &str) -> Read<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.bad(format!("truncated: {what} expected")))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64, what: &str) -> Read<Reader<'a>> {
        let left = self.remaining();
        let n = match usize::try_from(n) {
            Ok(n) if n <= left => n,
            _ => return Err(self.bad(format!("{what}: {n} bytes, but only {left} remain"))),
        };
        let sub = Reader::new(&self.buf[self.pos..self.pos + n], self.base + self.pos, self.inflated);
        self.pos += n;
        Ok(sub)
    }

    /// Unsigned LEB128, at most 64 bits, shortest form only.
    fn uleb(&mut self, what: &str) -> Read<u64> {
        let start = self.pos;
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte(what)?;
            if shift == 63 && b > 1 {
                return Err(self.bad_at(start, format!("{what}: LEB128 number over 64 bits")));
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 {
                    return Err(self.bad_at(start, format!("{what}: overlong LEB128 number")));
                }
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// Signed LEB128, at most 64 bits, shortest form only.
    fn sleb(&mut self, what: &str) -> Read<i64> {
        let start = self.pos;
        let mut value: i64 = 0;
        let mut shift = 0u32;
        let mut prev = 0u8;
        loop {
            let b = self.byte(what)?;
            if shift == 63 && b != 0 && b != 0x7f {
                return Err(self.bad_at(start, format!("{what}: LEB128 number over 64 bits")));
            }
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift > 7 && ((b == 0 && prev & 0x40 == 0) || (b == 0x7f && prev & 0x40 != 0)) {
                    return Err(self.bad_at(start, format!("{what}: overlong LEB128 number")));
                }
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            prev = b;
        }
    }

    /// `n` length-prefixed byte strings (actor ids).
    fn skip_prefixed(&mut self, n: u64, what: &str) -> Read<()> {
        // Each takes at least one byte: a count beyond the bytes left is a lie.
        if n > self.remaining() as u64 {
            return Err(self.bad(format!("{n} {what}, but only {} bytes remain", self.remaining())));
        }
        for _ in 0..n {
            let len = self.uleb(what)?;
            self.take(len, what)?;
        }
        Ok(())
    }
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn uleb_bytes(mut v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// One chunk starting at `start`; `budget`: bytes it may inflate to.
fn read_chunk(bytes: &[u8], start: usize, budget: u64, exact_up_to: u64) -> Read<ChunkInfo> {
    let mut r = Reader::new(&bytes[start..], start, false);
    let magic = r.take(4, "magic bytes")?;
    if magic.buf != MAGIC {
        return Err(r.bad_at(0, "not an Automerge chunk (bad magic bytes)"));
    }
    let checksum = r.take(4, "checksum")?.buf;
    let typed_from = r.pos;
    let chunk_type = r.byte("chunk type")?;
    let len = r.uleb("chunk length")?;
    // Type and length as written (the only encoding accepted is the shortest, which is
    // the one Automerge hashes).
    let header = &r.buf[typed_from..r.pos];
    let kind = match chunk_type {
        0 => ChunkKind::Document,
        1 => ChunkKind::Change,
        2 => ChunkKind::CompressedChange,
        3 => return Err(r.bad_at(typed_from, "bundle chunks are not accepted")),
        t => return Err(r.bad_at(typed_from, format!("unknown chunk type {t}"))),
    };
    let mut data = r.take(len, "chunk data")?;
    let end = r.pos;
    let verify = |hash: &Hash| {
        // Not a defence (anyone can compute it) but corruption is named as such, and
        // automerge would skip the chunk silently.
        if hash[..4] == *checksum { Ok(()) } else { Err(r.bad_at(4, "checksum does not match the chunk's data")) }
    };
    let (mut work, hashes) = match kind {
        ChunkKind::Document => {
            verify(&sha256(&[header, data.buf]))?;
            let (mut work, heads, inflated) = read_document(&mut data, budget, exact_up_to)?;
            work.inflated_bytes = inflated;
            (work, heads)
        }
        ChunkKind::Change => {
            let hash = sha256(&[header, data.buf]);
            verify(&hash)?;
            (read_change(&mut data)?, vec![hash])
        }
        ChunkKind::CompressedChange => {
            let inflated = inflate(data.buf, budget, &data)?;
            // The checksum and hash are those of the change uncompressed (type 1).
            let hash = sha256(&[&[1u8], &uleb_bytes(inflated.len() as u64), &inflated]);
            verify(&hash)?;
            let mut work = read_change(&mut Reader::new(&inflated, 0, true))?;
            work.inflated_bytes = inflated.len() as u64;
            (work, vec![hash])
        }
    };
    work.chunks = 1;
    Ok(ChunkInfo { kind, offset: start, len: end, hashes, work })
}

/// The body of a change chunk (inflated already for a compressed one).
fn read_change(r: &mut Reader<'_>) -> Read<Work> {
    let deps = r.uleb("dependency count")?;
    r.take(mul(deps, HASH_LEN, "dependencies")?, "dependencies")?;
    let actor_len = r.uleb("actor id")?;
    r.take(actor_len, "actor id")?;
    r.uleb("seq")?;
    if r.uleb("start op")? == 0 {
        return Err(r.bad("start op is zero"));
    }
    r.sleb("time")?;
    let message_len = r.uleb("message length")?;
    let message = r.take(message_len, "message")?;
    if std::str::from_utf8(message.buf).is_err() {
        return Err(message.bad_at(0, "the commit message is not UTF-8"));
    }
    let other_actors = r.uleb("other actor count")?;
    r.skip_prefixed(other_actors, "other actor ids")?;
    let meta = read_column_meta(r)?;
    let total = meta.iter().try_fold(0u64, |t, &(_, len)| add(t, len, "column lengths"))?;
    let mut data = r.take(total, "column data")?;
    // What follows the columns is the change's extra bytes, kept as they are.
    let mut stats = Vec::with_capacity(meta.len());
    for &(spec, len) in &meta {
        let mut col = data.take(len, "column")?;
        if spec & DEFLATE_BIT != 0 {
            return Err(col.bad_at(0, "a change's columns may not be deflated"));
        }
        stats.push((spec, scan_column(&mut col, spec)?));
    }
    let ops = summarize(&stats, &data)?;
    Ok(Work {
        chunks: 1,
        changes: 1,
        ops: ops.rows,
        preds: ops.grouped,
        deps,
        actors: add(other_actors, 1, "actor ids")?,
        message_bytes: message_len,
        string_bytes: add(ops.string_bytes, message_len, "bytes of strings")?,
        inflated_bytes: 0,
        largest_change_ops: ops.rows,
        largest_document_ops: 0,
        longest_message: message_len,
    })
}

/// The body of a document chunk; returns its work, heads and the bytes it inflated.
/// `exact_up_to`: how many changes and dependencies may be walked one by one to count
/// the operations exactly (see [`doc_change_ops`]); beyond, an upper bound is used.
fn read_document(r: &mut Reader<'_>, mut budget: u64, exact_up_to: u64) -> Read<(Work, Vec<Hash>, u64)> {
    let actors = r.uleb("actor count")?;
    r.skip_prefixed(actors, "actor ids")?;
    let n_heads = r.uleb("head count")?;
    let heads_data = r.take(mul(n_heads, HASH_LEN, "heads")?, "heads")?;
    let change_meta = read_column_meta(r)?;
    let ops_meta = read_column_meta(r)?;
    let change_len = change_meta.iter().try_fold(0u64, |t, &(_, len)| add(t, len, "column lengths"))?;
    let ops_len = ops_meta.iter().try_fold(0u64, |t, &(_, len)| add(t, len, "column lengths"))?;
    let mut change_data = r.take(change_len, "change column data")?;
    let mut ops_data = r.take(ops_len, "operation column data")?;
    // Head indices: one per head, absent in documents older JS versions wrote.
    if !r.done() {
        if n_heads > r.remaining() as u64 {
            return Err(r.bad("head indices: fewer bytes than heads"));
        }
        for _ in 0..n_heads {
            r.uleb("head index")?;
        }
    }
    if !r.done() {
        return Err(r.bad(format!("{} bytes after the end of the document", r.remaining())));
    }
    let start_budget = budget;
    // The change columns are kept (a few bytes per change) for the exact count; the
    // operation columns are scanned and dropped one by one.
    let mut change_cols = Vec::with_capacity(change_meta.len());
    let mut change_bytes = Vec::with_capacity(change_meta.len());
    for &(spec, len) in &change_meta {
        let col = change_data.take(len, "column")?;
        let bytes = column_bytes(&col, spec, &mut budget)?;
        change_cols.push((spec & !DEFLATE_BIT, scan_column(&mut column_reader(&col, spec, &bytes), spec)?));
        change_bytes.push((spec & !DEFLATE_BIT, bytes));
    }
    let mut op_cols = Vec::with_capacity(ops_meta.len());
    for &(spec, len) in &ops_meta {
        let col = ops_data.take(len, "column")?;
        let bytes = column_bytes(&col, spec, &mut budget)?;
        op_cols.push((spec & !DEFLATE_BIT, scan_column(&mut column_reader(&col, spec, &bytes), spec)?));
    }
    let changes = summarize(&change_cols, &change_data)?;
    let ops = summarize(&op_cols, &ops_data)?;
    // A document does not store its deletions: they are successors of what they delete,
    // and automerge makes them operations again when it loads the document. The exact
    // count comes from the changes' max op; an upper bound is the rows plus the successor
    // references (which are capped on their own).
    let n_ops = if changes.rows <= exact_up_to && changes.grouped <= exact_up_to {
        doc_change_ops(&change_bytes, changes.rows, &change_data)?.max(ops.rows)
    } else {
        add(ops.rows, ops.grouped, "operations")?
    };
    let (message_bytes, longest_message) =
        change_cols.iter().filter(|(spec, _)| *spec == DOC_MESSAGE_SPEC).try_fold((0u64, 0u64), |(t, l), (_, s)| {
            Ok((add(t, s.string_bytes, "bytes of messages")?, l.max(s.longest)))
        })?;
    let heads = heads_data.buf.chunks_exact(HASH_LEN as usize).map(|h| h.try_into().unwrap_or([0; 32])).collect();
    let work = Work {
        chunks: 1,
        changes: changes.rows,
        ops: n_ops,
        preds: ops.grouped,
        deps: changes.grouped,
        actors,
        message_bytes,
        string_bytes: add(changes.string_bytes, ops.string_bytes, "bytes of strings")?,
        inflated_bytes: 0,
        largest_change_ops: 0,
        largest_document_ops: n_ops,
        longest_message,
    };
    Ok((work, heads, start_budget - budget))
}

/// A column's bytes, inflated (within the budget) if the column is deflated.
fn column_bytes<'a>(col: &Reader<'a>, spec: u32, budget: &mut u64) -> Read<Cow<'a, [u8]>> {
    if spec & DEFLATE_BIT == 0 {
        return Ok(Cow::Borrowed(col.buf));
    }
    let inflated = inflate(col.buf, *budget, col)?;
    *budget -= inflated.len() as u64;
    Ok(Cow::Owned(inflated))
}

/// A reader over a column's bytes: where they are in the push, or in inflated data.
fn column_reader<'b>(col: &Reader<'_>, spec: u32, bytes: &'b [u8]) -> Reader<'b> {
    if spec & DEFLATE_BIT == 0 { Reader::new(bytes, col.base, col.inflated) } else { Reader::new(bytes, 0, true) }
}

/// The operations of a document's changes, as automerge counts them when it loads the
/// document: each change's max op minus the largest max op of its dependencies. Walks
/// the changes and their dependencies one by one (never the operations), so it is only
/// called under the caps on both.
fn doc_change_ops(cols: &[(u32, Cow<'_, [u8]>)], n: u64, at: &Reader<'_>) -> Read<u64> {
    let column = |spec: u32| -> Read<&[u8]> {
        let mut found = cols.iter().filter(|(s, _)| *s == spec);
        match (found.next(), found.next()) {
            (Some((_, bytes)), None) => Ok(bytes),
            (None, _) => Ok(&[]),
            _ => Err(at.bad_at(0, format!("column spec {spec} appears twice"))),
        }
    };
    let mut max_op = Rows::new(column(DOC_MAX_OP_SPEC)?, true);
    let mut max_ops: Vec<u64> = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut current: i128 = 0;
    for _ in 0..n {
        let delta = max_op.next()?.flatten().ok_or_else(|| at.bad_at(0, "a change without a max op"))?;
        current += delta;
        max_ops.push(u64::try_from(current).map_err(|_| at.bad_at(0, "a max op out of range"))?);
    }
    let mut groups = Rows::new(column(DOC_DEPS_GROUP_SPEC)?, false);
    let mut deps = Rows::new(column(DOC_DEPS_INDEX_SPEC)?, true);
    let mut index: i128 = 0;
    let mut total: u64 = 0;
    for &own in &max_ops {
        let count = groups.next()?.flatten().unwrap_or(0);
        let mut start = 0;
        for _ in 0..count {
            index += deps.next()?.flatten().ok_or_else(|| at.bad_at(0, "a dependency missing"))?;
            let dep = usize::try_from(index)
                .ok()
                .and_then(|i| max_ops.get(i))
                .ok_or_else(|| at.bad_at(0, format!("dependency index {index} out of range")))?;
            start = start.max(*dep);
        }
        let len = own.checked_sub(start).ok_or_else(|| at.bad_at(0, "a change's max op is below its dependency's"))?;
        total = add(total, len, "operations")?;
    }
    Ok(total)
}

/// The values of an RLE column row by row (for the few change columns walked per change).
struct Rows<'a> {
    r: Reader<'a>,
    signed: bool,
    left: u64,
    value: Option<i128>,
    literal: bool,
}

impl<'a> Rows<'a> {
    fn new(buf: &'a [u8], signed: bool) -> Self {
        Rows { r: Reader::new(buf, 0, false), signed, left: 0, value: None, literal: false }
    }

    /// `None` once the column is exhausted; `Some(None)` for a null.
    fn next(&mut self) -> Read<Option<Option<i128>>> {
        while self.left == 0 {
            if self.r.done() {
                return Ok(None);
            }
            let n = self.r.sleb("run length")?;
            if n > 0 {
                self.left = n as u64;
                self.value = Some(self.read()?);
                self.literal = false;
            } else if n < 0 {
                self.left = n.unsigned_abs();
                self.literal = true;
            } else {
                self.left = self.r.uleb("null run")?;
                self.value = None;
                self.literal = false;
            }
        }
        self.left -= 1;
        if self.literal { Ok(Some(Some(self.read()?))) } else { Ok(Some(self.value)) }
    }

    fn read(&mut self) -> Read<i128> {
        if self.signed { Ok(i128::from(self.r.sleb("value")?)) } else { Ok(i128::from(self.r.uleb("value")?)) }
    }
}

/// `(spec, length)` of each column of a section, in the order Automerge requires.
fn read_column_meta(r: &mut Reader<'_>) -> Read<Vec<(u32, u64)>> {
    let n = r.uleb("column count")?;
    if n > MAX_COLUMNS {
        return Err(r.bad(format!("{n} columns (at most {MAX_COLUMNS} are accepted)")));
    }
    let mut meta: Vec<(u32, u64)> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let at = r.pos;
        let spec = u32::try_from(r.uleb("column spec")?).map_err(|_| r.bad_at(at, "column spec over 32 bits"))?;
        let len = r.uleb("column length")?;
        if let Some(&(prev, _)) = meta.last()
            && spec & !DEFLATE_BIT < prev & !DEFLATE_BIT
        {
            return Err(r.bad_at(at, "columns are not in ascending order"));
        }
        meta.push((spec, len));
    }
    Ok(meta)
}

/// What one column holds, counted run by run.
#[derive(Clone, Copy, Debug, Default)]
struct ColStats {
    rows: u64,
    /// Group columns: the sum of the values (rows of the grouped columns).
    group_sum: u64,
    /// Value metadata: the bytes the values take in the value column.
    value_bytes: u64,
    /// Value columns: their length.
    raw_len: u64,
    /// String columns: bytes once every run is expanded, and the longest string.
    string_bytes: u64,
    longest: u64,
}

fn scan_column(r: &mut Reader<'_>, spec: u32) -> Read<ColStats> {
    let ty = spec & 7;
    let mut st = ColStats::default();
    match ty {
        VALUE => st.raw_len = r.remaining() as u64,
        BOOLEAN => {
            while !r.done() {
                let n = r.uleb("boolean run")?;
                st.rows = add(st.rows, n, "rows")?;
            }
        }
        _ => {
            while !r.done() {
                let n = r.sleb("run length")?;
                if n == 0 {
                    let nulls = r.uleb("null run")?;
                    st.rows = add(st.rows, nulls, "rows")?;
                } else if n > 0 {
                    rle_value(r, ty, n as u64, &mut st)?;
                } else {
                    // A literal run: every value is there, each at least one byte.
                    let k = n.unsigned_abs();
                    if k > r.remaining() as u64 {
                        return Err(r.bad(format!("literal run of {k} values in {} bytes", r.remaining())));
                    }
                    for _ in 0..k {
                        rle_value(r, ty, 1, &mut st)?;
                    }
                }
            }
        }
    }
    Ok(st)
}

/// One value of an RLE column, standing for `count` rows.
fn rle_value(r: &mut Reader<'_>, ty: u32, count: u64, st: &mut ColStats) -> Read<()> {
    st.rows = add(st.rows, count, "rows")?;
    match ty {
        DELTA => {
            r.sleb("delta")?;
        }
        STRING => {
            let len = r.uleb("string length")?;
            r.take(len, "string")?;
            st.string_bytes = add(st.string_bytes, mul(count, len, "bytes of strings")?, "bytes of strings")?;
            st.longest = st.longest.max(len);
        }
        GROUP => {
            let v = r.uleb("group size")?;
            st.group_sum = add(st.group_sum, mul(count, v, "grouped references")?, "grouped references")?;
        }
        VALUE_META => {
            let v = r.uleb("value metadata")?;
            st.value_bytes = add(st.value_bytes, mul(count, v >> 4, "value bytes")?, "value bytes")?;
        }
        // Actor indices and integers (booleans and raw values are not RLE: never here).
        _ => {
            r.uleb("integer")?;
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Section {
    /// Rows of the section (operations, changes): the longest of its columns outside
    /// groups.
    rows: u64,
    /// References in its groups: for each, the larger of the group's sum and the rows of
    /// the grouped columns.
    grouped: u64,
    string_bytes: u64,
}

/// Put one section's columns together: groups and their members, value metadata and
/// its values. `at`: for error positions.
fn summarize(cols: &[(u32, ColStats)], at: &Reader<'_>) -> Read<Section> {
    let mut s = Section::default();
    let mut group: Option<(u32, u64)> = None;
    let mut value_meta: Option<(u32, u64)> = None;
    let close = |s: &mut Section, group: &mut Option<(u32, u64)>| -> Read<()> {
        if let Some((_, refs)) = group.take() {
            s.grouped = add(s.grouped, refs, "grouped references")?;
        }
        Ok(())
    };
    for &(spec, st) in cols {
        let (id, ty) = (spec >> 4, spec & 7);
        if ty == VALUE {
            match value_meta.take() {
                Some((meta_id, declared)) if meta_id == id => {
                    if declared != st.raw_len {
                        return Err(at.bad_at(
                            0,
                            format!(
                                "column {id}: value metadata declares {declared} bytes, the value column has {}",
                                st.raw_len
                            ),
                        ));
                    }
                }
                _ => return Err(at.bad_at(0, format!("column {id}: value column without its metadata"))),
            }
        } else if let Some((meta_id, declared)) = value_meta.take()
            && declared != 0
        {
            return Err(at.bad_at(0, format!("column {meta_id}: {declared} bytes of values but no value column")));
        }
        let in_group = matches!(group, Some((gid, _)) if gid == id);
        if ty == GROUP {
            close(&mut s, &mut group)?;
            group = Some((id, st.group_sum));
            s.rows = s.rows.max(st.rows);
        } else if in_group {
            if let Some((_, refs)) = group.as_mut() {
                *refs = (*refs).max(st.rows);
            }
        } else {
            close(&mut s, &mut group)?;
            s.rows = s.rows.max(st.rows);
        }
        if ty == VALUE_META {
            value_meta = Some((id, st.value_bytes));
        }
        s.string_bytes = add(s.string_bytes, st.string_bytes, "bytes of strings")?;
    }
    close(&mut s, &mut group)?;
    if let Some((id, declared)) = value_meta
        && declared != 0
    {
        return Err(at.bad_at(0, format!("column {id}: {declared} bytes of values but no value column")));
    }
    Ok(s)
}

/// Inflate a raw deflate stream, refusing to produce more than `budget` bytes. `at`: the
/// compressed bytes' reader, for error positions.
fn inflate(input: &[u8], budget: u64, at: &Reader<'_>) -> Read<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut d = Decompress::new(false);
    let mut out: Vec<u8> = Vec::new();
    // Never hold more than budget + 1 bytes: one past the budget proves it is exceeded.
    let ceiling = usize::try_from(budget.saturating_add(1)).unwrap_or(usize::MAX);
    loop {
        if out.len() >= ceiling {
            return Err(Fault::Inflate);
        }
        if out.len() == out.capacity() {
            let grow = out.capacity().max(16 * 1024).min(ceiling - out.len());
            out.reserve_exact(grow);
        }
        let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX).min(input.len());
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let status = d
            .decompress_vec(&input[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| at.bad_at(0, format!("not a valid deflate stream: {e}")))?;
        if status == Status::StreamEnd {
            if out.len() as u64 > budget {
                return Err(Fault::Inflate);
            }
            if d.total_in() as usize != input.len() {
                return Err(at.bad_at(0, "bytes after the end of the deflate stream"));
            }
            return Ok(out);
        }
        let stalled = d.total_in() == in_before && d.total_out() == out_before;
        if stalled && out.len() < out.capacity() {
            return Err(at.bad_at(0, "truncated deflate stream"));
        }
    }
}

#[cfg(test)]
#[path = "inspect_tests.rs"]
mod tests;
