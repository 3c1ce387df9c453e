//! # polytls — one TLS API, your choice of implementation
//!
//! Write TLS code once against [`Backend`], [`ClientConfig`] and
//! [`ServerConfig`]; pick rustls (on aws-lc-rs or *ring*), OpenSSL, BoringSSL
//! or AWS-LC by cargo feature (`rustls`, `rustls-ring`, `openssl`, `boring`,
//! `aws-lc`) or at run time with
//! [`backend_by_name`]. The backends are held to the same behaviour by a
//! shared conformance suite.
//!
//! OpenSSL, BoringSSL and AWS-LC export the same `SSL_*` C symbols, and the
//! `openssl` crate links one library per build, so at most one of the
//! `openssl`, `boring` and `aws-lc` features can be enabled; rustls
//! combines with any.
//!
//! ## Example: a tokio server and client over TCP
//!
//! ```
//! # #[cfg(all(feature = "rustls", feature = "tokio"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use polytls::tokio_io::{TlsAcceptor, TlsConnector};
//! use polytls::{Backend, ClientConfig, Identity, Roots, ServerConfig};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # let (chain_pem, key_pem, root_pem) = example_pki();
//! // Any compiled-in backend; `polytls::default_backend()` picks one for you.
//! let backend = polytls::backend_by_name("rustls")?;
//! let server = backend.server_context(&ServerConfig::new(Identity::from_pem(&chain_pem, &key_pem)?))?;
//! let client = backend.client_context(&ClientConfig::new(Roots::from_pem(&root_pem)?))?;
//!
//! tokio::runtime::Runtime::new()?.block_on(async move {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let acceptor = TlsAcceptor::new(server);
//!     let server_task = tokio::spawn(async move {
//!         let (tcp, _) = listener.accept().await?;
//!         let mut tls = acceptor.accept(tcp).await?;
//!         let mut line = [0u8; 5];
//!         tls.read_exact(&mut line).await?;
//!         tls.write_all(&line).await?;
//!         tls.shutdown().await?;
//!         Ok::<_, std::io::Error>(())
//!     });
//!
//!     let tcp = tokio::net::TcpStream::connect(addr).await?;
//!     let mut tls = TlsConnector::new(client).connect("localhost", tcp).await?;
//!     tls.write_all(b"hello").await?;
//!     let mut echo = Vec::new();
//!     tls.read_to_end(&mut echo).await?; // Ok only after the server's close_notify
//!     assert_eq!(echo, b"hello");
//!     server_task.await??;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "rustls", feature = "tokio")))] fn main() {}
//! # fn example_pki() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
//! #     use polytls_conformance::pki::pki;
//! #     let id = pki().server();
//! #     let pem = |label: &str, der: &[u8]| polytls_conformance::pki::to_pem(label, der).into_bytes();
//! #     let chain: Vec<u8> = id.chain().iter().flat_map(|c| pem("CERTIFICATE", c.as_ref())).collect();
//! #     let key = pem("PRIVATE KEY", id.key().secret_der());
//! #     (chain, key, pki().root_pem().into_bytes())
//! # }
//! ```
//!
//! ## Resumption, and sessions you can hold
//!
//! Resumption is on by default on every backend, as client and as server:
//! each [`ClientContext`] keeps the sessions its servers issue (per server
//! name; a TLS 1.3 ticket is used once; a connection that ends without
//! `close_notify` leaves nothing behind), and [`Session::info`] says
//! whether a handshake `resumed`. To hold resumption state yourself — one
//! upstream per pooled connection, say — take it from a session and offer
//! it on a later connect of the same context. Where the library can
//! serialize it (OpenSSL, BoringSSL, AWS-LC) it also survives a restart;
//! [`Capability::ResumptionExport`] says whether it can.
//!
//! ```
//! # #[cfg(feature = "rustls")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use polytls::{Backend, Capability, ClientConfig, ServerConfig};
//! # use polytls_conformance::{pki::pki, Pair, Side};
//!
//! let backend = polytls::default_backend()?;
//! # let (roots, identity) = (pki().roots(), pki().server());
//! let client = backend.client_context(&ClientConfig::new(roots))?;
//! let server = backend.server_context(&ServerConfig::new(identity))?;
//!
//! // A first connection (here over memory; any transport will do).
//! let mut first = Pair::new(client.connect("localhost")?, server.accept()?);
//! # first.handshake().expect_ok();
//! # first.transfer(Side::Server, b"tickets arrive with the first data").map_err(|(_, e)| e)?;
//! let state = first.client.take_resumption()?.expect("the server issued a session");
//!
//! // Later: offer exactly that state.
//! let mut second = Pair::new(client.connect_resuming("localhost", state)?, server.accept()?);
//! # second.handshake().expect_ok();
//! assert!(second.client.info().resumed);
//!
//! // Saved across a restart, where the backend can serialize it.
//! let state = second.client.take_resumption()?;
//! # let state = state.or_else(|| {
//! #     second.transfer(Side::Server, b"x").ok()?;
//! #     second.client.take_resumption().ok().flatten()
//! # });
//! if let Some(state) = state {
//!     if backend.supports(Capability::ResumptionExport) {
//!         let bytes = state.to_bytes()?; // secret: store it like a key
//!         let restarted = backend.client_context(&ClientConfig::new(pki().roots()))?;
//!         let restored = restarted.resumption_from_bytes(&bytes)?;
//!         let _session = restarted.connect_resuming("localhost", restored)?;
//!     }
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "rustls"))] fn main() {}
//! ```
//!
//! A value from another context, or for another server name, is refused
//! with [`Error::Misuse`] and never offered. Servers share ticket keys (a
//! fleet behind a load balancer, or across restarts) with
//! [`ServerResumption::ticket_keys`]: see [`TicketKeys`].
//!
//! ## Trust: revocation, and what resumption may skip
//!
//! Two policies hold on every backend, as client and as server:
//!
//! - [`revocation`]: CRLs checked on the peer's chain, fail closed (no CRL
//!   from the issuer, a CRL past its `nextUpdate` or before its
//!   `thisUpdate`: refused).
//! - [`trust`]: a resumed session meets today's checks. Its peer chain is
//!   checked again when the resumed handshake completes (validity now, CRL
//!   freshness, pins), a client never offers a session past the server
//!   certificate's notAfter, and a digest of the trust inputs (roots, CRLs
//!   and scope, pins, verification settings, client-auth mode) binds what
//!   resumes — so a server reloaded with a CRL that revokes a client, or a
//!   client that now pins or revokes its server, makes a full handshake
//!   and refuses, also across a fleet sharing ticket keys.

