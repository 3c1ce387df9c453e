//! Building rustls configurations from the portable model.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use polytls_api::keylog::format_line;
use polytls_api::trust::CrlFreshness;
use polytls_api::{
    check_pins, Capability, ClientAuth, ClientConfig, Common, ConfigErrorKind, Error, Identity,
    KeyLog, NamedGroup, ProtocolVersion, Result, RevocationScope, Roots, ServerConfig, SniSelector,
    SpkiPin, TicketKey, TicketKeys, Tls12Resumption,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{
    ClientHello, NoServerSessionStorage, ResolvesServerCert, ServerSessionMemoryCache,
    WebPkiClientVerifier,
};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::DistinguishedName;
use rustls::{
    DigitallySignedStruct, RootCertStore, SignatureAlgorithm, SignatureScheme,
    SupportedProtocolVersion,
};

use crate::error::{CrlNotYetValid, PinMismatch};
use crate::store::SharedStore;
use crate::tickets::KeyedTicketer;
use crate::{Crypto, NAME};

/// The provider narrowed to the configured (or portable default) suites,
/// groups and signature schemes.
pub(crate) fn provider(common: &Common, crypto: Crypto) -> Result<Arc<CryptoProvider>> {
    let mut p = crypto.provider();
    let name = crypto.name();
    p.cipher_suites = common
        .effective_suites()
        .iter()
        .map(|s| {
            crypto
                .suites()
                .iter()
                .find(|c| u16::from(c.suite()) == s.code())
                .copied()
                .ok_or_else(|| {
                    Error::unsupported(
                        name,
                        Capability::CipherSuite(*s),
                        format!("cipher suite {s} is not supported by the {name} backend"),
                    )
                })
        })
        .collect::<Result<_>>()?;
    let find = |g: NamedGroup| {
        crypto
            .groups()
            .iter()
            .find(|k| u16::from(k.name()) == g.code())
            .copied()
    };
    let (groups, configured) = common.effective_groups(|g| find(g).is_some());
    p.kx_groups = groups
        .iter()
        .map(|g| {
            find(*g).ok_or_else(|| {
                debug_assert!(configured);
                Error::unsupported(
                    name,
                    Capability::Group(*g),
                    format!("key-exchange group {g} is not supported by the {name} backend"),
                )
            })
        })
        .collect::<Result<_>>()?;
    if let Some(s) = common
        .effective_signing_schemes()
        .iter()
        .chain(common.effective_verify_schemes())
        .find(|s| !crypto.supports(Capability::SignatureScheme(**s)))
    {
        return Err(Error::unsupported(
            name,
            Capability::SignatureScheme(*s),
            format!("signature scheme {s} is not supported by the {name} backend"),
        ));
    }
    p.signature_verification_algorithms =
        verify_algorithms(crypto, common.effective_verify_schemes())?;
    Ok(Arc::new(p))
}

/// The provider's verification algorithms, with handshake signatures
/// limited to `schemes`, in their order (the order advertised); certificate
/// signatures keep the full set. rustls wants the list `'static`: each
/// distinct list is made once per process and kept, up to
/// [`MAX_VERIFY_LISTS`] of them.
fn verify_algorithms(
    crypto: Crypto,
    schemes: &[polytls_api::SignatureScheme],
) -> Result<WebPkiSupportedAlgorithms> {
    type Lists = Mutex<HashMap<(usize, Vec<u16>), &'static [SchemeMapping]>>;
    static LISTS: OnceLock<Lists> = OnceLock::new();
    let base = crypto.provider().signature_verification_algorithms;
    let codes: Vec<u16> = schemes.iter().map(|s| s.code()).collect();
    let mut lists = LISTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let key = (crypto as usize, codes);
    if !lists.contains_key(&key) && lists.len() >= MAX_VERIFY_LISTS {
        return Err(Error::config(
            ConfigErrorKind::OutOfRange,
            format!(
                "{}: at most {MAX_VERIFY_LISTS} distinct verify_schemes lists per process",
                crypto.name()
            ),
        ));
    }
    let mapping = *lists.entry(key).or_insert_with_key(|(_, codes)| {
        let list: Vec<SchemeMapping> = codes
            .iter()
            .filter_map(|c| {
                base.mapping
                    .iter()
                    .find(|(scheme, _)| u16::from(*scheme) == *c)
                    .copied()
            })
            .collect();
        Box::leak(list.into_boxed_slice())
    });
    Ok(WebPkiSupportedAlgorithms {
        all: base.all,
        mapping,
    })
}

/// How many distinct `verify_schemes` lists (orders included) one process
/// keeps for rustls: a bound on what contexts built from untrusted
/// settings could make it hold.
const MAX_VERIFY_LISTS: usize = 1024;

/// A signing key that signs with the first of `prefs` the peer offers and
/// the key can make: the order of
/// [`Common::signing_schemes`](polytls_api::Common::signing_schemes), not
/// the key's own.
#[derive(Debug)]
struct PreferringKey {
    key: Arc<dyn SigningKey>,
    prefs: Vec<SignatureScheme>,
}

impl SigningKey for PreferringKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.prefs
            .iter()
            .filter(|p| offered.contains(p))
            .find_map(|p| self.key.choose_scheme(std::slice::from_ref(p)))
    }

    fn public_key(&self) -> Option<rustls::pki_types::SubjectPublicKeyInfoDer<'_>> {
        self.key.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.key.algorithm()
    }
}

