//! Interop between two backends in one process: a client of one and a server
//! of the other, over the in-memory pair. Used by the OpenSSL-family crates
//! against rustls (the two OpenSSL-family libraries cannot share a binary).

use polytls_api::{Backend, Capability, ClientAuth, ClientConfig, ProtocolVersion, ServerConfig};

use crate::pair::{Pair, Side};
use crate::pki::{pki, KeyType, Leaf};

/// One interop scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The protocol version both ends are pinned to.
    pub version: ProtocolVersion,
    /// The server certificate's key type.
    pub key: KeyType,
    /// Whether the server requires a client certificate.
    pub mutual: bool,
}

/// Every scenario: TLS 1.2 and 1.3 × ECDSA P-256 and RSA-2048 × with and
/// without client certificates.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    for version in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        for key in [KeyType::EcdsaP256, KeyType::Rsa2048] {
            for mutual in [false, true] {
                v.push(Scenario {
                    version,
                    key,
                    mutual,
                });
            }
        }
    }
    v
}

fn configs(s: Scenario) -> (ClientConfig, ServerConfig) {
    let mut c = ClientConfig::new(pki().roots());
    c.common.min_version = s.version;
    c.common.max_version = s.version;
    c.common.alpn = vec![b"http/1.1".to_vec(), b"h2".to_vec()];
    let mut sc = ServerConfig::new(pki().identity(Leaf::Server(s.key)));
    sc.common.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    if s.mutual {
        sc.client_auth = ClientAuth::Required(pki().roots());
        c.identity = Some(pki().client());
    }
    (c, sc)
}

/// Runs one scenario with a client of `cb` and a server of `sb`; checks that
/// both ends agree on version, suite, group, ALPN, exporter output and the
/// certificates they saw, and that data and close_notify cross intact.
#[track_caller]
pub fn run_scenario<C: Backend, S: Backend>(cb: &C, sb: &S, s: Scenario) {
    let label = format!("{} client → {} server, {s:?}", cb.name(), sb.name());
    let (c, sc) = configs(s);
    let cc = cb.client_context(&c).expect("client context");
    let sctx = sb.server_context(&sc).expect("server context");
    let mut p = Pair::new(
        cc.connect("localhost").expect("connect"),
        sctx.accept().expect("accept"),
    );
    let o = p.handshake();
    assert!(o.client.is_ok() && o.server.is_ok(), "{label}: {o:?}");
    let (ci, si) = (p.client.info(), p.server.info());
    assert_eq!(ci.version, Some(s.version), "{label}");
    assert_eq!(si.version, Some(s.version), "{label}");
    assert!(ci.cipher_suite.is_some(), "{label}");
    assert_eq!(ci.cipher_suite, si.cipher_suite, "{label}");
    assert_eq!(ci.alpn.as_deref(), Some(&b"h2"[..]), "{label}");
    assert_eq!(si.alpn.as_deref(), Some(&b"h2"[..]), "{label}");
    if let (Some(a), Some(b)) = (ci.group, si.group) {
        assert_eq!(a, b, "{label}");
    }
    assert_eq!(si.sni.as_deref(), Some("localhost"), "{label}");
    let server_leaf = pki().identity(Leaf::Server(s.key)).chain()[0].clone();
    assert_eq!(ci.peer_chain.first(), Some(&server_leaf), "{label}");
    if s.mutual {
        assert_eq!(
            si.peer_chain.first(),
            pki().client().chain().first(),
            "{label}"
        );
    } else {
        assert!(si.peer_chain.is_empty(), "{label}");
    }
    let (mut ek, mut sk) = ([0u8; 48], [0u8; 48]);
    p.client
        .export_keying_material(&mut ek, b"EXPORTER-polytls-interop", Some(b"ctx"))
        .expect("client export");
    p.server
        .export_keying_material(&mut sk, b"EXPORTER-polytls-interop", Some(b"ctx"))
        .expect("server export");
    assert_eq!(ek, sk, "{label}: exporters differ");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(
        p.transfer(Side::Client, &data).expect("c->s"),
        data,
        "{label}"
    );
    assert_eq!(
        p.transfer(Side::Server, &data).expect("s->c"),
        data,
        "{label}"
    );
    p.client.send_close_notify();
    p.pump().expect("pump");
    let (_, closed) = p.read_all(Side::Server).expect("read");
    assert!(closed, "{label}: close_notify");
}

/// Every scenario in both directions between `a` and `b`; returns how many
/// ran.
pub fn both_directions<A: Backend, B: Backend>(a: &A, b: &B) -> usize {
    let mut n = 0;
    for s in scenarios() {
        run_scenario(a, b, s);
        run_scenario(b, a, s);
        n += 2;
    }
    n
}

/// Resumption across backends: a client of `cb` comes back to a server of
/// `sb` and both report a resumed session, on TLS 1.2 and 1.3.
pub fn resumption<C: Backend, S: Backend>(cb: &C, sb: &S) {
    for version in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = ClientConfig::new(pki().roots());
        c.common.min_version = version;
        c.common.max_version = version;
        let cc = cb.client_context(&c).expect("client context");
        let sc = sb
            .server_context(&ServerConfig::new(pki().server()))
            .expect("server context");
        let mut first = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
        first.handshake().expect_ok();
        first.transfer(Side::Server, b"tickets").expect("transfer");
        let mut second = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
        second.handshake().expect_ok();
        second.transfer(Side::Client, b"resumed").expect("transfer");
        assert!(second.client.info().resumed, "{version}: client resumed");
        assert!(second.server.info().resumed, "{version}: server resumed");
    }
}

/// Early data across backends: a client of `cb` resumes with a server of
/// `sb` and sends its first bytes early; the server reads them once and both
/// ends report them accepted. Needs early data on `cb` as a client and on
/// `sb` as a server.
pub fn early_data<C: Backend, S: Backend>(cb: &C, sb: &S) {
    assert!(cb.supports(Capability::ClientEarlyData) && sb.supports(Capability::ServerEarlyData));
    let mut c = ClientConfig::new(pki().roots());
    c.common.min_version = ProtocolVersion::Tls13;
    c.early_data = true;
    let mut s = ServerConfig::new(pki().server());
    s.max_early_data = 16 * 1024;
    let cc = cb.client_context(&c).expect("client context");
    let sc = sb.server_context(&s).expect("server context");
    let mut first = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
    first.handshake().expect_ok();
    first.transfer(Side::Server, b"tickets").expect("transfer");
    let mut client = cc.connect("localhost").expect("c");
    let early = b"GET /idempotent";
    assert_eq!(client.write_early_data(early).expect("early"), early.len());
    let mut second = Pair::new(client, sc.accept().expect("s"));
    second.handshake().expect_ok();
    second.pump().expect("pump");
    assert_eq!(second.read_all(Side::Server).expect("read").0, early);
    assert!(second.client.early_data_accepted() && second.server.early_data_accepted());
    assert_eq!(
        second.transfer(Side::Client, b"then").expect("transfer"),
        b"then"
    );
}
