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
/// `Session::native` reaches BoringSSL's own `SSL`, which agrees with what
/// polytls reports (the escape hatch is outside the portable guarantee, but
/// it must be the live connection).
#[test]
fn native_escape_reaches_the_live_ssl() {
    use polytls_conformance::cases::{client_config, connect_ok, server_config};
    use polytls_conformance::pki::pki;
    let p = connect_ok(
        &polytls_boring::Boring,
        &client_config(),
        &server_config(pki().server()),
    );
    let suite = p.client.info().cipher_suite.expect("a suite");
    let ssl = p
        .client
        .native::<polytls_boring::BoringDriver>()
        .expect("the BoringSSL driver")
        .ssl()
        .expect("a live SSL");
    let cipher = ssl.current_cipher().expect("a cipher");
    assert_eq!(cipher.standard_name(), Some(suite.iana_name()));
    assert_eq!(ssl.version_str(), "TLSv1.3");
    assert!(p.server.native::<polytls_boring::BoringDriver>().is_some());
    assert!(p.client.native::<String>().is_none(), "wrong type is None");
}
