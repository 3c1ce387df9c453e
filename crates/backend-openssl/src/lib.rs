//! # polytls-openssl — the OpenSSL backend
//!
//! Implements the polytls [`Backend`] on the system OpenSSL (3.x) through the
//! `openssl` crate. OpenSSL wants a stream; each [`OpenSslSession`] gives it
//! an in-memory one ([`MemIo`](polytls_api::memio::MemIo)) whose reads return
//! `WouldBlock` when empty, so `WANT_READ` becomes "needs input" and all
//! output is collected for the caller: a sans-IO session, no sockets, no
//! `unsafe`.
//!
//! Client authentication uses OpenSSL's classic verify modes:
//! `ClientAuth::None` = `VERIFY_NONE`, `Optional` = `VERIFY_PEER`,
//! `Required` = `VERIFY_PEER | FAIL_IF_NO_PEER_CERT`. Renegotiation is
//! refused (`SSL_OP_NO_RENEGOTIATION`).
//!
//! Not supported: client-side resumption
//! ([`Capability::ClientResumption`]) — it needs `SSL_set_session`, which the
//! `openssl` crate exposes only as `unsafe` (rust-openssl issue #1041), and
//! polytls forbids unsafe code. Servers resume sessions normally.

#![forbid(unsafe_code)]

mod context;
mod error;
mod session;

use openssl::ssl::{Ssl, SslContext};
use polytls_api::{Backend, Capability, ClientConfig, Error, NamedGroup, Result, ServerConfig};

pub use session::OpenSslSession;

pub(crate) const NAME: &str = "openssl";

/// The OpenSSL backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenSsl;

impl Backend for OpenSsl {
    type ClientContext = OpenSslClientContext;
    type ServerContext = OpenSslServerContext;

    fn name(&self) -> &'static str {
        NAME
    }

    fn library_version(&self) -> String {
        openssl::version::version().to_owned()
    }

    fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::Group(g) => g != NamedGroup::X25519MLKEM768,
            Capability::ClientResumption => false,
            _ => true,
        }
    }

    fn client_context(&self, config: &ClientConfig) -> Result<OpenSslClientContext> {
        let (ctx, settings) = context::client_context(config)?;
        Ok(OpenSslClientContext { ctx, settings })
    }

    fn server_context(&self, config: &ServerConfig) -> Result<OpenSslServerContext> {
        Ok(OpenSslServerContext {
            ctx: context::server_context(config)?,
        })
    }
}

/// An OpenSSL client `SSL_CTX`.
#[derive(Clone)]
pub struct OpenSslClientContext {
    ctx: SslContext,
    settings: context::ClientSettings,
}

impl std::fmt::Debug for OpenSslClientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSslClientContext")
            .finish_non_exhaustive()
    }
}

impl polytls_api::ClientContext for OpenSslClientContext {
    type Session = OpenSslSession;

    fn connect(&self, server_name: &str) -> Result<OpenSslSession> {
        let ssl = context::client_ssl(&self.ctx, &self.settings, server_name)?;
        let mut session = OpenSslSession::new(ssl, false)?;
        // Produce the ClientHello now, so it is ready to be written.
        polytls_api::Session::process_new_packets(&mut session)?;
        Ok(session)
    }
}

/// An OpenSSL server `SSL_CTX`: holds the ticket keys and session cache.
#[derive(Clone)]
pub struct OpenSslServerContext {
    ctx: SslContext,
}

impl std::fmt::Debug for OpenSslServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSslServerContext")
            .finish_non_exhaustive()
    }
}

impl polytls_api::ServerContext for OpenSslServerContext {
    type Session = OpenSslSession;

    fn accept(&self) -> Result<OpenSslSession> {
        let mut ssl = Ssl::new(&self.ctx).map_err(|e| Error::other("openssl: SSL_new", e))?;
        ssl.set_accept_state();
        OpenSslSession::new(ssl, true)
    }
}