#![forbid(unsafe_code)]

#[cfg(all(feature = "openssl", feature = "boring"))]
compile_error!(
    "polytls: the `openssl` and `boring` features cannot be enabled together: \
     OpenSSL and BoringSSL export the same C symbols and cannot link into one binary. \
     Enable one of them (rustls combines with either)."
);

#[cfg(all(feature = "aws-lc", any(feature = "openssl", feature = "boring")))]
compile_error!(
    "polytls: the `aws-lc` feature cannot be enabled with `openssl` or `boring`: AWS-LC's \
     libssl exports the same `SSL_*` symbols as BoringSSL's, and the `openssl` crate links \
     either the system OpenSSL or AWS-LC for a whole build. rustls combines with any."
);

// Explicit re-exports: a glob of polytls-api would also bring modules into a
// user's `use polytls::*` under names of crates they use. The adapters are
// `polytls::blocking`, `polytls::tokio_io` and `polytls::futures_io`, named
// so they shadow nothing (tests/conventions.rs holds that).
#[cfg(feature = "futures-io")]
pub use polytls_api::futures_io;
#[cfg(feature = "tokio")]
pub use polytls_api::tokio_io;
pub use polytls_api::trust;
pub use polytls_api::{
    blocking, check_pins, check_server_name, defaults, identity, keylog, revocation, Alert,
    Backend, Capability, CertificateDer, CertificateError, CertificateRevocationListDer,
    CipherSuite, ClientAuth, ClientConfig, ClientContext, Common, ConfigError, ConfigErrorKind,
    DynBackend, DynClientContext, DynServerContext, DynSession, Error, Identity, Incompatibility,
    KeyLog, Misbehaviour, MisuseError, MisuseKind, NamedGroup, PrivateKeyDer, ProtocolVersion,
    ReadOutcome, Result, ResumptionState, Revocation, RevocationScope, Roots, ServerConfig,
    ServerContext, ServerResumption, Session, SessionInfo, SignatureScheme, SniSelector, SpkiPin,
    TicketKey, TicketKeys, Tls12Resumption, Unsupported,
};

