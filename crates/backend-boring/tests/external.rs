//! Boring against peers nobody here wrote (the `openssl` command line tool).

#[test]
fn renegotiation_is_refused() {
    polytls_conformance::external::renegotiation_refused(&polytls_boring::Boring);
}

#[test]
fn openssl_s_client_talks_to_our_server() {
    polytls_conformance::external::s_client_to_our_server(&polytls_boring::Boring);
}

#[test]
fn curl_talks_to_our_server() {
    polytls_conformance::external::curl_to_our_server(&polytls_boring::Boring);
}

#[test]
fn our_client_talks_to_openssl_s_server() {
    polytls_conformance::external::our_client_to_s_server(&polytls_boring::Boring);
}
