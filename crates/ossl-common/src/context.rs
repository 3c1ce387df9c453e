//! Contexts for the OpenSSL family, written once: how the portable model
//! becomes an `SSL_CTX`, over the setters and callbacks of one library
//! ([`ContextDriver`]). The policy (what is set, in which order, and what is
//! refused as [`Error::Unsupported`]) lives here; a library crate only
//! forwards each call to its binding.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use polytls_api::{
    Capability, CertificateDer, ClientAuth, ClientConfig, Common, ConfigErrorKind, Error, Identity,
    KeyLog, NamedGroup, ProtocolVersion, Result, Revocation, Roots, ServerConfig, SignatureScheme,
    SniSelector, SpkiPin, TicketKeys, Tls12Resumption,
};

use crate::crl::{self, CrlFlags};
use crate::resume::Cache;

use crate::{alpn_wire, pins_match, tls12_cipher_list};

/// What a library cannot do, each with the reason its `Unsupported` error
/// gives (`None`: it can). Stated once per library.
#[derive(Debug, Clone, Copy)]
pub struct Gaps {
    /// Restricting TLS 1.3 cipher suites.
    pub tls13_suites: Option<&'static str>,
    /// Another resumption lifetime than the library's own.
    pub resumption_lifetime: Option<&'static str>,
    /// Rotating ticket keys (more than one key).
    pub ticket_key_rotation: Option<&'static str>,
    /// Early data as a client.
    pub client_early_data: Option<&'static str>,
    /// Early data as a server.
    pub server_early_data: Option<&'static str>,
}

/// Which side a context is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A client context.
    Client,
    /// A server context.
    Server,
}

/// How a server verifies client certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientVerify {
    /// `SSL_VERIFY_NONE`.
    None,
    /// `SSL_VERIFY_PEER`, against the context's store.
    Optional,
    /// `SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT`.
    Required,
    /// Any chain (a verify callback that overrides every error); the
    /// library still checks the client's handshake signature.
    AcceptAny {
        /// Whether a client without a certificate is refused.
        required: bool,
    },
}

/// How a client checks the server's certificate, besides the library's own
/// chain verification.
#[derive(Debug, Clone)]
pub struct ServerCheck {
    /// SPKI pins (none: no pinning).
    pub pins: Arc<Vec<SpkiPin>>,
    /// Accept a chain the library refused (`danger_accept_invalid_certs`).
    pub accept_invalid: bool,
}

/// What a client's verify callback answers for one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Accept,
    /// Fail with the library's own verify error.
    Refuse,
    /// Fail with `X509_V_ERR_APPLICATION_VERIFICATION`: no pin matched.
    PinMismatch,
}

impl ServerCheck {
    /// The verify callback's answer: `ok` is the library's verdict on the
    /// certificate at `depth`; `chain` is the chain it built (leaf first),
    /// asked for only at depth 0 when there are pins.
    pub fn verdict(
        &self,
        ok: bool,
        depth: u32,
        chain: impl FnOnce() -> Vec<CertificateDer<'static>>,
    ) -> Verdict {
        if !ok && !self.accept_invalid {
            Verdict::Refuse
        } else if self.pins.is_empty()
            || depth != 0
            || pins_match(&self.pins, chain(), ok && !self.accept_invalid)
        {
            Verdict::Accept
        } else {
            Verdict::PinMismatch
        }
    }
}

/// The name a client connection asks for and checks.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The SNI to send, if any.
    pub sni: Option<&'a str>,
    /// The name or address the certificate must match, if checked.
    pub check: Option<Check<'a>>,
}

/// What the server's certificate must match.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    /// A DNS name (no partial wildcards).
    Host(&'a str),
    /// An IP address.
    Ip(IpAddr),
}

/// Why an identity was not set.
#[derive(Debug)]
pub enum IdentityError {
    /// The library refused one of its parts (what, and the library's text).
    Rejected(&'static str, String),
    /// The private key does not belong to the certificate.
    KeyMismatch,
}

/// The setters and callbacks of one OpenSSL-API library, for building
/// contexts. Each call forwards to the binding; errors carry the library's
/// text.
pub trait ContextDriver: Sized + Send + Sync + 'static {
    /// The backend's name (`Backend::name`).
    const NAME: &'static str;
    /// What the library cannot do.
    const GAPS: Gaps;
    /// The context builder (`SslContextBuilder`).
    type Builder;
    /// A built context (`SslContext`).
    type Context: Clone + Send + Sync + 'static;

