//! Rustls against peers nobody here wrote (the `openssl` command line tool).

#[test]
fn renegotiation_is_refused() {
    polytls_conformance::external::renegotiation_refused(&polytls_rustls::Rustls);
}

#[test]
fn openssl_s_client_talks_to_our_server() {
    polytls_conformance::external::s_client_to_our_server(&polytls_rustls::Rustls);
}

#[test]
fn curl_talks_to_our_server() {
    polytls_conformance::external::curl_to_our_server(&polytls_rustls::Rustls);
}

#[test]
fn our_client_talks_to_openssl_s_server() {
    polytls_conformance::external::our_client_to_s_server(&polytls_rustls::Rustls);
}

/// `Session::native` reaches the rustls connection, which agrees with what
/// polytls reports (the escape hatch is outside the portable guarantee, but
/// it must be the live connection).
#[test]
fn native_escape_reaches_the_live_connection() {
    use polytls_conformance::cases::{client_config, connect_ok, server_config};
    use polytls_conformance::pki::pki;
    let p = connect_ok(
        &polytls_rustls::Rustls,
        &client_config(),
        &server_config(pki().server()),
    );
    let suite = p.client.info().cipher_suite.expect("a suite");
    let conn = p
        .client
        .native::<polytls_rustls::RustlsSession>()
        .expect("the rustls session")
        .connection();
    let negotiated = conn.negotiated_cipher_suite().expect("a suite");
    assert_eq!(u16::from(negotiated.suite()), suite.code());
    assert!(!conn.is_handshaking());
    assert!(p.server.native::<polytls_rustls::RustlsSession>().is_some());
    assert!(p.client.native::<String>().is_none(), "wrong type is None");
}
