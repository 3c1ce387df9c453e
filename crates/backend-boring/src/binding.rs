//! The `boring` crate's calls behind the family's context policy
//! (`polytls_ossl_common::context`): each forwards to one setter or
//! callback.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use boring::error::ErrorStack;
use boring::pkey::PKey;
use boring::ssl::{
    AlpnError, NameType, SniError, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions,
    SslSessionCacheMode, SslVerifyMode, SslVersion,
};
use boring::x509::verify::{X509CheckFlags, X509VerifyFlags};
use boring::x509::{X509VerifyError, X509};
use polytls_api::{
    CertificateDer, Error, KeyLog, ProtocolVersion, Result, SniSelector, TicketKeys,
};
use polytls_ossl_common::context::{
    Check, ClientVerify, ContextDriver, Gaps, IdentityError, Role, ServerCheck, Target, Verdict,
};
use polytls_ossl_common::crl::CrlFlags;
use polytls_ossl_common::resume::Slot;
use polytls_ossl_common::{select_alpn, Binding};

use crate::{BoringDriver, BoringLibrary, NAME};

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
fn slot_index() -> std::result::Result<boring::ex_data::Index<Ssl, Arc<Slot>>, String> {
    static INDEX: OnceLock<std::result::Result<boring::ex_data::Index<Ssl, Arc<Slot>>, String>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| Ssl::new_ex_index().map_err(text))
        .clone()
}

fn der_chain(ctx: &boring::x509::X509StoreContextRef) -> Vec<CertificateDer<'static>> {
    ctx.chain()
        .map(|c| {
            c.iter()
                .filter_map(|x| x.to_der().ok())
                .map(Into::into)
                .collect()
        })
        .unwrap_or_default()
}

impl ContextDriver for BoringLibrary {
    const NAME: &'static str = NAME;
    const GAPS: Gaps = Gaps {
        tls13_suites: Some(
            "the boring backend cannot restrict TLS 1.3 cipher suites (BoringSSL fixes them: \
             AES-GCM and ChaCha20, ordered by hardware support)",
        ),
        resumption_lifetime: Some(
            "the boring crate cannot set the session timeout; BoringSSL's own apply \
             (2 hours for TLS 1.2, 2 days for TLS 1.3 tickets)",
        ),
        ticket_key_rotation: None,
        client_early_data: Some("the boring crate binds no early data API"),
        server_early_data: Some("the boring crate binds no early data API"),
    };
    type Builder = SslContextBuilder;
    type Context = SslContext;

    fn builder(role: Role) -> std::result::Result<SslContextBuilder, String> {
        // One method for both roles: the connection's state picks the side.
        let _ = role;
        SslContextBuilder::new(SslMethod::tls()).map_err(text)
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

    fn set_tls13_suites(_: &mut SslContextBuilder, _: &str) -> std::result::Result<(), String> {
        Err("BoringSSL fixes its TLS 1.3 suites".into())
    }

    fn set_groups(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
        b.set_curves_list(list).map_err(text)
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
        b.cert_store_mut().set_flags(set);
        Ok(())
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
        b.set_session_cache_size(u32::try_from(size).unwrap_or(u32::MAX));
    }

    fn disable_session_cache(b: &mut SslContextBuilder) {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
    }

    fn disable_all_tickets(b: &mut SslContextBuilder) -> std::result::Result<(), String> {
        // BoringSSL's SSL_OP_NO_TICKET covers TLS 1.3 tickets too.
        b.set_options(SslOptions::NO_TICKET);
        Ok(())
    }

    fn disable_tickets(b: &mut SslContextBuilder) {
        b.set_options(SslOptions::NO_TICKET);
    }

    fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
        crate::ffi::set_ticket_keys(b, keys);
        Ok(())
    }

    fn set_max_early_data(_: &mut SslContextBuilder, _: u32) -> std::result::Result<(), String> {
        Err("the boring crate binds no early data API".into())
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
                    ctx.set_error(Err(X509VerifyError::APPLICATION_VERIFICATION));
                    false
                }
            }
        });
    }
}

impl Binding for BoringLibrary {
    type Driver = BoringDriver;

    fn library_version() -> String {
        // BoringSSL has no release numbers: its API version is what names
        // the source it was built from (`version()` only says "BoringSSL").
        format!(
            "{} (API version {})",
            boring::version::version(),
            boring_sys::BORINGSSL_API_VERSION
        )
    }

    fn client(
        ctx: &SslContext,
        target: Target<'_>,
        slot: Option<Arc<Slot>>,
        session: Option<&[u8]>,
    ) -> Result<BoringDriver> {
        let fail = |what: &'static str| {
            move |e: ErrorStack| {
                Error::config(
                    polytls_api::ConfigErrorKind::Rejected,
                    format!("{NAME}: {what}: {e}"),
                )
            }
        };
        let mut ssl = Ssl::new(ctx).map_err(fail("session"))?;
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
        Ok(BoringDriver::new(ssl, false))
    }

    fn server(ctx: &SslContext) -> Result<BoringDriver> {
        let ssl = Ssl::new(ctx).map_err(|e| Error::other(format!("{NAME}: SSL_new"), e))?;
        Ok(BoringDriver::new(ssl, true))
    }
}
