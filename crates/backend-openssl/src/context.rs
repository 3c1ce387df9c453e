//! Building `SslContext`s from the portable model.

use std::net::IpAddr;
use std::sync::Arc;

use openssl::pkey::PKey;
use openssl::ssl::{
    AlpnError, NameType, SniError, SslContext, SslContextBuilder, SslMethod, SslOptions,
    SslSessionCacheMode, SslVerifyMode, SslVersion,
};
use openssl::x509::{X509VerifyResult, X509};
use polytls_api::{
    CertificateDer, ClientAuth, ClientConfig, Common, Error, Identity, ProtocolVersion, Result,
    Roots, ServerConfig, SpkiPin,
};
use polytls_ossl_common::{
    alpn_wire, pins_match, select_alpn, DEFAULT_TLS12_SUITES, SESSION_ID_CONTEXT,
};

use crate::NAME;

fn cfg_err(what: &str) -> impl FnOnce(openssl::error::ErrorStack) -> Error + '_ {
    move |e| Error::InvalidConfig(format!("{NAME}: {what}: {e}"))
}

fn version(v: ProtocolVersion) -> SslVersion {
    match v {
        ProtocolVersion::Tls12 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    }
}

/// Applies `value` with `set` item by item on a scratch context first, so an
/// item the library does not know is reported by name.
fn check_items<T: std::fmt::Display>(
    kind: &str,
    items: &[T],
    name: impl Fn(&T) -> &'static str,
    set: impl Fn(&mut SslContextBuilder, &str) -> std::result::Result<(), openssl::error::ErrorStack>,
) -> Result<String> {
    for item in items {
        let mut scratch = SslContextBuilder::new(SslMethod::tls()).map_err(cfg_err("context"))?;
        if set(&mut scratch, name(item)).is_err() {
            return Err(Error::InvalidConfig(format!(
                "{kind} {item} is not supported by the {NAME} backend"
            )));
        }
    }
    Ok(items.iter().map(name).collect::<Vec<_>>().join(":"))
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
    match c.suites_for_enabled_versions() {
        Some(suites) => {
            let (tls13, tls12): (Vec<_>, Vec<_>) = suites
                .into_iter()
                .partition(|s| s.version() == ProtocolVersion::Tls13);
            if !tls12.is_empty() {
                let list = check_items(
                    "cipher suite",
                    &tls12,
                    |s| s.openssl_name(),
                    |b, n| b.set_cipher_list(n),
                )?;
                b.set_cipher_list(&list).map_err(cfg_err("cipher list"))?;
            }
            if !tls13.is_empty() {
                let list = check_items(
                    "cipher suite",
                    &tls13,
                    |s| s.iana_name(),
                    |b, n| b.set_ciphersuites(n),
                )?;
                b.set_ciphersuites(&list)
                    .map_err(cfg_err("TLS 1.3 suites"))?;
            }
        }
        None => b
            .set_cipher_list(DEFAULT_TLS12_SUITES)
            .map_err(cfg_err("cipher list"))?,
    }
    if let Some(groups) = &c.groups {
        let list = check_items(
            "key-exchange group",
            groups,
            |g| g.openssl_name(),
            |b, n| b.set_groups_list(n),
        )?;
        b.set_groups_list(&list).map_err(cfg_err("groups"))?;
    }
    if let Some(kl) = &c.key_log {
        let kl = kl.clone();
        b.set_keylog_callback(move |_, line| kl.log_line(line));
    }
    Ok(())
}

fn set_identity(b: &mut SslContextBuilder, id: &Identity) -> Result<()> {
    let mut chain = id.chain().iter();
    let leaf = chain
        .next()
        .ok_or_else(|| Error::InvalidConfig("empty chain".into()))?;
    let leaf = X509::from_der(leaf).map_err(cfg_err("certificate"))?;
    b.set_certificate(&leaf).map_err(cfg_err("certificate"))?;
    for extra in chain {
        b.add_extra_chain_cert(X509::from_der(extra).map_err(cfg_err("chain certificate"))?)
            .map_err(cfg_err("chain certificate"))?;
    }
    let key = PKey::private_key_from_der(id.key().secret_der()).map_err(cfg_err("private key"))?;
    b.set_private_key(&key).map_err(cfg_err("private key"))?;
    b.check_private_key().map_err(|_| {
        Error::InvalidConfig(format!(
            "{NAME}: the private key does not match the certificate"
        ))
    })
}

