//! Mapping BoringSSL errors onto the polytls taxonomy: by reason code, alert
//! code and X.509 verify result, never by message text.

use boring::ssl::{ErrorCode, SslRef};
use polytls_api::Error;
use polytls_ossl_common::Reasons;

/// BoringSSL's codes (`ssl.h`, `err.h`), by category; they differ from
/// OpenSSL's.
const REASONS: Reasons = Reasons {
    lib_ssl: 16,
    certificate_verify_failed: 125,
    no_client_certificate: 192,
    no_shared_cipher: &[184],
    no_shared_group: &[266],
    no_shared_sigalg: &[253],
    // UNSUPPORTED_PROTOCOL, NO_SUPPORTED_VERSIONS_ENABLED
    no_shared_version: &[240, 280],
    no_application_protocol: &[307],
};

/// Whether the call only needs more input (or output room).
pub(crate) fn would_block(e: &boring::ssl::Error) -> bool {
    e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE
}

/// `SSL_ERROR_SYSCALL` with no IO error and nothing on the error queue.
fn syscall_without_reason(e: &boring::ssl::Error) -> bool {
    e.code() == ErrorCode::SYSCALL && e.io_error().is_none() && e.ssl_error().is_none()
}

/// Whether the error is the transport ending without close_notify.
/// BoringSSL reports that as `SSL_ERROR_SYSCALL` with nothing on the error
/// queue, but it reports some handshake failures the same way (found by the
/// differential fuzzer: a malformed ClientHello answered with a decode_error
/// alert), so the memory transport must have reached its end too.
pub(crate) fn is_unexpected_eof(e: &boring::ssl::Error, at_eof: bool) -> bool {
    at_eof && syscall_without_reason(e)
}

fn ssl_reasons(e: &boring::ssl::Error) -> impl Iterator<Item = i32> + '_ {
    e.ssl_error()
        .into_iter()
        .flat_map(|s| s.errors())
        .filter(|err| err.library_code() == REASONS.lib_ssl)
        .map(|err| err.reason_code())
}

/// The polytls category of a failed handshake or record operation on `ssl`.
pub(crate) fn map(e: &boring::ssl::Error, ssl: &SslRef, at_eof: bool) -> Error {
    if is_unexpected_eof(e, at_eof) {
        return Error::UnexpectedEof;
    }
    if e.code() == ErrorCode::ZERO_RETURN {
        // Reads turn a close_notify into `Closed` before mapping, so this is
        // a close_notify that came before the handshake completed: the peer
        // ended the connection early, as the other backends report it.
        return Error::UnexpectedEof;
    }
    for reason in ssl_reasons(e) {
        if let Some(mapped) = REASONS.map(reason, || verify_code(ssl)) {
            return mapped;
        }
    }
    if e.code() == ErrorCode::SSL {
        // A TLS-layer failure while processing the peer's bytes that has no
        // finer category: the peer broke the protocol.
        return Error::PeerMisbehaved(format!("boring: {e}"));
    }
    if syscall_without_reason(e) {
        // Not at the end of input, and the memory transport cannot fail: a
        // failure while processing the peer's bytes that left no reason
        // (BoringSSL has sent its alert).
        return Error::PeerMisbehaved(
            "boring: the handshake failed without a recorded reason".into(),
        );
    }
    // The boring crate's error is not `Clone` and stays with the session;
    // its text is kept.
    Error::Other {
        message: format!("boring: {e}"),
        source: None,
    }
}

fn verify_code(ssl: &SslRef) -> i32 {
    ssl.verify_result().err().map_or(0, |e| e.as_raw())
}