type SchemeMapping = (
    SignatureScheme,
    &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm],
);

pub(crate) fn versions(common: &Common) -> Vec<&'static SupportedProtocolVersion> {
    common
        .versions()
        .into_iter()
        .map(|v| match v {
            ProtocolVersion::Tls12 => &rustls::version::TLS12,
            _ => &rustls::version::TLS13,
        })
        .collect()
}

fn root_store(roots: &Roots) -> Result<Arc<RootCertStore>> {
    let mut store = RootCertStore::empty();
    for (i, cert) in roots.certs().iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            Error::config(
                ConfigErrorKind::Rejected,
                format!("root certificate #{i} is not usable: {e}"),
            )
        })?;
    }
    Ok(Arc::new(store))
}

fn certified_key(
    id: &Identity,
    provider: &CryptoProvider,
    common: &Common,
) -> Result<Arc<CertifiedKey>> {
    let key = provider
        .key_provider
        .load_private_key(id.key().clone_key())
        .map_err(|e| {
            Error::config(
                ConfigErrorKind::Rejected,
                format!("unusable private key: {e}"),
            )
        })?;
    let key = Arc::new(PreferringKey {
        key,
        prefs: common
            .effective_signing_schemes()
            .iter()
            .map(|s| SignatureScheme::from(s.code()))
            .collect(),
    });
    let ck = CertifiedKey::new(id.chain().to_vec(), key);
    match ck.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => {
            return Err(Error::config(
                ConfigErrorKind::KeyMismatch,
                format!("{NAME}: the private key does not match the certificate"),
            ))
        }
    }
    Ok(Arc::new(ck))
}

struct KeyLogBridge(Arc<dyn KeyLog>);

impl std::fmt::Debug for KeyLogBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyLogBridge")
    }
}

impl rustls::KeyLog for KeyLogBridge {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0.log_line(&format_line(label, client_random, secret));
    }
}

fn config_error(e: rustls::Error) -> Error {
    Error::config(ConfigErrorKind::Rejected, format!("{NAME}: {e}"))
}

/// Chooses the server identity by SNI, with polytls' one selector.
#[derive(Debug)]
struct SniResolver {
    selector: SniSelector,
    keys: Vec<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.keys
            .get(self.selector.select(hello.server_name()))
            .cloned()
    }
}

/// Random ticket keys for a context that was given none: its tickets resume
/// only on it, as on the other backends.
fn random_ticket_keys() -> Result<TicketKeys> {
    use ::aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut k = TicketKey {
        name: [0; 16],
        hmac: [0; 32],
        aes: [0; 32],
    };
    let rng = SystemRandom::new();
    for part in [&mut k.name[..], &mut k.hmac[..], &mut k.aes[..]] {
        rng.fill(part)
            .map_err(|_| Error::other("rustls: no randomness for ticket keys", RngFailure))?;
    }
    TicketKeys::new(vec![k])
}

#[derive(Debug)]
struct RngFailure;

impl std::fmt::Display for RngFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the system random number generator failed")
    }
}

impl std::error::Error for RngFailure {}

