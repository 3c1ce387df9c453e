//! CRLs for the OpenSSL family, written once.
//!
//! Both bindings load CRLs into a context's certificate store only from a
//! file (`SSL_CTX_load_verify_locations`, which reads every certificate and
//! CRL of a PEM file); neither offers `X509_STORE_add_crl` as a safe call.
//! So the CRLs go through a private temporary file that lives only while the
//! library reads it. The checking itself is the library's: the store's
//! `X509_V_FLAG_CRL_CHECK` (the leaf) and `X509_V_FLAG_CRL_CHECK_ALL` (the
//! whole chain), which, as [`polytls_api::revocation`] requires, fail closed
//! on a certificate with no CRL from its issuer (`X509_V_ERR_UNABLE_TO_GET_CRL`)
//! and refuse a CRL past its `nextUpdate` (`X509_V_ERR_CRL_HAS_EXPIRED`).

use std::io::Write as _;
use std::path::Path;

use polytls_api::{ConfigErrorKind, Error, Result, Revocation, RevocationScope};

/// The store flags a [`Revocation`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlFlags {
    /// `X509_V_FLAG_CRL_CHECK`: check the leaf.
    pub check: bool,
    /// `X509_V_FLAG_CRL_CHECK_ALL`: check every certificate of the chain.
    pub check_all: bool,
}

impl CrlFlags {
    /// The flags for `revocation` (none when it holds no CRLs).
    pub fn of(revocation: &Revocation) -> Self {
        let on = !revocation.is_empty();
        Self {
            check: on,
            check_all: on && revocation.scope == RevocationScope::Chain,
        }
    }
}

/// Writes the CRLs to a private temporary PEM file and calls `load` with its
/// path (the library's `load_verify_locations`); the file is removed when
/// `load` returns. Does nothing for an empty `revocation`.
pub fn load_crls(
    backend: &str,
    revocation: &Revocation,
    load: impl FnOnce(&Path) -> std::result::Result<(), String>,
) -> Result<()> {
    if revocation.is_empty() {
        return Ok(());
    }
    let io = |e: std::io::Error| {
        Error::config(
            ConfigErrorKind::Io,
            format!("{backend}: writing CRLs to a temporary file: {e}"),
        )
    };
    let mut file = tempfile::NamedTempFile::new().map_err(io)?;
    file.write_all(revocation.to_pem().as_bytes()).map_err(io)?;
    file.flush().map_err(io)?;
    load(file.path()).map_err(|e| {
        Error::config(
            ConfigErrorKind::Malformed,
            format!("{backend}: loading CRLs: {e}"),
        )
    })
}
