//! Building `SslContext`s from the portable model.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use boring::pkey::PKey;
use boring::ssl::{
    AlpnError, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslSessionCacheMode,
    SslVerifyMode, SslVersion,
};
use boring::x509::verify::X509VerifyFlags;
use boring::x509::{X509VerifyError, X509};
use polytls_api::defaults::SIGNATURE_SCHEMES;
use polytls_api::{
    Capability, CertificateDer, ClientAuth, ClientConfig, Common, ConfigErrorKind, Error, Identity,
    NamedGroup, ProtocolVersion, Result, Revocation, Roots, ServerConfig, SpkiPin, Tls12Resumption,
};
use polytls_ossl_common::crl::{self, CrlFlags};
use polytls_ossl_common::resume::{Cache, Slot};
use polytls_ossl_common::{alpn_wire, pins_match, select_alpn, tls12_cipher_list};

use crate::NAME;

fn cfg_err(what: &str) -> impl FnOnce(boring::error::ErrorStack) -> Error + '_ {
    move |e| Error::config(ConfigErrorKind::Rejected, format!("{NAME}: {what}: {e}"))
}

fn version(v: ProtocolVersion) -> SslVersion {
    match v {
        ProtocolVersion::Tls12 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    }
}

/// What this OpenSSL accepts, probed once on scratch contexts: the
/// capabilities come from the library, not from constants.
pub(crate) struct Probe {
    groups: HashMap<NamedGroup, bool>,
    tls13_suites: bool,
}

pub(crate) fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let accepts = |f: &dyn Fn(&mut SslContextBuilder) -> bool| {
            SslContextBuilder::new(SslMethod::tls())
                .map(|mut b| f(&mut b))
                .unwrap_or(false)
        };
        Probe {
            groups: NamedGroup::ALL
                .iter()
                .map(|g| {
                    (
                        *g,
                        accepts(&|b| b.set_curves_list(g.openssl_name()).is_ok()),
                    )
                })
                .collect(),
            // BoringSSL fixes its TLS 1.3 suites (AES-GCM and ChaCha20,
            // ordered by hardware support): there is no call to restrict them.
            tls13_suites: false,
        }
    })
}

impl Probe {
    pub(crate) fn group(&self, g: NamedGroup) -> bool {
        self.groups.get(&g).copied().unwrap_or(false)
    }

    pub(crate) fn tls13_suites(&self) -> bool {
        self.tls13_suites
    }
}

/// Applies `name` with `set` on a scratch context first, so an item the
/// library does not know is reported by name and capability.
fn check_item(
    item: &dyn std::fmt::Display,
    capability: Capability,
    name: &str,
    set: impl Fn(&mut SslContextBuilder, &str) -> std::result::Result<(), boring::error::ErrorStack>,
) -> Result<()> {
    let mut scratch = SslContextBuilder::new(SslMethod::tls()).map_err(cfg_err("context"))?;
    set(&mut scratch, name).map_err(|_| {
        Error::unsupported(
            NAME,
            capability,
            format!("{item} is not supported by the {NAME} backend"),
        )
    })
}

