//! # polytls-rustls — the rustls backend
//!
//! Implements the polytls [`Backend`] on rustls 0.23 with the aws-lc-rs
//! crypto provider. rustls is sans-IO by design, so a [`RustlsSession`] is a
//! thin mapping of a `rustls::Connection`.
//!
//! The provider is chosen explicitly (`builder_with_provider`), never through
//! the process-wide default, so this crate works whatever other crates enable.
//! aws-lc-rs by default: it is rustls' default, it has X25519MLKEM768,
//! P-521 and fast RSA, and its symbols are prefixed, so it links next to
//! OpenSSL or BoringSSL. With the `ring` feature, `RustlsRing` (backend
//! `rustls-ring`) is the same backend on the *ring* provider.
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
mod peer_sig;
mod session;
mod store;
mod tickets;

use std::sync::Arc;

use polytls_api::driver::{ClientDriver, Offer, ServerDriver, Valid};
use polytls_api::{Backend, Capability, ClientConfig, Result, ServerConfig};
use rustls::crypto::{aws_lc_rs, CryptoProvider, SupportedKxGroup};
use rustls::pki_types::ServerName;
use rustls::SupportedCipherSuite;

pub use session::RustlsSession;

pub(crate) const NAME: &str = "rustls";

/// The crypto provider a rustls backend runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crypto {
    /// aws-lc-rs, rustls' default.
    AwsLcRs = 0,
    /// *ring*.
    #[cfg(feature = "ring")]
    Ring = 1,
}

impl Crypto {
    fn name(self) -> &'static str {
        match self {
            Crypto::AwsLcRs => NAME,
            #[cfg(feature = "ring")]
            Crypto::Ring => "rustls-ring",
        }
    }

    fn provider(self) -> CryptoProvider {
        match self {
            Crypto::AwsLcRs => aws_lc_rs::default_provider(),
            #[cfg(feature = "ring")]
            Crypto::Ring => rustls::crypto::ring::default_provider(),
        }
    }

    fn suites(self) -> &'static [SupportedCipherSuite] {
        match self {
            Crypto::AwsLcRs => aws_lc_rs::ALL_CIPHER_SUITES,
            #[cfg(feature = "ring")]
            Crypto::Ring => rustls::crypto::ring::ALL_CIPHER_SUITES,
        }
    }

    fn groups(self) -> &'static [&'static dyn SupportedKxGroup] {
        match self {
            Crypto::AwsLcRs => aws_lc_rs::ALL_KX_GROUPS,
            #[cfg(feature = "ring")]
            Crypto::Ring => rustls::crypto::ring::ALL_KX_GROUPS,
        }
    }

    fn supports(self, capability: Capability) -> bool {
        match capability {
            Capability::Group(g) => self
                .groups()
                .iter()
                .any(|k| u16::from(k.name()) == g.code()),
            Capability::CipherSuite(s) => self
                .suites()
                .iter()
                .any(|c| u16::from(c.suite()) == s.code()),
            Capability::SignatureScheme(s) => self
                .provider()
                .signature_verification_algorithms
                .mapping
                .iter()
                .any(|(m, _)| u16::from(*m) == s.code()),
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
}

/// A rustls backend on one crypto provider.
macro_rules! rustls_backend {
    ($(#[$meta:meta])* $name:ident, $crypto:expr, $provider:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Backend for $name {
            type ClientDriver = RustlsClientContext;
            type ServerDriver = RustlsServerContext;

            fn name(&self) -> &'static str {
                $crypto.name()
            }

            fn library_version(&self) -> String {
                concat!("rustls 0.23 (", $provider, ")").into()
            }

            fn supports(&self, capability: Capability) -> bool {
                $crypto.supports(capability)
            }

            fn build_client(&self, config: Valid<'_, ClientConfig>) -> Result<RustlsClientContext> {
                let (config, store) = configs::client_config(&config, $crypto)?;
                Ok(RustlsClientContext {
                    config: Arc::new(config),
                    store,
                })
            }

            fn build_server(&self, config: Valid<'_, ServerConfig>) -> Result<RustlsServerContext> {
                Ok(RustlsServerContext {
                    config: Arc::new(configs::server_config(&config, $crypto)?),
                })
            }
        }
    };
}

rustls_backend!(
    /// The rustls backend, on aws-lc-rs (rustls' default provider).
    Rustls,
    Crypto::AwsLcRs,
    "aws-lc-rs"
);

#[cfg(feature = "ring")]
rustls_backend!(
    /// The rustls backend on the *ring* provider (`rustls-ring`): no
    /// X25519MLKEM768 and no P-521. Tickets under application-given keys
    /// and their random keys still use aws-lc-rs, as on [`Rustls`].
    RustlsRing,
    Crypto::Ring,
    "ring"
);

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
