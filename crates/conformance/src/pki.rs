//! A test PKI generated in process with rcgen: a root, an intermediate, server
//! leaves of every key type, bad leaves (expired, not yet valid, wrong name,
//! untrusted, wrong purpose) and client certificates. Validity is relative to
//! now, so nothing here expires.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use polytls_api::{CertificateDer, Identity, PrivateKeyDer, Roots};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, RsaKeySize, SanType,
};
use time::{Duration, OffsetDateTime};

/// A key algorithm for a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA 2048 (PKCS#1 v1.5 / PSS with SHA-256).
    Rsa2048,
    /// RSA 4096.
    Rsa4096,
    /// Ed25519.
    Ed25519,
}

impl KeyType {
    fn generate(self) -> KeyPair {
        let r = match self {
            KeyType::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyType::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyType::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
            KeyType::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
            }
            KeyType::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096)
            }
        };
        r.expect("test key generation")
    }
}

/// What a leaf is for and how it is broken, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// A good server certificate for `localhost`, `*.wild.test` and `127.0.0.1`.
    Server(KeyType),
    /// A good server certificate for `alt.test` only (SNI selection).
    Alt,
    /// Expired a month ago.
    Expired,
    /// Valid from a month from now.
    NotYetValid,
    /// Valid only for `other.test`.
    WrongName,
    /// Issued by a CA nobody trusts.
    Untrusted,
    /// A client certificate (clientAuth only) used as a server certificate.
    WrongPurpose,
    /// A good client certificate.
    Client,
    /// A client certificate from a CA the server does not trust.
    ClientUntrusted,
    /// A server certificate whose intermediate has expired.
    ExpiredIntermediate,
    /// A server certificate whose intermediate is not valid yet.
    NotYetValidIntermediate,
    /// A server certificate issued by the root directly (chain depth 1).
    FromRoot,
    /// A server certificate under two intermediates (chain depth 3).
    DeepChain,
    /// A server certificate for the IDN `bücher.example`, as its A-label
    /// `xn--bcher-kva.example`.
    Idn,
    /// A server certificate the intermediate's CRL revokes.
    Revoked,
    /// A client certificate the intermediate's CRL revokes.
    ClientRevoked,
    /// A good server certificate under an intermediate the root's CRL
    /// revokes.
    UnderRevokedIntermediate,
}

type Issuer = CertifiedIssuer<'static, KeyPair>;

/// The test PKI (one per test process, made on first use).
pub struct TestPki {
    root: Issuer,
    intermediate: Issuer,
    expired_intermediate: Issuer,
    future_intermediate: Issuer,
    second_intermediate: Issuer,
    revoked_intermediate: Issuer,
    other_root: Issuer,
    leaves: Mutex<HashMap<Leaf, Identity>>,
}

fn ca_params(cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "polytls test PKI");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = not_before;
    p.not_after = not_after;
    p
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The process-wide test PKI.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let (past, future) = (now() - Duration::days(1), now() + Duration::days(365));
        let root = CertifiedIssuer::self_signed(
            ca_params("polytls test root", past, future),
            KeyType::EcdsaP256.generate(),
        )
        .expect("root");
        let intermediate = CertifiedIssuer::signed_by(
            ca_params("polytls test intermediate", past, future),
            KeyType::EcdsaP256.generate(),
            &root,
        )
        .expect("intermediate");
        let expired_intermediate = CertifiedIssuer::signed_by(
            ca_params(
                "polytls expired intermediate",
                now() - Duration::days(60),
                now() - Duration::days(30),
            ),
            KeyType::EcdsaP256.generate(),
            &root,
        )
        .expect("expired intermediate");
        let future_intermediate = CertifiedIssuer::signed_by(
            ca_params(
                "polytls future intermediate",
                now() + Duration::days(30),
                now() + Duration::days(60),
            ),
            KeyType::EcdsaP256.generate(),
            &root,
        )
        .expect("future intermediate");
        let second_intermediate = CertifiedIssuer::signed_by(
            ca_params("polytls second intermediate", past, future),
            KeyType::EcdsaP256.generate(),
            &intermediate,
        )
        .expect("second intermediate");
        let mut revoked = ca_params("polytls revoked intermediate", past, future);
        revoked.serial_number = Some(REVOKED_INTERMEDIATE_SERIAL.into());
        let revoked_intermediate =
            CertifiedIssuer::signed_by(revoked, KeyType::EcdsaP256.generate(), &root)
                .expect("revoked intermediate");
        let other_root = CertifiedIssuer::self_signed(
            ca_params("untrusted root", past, future),
            KeyType::EcdsaP256.generate(),
        )
        .expect("other root");
        TestPki {
            root,
            intermediate,
            expired_intermediate,
            future_intermediate,
            second_intermediate,
            revoked_intermediate,
            other_root,
            leaves: Mutex::new(HashMap::new()),
        }
    })
}

impl TestPki {
    /// The trusted root, as the only trust anchor.
    pub fn roots(&self) -> Roots {
        Roots::new(vec![self.root.der().clone()])
    }

