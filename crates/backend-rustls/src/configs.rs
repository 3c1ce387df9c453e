//! Building rustls configurations from the portable model.

use std::sync::Arc;

use polytls_api::keylog::format_line;
use polytls_api::{
    check_pins, ClientAuth, ClientConfig, Common, Error, Identity, KeyLog, ProtocolVersion, Result,
    Roots, ServerConfig, SpkiPin,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::{
    ClientHello, NoServerSessionStorage, ResolvesServerCert, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme, SupportedProtocolVersion};

use crate::error::PinMismatch;
use crate::NAME;

/// The aws-lc-rs provider narrowed to the configured suites and groups.
pub(crate) fn provider(common: &Common) -> Result<Arc<CryptoProvider>> {
    let mut p = aws_lc_rs::default_provider();
    if let Some(suites) = common.suites_for_enabled_versions() {
        p.cipher_suites = suites
            .iter()
            .map(|s| {
                aws_lc_rs::ALL_CIPHER_SUITES
                    .iter()
                    .find(|c| u16::from(c.suite()) == s.code())
                    .copied()
                    .ok_or_else(|| {
                        Error::InvalidConfig(format!(
                            "cipher suite {s} is not supported by the {NAME} backend"
                        ))
                    })
            })
            .collect::<Result<_>>()?;
    }
    if let Some(groups) = &common.groups {
        p.kx_groups = groups
            .iter()
            .map(|g| {
                aws_lc_rs::ALL_KX_GROUPS
                    .iter()
                    .find(|k| u16::from(k.name()) == g.code())
                    .copied()
                    .ok_or_else(|| {
                        Error::InvalidConfig(format!(
                            "key-exchange group {g} is not supported by the {NAME} backend"
                        ))
                    })
            })
            .collect::<Result<_>>()?;
    }
    Ok(Arc::new(p))
}

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
            Error::InvalidConfig(format!("root certificate #{i} is not usable: {e}"))
        })?;
    }
    Ok(Arc::new(store))
}

fn certified_key(id: &Identity, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>> {
    let key = provider
        .key_provider
        .load_private_key(id.key().clone_key())
        .map_err(|e| Error::InvalidConfig(format!("unusable private key: {e}")))?;
    let ck = CertifiedKey::new(id.chain().to_vec(), key);
    match ck.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => {
            return Err(Error::InvalidConfig(
                "the private key does not match the certificate".into(),
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
    Error::InvalidConfig(format!("{NAME}: {e}"))
}

/// Chooses the server identity by SNI.
#[derive(Debug)]
struct SniResolver {
    default: Arc<CertifiedKey>,
    by_name: Vec<(String, Arc<CertifiedKey>)>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let chosen = hello.server_name().and_then(|sni| {
            self.by_name
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(sni))
                .map(|(_, k)| k.clone())
        });
        Some(chosen.unwrap_or_else(|| self.default.clone()))
    }
}

pub(crate) fn server_config(cfg: &ServerConfig) -> Result<rustls::ServerConfig> {
    cfg.validate()?;
    let provider = provider(&cfg.common)?;
    let verifier = match &cfg.client_auth {
        ClientAuth::None => WebPkiClientVerifier::no_client_auth(),
        ClientAuth::Optional(roots) => {
            WebPkiClientVerifier::builder_with_provider(root_store(roots)?, provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| Error::InvalidConfig(format!("client verifier: {e}")))?
        }
        ClientAuth::Required(roots) => {
            WebPkiClientVerifier::builder_with_provider(root_store(roots)?, provider.clone())
                .build()
                .map_err(|e| Error::InvalidConfig(format!("client verifier: {e}")))?
        }
    };
    let resolver = SniResolver {
        default: certified_key(&cfg.identity, &provider)?,
        by_name: cfg
            .sni_identities
            .iter()
            .map(|(n, id)| Ok((n.clone(), certified_key(id, &provider)?)))
            .collect::<Result<_>>()?,
    };
    let mut sc = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(&cfg.common))
        .map_err(config_error)?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(resolver));
    sc.alpn_protocols = cfg.common.alpn.clone();
    sc.ignore_client_order = true;
    if cfg.common.resumption {
        sc.ticketer = aws_lc_rs::Ticketer::new().map_err(config_error)?;
    } else {
        sc.session_storage = Arc::new(NoServerSessionStorage {});
        sc.send_tls13_tickets = 0;
    }
    if let Some(kl) = &cfg.common.key_log {
        sc.key_log = Arc::new(KeyLogBridge(kl.clone()));
    }
    Ok(sc)
}

pub(crate) fn client_config(cfg: &ClientConfig) -> Result<rustls::ClientConfig> {
    cfg.validate()?;
    let provider = provider(&cfg.common)?;
    let webpki = if cfg.roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(root_store(&cfg.roots)?, provider.clone())
                .build()
                .map_err(|e| Error::InvalidConfig(format!("server verifier: {e}")))?,
        )
    };
    let verifier = Arc::new(Verifier {
        webpki,
        pins: cfg.pins.clone(),
        accept_invalid_certs: cfg.danger_accept_invalid_certs,
        accept_invalid_hostnames: cfg.danger_accept_invalid_hostnames,
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(&cfg.common))
        .map_err(config_error)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cc = match &cfg.identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain().to_vec(), id.key().clone_key())
            .map_err(|e| Error::InvalidConfig(format!("client identity: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    cc.alpn_protocols = cfg.common.alpn.clone();
    cc.enable_sni = cfg.send_sni;
    cc.resumption = if cfg.common.resumption {
        Resumption::in_memory_sessions(256)
    } else {
        Resumption::disabled()
    };
    if let Some(kl) = &cfg.common.key_log {
        cc.key_log = Arc::new(KeyLogBridge(kl.clone()));
    }
    Ok(cc)
}

/// webpki verification, then SPKI pins; the `danger_*` switches relax the
/// first step only. Handshake signatures are always verified.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
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
        check_pins(&self.pins, &chain).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(PinMismatch),
            )))
        })?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
