//! OpenSsl against peers nobody here wrote (the `openssl` command line tool).

#[test]
fn renegotiation_is_refused() {
    polytls_conformance::external::renegotiation_refused(&polytls_openssl::OpenSsl);
}

#[test]
fn openssl_s_client_talks_to_our_server() {
    polytls_conformance::external::s_client_to_our_server(&polytls_openssl::OpenSsl);
}

#[test]
fn curl_talks_to_our_server() {
    polytls_conformance::external::curl_to_our_server(&polytls_openssl::OpenSsl);
}

#[test]
fn our_client_talks_to_openssl_s_server() {
    polytls_conformance::external::our_client_to_s_server(&polytls_openssl::OpenSsl);
}

/// `Session::native` reaches OpenSSL's own `SSL`, which agrees with what
/// polytls reports (the escape hatch is outside the portable guarantee, but
/// it must be the live connection).
#[test]
fn native_escape_reaches_the_live_ssl() {
    use polytls_conformance::cases::{client_config, connect_ok, server_config};
    use polytls_conformance::pki::pki;
    let p = connect_ok(
        &polytls_openssl::OpenSsl,
        &client_config(),
        &server_config(pki().server()),
    );
    let suite = p.client.info().cipher_suite.expect("a suite");
    let ssl = p
        .client
        .native::<polytls_openssl::OpenSslDriver>()
        .expect("the OpenSSL driver")
        .ssl();
    let cipher = ssl.current_cipher().expect("a cipher");
    assert_eq!(cipher.standard_name(), Some(suite.iana_name()));
    assert_eq!(ssl.version_str(), "TLSv1.3");
    assert!(p
        .server
        .native::<polytls_openssl::OpenSslDriver>()
        .is_some());
    assert!(p.client.native::<String>().is_none(), "wrong type is None");
}
