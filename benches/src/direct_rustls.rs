//! rustls used directly (no polytls): the baseline for the rustls backend.

use std::io::{Read, Write};
use std::sync::Arc;

use polytls_api::defaults::SIGNATURE_SCHEMES;
use rustls::client::Resumption;
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::ServerName;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, Signer, SigningKey, SingleCertAndKey};
use rustls::{ClientConnection, Connection, RootCertStore, ServerConnection};

use crate::{Endpoint, Factory, Params};
use polytls_conformance::pki::pki;

/// A rustls connection as an endpoint.
#[derive(Debug)]
pub struct Direct(Connection);

impl Endpoint for Direct {
    fn feed(&mut self, data: &[u8]) -> usize {
        let mut rd = data;
        while !rd.is_empty() {
            match self.0.read_tls(&mut rd) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    self.0.process_new_packets().expect("process");
                }
            }
        }
        data.len() - rd.len()
    }
    fn emit(&mut self, out: &mut Vec<u8>) {
        while self.0.wants_write() {
            self.0.write_tls(out).expect("write_tls");
        }
    }
    fn send(&mut self, data: &[u8]) -> usize {
        self.0.writer().write(data).expect("write")
    }
    fn recv(&mut self, buf: &mut [u8]) -> usize {
        self.0.reader().read(buf).unwrap_or(0)
    }
    fn handshaking(&self) -> bool {
        self.0.is_handshaking()
    }
    fn suite(&self) -> Option<String> {
        let code = u16::from(self.0.negotiated_cipher_suite()?.suite());
        Some(
            polytls_api::CipherSuite::from_code(code)?
                .openssl_name()
                .to_owned(),
        )
    }
}

/// rustls configurations equivalent to what polytls builds for a case.
pub struct DirectFactory {
    client: Arc<rustls::ClientConfig>,
    server: Arc<rustls::ServerConfig>,
}

/// The provider a direct baseline runs on: aws-lc-rs, or *ring*.
fn provider(p: &Params, ring: bool) -> Arc<CryptoProvider> {
    let (mut provider, suites, groups) = if ring {
        #[cfg(feature = "rustls-ring")]
        {
            use rustls::crypto::ring;
            (
                ring::default_provider(),
                ring::ALL_CIPHER_SUITES,
                vec![ring::kx_group::X25519, ring::kx_group::SECP256R1],
            )
        }
        #[cfg(not(feature = "rustls-ring"))]
        unreachable!("the rustls-ring feature is off")
    } else {
        let groups = match p.group {
            Some(polytls_api::NamedGroup::X25519MLKEM768) => {
                vec![aws_lc_rs::kx_group::X25519MLKEM768]
            }
            _ => vec![aws_lc_rs::kx_group::X25519, aws_lc_rs::kx_group::SECP256R1],
        };
        (
            aws_lc_rs::default_provider(),
            aws_lc_rs::ALL_CIPHER_SUITES,
            groups,
        )
    };
    provider.kx_groups = groups;
    // polytls' portable list and order (or the pinned suite): the provider's
    // own order prefers AES-256, so both ends negotiated another suite than
    // polytls does, and the baseline measured other work.
    provider.cipher_suites = polytls_api::defaults::CIPHER_SUITES
        .iter()
        .filter(|s| p.suite.is_none_or(|pinned| pinned == **s))
        .filter_map(|s| suites.iter().find(|c| u16::from(c.suite()) == s.code()))
        .copied()
        .collect();
    Arc::new(provider)
}

/// `id` signing with polytls' portable schemes in their order, as polytls
/// signs on every backend: rustls' own order (SHA-512 first for RSA)
/// would make the two sides hash different amounts, and the comparison
/// measure the scheme, not polytls.
fn portable(provider: &CryptoProvider, id: &polytls_api::Identity) -> Arc<SingleCertAndKey> {
    let key = provider
        .key_provider
        .load_private_key(id.key().clone_key())
        .expect("key");
    let key = CertifiedKey::new(id.chain().to_vec(), Arc::new(PortableOrder(key)));
    Arc::new(SingleCertAndKey::from(key))
}

/// A signing key choosing among the offered schemes in polytls' order.
#[derive(Debug)]
struct PortableOrder(Arc<dyn SigningKey>);

impl SigningKey for PortableOrder {
    fn choose_scheme(&self, offered: &[rustls::SignatureScheme]) -> Option<Box<dyn Signer>> {
        SIGNATURE_SCHEMES
            .iter()
            .map(|s| rustls::SignatureScheme::from(s.code()))
            .filter(|s| offered.contains(s))
            .find_map(|s| self.0.choose_scheme(&[s]))
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        self.0.algorithm()
    }
}

impl DirectFactory {
    /// Builds both configurations for `p`, on aws-lc-rs.
    pub fn new(p: &Params) -> Self {
        Self::on(p, false)
    }

    /// Builds both configurations for `p`, on *ring*.
    #[cfg(feature = "rustls-ring")]
    pub fn ring(p: &Params) -> Self {
        Self::on(p, true)
    }

    fn on(p: &Params, ring: bool) -> Self {
        let provider = provider(p, ring);
        let version: &'static rustls::SupportedProtocolVersion = match p.version {
            polytls_api::ProtocolVersion::Tls12 => &rustls::version::TLS12,
            _ => &rustls::version::TLS13,
        };
        let mut roots = RootCertStore::empty();
        roots.add(pki().root()).expect("root");
        let roots = Arc::new(roots);
        let id = p.server_identity();
        let verifier = if p.mutual {
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .expect("client verifier")
        } else {
            WebPkiClientVerifier::no_client_auth()
        };
        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(portable(&provider, &id));
        server.ignore_client_order = true;
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .expect("versions")
            .with_root_certificates(roots);
        let mut client = if p.mutual {
            builder.with_client_cert_resolver(portable(&provider, &pki().client()))
        } else {
            builder.with_no_client_auth()
        };
        if p.resumption {
            server.ticketer = aws_lc_rs::Ticketer::new().expect("ticketer");
            client.resumption = Resumption::in_memory_sessions(256);
        } else {
            server.session_storage = Arc::new(NoServerSessionStorage {});
            server.send_tls13_tickets = 0;
            client.resumption = Resumption::disabled();
        }
        Self {
            client: Arc::new(client),
            server: Arc::new(server),
        }
    }
}

impl DirectFactory {
    /// The client and server configurations (for tokio-rustls).
    pub fn configs(&self) -> (Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>) {
        (self.client.clone(), self.server.clone())
    }
}

impl Factory for DirectFactory {
    type Client = Direct;
    type Server = Direct;
    fn client(&self) -> Direct {
        let name = ServerName::try_from("localhost").expect("name");
        Direct(
            ClientConnection::new(self.client.clone(), name)
                .expect("client")
                .into(),
        )
    }
    fn server(&self) -> Direct {
        Direct(
            ServerConnection::new(self.server.clone())
                .expect("server")
                .into(),
        )
    }
}

impl crate::tokio_loopback::TokioTls for DirectFactory {
    type Client = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;
    type Server = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    async fn connect(&self, tcp: tokio::net::TcpStream) -> Self::Client {
        let name = ServerName::try_from("localhost").expect("name");
        tokio_rustls::TlsConnector::from(self.client.clone())
            .connect(name, tcp)
            .await
            .expect("tokio-rustls connect")
    }
    async fn accept(&self, tcp: tokio::net::TcpStream) -> Self::Server {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
            .accept(tcp)
            .await
            .expect("tokio-rustls accept")
    }
}
