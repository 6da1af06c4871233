//! Hand-made Automerge chunks for the tests of what the server refuses before loading:
//! written field by field, with a correct checksum, so that only the inspector's counts
//! (or automerge's own decoding) can refuse them.

use sha2::{Digest, Sha256};

fn uleb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
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

/// RLE: `n` copies of one encoded value.
fn run(n: u64, value: &[u8]) -> Vec<u8> {
    [sleb(n as i64), value.to_vec()].concat()
}

fn nulls(n: u64) -> Vec<u8> {
    [vec![0], uleb(n)].concat()
}

fn string(s: &[u8]) -> Vec<u8> {
    [uleb(s.len() as u64), s.to_vec()].concat()
}

/// A change chunk of `actor` (seq 1, no dependencies) with these operation columns
/// (`(spec, data)`, in ascending spec order).
pub fn change(actor: &[u8], cols: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = uleb(0);
    body.extend(string(actor));
    body.extend(uleb(1)); // seq
    body.extend(uleb(1)); // start op
    body.extend(sleb(0)); // time
    body.extend(string(b"")); // message
    body.extend(uleb(0)); // other actors
    body.extend(uleb(cols.len() as u64));
    for (spec, data) in cols {
        body.extend(uleb(u64::from(*spec)));
        body.extend(uleb(data.len() as u64));
    }
    cols.iter().for_each(|(_, data)| body.extend(data));
    let len = uleb(body.len() as u64);
    let hash = Sha256::new().chain_update([1u8]).chain_update(&len).chain_update(&body).finalize();
    [&[0x85, 0x6f, 0x4a, 0x83][..], &hash[..4], &[1], &len, &body].concat()
}

/// The hostile push of the security report: one change that makes a list at the root
/// and inserts `n` nulls into it, every column a run or two whatever `n` (about a
/// hundred bytes for five million operations).
pub fn list_of_nulls(actor: &[u8], n: u64) -> Vec<u8> {
    change(
        actor,
        &[
            (1, [nulls(1), run(n, &uleb(0))].concat()),          // obj actor
            (2, [nulls(1), run(n, &uleb(1))].concat()),          // obj counter
            (17, nulls(n + 1)),                                  // key actor
            (19, [nulls(1), run(n, &sleb(0))].concat()),         // key counter
            (21, [run(1, &string(b"l")), nulls(n)].concat()),    // key string
            (52, [uleb(1), uleb(n)].concat()),                   // insert
            (66, [run(1, &uleb(2)), run(n, &uleb(1))].concat()), // action: make list, put
            (86, run(n + 1, &uleb(0))),                          // value metadata: null
            (112, run(n + 1, &uleb(0))),                         // predecessors: none
        ],
    )
}

/// A change the inspector cannot fault (it does not judge operations) but automerge
/// cannot decode: one operation of action 99 at the root.
pub fn undecodable(actor: &[u8]) -> Vec<u8> {
    change(
        actor,
        &[
            (21, run(1, &string(b"k"))),
            (52, uleb(1)),
            (66, run(1, &uleb(99))),
            (86, run(1, &uleb(0))),
            (112, run(1, &uleb(0))),
        ],
    )
}