/// The handshake-signature half of a verifier: the provider's algorithms.
/// The server and client verifier traits are different, with the same
/// methods, so a macro writes them once.
macro_rules! provider_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            crate::peer_sig::note(
                rustls::crypto::verify_tls12_signature(
                    message,
                    cert,
                    dss,
                    &self.provider.signature_verification_algorithms,
                ),
                dss,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            crate::peer_sig::note(
                rustls::crypto::verify_tls13_signature(
                    message,
                    cert,
                    dss,
                    &self.provider.signature_verification_algorithms,
                ),
                dss,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

/// The revocation policy of `polytls_api::revocation` on a rustls verifier
/// builder (the client and server verifier builders are different types
/// with the same methods): the CRLs, expired ones refused, unknown status
/// refused (rustls' default), the leaf only for `EndEntity`.
macro_rules! with_revocation {
    ($builder:expr, $rev:expr) => {{
        let rev: &polytls_api::Revocation = $rev;
        let mut b = $builder;
        if !rev.is_empty() {
            b = b
                .with_crls(rev.crls().iter().cloned())
                .enforce_revocation_expiration();
            if rev.scope == RevocationScope::EndEntity {
                b = b.only_check_end_entity_revocation();
            }
        }
        b
    }};
}

pub(crate) fn server_config(cfg: &ServerConfig, crypto: Crypto) -> Result<rustls::ServerConfig> {
    let provider = provider(&cfg.common, crypto)?;
    let verifier = match &cfg.client_auth {
        ClientAuth::None => WebPkiClientVerifier::no_client_auth(),
        ClientAuth::Optional(roots) | ClientAuth::Required(roots) => {
            let mut b =
                WebPkiClientVerifier::builder_with_provider(root_store(roots)?, provider.clone());
            if matches!(cfg.client_auth, ClientAuth::Optional(_)) {
                b = b.allow_unauthenticated();
            }
            let webpki = with_revocation!(b, &cfg.client_revocation)
                .build()
                .map_err(|e| verifier_error("client", e))?;
            Arc::new(ClientVerifier {
                webpki,
                crls: (!cfg.client_revocation.is_empty())
                    .then(|| CrlFreshness::new(&cfg.client_revocation)),
            })
        }
        ClientAuth::DangerAcceptAny { required } => Arc::new(AnyClientCertificate {
            required: *required,
            provider: provider.clone(),
        }),
    };
    let resolver = SniResolver {
        selector: cfg.sni_selector(),
        keys: cfg
            .identities()
            .map(|id| certified_key(id, &provider, &cfg.common))
            .collect::<Result<_>>()?,
    };
    let mut sc = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(&cfg.common))
        .map_err(config_error)?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(resolver));
    sc.alpn_protocols = cfg.common.alpn.clone();
    sc.ignore_client_order = true;
    let r = &cfg.resumption;
    if cfg.common.resumption {
        sc.session_storage = ServerSessionMemoryCache::new(r.cache_size);
        // With session IDs on TLS 1.2, or with early data, the ticketer
        // stays off: rustls then keeps TLS 1.3 tickets in the cache too,
        // each usable once (as OpenSSL does with SSL_OP_NO_TICKET) — which
        // is what refuses a replayed ticket, and so what rustls requires
        // before it accepts early data.
        sc.max_early_data_size = cfg.max_early_data;
        if r.tls12 == Tls12Resumption::Tickets && cfg.max_early_data == 0 {
            let keys = match &r.ticket_keys {
                Some(k) => k.clone(),
                None => random_ticket_keys()?,
            };
            // 2 hours by default, as OpenSSL's (validated: at most 7 days).
            let lifetime = r.lifetime.map_or(7200, |l| l.as_secs());
            let lifetime = u32::try_from(lifetime).unwrap_or(u32::MAX);
            sc.ticketer = Arc::new(KeyedTicketer::new(&keys, cfg.trust_digest(), lifetime)?);
        }
    } else {
        sc.session_storage = Arc::new(NoServerSessionStorage {});
        sc.send_tls13_tickets = 0;
    }
    if let Some(kl) = &cfg.common.key_log {
        sc.key_log = Arc::new(KeyLogBridge(kl.clone()));
    }
    Ok(sc)
}