    /// A new builder for `role`.
    fn builder(role: Role) -> std::result::Result<Self::Builder, String>;
    /// Builds the context.
    fn build(b: Self::Builder) -> Self::Context;
    /// The lowest and highest protocol version.
    fn set_versions(
        b: &mut Self::Builder,
        min: ProtocolVersion,
        max: ProtocolVersion,
    ) -> std::result::Result<(), String>;
    /// No compression, no renegotiation, the server's cipher preference.
    fn set_base_options(b: &mut Self::Builder);
    /// The TLS 1.2 cipher list (OpenSSL names, `:`-joined).
    fn set_cipher_list(b: &mut Self::Builder, list: &str) -> std::result::Result<(), String>;
    /// The TLS 1.3 suites (IANA names, `:`-joined); only called when
    /// [`Gaps::tls13_suites`] is `None`.
    fn set_tls13_suites(b: &mut Self::Builder, list: &str) -> std::result::Result<(), String>;
    /// The key-exchange groups (`:`-joined).
    fn set_groups(b: &mut Self::Builder, list: &str) -> std::result::Result<(), String>;
    /// The signature schemes of a context for `role`: `signing` for this
    /// side's handshake signature, `verify` for the peer's (advertised),
    /// each in preference order and never empty.
    fn set_sigalgs(
        b: &mut Self::Builder,
        role: Role,
        signing: &[SignatureScheme],
        verify: &[SignatureScheme],
    ) -> std::result::Result<(), String>;
    /// Key log lines go to `log`.
    fn set_key_log(b: &mut Self::Builder, log: Arc<dyn KeyLog>);
    /// The certificate chain (leaf first) and its private key (PKCS#8 or
    /// the key's own DER); checks that they belong together.
    fn set_identity(
        b: &mut Self::Builder,
        chain: &[CertificateDer<'static>],
        key: &[u8],
    ) -> std::result::Result<(), IdentityError>;
    /// Adds a trusted root to the context's store.
    fn add_root(b: &mut Self::Builder, der: &[u8]) -> std::result::Result<(), String>;
    /// Loads the certificates and CRLs of a PEM file into the store.
    fn load_verify_file(b: &mut Self::Builder, path: &Path) -> std::result::Result<(), String>;
    /// The store's CRL checking flags.
    fn set_crl_flags(b: &mut Self::Builder, flags: CrlFlags) -> std::result::Result<(), String>;
    /// The session ID context.
    fn set_session_id_context(
        b: &mut Self::Builder,
        context: &[u8],
    ) -> std::result::Result<(), String>;
    /// How a server verifies client certificates.
    fn set_client_verify(b: &mut Self::Builder, verify: ClientVerify);
    /// A server picks the first of `prefs` the client offers, else a fatal
    /// `no_application_protocol`.
    fn set_alpn_select(b: &mut Self::Builder, prefs: Vec<Vec<u8>>);
    /// A server's session cache on, with `size` entries.
    fn set_server_cache(b: &mut Self::Builder, size: usize);
    /// No session cache.
    fn disable_session_cache(b: &mut Self::Builder);
    /// A server issues no tickets, in any version.
    fn disable_all_tickets(b: &mut Self::Builder) -> std::result::Result<(), String>;
    /// No tickets (`SSL_OP_NO_TICKET`): TLS 1.2 session IDs only.
    fn disable_tickets(b: &mut Self::Builder);
    /// The ticket keys (the audited module). When
    /// [`Gaps::ticket_key_rotation`] is `Some`, the policy calls it only
    /// with one key; a library without rotation uses the first.
    fn set_ticket_keys(b: &mut Self::Builder, keys: &TicketKeys) -> Result<()>;
    /// The most early data a server accepts; only called when
    /// [`Gaps::server_early_data`] is `None`.
    fn set_max_early_data(b: &mut Self::Builder, max: u32) -> std::result::Result<(), String>;
    /// A servername callback that switches to `contexts[selector.select(sni) - 1]`
    /// (index 0 keeps the context), or that only accepts when there are
    /// none: a library acknowledges SNI in its ServerHello only with one.
    fn set_sni(b: &mut Self::Builder, selector: SniSelector, contexts: Vec<Self::Context>);
    /// A client's ALPN offer (wire format).
    fn set_alpn_protos(b: &mut Self::Builder, wire: &[u8]) -> std::result::Result<(), String>;
    /// A client hands each new session (as DER, and whether it is TLS 1.3)
    /// to the connection's [`Slot`](crate::resume::Slot), and keeps none
    /// itself.
    fn keep_sessions(b: &mut Self::Builder) -> std::result::Result<(), String>;
    /// How a client checks the server's certificate besides the library.
    fn set_server_check(b: &mut Self::Builder, check: ServerCheck);
}

/// Signature schemes as a library's `:`-joined list of names.
pub fn scheme_names(list: &[SignatureScheme]) -> String {
    let names: Vec<&str> = list.iter().map(|s| s.iana_name()).collect();
    names.join(":")
}

/// Signature schemes as IANA codes.
pub fn scheme_codes(list: &[SignatureScheme]) -> Vec<u16> {
    list.iter().map(|s| s.code()).collect()
}

/// The error for a context call the library refused.
pub fn cfg_err<L: ContextDriver>(what: &str) -> impl FnOnce(String) -> Error + '_ {
    move |e| {
        Error::config(
            ConfigErrorKind::Rejected,
            format!("{}: {what}: {e}", L::NAME),
        )
    }
}

