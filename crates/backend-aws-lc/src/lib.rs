//! # polytls-aws-lc — the AWS-LC backend
//!
//! Implements the polytls [`Backend`] on AWS-LC, Amazon's fork of
//! BoringSSL, through the `openssl` crate's `aws-lc` feature (`aws-lc-sys`
//! builds AWS-LC from source). aws-lc-sys prefixes libcrypto's symbols, so
//! AWS-LC shares a binary with rustls' aws-lc-rs, but not libssl's: its
//! `SSL_*` symbols are BoringSSL's, so it never shares one with BoringSSL. A driver
//! ([`AwsLcDriver`], an `SSL` over polytls' in-memory transport) serves the
//! OpenSSL-family session that `polytls-ossl-common` writes once, and
//! [`AwsLcLibrary`] forwards the family's one context policy to the binding.
//!
//! Cargo unifies features: with this crate in a build, the `openssl` crate
//! links AWS-LC for every user, so `polytls-openssl` (the system OpenSSL)
//! cannot be in the same build either, and its build script says so.
//!
//! Client authentication uses the classic verify modes, as on the other
//! family libraries. AWS-LC never renegotiates as a server. Clients resume
//! with sessions kept as DER per context and server name, attached with
//! `SSL_set_session`; like BoringSSL, AWS-LC ignores TLS 1.3 tickets that
//! arrive after the client sent close_notify. Servers take one ticket key
//! (AWS-LC's format: AES-128-CBC and HMAC-SHA256 with the first halves of
//! the key's parts). X25519MLKEM768 is offered first by default, as on the
//! other backends.
//!
//! The `unsafe` of this crate is in one audited module: the session attach,
//! the ticket key, the signature-algorithm and TLS 1.3 suite lists and the
//! negotiated group, which the `openssl` crate binds for OpenSSL only. Not
//! supported: ticket-key rotation, another resumption lifetime, early data,
//! X448 (each refused with `Error::Unsupported` and the reason).
//!
//! [`Backend`]: polytls_api::Backend

#![deny(unsafe_code)]

mod binding;
mod driver;
mod error;
#[allow(
    unsafe_code,
    reason = "the audited module: the calls the openssl crate binds for OpenSSL only"
)]
mod ffi;

use polytls_ossl_common::{OsslBackend, OsslClientContext, OsslServerContext};

pub use driver::AwsLcDriver;

pub(crate) const NAME: &str = "aws-lc";

/// AWS-LC as a library of the OpenSSL family: the calls the family's
/// backend makes, forwarded to the `openssl` crate over AWS-LC.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcLibrary;

/// The AWS-LC backend.
pub type AwsLc = OsslBackend<AwsLcLibrary>;

/// The AWS-LC backend, as a value (`DynBackend::new(AwsLc)`).
#[allow(non_upper_case_globals)]
pub const AwsLc: AwsLc = OsslBackend::new();

/// An AWS-LC client `SSL_CTX` and its resumption cache.
pub type AwsLcClientContext = OsslClientContext<AwsLcLibrary>;

/// An AWS-LC server `SSL_CTX`: holds the ticket key and session cache.
pub type AwsLcServerContext = OsslServerContext<AwsLcLibrary>;
