//! The portable configuration: plain data, checked by [`ClientConfig::validate`]
//! and [`ServerConfig::validate`] before any backend builds a context from it.
//!
//! Defaults are secure and the same on every backend: certificate and
//! hostname verification on, TLS 1.2 and 1.3 only, the portable suites,
//! groups and signature schemes of [`defaults`](crate::defaults) (AEAD with
//! forward secrecy only), resumption on, no early data, no key log.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::identity::{certs_from_pem, CertificateDer, Identity};
use crate::keylog::KeyLog;
use crate::params::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use crate::revocation::Revocation;
pub use crate::tickets::TicketKeys;
use crate::{ConfigErrorKind, Error, Result};

/// A set of trust anchors (root certificates).
#[derive(Clone, Default)]
pub struct Roots {
    certs: Vec<CertificateDer<'static>>,
}

impl Roots {
    /// Roots from DER certificates.
    pub fn new(certs: Vec<CertificateDer<'static>>) -> Self {
        Self { certs }
    }

    /// Roots from every `CERTIFICATE` block of a PEM document.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Ok(Self::new(certs_from_pem(pem)?))
    }

    /// The platform's trust store (on Linux the system CA bundle, honouring
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`). An empty or unreadable store is
    /// [`Error::InvalidConfig`], never a silent "trust nothing".
    pub fn platform() -> Result<Self> {
        let loaded = rustls_native_certs::load_native_certs();
        if loaded.certs.is_empty() {
            let why = loaded
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no certificates found".into());
            return Err(Error::config(
                ConfigErrorKind::Io,
                format!("cannot load the platform trust store: {why}"),
            ));
        }
        Ok(Self::new(loaded.certs))
    }

    /// Adds one root.
    pub fn add(&mut self, cert: CertificateDer<'static>) {
        self.certs.push(cert);
    }

    /// The roots, as DER.
    pub fn certs(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }

    /// Whether there are no roots.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

impl fmt::Debug for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Roots({} certificates)", self.certs.len())
    }
}

/// Whether and how the server authenticates clients.
#[derive(Clone, Debug, Default)]
pub enum ClientAuth {
    /// Clients are not asked for a certificate.
    #[default]
    None,
    /// Clients are asked; one that sends a certificate must chain to these
    /// roots, one that sends none is accepted unauthenticated.
    Optional(Roots),
    /// Clients must send a certificate chaining to these roots; otherwise the
    /// handshake fails with [`Error::ClientCertificateRequired`].
    Required(Roots),
    /// DANGER: clients are asked for a certificate (and must send one when
    /// `required`), and **any** certificate is accepted — untrusted,
    /// expired, for any name. The library checks only that the client holds
    /// the certificate's key (the handshake signature). For applications
    /// that decide themselves, after the handshake, from
    /// [`SessionInfo::peer_chain`](crate::SessionInfo::peer_chain) (against
    /// pins, say). CRLs cannot be combined with it, and the trust checks on
    /// resumption ([`trust`](crate::trust)) have nothing to check.
    DangerAcceptAny {
        /// Whether a client without a certificate is refused
        /// ([`Error::ClientCertificateRequired`]).
        required: bool,
    },
}

/// A SHA-256 hash of a certificate's DER `SubjectPublicKeyInfo` (an "SPKI pin",
/// as in HPKP and `curl --pinnedpubkey`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpkiPin(pub [u8; 32]);

impl fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpkiPin(sha256//{})", crate::pins::base64(&self.0))
    }
}

/// Settings both sides share.
#[derive(Clone)]
#[non_exhaustive]
pub struct Common {
    /// ALPN protocols in preference order; empty means no ALPN.
    pub alpn: Vec<Vec<u8>>,
    /// The lowest version allowed (default TLS 1.2).
    pub min_version: ProtocolVersion,
    /// The highest version allowed (default TLS 1.3).
    pub max_version: ProtocolVersion,
    /// Cipher suites in preference order; `None` means the portable
    /// defaults ([`defaults::CIPHER_SUITES`](crate::defaults::CIPHER_SUITES)).
    /// Suites of versions outside min..=max are ignored.
    pub cipher_suites: Option<Vec<CipherSuite>>,
    /// Key-exchange groups in preference order; `None` means the portable
    /// defaults ([`defaults::GROUPS`](crate::defaults::GROUPS)), less those
    /// the backend lacks.
    pub groups: Option<Vec<NamedGroup>>,
    /// The schemes this side may sign its handshake with (its
    /// CertificateVerify or ServerKeyExchange), in preference order: the
    /// first that the peer accepts and the identity's key can make is used.
    /// `None` means the portable defaults
    /// ([`defaults::SIGNATURE_SCHEMES`](crate::defaults::SIGNATURE_SCHEMES)),
    /// in that order. Only a side with an identity signs, and an identity
    /// whose key can make none of them is
    /// [`ConfigErrorKind::Contradiction`] (a P-521 key needs
    /// `ecdsa_secp521r1_sha512` here). When the peer accepts none of those
    /// the key can make, a server fails the handshake with
    /// [`Incompatibility::NoSharedSignatureScheme`](crate::Incompatibility::NoSharedSignatureScheme);
    /// a client answers a CertificateRequest with no certificate on rustls
    /// and OpenSSL, where BoringSSL and AWS-LC fail the handshake (the
    /// conformance suite's `ClientFailsWithoutSharedSignatureScheme`).
    pub signing_schemes: Option<Vec<SignatureScheme>>,
    /// The schemes accepted for the peer's handshake signature, advertised
    /// in this order (`signature_algorithms`); a peer that signs with
    /// another fails the handshake. `None` means the portable defaults
    /// ([`defaults::SIGNATURE_SCHEMES`](crate::defaults::SIGNATURE_SCHEMES)).
    /// Signatures inside certificates are checked by the library's own
    /// rules, whatever this says. (rustls wants the list for the life of
    /// the process: it keeps each distinct list, at most 1,024 of them.)
    pub verify_schemes: Option<Vec<SignatureScheme>>,
    /// Session resumption (default on): on a server, tickets and a session
    /// cache; on a client, a ticket cache per context, where the backend has
    /// one ([`Capability::ClientResumption`](crate::Capability::ClientResumption)).
    /// `SessionInfo::resumed` reports what happened.
    pub resumption: bool,
    /// Receives `SSLKEYLOGFILE`-format lines; off by default.
    pub key_log: Option<Arc<dyn KeyLog>>,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            alpn: Vec::new(),
            min_version: ProtocolVersion::Tls12,
            max_version: ProtocolVersion::Tls13,
            cipher_suites: None,
            groups: None,
            signing_schemes: None,
            verify_schemes: None,
            resumption: true,
            key_log: None,
        }
    }
}

impl Common {
    /// The versions enabled, lowest first.
    pub fn versions(&self) -> Vec<ProtocolVersion> {
        [ProtocolVersion::Tls12, ProtocolVersion::Tls13]
            .into_iter()
            .filter(|v| *v >= self.min_version && *v <= self.max_version)
            .collect()
    }

    /// The configured suites that belong to an enabled version.
    pub fn suites_for_enabled_versions(&self) -> Option<Vec<CipherSuite>> {
        let versions = self.versions();
        self.cipher_suites.as_ref().map(|s| {
            s.iter()
                .copied()
                .filter(|s| versions.contains(&s.version()))
                .collect()
        })
    }

    /// The cipher suites to offer: the configured ones, or the portable
    /// defaults, of the enabled versions only.
    pub fn effective_suites(&self) -> Vec<CipherSuite> {
        let versions = self.versions();
        self.cipher_suites
            .as_deref()
            .unwrap_or(crate::defaults::CIPHER_SUITES)
            .iter()
            .copied()
            .filter(|s| versions.contains(&s.version()))
            .collect()
    }

    /// The groups to offer: the configured ones, or the portable defaults
    /// that `supported` accepts. The second value says whether the list came
    /// from the configuration (configured groups a backend lacks are an
    /// error; defaults it lacks are left out).
    pub fn effective_groups(
        &self,
        supported: impl Fn(NamedGroup) -> bool,
    ) -> (Vec<NamedGroup>, bool) {
        match &self.groups {
            Some(g) => (g.clone(), true),
            None => (
                crate::defaults::GROUPS
                    .iter()
                    .copied()
                    .filter(|g| supported(*g))
                    .collect(),
                false,
            ),
        }
    }

    /// The schemes to sign with: the configured ones, or the portable
    /// defaults.
    pub fn effective_signing_schemes(&self) -> &[SignatureScheme] {
        self.signing_schemes
            .as_deref()
            .unwrap_or(crate::defaults::SIGNATURE_SCHEMES)
    }

    /// Checks that `id`'s key can make one of the signing schemes: an
    /// identity that could never sign is a contradiction, not a handshake
    /// that fails later (or, on a client, a certificate silently left out).
    fn check_identity_signs(&self, id: &Identity, whose: &str) -> Result<()> {
        let Some(can) = id.signature_schemes() else {
            // Unreadable: the backend refuses the certificate itself.
            return Ok(());
        };
        let signing = self.effective_signing_schemes();
        if signing.iter().any(|s| can.contains(s)) {
            return Ok(());
        }
        let names = |l: &[SignatureScheme]| {
            l.iter()
                .map(|s| s.iana_name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(Error::config(
            ConfigErrorKind::Contradiction,
            if can.is_empty() {
                format!(
                    "the {whose} identity's key makes none of the signature schemes polytls names"
                )
            } else {
                format!(
                    "the {whose} identity's key can sign only with {}, and signing_schemes allows {}",
                    names(&can),
                    names(signing)
                )
            },
        ))
    }

    /// The schemes to accept from the peer: the configured ones, or the
    /// portable defaults.
    pub fn effective_verify_schemes(&self) -> &[SignatureScheme] {
        self.verify_schemes
            .as_deref()
            .unwrap_or(crate::defaults::SIGNATURE_SCHEMES)
    }

    fn validate(&self) -> Result<()> {
        let contradiction = |m: String| Err(Error::config(ConfigErrorKind::Contradiction, m));
        if self.min_version > self.max_version {
            return contradiction(format!(
                "min_version {} is above max_version {}",
                self.min_version, self.max_version
            ));
        }
        for p in &self.alpn {
            if p.is_empty() || p.len() > 255 {
                return Err(Error::config(
                    ConfigErrorKind::OutOfRange,
                    format!(
                        "ALPN protocol names must be 1 to 255 bytes, got {} bytes",
                        p.len()
                    ),
                ));
            }
        }
        if let Some(suites) = &self.cipher_suites {
            let versions = self.versions();
            for v in versions {
                if !suites.iter().any(|s| s.version() == v) {
                    return contradiction(format!(
                        "no cipher suite configured for enabled version {v}"
                    ));
                }
            }
        }
        if matches!(&self.groups, Some(g) if g.is_empty()) {
            return contradiction("an empty key-exchange group list allows no handshake".into());
        }
        for (what, list) in [
            ("signing", &self.signing_schemes),
            ("verify", &self.verify_schemes),
        ] {
            match list {
                Some(l) if l.is_empty() => {
                    return contradiction(format!(
                        "an empty {what} signature-scheme list allows no handshake"
                    ))
                }
                Some(l) => {
                    if let Some((i, s)) = l.iter().enumerate().find(|(i, s)| l[..*i].contains(s)) {
                        return contradiction(format!(
                            "{what} signature scheme {s} is listed twice (at {i})"
                        ));
                    }
                }
                None => {}
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Common {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Common")
            .field("alpn", &self.alpn)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("cipher_suites", &self.cipher_suites)
            .field("groups", &self.groups)
            .field("signing_schemes", &self.signing_schemes)
            .field("verify_schemes", &self.verify_schemes)
            .field("resumption", &self.resumption)
            .field("key_log", &self.key_log.is_some())
            .finish()
    }
}

/// Client-side configuration. Build one with [`ClientConfig::new`] and adjust
/// the public fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Trust anchors for the server's chain.
    pub roots: Roots,
    /// SPKI pins: when non-empty, some certificate of the server's chain must
    /// match one of them, in addition to normal verification.
    pub pins: Vec<SpkiPin>,
    /// A client certificate, for servers that ask for one.
    pub identity: Option<Identity>,
    /// Send the server name (SNI) when it is a DNS name (default on).
    pub send_sni: bool,
    /// CRLs to check the server's chain against (default none; see
    /// [`Revocation`] for the policy).
    pub revocation: Revocation,
    /// DANGER: accept any server certificate chain (pins are still checked,
    /// handshake signatures still verified).
    pub danger_accept_invalid_certs: bool,
    /// DANGER: accept a chain valid for some other name.
    pub danger_accept_invalid_hostnames: bool,
    /// Server names the context's cache keeps resumption states for, at most
    /// (default 256; 1 to 1,000,000), each with up to 64 states (single-use
    /// TLS 1.3 tickets: up to 64 concurrent handshakes to one server
    /// resume). Only used when `common.resumption` is on.
    pub session_cache_size: usize,
    /// Send early data (0-RTT) when resuming, where the server allows it
    /// (default off). See
    /// [`Session::write_early_data`](crate::Session::write_early_data) for
    /// the replay risk.
    pub early_data: bool,
    /// Versions, suites, groups, ALPN, resumption, key log.
    pub common: Common,
}

impl ClientConfig {
    /// A client that verifies servers against `roots`.
    pub fn new(roots: Roots) -> Self {
        Self {
            roots,
            pins: Vec::new(),
            identity: None,
            revocation: Revocation::default(),
            send_sni: true,
            danger_accept_invalid_certs: false,
            danger_accept_invalid_hostnames: false,
            session_cache_size: 256,
            early_data: false,
            common: Common::default(),
        }
    }

    /// Checks the configuration for contradictions and numbers out of range;
    /// [`Backend::client_context`](crate::Backend::client_context) calls it
    /// before the backend sees the configuration.
    pub fn validate(&self) -> Result<()> {
        self.common.validate()?;
        if self.roots.is_empty() && !self.danger_accept_invalid_certs {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "no trust anchors: give roots (or Roots::platform()) to verify servers",
            ));
        }
        if !self.revocation.is_empty() && self.danger_accept_invalid_certs {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "revocation checking with danger_accept_invalid_certs: nothing would be checked",
            ));
        }
        in_range("session_cache_size", self.session_cache_size, 1, 1_000_000)?;
        if let Some(id) = &self.identity {
            self.common.check_identity_signs(id, "client")?;
        }
        if self.early_data && !self.common.resumption {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "early data needs resumption",
            ));
        }
        Ok(())
    }
}

/// Checks that `name` can name a server: an IP address, or a DNS name in
/// ASCII. Internationalised names must be given as A-labels
/// (`xn--bcher-kva.example`, not `bücher.example`); a U-label is
/// [`Error::InvalidConfig`] on every backend, never a silent conversion.
pub fn check_server_name(name: &str) -> Result<()> {
    rustls_pki_types::ServerName::try_from(name)
        .map(|_| ())
        .map_err(|_| {
            Error::config(
                ConfigErrorKind::ServerName,
                format!(
                    "{name:?} is not a valid DNS name or IP address (IDNs must be given as A-labels)"
                ),
            )
        })
}

/// Server-side configuration: a default identity, optionally more identities
/// chosen by SNI, and client authentication.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The identity used when the client sends no SNI or a name that no entry
    /// of `sni_identities` matches.
    pub identity: Identity,
    /// Identities by SNI host name (exact, case-insensitive match).
    pub sni_identities: Vec<(String, Identity)>,
    /// Whether and how clients are authenticated.
    pub client_auth: ClientAuth,
    /// CRLs to check client certificates against (default none; see
    /// [`Revocation`] for the policy). Needs client authentication.
    pub client_revocation: Revocation,
    /// Resumption settings (used when `common.resumption` is on).
    pub resumption: ServerResumption,
    /// Early data (0-RTT) accepted from resuming clients, in bytes; 0 (the
    /// default) refuses it. See
    /// [`Session::early_data_accepted`](crate::Session::early_data_accepted)
    /// for the replay risk.
    pub max_early_data: u32,
    /// Versions, suites, groups, ALPN, resumption, key log.
    pub common: Common,
}

impl ServerConfig {
    /// A server presenting `identity`.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            sni_identities: Vec::new(),
            client_auth: ClientAuth::None,
            client_revocation: Revocation::default(),
            resumption: ServerResumption::default(),
            max_early_data: 0,
            common: Common::default(),
        }
    }

    /// Checks the configuration for contradictions and numbers out of range;
    /// [`Backend::server_context`](crate::Backend::server_context) calls it
    /// before the backend sees the configuration.
    pub fn validate(&self) -> Result<()> {
        self.common.validate()?;
        for id in self.identities() {
            self.common.check_identity_signs(id, "server")?;
        }
        match &self.client_auth {
            ClientAuth::Optional(r) | ClientAuth::Required(r) if r.is_empty() => {
                return Err(Error::config(
                    ConfigErrorKind::Contradiction,
                    "client authentication needs at least one root",
                ))
            }
            ClientAuth::DangerAcceptAny { .. } if !self.client_revocation.is_empty() => {
                return Err(Error::config(
                    ConfigErrorKind::Contradiction,
                    "client_revocation with ClientAuth::DangerAcceptAny: nothing would be checked",
                ))
            }
            ClientAuth::None if !self.client_revocation.is_empty() => {
                return Err(Error::config(
                    ConfigErrorKind::Contradiction,
                    "client_revocation without client authentication: no client certificate \
                     would be checked",
                ))
            }
            _ => {}
        }
        for (name, _) in &self.sni_identities {
            if check_server_name(name).is_err() || name.parse::<std::net::IpAddr>().is_ok() {
                return Err(Error::config(
                    ConfigErrorKind::ServerName,
                    format!("SNI entry {name:?} is not a DNS name"),
                ));
            }
        }
        in_range(
            "resumption.cache_size",
            self.resumption.cache_size,
            1,
            1_000_000,
        )?;
        if let Some(lifetime) = self.resumption.lifetime {
            if lifetime.subsec_nanos() != 0 {
                return Err(Error::config(
                    ConfigErrorKind::OutOfRange,
                    "resumption.lifetime must be whole seconds",
                ));
            }
            in_range(
                "resumption.lifetime (seconds)",
                lifetime.as_secs(),
                1,
                MAX_TICKET_LIFETIME,
            )?;
        }
        if self.resumption.ticket_keys.is_some()
            && self.resumption.tls12 == Tls12Resumption::SessionIds
        {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "ticket_keys need tickets: with TLS 1.2 session IDs, TLS 1.3 tickets are kept \
                 in the server's cache instead",
            ));
        }
        if self.max_early_data > 0 && !self.common.resumption {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "early data needs resumption",
            ));
        }
        if self.max_early_data > 0 && self.resumption.ticket_keys.is_some() {
            return Err(Error::config(
                ConfigErrorKind::Contradiction,
                "early data needs single-use tickets kept in the server's cache; tickets \
                 under shared keys could be replayed against any server of the fleet",
            ));
        }
        Ok(())
    }

    /// Chooses identities by SNI: index 0 is [`identity`](Self::identity),
    /// index `i + 1` is `sni_identities[i]`. Backends build one certificate
    /// object per identity in that order ([`identities`](Self::identities))
    /// and ask the selector which to present.
    pub fn sni_selector(&self) -> SniSelector {
        SniSelector {
            names: self.sni_identities.iter().map(|(n, _)| n.clone()).collect(),
        }
    }

    /// Every identity, in [`SniSelector`] index order.
    pub fn identities(&self) -> impl Iterator<Item = &Identity> {
        std::iter::once(&self.identity).chain(self.sni_identities.iter().map(|(_, id)| id))
    }
}

/// The one SNI lookup every backend uses: exact, case-insensitive match,
/// else the default identity. See [`ServerConfig::sni_selector`].
#[derive(Debug, Clone)]
pub struct SniSelector {
    names: Vec<String>,
}

impl SniSelector {
    /// The index of the identity to present for `sni`.
    pub fn select(&self, sni: Option<&str>) -> usize {
        sni.and_then(|n| self.names.iter().position(|k| k.eq_ignore_ascii_case(n)))
            .map_or(0, |i| i + 1)
    }

    /// Whether there are identities besides the default.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The longest a ticket may be valid, in seconds: 7 days (RFC 8446 §4.6.1).
pub const MAX_TICKET_LIFETIME: u64 = 7 * 24 * 3600;

fn in_range<T: PartialOrd + fmt::Display + Copy>(key: &str, v: T, lo: T, hi: T) -> Result<()> {
    if v < lo || v > hi {
        return Err(Error::config(
            ConfigErrorKind::OutOfRange,
            format!("{key} is {v}; allowed: {lo} to {hi}"),
        ));
    }
    Ok(())
}

/// How TLS 1.2 clients resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Tls12Resumption {
    /// Session tickets (RFC 5077), with session IDs for clients without
    /// ticket support.
    #[default]
    Tickets,
    /// Session IDs only: the server keeps each session in its cache and
    /// issues no TLS 1.2 tickets
    /// ([`Capability::Tls12SessionIds`](crate::Capability::Tls12SessionIds)).
    SessionIds,
}

/// A server's resumption settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerResumption {
    /// Sessions the server's cache holds, at most (default 20,480; 1 to
    /// 1,000,000).
    pub cache_size: usize,
    /// How long a ticket or cached session can be resumed, in whole seconds,
    /// at most 7 days. `None` (the default) keeps the library's own: 2 hours
    /// on rustls and OpenSSL; on BoringSSL 2 hours for TLS 1.2 and 2 days for
    /// TLS 1.3 tickets. Only rustls can be given another value
    /// ([`Capability::ResumptionLifetime`](crate::Capability::ResumptionLifetime)).
    pub lifetime: Option<Duration>,
    /// Tickets or session IDs on TLS 1.2 (TLS 1.3 always uses tickets).
    pub tls12: Tls12Resumption,
    /// Ticket keys shared with other contexts or processes (see
    /// [`TicketKeys`]); `None` (the default) gives each context random keys
    /// of its own, so its tickets resume only on it.
    pub ticket_keys: Option<TicketKeys>,
}

impl Default for ServerResumption {
    fn default() -> Self {
        Self {
            cache_size: 20_480,
            lifetime: None,
            tls12: Tls12Resumption::Tickets,
            ticket_keys: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_validation() {
        let mut c = ClientConfig::new(Roots::default());
        assert!(
            matches!(c.validate(), Err(Error::InvalidConfig(m)) if m.message().contains("trust anchors"))
        );
        c.danger_accept_invalid_certs = true;
        assert!(c.validate().is_ok());
        c.common.min_version = ProtocolVersion::Tls13;
        c.common.max_version = ProtocolVersion::Tls12;
        assert!(
            matches!(c.validate(), Err(Error::InvalidConfig(m)) if m.message().contains("min_version"))
        );
        c.common.max_version = ProtocolVersion::Tls13;
        c.common.alpn = vec![vec![]];
        assert!(
            matches!(c.validate(), Err(Error::InvalidConfig(m)) if m.message().contains("ALPN"))
        );
        c.common.alpn = vec![b"h2".to_vec()];
        c.common.cipher_suites = Some(vec![CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]);
        assert!(
            matches!(c.validate(), Err(Error::InvalidConfig(m)) if m.message().contains("TLSv1.3"))
        );
    }

    #[test]
    fn platform_roots_load() {
        // `cargo xtask test` installs Debian's ca-certificates.
        let roots = Roots::platform().expect("the platform trust store");
        assert!(roots.certs().len() > 10, "{roots:?}");
    }

    #[test]
    fn server_names() {
        assert!(check_server_name("localhost").is_ok());
        assert!(check_server_name("xn--bcher-kva.example").is_ok());
        assert!(check_server_name("127.0.0.1").is_ok());
        assert!(check_server_name("::1").is_ok());
        assert!(matches!(
            check_server_name("bücher.example"),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            check_server_name(""),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            check_server_name("a b"),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn versions_and_suites_filter() {
        let mut c = Common::default();
        assert_eq!(
            c.versions(),
            vec![ProtocolVersion::Tls12, ProtocolVersion::Tls13]
        );
        c.min_version = ProtocolVersion::Tls13;
        c.cipher_suites = Some(vec![
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS_AES_256_GCM_SHA384,
        ]);
        assert_eq!(
            c.suites_for_enabled_versions(),
            Some(vec![CipherSuite::TLS_AES_256_GCM_SHA384])
        );
    }
}