fn unsupported<L: ContextDriver>(capability: Capability, reason: &str) -> Error {
    Error::unsupported(L::NAME, capability, reason.to_owned())
}

/// What a library accepts, probed once on scratch contexts: the
/// capabilities come from the library, not from constants.
#[derive(Debug)]
pub struct Probe {
    groups: HashMap<NamedGroup, bool>,
    schemes: HashMap<SignatureScheme, bool>,
}

impl Probe {
    /// The probe of `L`, made on first use.
    pub fn of<L: ContextDriver>() -> &'static Probe {
        // One per library type: a static in a generic function is shared by
        // every instance, so key it by name.
        static PROBES: OnceLock<std::sync::Mutex<HashMap<&'static str, &'static Probe>>> =
            OnceLock::new();
        let probes = PROBES.get_or_init(Default::default);
        let mut probes = probes.lock().unwrap_or_else(|p| p.into_inner());
        probes.entry(L::NAME).or_insert_with(|| {
            let groups = NamedGroup::ALL
                .iter()
                .map(|g| {
                    let ok = L::builder(Role::Client)
                        .is_ok_and(|mut b| L::set_groups(&mut b, g.openssl_name()).is_ok());
                    (*g, ok)
                })
                .collect();
            let schemes = SignatureScheme::ALL
                .iter()
                .map(|s| {
                    let one = std::slice::from_ref(s);
                    let ok = L::builder(Role::Client)
                        .is_ok_and(|mut b| L::set_sigalgs(&mut b, Role::Client, one, one).is_ok());
                    (*s, ok)
                })
                .collect();
            Box::leak(Box::new(Probe { groups, schemes }))
        })
    }

    /// Whether the library offers group `g`.
    pub fn group(&self, g: NamedGroup) -> bool {
        self.groups.get(&g).copied().unwrap_or(false)
    }

    /// Whether the library signs and verifies with scheme `s`.
    pub fn scheme(&self, s: SignatureScheme) -> bool {
        self.schemes.get(&s).copied().unwrap_or(false)
    }
}

/// Whether `L` can do `capability`. The family does everything the
/// portable API models except what [`Gaps`] and the probe say; a
/// capability this match does not know is refused until it is answered.
pub fn supports<L: ContextDriver>(capability: Capability) -> bool {
    let g = L::GAPS;
    match capability {
        Capability::Group(group) => Probe::of::<L>().group(group),
        Capability::SignatureScheme(s) => Probe::of::<L>().scheme(s),
        Capability::CipherSuite(s) if s.version() == ProtocolVersion::Tls13 => {
            g.tls13_suites.is_none()
        }
        Capability::CipherSuite(_)
        | Capability::Version(_)
        | Capability::Ed25519
        | Capability::Rsa4096
        | Capability::Resumption
        | Capability::ClientResumption
        | Capability::ResumptionExport
        | Capability::TicketKeys
        | Capability::Tls12SessionIds
        | Capability::KeyingMaterialExport
        | Capability::KeyLog
        | Capability::SniIdentities
        | Capability::ClientAuth
        | Capability::Pinning => true,
        Capability::TicketKeyRotation => g.ticket_key_rotation.is_none(),
        Capability::ResumptionLifetime => g.resumption_lifetime.is_none(),
        Capability::ClientEarlyData => g.client_early_data.is_none(),
        Capability::ServerEarlyData => g.server_early_data.is_none(),
        _ => false,
    }
}

/// Applies `name` with `set` on a scratch context first, so an item the
/// library does not know is reported by name and capability.
fn check_item<L: ContextDriver>(
    item: &dyn std::fmt::Display,
    capability: Capability,
    name: &str,
    set: fn(&mut L::Builder, &str) -> std::result::Result<(), String>,
) -> Result<()> {
    let mut scratch = L::builder(Role::Client).map_err(cfg_err::<L>("context"))?;
    set(&mut scratch, name).map_err(|_| {
        unsupported::<L>(
            capability,
            &format!("{item} is not supported by the {} backend", L::NAME),
        )
    })
}

