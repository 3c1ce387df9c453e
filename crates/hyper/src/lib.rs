//! # polytls-hyper — HTTPS for hyper clients, on any polytls backend
//!
//! [`HttpsConnector`] is a `tower_service::Service<Uri>` for hyper-util's
//! client: it opens the TCP connection with an inner connector (hyper-util's
//! `HttpConnector` by default), runs the TLS handshake with a polytls
//! [`ClientContext`] — rustls, OpenSSL or BoringSSL, chosen by the caller —
//! and reports HTTP/2 to hyper when ALPN chose `h2`. Written once over the
//! polytls traits; it is the same for every backend.
#![doc = include_str!("example.md")]
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use polytls_api::driver::{ClientDriver, SessionDriver};
use polytls_api::tokio_io::{TlsConnector, TlsStream};
use polytls_api::{Backend, ClientConfig, ClientContext, ConfigErrorKind, Error};

/// The error type of the connector (hyper-util's convention).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects to `https` URIs over TLS (and to `http` ones in the clear,
/// unless [`https_only`](Builder::https_only)).
#[derive(Debug)]
pub struct HttpsConnector<T, C> {
    inner: T,
    tls: TlsConnector<C>,
    https_only: bool,
    server_name: Option<String>,
}

impl<T: Clone, C> Clone for HttpsConnector<T, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            tls: self.tls.clone(),
            https_only: self.https_only,
            server_name: self.server_name.clone(),
        }
    }
}

/// Builds an [`HttpsConnector`] from a backend and a client configuration.
#[derive(Debug)]
pub struct Builder<'a, B> {
    backend: &'a B,
    config: ClientConfig,
    alpn: Vec<Vec<u8>>,
    https_only: bool,
    server_name: Option<String>,
}

impl<'a, B: Backend> Builder<'a, B> {
    /// Offers HTTP/1.1 by ALPN.
    pub fn enable_http1(mut self) -> Self {
        self.alpn.push(b"http/1.1".to_vec());
        self
    }

    /// Offers HTTP/2 by ALPN (preferred when both are enabled, as the
    /// order of calls gives no preference: h2 is put first).
    pub fn enable_http2(mut self) -> Self {
        self.alpn.insert(0, b"h2".to_vec());
        self
    }

    /// Refuses `http` URIs: every connection is TLS.
    pub fn https_only(mut self) -> Self {
        self.https_only = true;
        self
    }

    /// Uses `name` for SNI and certificate verification instead of each
    /// URI's host (for example when connecting to an address).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Builds the client context and the connector over hyper-util's
    /// `HttpConnector`. The ALPN protocols enabled here replace those of
    /// the configuration, if any were enabled.
    pub fn build(self) -> polytls_api::Result<HttpsConnector<HttpConnector, B::ClientDriver>> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        self.wrap(http)
    }

    /// Builds the connector over another inner connector (one that opens
    /// the transport for a URI).
    pub fn wrap<T>(mut self, inner: T) -> polytls_api::Result<HttpsConnector<T, B::ClientDriver>> {
        if let Some(name) = &self.server_name {
            polytls_api::check_server_name(name)?;
        }
        if !self.alpn.is_empty() {
            self.config.common.alpn = self.alpn;
        }
        let context = self.backend.client_context(&self.config)?;
        let mut c = HttpsConnector::new(inner, context);
        c.https_only = self.https_only;
        c.server_name = self.server_name;
        Ok(c)
    }
}

impl HttpsConnector<(), ()> {
    /// A builder for a connector on `backend` with `config`.
    pub fn builder<B: Backend>(backend: &B, config: ClientConfig) -> Builder<'_, B> {
        Builder {
            backend,
            config,
            alpn: Vec::new(),
            https_only: false,
            server_name: None,
        }
    }
}

impl<T, C: ClientDriver> HttpsConnector<T, C> {
    /// A connector over `inner` with an existing client context (its ALPN
    /// setting decides HTTP/2).
    pub fn new(inner: T, context: ClientContext<C>) -> Self {
        Self {
            inner,
            tls: TlsConnector::new(context),
            https_only: false,
            server_name: None,
        }
    }
}

/// The host of `uri` as a TLS server name (brackets of an IPv6 literal
/// removed).
fn host(uri: &Uri) -> Option<&str> {
    uri.host()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
}

impl<T, C> tower_service::Service<Uri> for HttpsConnector<T, C>
where
    T: tower_service::Service<Uri>,
    T::Response: Read + Write + Connection + Send + Unpin + 'static,
    T::Future: Send + 'static,
    T::Error: Into<BoxError>,
    C: ClientDriver,
{
    type Response = MaybeHttpsStream<T::Response, C::Session>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        if !https && self.https_only {
            let e = Error::config(
                ConfigErrorKind::Contradiction,
                format!("https only: refusing {uri}"),
            );
            return Box::pin(async move { Err(e.into()) });
        }
        let name = self
            .server_name
            .clone()
            .or_else(|| host(&uri).map(str::to_owned));
        let connecting = self.inner.call(uri);
        let tls = self.tls.clone();
        Box::pin(async move {
            let io = connecting.await.map_err(Into::into)?;
            if !https {
                return Ok(MaybeHttpsStream::Http(io));
            }
            let name = name.ok_or("an https URI without a host")?;
            let stream = tls.connect(&name, TokioIo::new(io)).await?;
            Ok(MaybeHttpsStream::Https(TokioIo::new(stream)))
        })
    }
}

/// A connection made by [`HttpsConnector`]: TLS, or plain for `http` URIs.
#[derive(Debug)]
pub enum MaybeHttpsStream<T, D> {
    /// A plaintext connection.
    Http(T),
    /// A TLS connection.
    Https(TokioIo<TlsStream<TokioIo<T>, D>>),
}

impl<T, D> MaybeHttpsStream<T, D>
where
    T: Read + Write + Unpin,
    D: SessionDriver,
{
    /// The TLS session, for what was negotiated (`None` for plaintext).
    pub fn session(&self) -> Option<&polytls_api::Session<D>> {
        match self {
            Self::Http(_) => None,
            Self::Https(s) => Some(s.inner().session()),
        }
    }
}

impl<T, D> Connection for MaybeHttpsStream<T, D>
where
    T: Read + Write + Connection + Unpin,
    D: SessionDriver,
{
    fn connected(&self) -> Connected {
        match self {
            Self::Http(s) => s.connected(),
            Self::Https(s) => {
                let (tcp, session) = s.inner().get_ref();
                let connected = tcp.inner().connected();
                if session.alpn() == Some(b"h2") {
                    connected.negotiated_h2()
                } else {
                    connected
                }
            }
        }
    }
}

impl<T, D> Read for MaybeHttpsStream<T, D>
where
    T: Read + Write + Unpin,
    D: SessionDriver,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Http(s) => Pin::new(s).poll_read(cx, buf),
            Self::Https(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl<T, D> Write for MaybeHttpsStream<T, D>
where
    T: Read + Write + Unpin,
    D: SessionDriver,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Http(s) => Pin::new(s).poll_write(cx, buf),
            Self::Https(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Http(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Https(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Http(s) => s.is_write_vectored(),
            Self::Https(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Http(s) => Pin::new(s).poll_flush(cx),
            Self::Https(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Http(s) => Pin::new(s).poll_shutdown(cx),
            Self::Https(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
