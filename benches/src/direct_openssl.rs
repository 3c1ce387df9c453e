//! OpenSSL used directly (no polytls): an `SslStream` over the same in-memory
//! IO, the baseline for the OpenSSL backend.

use openssl::pkey::PKey;
use openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslSessionCacheMode,
    SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use polytls_api::memio::MemIo;
use polytls_api::ProtocolVersion;
use polytls_conformance::pki::pki;

use crate::{Endpoint, Factory, Params};

/// An OpenSSL stream over memory as an endpoint.
#[derive(Debug)]
pub struct Direct {
    stream: SslStream<MemIo>,
    done: bool,
}

impl Endpoint for Direct {
    fn feed(&mut self, data: &[u8]) -> usize {
        let mut rd = data;
        while !rd.is_empty() {
            if self.stream.get_mut().fill_from(&mut rd).unwrap_or(0) == 0 {
                break;
            }
        }
        if !self.done {
            match self.stream.do_handshake() {
                Ok(()) => self.done = true,
                Err(e) if e.code() == ErrorCode::WANT_READ => {}
                Err(e) => panic!("handshake: {e}"),
            }
        }
        data.len() - rd.len()
    }
    fn emit(&mut self, out: &mut Vec<u8>) {
        while self.stream.get_ref().has_output() {
            self.stream.get_mut().drain_to(out).expect("drain");
        }
    }
    fn send(&mut self, data: &[u8]) -> usize {
        self.stream.ssl_write(data).expect("ssl_write")
    }
    fn recv(&mut self, buf: &mut [u8]) -> usize {
        self.stream.ssl_read(buf).unwrap_or(0)
    }
    fn handshaking(&self) -> bool {
        !self.done
    }
    fn suite(&self) -> Option<String> {
        Some(self.stream.ssl().current_cipher()?.name().to_owned())
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
    b.set_groups_list(groups).expect("groups");
    // The signature algorithms polytls offers, so both sides negotiate alike
    // (the crate binds the list for OpenSSL only; AWS-LC signs with the
    // same ECDSA P-256 scheme by default).
    #[cfg(not(feature = "aws-lc"))]
    {
        use polytls_api::defaults::SIGNATURE_SCHEMES;
        let sigalgs: Vec<&str> = SIGNATURE_SCHEMES.iter().map(|s| s.iana_name()).collect();
        b.set_sigalgs_list(&sigalgs.join(":")).expect("sigalgs");
        b.set_options(SslOptions::NO_COMPRESSION);
        // polytls' TLS 1.3 order (OpenSSL's own puts AES-256 first).
        b.set_ciphersuites(
            "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
        )
        .expect("TLS 1.3 suites");
    }
    b.set_options(SslOptions::NO_RENEGOTIATION);
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
        #[cfg(not(feature = "aws-lc"))]
        b.set_num_tickets(0).expect("tickets");
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
        let mut s = SslContextBuilder::new(SslMethod::tls_server()).expect("ctx");
        common(&mut s, p, root);
        identity(&mut s, &p.server_identity());
        s.set_session_id_context(b"polytls-bench").expect("sid");
        if p.mutual {
            s.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        }
        let mut c = SslContextBuilder::new(SslMethod::tls_client()).expect("ctx");
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
        let mut ssl = self.client_ssl();
        ssl.set_connect_state();
        let mut d = Direct {
            stream: SslStream::new(ssl, MemIo::new()).expect("stream"),
            done: false,
        };
        d.feed(&[]);
        d
    }
    fn server(&self) -> Direct {
        let mut ssl = self.server_ssl();
        ssl.set_accept_state();
        Direct {
            stream: SslStream::new(ssl, MemIo::new()).expect("stream"),
            done: false,
        }
    }
}

impl crate::tokio_loopback::TokioTls for DirectFactory {
    type Client = tokio_openssl::SslStream<tokio::net::TcpStream>;
    type Server = tokio_openssl::SslStream<tokio::net::TcpStream>;
    async fn connect(&self, tcp: tokio::net::TcpStream) -> Self::Client {
        let mut s = tokio_openssl::SslStream::new(self.client_ssl(), tcp).expect("stream");
        std::pin::Pin::new(&mut s)
            .connect()
            .await
            .expect("tokio-openssl connect");
        s
    }
    async fn accept(&self, tcp: tokio::net::TcpStream) -> Self::Server {
        let mut s = tokio_openssl::SslStream::new(self.server_ssl(), tcp).expect("stream");
        std::pin::Pin::new(&mut s)
            .accept()
            .await
            .expect("tokio-openssl accept");
        s
    }
}
