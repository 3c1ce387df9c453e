//! Contexts built once per process from the conformance PKI.

use std::sync::OnceLock;

use polytls_api::{
    Backend, ClientAuth, ClientConfig, DynBackend, DynClientContext, DynServerContext, ServerConfig,
};
use polytls_conformance::pki::pki;

/// A backend with a client and a server context that trust each other.
pub struct Fixture {
    /// The backend.
    pub backend: DynBackend,
    /// A client trusting the test root.
    pub client: DynClientContext,
    /// A server with the test identity and ALPN `h2`, `http/1.1`.
    pub server: DynServerContext,
    /// The same server, asking for client certificates (optional).
    pub server_mtls: DynServerContext,
}

/// The backends of this build: rustls, the OpenSSL-family one if any, then
/// rustls on *ring* if built with it.
pub fn backends() -> Vec<DynBackend> {
    let mut v = vec![DynBackend::new(polytls_rustls::Rustls)];
    #[cfg(feature = "openssl")]
    v.push(DynBackend::new(polytls_openssl::OpenSsl));
    #[cfg(feature = "boring")]
    v.push(DynBackend::new(polytls_boring::Boring));
    #[cfg(feature = "aws-lc")]
    v.push(DynBackend::new(polytls_aws_lc::AwsLc));
    // Last: the targets that pick two backends by one bit each pick among
    // the first two (rustls and the family library); the others run all.
    #[cfg(feature = "rustls-ring")]
    v.push(DynBackend::new(polytls_rustls::RustlsRing));
    v
}

fn build(backend: DynBackend) -> Fixture {
    let mut cc = ClientConfig::new(pki().roots());
    cc.common.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut sc = ServerConfig::new(pki().server());
    sc.common.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut sc_mtls = sc.clone();
    sc_mtls.client_auth = ClientAuth::Optional(pki().roots());
    let fixture = || -> polytls_api::Result<Fixture> {
        Ok(Fixture {
            client: backend.client_context(&cc)?,
            server: backend.server_context(&sc)?,
            server_mtls: backend.server_context(&sc_mtls)?,
            backend: backend.clone(),
        })
    };
    match fixture() {
        Ok(f) => f,
        Err(e) => panic!("fixture for {}: {e}", backend.name()),
    }
}

/// The fixtures of every backend of this build, built on first use.
pub fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| backends().into_iter().map(build).collect())
}