fn add_roots(b: &mut SslContextBuilder, roots: &Roots) -> Result<()> {
    for (i, der) in roots.certs().iter().enumerate() {
        let cert = X509::from_der(der).map_err(|e| {
            Error::InvalidConfig(format!("root certificate #{i} is not usable: {e}"))
        })?;
        b.cert_store_mut()
            .add_cert(cert)
            .map_err(cfg_err("root store"))?;
    }
    Ok(())
}

fn server_builder(cfg: &ServerConfig, id: &Identity) -> Result<SslContextBuilder> {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(cfg_err("context"))?;
    common(&mut b, &cfg.common)?;
    set_identity(&mut b, id)?;
    b.set_session_id_context(SESSION_ID_CONTEXT)
        .map_err(cfg_err("session id context"))?;
    match &cfg.client_auth {
        ClientAuth::None => b.set_verify(SslVerifyMode::NONE),
        ClientAuth::Optional(roots) => {
            add_roots(&mut b, roots)?;
            b.set_verify(SslVerifyMode::PEER);
        }
        ClientAuth::Required(roots) => {
            add_roots(&mut b, roots)?;
            b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        }
    }
    if !cfg.common.alpn.is_empty() {
        let prefs = cfg.common.alpn.clone();
        b.set_alpn_select_callback(move |_, client| {
            select_alpn(&prefs, client).ok_or(AlpnError::ALERT_FATAL)
        });
    }
    if cfg.common.resumption {
        b.set_session_cache_mode(SslSessionCacheMode::SERVER);
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        b.set_options(SslOptions::NO_TICKET);
        b.set_num_tickets(0).map_err(cfg_err("tickets"))?;
    }
    Ok(b)
}

/// The server context; SNI identities are contexts of their own that the
/// servername callback switches to.
pub(crate) fn server_context(cfg: &ServerConfig) -> Result<SslContext> {
    cfg.validate()?;
    let mut b = server_builder(cfg, &cfg.identity)?;
    if !cfg.sni_identities.is_empty() {
        let by_name = cfg
            .sni_identities
            .iter()
            .map(|(n, id)| Ok((n.clone(), server_builder(cfg, id)?.build())))
            .collect::<Result<Vec<_>>>()?;
        b.set_servername_callback(move |ssl, _| {
            let Some(name) = ssl.servername(NameType::HOST_NAME) else {
                return Ok(());
            };
            let found = by_name.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
            if let Some((_, ctx)) = found {
                ssl.set_ssl_context(ctx)
                    .map_err(|_| SniError::ALERT_FATAL)?;
            }
            Ok(())
        });
    }
    Ok(b.build())
}

/// What a client session needs besides the context.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub(crate) send_sni: bool,
    pub(crate) check_hostname: bool,
}

pub(crate) fn client_context(cfg: &ClientConfig) -> Result<(SslContext, ClientSettings)> {
    cfg.validate()?;
    let mut b = SslContextBuilder::new(SslMethod::tls_client()).map_err(cfg_err("context"))?;
    common(&mut b, &cfg.common)?;
    add_roots(&mut b, &cfg.roots)?;
    if let Some(id) = &cfg.identity {
        set_identity(&mut b, id)?;
    }
    if !cfg.common.alpn.is_empty() {
        b.set_alpn_protos(&alpn_wire(&cfg.common.alpn))
            .map_err(cfg_err("ALPN"))?;
    }
    // Client-side resumption needs `SSL_set_session`, which the openssl crate
    // offers only as `unsafe`; polytls forbids unsafe code.
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
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
            ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
            false
        }
    });
    let settings = ClientSettings {
        send_sni: cfg.send_sni,
        check_hostname: !cfg.danger_accept_invalid_certs && !cfg.danger_accept_invalid_hostnames,
    };
    Ok((b.build(), settings))
}

/// Per-connection client setup: SNI and the name the certificate must match.
pub(crate) fn client_ssl(
    ctx: &SslContext,
    settings: &ClientSettings,
    server_name: &str,
) -> Result<openssl::ssl::Ssl> {
    let mut ssl = openssl::ssl::Ssl::new(ctx).map_err(cfg_err("session"))?;
    ssl.set_connect_state();
    let ip = server_name.parse::<IpAddr>().ok();
    polytls_api::check_server_name(server_name)?;
    if settings.send_sni && ip.is_none() {
        ssl.set_hostname(server_name).map_err(cfg_err("SNI"))?;
    }
    if settings.check_hostname {
        let param = ssl.param_mut();
        param.set_hostflags(openssl::x509::verify::X509CheckFlags::NO_PARTIAL_WILDCARDS);
        match ip {
            Some(ip) => param.set_ip(ip).map_err(cfg_err("IP check"))?,
            None => param.set_host(server_name).map_err(cfg_err("host check"))?,
        }
    }
    Ok(ssl)
}
