//! The backend trait: a [`Backend`] builds shareable contexts from the
//! portable configuration; a context makes one [`Session`](crate::Session)
//! per connection.

use crate::config::{ClientConfig, ServerConfig};
use crate::context::{ClientContext, ServerContext};
use crate::driver::{ClientDriver, ServerDriver, Valid};
use crate::params::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use crate::Result;

/// Something a backend may or may not be able to do. Ask with
/// [`Backend::supports`] before relying on it; asking for it anyway gives
/// [`Error::Unsupported`](crate::Error::Unsupported) naming the capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// A protocol version.
    Version(ProtocolVersion),
    /// A cipher suite.
    CipherSuite(CipherSuite),
    /// A key-exchange group.
    Group(NamedGroup),
    /// A signature scheme in
    /// [`Common::signing_schemes`](crate::Common::signing_schemes) or
    /// [`Common::verify_schemes`](crate::Common::verify_schemes).
    SignatureScheme(SignatureScheme),
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
    /// A client's resumption state saved as bytes and restored later
    /// ([`ResumptionState::to_bytes`](crate::ResumptionState::to_bytes)).
    ResumptionExport,
    /// Server ticket keys given by the application, shared between
    /// contexts and processes ([`TicketKeys`](crate::TicketKeys)).
    TicketKeys,
    /// More than one ticket key: the first encrypts, the others still
    /// decrypt, so keys can rotate.
    TicketKeyRotation,
    /// A resumption lifetime other than the library's default.
    ResumptionLifetime,
    /// TLS 1.2 resumption by session IDs only, without tickets.
    Tls12SessionIds,
    /// Early data (0-RTT) as a client.
    ClientEarlyData,
    /// Early data (0-RTT) as a server.
    ServerEarlyData,
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
///
/// Applications call [`client_context`](Backend::client_context) and
/// [`server_context`](Backend::server_context); a backend implements the
/// rest. The two provided methods validate the configuration before the
/// backend sees it, and wrap what it builds so the portable rules hold on
/// every backend (see [`driver`](crate::driver)); a backend cannot build a
/// context any other way.
pub trait Backend: Send + Sync + 'static {
    /// The backend's client context.
    type ClientDriver: ClientDriver;
    /// The backend's server context.
    type ServerDriver: ServerDriver;

    /// The backend's short name: `"rustls"`, `"openssl"`, `"boring"`.
    fn name(&self) -> &'static str;

    /// The underlying library and its version, e.g. `"OpenSSL 3.0.13"`.
    fn library_version(&self) -> String;

    /// Whether the backend can do `capability`.
    fn supports(&self, capability: Capability) -> bool;

    /// Builds the backend's client context from a validated configuration.
    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<Self::ClientDriver>;

    /// Builds the backend's server context from a validated configuration.
    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<Self::ServerDriver>;

    /// Builds a client context (≈ `SSL_CTX`); expensive, share it (cloning
    /// is cheap).
    fn client_context(&self, config: &ClientConfig) -> Result<ClientContext<Self::ClientDriver>> {
        let valid = Valid::client(config)?;
        let driver = self.build_client(valid)?;
        Ok(ClientContext::new(self.name(), driver, config))
    }

    /// Builds a server context; expensive, share it (cloning is cheap).
    fn server_context(&self, config: &ServerConfig) -> Result<ServerContext<Self::ServerDriver>> {
        let valid = Valid::server(config)?;
        let driver = self.build_server(valid)?;
        Ok(ServerContext::new(self.name(), driver, config))
    }
}

impl<B: Backend + ?Sized> Backend for std::sync::Arc<B> {
    type ClientDriver = B::ClientDriver;
    type ServerDriver = B::ServerDriver;
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn library_version(&self) -> String {
        (**self).library_version()
    }
    fn supports(&self, capability: Capability) -> bool {
        (**self).supports(capability)
    }
    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<Self::ClientDriver> {
        (**self).build_client(config)
    }
    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<Self::ServerDriver> {
        (**self).build_server(config)
    }
}
