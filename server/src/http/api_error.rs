//! HTTP error bodies: `{"code": "<ErrorCode>", "message": "…"}` with a fitting status.

use crate::identity::account_error::AccountError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;

/// `Retry-After` of a "busy" answer, in seconds.
pub const BUSY_RETRY_AFTER_SECS: &str = "1";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, ErrorCode::Internal.describe())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let code = e.code();
        let status = match code {
            ErrorCode::BadCredentials | ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::Revoked => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
            return ApiError::internal();
        }
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code.as_str(), "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        if self.code == ErrorCode::Busy {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(BUSY_RETRY_AFTER_SECS));
        }
        response
    }
}
