//! The content an approval binds to (design note 7).
//!
//! [`approvals_hash`] is SHA-256 (FIPS 180-4, implemented here and checked against the
//! standard test vectors; no extra dependency) over this canonical encoding, version 1:
//!
//! ```text
//! b"jiuloop/approval-content/v1\n"
//! customer document id       16 bytes (UUID)
//! number of lines            u64 little-endian
//! each line, sorted by its encoded bytes:
//!   u64 LE length of the line encoding, then the encoding:
//!     u64 LE length + UTF-8 bytes of the SKU code
//!     0x00 (no spec) | 0x01 + u64 LE length + UTF-8 bytes of the spec
//!     qty                    i64 little-endian
//!     unit price in fen      i64 little-endian
//! ```
//!
//! Line ids and the order of lines do not matter (deleting a line and re-adding the same line
//! keeps an approval); any change of customer, SKU, spec, quantity or unit price, and adding or
//! removing a line, changes the hash. SHA-256, not a fast non-cryptographic hash, because the
//! content is written by the person whose order needs the approval.

use super::engine::LineFacts;
use crate::ids::DocId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A SHA-256 content hash; shown and serialized as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

const DOMAIN: &[u8] = b"jiuloop/approval-content/v1\n";

/// The hash an approval of this order content stores; see the module docs for the encoding.
pub fn approvals_hash(customer: DocId, lines: &[LineFacts]) -> ContentHash {
    let mut encoded: Vec<Vec<u8>> = lines.iter().map(encode_line).collect();
    encoded.sort();
    let mut buf = Vec::with_capacity(64 + encoded.iter().map(|e| e.len() + 8).sum::<usize>());
    buf.extend_from_slice(DOMAIN);
    buf.extend_from_slice(customer.as_bytes());
    buf.extend_from_slice(&(encoded.len() as u64).to_le_bytes());
    for e in &encoded {
        put_bytes(&mut buf, e);
    }
    ContentHash(sha256(&buf))
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
    buf.extend_from_slice(b);
}

fn encode_line(l: &LineFacts) -> Vec<u8> {
    let mut b = Vec::with_capacity(48 + l.sku.len());
    put_bytes(&mut b, l.sku.as_bytes());
    match &l.spec {
        None => b.push(0),
        Some(s) => {
            b.push(1);
            put_bytes(&mut b, s.as_bytes());
        }
    }
    b.extend_from_slice(&l.qty.to_le_bytes());
    b.extend_from_slice(&l.unit_price_fen.to_le_bytes());
    b
}

impl ContentHash {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

impl FromStr for ContentHash {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() != 64 || !s.is_ascii() {
            return Err(format!("'{s}' is not 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| format!("'{s}' is not 64 hex digits"))?;
        }
        Ok(ContentHash(out))
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// SHA-256 of `data` (FIPS 180-4).
fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(v);
        }
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8; 32]) -> String {
        ContentHash(*b).to_hex()
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (
                b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&sha256(input)), *want);
        }
        assert_eq!(
            hex(&sha256(&vec![b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        // Lengths around the padding boundary (55, 56, 63, 64 bytes) all differ and do not panic.
        let set: std::collections::BTreeSet<String> =
            [55, 56, 63, 64, 65].iter().map(|n| hex(&sha256(&vec![7; *n]))).collect();
        assert_eq!(set.len(), 5);
    }

    fn line(id: &str, sku: &str, spec: Option<&str>, qty: i64, price: i64) -> LineFacts {
        LineFacts { id: id.into(), sku: sku.into(), spec: spec.map(str::to_string), qty, unit_price_fen: price }
    }

    #[test]
    fn hash_binds_content_not_ids_or_order() {
        let c = DocId::from_slice(&[7; 16]).unwrap();
        let base = vec![line("1", "A", None, 6, 100), line("2", "B", Some("500ml×6"), 2, 50)];
        let h = approvals_hash(c, &base);
        // Stable across releases (approvals stored on devices compare with it); the same value
        // comes from Python hashlib.sha256 over the encoding in the module docs.
        assert_eq!(h.to_string(), "60e7a4581e03fea0b7a1e2fa27cd669c412ee4d7871b24714d93fde754a52f02");
        assert_eq!(h.to_string().parse::<ContentHash>(), Ok(h));
        let same = vec![line("x", "B", Some("500ml×6"), 2, 50), line("y", "A", None, 6, 100)];
        assert_eq!(approvals_hash(c, &same), h);
        let changes: Vec<(&str, Vec<LineFacts>, DocId)> = vec![
            ("qty", vec![line("1", "A", None, 7, 100), base[1].clone()], c),
            ("price", vec![line("1", "A", None, 6, 99), base[1].clone()], c),
            ("sku", vec![line("1", "C", None, 6, 100), base[1].clone()], c),
            ("spec", vec![line("1", "A", Some(""), 6, 100), base[1].clone()], c),
            ("line removed", vec![base[0].clone()], c),
            ("line duplicated", vec![base[0].clone(), base[0].clone(), base[1].clone()], c),
            ("customer", base.clone(), DocId::from_slice(&[8; 16]).unwrap()),
            // Length prefixes keep field boundaries: "AB"+"" is not "A"+"B".
            ("boundary", vec![line("1", "AB", None, 6, 100), base[1].clone()], c),
        ];
        for (name, lines, cust) in changes {
            assert_ne!(approvals_hash(cust, &lines), h, "{name}");
        }
    }
}
