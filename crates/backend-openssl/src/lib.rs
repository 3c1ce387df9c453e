//! # polytls-openssl — the OpenSSL backend
//!
//! Implements the polytls [`Backend`] on the system OpenSSL (3.x) through the
//! `openssl` crate: a driver ([`OpenSslDriver`], an `SSL` over polytls'
//! in-memory transport) for the OpenSSL-family session that
//! `polytls-ossl-common` writes once, plus the context code. `WANT_READ`
//! becomes "needs input" and all output is collected for the caller: a
//! sans-IO session, no sockets.
//!
//! Client authentication uses OpenSSL's classic verify modes:
//! `ClientAuth::None` = `VERIFY_NONE`, `Optional` = `VERIFY_PEER`,
//! `Required` = `VERIFY_PEER | FAIL_IF_NO_PEER_CERT`. Renegotiation is
//! refused (`SSL_OP_NO_RENEGOTIATION`).
//!
//! Clients resume: sessions are kept as DER per context and server name and
//! attached with `SSL_set_session` — with the ticket key, the only `unsafe`
//! in this crate, in one audited module. Resumption state can be saved as
//! bytes ([`Capability::ResumptionExport`]). Ticket keys: one key
//! (rotation, [`Capability::TicketKeyRotation`], needs a callback the
//! bindings lack); the resumption lifetime stays OpenSSL's 2 hours.
//!
//! Early data: servers accept it (`SSL_read_early_data`, with OpenSSL's
//! anti-replay cache); clients cannot send it
//! ([`Capability::ClientEarlyData`]): neither the `openssl` crate nor
//! `openssl-sys` binds `SSL_get_early_data_status`, so a client could not
//! tell whether the server took its early data, and rejected data would be
//! lost or sent twice.

#![deny(unsafe_code)]

mod context;
mod driver;
mod error;
#[allow(
    unsafe_code,
    reason = "the audited module: session attach and ticket key"
)]
mod ffi;

use openssl::ssl::{Ssl, SslContext, SslStream};
use polytls_api::driver::{ClientDriver, Offer, ServerDriver, SessionBlob, Valid};
use polytls_api::memio::MemIo;
use polytls_api::{
    Backend, Capability, ClientConfig, Error, MisuseKind, ProtocolVersion, Result, ServerConfig,
};
use polytls_ossl_common::resume::Slot;
use polytls_ossl_common::OsslSession;

pub use driver::OpenSslDriver;

pub(crate) const NAME: &str = "openssl";

/// The OpenSSL backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenSsl;

impl Backend for OpenSsl {
    type ClientDriver = OpenSslClientContext;
    type ServerDriver = OpenSslServerContext;

    fn name(&self) -> &'static str {
        NAME
    }

    fn library_version(&self) -> String {
        openssl::version::version().to_owned()
    }

    fn supports(&self, capability: Capability) -> bool {
        let probe = context::probe();
        match capability {
            Capability::Group(g) => probe.group(g),
            Capability::CipherSuite(s) if s.version() == ProtocolVersion::Tls13 => {
                probe.tls13_suites()
            }
            Capability::TicketKeyRotation
            | Capability::ResumptionLifetime
            | Capability::ClientEarlyData => false,
            _ => true,
        }
    }

    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<OpenSslClientContext> {
        let (ctx, settings) = context::client_context(&config)?;
        Ok(OpenSslClientContext { ctx, settings })
    }

    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<OpenSslServerContext> {
        Ok(OpenSslServerContext {
            ctx: context::server_context(&config)?,
            early_data: config.max_early_data > 0,
        })
    }
}

/// An OpenSSL client `SSL_CTX` and its resumption cache.
#[derive(Clone)]
pub struct OpenSslClientContext {
    ctx: SslContext,
    settings: context::ClientSettings,
}

impl OpenSslClientContext {
    /// The OpenSSL `SSL_CTX` underneath (outside the portable guarantee).
    pub fn ssl_context(&self) -> &SslContext {
        &self.ctx
    }
}

impl std::fmt::Debug for OpenSslClientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSslClientContext")
            .finish_non_exhaustive()
    }
}

fn stream(ssl: Ssl) -> Result<OpenSslDriver> {
    let stream = SslStream::new(ssl, MemIo::new())
        .map_err(|e| Error::other(format!("{NAME}: cannot create a session"), e))?;
    Ok(OpenSslDriver { stream })
}

impl ClientDriver for OpenSslClientContext {
    type Session = OsslSession<OpenSslDriver>;

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
        OsslSession::client(stream(ssl)?, slot)
    }

    fn exports_resumption(&self) -> bool {
        true
    }
}

/// An OpenSSL server `SSL_CTX`: holds the ticket key and session cache.
#[derive(Clone)]
pub struct OpenSslServerContext {
    ctx: SslContext,
    early_data: bool,
}

impl OpenSslServerContext {
    /// The OpenSSL `SSL_CTX` underneath (outside the portable guarantee).
    pub fn ssl_context(&self) -> &SslContext {
        &self.ctx
    }
}

impl std::fmt::Debug for OpenSslServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSslServerContext")
            .finish_non_exhaustive()
    }
}

impl ServerDriver for OpenSslServerContext {
    type Session = OsslSession<OpenSslDriver>;

    fn accept(&self) -> Result<Self::Session> {
        let mut ssl =
            Ssl::new(&self.ctx).map_err(|e| Error::other(format!("{NAME}: SSL_new"), e))?;
        ssl.set_accept_state();
        Ok(OsslSession::server(stream(ssl)?, self.early_data))
    }
}
