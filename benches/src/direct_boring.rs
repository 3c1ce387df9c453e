//! BoringSSL used directly (no polytls): an `SslStream` over the same in-memory
//! IO, the baseline for the BoringSSL backend.

use boring::pkey::PKey;
use boring::ssl::{
    HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslContextBuilder, SslMethod,
    SslOptions, SslSessionCacheMode, SslStream, SslStreamBuilder, SslVerifyMode, SslVersion,
};
use boring::x509::X509;
use polytls_api::defaults::SIGNATURE_SCHEMES;
use polytls_api::memio::MemIo;
use polytls_api::ProtocolVersion;
use polytls_conformance::pki::pki;

use crate::{Endpoint, Factory, Params};

/// A BoringSSL stream over memory as an endpoint (the boring crate runs the
/// handshake on a separate type).
#[derive(Debug)]
pub enum Direct {
    /// Handshaking.
    Mid(MidHandshakeSslStream<MemIo>),
    /// Established.
    Ready(SslStream<MemIo>),
    /// Only while moving between the two.
    Empty,
}

impl Direct {
    fn io(&mut self) -> &mut MemIo {
        match self {
            Direct::Mid(m) => m.get_mut(),
            Direct::Ready(s) => s.get_mut(),
            Direct::Empty => unreachable!(),
        }
    }

    fn stream(&mut self) -> &mut SslStream<MemIo> {
        match self {
            Direct::Ready(s) => s,
            _ => panic!("not established"),
        }
    }
}

impl Endpoint for Direct {
    fn feed(&mut self, data: &[u8]) -> usize {
        let mut rd = data;
        while !rd.is_empty() {
            if self.io().fill_from(&mut rd).unwrap_or(0) == 0 {
                break;
            }
        }
        if let Direct::Mid(_) = self {
            let Direct::Mid(mid) = std::mem::replace(self, Direct::Empty) else {
                unreachable!()
            };
            *self = match mid.handshake() {
                Ok(s) => Direct::Ready(s),
                Err(HandshakeError::WouldBlock(m)) => Direct::Mid(m),
                Err(e) => panic!("handshake: {e}"),
            };
        }
        data.len() - rd.len()
    }
    fn emit(&mut self, out: &mut Vec<u8>) {
        let io = self.io();
        while io.has_output() {
            io.drain_to(out).expect("drain");
        }
    }
    fn send(&mut self, data: &[u8]) -> usize {
        self.stream().ssl_write(data).expect("ssl_write")
    }
    fn recv(&mut self, buf: &mut [u8]) -> usize {
        self.stream().ssl_read(buf).unwrap_or(0)
    }
    fn handshaking(&self) -> bool {
        !matches!(self, Direct::Ready(_))
    }
    fn suite(&self) -> Option<String> {
        match self {
            Direct::Ready(s) => Some(s.ssl().current_cipher()?.name().to_owned()),
            _ => None,
        }
    }
}

/// `SSL_CTX`s equivalent to what polytls builds for a case.
pub struct DirectFactory {
    client: SslContext,
    server: SslContext,
}

fn common(b: &mut SslContextBuilder, p: &Params, root: &[u8]) {
    let v = match p.version {
        ProtocolVersion::Tls12 => SslVersion::TLS1_2,
        _ => SslVersion::TLS1_3,
    };
    b.set_min_proto_version(Some(v)).expect("min");
    b.set_max_proto_version(Some(v)).expect("max");
    let groups = p.group.map_or("X25519:P-256", |g| g.openssl_name());
    b.set_curves_list(groups).expect("groups");
    // The signature algorithms polytls offers (BoringSSL's client leaves
    // Ed25519 out by default; the baseline must negotiate what polytls does).
    let sigalgs: Vec<&str> = SIGNATURE_SCHEMES.iter().map(|s| s.iana_name()).collect();
    b.set_sigalgs_list(&sigalgs.join(":")).expect("sigalgs");
    b.set_options(SslOptions::NO_COMPRESSION | SslOptions::NO_RENEGOTIATION);
    match p.suite {
        Some(s) => b.set_cipher_list(s.openssl_name()).expect("suite"),
        None => b
            .set_cipher_list(&crate::default_tls12_suites())
            .expect("suites"),
    }
    b.cert_store_mut()
        .add_cert(X509::from_der(root).expect("root"))
        .expect("store");
    if !p.resumption {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
        b.set_options(SslOptions::NO_TICKET);
    }
}

fn identity(b: &mut SslContextBuilder, id: &polytls_api::Identity) {
    b.set_certificate(&X509::from_der(&id.chain()[0]).expect("leaf"))
        .expect("cert");
    for c in &id.chain()[1..] {
        b.add_extra_chain_cert(X509::from_der(c).expect("chain"))
            .expect("chain");
    }
    b.set_private_key(&PKey::private_key_from_der(id.key().secret_der()).expect("key"))
        .expect("key");
}

impl DirectFactory {
    /// Builds both contexts for `p`.
    pub fn new(p: &Params) -> Self {
        Self::trusting(p, &pki().root())
    }

    /// Both contexts for `p`, the client trusting `root` (a server in
    /// another process, with its own PKI).
    pub fn trusting(p: &Params, root: &[u8]) -> Self {
        let mut s = SslContextBuilder::new(SslMethod::tls()).expect("ctx");
        common(&mut s, p, root);
        identity(&mut s, &p.server_identity());
        s.set_session_id_context(b"polytls-bench").expect("sid");
        if p.mutual {
            s.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        }
        let mut c = SslContextBuilder::new(SslMethod::tls()).expect("ctx");
        common(&mut c, p, root);
        c.set_verify(SslVerifyMode::PEER);
        if p.mutual {
            identity(&mut c, &pki().client());
        }
        Self {
            client: c.build(),
            server: s.build(),
        }
    }
}

impl DirectFactory {
    /// A client `SSL` for "localhost" (SNI and hostname check set).
    pub fn client_ssl(&self) -> Ssl {
        let mut ssl = Ssl::new(&self.client).expect("ssl");
        ssl.set_hostname("localhost").expect("sni");
        ssl.param_mut().set_host("localhost").expect("host");
        ssl
    }

    /// A server `SSL`.
    pub fn server_ssl(&self) -> Ssl {
        Ssl::new(&self.server).expect("ssl")
    }
}

impl Factory for DirectFactory {
    type Client = Direct;
    type Server = Direct;
    fn client(&self) -> Direct {
        let ssl = self.client_ssl();
        let mut d = Direct::Mid(SslStreamBuilder::new(ssl, MemIo::new()).setup_connect());
        d.feed(&[]);
        d
    }
    fn server(&self) -> Direct {
        let ssl = self.server_ssl();
        Direct::Mid(SslStreamBuilder::new(ssl, MemIo::new()).setup_accept())
    }
}

impl crate::tokio_loopback::TokioTls for DirectFactory {
    type Client = tokio_boring::SslStream<tokio::net::TcpStream>;
    type Server = tokio_boring::SslStream<tokio::net::TcpStream>;
    async fn connect(&self, tcp: tokio::net::TcpStream) -> Self::Client {
        tokio_boring::SslStreamBuilder::new(self.client_ssl(), tcp)
            .connect()
            .await
            .expect("tokio-boring connect")
    }
    async fn accept(&self, tcp: tokio::net::TcpStream) -> Self::Server {
        tokio_boring::SslStreamBuilder::new(self.server_ssl(), tcp)
            .accept()
            .await
            .expect("tokio-boring accept")
    }
}
