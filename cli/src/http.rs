//! The few HTTP calls the native client makes (login, logout), over plain HTTP/1.1.
//! jiuloop-server speaks plain HTTP; IT terminates TLS in front of it if needed.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("'{0}' is not a server address like http://host:port")]
    BadUrl(String),
    #[error("cannot reach the server at {0}: {1}")]
    Unreachable(String, std::io::Error),
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
}

/// `http://host:port[/prefix]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    pub host: String,
    pub port: u16,
    pub prefix: String,
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::BadUrl(url.to_string());
        let rest = url.trim().strip_prefix("http://").ok_or_else(bad)?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(ServerUrl { host: host.to_string(), port, prefix: prefix.to_string() })
    }

    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}{}", self.authority(), self.prefix, path)
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

pub async fn post_json(
    server: &ServerUrl,
    path: &str,
    bearer: Option<&str>,
    body: &serde_json::Value,
) -> Result<HttpResponse, HttpError> {
    let body = body.to_string();
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {}{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
        server.prefix,
        path,
        server.authority(),
        body.len(),
        auth,
        body
    );
    let unreachable = |e| HttpError::Unreachable(server.authority(), e);
    let mut stream = TcpStream::connect(server.authority()).await.map_err(unreachable)?;
    stream.write_all(request.as_bytes()).await.map_err(unreachable)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(unreachable)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<HttpResponse, HttpError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| HttpError::BadResponse("no header end".into()))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::BadResponse("no status".into()))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Ok(HttpResponse { status, body })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = ServerUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.prefix.as_str()), ("127.0.0.1", 8080, ""));
        assert_eq!(
            ServerUrl::parse("http://sync.example/jl/").unwrap().ws_url("/sync"),
            "ws://sync.example:80/jl/sync"
        );
        for bad in ["127.0.0.1:8080", "https://x", "http://:80", "http://h:port"] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses_parse() {
        let r = parse_response(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((r.status, r.body.as_str()), (401, "{}"));
        let r =
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(r.body, "abcde");
    }
}
