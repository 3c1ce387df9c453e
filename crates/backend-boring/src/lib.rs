//! # polytls-boring — the BoringSSL backend
//!
//! Implements the polytls [`Backend`] on BoringSSL through Cloudflare's
//! `boring` crate (BoringSSL is built from source). Line for line parallel to
//! `polytls-openssl`: each [`BoringSession`] runs an `SSL` over an in-memory
//! stream ([`MemIo`](polytls_api::memio::MemIo)) whose reads return
//! `WouldBlock` when empty, so `WANT_READ` becomes "needs input": a sans-IO
//! session, no sockets, no `unsafe`.
//!
//! Client authentication uses the classic verify modes:
//! `ClientAuth::None` = `VERIFY_NONE`, `Optional` = `VERIFY_PEER`,
//! `Required` = `VERIFY_PEER | FAIL_IF_NO_PEER_CERT`. BoringSSL never
//! renegotiates as a server, and its clients refuse by default.
//!
//! Not supported: client-side resumption
//! ([`Capability::ClientResumption`]) — it needs `SSL_set_session`, which the
//! `boring` crate exposes only as `unsafe`, and polytls forbids unsafe code;
//! restricting TLS 1.3 cipher suites (BoringSSL fixes them); X448.

#![forbid(unsafe_code)]

mod context;
mod error;
mod session;

use boring::ssl::{Ssl, SslContext};
use polytls_api::{Backend, Capability, ClientConfig, Error, NamedGroup, Result, ServerConfig};

pub use session::BoringSession;

pub(crate) const NAME: &str = "boring";

/// The BoringSSL backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Boring;

impl Backend for Boring {
    type ClientContext = BoringClientContext;
    type ServerContext = BoringServerContext;

    fn name(&self) -> &'static str {
        NAME
    }

    fn library_version(&self) -> String {
        boring::version::version().to_owned()
    }

    fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::Group(g) => g != NamedGroup::X448,
            Capability::CipherSuite(s) => s.version() != polytls_api::ProtocolVersion::Tls13,
            Capability::ClientResumption => false,
            _ => true,
        }
    }

    fn client_context(&self, config: &ClientConfig) -> Result<BoringClientContext> {
        let (ctx, settings) = context::client_context(config)?;
        Ok(BoringClientContext { ctx, settings })
    }

    fn server_context(&self, config: &ServerConfig) -> Result<BoringServerContext> {
        Ok(BoringServerContext {
            ctx: context::server_context(config)?,
        })
    }
}

/// A BoringSSL client `SSL_CTX`.
#[derive(Clone)]
pub struct BoringClientContext {
    ctx: SslContext,
    settings: context::ClientSettings,
}

impl std::fmt::Debug for BoringClientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoringClientContext")
            .finish_non_exhaustive()
    }
}

impl polytls_api::ClientContext for BoringClientContext {
    type Session = BoringSession;

    fn connect(&self, server_name: &str) -> Result<BoringSession> {
        let ssl = context::client_ssl(&self.ctx, &self.settings, server_name)?;
        let mut session = BoringSession::new(ssl, false)?;
        // Produce the ClientHello now, so it is ready to be written.
        polytls_api::Session::process_new_packets(&mut session)?;
        Ok(session)
    }
}

/// A BoringSSL server `SSL_CTX`: holds the ticket keys and session cache.
#[derive(Clone)]
pub struct BoringServerContext {
    ctx: SslContext,
}

impl std::fmt::Debug for BoringServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoringServerContext")
            .finish_non_exhaustive()
    }
}

impl polytls_api::ServerContext for BoringServerContext {
    type Session = BoringSession;

    fn accept(&self) -> Result<BoringSession> {
        let ssl = Ssl::new(&self.ctx).map_err(|e| Error::other("boring: SSL_new", e))?;
        BoringSession::new(ssl, true)
    }
}
