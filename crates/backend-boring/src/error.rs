//! BoringSSL's reason codes (`ssl.h`, `err.h`; they differ from OpenSSL's)
//! and how its errors are read; the mapping itself is
//! [`polytls_ossl_common::Library::map`].

use boring::ssl::ErrorCode;
use polytls_ossl_common::{Code, Failure, Library, Reasons};

/// BoringSSL for the shared mapping.
pub(crate) static LIBRARY: Library = Library {
    name: crate::NAME,
    reasons: Reasons {
        lib_ssl: 16,
        certificate_verify_failed: 125,
        no_client_certificate: 192,
        no_shared_cipher: &[184],
        no_shared_group: &[266],
        no_shared_sigalg: &[253],
        // UNSUPPORTED_PROTOCOL, NO_SUPPORTED_VERSIONS_ENABLED
        no_shared_version: &[240, 280],
        no_application_protocol: &[307],
        // KEY_USAGE_BIT_INCORRECT
        wrong_key_usage: &[302],
        // BoringSSL reports a transport EOF as a reasonless SSL_ERROR_SYSCALL.
        unexpected_eof: None,
    },
};

/// What the shared mapping needs to know about `e`.
pub(crate) fn failure(e: &crate::driver::BoringError) -> Failure {
    let code = e.code();
    Failure {
        code: if code == ErrorCode::WANT_READ || code == ErrorCode::WANT_WRITE {
            Code::WouldBlock
        } else if code == ErrorCode::ZERO_RETURN {
            Code::ZeroReturn
        } else if code == ErrorCode::SYSCALL {
            Code::Syscall
        } else if code == ErrorCode::SSL {
            Code::Ssl
        } else {
            Code::Other
        },
        io_error: e.io_error(),
        reasons: e
            .stack()
            .map(|s| {
                s.errors()
                    .iter()
                    .map(|x| (x.library_code(), x.reason_code()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
