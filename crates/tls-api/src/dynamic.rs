//! Run-time backend choice: [`DynBackend`] erases the backend type and itself
//! implements [`Backend`], so generic code works through it unchanged. Its
//! contexts are `ClientContext<DynClientDriver>` and
//! `ServerContext<DynServerDriver>`, its sessions
//! `Session<Box<dyn SessionDriver>>`.

use std::fmt;
use std::sync::Arc;

use crate::backend::{Backend, Capability};
use crate::config::{ClientConfig, ServerConfig};
use crate::driver::{ClientDriver, Offer, ServerDriver, SessionDriver, Valid};
use crate::Result;

trait ErasedBackend: Send + Sync {
    fn name(&self) -> &'static str;
    fn library_version(&self) -> String;
    fn supports(&self, capability: Capability) -> bool;
    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<DynClientDriver>;
    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<DynServerDriver>;
}

impl<B: Backend> ErasedBackend for B {
    fn name(&self) -> &'static str {
        Backend::name(self)
    }
    fn library_version(&self) -> String {
        Backend::library_version(self)
    }
    fn supports(&self, capability: Capability) -> bool {
        Backend::supports(self, capability)
    }
    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<DynClientDriver> {
        Ok(DynClientDriver(Arc::new(Backend::build_client(
            self, config,
        )?)))
    }
    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<DynServerDriver> {
        Ok(DynServerDriver(Arc::new(Backend::build_server(
            self, config,
        )?)))
    }
}

/// A backend chosen at run time.
#[derive(Clone)]
pub struct DynBackend(Arc<dyn ErasedBackend>);

impl DynBackend {
    /// Erases `backend`.
    pub fn new<B: Backend>(backend: B) -> Self {
        Self(Arc::new(backend))
    }
}

impl fmt::Debug for DynBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynBackend({})", self.0.name())
    }
}

impl Backend for DynBackend {
    type ClientDriver = DynClientDriver;
    type ServerDriver = DynServerDriver;

    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn library_version(&self) -> String {
        self.0.library_version()
    }
    fn supports(&self, capability: Capability) -> bool {
        self.0.supports(capability)
    }
    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<DynClientDriver> {
        self.0.build_client(config)
    }
    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<DynServerDriver> {
        self.0.build_server(config)
    }
}

trait ErasedClientDriver: Send + Sync {
    fn connect(&self, server_name: &str, offer: Offer) -> Result<Box<dyn SessionDriver>>;
    fn exports_resumption(&self) -> bool;
}

impl<C: ClientDriver> ErasedClientDriver for C {
    fn connect(&self, server_name: &str, offer: Offer) -> Result<Box<dyn SessionDriver>> {
        Ok(Box::new(ClientDriver::connect(self, server_name, offer)?))
    }
    fn exports_resumption(&self) -> bool {
        ClientDriver::exports_resumption(self)
    }
}

/// The client context of a backend chosen at run time.
#[derive(Clone)]
pub struct DynClientDriver(Arc<dyn ErasedClientDriver>);

impl fmt::Debug for DynClientDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynClientDriver")
    }
}

impl ClientDriver for DynClientDriver {
    type Session = Box<dyn SessionDriver>;
    fn connect(&self, server_name: &str, offer: Offer) -> Result<Box<dyn SessionDriver>> {
        self.0.connect(server_name, offer)
    }
    fn exports_resumption(&self) -> bool {
        self.0.exports_resumption()
    }
}

trait ErasedServerDriver: Send + Sync {
    fn accept(&self) -> Result<Box<dyn SessionDriver>>;
}

impl<S: ServerDriver> ErasedServerDriver for S {
    fn accept(&self) -> Result<Box<dyn SessionDriver>> {
        Ok(Box::new(ServerDriver::accept(self)?))
    }
}

/// The server context of a backend chosen at run time.
#[derive(Clone)]
pub struct DynServerDriver(Arc<dyn ErasedServerDriver>);

impl fmt::Debug for DynServerDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynServerDriver")
    }
}

impl ServerDriver for DynServerDriver {
    type Session = Box<dyn SessionDriver>;
    fn accept(&self) -> Result<Box<dyn SessionDriver>> {
        self.0.accept()
    }
}

/// A client context of a backend chosen at run time (what
/// [`DynBackend::client_context`](crate::Backend::client_context) returns).
pub type DynClientContext = crate::ClientContext<DynClientDriver>;

/// A server context of a backend chosen at run time (what
/// [`DynBackend::server_context`](crate::Backend::server_context) returns).
pub type DynServerContext = crate::ServerContext<DynServerDriver>;

/// A session of a backend chosen at run time.
pub type DynSession = crate::Session<Box<dyn crate::driver::SessionDriver>>;
