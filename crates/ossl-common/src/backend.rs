//! The OpenSSL-family [`Backend`], written once over one library's
//! [`Binding`]: the backend value, its client and server contexts, and how a
//! connection starts (the resumption offer, the session slot).

use std::marker::PhantomData;
use std::sync::Arc;

use polytls_api::driver::{ClientDriver, Offer, ServerDriver, SessionBlob, Valid};
use polytls_api::{Backend, Capability, ClientConfig, Error, MisuseKind, Result, ServerConfig};

use crate::context::{self, ClientSettings, ContextDriver, Target};
use crate::resume::Slot;
use crate::{OsslSession, SslDriver};

/// One OpenSSL-API library: its context calls ([`ContextDriver`]) and how
/// its connections start.
pub trait Binding: ContextDriver {
    /// One connection, as the shared session drives it.
    type Driver: SslDriver;

    /// The library's name and version, as `Backend::library_version` gives
    /// it.
    fn library_version() -> String;

    /// A client connection on `ctx`: the SNI and name check of `target`,
    /// the `slot` its new sessions go to, and `session` attached for
    /// resumption (the audited module). Implementor API: polytls calls it
    /// from [`OsslClientContext`]'s `connect`, with DER this context made or
    /// that `polytls-api` checked belongs to it; other bytes are sound but
    /// offer a session the server will not resume.
    fn client(
        ctx: &Self::Context,
        target: Target<'_>,
        slot: Option<Arc<Slot>>,
        session: Option<&[u8]>,
    ) -> Result<Self::Driver>;

    /// A server connection on `ctx`.
    fn server(ctx: &Self::Context) -> Result<Self::Driver>;
}

/// The backend over library `L`. A library crate names it
/// (`pub type OpenSsl = OsslBackend<…>`) and offers a value of it.
pub struct OsslBackend<L>(PhantomData<fn() -> L>);

impl<L> OsslBackend<L> {
    /// The backend (it holds nothing).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<L> Default for OsslBackend<L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L> Clone for OsslBackend<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for OsslBackend<L> {}

impl<L: ContextDriver> std::fmt::Debug for OsslBackend<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OsslBackend({})", L::NAME)
    }
}

impl<L: Binding> Backend for OsslBackend<L> {
    type ClientDriver = OsslClientContext<L>;
    type ServerDriver = OsslServerContext<L>;

    fn name(&self) -> &'static str {
        L::NAME
    }

    fn library_version(&self) -> String {
        L::library_version()
    }

    fn supports(&self, capability: Capability) -> bool {
        context::supports::<L>(capability)
    }

    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<OsslClientContext<L>> {
        let (ctx, settings) = context::client_context::<L>(&config)?;
        Ok(OsslClientContext { ctx, settings })
    }

    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<OsslServerContext<L>> {
        Ok(OsslServerContext {
            ctx: context::server_context::<L>(&config)?,
            early_data: config.max_early_data > 0,
        })
    }
}

/// A client context (`SSL_CTX`) and its resumption cache.
pub struct OsslClientContext<L: Binding> {
    ctx: L::Context,
    settings: ClientSettings,
}

impl<L: Binding> OsslClientContext<L> {
    /// The library's context underneath (outside the portable guarantee).
    pub fn ssl_context(&self) -> &L::Context {
        &self.ctx
    }
}

impl<L: Binding> Clone for OsslClientContext<L> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<L: Binding> std::fmt::Debug for OsslClientContext<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsslClientContext")
            .field("backend", &L::NAME)
            .finish_non_exhaustive()
    }
}

impl<L: Binding> ClientDriver for OsslClientContext<L> {
    type Session = OsslSession<L::Driver>;

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
        let target = self.settings.target(server_name);
        let driver = L::client(&self.ctx, target, slot.clone(), der.as_deref())?;
        OsslSession::client(driver, slot)
    }

    fn exports_resumption(&self) -> bool {
        true
    }
}

/// A server context (`SSL_CTX`): holds the ticket keys and session cache.
pub struct OsslServerContext<L: Binding> {
    ctx: L::Context,
    early_data: bool,
}

impl<L: Binding> OsslServerContext<L> {
    /// The library's context underneath (outside the portable guarantee).
    pub fn ssl_context(&self) -> &L::Context {
        &self.ctx
    }
}

impl<L: Binding> Clone for OsslServerContext<L> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            early_data: self.early_data,
        }
    }
}

impl<L: Binding> std::fmt::Debug for OsslServerContext<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsslServerContext")
            .field("backend", &L::NAME)
            .finish_non_exhaustive()
    }
}

impl<L: Binding> ServerDriver for OsslServerContext<L> {
    type Session = OsslSession<L::Driver>;

    fn accept(&self) -> Result<Self::Session> {
        Ok(OsslSession::server(L::server(&self.ctx)?, self.early_data))
    }
}
