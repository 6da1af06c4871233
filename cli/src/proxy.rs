//! The sync WebSocket through the proxy the environment names, as the HTTP calls go
//! (`reqwest` reads the same variables): `HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for
//! `ws://` (lower case too), skipped for the hosts `NO_PROXY` lists. The socket is an HTTP
//! `CONNECT` tunnel through the proxy; TLS to the server runs inside it end to end.

use crate::http::ServerUrl;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest proxy answer head read.
const MAX_HEAD: usize = 16 * 1024;

/// A proxy to tunnel through: `host:port` and its `Proxy-Authorization`, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub authority: String,
    pub authorization: Option<String>,
}

/// The proxy for `url` from the environment, if any.
pub fn proxy_for(url: &ServerUrl) -> Option<Proxy> {
    let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
    let proxy = if url.tls {
        var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
    } else {
        var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
    }?;
    if var(&["NO_PROXY", "no_proxy"]).is_some_and(|list| excluded(&list, &url.host)) {
        return None;
    }
    parse(&proxy)
}

/// Whether `NO_PROXY`'s `list` names `host` (`*`, the host, or a domain it is under).
fn excluded(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    list.split(',').map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase()).filter(|e| !e.is_empty()).any(|e| {
        // `host:port` names the host; an IPv6 address has more than one colon.
        let e = match e.split_once(':') {
            Some((h, _)) if e.matches(':').count() == 1 => h.to_string(),
            _ => e.trim_start_matches('[').trim_end_matches(']').to_string(),
        };
        e == "*" || host == e || host.ends_with(&format!(".{e}"))
    })
}

/// `http://[user:password@]host[:port][/]` (a bare `host:port` too).
fn parse(proxy: &str) -> Option<Proxy> {
    let rest = proxy.trim();
    let rest = rest.strip_prefix("http://").unwrap_or(rest);
    let rest = rest.split('/').next()?;
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    if hostport.is_empty() {
        return None;
    }
    let authority = if hostport.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let authorization = userinfo.map(|u| format!("Basic {}", base64(u.as_bytes())));
    Some(Proxy { authority, authorization })
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A TCP stream to `target` (`host:port`) through `proxy`'s `CONNECT` tunnel.
pub async fn tunnel(proxy: &Proxy, target: &str) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(&proxy.authority).await?;
    let auth = proxy.authorization.as_ref().map(|a| format!("Proxy-Authorization: {a}\r\n")).unwrap_or_default();
    stream.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n").as_bytes()).await?;
    // Byte by byte up to the end of the head: nothing of the tunnel may be read here.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(std::io::Error::other("the proxy's answer has no end"));
        }
        let mut byte = [0u8];
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::other("the proxy closed the connection"));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head.lines().next().unwrap_or_default();
    match status.split_whitespace().nth(1) {
        Some("200") => Ok(stream),
        _ => Err(std::io::Error::other(format!("the proxy {} refused the tunnel: {status}", proxy.authority))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_and_exclusions_parse() {
        assert_eq!(
            parse("http://proxy.corp:3128/"),
            Some(Proxy { authority: "proxy.corp:3128".into(), authorization: None })
        );
        assert_eq!(parse("proxy.corp").map(|p| p.authority), Some("proxy.corp:80".into()));
        assert_eq!(parse("http://u:p@proxy:8080").and_then(|p| p.authorization), Some("Basic dTpw".into()));
        assert_eq!(base64(b"Aladdin:open sesame"), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(excluded("localhost, .example.com", "sync.example.com"));
        assert!(excluded("example.com:443", "example.com"));
        assert!(excluded("*", "anything"));
        assert!(!excluded("example.com", "badexample.com"));
        assert!(excluded("127.0.0.1", "127.0.0.1"));
        assert!(excluded("::1", "[::1]"));
    }
}
