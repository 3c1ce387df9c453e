//! OpenSSL 3's reason codes (`sslerr.h`); the mapping itself is
//! [`polytls_ossl_common::Library::map`].

use polytls_ossl_common::{Library, Reasons};

/// OpenSSL 3 for the shared mapping.
pub(crate) static LIBRARY: Library = Library {
    name: crate::NAME,
    reasons: Reasons {
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
        // OpenSSL 3.0's handshake does not check the peer's key usage.
        wrong_key_usage: &[],
        // UNEXPECTED_EOF_WHILE_READING
        unexpected_eof: Some(294),
    },
};
