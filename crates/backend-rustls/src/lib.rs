//! # polytls-rustls — the rustls backend
//!
//! Implements the polytls [`Backend`] on rustls 0.23 with the aws-lc-rs
//! crypto provider. rustls is sans-IO by design, so a [`RustlsSession`] is a
//! thin mapping of a `rustls::Connection`.
//!
//! The provider is chosen explicitly (`builder_with_provider`), never through
//! the process-wide default, so this crate works whatever other crates enable.
//! aws-lc-rs rather than ring: it is rustls' default, it has X25519MLKEM768,
//! P-521 and fast RSA, and its symbols are prefixed, so it links next to
//! OpenSSL or BoringSSL.
//!
//! ```
//! use polytls_api::{Backend, ClientConfig, Roots};
//! use polytls_rustls::Rustls;
//!
//! # fn main() -> polytls_api::Result<()> {
//! let ctx = Rustls.client_context(&ClientConfig::new(Roots::default()));
//! assert!(ctx.is_err(), "no roots: verification could not succeed");
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod configs;
mod error;
mod session;

use std::sync::Arc;

use polytls_api::{
    Backend, Capability, CipherSuite, ClientConfig, Error, NamedGroup, Result, ServerConfig,
};
use rustls::pki_types::ServerName;

pub use session::RustlsSession;

pub(crate) const NAME: &str = "rustls";

/// The rustls backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rustls;

impl Backend for Rustls {
    type ClientContext = RustlsClientContext;
    type ServerContext = RustlsServerContext;

    fn name(&self) -> &'static str {
        NAME
    }

    fn library_version(&self) -> String {
        "rustls 0.23 (aws-lc-rs)".into()
    }

    fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::Group(g) => g != NamedGroup::X448,
            Capability::CipherSuite(s) => CipherSuite::ALL.contains(&s),
            _ => true,
        }
    }

    fn client_context(&self, config: &ClientConfig) -> Result<RustlsClientContext> {
        Ok(RustlsClientContext {
            config: Arc::new(configs::client_config(config)?),
        })
    }

    fn server_context(&self, config: &ServerConfig) -> Result<RustlsServerContext> {
        Ok(RustlsServerContext {
            config: Arc::new(configs::server_config(config)?),
        })
    }
}

/// A rustls client configuration; holds the resumption cache.
#[derive(Debug, Clone)]
pub struct RustlsClientContext {
    config: Arc<rustls::ClientConfig>,
}

impl polytls_api::ClientContext for RustlsClientContext {
    type Session = RustlsSession;

    fn connect(&self, server_name: &str) -> Result<RustlsSession> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(|_| {
            Error::InvalidConfig(format!(
                "{server_name:?} is not a valid DNS name or IP address"
            ))
        })?;
        let sni = match &name {
            ServerName::DnsName(d) if self.config.enable_sni => Some(d.as_ref().to_owned()),
            _ => None,
        };
        let conn = rustls::ClientConnection::new(self.config.clone(), name).map_err(error::map)?;
        Ok(RustlsSession::new(conn.into(), sni))
    }
}

/// A rustls server configuration; holds the ticket keys and session cache.
#[derive(Debug, Clone)]
pub struct RustlsServerContext {
    config: Arc<rustls::ServerConfig>,
}

impl polytls_api::ServerContext for RustlsServerContext {
    type Session = RustlsSession;

    fn accept(&self) -> Result<RustlsSession> {
        let conn = rustls::ServerConnection::new(self.config.clone()).map_err(error::map)?;
        Ok(RustlsSession::new(conn.into(), None))
    }
}
