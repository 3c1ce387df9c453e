//! # polytls-boring — the BoringSSL backend
//!
//! Implements the polytls [`Backend`] on BoringSSL through Cloudflare's
//! `boring` crate (BoringSSL is built from source): a driver
//! ([`BoringDriver`], an `SSL` over polytls' in-memory transport) for the
//! OpenSSL-family session that `polytls-ossl-common` writes once, plus the
//! context code. `WANT_READ` becomes "needs input": a sans-IO session, no
//! sockets.
//!
//! Client authentication uses the classic verify modes:
//! `ClientAuth::None` = `VERIFY_NONE`, `Optional` = `VERIFY_PEER`,
//! `Required` = `VERIFY_PEER | FAIL_IF_NO_PEER_CERT`. BoringSSL never
//! renegotiates as a server, and answers a client's attempt with a fatal
//! `no_renegotiation` alert.
//!
//! Clients resume: sessions are kept as DER per context and server name and
//! attached with `SSL_set_session`. BoringSSL ignores TLS 1.3 tickets that
//! arrive after the client sent close_notify, so a client that half-closes
//! before reading the reply does not resume next time (the other backends
//! keep such tickets). Servers take rotating
//! [`TicketKeys`](polytls_api::TicketKeys) through the ticket-key callback —
//! with the session attach, the only `unsafe` in this crate, in one audited
//! module. Not supported: restricting TLS 1.3 cipher
//! suites (BoringSSL fixes them), X448, another resumption lifetime, early
//! data.

#![deny(unsafe_code)]

mod context;
mod driver;
mod error;
#[allow(
    unsafe_code,
    reason = "the audited module: session attach and ticket-key callback"
)]
mod ffi;

use boring::ssl::{Ssl, SslContext};
use polytls_api::driver::{ClientDriver, Offer, ServerDriver, SessionBlob, Valid};
use polytls_api::{
    Backend, Capability, ClientConfig, Error, MisuseKind, ProtocolVersion, Result, ServerConfig,
};
use polytls_ossl_common::resume::Slot;
use polytls_ossl_common::OsslSession;

pub use driver::BoringDriver;

pub(crate) const NAME: &str = "boring";

/// The BoringSSL backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Boring;

impl Backend for Boring {
    type ClientDriver = BoringClientContext;
    type ServerDriver = BoringServerContext;

    fn name(&self) -> &'static str {
        NAME
    }

    fn library_version(&self) -> String {
        // BoringSSL has no release numbers: its API version is what names
        // the source it was built from (`version()` only says "BoringSSL").
        format!(
            "{} (API version {})",
            boring::version::version(),
            boring_sys::BORINGSSL_API_VERSION
        )
    }

    fn supports(&self, capability: Capability) -> bool {
        let probe = context::probe();
        match capability {
            Capability::Group(g) => probe.group(g),
            Capability::CipherSuite(s) if s.version() == ProtocolVersion::Tls13 => {
                probe.tls13_suites()
            }
            Capability::ResumptionLifetime
            | Capability::ClientEarlyData
            | Capability::ServerEarlyData => false,
            _ => true,
        }
    }

    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<BoringClientContext> {
        let (ctx, settings) = context::client_context(&config)?;
        Ok(BoringClientContext { ctx, settings })
    }

    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<BoringServerContext> {
        Ok(BoringServerContext {
            ctx: context::server_context(&config)?,
        })
    }
}

/// A BoringSSL client `SSL_CTX` and its resumption cache.
#[derive(Clone)]
pub struct BoringClientContext {
    ctx: SslContext,
    settings: context::ClientSettings,
}

impl BoringClientContext {
    /// The BoringSSL `SSL_CTX` underneath (outside the portable guarantee).
    pub fn ssl_context(&self) -> &SslContext {
        &self.ctx
    }
}

impl std::fmt::Debug for BoringClientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoringClientContext")
            .finish_non_exhaustive()
    }
}

impl ClientDriver for BoringClientContext {
    type Session = OsslSession<BoringDriver>;

    fn connect(&self, server_name: &str, offer: Offer) -> Result<Self::Session> {
        let slot = self
            .settings
            .cache
            .as_ref()
            .map(|cache| Slot::new(cache.clone(), server_name));
        let der = match offer {
            Offer::Cache => slot.as_ref().and_then(|s| s.from_cache()),
            Offer::Nothing => None,
            Offer::State(SessionBlob::Der(der)) if slot.is_some() => Some(der),
            Offer::State(_) => {
                return Err(Error::misuse(
                    MisuseKind::ForeignResumption,
                    "resumption state this context cannot offer",
                ))
            }
        };
        let mut ssl = context::client_ssl(&self.ctx, &self.settings, server_name, slot.as_ref())?;
        if let Some(der) = der {
            ffi::attach_session(&mut ssl, &der)?;
        }
        OsslSession::client(BoringDriver::new(ssl, false), slot)
    }

    fn exports_resumption(&self) -> bool {
        true
    }
}

/// A BoringSSL server `SSL_CTX`: holds the ticket keys and session cache.
#[derive(Clone)]
pub struct BoringServerContext {
    ctx: SslContext,
}

impl BoringServerContext {
    /// The BoringSSL `SSL_CTX` underneath (outside the portable guarantee).
    pub fn ssl_context(&self) -> &SslContext {
        &self.ctx
    }
}

impl std::fmt::Debug for BoringServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoringServerContext")
            .finish_non_exhaustive()
    }
}

impl ServerDriver for BoringServerContext {
    type Session = OsslSession<BoringDriver>;

    fn accept(&self) -> Result<Self::Session> {
        let ssl = Ssl::new(&self.ctx).map_err(|e| Error::other(format!("{NAME}: SSL_new"), e))?;
        Ok(OsslSession::server(BoringDriver::new(ssl, true), false))
    }
}
