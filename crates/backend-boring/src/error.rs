//! Mapping BoringSSL errors onto the polytls taxonomy: by reason code, alert
//! code and X.509 verify result, never by message text.

use boring::ssl::{ErrorCode, SslRef};
use polytls_api::{Alert, CertificateError as Cert, Error, Incompatibility};

/// `ERR_LIB_SSL` in BoringSSL's `err.h`.
const LIB_SSL: i32 = 16;
/// Reason codes at or above this are alerts received from the peer.
const ALERT_OFFSET: i32 = 1000;

// Reason codes from BoringSSL's `ssl.h` (they differ from OpenSSL's).
const R_CERTIFICATE_VERIFY_FAILED: i32 = 125;
const R_NO_APPLICATION_PROTOCOL: i32 = 307;
const R_NO_SUPPORTED_VERSIONS_ENABLED: i32 = 280;
const R_NO_SHARED_CIPHER: i32 = 184;
const R_NO_SHARED_GROUP: i32 = 266;
const R_NO_COMMON_SIGNATURE_ALGORITHMS: i32 = 253;
const R_PEER_DID_NOT_RETURN_A_CERTIFICATE: i32 = 192;
const R_UNSUPPORTED_PROTOCOL: i32 = 240;

/// Whether the call only needs more input (or output room).
pub(crate) fn would_block(e: &boring::ssl::Error) -> bool {
    e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE
}

/// Whether the error is the transport ending without close_notify.
pub(crate) fn is_unexpected_eof(e: &boring::ssl::Error) -> bool {
    // BoringSSL reports a transport EOF without close_notify as
    // `SSL_ERROR_SYSCALL` with nothing on the error queue.
    e.code() == ErrorCode::SYSCALL && e.io_error().is_none() && e.ssl_error().is_none()
}

fn ssl_reasons(e: &boring::ssl::Error) -> impl Iterator<Item = i32> + '_ {
    e.ssl_error()
        .into_iter()
        .flat_map(|s| s.errors())
        .filter(|err| err.library_code() == LIB_SSL)
        .map(|err| err.reason_code())
}

/// The polytls category of a failed handshake or record operation on `ssl`.
pub(crate) fn map(e: &boring::ssl::Error, ssl: &SslRef) -> Error {
    if is_unexpected_eof(e) {
        return Error::UnexpectedEof;
    }
    for reason in ssl_reasons(e) {
        if let Some(mapped) = map_reason(reason, ssl) {
            return mapped;
        }
    }
    if e.code() == ErrorCode::SSL {
        // A TLS-layer failure while processing the peer's bytes that has no
        // finer category: the peer broke the protocol.
        return Error::PeerMisbehaved(format!("boring: {e}"));
    }
    // The boring crate's error is not `Clone` and stays with the session;
    // its text is kept.
    Error::Other {
        message: format!("boring: {e}"),
        source: None,
    }
}

fn map_reason(reason: i32, ssl: &SslRef) -> Option<Error> {
    if reason >= ALERT_OFFSET {
        return u8::try_from(reason - ALERT_OFFSET)
            .ok()
            .map(|a| Error::AlertReceived(Alert(a)));
    }
    let incompatible = |i| Some(Error::PeerIncompatible(i));
    match reason {
        R_CERTIFICATE_VERIFY_FAILED => Some(Error::InvalidCertificate(map_verify(
            ssl.verify_result().err().map_or(0, |e| e.as_raw()),
        ))),
        R_PEER_DID_NOT_RETURN_A_CERTIFICATE => Some(Error::ClientCertificateRequired),
        R_NO_SHARED_CIPHER => incompatible(Incompatibility::NoSharedCipherSuite),
        R_NO_SHARED_GROUP => incompatible(Incompatibility::NoSharedGroup),
        R_NO_COMMON_SIGNATURE_ALGORITHMS => incompatible(Incompatibility::NoSharedSignatureScheme),
        R_UNSUPPORTED_PROTOCOL | R_NO_SUPPORTED_VERSIONS_ENABLED => {
            incompatible(Incompatibility::NoSharedVersion)
        }
        R_NO_APPLICATION_PROTOCOL => incompatible(Incompatibility::NoApplicationProtocol),
        _ => None,
    }
}

/// X.509 verify results (shared by OpenSSL and BoringSSL).
pub(crate) fn map_verify(result: i32) -> Cert {
    match result {
        2 | 18 | 19 | 20 | 21 | 27 | 79 => Cert::UnknownIssuer,
        4 | 6 | 7 => Cert::BadSignature,
        9 => Cert::NotValidYet,
        10 => Cert::Expired,
        13 | 14 | 41 => Cert::BadEncoding,
        23 => Cert::Revoked,
        26 | 28 => Cert::InvalidPurpose,
        50 => Cert::PinMismatch,
        62 | 64 => Cert::NotValidForName,
        _ => Cert::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_results() {
        assert_eq!(map_verify(10), Cert::Expired);
        assert_eq!(map_verify(62), Cert::NotValidForName);
        assert_eq!(map_verify(20), Cert::UnknownIssuer);
        assert_eq!(
            map_verify(boring::x509::X509VerifyError::APPLICATION_VERIFICATION.as_raw()),
            Cert::PinMismatch
        );
    }
}
