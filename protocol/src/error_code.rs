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
    /// A newer connection of the same device said hello: this one is closed, and nothing
    /// still on its way on it is applied.
    Replaced,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 16] = [
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
        ErrorCode::Replaced,
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
            ErrorCode::Replaced => "replaced",
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
            ErrorCode::Replaced => "a newer connection of this device replaced this one",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