fn common<L: ContextDriver>(b: &mut L::Builder, role: Role, c: &Common) -> Result<()> {
    L::set_versions(b, c.min_version, c.max_version).map_err(cfg_err::<L>("versions"))?;
    L::set_base_options(b);
    let suites = c.effective_suites();
    let tls13: Vec<_> = suites
        .iter()
        .filter(|s| s.version() == ProtocolVersion::Tls13)
        .collect();
    for s in &suites {
        if s.version() == ProtocolVersion::Tls12 {
            check_item::<L>(
                s,
                Capability::CipherSuite(*s),
                s.openssl_name(),
                L::set_cipher_list,
            )?;
        } else if L::GAPS.tls13_suites.is_none() {
            check_item::<L>(
                s,
                Capability::CipherSuite(*s),
                s.iana_name(),
                L::set_tls13_suites,
            )?;
        }
    }
    let tls12 = tls12_cipher_list(&suites);
    // An empty TLS 1.2 list is refused; with TLS 1.2 off it is never used,
    // so leave the default there.
    if !tls12.is_empty() {
        L::set_cipher_list(b, &tls12).map_err(cfg_err::<L>("cipher list"))?;
    }
    match L::GAPS.tls13_suites {
        None if !tls13.is_empty() => {
            let names: Vec<&str> = tls13.iter().map(|s| s.iana_name()).collect();
            L::set_tls13_suites(b, &names.join(":")).map_err(cfg_err::<L>("TLS 1.3 suites"))?;
        }
        // The library's TLS 1.3 suites are fixed: only the full set can be
        // asked for.
        Some(reason) if !tls13.is_empty() && tls13.len() < 3 => {
            return Err(unsupported::<L>(
                Capability::CipherSuite(*tls13[0]),
                &format!("cipher suite {}: {reason}", tls13[0]),
            ));
        }
        _ => {}
    }
    let probe = Probe::of::<L>();
    let (groups, _) = c.effective_groups(|g| probe.group(g));
    if let Some(g) = groups.iter().find(|g| !probe.group(**g)) {
        return Err(unsupported::<L>(
            Capability::Group(*g),
            &format!(
                "key-exchange group {g} is not supported by the {} backend",
                L::NAME
            ),
        ));
    }
    let list: Vec<&str> = groups.iter().map(|g| g.openssl_name()).collect();
    L::set_groups(b, &list.join(":")).map_err(cfg_err::<L>("groups"))?;
    let (signing, verify) = (c.effective_signing_schemes(), c.effective_verify_schemes());
    if let Some(s) = signing.iter().chain(verify).find(|s| !probe.scheme(**s)) {
        return Err(unsupported::<L>(
            Capability::SignatureScheme(*s),
            &format!(
                "signature scheme {s} is not supported by the {} backend",
                L::NAME
            ),
        ));
    }
    L::set_sigalgs(b, role, signing, verify).map_err(cfg_err::<L>("signature algorithms"))?;
    if let Some(kl) = &c.key_log {
        L::set_key_log(b, kl.clone());
    }
    Ok(())
}

fn set_identity<L: ContextDriver>(b: &mut L::Builder, id: &Identity) -> Result<()> {
    if id.chain().is_empty() {
        return Err(Error::config(
            ConfigErrorKind::Contradiction,
            "an identity needs a certificate",
        ));
    }
    L::set_identity(b, id.chain(), id.key().secret_der()).map_err(|e| match e {
        IdentityError::Rejected(what, e) => cfg_err::<L>(what)(e),
        IdentityError::KeyMismatch => Error::config(
            ConfigErrorKind::KeyMismatch,
            format!(
                "{}: the private key does not match the certificate",
                L::NAME
            ),
        ),
    })
}

fn add_roots<L: ContextDriver>(b: &mut L::Builder, roots: &Roots) -> Result<()> {
    for (i, der) in roots.certs().iter().enumerate() {
        L::add_root(b, der).map_err(|e| {
            Error::config(
                ConfigErrorKind::Rejected,
                format!("root certificate #{i} is not usable: {e}"),
            )
        })?;
    }
    Ok(())
}

