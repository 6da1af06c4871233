//! Errors of login, token checks and user administration.

use crate::storage::DbError;
use protocol::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("unknown user or wrong password")]
    BadCredentials,
    #[error("too many failed logins; wait a few minutes and try again")]
    RateLimited,
    #[error("the server is busy checking other logins; retry in a few seconds")]
    Busy,
    #[error("this device is registered to another user")]
    DeviceOfAnotherUser,
    #[error("user '{0}' is disabled")]
    UserDisabled(String),
    #[error("this device has been revoked")]
    DeviceRevoked,
    #[error("unknown or logged-out token")]
    Unauthorized,
    #[error("the token has expired; log in again")]
    TokenExpired,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("the password must be at least {min} characters long")]
    PasswordTooShort { min: usize },
    #[error("the password may not be the user name")]
    PasswordIsUserName,
    #[error("user '{0}' already exists")]
    UserExists(String),
    #[error("manager '{0}' is not a user; add the manager first")]
    UnknownManager(String),
    #[error("invalid user name '{0}': use 1-64 characters without spaces or control characters")]
    InvalidName(String),
    #[error("cannot hash or generate a secret: {0}")]
    Crypto(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl AccountError {
    /// The wire code clients see for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AccountError::BadCredentials => ErrorCode::BadCredentials,
            AccountError::RateLimited => ErrorCode::RateLimited,
            AccountError::Busy => ErrorCode::Busy,
            AccountError::DeviceOfAnotherUser => ErrorCode::Forbidden,
            AccountError::UserDisabled(_) | AccountError::DeviceRevoked => ErrorCode::Revoked,
            AccountError::Unauthorized => ErrorCode::Unauthorized,
            AccountError::TokenExpired => ErrorCode::TokenExpired,
            AccountError::InvalidRequest(_)
            | AccountError::PasswordTooShort { .. }
            | AccountError::PasswordIsUserName
            | AccountError::UserExists(_)
            | AccountError::UnknownManager(_)
            | AccountError::InvalidName(_) => ErrorCode::Malformed,
            AccountError::Crypto(_) | AccountError::Db(_) => ErrorCode::Internal,
        }
    }
}
