//! TLS for the tests: a certificate authority made at test time (`rcgen` is the caller's
//! — a dev-dependency — so this module takes PEM text), and a small rustls client that
//! reads which certificate a server serves and GETs a path over https.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// SHA-256 of a certificate's DER bytes, lowercase hex (as the server logs it).
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// Chromium's pin of a key: base64 of the SHA-256 of its SubjectPublicKeyInfo (DER), for
/// `--ignore-certificate-errors-spki-list`.
pub fn spki_pin(spki_der: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digest = Sha256::digest(spki_der);
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// A client config trusting only `ca_pem`'s certificates.
pub fn client_config(ca_pem: &str) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn connect(addr: SocketAddr, host: &str, ca_pem: &str) -> std::io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let name = ServerName::try_from(host.to_string()).map_err(std::io::Error::other)?;
    let conn = ClientConnection::new(client_config(ca_pem), name).map_err(std::io::Error::other)?;
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// The fingerprint of the leaf certificate `addr` serves to a new connection for `host`.
pub fn served_fingerprint(addr: SocketAddr, host: &str, ca_pem: &str) -> std::io::Result<String> {
    let stream = connect(addr, host, ca_pem)?;
    let leaf = stream.conn.peer_certificates().and_then(|c| c.first()).ok_or_else(|| std::io::Error::other("none"))?;
    Ok(fingerprint(leaf.as_ref()))
}

/// `GET path` over https: the status line and the body.
pub fn https_get(addr: SocketAddr, host: &str, ca_pem: &str, path: &str) -> std::io::Result<(String, String)> {
    let mut stream = connect(addr, host, ca_pem)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")?;
    stream.flush()?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A server that closes without close_notify still gave its whole answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((head.lines().next().unwrap_or_default().to_string(), body.to_string()))
}
