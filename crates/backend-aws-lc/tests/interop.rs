//! AWS-LC against rustls in one binary, both directions: TLS 1.2 and 1.3,
//! ECDSA and RSA, with and without client certificates; both ends must agree
//! on what was negotiated.

use polytls_aws_lc::AwsLc;
use polytls_conformance::interop;
use polytls_rustls::Rustls;

#[test]
fn all_scenarios_both_directions() {
    assert_eq!(interop::both_directions(&AwsLc, &Rustls), 16);
}

#[test]
fn rustls_client_resumes_with_aws_lc_server() {
    interop::resumption(&Rustls, &AwsLc);
}

#[test]
fn aws_lc_client_resumes_with_rustls_server() {
    interop::resumption(&AwsLc, &Rustls);
}

#[test]
fn dyn_backends_interoperate() {
    let a = polytls_api::DynBackend::new(AwsLc);
    let b = polytls_api::DynBackend::new(Rustls);
    assert_eq!(interop::both_directions(&a, &b), 16);
}
