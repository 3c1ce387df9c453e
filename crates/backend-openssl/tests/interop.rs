//! OpenSsl against rustls in one binary, both directions: TLS 1.2 and 1.3,
//! ECDSA and RSA, with and without client certificates; both ends must agree
//! on what was negotiated.

use polytls_conformance::interop;
use polytls_openssl::OpenSsl;
use polytls_rustls::Rustls;

#[test]
fn all_scenarios_both_directions() {
    assert_eq!(interop::both_directions(&OpenSsl, &Rustls), 16);
}

#[test]
fn rustls_client_resumes_with_openssl_server() {
    interop::resumption(&Rustls, &OpenSsl);
}

#[test]
fn openssl_client_resumes_with_rustls_server() {
    interop::resumption(&OpenSsl, &Rustls);
}

#[test]
fn rustls_client_sends_early_data_to_openssl_server() {
    interop::early_data(&Rustls, &OpenSsl);
}

#[test]
fn dyn_backends_interoperate() {
    let a = polytls_api::DynBackend::new(OpenSsl);
    let b = polytls_api::DynBackend::new(Rustls);
    assert_eq!(interop::both_directions(&a, &b), 16);
}