/// Loads the CRLs into the context's store and turns checking on (see
/// [`crate::crl`]).
fn add_crls<L: ContextDriver>(b: &mut L::Builder, revocation: &Revocation) -> Result<()> {
    crl::load_crls(L::NAME, revocation, |path| L::load_verify_file(b, path))?;
    let flags = CrlFlags::of(revocation);
    if flags.check || flags.check_all {
        L::set_crl_flags(b, flags).map_err(cfg_err::<L>("CRL checking"))?;
    }
    Ok(())
}

fn server_builder<L: ContextDriver>(cfg: &ServerConfig, id: &Identity) -> Result<L::Builder> {
    let mut b = L::builder(Role::Server).map_err(cfg_err::<L>("context"))?;
    common::<L>(&mut b, Role::Server, &cfg.common)?;
    set_identity::<L>(&mut b, id)?;
    // The trust digest as the session ID context: a session (or a ticket,
    // under shared keys) made under other trust does not resume here
    // (polytls_api::trust, rule 3); the library treats it as a cache miss.
    L::set_session_id_context(&mut b, &cfg.trust_digest())
        .map_err(cfg_err::<L>("session id context"))?;
    let verify = match &cfg.client_auth {
        ClientAuth::None => ClientVerify::None,
        ClientAuth::Optional(roots) | ClientAuth::Required(roots) => {
            add_roots::<L>(&mut b, roots)?;
            add_crls::<L>(&mut b, &cfg.client_revocation)?;
            if matches!(cfg.client_auth, ClientAuth::Required(_)) {
                ClientVerify::Required
            } else {
                ClientVerify::Optional
            }
        }
        ClientAuth::DangerAcceptAny { required } => ClientVerify::AcceptAny {
            required: *required,
        },
    };
    L::set_client_verify(&mut b, verify);
    if !cfg.common.alpn.is_empty() {
        L::set_alpn_select(&mut b, cfg.common.alpn.clone());
    }
    if cfg.max_early_data > 0 {
        if let Some(reason) = L::GAPS.server_early_data {
            return Err(unsupported::<L>(Capability::ServerEarlyData, reason));
        }
    }
    let r = &cfg.resumption;
    if !cfg.common.resumption {
        L::disable_session_cache(&mut b);
        L::disable_all_tickets(&mut b).map_err(cfg_err::<L>("tickets"))?;
        return Ok(b);
    }
    L::set_server_cache(&mut b, r.cache_size);
    if r.lifetime.is_some() {
        if let Some(reason) = L::GAPS.resumption_lifetime {
            return Err(unsupported::<L>(Capability::ResumptionLifetime, reason));
        }
    }
    if r.tls12 == Tls12Resumption::SessionIds {
        // The library then keeps TLS 1.3 sessions in its cache too.
        L::disable_tickets(&mut b);
    }
    if let Some(keys) = &r.ticket_keys {
        if keys.keys().len() > 1 {
            if let Some(reason) = L::GAPS.ticket_key_rotation {
                return Err(unsupported::<L>(Capability::TicketKeyRotation, reason));
            }
        }
        L::set_ticket_keys(&mut b, keys)?;
    }
    if L::GAPS.server_early_data.is_none() {
        // Early data: the library then refuses a ticket's second use for it
        // (OpenSSL's anti-replay cache, on unless SSL_OP_NO_ANTI_REPLAY).
        L::set_max_early_data(&mut b, cfg.max_early_data)
            .map_err(cfg_err::<L>("max early data"))?;
    }
    Ok(b)
}

/// The server context; SNI identities are contexts of their own that the
/// servername callback switches to, chosen by polytls' one selector.
pub fn server_context<L: ContextDriver>(cfg: &ServerConfig) -> Result<L::Context> {
    let mut b = server_builder::<L>(cfg, &cfg.identity)?;
    let by_index = cfg
        .sni_identities
        .iter()
        .map(|(_, id)| Ok(L::build(server_builder::<L>(cfg, id)?)))
        .collect::<Result<Vec<_>>>()?;
    L::set_sni(&mut b, cfg.sni_selector(), by_index);
    Ok(L::build(b))
}

/// What a client connection needs besides the context.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Whether SNI is sent.
    pub send_sni: bool,
    /// Whether the certificate must match the server name.
    pub check_hostname: bool,
    /// The resumption cache; `None` when resumption is off.
    pub cache: Option<Arc<Cache>>,
}

impl ClientSettings {
    /// The SNI to send and the name to check for `server_name`.
    pub fn target<'a>(&self, server_name: &'a str) -> Target<'a> {
        let ip = server_name.parse::<IpAddr>().ok();
        Target {
            sni: (self.send_sni && ip.is_none()).then_some(server_name),
            check: self.check_hostname.then_some(match ip {
                Some(ip) => Check::Ip(ip),
                None => Check::Host(server_name),
            }),
        }
    }
}

