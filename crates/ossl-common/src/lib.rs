//! # polytls-ossl-common — the OpenSSL-family backend, written once
//!
//! OpenSSL and BoringSSL differ in their Rust bindings and reason codes but
//! not in how a session runs over memory or what their errors mean. This
//! crate holds that once: [`OsslSession`] is the sans-IO session state
//! machine over any binding that implements [`SslDriver`] (handshake, read,
//! peek or a one-byte stash, write, shutdown, the memory transport); the
//! error mapping skeleton is [`Library::map`], with only the reason tables
//! per library; [`resume`] is the client resumption cache and the rule for
//! what to offer; [`OsslBackend`] is the backend itself, its contexts built
//! by one policy ([`context`]) over the setters and callbacks of a library
//! ([`ContextDriver`], [`Binding`]), with what the library cannot do stated
//! once ([`context::Gaps`]). It links neither library, so every backend of
//! the family uses it: a library crate forwards each call to its binding,
//! and keeps its reason table and its audited `unsafe` module.

#![forbid(unsafe_code)]

mod backend;
pub mod context;
pub mod crl;
mod errors;
mod forward;
pub mod resume;
mod session;

pub use backend::{Binding, OsslBackend, OsslClientContext, OsslServerContext};
pub use context::ContextDriver;
pub use errors::{Code, Failure, Library, Reasons};
pub use session::{OsslSession, SslDriver};

/// The API crate, for the forwarding macros (`$crate::__api`).
#[doc(hidden)]
pub use polytls_api as __api;

use polytls_api::{
    check_pins, CertificateDer, CertificateError as Cert, CipherSuite, ProtocolVersion, SpkiPin,
};

/// The error for resumption state whose bytes `library` cannot decode as a
/// session (each library's audited `attach_session` decodes them).
pub fn not_a_session(library: &str, e: impl std::fmt::Display) -> polytls_api::Error {
    polytls_api::Error::config(
        polytls_api::ConfigErrorKind::Malformed,
        format!("{library}: resumption state is not a session: {e}"),
    )
}

/// The error for a ticket key `library` refused, with the reason it gave
/// (taken off the thread's error queue by the caller, so it is not read
/// later as the reason for an unrelated failure).
pub fn ticket_key_refused(library: &str, why: impl std::fmt::Display) -> polytls_api::Error {
    polytls_api::Error::config(
        polytls_api::ConfigErrorKind::Rejected,
        format!("{library}: the library refused the ticket key: {why}"),
    )
}

/// The OpenSSL names of the TLS 1.2 suites among `suites`, `:`-joined
/// (TLS 1.3 suites are set separately, by IANA name).
pub fn tls12_cipher_list(suites: &[CipherSuite]) -> String {
    suites
        .iter()
        .filter(|s| s.version() == ProtocolVersion::Tls12)
        .map(|s| s.openssl_name())
        .collect::<Vec<_>>()
        .join(":")
}

/// X.509 verify results (`X509_V_ERR_*`, the same in both libraries).
pub fn map_verify(result: i32) -> Cert {
    match result {
        2 | 18 | 19 | 20 | 21 | 27 | 79 => Cert::UnknownIssuer,
        4 | 6 | 7 => Cert::BadSignature,
        9 => Cert::NotValidYet,
        10 => Cert::Expired,
        // 3 UNABLE_TO_GET_CRL, 33 UNABLE_TO_GET_CRL_ISSUER, 44
        // DIFFERENT_CRL_SCOPE: no CRL from the certificate's issuer.
        3 | 33 | 44 => Cert::UnknownRevocationStatus,
        // 8 CRL_SIGNATURE_FAILURE, 35 KEYUSAGE_NO_CRL_SIGN.
        8 | 35 => Cert::BadSignature,
        12 => Cert::ExpiredRevocationList,
        // 11 CRL_NOT_YET_VALID: a CRL whose thisUpdate is in the future.
        11 => Cert::RevocationListNotYetValid,
        // ... and 15, 16: a CRL's lastUpdate / nextUpdate malformed.
        13 | 14 | 15 | 16 | 41 => Cert::BadEncoding,
        23 => Cert::Revoked,
        26 | 28 => Cert::InvalidPurpose,
        APPLICATION_VERIFICATION => Cert::PinMismatch,
        62 | 64 => Cert::NotValidForName,
        _ => Cert::Other,
    }
}

/// `X509_V_ERR_APPLICATION_VERIFICATION`: what the verify callback reports
/// when no certificate matches the SPKI pins.
pub const APPLICATION_VERIFICATION: i32 = 50;

/// The pin check of the verify callback, at depth 0. `chain` is the chain
/// the library built (leaf first); when it `verified` the chain, its last
/// certificate is our trust anchor, not something the server presented, and
/// pins do not apply to it.
pub fn pins_match(
    pins: &[SpkiPin],
    mut chain: Vec<CertificateDer<'static>>,
    verified: bool,
) -> bool {
    if verified && chain.len() > 1 {
        chain.pop();
    }
    check_pins(pins, &chain).is_ok()
}

/// The ALPN wire format of a protocol list.
pub fn alpn_wire(alpn: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for p in alpn {
        wire.push(p.len() as u8);
        wire.extend_from_slice(p);
    }
    wire
}

/// The first of the server's `prefs` that the client offered (server
/// preference), as a slice of the client's wire-format list. A malformed
/// list selects nothing.
pub fn select_alpn<'a>(prefs: &[Vec<u8>], client: &'a [u8]) -> Option<&'a [u8]> {
    let mut offered = Vec::new();
    let mut rest = client;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        if len == 0 || tail.len() < len {
            return None;
        }
        offered.push(&tail[..len]);
        rest = &tail[len..];
    }
    prefs
        .iter()
        .find_map(|p| offered.iter().copied().find(|o| *o == p.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_selection_prefers_server_order() {
        let client = alpn_wire(&[b"http/1.1".to_vec(), b"h2".to_vec()]);
        let prefs = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        assert_eq!(select_alpn(&prefs, &client), Some(&b"h2"[..]));
        assert_eq!(select_alpn(&[b"imap".to_vec()], &client), None);
        assert_eq!(select_alpn(&prefs, &[5, b'h']), None, "truncated list");
    }

    #[test]
    fn verify_results() {
        assert_eq!(map_verify(10), Cert::Expired);
        assert_eq!(map_verify(62), Cert::NotValidForName);
        assert_eq!(map_verify(20), Cert::UnknownIssuer);
        assert_eq!(map_verify(APPLICATION_VERIFICATION), Cert::PinMismatch);
        assert_eq!(map_verify(23), Cert::Revoked);
        assert_eq!(map_verify(3), Cert::UnknownRevocationStatus);
        assert_eq!(map_verify(12), Cert::ExpiredRevocationList);
        assert_eq!(map_verify(11), Cert::RevocationListNotYetValid);
        assert_eq!(map_verify(8), Cert::BadSignature);
    }
}
