//! The few HTTP calls the native client makes (login, logout), with `reqwest` over the
//! TLS config of [`crate::tls`]: https:// with the system's roots and the profile's
//! company CA, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` from the environment, redirects
//! followed (at most 10).

use crate::tls::{TlsFailure, TlsProblem, TlsSetupError};
use rustls::ClientConfig;
use std::sync::Arc;
use std::time::Duration;

/// How long one call may take in all (a login waits for the password check).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("'{0}' is not a server address like https://host[:port] or http://host:port")]
    BadUrl(String),
    #[error("cannot reach the server at {0}: {1}")]
    Unreachable(String, String),
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
    #[error(transparent)]
    Tls(#[from] TlsFailure),
    #[error(transparent)]
    TlsSetup(#[from] TlsSetupError),
}

impl HttpError {
    /// The failed handshake, if that is what went wrong.
    pub fn tls(&self) -> Option<&TlsFailure> {
        match self {
            HttpError::Tls(t) => Some(t),
            _ => None,
        }
    }
}

/// `http[s]://host[:port][/prefix]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    /// `https://` (and `wss://` for the sync socket).
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub prefix: String,
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::BadUrl(url.to_string());
        let url = url.trim();
        let (tls, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return Err(bad()),
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
            Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
            None => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(ServerUrl { tls, host: host.to_string(), port, prefix: prefix.to_string() })
    }

    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The URL of an HTTP path on the server.
    pub fn http_url(&self, path: &str) -> String {
        format!("{}://{}{}{}", if self.tls { "https" } else { "http" }, self.authority(), self.prefix, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}://{}{}{}", if self.tls { "wss" } else { "ws" }, self.authority(), self.prefix, path)
    }

    /// A handshake failure with this server, if `e` was one.
    pub fn tls_failure(&self, e: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
        let (problem, detail) = TlsProblem::find(e)?;
        Some(TlsFailure { server: self.authority(), problem, detail })
    }
}

pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

impl HttpResponse {
    /// The `code` of a jiuloop JSON error body, if any.
    pub fn error_code(&self) -> Option<protocol::ErrorCode> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        protocol::ErrorCode::parse(v.get("code")?.as_str()?)
    }
}

/// POST a JSON body with the system's roots only (no company CA).
pub async fn post_json(
    server: &ServerUrl,
    path: &str,
    bearer: Option<&str>,
    body: &serde_json::Value,
) -> Result<HttpResponse, HttpError> {
    post_json_with(&crate::tls::client_config(None)?, server, path, bearer, body).await
}

/// POST a JSON body over `tls`; any HTTP status is an answer.
pub async fn post_json_with(
    tls: &Arc<ClientConfig>,
    server: &ServerUrl,
    path: &str,
    bearer: Option<&str>,
    body: &serde_json::Value,
) -> Result<HttpResponse, HttpError> {
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(ClientConfig::clone(tls))
        .user_agent(concat!("jiuloop-cli/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| HttpError::BadResponse(e.to_string()))?;
    let mut request = client
        .post(server.http_url(path))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let failed = |e: reqwest::Error| match server.tls_failure(&e) {
        Some(t) => HttpError::Tls(t),
        None => HttpError::Unreachable(server.authority(), chain(&e)),
    };
    let response = request.send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| HttpError::BadResponse(chain(&e)))?;
    Ok(HttpResponse { status, body })
}

/// An error and its causes on one line.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = ServerUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port, u.prefix.as_str()), (false, "127.0.0.1", 8080, ""));
        assert_eq!(
            ServerUrl::parse("http://sync.example/jl/").unwrap().ws_url("/sync"),
            "ws://sync.example:80/jl/sync"
        );
        let u = ServerUrl::parse("https://sync.example/jl").unwrap();
        assert_eq!((u.tls, u.port), (true, 443));
        assert_eq!(u.ws_url("/sync"), "wss://sync.example:443/jl/sync");
        assert_eq!(u.http_url("/api/login"), "https://sync.example:443/jl/api/login");
        assert_eq!(ServerUrl::parse("https://[::1]").unwrap().authority(), "[::1]:443");
        assert_eq!(ServerUrl::parse("http://[::1]:81").unwrap().port, 81);
        for bad in ["127.0.0.1:8080", "ftp://x", "http://:80", "http://h:port"] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
