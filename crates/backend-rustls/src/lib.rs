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
//! Resumption state is opaque in rustls: it can be taken from a session and
//! offered again in this process, but not saved
//! ([`Capability::ResumptionExport`] is false).
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
mod store;
mod tickets;

use std::sync::Arc;

use polytls_api::driver::{ClientDriver, Offer, ServerDriver, Valid};
use polytls_api::{Backend, Capability, ClientConfig, Result, ServerConfig};
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::ServerName;

pub use session::RustlsSession;

pub(crate) const NAME: &str = "rustls";

/// The rustls backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rustls;

impl Backend for Rustls {
    type ClientDriver = RustlsClientContext;
    type ServerDriver = RustlsServerContext;

    fn name(&self) -> &'static str {
        NAME
    }

    fn library_version(&self) -> String {
        "rustls 0.23 (aws-lc-rs)".into()
    }

    fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::Group(g) => aws_lc_rs::ALL_KX_GROUPS
                .iter()
                .any(|k| u16::from(k.name()) == g.code()),
            Capability::CipherSuite(s) => aws_lc_rs::ALL_CIPHER_SUITES
                .iter()
                .any(|c| u16::from(c.suite()) == s.code()),
            Capability::ResumptionExport => false,
            Capability::Version(_)
            | Capability::Ed25519
            | Capability::Rsa4096
            | Capability::Resumption
            | Capability::ClientResumption
            | Capability::TicketKeys
            | Capability::TicketKeyRotation
            | Capability::ResumptionLifetime
            | Capability::Tls12SessionIds
            | Capability::ClientEarlyData
            | Capability::ServerEarlyData
            | Capability::KeyingMaterialExport
            | Capability::KeyLog
            | Capability::SniIdentities
            | Capability::ClientAuth
            | Capability::Pinning => true,
            // `Capability` is non-exhaustive: one this match does not name
            // is refused until it is answered, never silently claimed.
            _ => false,
        }
    }

    fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<RustlsClientContext> {
        let (config, store) = configs::client_config(&config)?;
        Ok(RustlsClientContext {
            config: Arc::new(config),
            store,
        })
    }

    fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<RustlsServerContext> {
        Ok(RustlsServerContext {
            config: Arc::new(configs::server_config(&config)?),
        })
    }
}

/// A rustls client configuration and its resumption cache.
#[derive(Debug, Clone)]
pub struct RustlsClientContext {
    config: Arc<rustls::ClientConfig>,
    /// `None` when resumption is off.
    store: Option<Arc<store::SharedStore>>,
}

impl RustlsClientContext {
    /// The rustls configuration underneath.
    pub fn config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }
}

impl ClientDriver for RustlsClientContext {
    type Session = RustlsSession;

    fn connect(&self, server_name: &str, offer: Offer) -> Result<RustlsSession> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(|_| {
            polytls_api::Error::config(
                polytls_api::ConfigErrorKind::ServerName,
                format!("{server_name:?} is not a valid DNS name or IP address"),
            )
        })?;
        let sni = match &name {
            ServerName::DnsName(d) if self.config.enable_sni => Some(d.as_ref().to_owned()),
            _ => None,
        };
        // With resumption on, each connection gets its own view of the
        // context's store, so the state it stores can be taken or forgotten
        // again, and an offered state is used for this connection only.
        let (config, conn_store) = match &self.store {
            Some(shared) => {
                let conn = Arc::new(store::ConnStore::new(shared.clone(), offer)?);
                let mut config = (*self.config).clone();
                config.resumption = rustls::client::Resumption::store(conn.clone());
                (Arc::new(config), Some(conn))
            }
            None => {
                if let Offer::State(_) = offer {
                    return Err(store::resumption_off());
                }
                (self.config.clone(), None)
            }
        };
        let conn = rustls::ClientConnection::new(config, name).map_err(error::map)?;
        Ok(RustlsSession::client(conn, sni, conn_store))
    }

    fn exports_resumption(&self) -> bool {
        false
    }
}

/// A rustls server configuration; holds the ticket keys and session cache.
#[derive(Debug, Clone)]
pub struct RustlsServerContext {
    config: Arc<rustls::ServerConfig>,
}

impl RustlsServerContext {
    /// The rustls configuration underneath.
    pub fn config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }
}

impl ServerDriver for RustlsServerContext {
    type Session = RustlsSession;

    fn accept(&self) -> Result<RustlsSession> {
        let conn = rustls::ServerConnection::new(self.config.clone()).map_err(error::map)?;
        Ok(RustlsSession::server(conn))
    }
}
