//! Certificate revocation lists (CRLs) and the one policy every backend
//! applies to them.
//!
//! With no CRLs, nothing is checked for revocation (the default). With CRLs,
//! on every backend:
//!
//! - each certificate in [`RevocationScope`] — the leaf and every
//!   intermediate by default, the leaf alone with
//!   [`RevocationScope::EndEntity`] — must be covered by a CRL from its own
//!   issuer whose signature verifies; trust anchors are not checked (nothing
//!   above them can revoke them);
//! - a certificate the CRL lists is refused with
//!   [`CertificateError::Revoked`](crate::CertificateError::Revoked);
//! - a certificate with no CRL from its issuer is refused with
//!   [`CertificateError::UnknownRevocationStatus`](crate::CertificateError::UnknownRevocationStatus)
//!   (fail closed): a CRL from another CA says nothing about it and is
//!   ignored, even when it lists the same serial number;
//! - a CRL past its `nextUpdate` is refused with
//!   [`CertificateError::ExpiredRevocationList`](crate::CertificateError::ExpiredRevocationList):
//!   a stale list would hide revocations made since. Fetching fresh CRLs is
//!   the operator's job (the tunnel reloads them like certificates).
//!
//! Delta CRLs and indirect CRLs are not supported; OCSP is not part of this.

use std::fmt;
use std::path::Path;

use rustls_pki_types::pem::PemObject;
pub use rustls_pki_types::CertificateRevocationListDer;

use crate::{ConfigErrorKind, Error, Result};

/// Which certificates of the peer's chain revocation covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationScope {
    /// The leaf and every intermediate (the default).
    #[default]
    Chain,
    /// The leaf only: intermediates need no CRL and are not checked.
    EndEntity,
}

/// CRLs to check the peer's chain against (see the [module](self) for the
/// policy). Empty means no revocation checking.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Revocation {
    crls: Vec<CertificateRevocationListDer<'static>>,
    /// Which certificates are checked.
    pub scope: RevocationScope,
}

impl Revocation {
    /// Revocation against these CRLs (DER), each checked to parse.
    pub fn new(crls: Vec<CertificateRevocationListDer<'static>>) -> Result<Self> {
        let mut r = Self::default();
        for crl in crls {
            r.add(crl)?;
        }
        Ok(r)
    }

    /// Every `X509 CRL` block of a PEM document.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let crls = CertificateRevocationListDer::pem_slice_iter(pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| malformed(format!("malformed PEM CRL: {e}")))?;
        if crls.is_empty() {
            return Err(malformed("no X509 CRL block found in PEM input".into()));
        }
        Self::new(crls)
    }

    /// CRLs from bytes that are either PEM (any number of `X509 CRL`
    /// blocks) or one DER CRL.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self> {
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            Self::from_pem(bytes)
        } else {
            Self::new(vec![CertificateRevocationListDer::from(bytes.to_vec())])
        }
    }

    /// CRLs from files, each PEM or DER.
    pub fn from_files<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Self> {
        let mut r = Self::default();
        for path in paths {
            let path = path.as_ref();
            let bytes = std::fs::read(path).map_err(|e| {
                Error::config(
                    ConfigErrorKind::Io,
                    format!("cannot read CRL {}: {e}", path.display()),
                )
            })?;
            let loaded = Self::from_pem_or_der(&bytes).map_err(|e| match e {
                Error::InvalidConfig(c) => {
                    Error::config(c.kind(), format!("{}: {}", path.display(), c.message()))
                }
                other => other,
            })?;
            r.crls.extend(loaded.crls);
        }
        Ok(r)
    }

    /// Adds one CRL (DER), checked to parse.
    pub fn add(&mut self, crl: CertificateRevocationListDer<'static>) -> Result<()> {
        use x509_parser::prelude::FromDer as _;
        match x509_parser::revocation_list::CertificateRevocationList::from_der(&crl) {
            Ok(([], _)) => {
                self.crls.push(crl);
                Ok(())
            }
            Ok(_) => Err(malformed("trailing bytes after a DER CRL".into())),
            Err(e) => Err(malformed(format!("malformed DER CRL: {e}"))),
        }
    }

    /// The CRLs, as DER.
    pub fn crls(&self) -> &[CertificateRevocationListDer<'static>] {
        &self.crls
    }

    /// Whether there are no CRLs (no revocation checking).
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }

    /// The CRLs as one PEM document (for libraries that load CRLs from a
    /// file).
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let mut out = String::new();
        for crl in &self.crls {
            let b64 = base64::engine::general_purpose::STANDARD.encode(crl.as_ref());
            out.push_str("-----BEGIN X509 CRL-----\n");
            for line in b64.as_bytes().chunks(64) {
                out.push_str(std::str::from_utf8(line).unwrap_or_default());
                out.push('\n');
            }
            out.push_str("-----END X509 CRL-----\n");
        }
        out
    }
}

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Revocation({} CRLs, {:?})", self.crls.len(), self.scope)
    }
}

fn malformed(message: String) -> Error {
    Error::config(ConfigErrorKind::Malformed, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed() {
        for bad in [
            &b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n"[..],
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"\x30\x03\x02\x01",
            b"",
        ] {
            match Revocation::from_pem_or_der(bad) {
                Err(Error::InvalidConfig(c)) => assert_eq!(c.kind(), ConfigErrorKind::Malformed),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_file_is_io() {
        match Revocation::from_files(["/nonexistent/polytls.crl"]) {
            Err(Error::InvalidConfig(c)) => assert_eq!(c.kind(), ConfigErrorKind::Io),
            other => panic!("{other:?}"),
        }
    }
}
