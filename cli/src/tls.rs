//! The native client's TLS: one rustls `ClientConfig` (ring provider) trusting the
//! operating system's roots — where IT installs a company CA, read at run time by
//! `rustls-native-certs` — plus, optionally, a company CA given with `login --ca FILE` and
//! remembered in the profile. The HTTP calls and the sync WebSocket use the same config.
//!
//! A failed handshake is told as one [`TlsProblem`]: unknown CA, wrong host name, expired
//! certificate, or a server that does not speak TLS at all.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("the CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    #[error("the CA file cannot be read as PEM: {0}")]
    BadPem(String),
    #[error("the CA certificate is not usable: {0}")]
    BadCa(String),
    #[error("cannot set up TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Why a TLS handshake with the server failed, as a user can act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsProblem {
    /// The server's certificate is not signed by a CA this device trusts.
    UnknownCa,
    /// The certificate is for another host name than the URL's.
    WrongHost,
    /// The certificate has expired (or is not valid yet: the device's clock).
    Expired,
    /// The server answered something else than TLS (a plain http server behind https://).
    NotTls,
    /// Anything else rustls refused.
    Other,
}

impl TlsProblem {
    /// The key of its text in the CLI's zh/en table.
    pub fn key(self) -> &'static str {
        match self {
            TlsProblem::UnknownCa => "tls-unknown-ca",
            TlsProblem::WrongHost => "tls-wrong-host",
            TlsProblem::Expired => "tls-expired",
            TlsProblem::NotTls => "tls-not-tls",
            TlsProblem::Other => "tls-other",
        }
    }

    fn english(self) -> &'static str {
        match self {
            TlsProblem::UnknownCa => {
                "the server's certificate is not signed by a CA this device trusts (a company CA: login --ca FILE)"
            }
            TlsProblem::WrongHost => "the server's certificate is for another host name than the one in the URL",
            TlsProblem::Expired => "the server's certificate has expired or is not valid yet (check the clock)",
            TlsProblem::NotTls => "the server does not speak TLS at that address (try http:// or another port)",
            TlsProblem::Other => "the TLS handshake failed",
        }
    }

    fn of(e: &rustls::Error) -> Self {
        use rustls::CertificateError as C;
        match e {
            rustls::Error::InvalidCertificate(c) => match c {
                C::UnknownIssuer | C::BadSignature | C::UnknownRevocationStatus => TlsProblem::UnknownCa,
                C::NotValidForName | C::NotValidForNameContext { .. } => TlsProblem::WrongHost,
                C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
                    TlsProblem::Expired
                }
                _ => TlsProblem::Other,
            },
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateHandshakeMessage { .. } => {
                TlsProblem::NotTls
            }
            _ => TlsProblem::Other,
        }
    }

    /// The TLS problem somewhere in an error's chain of causes (io errors looked into).
    pub fn find(e: &(dyn std::error::Error + 'static)) -> Option<(TlsProblem, String)> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = next {
            if let Some(r) = err.downcast_ref::<rustls::Error>() {
                return Some((TlsProblem::of(r), r.to_string()));
            }
            if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
                && let Some(found) = TlsProblem::find(inner)
            {
                return Some(found);
            }
            next = err.source();
        }
        None
    }
}

/// A failed TLS handshake with `server`.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect securely to {server}: {} ({detail})", problem.english())]
pub struct TlsFailure {
    pub server: String,
    pub problem: TlsProblem,
    /// rustls's own words, for whoever debugs it.
    pub detail: String,
}

/// The CA certificates of a PEM file's text (at least one).
pub fn parse_ca(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::BadPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate);
    }
    Ok(certs)
}

/// The client config: the system's roots, plus `ca_pem`'s certificates when given.
pub fn client_config(ca_pem: Option<&str>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    static SYSTEM: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    match ca_pem {
        None => {
            if let Some(c) = SYSTEM.get() {
                return Ok(c.clone());
            }
            let config = build(RootCertStore::empty())?;
            Ok(SYSTEM.get_or_init(|| config).clone())
        }
        Some(pem) => {
            let mut extra = RootCertStore::empty();
            for cert in parse_ca(pem)? {
                extra.add(cert).map_err(|e| TlsSetupError::BadCa(e.to_string()))?;
            }
            build(extra)
        }
    }
}

fn build(mut roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsSetupError> {
    // Unreadable system certificates are skipped: the others (and --ca) still count.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_certificate_is_refused() {
        assert!(matches!(parse_ca("hello"), Err(TlsSetupError::NoCertificate)));
        assert!(client_config(Some("")).is_err());
        assert!(client_config(None).is_ok());
    }

    #[test]
    fn problems_are_found_through_io_errors() {
        let rustls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        assert_eq!(TlsProblem::find(&io).map(|f| f.0), Some(TlsProblem::UnknownCa));
        let io = std::io::Error::other("plain");
        assert_eq!(TlsProblem::find(&io), None);
    }
}
