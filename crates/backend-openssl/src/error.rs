//! Mapping OpenSSL errors onto the polytls taxonomy: by reason code, alert
//! code and X.509 verify result, never by message text.

use openssl::ssl::{ErrorCode, SslRef};
use polytls_api::Error;
use polytls_ossl_common::Reasons;

/// OpenSSL 3's codes (`sslerr.h`), by category.
const REASONS: Reasons = Reasons {
    lib_ssl: 20,
    certificate_verify_failed: 134,
    no_client_certificate: 199,
    no_shared_cipher: &[193],
    // NO_SHARED_GROUPS, NO_SUITABLE_GROUPS, NO_SUITABLE_KEY_SHARE
    no_shared_group: &[410, 295, 101],
    // NO_SHARED_SIGNATURE_ALGORITHMS, NO_SUITABLE_SIGNATURE_ALGORITHM
    no_shared_sigalg: &[376, 118],
    // UNSUPPORTED_PROTOCOL, NO_PROTOCOLS_AVAILABLE, VERSION_TOO_HIGH, VERSION_TOO_LOW
    no_shared_version: &[258, 191, 166, 396],
    no_application_protocol: &[235],
};

/// `SSL_R_UNEXPECTED_EOF_WHILE_READING`.
const R_UNEXPECTED_EOF_WHILE_READING: i32 = 294;

/// Whether the call only needs more input (or output room).
pub(crate) fn would_block(e: &openssl::ssl::Error) -> bool {
    e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE
}

/// `SSL_ERROR_SYSCALL` with no IO error and nothing on the error queue.
fn syscall_without_reason(e: &openssl::ssl::Error) -> bool {
    e.code() == ErrorCode::SYSCALL && e.io_error().is_none() && e.ssl_error().is_none()
}

/// Whether the error is the transport ending without close_notify: OpenSSL
/// 3's "unexpected eof while reading", or a reasonless `SSL_ERROR_SYSCALL`
/// once the memory transport has reached its end.
pub(crate) fn is_unexpected_eof(e: &openssl::ssl::Error, at_eof: bool) -> bool {
    (at_eof && syscall_without_reason(e))
        || ssl_reasons(e).any(|r| r == R_UNEXPECTED_EOF_WHILE_READING)
}

fn ssl_reasons(e: &openssl::ssl::Error) -> impl Iterator<Item = i32> + '_ {
    e.ssl_error()
        .into_iter()
        .flat_map(|s| s.errors())
        .filter(|err| err.library_code() == REASONS.lib_ssl)
        .map(|err| err.reason_code())
}

/// The polytls category of a failed handshake or record operation on `ssl`.
pub(crate) fn map(e: openssl::ssl::Error, ssl: &SslRef, at_eof: bool) -> Error {
    if is_unexpected_eof(&e, at_eof) {
        return Error::UnexpectedEof;
    }
    if e.code() == ErrorCode::ZERO_RETURN {
        // Reads turn a close_notify into `Closed` before mapping, so this is
        // a close_notify that came before the handshake completed: the peer
        // ended the connection early, as the other backends report it.
        return Error::UnexpectedEof;
    }
    for reason in ssl_reasons(&e) {
        if let Some(mapped) = REASONS.map(reason, || verify_code(ssl)) {
            return mapped;
        }
    }
    if e.code() == ErrorCode::SSL {
        // A TLS-layer failure while processing the peer's bytes that has no
        // finer category: the peer broke the protocol.
        return Error::PeerMisbehaved(format!("openssl: {e}"));
    }
    if syscall_without_reason(&e) {
        // Not at the end of input, and the memory transport cannot fail: a
        // failure while processing the peer's bytes that left no reason.
        return Error::PeerMisbehaved(
            "openssl: the handshake failed without a recorded reason".into(),
        );
    }
    Error::other(format!("openssl: {e}"), e)
}

fn verify_code(ssl: &SslRef) -> i32 {
    ssl.verify_result().as_raw()
}
