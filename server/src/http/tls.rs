//! TLS terminated by the server itself (`serve --tls-cert FILE --tls-key FILE`, PEM):
//! rustls with the ring provider, HTTP/1.1 only (the sync WebSocket upgrades over it).
//!
//! The certificate and key are read at start — a missing or bad file stops the server
//! with one clear line — and again on each [`ServerTls::reload`] (SIGHUP): connections
//! accepted afterwards get the new pair, open ones keep theirs, and a bad new file keeps
//! the old pair (the error is logged). Each pair loaded is logged with its certificate's
//! SHA-256 fingerprint, so IT can tell which one is served.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {0}: {1}")]
    ReadCert(PathBuf, std::io::Error),
    #[error("cannot read the TLS key {0}: {1}")]
    ReadKey(PathBuf, std::io::Error),
    #[error("the TLS certificate file {0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCert(PathBuf),
    #[error("the TLS certificate file {0} is not valid PEM: {1}")]
    BadCert(PathBuf, String),
    #[error("the TLS key file {0} holds no PEM private key (PKCS#8, RSA or EC): {1}")]
    BadKey(PathBuf, String),
    #[error("the TLS certificate {cert} and key {key} do not go together: {error}")]
    Mismatch { cert: PathBuf, key: PathBuf, error: rustls::Error },
}

/// Where the certificate chain and its private key are read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The TLS settings connections are accepted with, replaceable while the server runs.
pub struct ServerTls {
    files: TlsFiles,
    current: RwLock<Loaded>,
}

#[derive(Clone)]
struct Loaded {
    acceptor: TlsAcceptor,
    fingerprint: String,
}

impl ServerTls {
    /// Read the files; an error names the file and what is wrong with it.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let loaded = read(&files)?;
        tracing::info!(cert = %files.cert.display(), sha256 = loaded.fingerprint, "TLS certificate loaded");
        Ok(ServerTls { files, current: RwLock::new(loaded) })
    }

    /// Read the files again. On success new connections get the new pair; on error the
    /// pair in use stays.
    pub fn reload(&self) -> Result<String, TlsError> {
        let loaded = read(&self.files)?;
        let fingerprint = loaded.fingerprint.clone();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(fingerprint)
    }

    /// [`ServerTls::reload`], with the outcome logged (what SIGHUP does).
    pub fn reload_logged(&self) {
        match self.reload() {
            Ok(sha256) => tracing::info!(cert = %self.files.cert.display(), sha256, "TLS certificate reloaded"),
            Err(error) => tracing::error!(
                %error,
                sha256 = self.fingerprint(),
                "TLS certificate NOT reloaded: the certificate in use stays"
            ),
        }
    }

    /// The acceptor for the next connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().unwrap_or_else(|p| p.into_inner()).acceptor.clone()
    }

    /// SHA-256 of the certificate served now (lowercase hex).
    pub fn fingerprint(&self) -> String {
        self.current.read().unwrap_or_else(|p| p.into_inner()).fingerprint.clone()
    }
}

fn read(files: &TlsFiles) -> Result<Loaded, TlsError> {
    let cert_pem = std::fs::read(&files.cert).map_err(|e| TlsError::ReadCert(files.cert.clone(), e))?;
    let key_pem = std::fs::read(&files.key).map_err(|e| TlsError::ReadKey(files.key.clone(), e))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCert(files.cert.clone(), e.to_string()))?;
    let leaf = chain.first().ok_or_else(|| TlsError::NoCert(files.cert.clone()))?;
    let fingerprint = hex(&Sha256::digest(leaf.as_ref()));
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::BadKey(files.key.clone(), e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mismatch = |error| TlsError::Mismatch { cert: files.cert.clone(), key: files.key.clone(), error };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(mismatch)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(mismatch)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded { acceptor: TlsAcceptor::from(Arc::new(config)), fingerprint })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