/// The client context and what its connections need.
pub fn client_context<L: ContextDriver>(
    cfg: &ClientConfig,
) -> Result<(L::Context, ClientSettings)> {
    if cfg.early_data {
        if let Some(reason) = L::GAPS.client_early_data {
            return Err(unsupported::<L>(Capability::ClientEarlyData, reason));
        }
    }
    let mut b = L::builder(Role::Client).map_err(cfg_err::<L>("context"))?;
    common::<L>(&mut b, Role::Client, &cfg.common)?;
    add_roots::<L>(&mut b, &cfg.roots)?;
    add_crls::<L>(&mut b, &cfg.revocation)?;
    if let Some(id) = &cfg.identity {
        set_identity::<L>(&mut b, id)?;
    }
    if !cfg.common.alpn.is_empty() {
        L::set_alpn_protos(&mut b, &alpn_wire(&cfg.common.alpn)).map_err(cfg_err::<L>("ALPN"))?;
    }
    let cache = if cfg.common.resumption {
        // polytls keeps the sessions (as DER, per server name); the
        // library's internal store stays empty and only reports new ones.
        L::keep_sessions(&mut b).map_err(cfg_err::<L>("session cache"))?;
        Some(Arc::new(Cache::new(cfg.session_cache_size)))
    } else {
        L::disable_session_cache(&mut b);
        None
    };
    L::set_server_check(
        &mut b,
        ServerCheck {
            pins: Arc::new(cfg.pins.clone()),
            accept_invalid: cfg.danger_accept_invalid_certs,
        },
    );
    let settings = ClientSettings {
        send_sni: cfg.send_sni,
        check_hostname: !cfg.danger_accept_invalid_certs && !cfg.danger_accept_invalid_hostnames,
        cache,
    };
    Ok((L::build(b), settings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polytls_api::{CipherSuite, PrivateKeyDer, TicketKey};

    /// A library that records each call, with BoringSSL-like gaps and no
    /// X448.
    struct Fake;

    type Calls = Vec<String>;

    fn ok(b: &mut Calls, call: String) -> std::result::Result<(), String> {
        b.push(call);
        Ok(())
    }

    impl ContextDriver for Fake {
        const NAME: &'static str = "fake";
        const GAPS: Gaps = Gaps {
            tls13_suites: Some("fixed suites"),
            resumption_lifetime: Some("fixed lifetime"),
            ticket_key_rotation: Some("one key only"),
            client_early_data: Some("no client early data"),
            server_early_data: Some("no server early data"),
        };
        type Builder = Calls;
        type Context = Arc<Calls>;

        fn builder(role: Role) -> std::result::Result<Calls, String> {
            Ok(vec![format!("{role:?}")])
        }
        fn build(b: Calls) -> Arc<Calls> {
            Arc::new(b)
        }
        fn set_versions(
            b: &mut Calls,
            min: ProtocolVersion,
            max: ProtocolVersion,
        ) -> std::result::Result<(), String> {
            ok(b, format!("versions {min:?}..{max:?}"))
        }
        fn set_base_options(b: &mut Calls) {
            b.push("base options".into());
        }
        fn set_cipher_list(b: &mut Calls, list: &str) -> std::result::Result<(), String> {
            ok(b, format!("ciphers {list}"))
        }
        fn set_tls13_suites(_: &mut Calls, _: &str) -> std::result::Result<(), String> {
            Err("never called: the suites are a gap".into())
        }
        fn set_groups(b: &mut Calls, list: &str) -> std::result::Result<(), String> {
            if list.contains("X448") {
                return Err("unknown group".into());
            }
            ok(b, format!("groups {list}"))
        }
        fn set_sigalgs(
            b: &mut Calls,
            role: Role,
            signing: &[SignatureScheme],
            verify: &[SignatureScheme],
        ) -> std::result::Result<(), String> {
            if signing.contains(&SignatureScheme::ecdsa_secp521r1_sha512) {
                return Err("unknown scheme".into());
            }
            ok(
                b,
                format!("sigalgs {role:?} sign {signing:?} verify {verify:?}"),
            )
        }
        fn set_key_log(b: &mut Calls, _: Arc<dyn KeyLog>) {
            b.push("key log".into());
        }
        fn set_identity(
            b: &mut Calls,
            chain: &[CertificateDer<'static>],
            key: &[u8],
        ) -> std::result::Result<(), IdentityError> {
            if key == b"other" {
                return Err(IdentityError::KeyMismatch);
            }
            b.push(format!("identity of {}", chain.len()));
            Ok(())
        }
        fn add_root(b: &mut Calls, _: &[u8]) -> std::result::Result<(), String> {
            ok(b, "root".into())
        }
        fn load_verify_file(b: &mut Calls, _: &Path) -> std::result::Result<(), String> {
            ok(b, "verify file".into())
        }
        fn set_crl_flags(b: &mut Calls, f: CrlFlags) -> std::result::Result<(), String> {
            ok(b, format!("crl flags {f:?}"))
        }
        fn set_session_id_context(b: &mut Calls, _: &[u8]) -> std::result::Result<(), String> {
            ok(b, "session id context".into())
        }
        fn set_client_verify(b: &mut Calls, verify: ClientVerify) {
            b.push(format!("client verify {verify:?}"));
        }
        fn set_alpn_select(b: &mut Calls, _: Vec<Vec<u8>>) {
            b.push("alpn select".into());
        }
        fn set_server_cache(b: &mut Calls, size: usize) {
            b.push(format!("server cache {size}"));
        }
        fn disable_session_cache(b: &mut Calls) {
            b.push("no session cache".into());
        }
        fn disable_all_tickets(b: &mut Calls) -> std::result::Result<(), String> {
            ok(b, "no tickets at all".into())
        }
        fn disable_tickets(b: &mut Calls) {
            b.push("no tickets".into());
        }
        fn set_ticket_keys(b: &mut Calls, keys: &TicketKeys) -> Result<()> {
            b.push(format!("{} ticket keys", keys.keys().len()));
            Ok(())
        }
        fn set_max_early_data(_: &mut Calls, _: u32) -> std::result::Result<(), String> {
            Err("never called: early data is a gap".into())
        }
        fn set_sni(b: &mut Calls, _: SniSelector, contexts: Vec<Arc<Calls>>) {
            b.push(format!("sni over {}", contexts.len()));
        }
        fn set_alpn_protos(b: &mut Calls, wire: &[u8]) -> std::result::Result<(), String> {
            ok(b, format!("alpn {wire:?}"))
        }
        fn keep_sessions(b: &mut Calls) -> std::result::Result<(), String> {
            ok(b, "keep sessions".into())
        }
        fn set_server_check(b: &mut Calls, check: ServerCheck) {
            b.push(format!("server check, {} pins", check.pins.len()));
        }
    }

    fn identity(key: &[u8]) -> Identity {
        let key = PrivateKeyDer::Pkcs8(key.to_vec().into());
        Identity::new(vec![CertificateDer::from(vec![0x30])], key).expect("identity")
    }

    fn server() -> ServerConfig {
        ServerConfig::new(identity(b"key"))
    }

    fn unsupported_capability(e: Error) -> Option<Capability> {
        match e {
            Error::Unsupported(u) => {
                assert_eq!(u.backend, "fake");
                u.capability
            }
            other => panic!("expected Unsupported, got {other}"),
        }
    }

    fn key(n: u8) -> TicketKey {
        TicketKey {
            name: [n; 16],
            hmac: [n; 32],
            aes: [n; 32],
        }
    }

    #[test]
    fn gaps_are_refused_with_their_capability() {
        let mut c = server();
        c.common.cipher_suites = Some(vec![CipherSuite::TLS_AES_128_GCM_SHA256]);
        let e = server_context::<Fake>(&c).expect_err("a fixed suite set");
        assert_eq!(
            unsupported_capability(e),
            Some(Capability::CipherSuite(CipherSuite::TLS_AES_128_GCM_SHA256))
        );

        let mut c = server();
        c.max_early_data = 1024;
        let e = server_context::<Fake>(&c).expect_err("no early data");
        assert_eq!(unsupported_capability(e), Some(Capability::ServerEarlyData));

        let mut c = server();
        c.resumption.ticket_keys = Some(TicketKeys::new(vec![key(1), key(2)]).expect("keys"));
        let e = server_context::<Fake>(&c).expect_err("one key only");
        assert_eq!(
            unsupported_capability(e),
            Some(Capability::TicketKeyRotation)
        );

        let mut c = server();
        c.common.groups = Some(vec![NamedGroup::X448]);
        let e = server_context::<Fake>(&c).expect_err("no X448");
        assert_eq!(
            unsupported_capability(e),
            Some(Capability::Group(NamedGroup::X448))
        );

        let mut c = ClientConfig::new(Roots::new(Vec::new()));
        c.early_data = true;
        let e = client_context::<Fake>(&c).expect_err("no client early data");
        assert_eq!(unsupported_capability(e), Some(Capability::ClientEarlyData));
    }

    #[test]
    fn supports_answers_from_the_gaps_and_the_probe() {
        assert!(!supports::<Fake>(Capability::ServerEarlyData));
        assert!(!supports::<Fake>(Capability::TicketKeyRotation));
        assert!(!supports::<Fake>(Capability::Group(NamedGroup::X448)));
        assert!(supports::<Fake>(Capability::Group(NamedGroup::X25519)));
        assert!(!supports::<Fake>(Capability::CipherSuite(
            CipherSuite::TLS_AES_128_GCM_SHA256
        )));
        assert!(supports::<Fake>(Capability::TicketKeys));
    }

    #[test]
    fn the_full_suite_set_and_one_key_are_accepted() {
        let mut c = server();
        c.common.cipher_suites = Some(vec![
            CipherSuite::TLS_AES_128_GCM_SHA256,
            CipherSuite::TLS_AES_256_GCM_SHA384,
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        ]);
        c.resumption.ticket_keys = Some(TicketKeys::new(vec![key(1)]).expect("key"));
        let ctx = server_context::<Fake>(&c).expect("context");
        assert!(ctx.contains(&"1 ticket keys".to_owned()), "{ctx:?}");
        assert!(ctx.contains(&"sni over 0".to_owned()), "{ctx:?}");
    }

    #[test]
    fn resumption_off_means_no_cache_and_no_tickets() {
        let mut c = server();
        c.common.resumption = false;
        let ctx = server_context::<Fake>(&c).expect("context");
        assert!(ctx.contains(&"no session cache".to_owned()), "{ctx:?}");
        assert!(ctx.contains(&"no tickets at all".to_owned()), "{ctx:?}");
        assert!(
            !ctx.iter().any(|c| c.starts_with("server cache")),
            "{ctx:?}"
        );

        let mut c = ClientConfig::new(Roots::new(Vec::new()));
        c.common.resumption = false;
        let (ctx, settings) = client_context::<Fake>(&c).expect("context");
        assert!(settings.cache.is_none());
        assert!(ctx.contains(&"no session cache".to_owned()), "{ctx:?}");
    }

    #[test]
    fn a_mismatched_key_is_a_key_mismatch() {
        let e =
            server_context::<Fake>(&ServerConfig::new(identity(b"other"))).expect_err("mismatch");
        assert!(
            matches!(&e, Error::InvalidConfig(c) if c.kind() == ConfigErrorKind::KeyMismatch),
            "{e:?}"
        );
    }

    #[test]
    fn client_auth_modes() {
        let roots = Roots::new(vec![CertificateDer::from(vec![0x30])]);
        for (auth, verify) in [
            (ClientAuth::None, ClientVerify::None),
            (ClientAuth::Optional(roots.clone()), ClientVerify::Optional),
            (ClientAuth::Required(roots), ClientVerify::Required),
            (
                ClientAuth::DangerAcceptAny { required: true },
                ClientVerify::AcceptAny { required: true },
            ),
        ] {
            let mut c = server();
            c.client_auth = auth;
            let ctx = server_context::<Fake>(&c).expect("context");
            assert!(
                ctx.contains(&format!("client verify {verify:?}")),
                "{ctx:?}"
            );
        }
    }

    #[test]
    fn server_check_verdicts() {
        let none = ServerCheck {
            pins: Arc::new(Vec::new()),
            accept_invalid: false,
        };
        assert_eq!(none.verdict(false, 0, Vec::new), Verdict::Refuse);
        assert_eq!(none.verdict(true, 0, Vec::new), Verdict::Accept);
        let lax = ServerCheck {
            accept_invalid: true,
            ..none.clone()
        };
        assert_eq!(lax.verdict(false, 1, Vec::new), Verdict::Accept);
        let pinned = ServerCheck {
            pins: Arc::new(vec![SpkiPin::parse(&"07".repeat(32)).expect("pin")]),
            accept_invalid: false,
        };
        assert_eq!(pinned.verdict(true, 1, Vec::new), Verdict::Accept);
        assert_eq!(pinned.verdict(true, 0, Vec::new), Verdict::PinMismatch);
    }

    #[test]
    fn targets() {
        let s = ClientSettings {
            send_sni: true,
            check_hostname: true,
            cache: None,
        };
        let t = s.target("example.com");
        assert_eq!(t.sni, Some("example.com"));
        assert!(matches!(t.check, Some(Check::Host("example.com"))));
        let t = s.target("127.0.0.1");
        assert_eq!(t.sni, None, "no SNI for an address");
        assert!(matches!(t.check, Some(Check::Ip(_))));
    }
}
