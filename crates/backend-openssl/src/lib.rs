//! # polytls-openssl — the OpenSSL backend
//!
//! Implements the polytls [`Backend`] on the system OpenSSL (3.x) through the
//! `openssl` crate: a driver ([`OpenSslDriver`], an `SSL` over polytls'
//! in-memory transport) for the OpenSSL-family session that
//! `polytls-ossl-common` writes once, and the binding calls behind the
//! family's one context policy ([`OpenSslLibrary`]). `WANT_READ`
//! becomes "needs input" and all output is collected for the caller: a
//! sans-IO session, no sockets.
//!
//! Client authentication uses OpenSSL's classic verify modes:
//! `ClientAuth::None` = `VERIFY_NONE`, `Optional` = `VERIFY_PEER`,
//! `Required` = `VERIFY_PEER | FAIL_IF_NO_PEER_CERT`. Renegotiation is
//! refused (`SSL_OP_NO_RENEGOTIATION`).
//!
//! Clients resume: sessions are kept as DER per context and server name and
//! attached with `SSL_set_session` — with the ticket key, the only `unsafe`
//! in this crate, in one audited module. Resumption state can be saved as
//! bytes ([`Capability::ResumptionExport`]). Ticket keys: one key
//! (rotation, [`Capability::TicketKeyRotation`], needs a callback the
//! bindings lack); the resumption lifetime stays OpenSSL's 2 hours.
//!
//! Early data: servers accept it (`SSL_read_early_data`, with OpenSSL's
//! anti-replay cache); clients cannot send it
//! ([`Capability::ClientEarlyData`]): neither the `openssl` crate nor
//! `openssl-sys` binds `SSL_get_early_data_status`, so a client could not
//! tell whether the server took its early data, and rejected data would be
//! lost or sent twice.
//!
//! [`Backend`]: polytls_api::Backend
//! [`Capability::ResumptionExport`]: polytls_api::Capability::ResumptionExport
//! [`Capability::TicketKeyRotation`]: polytls_api::Capability::TicketKeyRotation
//! [`Capability::ClientEarlyData`]: polytls_api::Capability::ClientEarlyData

#![deny(unsafe_code)]

mod binding;
mod driver;
mod error;
#[allow(
    unsafe_code,
    reason = "the audited module: session attach and ticket key"
)]
mod ffi;

use polytls_ossl_common::{OsslBackend, OsslClientContext, OsslServerContext};

pub use driver::OpenSslDriver;

pub(crate) const NAME: &str = "openssl";

/// The system OpenSSL as a library of the OpenSSL family: the calls the
/// family's backend makes, forwarded to the `openssl` crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenSslLibrary;

/// The OpenSSL backend.
pub type OpenSsl = OsslBackend<OpenSslLibrary>;

/// The OpenSSL backend, as a value (`DynBackend::new(OpenSsl)`).
#[allow(non_upper_case_globals)]
pub const OpenSsl: OpenSsl = OsslBackend::new();

/// An OpenSSL client `SSL_CTX` and its resumption cache.
pub type OpenSslClientContext = OsslClientContext<OpenSslLibrary>;

/// An OpenSSL server `SSL_CTX`: holds the ticket key and session cache.
pub type OpenSslServerContext = OsslServerContext<OpenSslLibrary>;