fn common(b: &mut SslContextBuilder, c: &Common) -> Result<()> {
    b.set_min_proto_version(Some(version(c.min_version)))
        .map_err(cfg_err("min version"))?;
    b.set_max_proto_version(Some(version(c.max_version)))
        .map_err(cfg_err("max version"))?;
    b.set_options(
        SslOptions::NO_COMPRESSION
            | SslOptions::NO_RENEGOTIATION
            | SslOptions::CIPHER_SERVER_PREFERENCE,
    );
    let suites = c.effective_suites();
    for s in suites
        .iter()
        .filter(|s| s.version() == ProtocolVersion::Tls12)
    {
        check_item(s, Capability::CipherSuite(*s), s.openssl_name(), |b, n| {
            b.set_cipher_list(n)
        })?;
    }
    let tls12 = tls12_cipher_list(&suites);
    // An empty TLS 1.2 list is refused by OpenSSL; with TLS 1.2 off it is
    // never used, so leave the default there.
    if !tls12.is_empty() {
        b.set_cipher_list(&tls12).map_err(cfg_err("cipher list"))?;
    }
    // BoringSSL's TLS 1.3 suites are fixed: only the full set can be asked
    // for.
    let tls13: Vec<_> = suites
        .iter()
        .filter(|s| s.version() == ProtocolVersion::Tls13)
        .collect();
    if let Some(s) = tls13.first().filter(|_| tls13.len() < 3) {
        return Err(Error::unsupported(
            NAME,
            Capability::CipherSuite(**s),
            format!("cipher suite {s}: the {NAME} backend cannot restrict TLS 1.3 cipher suites"),
        ));
    }
    let (groups, _) = c.effective_groups(|g| probe().group(g));
    for g in &groups {
        if !probe().group(*g) {
            return Err(Error::unsupported(
                NAME,
                Capability::Group(*g),
                format!("key-exchange group {g} is not supported by the {NAME} backend"),
            ));
        }
    }
    let list: Vec<&str> = groups.iter().map(|g| g.openssl_name()).collect();
    b.set_curves_list(&list.join(":"))
        .map_err(cfg_err("groups"))?;
    let sigalgs: Vec<&str> = SIGNATURE_SCHEMES.iter().map(|s| s.iana_name()).collect();
    b.set_sigalgs_list(&sigalgs.join(":"))
        .map_err(cfg_err("signature algorithms"))?;
    if let Some(kl) = &c.key_log {
        let kl = kl.clone();
        b.set_keylog_callback(move |_, line| kl.log_line(line));
    }
    Ok(())
}

fn set_identity(b: &mut SslContextBuilder, id: &Identity) -> Result<()> {
    let mut chain = id.chain().iter();
    let leaf = chain.next().ok_or_else(|| {
        Error::config(
            ConfigErrorKind::Contradiction,
            "an identity needs a certificate",
        )
    })?;
    let leaf = X509::from_der(leaf).map_err(cfg_err("certificate"))?;
    b.set_certificate(&leaf).map_err(cfg_err("certificate"))?;
    for extra in chain {
        b.add_extra_chain_cert(X509::from_der(extra).map_err(cfg_err("chain certificate"))?)
            .map_err(cfg_err("chain certificate"))?;
    }
    let key = PKey::private_key_from_der(id.key().secret_der()).map_err(cfg_err("private key"))?;
    let mismatch = || {
        Error::config(
            ConfigErrorKind::KeyMismatch,
            format!("{NAME}: the private key does not match the certificate"),
        )
    };
    if !leaf.public_key().is_ok_and(|public| public.public_eq(&key)) {
        return Err(mismatch());
    }
    b.set_private_key(&key).map_err(cfg_err("private key"))?;
    b.check_private_key().map_err(|_| mismatch())
}

fn add_roots(b: &mut SslContextBuilder, roots: &Roots) -> Result<()> {
    for (i, der) in roots.certs().iter().enumerate() {
        let cert = X509::from_der(der).map_err(|e| {
            Error::config(
                ConfigErrorKind::Rejected,
                format!("root certificate #{i} is not usable: {e}"),
            )
        })?;
        b.cert_store_mut()
            .add_cert(cert)
            .map_err(cfg_err("root store"))?;
    }
    Ok(())
}

/// Loads the CRLs into the context's store and turns checking on (see
/// `polytls_ossl_common::crl`).
fn add_crls(b: &mut SslContextBuilder, revocation: &Revocation) -> Result<()> {
    crl::load_crls(NAME, revocation, |path| {
        b.load_verify_locations(Some(path), None)
            .map_err(|e| e.to_string())
    })?;
    let flags = CrlFlags::of(revocation);
    let mut set = X509VerifyFlags::empty();
    set.set(X509VerifyFlags::CRL_CHECK, flags.check);
    set.set(X509VerifyFlags::CRL_CHECK_ALL, flags.check_all);
    if !set.is_empty() {
        b.cert_store_mut().set_flags(set);
    }
    Ok(())
}

