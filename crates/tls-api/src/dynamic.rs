//! Run-time backend choice: [`DynBackend`] erases the backend type and itself
//! implements [`Backend`], so generic code works through it unchanged. Its
//! sessions are `Box<dyn Session>`.

use std::fmt;
use std::sync::Arc;

use crate::backend::{Backend, Capability, ClientContext, ServerContext};
use crate::config::{ClientConfig, ServerConfig};
use crate::session::Session;
use crate::Result;

trait ErasedBackend: Send + Sync {
    fn name(&self) -> &'static str;
    fn library_version(&self) -> String;
    fn supports(&self, capability: Capability) -> bool;
    fn client_context(&self, config: &ClientConfig) -> Result<DynClientContext>;
    fn server_context(&self, config: &ServerConfig) -> Result<DynServerContext>;
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
    fn client_context(&self, config: &ClientConfig) -> Result<DynClientContext> {
        Ok(DynClientContext::new(Backend::client_context(
            self, config,
        )?))
    }
    fn server_context(&self, config: &ServerConfig) -> Result<DynServerContext> {
        Ok(DynServerContext::new(Backend::server_context(
            self, config,
        )?))
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
    type ClientContext = DynClientContext;
    type ServerContext = DynServerContext;

    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn library_version(&self) -> String {
        self.0.library_version()
    }
    fn supports(&self, capability: Capability) -> bool {
        self.0.supports(capability)
    }
    fn client_context(&self, config: &ClientConfig) -> Result<DynClientContext> {
        self.0.client_context(config)
    }
    fn server_context(&self, config: &ServerConfig) -> Result<DynServerContext> {
        self.0.server_context(config)
    }
}

trait ErasedClientContext: Send + Sync {
    fn connect(&self, server_name: &str) -> Result<Box<dyn Session>>;
}

impl<C: ClientContext> ErasedClientContext for C {
    fn connect(&self, server_name: &str) -> Result<Box<dyn Session>> {
        Ok(Box::new(ClientContext::connect(self, server_name)?))
    }
}

/// A client context of a backend chosen at run time; cheap to clone.
#[derive(Clone)]
pub struct DynClientContext(Arc<dyn ErasedClientContext>);

impl DynClientContext {
    /// Erases `context`.
    pub fn new<C: ClientContext>(context: C) -> Self {
        Self(Arc::new(context))
    }
}

impl fmt::Debug for DynClientContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynClientContext")
    }
}

impl ClientContext for DynClientContext {
    type Session = Box<dyn Session>;
    fn connect(&self, server_name: &str) -> Result<Box<dyn Session>> {
        self.0.connect(server_name)
    }
}

trait ErasedServerContext: Send + Sync {
    fn accept(&self) -> Result<Box<dyn Session>>;
}

impl<C: ServerContext> ErasedServerContext for C {
    fn accept(&self) -> Result<Box<dyn Session>> {
        Ok(Box::new(ServerContext::accept(self)?))
    }
}

/// A server context of a backend chosen at run time; cheap to clone.
#[derive(Clone)]
pub struct DynServerContext(Arc<dyn ErasedServerContext>);

impl DynServerContext {
    /// Erases `context`.
    pub fn new<C: ServerContext>(context: C) -> Self {
        Self(Arc::new(context))
    }
}

impl fmt::Debug for DynServerContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynServerContext")
    }
}

impl ServerContext for DynServerContext {
    type Session = Box<dyn Session>;
    fn accept(&self) -> Result<Box<dyn Session>> {
        self.0.accept()
    }
}
