//! Boring against rustls in one binary, both directions: TLS 1.2 and 1.3,
//! ECDSA and RSA, with and without client certificates; both ends must agree
//! on what was negotiated.

use polytls_boring::Boring;
use polytls_conformance::interop;
use polytls_rustls::Rustls;

#[test]
fn all_scenarios_both_directions() {
    assert_eq!(interop::both_directions(&Boring, &Rustls), 16);
}

#[test]
fn rustls_client_resumes_with_boring_server() {
    interop::resumption(&Rustls, &Boring);
}

#[test]
fn boring_client_resumes_with_rustls_server() {
    interop::resumption(&Boring, &Rustls);
}

#[test]
fn dyn_backends_interoperate() {
    let a = polytls_api::DynBackend::new(Boring);
    let b = polytls_api::DynBackend::new(Rustls);
    assert_eq!(interop::both_directions(&a, &b), 16);
}
