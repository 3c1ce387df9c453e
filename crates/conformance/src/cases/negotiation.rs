//! ALPN and SNI.

use polytls_api::{Backend, Error, Incompatibility, ServerConfig};

use super::{client_config, connect_ok, pair, run, server_config};
use crate::pki::{pki, Leaf};

fn alpn(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Overlapping ALPN lists agree on the server's most preferred protocol.
pub fn alpn_server_preference<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.alpn = alpn(&["http/1.1", "h2"]);
    let mut s = server_config(pki().server());
    s.common.alpn = alpn(&["h2", "http/1.1"]);
    let p = connect_ok(b, &c, &s);
    assert_eq!(p.client.info().alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(p.server.info().alpn.as_deref(), Some(&b"h2"[..]));
}

/// No overlap: the server refuses with `NoApplicationProtocol`.
pub fn alpn_no_overlap<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.alpn = alpn(&["imap"]);
    let mut s = server_config(pki().server());
    s.common.alpn = alpn(&["h2"]);
    let (_, o) = run(b, &c, &s);
    assert!(
        matches!(
            o.server_err(),
            Error::PeerIncompatible(Incompatibility::NoApplicationProtocol)
        ),
        "{o:?}"
    );
    assert!(
        matches!(o.client_err(), Error::AlertReceived(a) if *a == polytls_api::Alert::NO_APPLICATION_PROTOCOL),
        "{o:?}"
    );
}

/// A client that sends no ALPN gets none, even from an ALPN server.
pub fn alpn_client_sends_none<B: Backend>(b: &B) {
    let mut s = server_config(pki().server());
    s.common.alpn = alpn(&["h2"]);
    let p = connect_ok(b, &client_config(), &s);
    assert_eq!(p.client.info().alpn, None);
    assert_eq!(p.server.info().alpn, None);
}

fn sni_server() -> ServerConfig {
    let mut s = server_config(pki().server());
    s.sni_identities = vec![("alt.test".into(), pki().identity(Leaf::Alt))];
    s
}

/// SNI picks the matching identity; the server reports the name.
pub fn sni_selects_identity<B: Backend>(b: &B) {
    let mut p = pair(b, &client_config(), &sni_server(), "alt.test");
    p.handshake().expect_ok();
    let alt = pki().identity(Leaf::Alt);
    assert_eq!(p.client.info().peer_chain.first(), alt.chain().first());
    assert_eq!(p.server.info().sni.as_deref(), Some("alt.test"));
}

/// An SNI name with no entry gets the default identity.
pub fn sni_unknown_name_uses_default<B: Backend>(b: &B) {
    let mut p = pair(b, &client_config(), &sni_server(), "localhost");
    p.handshake().expect_ok();
    assert_eq!(
        p.client.info().peer_chain.first(),
        pki().server().chain().first()
    );
}

/// A client that sends no SNI (an IP address) gets the default identity.
pub fn sni_absent_uses_default<B: Backend>(b: &B) {
    let mut p = pair(b, &client_config(), &sni_server(), "127.0.0.1");
    p.handshake().expect_ok();
    assert_eq!(p.server.info().sni, None);
    assert_eq!(
        p.client.info().peer_chain.first(),
        pki().server().chain().first()
    );
}

/// A server acknowledges the SNI it received (an empty `server_name` in its
/// TLS 1.2 ServerHello), with and without SNI identities: the
/// OpenSSL-family libraries do so only when a servername callback accepts
/// the name (found by BoGo's `ServerNameExtensionServer-*`).
pub fn sni_acknowledged<B: Backend>(b: &B) {
    let mut with_sni = server_config(pki().server());
    with_sni
        .sni_identities
        .push(("alt.test".into(), pki().identity(crate::pki::Leaf::Alt)));
    for (what, s) in [
        ("no SNI identities", server_config(pki().server())),
        ("SNI identities", with_sni),
    ] {
        let mut c = client_config();
        c.common.min_version = polytls_api::ProtocolVersion::Tls12;
        c.common.max_version = polytls_api::ProtocolVersion::Tls12;
        let cc = b.client_context(&c).expect("client context");
        let sc = b.server_context(&s).expect("server context");
        let mut client = cc.connect("localhost").expect("connect");
        let mut hello = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut hello).expect("ClientHello");
        }
        let mut server = sc.accept().expect("accept");
        let mut rd: &[u8] = &hello;
        while !rd.is_empty() && server.read_tls(&mut rd).expect("read") > 0 {}
        server.process_new_packets().expect("ClientHello processed");
        let mut flight = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut flight).expect("ServerHello");
        }
        let types = crate::wire::server_hello_extensions(&flight).expect("a ServerHello");
        assert!(
            types.contains(&0),
            "{what}: server_name acknowledged: {types:?}"
        );
    }
}
