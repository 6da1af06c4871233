//! Attachments (附件): content-addressed files — photos of receipts, signed contract
//! scans — that documents reference by their SHA-256 and travel apart from the CRDT
//! changes, in chunks ([`crate::wire::ClientMsg::BlobPut`] …). A document holds only a
//! record `{hash, name, mime, size}` (a field of type [`crate::kinds::FieldType::Blob`]);
//! the bytes are uploaded once per content and readable exactly by those who may read a
//! document that references them.
//!
//! What a file may be is decided by its first bytes ([`sniff`]), never by its name or
//! the type a client states: JPEG, PNG, WebP or PDF.

use sha2::{Digest, Sha256};
use std::fmt;

/// A blob's SHA-256.
pub type BlobHash = [u8; 32];

/// Bytes per upload or download chunk (a frame stays far under the frame limit, and a
/// large upload never holds the connection for long).
pub const BLOB_CHUNK_BYTES: usize = 256 * 1024;

/// The default largest file a server accepts (`--max-blob-mb` changes it).
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 20 * 1024 * 1024;

/// No server accepts more than this, whatever it is configured with (checked on the wire).
pub const MAX_BLOB_BYTES_CAP: u64 = 1 << 30;

/// The types an attachment may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobType {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl BlobType {
    pub const ALL: [BlobType; 4] = [BlobType::Jpeg, BlobType::Png, BlobType::Webp, BlobType::Pdf];

    pub fn mime(self) -> &'static str {
        match self {
            BlobType::Jpeg => "image/jpeg",
            BlobType::Png => "image/png",
            BlobType::Webp => "image/webp",
            BlobType::Pdf => "application/pdf",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    pub fn is_image(self) -> bool {
        !matches!(self, BlobType::Pdf)
    }
}

/// The type the first bytes of a file say it is (magic numbers), if it is one jiuloop
/// accepts. Needs the first 12 bytes.
pub fn sniff(head: &[u8]) -> Option<BlobType> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some(BlobType::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(BlobType::Png),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(BlobType::Webp),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some(BlobType::Pdf),
        _ => None,
    }
}

/// Why a file cannot be an attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobError {
    Empty,
    TooLarge {
        size: u64,
        max: u64,
    },
    /// Not a JPEG, PNG, WebP or PDF file.
    WrongType,
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::Empty => f.write_str("the file is empty"),
            BlobError::TooLarge { size, max } => {
                write!(f, "the file has {} bytes; at most {} MB ({max} bytes) are accepted", size, max / (1024 * 1024))
            }
            BlobError::WrongType => f.write_str("only JPEG, PNG or WebP images and PDF files can be attached"),
        }
    }
}

impl std::error::Error for BlobError {}

/// Check a whole file: not empty, at most `max` bytes, of an accepted type.
pub fn check(bytes: &[u8], max: u64) -> Result<BlobType, BlobError> {
    if bytes.is_empty() {
        return Err(BlobError::Empty);
    }
    let size = bytes.len() as u64;
    if size > max {
        return Err(BlobError::TooLarge { size, max });
    }
    sniff(bytes).ok_or(BlobError::WrongType)
}

pub fn digest(bytes: &[u8]) -> BlobHash {
    Sha256::digest(bytes).into()
}

/// Lower-case hex, as documents store it.
pub fn hex(hash: &BlobHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash in hex (64 digits, either case).
pub fn parse_hex(s: &str) -> Option<BlobHash> {
    let s = s.trim();
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// What a document says about an attachment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BlobRef {
    pub hash: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
}

impl BlobRef {
    /// The reference to `bytes` named `name` (checked: not empty, at most `max`, a type
    /// jiuloop accepts).
    pub fn of(bytes: &[u8], name: &str, max: u64) -> Result<Self, BlobError> {
        let ty = check(bytes, max)?;
        let name: String = name.trim().chars().take(200).collect();
        Ok(BlobRef { hash: hex(&digest(bytes)), name, mime: ty.mime().into(), size: bytes.len() as i64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_sniffed_from_the_first_bytes() {
        let cases: &[(&[u8], Option<BlobType>)] = &[
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some(BlobType::Jpeg)),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(BlobType::Png)),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Some(BlobType::Webp)),
            (b"%PDF-1.7\n", Some(BlobType::Pdf)),
            (b"RIFF\x10\0\0\0WAVEfmt ", None),
            (b"GIF89a", None),
            (b"<html>", None),
            (b"MZ\x90\0", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), *want, "{bytes:?}");
        }
        assert_eq!(check(b"%PDF-1.4 x", 5), Err(BlobError::TooLarge { size: 10, max: 5 }));
        assert_eq!(check(b"hello", 100), Err(BlobError::WrongType));
        assert_eq!(check(b"", 100), Err(BlobError::Empty));
    }

    #[test]
    fn hashes_round_trip_as_hex() {
        let h = digest(b"receipt");
        assert_eq!(parse_hex(&hex(&h)), Some(h));
        assert_eq!(parse_hex(&hex(&h).to_uppercase()), Some(h));
        assert_eq!(parse_hex("abc"), None);
        assert_eq!(parse_hex(&"g".repeat(64)), None);
        let r = BlobRef::of(b"%PDF-1.4 signed", "合同.pdf", 1000).unwrap();
        assert_eq!((r.mime.as_str(), r.size), ("application/pdf", 15));
    }
}
