//! # polytls-postgres — TLS for tokio-postgres, on any polytls backend
//!
//! [`MakeTlsConnector`] implements tokio-postgres' `MakeTlsConnect`: give it
//! a polytls [`ClientContext`] — rustls, OpenSSL or BoringSSL — and pass it
//! to `tokio_postgres::connect`. The stream supports SCRAM channel binding
//! (`channel_binding=require`) with `tls-server-end-point` (RFC 5929): the
//! hash of the server's certificate, by the hash of its signature algorithm
//! (SHA-256 for MD5 and SHA-1). Written once over the polytls traits.
#![doc = include_str!("example.md")]
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use polytls_api::driver::{ClientDriver, SessionDriver};
use polytls_api::tokio_io::{TlsConnector, TlsStream};
use polytls_api::{CertificateDer, ClientContext};
use sha2::{Digest, Sha256, Sha384, Sha512};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// The error type of the connector.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Makes a TLS connector per connection, for `tokio_postgres::connect`.
#[derive(Debug)]
pub struct MakeTlsConnector<C> {
    tls: TlsConnector<C>,
}

impl<C> Clone for MakeTlsConnector<C> {
    fn clone(&self) -> Self {
        Self {
            tls: self.tls.clone(),
        }
    }
}

impl<C: ClientDriver> MakeTlsConnector<C> {
    /// A connector with `context` (its roots verify the server; its
    /// identity, if any, is the client certificate).
    pub fn new(context: ClientContext<C>) -> Self {
        Self {
            tls: TlsConnector::new(context),
        }
    }
}

impl<S, C> MakeTlsConnect<S> for MakeTlsConnector<C>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    C: ClientDriver,
{
    type Stream = PgTlsStream<S, C::Session>;
    type TlsConnect = PgTlsConnect<C>;
    type Error = BoxError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<PgTlsConnect<C>, BoxError> {
        polytls_api::check_server_name(domain)?;
        Ok(PgTlsConnect {
            tls: self.tls.clone(),
            domain: domain.to_owned(),
        })
    }
}

/// Connects one stream, to the server `domain` names.
#[derive(Debug)]
pub struct PgTlsConnect<C> {
    tls: TlsConnector<C>,
    domain: String,
}

impl<S, C> TlsConnect<S> for PgTlsConnect<C>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    C: ClientDriver,
{
    type Stream = PgTlsStream<S, C::Session>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Stream, BoxError>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let tls = self.tls.connect(&self.domain, stream).await?;
            Ok(PgTlsStream(tls))
        })
    }
}

/// A TLS stream to PostgreSQL.
#[derive(Debug)]
pub struct PgTlsStream<S, D>(TlsStream<S, D>);

impl<S, D> PgTlsStream<S, D>
where
    S: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    /// The TLS stream (for what was negotiated).
    pub fn get_ref(&self) -> &TlsStream<S, D> {
        &self.0
    }
}

/// `tls-server-end-point` data for a server certificate (RFC 5929 §4.1):
/// its hash by the hash function of its signature algorithm, SHA-256 when
/// that is MD5 or SHA-1; `None` when the algorithm names no single hash
/// (Ed25519, RSA-PSS with unknown parameters).
pub fn tls_server_end_point(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let alg = parsed.signature_algorithm.algorithm.to_id_string();
    // RSA PKCS#1 and ECDSA signature algorithms by hash (RFC 3279, 4055,
    // 5758); MD5 and SHA-1 use SHA-256.
    let sha256 = [
        "1.2.840.113549.1.1.4",  // md5WithRSAEncryption
        "1.2.840.113549.1.1.5",  // sha1WithRSAEncryption
        "1.2.840.10045.4.1",     // ecdsa-with-SHA1
        "1.2.840.113549.1.1.11", // sha256WithRSAEncryption
        "1.2.840.10045.4.3.2",   // ecdsa-with-SHA256
    ];
    let sha384 = ["1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3"];
    let sha512 = ["1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4"];
    let alg = alg.as_str();
    let der = cert.as_ref();
    if sha256.contains(&alg) {
        Some(Sha256::digest(der).to_vec())
    } else if sha384.contains(&alg) {
        Some(Sha384::digest(der).to_vec())
    } else if sha512.contains(&alg) {
        Some(Sha512::digest(der).to_vec())
    } else {
        None
    }
}

impl<S, D> tokio_postgres::tls::TlsStream for PgTlsStream<S, D>
where
    S: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    fn channel_binding(&self) -> ChannelBinding {
        match self
            .0
            .session()
            .peer_leaf()
            .as_ref()
            .and_then(tls_server_end_point)
        {
            Some(data) => ChannelBinding::tls_server_end_point(data),
            None => ChannelBinding::none(),
        }
    }
}

impl<S, D> AsyncRead for PgTlsStream<S, D>
where
    S: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<S, D> AsyncWrite for PgTlsStream<S, D>
where
    S: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
