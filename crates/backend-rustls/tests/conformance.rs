//! The shared conformance suite on rustls, static and dyn paths.
polytls_conformance::conformance_tests!(polytls_rustls::Rustls);