pub(crate) fn client_config(
    cfg: &ClientConfig,
    crypto: Crypto,
) -> Result<(rustls::ClientConfig, Option<Arc<SharedStore>>)> {
    let provider = provider(&cfg.common, crypto)?;
    let webpki = if cfg.roots.is_empty() {
        None
    } else {
        let b =
            WebPkiServerVerifier::builder_with_provider(root_store(&cfg.roots)?, provider.clone());
        Some(
            with_revocation!(b, &cfg.revocation)
                .build()
                .map_err(|e| verifier_error("server", e))?,
        )
    };
    let verifier = Arc::new(Verifier {
        webpki,
        crls: CrlFreshness::new(&cfg.revocation),
        pins: cfg.pins.clone(),
        accept_invalid_certs: cfg.danger_accept_invalid_certs,
        accept_invalid_hostnames: cfg.danger_accept_invalid_hostnames,
        provider: provider.clone(),
    });
    let key_provider = provider.clone();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(&cfg.common))
        .map_err(config_error)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cc = match &cfg.identity {
        Some(id) => builder.with_client_cert_resolver(Arc::new(ClientIdentity(certified_key(
            id,
            &key_provider,
            &cfg.common,
        )?))),
        None => builder.with_no_client_auth(),
    };
    cc.alpn_protocols = cfg.common.alpn.clone();
    cc.enable_sni = cfg.send_sni;
    cc.enable_early_data = cfg.early_data;
    // With resumption on, each connection gets a view of this store (see
    // `store`); the configuration's own store is never used.
    let store = if cfg.common.resumption {
        Some(Arc::new(SharedStore::new(cfg.session_cache_size)))
    } else {
        cc.resumption = Resumption::disabled();
        None
    };
    if let Some(kl) = &cfg.common.key_log {
        cc.key_log = Arc::new(KeyLogBridge(kl.clone()));
    }
    Ok((cc, store))
}

/// A client's one identity, offered whenever a server asks; its key picks
/// the scheme (none in common: rustls sends no certificate).
#[derive(Debug)]
struct ClientIdentity(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientIdentity {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// webpki verification, then SPKI pins; the `danger_*` switches relax the
/// first step only. Handshake signatures are always verified.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    crls: CrlFreshness,
    pins: Vec<SpkiPin>,
    accept_invalid_certs: bool,
    accept_invalid_hostnames: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let (Some(webpki), false) = (&self.webpki, self.accept_invalid_certs) {
            match webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(_) => {}
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. },
                )) if self.accept_invalid_hostnames => {}
                Err(e) => return Err(e),
            }
        }
        let chain: Vec<CertificateDer<'_>> = std::iter::once(end_entity.clone())
            .chain(intermediates.iter().cloned())
            .collect();
        if !self.accept_invalid_certs {
            crl_fresh(&self.crls, &chain)?;
        }
        check_pins(&self.pins, &chain).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(PinMismatch),
            )))
        })?;
        Ok(ServerCertVerified::assertion())
    }

    provider_signatures!();
}

/// A CRL covering the chain must have begun (webpki checks only its
/// `nextUpdate`).
fn crl_fresh(crls: &CrlFreshness, chain: &[CertificateDer<'_>]) -> Result<(), rustls::Error> {
    match crls.check_chain(chain) {
        Ok(()) => Ok(()),
        Err(Error::InvalidCertificate(
            polytls_api::CertificateError::RevocationListNotYetValid,
        )) => Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Other(rustls::OtherError(Arc::new(CrlNotYetValid))),
        )),
        Err(Error::InvalidCertificate(polytls_api::CertificateError::ExpiredRevocationList)) => {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ExpiredRevocationList,
            ))
        }
        Err(_) => Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadEncoding,
        )),
    }
}

/// webpki's client verifier, then the CRLs' `thisUpdate` (where there
/// are CRLs); notes the scheme of the client's signature.
#[derive(Debug)]
struct ClientVerifier {
    webpki: Arc<dyn ClientCertVerifier>,
    crls: Option<CrlFreshness>,
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.webpki.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.webpki.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .webpki
            .verify_client_cert(end_entity, intermediates, now)?;
        if let Some(crls) = &self.crls {
            let chain: Vec<CertificateDer<'_>> = std::iter::once(end_entity.clone())
                .chain(intermediates.iter().cloned())
                .collect();
            crl_fresh(crls, &chain)?;
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crate::peer_sig::note(self.webpki.verify_tls12_signature(message, cert, dss), dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crate::peer_sig::note(self.webpki.verify_tls13_signature(message, cert, dss), dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `ClientAuth::DangerAcceptAny`: any client chain, handshake signatures
/// still verified.
#[derive(Debug)]
struct AnyClientCertificate {
    required: bool,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn client_auth_mandatory(&self) -> bool {
        self.required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    provider_signatures!();
}

/// A verifier the builder refused: a CRL webpki cannot use is malformed
/// input; anything else (no usable root) is a rejected configuration.
fn verifier_error(which: &str, e: rustls::server::VerifierBuilderError) -> Error {
    let kind = match e {
        rustls::server::VerifierBuilderError::InvalidCrl(_) => ConfigErrorKind::Malformed,
        _ => ConfigErrorKind::Rejected,
    };
    Error::config(kind, format!("{which} verifier: {e}"))
}