    /// The trusted root certificate.
    pub fn root(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    /// The intermediate that issues the good leaves.
    pub fn intermediate(&self) -> CertificateDer<'static> {
        self.intermediate.der().clone()
    }

    /// The root's PEM (for external peers).
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// Roots holding only the CA nobody else trusts.
    pub fn other_roots(&self) -> Roots {
        Roots::new(vec![self.other_root.der().clone()])
    }

    /// The identity (leaf + intermediate, and key) for `leaf`.
    pub fn identity(&self, leaf: Leaf) -> Identity {
        if let Some(id) = self.leaves.lock().expect("pki lock").get(&leaf) {
            return id.clone();
        }
        let id = self.make(leaf);
        self.leaves
            .lock()
            .expect("pki lock")
            .entry(leaf)
            .or_insert(id)
            .clone()
    }

    /// A good ECDSA P-256 server identity.
    pub fn server(&self) -> Identity {
        self.identity(Leaf::Server(KeyType::EcdsaP256))
    }

    /// A good client identity.
    pub fn client(&self) -> Identity {
        self.identity(Leaf::Client)
    }

    /// An identity as a password-protected PKCS#12 archive.
    pub fn pkcs12(&self, id: &Identity, password: &str) -> Vec<u8> {
        let key = p12_keystore::PrivateKey::from_der(id.key().secret_der()).expect("pkcs8 key");
        let certs = id
            .chain()
            .iter()
            .map(|c| p12_keystore::Certificate::from_der(c.as_ref()).expect("cert"))
            .collect::<Vec<_>>();
        let chain = p12_keystore::PrivateKeyChain::new(vec![1u8; 20], key, certs);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(
            "polytls",
            p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
        );
        store.writer(password).write().expect("pkcs12 write")
    }

    /// A fresh identity for `leaf` (a good [`Leaf::Server`] or
    /// [`Leaf::Client`] kind) that expires `seconds` from now: for cases
    /// that watch a certificate expire. Never cached.
    pub fn short_lived(&self, leaf: Leaf, seconds: i64) -> Identity {
        self.make_until(leaf, Some(now() + Duration::seconds(seconds)))
    }

    /// A leaf (with the usual chain) valid until `not_after`.
    pub fn valid_until(&self, leaf: Leaf, not_after: OffsetDateTime) -> Identity {
        self.make_until(leaf, Some(not_after))
    }

    fn make(&self, leaf: Leaf) -> Identity {
        self.make_until(leaf, None)
    }

