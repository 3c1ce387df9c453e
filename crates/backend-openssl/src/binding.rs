//! The `openssl` crate's calls behind the family's context policy
//! (`polytls_ossl_common::context`): each forwards to one setter or
//! callback.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{
    AlpnError, NameType, SniError, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions,
    SslSessionCacheMode, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::verify::{X509CheckFlags, X509VerifyFlags};
use openssl::x509::{X509VerifyResult, X509};
use polytls_api::memio::MemIo;
use polytls_api::{
    CertificateDer, Error, KeyLog, ProtocolVersion, Result, SniSelector, TicketKeys,
};
use polytls_ossl_common::context::{
    Check, ClientVerify, ContextDriver, Gaps, IdentityError, Role, ServerCheck, Target, Verdict,
};
use polytls_ossl_common::crl::CrlFlags;
use polytls_ossl_common::resume::Slot;
use polytls_ossl_common::{select_alpn, Binding};

use crate::{OpenSslDriver, OpenSslLibrary, NAME};

fn text(e: ErrorStack) -> String {
    e.to_string()
}

fn version(v: ProtocolVersion) -> SslVersion {
    match v {
        ProtocolVersion::Tls12 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    }
}

/// Where a client connection's resumption [`Slot`] lives in its `SSL`.
fn slot_index() -> std::result::Result<openssl::ex_data::Index<Ssl, Arc<Slot>>, String> {
    static INDEX: OnceLock<std::result::Result<openssl::ex_data::Index<Ssl, Arc<Slot>>, String>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| Ssl::new_ex_index().map_err(text))
        .clone()
}

fn der_chain(ctx: &openssl::x509::X509StoreContextRef) -> Vec<CertificateDer<'static>> {
    ctx.chain()
        .map(|c| {
            c.iter()
                .filter_map(|x| x.to_der().ok())
                .map(Into::into)
                .collect()
        })
        .unwrap_or_default()
}

impl ContextDriver for OpenSslLibrary {
    const NAME: &'static str = NAME;
    const GAPS: Gaps = Gaps {
        tls13_suites: None,
        resumption_lifetime: Some(
            "the openssl crate cannot set the session timeout (SSL_CTX_set_timeout); \
             OpenSSL's 2 hours apply",
        ),
        ticket_key_rotation: Some(
            "OpenSSL takes one ticket key through the bindings (SSL_CTX_set_tlsext_ticket_keys); \
             the rotating callback is bound by neither the openssl crate (0.10.82) nor \
             openssl-sys (0.9.118). To rotate with one key: put the new key alone in the file \
             and reload every server of the fleet together; tickets under the old key then \
             make full handshakes",
        ),
        client_early_data: Some(
            "neither the openssl crate nor openssl-sys binds SSL_get_early_data_status: a \
             client could not tell whether the server took its early data",
        ),
        server_early_data: None,
    };
    type Builder = SslContextBuilder;
    type Context = SslContext;

    fn builder(role: Role) -> std::result::Result<SslContextBuilder, String> {
        SslContextBuilder::new(match role {
            Role::Client => SslMethod::tls_client(),
            Role::Server => SslMethod::tls_server(),
        })
        .map_err(text)
    }

    fn build(b: SslContextBuilder) -> SslContext {
        b.build()
    }

    fn set_versions(
        b: &mut SslContextBuilder,
        min: ProtocolVersion,
        max: ProtocolVersion,
    ) -> std::result::Result<(), String> {
        b.set_min_proto_version(Some(version(min))).map_err(text)?;
        b.set_max_proto_version(Some(version(max))).map_err(text)
    }

    fn set_base_options(b: &mut SslContextBuilder) {
        b.set_options(
            SslOptions::NO_COMPRESSION
                | SslOptions::NO_RENEGOTIATION
                | SslOptions::CIPHER_SERVER_PREFERENCE,
        );
    }

    fn set_cipher_list(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
        b.set_cipher_list(list).map_err(text)
    }