fn server_builder(cfg: &ServerConfig, id: &Identity) -> Result<SslContextBuilder> {
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(cfg_err("context"))?;
    common(&mut b, &cfg.common)?;
    set_identity(&mut b, id)?;
    // The trust digest as the session ID context: a session (or a ticket,
    // under shared keys) made under other trust does not resume here
    // (polytls_api::trust, rule 3); the library treats it as a cache miss.
    b.set_session_id_context(&cfg.trust_digest())
        .map_err(cfg_err("session id context"))?;
    match &cfg.client_auth {
        ClientAuth::None => b.set_verify(SslVerifyMode::NONE),
        ClientAuth::Optional(roots) => {
            add_roots(&mut b, roots)?;
            add_crls(&mut b, &cfg.client_revocation)?;
            b.set_verify(SslVerifyMode::PEER);
        }
        ClientAuth::Required(roots) => {
            add_roots(&mut b, roots)?;
            add_crls(&mut b, &cfg.client_revocation)?;
            b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        }
        ClientAuth::DangerAcceptAny { required } => {
            // Any chain: the callback overrides every verification error;
            // the library still checks the client's handshake signature.
            let mode = if *required {
                SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT
            } else {
                SslVerifyMode::PEER
            };
            b.set_verify_callback(mode, |_, _| true);
        }
    }
    if !cfg.common.alpn.is_empty() {
        let prefs = cfg.common.alpn.clone();
        b.set_alpn_select_callback(move |_, client| {
            select_alpn(&prefs, client).ok_or(AlpnError::ALERT_FATAL)
        });
    }
    let r = &cfg.resumption;
    if cfg.common.resumption {
        b.set_session_cache_mode(SslSessionCacheMode::SERVER);
        b.set_session_cache_size(u32::try_from(r.cache_size).unwrap_or(u32::MAX));
        if r.lifetime.is_some() {
            return Err(Error::unsupported(
                NAME,
                Capability::ResumptionLifetime,
                "the boring crate cannot set the session timeout; BoringSSL's own apply \
                 (2 hours for TLS 1.2, 2 days for TLS 1.3 tickets)",
            ));
        }
        if r.tls12 == Tls12Resumption::SessionIds {
            // BoringSSL then keeps TLS 1.3 sessions in its cache too.
            b.set_options(SslOptions::NO_TICKET);
        }
        if let Some(keys) = &r.ticket_keys {
            crate::ffi::set_ticket_keys(&mut b, keys);
        }
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        b.set_options(SslOptions::NO_TICKET);
    }
    Ok(b)
}

/// The server context; SNI identities are contexts of their own that the
/// servername callback switches to, chosen by polytls' one selector.
pub(crate) fn server_context(cfg: &ServerConfig) -> Result<SslContext> {
    if cfg.max_early_data > 0 {
        return Err(Error::unsupported(
            NAME,
            Capability::ServerEarlyData,
            "the boring crate binds no early data API",
        ));
    }
    let mut b = server_builder(cfg, &cfg.identity)?;
    let selector = cfg.sni_selector();
    if !selector.is_empty() {
        let by_index = cfg
            .sni_identities
            .iter()
            .map(|(_, id)| Ok(server_builder(cfg, id)?.build()))
            .collect::<Result<Vec<_>>>()?;
        b.set_servername_callback(move |ssl, _| {
            let sni = ssl.servername(boring::ssl::NameType::HOST_NAME);
            if let Some(ctx) = selector
                .select(sni)
                .checked_sub(1)
                .and_then(|i| by_index.get(i))
            {
                ssl.set_ssl_context(ctx)
                    .map_err(|_| boring::ssl::SniError::ALERT_FATAL)?;
            }
            Ok(())
        });
    } else {
        // A servername callback that accepts: the library then acknowledges
        // the client's SNI in its ServerHello (it does not without one), as
        // rustls does.
        b.set_servername_callback(|_, _| Ok(()));
    }
    Ok(b.build())
}

/// What a client session needs besides the context.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub(crate) send_sni: bool,
    pub(crate) check_hostname: bool,
    /// The resumption cache; `None` when resumption is off.
    pub(crate) cache: Option<Arc<Cache>>,
}