    fn make_until(&self, leaf: Leaf, not_after: Option<OffsetDateTime>) -> Identity {
        let good = (
            now() - Duration::days(1),
            not_after.unwrap_or_else(|| now() + Duration::days(30)),
        );
        let server_names = vec!["localhost".to_owned(), "*.wild.test".to_owned()];
        let (key_type, names, validity, issuer, eku) = match leaf {
            Leaf::Server(kt) => (
                kt,
                server_names,
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::Alt => (
                KeyType::EcdsaP256,
                vec!["alt.test".into()],
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::Expired => (
                KeyType::EcdsaP256,
                server_names,
                (now() - Duration::days(60), now() - Duration::days(30)),
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::NotYetValid => (
                KeyType::EcdsaP256,
                server_names,
                (now() + Duration::days(30), now() + Duration::days(60)),
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::WrongName => (
                KeyType::EcdsaP256,
                vec!["other.test".into()],
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::Untrusted => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.other_root,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::WrongPurpose => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
            Leaf::Client => (
                KeyType::EcdsaP256,
                vec!["client.test".into()],
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
            Leaf::ClientUntrusted => (
                KeyType::EcdsaP256,
                vec!["client.test".into()],
                good,
                &self.other_root,
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
            Leaf::ExpiredIntermediate => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.expired_intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::NotYetValidIntermediate => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.future_intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::FromRoot => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.root,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::DeepChain => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.second_intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::Idn => (
                KeyType::EcdsaP256,
                vec!["xn--bcher-kva.example".into()],
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::Revoked => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Leaf::ClientRevoked => (
                KeyType::EcdsaP256,
                vec!["client.test".into()],
                good,
                &self.intermediate,
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
            Leaf::UnderRevokedIntermediate => (
                KeyType::EcdsaP256,
                server_names,
                good,
                &self.revoked_intermediate,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
        };
        let key = key_type.generate();
        let mut p = CertificateParams::new(names.clone()).expect("names");
        if matches!(
            leaf,
            Leaf::Server(_)
                | Leaf::Expired
                | Leaf::NotYetValid
                | Leaf::Untrusted
                | Leaf::WrongPurpose
                | Leaf::ExpiredIntermediate
        ) {
            p.subject_alt_names
                .push(SanType::IpAddress([127, 0, 0, 1].into()));
        }
        p.distinguished_name
            .push(DnType::CommonName, names[0].clone());
        p.not_before = validity.0;
        p.not_after = validity.1;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![eku];
        p.serial_number = Some(serial(leaf).into());
        let cert = p.signed_by(&key, issuer).expect("leaf");
        let mut chain = vec![cert.der().clone()];
        if std::ptr::eq(issuer, &self.second_intermediate) {
            chain.push(issuer.der().clone());
            chain.push(self.intermediate.der().clone());
        } else if !std::ptr::eq(issuer, &self.other_root) && !std::ptr::eq(issuer, &self.root) {
            chain.push(issuer.der().clone());
        }
        let key = PrivateKeyDer::Pkcs8(pkcs8_v1(key_type, key.serialize_der()).into());
        Identity::new(chain, key).expect("identity")
    }
}

/// The serial number of the revoked intermediate.
const REVOKED_INTERMEDIATE_SERIAL: u64 = 0x7e_0000_0001;

/// Each leaf's serial number: fixed, so CRLs can name it.
pub fn serial(leaf: Leaf) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    leaf.hash(&mut h);
    // Positive, and never the revoked intermediate's.
    (h.finish() >> 2) | 0x1000
}

/// The CRLs a revocation case loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crls {
    /// Current CRLs from every CA: the root's revokes the revoked
    /// intermediate; the intermediate's revokes [`Leaf::Revoked`] and
    /// [`Leaf::ClientRevoked`]; the other intermediates' revoke nothing.
    Current,
    /// As `Current`, but the intermediate's CRL is past its `nextUpdate`.
    IntermediateExpired,
    /// As `Current`, but without the intermediate's CRL, and with a CRL
    /// from the untrusted root that lists the good leaves' serial numbers.
    IntermediateMissingOtherCa,
    /// `Current`, plus the untrusted root's CRL that lists the good leaves'
    /// serial numbers (it is not their issuer's, so it says nothing).
    CurrentPlusOtherCa,
    /// Current CRLs from every CA that revoke nothing but the revoked
    /// intermediate: [`Leaf::Revoked`] and [`Leaf::ClientRevoked`] pass (the
    /// state before they were revoked).
    NoneRevoked,
    /// As `Current`, but the intermediate's CRL is not valid yet (its
    /// `thisUpdate` is tomorrow).
    IntermediateFutureDated,
}

impl TestPki {
    /// A set of CRLs, made now.
    pub fn revocation(&self, which: Crls) -> polytls_api::Revocation {
        let current = (now() - Duration::hours(1), now() + Duration::days(7));
        let expired = (now() - Duration::days(2), now() - Duration::days(1));
        let good_serials = [
            serial(Leaf::Server(KeyType::EcdsaP256)),
            serial(Leaf::Client),
        ];
        let mut crls = vec![
            crl(&self.root, current, &[REVOKED_INTERMEDIATE_SERIAL]),
            crl(&self.second_intermediate, current, &[]),
            crl(&self.revoked_intermediate, current, &[]),
        ];
        let revoked = [serial(Leaf::Revoked), serial(Leaf::ClientRevoked)];
        match which {
            Crls::Current => crls.push(crl(&self.intermediate, current, &revoked)),
            Crls::IntermediateExpired => crls.push(crl(&self.intermediate, expired, &revoked)),
            Crls::IntermediateMissingOtherCa => {
                crls.push(crl(&self.other_root, current, &good_serials))
            }
            Crls::CurrentPlusOtherCa => {
                crls.push(crl(&self.intermediate, current, &revoked));
                crls.push(crl(&self.other_root, current, &good_serials));
            }
            Crls::NoneRevoked => crls.push(crl(&self.intermediate, current, &[])),
            Crls::IntermediateFutureDated => crls.push(crl(
                &self.intermediate,
                (now() + Duration::days(1), now() + Duration::days(8)),
                &revoked,
            )),
        }
        polytls_api::Revocation::new(crls).expect("test CRLs parse")
    }
}

fn crl(
    issuer: &Issuer,
    (this_update, next_update): (OffsetDateTime, OffsetDateTime),
    revoked: &[u64],
) -> polytls_api::CertificateRevocationListDer<'static> {
    let params = rcgen::CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|s| rcgen::RevokedCertParams {
                serial_number: (*s).into(),
                revocation_time: this_update,
                reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    params.signed_by(issuer).expect("CRL").der().clone()
}

/// PEM-encodes one DER object under `label` (`CERTIFICATE`, `PRIVATE KEY`).
pub fn to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Ed25519 keys come out of the key generator as PKCS#8 v2 (RFC 5958, with
/// the public key); OpenSSL 3.0 reads only v1 (RFC 5208). Every backend reads
/// v1, so the test PKI hands out v1.
fn pkcs8_v1(key_type: KeyType, der: Vec<u8>) -> Vec<u8> {
    const V1_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    if key_type != KeyType::Ed25519 || der.len() < 48 || der[..2] == V1_PREFIX[..2] {
        return der;
    }
    let mut v1 = V1_PREFIX.to_vec();
    v1.extend_from_slice(&der[16..48]);
    v1
}