    fn set_tls13_suites(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
        b.set_ciphersuites(list).map_err(text)
    }

    fn set_groups(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
        b.set_groups_list(list).map_err(text)
    }

    fn set_sigalgs(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
        b.set_sigalgs_list(list).map_err(text)
    }

    fn set_key_log(b: &mut SslContextBuilder, log: Arc<dyn KeyLog>) {
        b.set_keylog_callback(move |_, line| log.log_line(line));
    }

    fn set_identity(
        b: &mut SslContextBuilder,
        chain: &[CertificateDer<'static>],
        key: &[u8],
    ) -> std::result::Result<(), IdentityError> {
        let rejected = |what| move |e: ErrorStack| IdentityError::Rejected(what, e.to_string());
        let mut certs = chain.iter().map(|c| X509::from_der(c));
        let leaf = certs
            .next()
            .transpose()
            .map_err(rejected("certificate"))?
            .ok_or(IdentityError::Rejected("certificate", "none".into()))?;
        b.set_certificate(&leaf).map_err(rejected("certificate"))?;
        for extra in certs {
            let extra = extra.map_err(rejected("chain certificate"))?;
            b.add_extra_chain_cert(extra)
                .map_err(rejected("chain certificate"))?;
        }
        let key = PKey::private_key_from_der(key).map_err(rejected("private key"))?;
        if !leaf.public_key().is_ok_and(|public| public.public_eq(&key)) {
            return Err(IdentityError::KeyMismatch);
        }
        b.set_private_key(&key).map_err(rejected("private key"))?;
        b.check_private_key()
            .map_err(|_| IdentityError::KeyMismatch)
    }

    fn add_root(b: &mut SslContextBuilder, der: &[u8]) -> std::result::Result<(), String> {
        let cert = X509::from_der(der).map_err(text)?;
        b.cert_store_mut().add_cert(cert).map_err(text)
    }

    fn load_verify_file(b: &mut SslContextBuilder, path: &Path) -> std::result::Result<(), String> {
        b.load_verify_locations(Some(path), None).map_err(text)
    }

    fn set_crl_flags(
        b: &mut SslContextBuilder,
        flags: CrlFlags,
    ) -> std::result::Result<(), String> {
        let mut set = X509VerifyFlags::empty();
        set.set(X509VerifyFlags::CRL_CHECK, flags.check);
        set.set(X509VerifyFlags::CRL_CHECK_ALL, flags.check_all);
        b.cert_store_mut().set_flags(set).map_err(text)
    }

    fn set_session_id_context(
        b: &mut SslContextBuilder,
        context: &[u8],
    ) -> std::result::Result<(), String> {
        b.set_session_id_context(context).map_err(text)
    }

    fn set_client_verify(b: &mut SslContextBuilder, verify: ClientVerify) {
        let peer = SslVerifyMode::PEER;
        let required = SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT;
        match verify {
            ClientVerify::None => b.set_verify(SslVerifyMode::NONE),
            ClientVerify::Optional => b.set_verify(peer),
            ClientVerify::Required => b.set_verify(required),
            ClientVerify::AcceptAny { required: r } => {
                b.set_verify_callback(if r { required } else { peer }, |_, _| true);
            }
        }
    }

    fn set_alpn_select(b: &mut SslContextBuilder, prefs: Vec<Vec<u8>>) {
        b.set_alpn_select_callback(move |_, client| {
            select_alpn(&prefs, client).ok_or(AlpnError::ALERT_FATAL)
        });
    }

    fn set_server_cache(b: &mut SslContextBuilder, size: usize) {
        b.set_session_cache_mode(SslSessionCacheMode::SERVER);
        b.set_session_cache_size(i32::try_from(size).unwrap_or(i32::MAX));
    }

    fn disable_session_cache(b: &mut SslContextBuilder) {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
    }

    fn disable_all_tickets(b: &mut SslContextBuilder) -> std::result::Result<(), String> {
        b.set_options(SslOptions::NO_TICKET);
        b.set_num_tickets(0).map_err(text)
    }

    fn disable_tickets(b: &mut SslContextBuilder) {
        b.set_options(SslOptions::NO_TICKET);
    }

    fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
        crate::ffi::set_ticket_keys(b, keys)
    }

