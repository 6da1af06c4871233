//! Error codes the server sends (in `ServerMsg::Error` and `ServerMsg::Refused`, in HTTP
//! error bodies, and as WebSocket close codes 4000 + n).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The frame could not be decoded (bad magic, bad postcard, unknown message type).
    Malformed,
    /// The frame's protocol version is not the server's.
    UnsupportedVersion,
    /// The frame is larger than [`crate::wire::MAX_MESSAGE_BYTES`].
    TooLarge,
    /// No token, or a token the server does not know (or one revoked by logout).
    Unauthorized,
    /// The token was valid once but has expired.
    TokenExpired,
    /// The user or device is disabled or revoked.
    Revoked,
    /// The bytes in a push are not valid Automerge changes.
    BadChanges,
    /// A change was made by an actor that is not registered to the sending device.
    ActorNotYours,
    /// The user may not write this document or field.
    Forbidden,
    /// The document exists with another kind.
    KindMismatch,
    /// A message arrived that is not valid in the current state (e.g. push before hello).
    UnexpectedMessage,
    /// The server could not do its part (disk full, …); nothing was stored. Retry later.
    Internal,
    /// The connection could not keep up with the changes sent to it.
    SlowConsumer,
    /// Bad login: unknown user or wrong password.
    BadCredentials,
    /// Too many failed logins.
    RateLimited,
    /// A push represents more work (operations, references, inflated bytes) than the
    /// server accepts at once, whatever its size in bytes (`protocol::inspect::Limits`).
    TooMuchWork,
    /// The server is at its limit for this kind of work right now (logins waiting for a
    /// password check, connections): nothing was done; retry in a few seconds.
    Busy,
    /// The peer did not send what the protocol expects in time (e.g. no `Hello` after
    /// connecting).
    Timeout,
    /// A newer connection of the same device said hello: this one is closed, and nothing
    /// still on its way on it is applied.
    Replaced,
    /// The device's cursor is ahead of everything the server holds: the server was
    /// restored from a backup taken before this device's last sync. The device forgets
    /// what it knew of the server and, on the next connection, sends everything again.
    CursorAhead,
    /// An attachment is larger than the server accepts (`--max-blob-mb`).
    BlobTooLarge,
    /// An attachment is not a JPEG, PNG or WebP image nor a PDF file (by its first bytes).
    BlobType,
    /// An uploaded attachment's bytes do not have the hash or size announced.
    BlobMismatch,
    /// No attachment with this hash that the user may read (unknown, or referenced by no
    /// document the user may read: the two are answered alike).
    BlobUnavailable,
    /// The server's disk is full: the push was not stored (nothing acknowledged before is
    /// lost). The device keeps its changes and sends them again on a later sync.
    StorageFull,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 25] = [
        ErrorCode::Malformed,
        ErrorCode::UnsupportedVersion,
        ErrorCode::TooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::TokenExpired,
        ErrorCode::Revoked,
        ErrorCode::BadChanges,
        ErrorCode::ActorNotYours,
        ErrorCode::Forbidden,
        ErrorCode::KindMismatch,
        ErrorCode::UnexpectedMessage,
        ErrorCode::Internal,
        ErrorCode::SlowConsumer,
        ErrorCode::BadCredentials,
        ErrorCode::RateLimited,
        // New codes go last: the close code is 4000 + the position here.
        ErrorCode::TooMuchWork,
        ErrorCode::Busy,
        ErrorCode::Timeout,
        ErrorCode::Replaced,
        ErrorCode::CursorAhead,
        ErrorCode::BlobTooLarge,
        ErrorCode::BlobType,
        ErrorCode::BlobMismatch,
        ErrorCode::BlobUnavailable,
        ErrorCode::StorageFull,
    ];

    /// Stable machine name, used in JSON bodies and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::Revoked => "revoked",
            ErrorCode::BadChanges => "bad_changes",
            ErrorCode::ActorNotYours => "actor_not_yours",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::KindMismatch => "kind_mismatch",
            ErrorCode::UnexpectedMessage => "unexpected_message",
            ErrorCode::Internal => "internal",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooMuchWork => "too_much_work",
            ErrorCode::Busy => "busy",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Replaced => "replaced",
            ErrorCode::CursorAhead => "cursor_ahead",
            ErrorCode::BlobTooLarge => "blob_too_large",
            ErrorCode::BlobType => "blob_type",
            ErrorCode::BlobMismatch => "blob_mismatch",
            ErrorCode::BlobUnavailable => "blob_unavailable",
            ErrorCode::StorageFull => "storage_full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// WebSocket close code used when the server closes a connection for this reason.
    pub fn close_code(self) -> u16 {
        4000 + Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as u16
    }

    pub fn from_close_code(code: u16) -> Option<Self> {
        code.checked_sub(4000).and_then(|i| Self::ALL.get(i as usize).copied())
    }

    /// One line a person can read (English; the clients translate by code).
    pub fn describe(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "the message could not be decoded",
            ErrorCode::UnsupportedVersion => "the client speaks another protocol version; update it",
            ErrorCode::TooLarge => "the message is larger than the server accepts",
            ErrorCode::Unauthorized => "not logged in (unknown or logged-out token); log in again",
            ErrorCode::TokenExpired => "the login has expired; log in again",
            ErrorCode::Revoked => "this user or device has been disabled",
            ErrorCode::BadChanges => "the document changes are not valid Automerge data",
            ErrorCode::ActorNotYours => "a change was made by an actor that is not this device's",
            ErrorCode::Forbidden => "not allowed to write this",
            ErrorCode::KindMismatch => "the document exists with another kind",
            ErrorCode::UnexpectedMessage => "message not valid at this point of the protocol",
            ErrorCode::Internal => "the server could not store the change; nothing was lost, retry later",
            ErrorCode::SlowConsumer => "the connection fell behind; reconnect",
            ErrorCode::BadCredentials => "unknown user or wrong password",
            ErrorCode::RateLimited => "too many failed logins; wait and try again",
            ErrorCode::TooMuchWork => "the changes are more work than the server accepts in one push",
            ErrorCode::Busy => "the server is busy; retry in a few seconds",
            ErrorCode::Timeout => "nothing arrived in time (a sync connection must send Hello first); reconnect",
            ErrorCode::Replaced => "a newer connection of this device replaced this one",
            ErrorCode::CursorAhead => {
                "the server was restored from a backup; this device sends its data again on the next sync"
            }
            ErrorCode::BlobTooLarge => "the attachment is larger than the server accepts",
            ErrorCode::BlobType => "only JPEG, PNG or WebP images and PDF files can be attached",
            ErrorCode::BlobMismatch => "the uploaded attachment does not match its hash or size; upload it again",
            ErrorCode::BlobUnavailable => "no such attachment that you may read",
            ErrorCode::StorageFull => {
                "the server's disk is full: your changes were not stored (they are kept on this device); sync again later"
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_are_stable_and_round_trip() {
        // Positions are close codes: existing codes never move.
        assert_eq!(ErrorCode::Malformed.close_code(), 4000);
        assert_eq!(ErrorCode::RateLimited.close_code(), 4014);
        assert_eq!(ErrorCode::TooMuchWork.close_code(), 4015);
        assert_eq!(ErrorCode::Busy.close_code(), 4016);
        assert_eq!(ErrorCode::Timeout.close_code(), 4017);
        assert_eq!(ErrorCode::CursorAhead.close_code(), 4019);
        assert_eq!(ErrorCode::BlobUnavailable.close_code(), 4023);
        assert_eq!(ErrorCode::StorageFull.close_code(), 4024);
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert_eq!(ErrorCode::from_close_code(code.close_code()), Some(code));
            assert!(!code.describe().is_empty());
        }
    }
}
