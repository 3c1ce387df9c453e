//! The backend traits: a [`Backend`] builds shareable contexts from the
//! portable configuration; a context makes one [`Session`] per connection.

use crate::config::{ClientConfig, ServerConfig};
use crate::params::{CipherSuite, NamedGroup, ProtocolVersion};
use crate::session::Session;
use crate::Result;

/// Something a backend may or may not be able to do. Ask with
/// [`Backend::supports`] before relying on it; asking for it anyway gives
/// [`Error::Unsupported`](crate::Error::Unsupported) or
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// A protocol version.
    Version(ProtocolVersion),
    /// A cipher suite.
    CipherSuite(CipherSuite),
    /// A key-exchange group.
    Group(NamedGroup),
    /// Ed25519 certificates and signatures.
    Ed25519,
    /// RSA keys of 4096 bits.
    Rsa4096,
    /// Session resumption as a server (tickets, session cache).
    Resumption,
    /// Session resumption as a client (a per-context ticket cache). Where
    /// this is missing, a client with `resumption` on makes full handshakes,
    /// and `SessionInfo::resumed` says so.
    ClientResumption,
    /// Keying material exporters.
    KeyingMaterialExport,
    /// Key logging.
    KeyLog,
    /// Choosing the server identity by SNI.
    SniIdentities,
    /// Client certificates.
    ClientAuth,
    /// SPKI pins.
    Pinning,
}

/// A TLS implementation.
pub trait Backend: Send + Sync + 'static {
    /// Shareable client-side context.
    type ClientContext: ClientContext;
    /// Shareable server-side context.
    type ServerContext: ServerContext;

    /// The backend's short name: `"rustls"`, `"openssl"`, `"boring"`.
    fn name(&self) -> &'static str;

    /// The underlying library and its version, e.g. `"OpenSSL 3.0.13"`.
    fn library_version(&self) -> String;

    /// Whether the backend can do `capability`.
    fn supports(&self, capability: Capability) -> bool;

    /// Builds a client context (≈ `SSL_CTX`); expensive, share it.
    fn client_context(&self, config: &ClientConfig) -> Result<Self::ClientContext>;

    /// Builds a server context; expensive, share it.
    fn server_context(&self, config: &ServerConfig) -> Result<Self::ServerContext>;
}

/// Makes client sessions; holds the client's resumption cache.
pub trait ClientContext: Send + Sync + 'static {
    /// The session type.
    type Session: Session + 'static;

    /// Starts a session to `server_name` (a DNS name or an IP address), used
    /// for SNI and for verifying the server's certificate. The ClientHello is
    /// ready to be written at once.
    fn connect(&self, server_name: &str) -> Result<Self::Session>;
}

/// Makes server sessions; holds the ticket keys and the session cache.
pub trait ServerContext: Send + Sync + 'static {
    /// The session type.
    type Session: Session + 'static;

    /// Starts a session waiting for a ClientHello.
    fn accept(&self) -> Result<Self::Session>;
}

impl<B: Backend + ?Sized> Backend for std::sync::Arc<B> {
    type ClientContext = B::ClientContext;
    type ServerContext = B::ServerContext;
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn library_version(&self) -> String {
        (**self).library_version()
    }
    fn supports(&self, capability: Capability) -> bool {
        (**self).supports(capability)
    }
    fn client_context(&self, config: &ClientConfig) -> Result<Self::ClientContext> {
        (**self).client_context(config)
    }
    fn server_context(&self, config: &ServerConfig) -> Result<Self::ServerContext> {
        (**self).server_context(config)
    }
}

impl<C: ClientContext + ?Sized> ClientContext for std::sync::Arc<C> {
    type Session = C::Session;
    fn connect(&self, server_name: &str) -> Result<Self::Session> {
        (**self).connect(server_name)
    }
}

impl<C: ServerContext + ?Sized> ServerContext for std::sync::Arc<C> {
    type Session = C::Session;
    fn accept(&self) -> Result<Self::Session> {
        (**self).accept()
    }
}
