//! BoringSSL's reason codes (`ssl.h`, `err.h`; they differ from OpenSSL's);
//! the mapping itself is [`polytls_ossl_common::Library::map`].

use polytls_ossl_common::{Library, Reasons};

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
