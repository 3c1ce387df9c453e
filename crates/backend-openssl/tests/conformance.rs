//! The shared conformance suite on OpenSSL, static and dyn paths.
polytls_conformance::conformance_tests!(polytls_openssl::OpenSsl);
