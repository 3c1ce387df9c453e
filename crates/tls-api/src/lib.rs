//! # polytls-api — one TLS API, several implementations
//!
//! This crate is the core of polytls: the portable configuration
//! ([`ClientConfig`], [`ServerConfig`]), the backend trait ([`Backend`] →
//! [`ClientContext`] / [`ServerContext`] → [`Session`]), one error taxonomy
//! ([`Error`]), run-time backend choice ([`DynBackend`]) and the IO adapters,
//! written once for every backend ([`blocking::Stream`] and, with the `tokio`
//! feature, [`tokio_io::TlsStream`]). Backends implement the traits of
//! [`driver`]; the contexts and sessions here wrap them and enforce the
//! portable rules (validation, misuse, EOF, remembered failures) once.
//!
//! ```text
//!   ClientConfig / ServerConfig   plain data, validated
//!          │  Backend::client_context / server_context
//!          ▼
//!   ClientContext / ServerContext  ≈ SSL_CTX: shared, holds resumption state
//!          │  connect(name) / accept()
//!          ▼
//!   Session                        sans-IO: ciphertext in/out, plaintext in/out
//!          │
//!   blocking::Stream · tokio_io::TlsStream   the only code that touches sockets
//! ```
//!
//! A `Session` never does IO: it is fed ciphertext and hands ciphertext back.
//! That is what rustls is natively; the OpenSSL and BoringSSL backends run
//! their `SSL` objects over in-memory byte queues. Backends live in their own
//! crates (`polytls-rustls`, `polytls-openssl`, `polytls-boring`); applications
//! usually depend on the `polytls` facade instead of this crate.
//!
//! ## Truncation
//!
//! A transport EOF without the peer's `close_notify` alert is reported as
//! [`Error::UnexpectedEof`] (`io::ErrorKind::UnexpectedEof` from the
//! adapters), never as a clean end of stream: an attacker who can cut a TCP
//! connection must not be able to truncate what you read.

#![forbid(unsafe_code)]

#[cfg(any(feature = "tokio", feature = "futures-io"))]
mod async_core;
mod backend;
pub mod blocking;
mod cache;
pub mod config;
mod context;
pub mod defaults;
pub mod driver;
mod dynamic;
mod error;
#[cfg(feature = "futures-io")]
pub mod futures_io;
pub mod identity;
pub mod keylog;
pub mod memio;
pub mod params;
mod pins;
pub mod registry;
mod resumption;
pub mod revocation;
mod session;
mod tickets;
#[cfg(feature = "tokio")]
pub mod tokio_io;
pub mod trust;

pub use backend::{Backend, Capability};
pub use config::{
    check_server_name, ClientAuth, ClientConfig, Common, Roots, ServerConfig, ServerResumption,
    SniSelector, SpkiPin, TicketKeys, Tls12Resumption,
};
pub use context::{ClientContext, ServerContext};
pub use dynamic::{
    DynBackend, DynClientContext, DynClientDriver, DynServerContext, DynServerDriver, DynSession,
};
pub use error::{
    Alert, CertificateError, ConfigError, ConfigErrorKind, Error, Incompatibility, Misbehaviour,
    MisuseError, MisuseKind, NativeError, Result, Unsupported,
};
pub use identity::{CertificateDer, Identity, PrivateKeyDer};
pub use keylog::KeyLog;
pub use params::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
pub use pins::check_pins;
pub use resumption::ResumptionState;
pub use revocation::{CertificateRevocationListDer, Revocation, RevocationScope};
pub use session::{ReadOutcome, Session, SessionInfo};
pub use tickets::{TicketKey, MAX_TICKET_KEYS};
