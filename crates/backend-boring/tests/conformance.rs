//! The shared conformance suite on BoringSSL, static and dyn paths.
polytls_conformance::conformance_tests!(polytls_boring::Boring);
