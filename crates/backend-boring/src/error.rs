//! BoringSSL's reason codes are BoringSSL's
//! ([`Reasons::BORINGSSL`](polytls_ossl_common::Reasons::BORINGSSL)); the
//! mapping itself is [`polytls_ossl_common::Library::map`].

/// BoringSSL for the shared mapping.
pub(crate) static LIBRARY: polytls_ossl_common::Library =
    polytls_ossl_common::Library::boringssl(crate::NAME);
