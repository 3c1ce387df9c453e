//! Certificates, private keys and identities (a chain plus its key), with
//! loaders for PEM, DER and PKCS#12.

use std::fmt;
use std::path::Path;

use rustls_pki_types::pem::PemObject;
pub use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::params::SignatureScheme;
use crate::{ConfigErrorKind, Error, Result};

/// A certificate chain and the private key of its first (leaf) certificate.
///
/// The chain is leaf first, then intermediates; the root is usually left out.
/// Whether the key matches the leaf is checked by the backend when a context is
/// built, and a mismatch is [`Error::InvalidConfig`].
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// An identity from a chain (leaf first) and the leaf's private key.
    pub fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Self> {
        if chain.is_empty() {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "an identity needs at least one certificate",
            ));
        }
        Ok(Self { chain, key })
    }

    /// Loads an identity from PEM: `chain_pem` holds one or more `CERTIFICATE`
    /// blocks (leaf first), `key_pem` one PKCS#8, PKCS#1 or SEC1 private key.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let chain = certs_from_pem(chain_pem)?;
        let key = private_key_from_pem(key_pem)?;
        Self::new(chain, key)
    }

    /// Loads an identity from a PEM certificate file and a PEM key file (which
    /// may be the same file).
    pub fn from_pem_files(chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self> {
        Self::from_pem(&read_file(chain.as_ref())?, &read_file(key.as_ref())?)
    }

    /// Loads an identity from DER: certificates leaf first, and a private key
    /// in PKCS#8, PKCS#1 or SEC1 form (detected from its structure).
    pub fn from_der(chain: Vec<Vec<u8>>, key: Vec<u8>) -> Result<Self> {
        let key = PrivateKeyDer::try_from(key).map_err(|e| {
            Error::config(
                ConfigErrorKind::Malformed,
                format!("unrecognised DER private key: {e}"),
            )
        })?;
        Self::new(chain.into_iter().map(CertificateDer::from).collect(), key)
    }

    /// Loads an identity from a PKCS#12 (`.p12`/`.pfx`) archive protected by
    /// `password`. The archive must hold exactly one private key with its chain.
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(der, password, Default::default())
            .map_err(|e| {
                Error::config(
                    ConfigErrorKind::Malformed,
                    format!("cannot read PKCS#12 archive: {e}"),
                )
            })?;
        let mut found = None;
        for (_alias, entry) in store.entries() {
            if let p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) = entry {
                if found.is_some() {
                    return Err(Error::config(
                        ConfigErrorKind::Malformed,
                        "PKCS#12 archive holds more than one private key",
                    ));
                }
                found = Some(chain);
            }
        }
        let entry = found.ok_or_else(|| {
            Error::config(
                ConfigErrorKind::Malformed,
                "PKCS#12 archive holds no private key with a chain",
            )
        })?;
        let chain = entry
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect();
        let key = PrivateKeyDer::try_from(entry.key().as_der().to_vec()).map_err(|e| {
            Error::config(
                ConfigErrorKind::Malformed,
                format!("PKCS#12 private key: {e}"),
            )
        })?;
        Self::new(chain, key)
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The leaf's private key.
    pub fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// The signature schemes the leaf's key can make, by its
    /// `SubjectPublicKeyInfo`, each ECDSA scheme with its own curve (TLS
    /// 1.3's rule, which polytls applies to TLS 1.2 too); `None` when the
    /// leaf cannot be read. An RSA-PSS, Ed448 or ML-DSA key makes none of
    /// the schemes polytls names.
    pub fn signature_schemes(&self) -> Option<Vec<SignatureScheme>> {
        use x509_parser::nom::Parser as _;
        use x509_parser::oid_registry as oid;
        use SignatureScheme as S;
        // Only the key is read: the extensions stay unparsed (a deep parse
        // builds x509-parser's process-wide extension registry, and every
        // context made from this identity would parse them again).
        let (_, leaf) = x509_parser::certificate::X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(self.chain.first()?.as_ref())
            .ok()?;
        let spki = leaf.public_key();
        let alg = &spki.algorithm.algorithm;
        Some(if *alg == oid::OID_PKCS1_RSAENCRYPTION {
            vec![
                S::rsa_pss_rsae_sha256,
                S::rsa_pss_rsae_sha384,
                S::rsa_pss_rsae_sha512,
                S::rsa_pkcs1_sha256,
                S::rsa_pkcs1_sha384,
                S::rsa_pkcs1_sha512,
            ]
        } else if *alg == oid::OID_SIG_ED25519 {
            vec![S::ed25519]
        } else if *alg == oid::OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve {
                Some(c) if c == oid::OID_EC_P256 => vec![S::ecdsa_secp256r1_sha256],
                Some(c) if c == oid::OID_NIST_EC_P384 => vec![S::ecdsa_secp384r1_sha384],
                Some(c) if c == oid::OID_NIST_EC_P521 => vec![S::ecdsa_secp521r1_sha512],
                _ => Vec::new(),
            }
        } else {
            Vec::new()
        })
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Parses every `CERTIFICATE` block of a PEM document. A document with no
/// certificate, or with a malformed block, is [`Error::InvalidConfig`].
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::config(
                ConfigErrorKind::Malformed,
                format!("malformed PEM certificate: {e}"),
            )
        })?;
    if certs.is_empty() {
        return Err(Error::config(
            ConfigErrorKind::Malformed,
            "no CERTIFICATE block found in PEM input",
        ));
    }
    Ok(certs)
}

/// Parses the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM document.
pub fn private_key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        Error::config(
            ConfigErrorKind::Malformed,
            format!("no usable PEM private key: {e}"),
        )
    })
}

/// Reads certificates from a PEM file.
pub fn certs_from_pem_file(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>> {
    certs_from_pem(&read_file(path.as_ref())?)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::config(
            ConfigErrorKind::Io,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_pem_is_invalid_config() {
        let bad = b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(certs_from_pem(bad), Err(Error::InvalidConfig(_))));
        assert!(
            matches!(certs_from_pem(b"hello"), Err(Error::InvalidConfig(m)) if m.message().contains("no CERTIFICATE"))
        );
        assert!(matches!(
            private_key_from_pem(b""),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn empty_chain_rejected() {
        let key = PrivateKeyDer::Pkcs8(vec![0x30, 0x00].into());
        assert!(matches!(
            Identity::new(vec![], key),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            Identity::from_der(vec![vec![1, 2, 3]], vec![9, 9, 9]),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn garbage_pkcs12_rejected() {
        assert!(matches!(
            Identity::from_pkcs12(b"not a pfx", "pw"),
            Err(Error::InvalidConfig(m)) if m.message().contains("PKCS#12")
        ));
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = certs_from_pem_file("/nonexistent/polytls/cert.pem");
        assert!(
            matches!(err, Err(Error::InvalidConfig(m)) if m.kind() == ConfigErrorKind::Io && m.message().contains("/nonexistent/polytls/cert.pem"))
        );
    }
}