/// Where a client connection's resumption [`Slot`] lives in its `SSL`.
fn slot_index() -> Result<boring::ex_data::Index<Ssl, Arc<Slot>>> {
    static INDEX: OnceLock<std::result::Result<boring::ex_data::Index<Ssl, Arc<Slot>>, String>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| Ssl::new_ex_index().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| {
            Error::other(
                format!("{NAME}: no ex_data index"),
                std::io::Error::other(e),
            )
        })
}

pub(crate) fn client_context(cfg: &ClientConfig) -> Result<(SslContext, ClientSettings)> {
    if cfg.early_data {
        return Err(Error::unsupported(
            NAME,
            Capability::ClientEarlyData,
            "the boring crate binds no early data API",
        ));
    }
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(cfg_err("context"))?;
    common(&mut b, &cfg.common)?;
    add_roots(&mut b, &cfg.roots)?;
    add_crls(&mut b, &cfg.revocation)?;
    if let Some(id) = &cfg.identity {
        set_identity(&mut b, id)?;
    }
    if !cfg.common.alpn.is_empty() {
        b.set_alpn_protos(&alpn_wire(&cfg.common.alpn))
            .map_err(cfg_err("ALPN"))?;
    }
    let cache = if cfg.common.resumption {
        // polytls keeps the sessions (as DER, per server name); BoringSSL's
        // internal store stays empty and only reports new sessions.
        b.set_session_cache_mode(SslSessionCacheMode::CLIENT | SslSessionCacheMode::NO_INTERNAL);
        let index = slot_index()?;
        b.set_new_session_callback(move |ssl, session| {
            let Some(slot) = ssl.ex_data(index) else {
                return;
            };
            if let Ok(der) = session.to_der() {
                slot.store(der, session.protocol_version() == SslVersion::TLS1_3);
            }
        });
        Some(Arc::new(Cache::new(cfg.session_cache_size)))
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        None
    };
    let pins: Arc<Vec<SpkiPin>> = Arc::new(cfg.pins.clone());
    let accept_invalid = cfg.danger_accept_invalid_certs;
    b.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
        if !ok && !accept_invalid {
            return false;
        }
        if pins.is_empty() || ctx.error_depth() != 0 {
            return true;
        }
        let chain: Vec<CertificateDer<'static>> = ctx
            .chain()
            .map(|c| {
                c.iter()
                    .filter_map(|x| x.to_der().ok())
                    .map(CertificateDer::from)
                    .collect()
            })
            .unwrap_or_default();
        if pins_match(&pins, chain, ok && !accept_invalid) {
            true
        } else {
            ctx.set_error(Err(X509VerifyError::APPLICATION_VERIFICATION));
            false
        }
    });
    let settings = ClientSettings {
        send_sni: cfg.send_sni,
        check_hostname: !cfg.danger_accept_invalid_certs && !cfg.danger_accept_invalid_hostnames,
        cache,
    };
    Ok((b.build(), settings))
}

/// Per-connection client setup: SNI, the name the certificate must match,
/// and the resumption slot.
pub(crate) fn client_ssl(
    ctx: &SslContext,
    settings: &ClientSettings,
    server_name: &str,
    slot: Option<&Arc<Slot>>,
) -> Result<Ssl> {
    let mut ssl = Ssl::new(ctx).map_err(cfg_err("session"))?;
    let ip = server_name.parse::<IpAddr>().ok();
    if settings.send_sni && ip.is_none() {
        ssl.set_hostname(server_name).map_err(cfg_err("SNI"))?;
    }
    if settings.check_hostname {
        let param = ssl.param_mut();
        param.set_hostflags(boring::x509::verify::X509CheckFlags::NO_PARTIAL_WILDCARDS);
        match ip {
            Some(ip) => param.set_ip(ip).map_err(cfg_err("IP check"))?,
            None => param.set_host(server_name).map_err(cfg_err("host check"))?,
        }
    }
    if let Some(slot) = slot {
        ssl.set_ex_data(slot_index()?, slot.clone());
    }
    Ok(ssl)
}