    fn set_max_early_data(b: &mut SslContextBuilder, max: u32) -> std::result::Result<(), String> {
        b.set_max_early_data(max).map_err(text)
    }

    fn set_sni(b: &mut SslContextBuilder, selector: SniSelector, contexts: Vec<SslContext>) {
        b.set_servername_callback(move |ssl, _| {
            let index = selector.select(ssl.servername(NameType::HOST_NAME));
            match index.checked_sub(1).and_then(|i| contexts.get(i)) {
                Some(ctx) => ssl.set_ssl_context(ctx).map_err(|_| SniError::ALERT_FATAL),
                None => Ok(()),
            }
        });
    }

    fn set_alpn_protos(b: &mut SslContextBuilder, wire: &[u8]) -> std::result::Result<(), String> {
        b.set_alpn_protos(wire).map_err(text)
    }

    fn keep_sessions(b: &mut SslContextBuilder) -> std::result::Result<(), String> {
        b.set_session_cache_mode(SslSessionCacheMode::CLIENT | SslSessionCacheMode::NO_INTERNAL);
        let index = slot_index()?;
        b.set_new_session_callback(move |ssl, session| {
            if let (Some(slot), Ok(der)) = (ssl.ex_data(index), session.to_der()) {
                slot.store(der, session.protocol_version() == SslVersion::TLS1_3);
            }
        });
        Ok(())
    }

    fn set_server_check(b: &mut SslContextBuilder, check: ServerCheck) {
        b.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
            match check.verdict(ok, ctx.error_depth(), || der_chain(ctx)) {
                Verdict::Accept => true,
                Verdict::Refuse => false,
                Verdict::PinMismatch => {
                    ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
                    false
                }
            }
        });
    }
}

impl Binding for OpenSslLibrary {
    type Driver = OpenSslDriver;

    fn library_version() -> String {
        openssl::version::version().to_owned()
    }

    fn client(
        ctx: &SslContext,
        target: Target<'_>,
        slot: Option<Arc<Slot>>,
        session: Option<&[u8]>,
    ) -> Result<OpenSslDriver> {
        let fail = |what: &'static str| {
            move |e: ErrorStack| {
                Error::config(
                    polytls_api::ConfigErrorKind::Rejected,
                    format!("{NAME}: {what}: {e}"),
                )
            }
        };
        let mut ssl = Ssl::new(ctx).map_err(fail("session"))?;
        ssl.set_connect_state();
        if let Some(sni) = target.sni {
            ssl.set_hostname(sni).map_err(fail("SNI"))?;
        }
        if let Some(check) = target.check {
            let param = ssl.param_mut();
            param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
            match check {
                Check::Ip(ip) => param.set_ip(ip).map_err(fail("IP check"))?,
                Check::Host(name) => param.set_host(name).map_err(fail("host check"))?,
            }
        }
        if let Some(slot) = slot {
            let index = slot_index().map_err(|e| {
                Error::other(
                    format!("{NAME}: no ex_data index"),
                    std::io::Error::other(e),
                )
            })?;
            ssl.set_ex_data(index, slot);
        }
        if let Some(der) = session {
            crate::ffi::attach_session(&mut ssl, der)?;
        }
        stream(ssl)
    }

    fn server(ctx: &SslContext) -> Result<OpenSslDriver> {
        let mut ssl = Ssl::new(ctx).map_err(|e| Error::other(format!("{NAME}: SSL_new"), e))?;
        ssl.set_accept_state();
        stream(ssl)
    }
}

fn stream(ssl: Ssl) -> Result<OpenSslDriver> {
    let stream = SslStream::new(ssl, MemIo::new())
        .map_err(|e| Error::other(format!("{NAME}: cannot create a session"), e))?;
    Ok(OpenSslDriver { stream })
}
