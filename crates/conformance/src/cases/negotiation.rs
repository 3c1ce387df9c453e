//! ALPN, SNI and resumption.

use polytls_api::{
    Backend, ClientConfig, ClientContext, Error, Incompatibility, ProtocolVersion, ServerConfig,
    ServerContext, Session,
};

use super::{client_config, connect_ok, pair, run, server_config};
use crate::pair::Pair;
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

/// Two connections from one client context to one server context; returns
/// whether the second resumed, as (client, server).
fn second_resumes<B: Backend>(b: &B, c: &ClientConfig, s: &ServerConfig) -> (bool, bool) {
    let cc = b.client_context(c).expect("client context");
    let sc = b.server_context(s).expect("server context");
    let mut first = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
    first.handshake().expect_ok();
    // Exchange data so post-handshake tickets are processed everywhere.
    first
        .transfer(crate::Side::Server, b"ticket please")
        .expect("transfer");
    first
        .transfer(crate::Side::Client, b"thanks")
        .expect("transfer");
    assert!(!first.client.info().resumed);
    let mut second = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
    second.handshake().expect_ok();
    second
        .transfer(crate::Side::Client, b"resumed?")
        .expect("transfer");
    (second.client.info().resumed, second.server.info().resumed)
}

/// The second connection resumes on both ends where the client can resume;
/// elsewhere both report a full handshake (never a false "resumed").
fn expect_resumed<B: Backend>(b: &B, c: &ClientConfig, s: &ServerConfig) {
    let got = second_resumes(b, c, s);
    if super::skip_unless(
        b,
        polytls_api::Capability::ClientResumption,
        "no client-side resumption; checking both ends report full handshakes",
    ) {
        assert_eq!(got, (false, false));
    } else {
        assert_eq!(got, (true, true));
    }
}

/// TLS 1.3 resumption with tickets: the second connection is resumed on both
/// ends.
pub fn resumption_tls13<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.min_version = ProtocolVersion::Tls13;
    expect_resumed(b, &c, &server_config(pki().server()));
}

/// TLS 1.2 resumption: the second connection is resumed on both ends.
pub fn resumption_tls12<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.max_version = ProtocolVersion::Tls12;
    expect_resumed(b, &c, &server_config(pki().server()));
}

/// Resumption off on the client: never resumed.
pub fn resumption_disabled_client<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.resumption = false;
        c.common.min_version = v;
        c.common.max_version = v;
        assert_eq!(
            second_resumes(b, &c, &server_config(pki().server())),
            (false, false),
            "{v}"
        );
    }
}

/// Resumption off on the server: never resumed.
pub fn resumption_disabled_server<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.min_version = v;
        c.common.max_version = v;
        let mut s = server_config(pki().server());
        s.common.resumption = false;
        assert_eq!(second_resumes(b, &c, &s), (false, false), "{v}");
    }
}

/// A session from one server context does not resume on another (different
/// ticket keys).
pub fn resumption_not_across_server_contexts<B: Backend>(b: &B) {
    let c = client_config();
    let s = server_config(pki().server());
    let cc = b.client_context(&c).expect("client context");
    let sc1 = b.server_context(&s).expect("server context");
    let sc2 = b.server_context(&s).expect("server context");
    let mut first = Pair::new(
        cc.connect("localhost").expect("c"),
        sc1.accept().expect("s"),
    );
    first.handshake().expect_ok();
    first
        .transfer(crate::Side::Server, b"tickets")
        .expect("transfer");
    let mut second = Pair::new(
        cc.connect("localhost").expect("c"),
        sc2.accept().expect("s"),
    );
    second.handshake().expect_ok();
    second
        .transfer(crate::Side::Client, b"x")
        .expect("transfer");
    assert!(!second.client.info().resumed && !second.server.info().resumed);
}
