//! # polytls-boring — the BoringSSL backend
//!
//! Implements the polytls [`Backend`] on BoringSSL through Cloudflare's
//! `boring` crate (BoringSSL is built from source): a driver
//! ([`BoringDriver`], an `SSL` over polytls' in-memory transport) for the
//! OpenSSL-family session that `polytls-ossl-common` writes once, and the
//! binding calls behind the family's one context policy ([`BoringLibrary`]).
//! `WANT_READ` becomes "needs input": a sans-IO session, no sockets.
//!
//! Client authentication uses the classic verify modes:
//! `ClientAuth::None` = `VERIFY_NONE`, `Optional` = `VERIFY_PEER`,
//! `Required` = `VERIFY_PEER | FAIL_IF_NO_PEER_CERT`. BoringSSL never
//! renegotiates as a server, and answers a client's attempt with a fatal
//! `no_renegotiation` alert.
//!
//! Clients resume: sessions are kept as DER per context and server name and
//! attached with `SSL_set_session`. BoringSSL ignores TLS 1.3 tickets that
//! arrive after the client sent close_notify, so a client that half-closes
//! before reading the reply does not resume next time (the other backends
//! keep such tickets). Servers take rotating
//! [`TicketKeys`](polytls_api::TicketKeys) through the ticket-key callback —
//! with the session attach, the only `unsafe` in this crate, in one audited
//! module. Not supported: restricting TLS 1.3 cipher
//! suites (BoringSSL fixes them), X448, another resumption lifetime, early
//! data.
//!
//! [`Backend`]: polytls_api::Backend

#![deny(unsafe_code)]

mod binding;
mod driver;
mod error;
#[allow(
    unsafe_code,
    reason = "the audited module: session attach and ticket-key callback"
)]
mod ffi;

use polytls_ossl_common::{OsslBackend, OsslClientContext, OsslServerContext};

pub use driver::BoringDriver;

pub(crate) const NAME: &str = "boring";

/// BoringSSL as a library of the OpenSSL family: the calls the family's
/// backend makes, forwarded to the `boring` crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoringLibrary;

/// The BoringSSL backend.
pub type Boring = OsslBackend<BoringLibrary>;

/// The BoringSSL backend, as a value (`DynBackend::new(Boring)`).
#[allow(non_upper_case_globals)]
pub const Boring: Boring = OsslBackend::new();

/// A BoringSSL client `SSL_CTX` and its resumption cache.
pub type BoringClientContext = OsslClientContext<BoringLibrary>;

/// A BoringSSL server `SSL_CTX`: holds the ticket keys and session cache.
pub type BoringServerContext = OsslServerContext<BoringLibrary>;
