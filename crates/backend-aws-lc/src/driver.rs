//! AWS-LC's `SSL` over memory, as the shared session drives it.

use polytls_api::{CipherSuite, NamedGroup, SignatureScheme};

polytls_ossl_common::rust_openssl_stream_driver! {
    binding: openssl,
    /// One AWS-LC connection: an `SslStream` over polytls' in-memory
    /// transport. Reach it through `Session::native::<AwsLcDriver>()` for
    /// what polytls does not model.
    driver: AwsLcDriver,
    reasons: crate::error::LIBRARY,
    items: {
        /// By name: the `openssl` crate binds `SSL_CIPHER_get_protocol_id`
        /// for OpenSSL only. AWS-LC names TLS 1.2 suites as OpenSSL does and
        /// TLS 1.3 suites by their IANA names, both of which polytls parses.
        fn cipher_suite(&self) -> Option<CipherSuite> {
            self.stream.ssl().current_cipher()?.name().parse().ok()
        }

        fn group(&self) -> Option<NamedGroup> {
            NamedGroup::from_code(crate::ffi::group_id(self.stream.ssl()))
        }

        fn peer_signature_scheme(&self) -> Option<SignatureScheme> {
            SignatureScheme::from_code(crate::ffi::peer_signature_algorithm(self.stream.ssl()))
        }
    },
}
