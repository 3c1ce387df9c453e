//! Mapping OpenSSL errors onto the polytls taxonomy: by reason code, alert
//! code and X.509 verify result, never by message text.

use openssl::ssl::{ErrorCode, SslRef};
use polytls_api::{Alert, CertificateError as Cert, Error, Incompatibility};

/// `ERR_LIB_SSL`.
const LIB_SSL: i32 = 20;
/// Reason codes at or above this are alerts received from the peer.
const ALERT_OFFSET: i32 = 1000;

// Reason codes from OpenSSL 3's `sslerr.h`.
const R_CERTIFICATE_VERIFY_FAILED: i32 = 134;
const R_NO_APPLICATION_PROTOCOL: i32 = 235;
const R_NO_PROTOCOLS_AVAILABLE: i32 = 191;
const R_NO_SHARED_CIPHER: i32 = 193;
const R_NO_SHARED_GROUPS: i32 = 410;
const R_NO_SUITABLE_GROUPS: i32 = 295;
const R_NO_SUITABLE_KEY_SHARE: i32 = 101;
const R_NO_SHARED_SIGNATURE_ALGORITHMS: i32 = 376;
const R_NO_SUITABLE_SIGNATURE_ALGORITHM: i32 = 118;
const R_PEER_DID_NOT_RETURN_A_CERTIFICATE: i32 = 199;
const R_UNEXPECTED_EOF_WHILE_READING: i32 = 294;
const R_UNSUPPORTED_PROTOCOL: i32 = 258;
const R_VERSION_TOO_HIGH: i32 = 166;
const R_VERSION_TOO_LOW: i32 = 396;

/// Whether the call only needs more input (or output room).
pub(crate) fn would_block(e: &openssl::ssl::Error) -> bool {
    e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE
}

/// Whether the error is the transport ending without close_notify.
pub(crate) fn is_unexpected_eof(e: &openssl::ssl::Error) -> bool {
    (e.code() == ErrorCode::SYSCALL && e.io_error().is_none() && e.ssl_error().is_none())
        || ssl_reasons(e).any(|r| r == R_UNEXPECTED_EOF_WHILE_READING)
}

fn ssl_reasons(e: &openssl::ssl::Error) -> impl Iterator<Item = i32> + '_ {
    e.ssl_error()
        .into_iter()
        .flat_map(|s| s.errors())
        .filter(|err| err.library_code() == LIB_SSL)
        .map(|err| err.reason_code())
}

/// The polytls category of a failed handshake or record operation on `ssl`.
pub(crate) fn map(e: openssl::ssl::Error, ssl: &SslRef) -> Error {
    if is_unexpected_eof(&e) {
        return Error::UnexpectedEof;
    }
    for reason in ssl_reasons(&e) {
        if let Some(mapped) = map_reason(reason, ssl) {
            return mapped;
        }
    }
    if e.code() == ErrorCode::SSL {
        // A TLS-layer failure while processing the peer's bytes that has no
        // finer category: the peer broke the protocol.
        return Error::PeerMisbehaved(format!("openssl: {e}"));
    }
    Error::other(format!("openssl: {e}"), e)
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
            ssl.verify_result().as_raw(),
        ))),
        R_PEER_DID_NOT_RETURN_A_CERTIFICATE => Some(Error::ClientCertificateRequired),
        R_NO_SHARED_CIPHER => incompatible(Incompatibility::NoSharedCipherSuite),
        R_NO_SHARED_GROUPS | R_NO_SUITABLE_GROUPS | R_NO_SUITABLE_KEY_SHARE => {
            incompatible(Incompatibility::NoSharedGroup)
        }
        R_NO_SHARED_SIGNATURE_ALGORITHMS | R_NO_SUITABLE_SIGNATURE_ALGORITHM => {
            incompatible(Incompatibility::NoSharedSignatureScheme)
        }
        R_UNSUPPORTED_PROTOCOL
        | R_NO_PROTOCOLS_AVAILABLE
        | R_VERSION_TOO_HIGH
        | R_VERSION_TOO_LOW => incompatible(Incompatibility::NoSharedVersion),
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
            map_verify(openssl::x509::X509VerifyResult::APPLICATION_VERIFICATION.as_raw()),
            Cert::PinMismatch
        );
    }
}