/// For backend authors and tooling, not for applications: the traits a
/// backend implements ([`driver`](backend::driver)), the in-memory transport
/// the OpenSSL-family sessions run over ([`memio`](backend::memio)), the
/// list of known backends ([`registry`](backend::registry)) and the erased
/// drivers behind [`DynClientContext`] and [`DynServerContext`]. An
/// application writes `DynServerContext`, `tokio_io::DynTlsAcceptor` and
/// the like, never these.
pub mod backend {
    pub use polytls_api::{driver, memio, registry, DynClientDriver, DynServerDriver};
}

#[doc = include_str!("choosing_a_backend.md")]
pub mod choosing_a_backend {}

/// The backends compiled into this build.
pub mod backends {
    #[cfg(feature = "aws-lc")]
    pub use polytls_aws_lc::AwsLc;
    #[cfg(feature = "boring")]
    pub use polytls_boring::Boring;
    #[cfg(feature = "openssl")]
    pub use polytls_openssl::OpenSsl;
    #[cfg(feature = "rustls")]
    pub use polytls_rustls::Rustls;
    #[cfg(feature = "rustls-ring")]
    pub use polytls_rustls::RustlsRing;
}

/// The backend `name` as a [`DynBackend`], if it is compiled in.
fn compiled(name: &str) -> Option<DynBackend> {
    match name {
        #[cfg(feature = "rustls")]
        "rustls" => Some(DynBackend::new(polytls_rustls::Rustls)),
        #[cfg(feature = "rustls-ring")]
        "rustls-ring" => Some(DynBackend::new(polytls_rustls::RustlsRing)),
        #[cfg(feature = "openssl")]
        "openssl" => Some(DynBackend::new(polytls_openssl::OpenSsl)),
        #[cfg(feature = "boring")]
        "boring" => Some(DynBackend::new(polytls_boring::Boring)),
        #[cfg(feature = "aws-lc")]
        "aws-lc" => Some(DynBackend::new(polytls_aws_lc::AwsLc)),
        _ => None,
    }
}

/// The names of the compiled-in backends, in default precedence order.
pub fn available_backends() -> Vec<&'static str> {
    backend::registry::BACKENDS
        .iter()
        .map(|b| b.name)
        .filter(|n| compiled(n).is_some())
        .collect()
}

/// A compiled-in backend by name: `"rustls"`, `"rustls-ring"`, `"openssl"`,
/// `"boring"` or `"aws-lc"` (case-insensitive; aliases such as `"boringssl"` too, see
/// [`backend::registry`]). A known backend that is not compiled in is
/// [`Error::Unsupported`]; an unknown name is [`Error::InvalidConfig`].
pub fn backend_by_name(name: &str) -> Result<DynBackend> {
    let entry = backend::registry::lookup(name).ok_or_else(|| {
        Error::config(
            ConfigErrorKind::UnknownName,
            format!(
                "unknown backend {name:?}; known: {}",
                backend::registry::names().join(", ")
            ),
        )
    })?;
    compiled(entry.name).ok_or_else(|| {
        Error::unsupported(
            "polytls",
            None,
            format!(
                "backend {:?} is not compiled in (enable the `{}` feature); available: {:?}",
                entry.name,
                entry.feature,
                available_backends()
            ),
        )
    })
}

/// The default backend: the `POLYTLS_BACKEND` environment variable if set,
/// else the first compiled-in of rustls, rustls-ring, OpenSSL, BoringSSL,
/// AWS-LC (memory-safe first). With no backend compiled in this is [`Error::Unsupported`].
pub fn default_backend() -> Result<DynBackend> {
    if let Ok(name) = std::env::var("POLYTLS_BACKEND") {
        return backend_by_name(&name);
    }
    match available_backends().first() {
        Some(name) => backend_by_name(name),
        None => Err(Error::unsupported(
            "polytls",
            None,
            "no backend compiled in: enable `rustls`, `rustls-ring`, `openssl`, `boring` or `aws-lc`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(matches!(
            backend_by_name("nope"),
            Err(Error::InvalidConfig(_))
        ));
        #[cfg(feature = "rustls")]
        assert_eq!(
            backend_by_name("RUSTLS").map(|b| b.name()).ok(),
            Some("rustls")
        );
        #[cfg(not(feature = "boring"))]
        assert!(matches!(
            backend_by_name("boring"),
            Err(Error::Unsupported(_))
        ));
        assert_eq!(
            default_backend().map(|b| b.name()).ok(),
            available_backends()
                .first()
                .copied()
                .filter(|_| std::env::var("POLYTLS_BACKEND").is_err())
        );
    }
}
