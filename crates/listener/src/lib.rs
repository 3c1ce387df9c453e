//! # polytls-listener — TLS for tokio servers, on any polytls backend
//!
//! [`TlsListener`] accepts TCP connections and runs their TLS handshakes
//! concurrently, each under a timeout, with a bound on handshakes in flight,
//! so a slow or silent client never holds up the others; it hands out
//! finished [`TlsConnection`]s. Written once over the polytls traits, it is
//! the same for rustls, OpenSSL and BoringSSL.
//!
//! - [`TlsListener::from_config`] offers ALPN `h2` and `http/1.1` unless the
//!   configuration names its own protocols, as axum-server does: HTTP/2
//!   clients get HTTP/2 without a word. ([`TlsListener::new`] takes a
//!   context as it was built.)
//! - The certificate and key reload without dropping a connection:
//!   [`Reloader::reload_from_pem_files`], or [`Reloader::watch_pem_files`]
//!   to reload when the files change.
//! - Handshakes that fail are observable:
//!   [`TlsListener::on_handshake_failure`] hears each one, with its error
//!   category and the peer's address.
//! - With the `axum` feature, `TlsListener` is an `axum::serve::Listener`:
//!   `axum::serve(listener, app)`.
//! - With the `tonic` feature, `TlsConnection` is tonic's `Connected` (its
//!   connect info carries the peer's address and certificates), and
//!   [`TlsListener::into_stream`] feeds `Server::serve_with_incoming`.
#![doc = include_str!("example.md")]
#![forbid(unsafe_code)]

pub mod admission;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use polytls_api::driver::ServerDriver;
use polytls_api::tokio_io::{TlsAcceptor, TlsStream};
use polytls_api::{Backend, CertificateDer, Identity, ServerConfig, ServerContext};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::admission::{HandshakeLimits, Handshaking};

/// What a handshake-failure hook hears about one failed handshake.
#[derive(Debug)]
#[non_exhaustive]
pub struct HandshakeFailure {
    /// The client's address.
    pub peer: SocketAddr,
    /// The polytls error category (`invalid_certificate`,
    /// `peer_misbehaved`, ...), or `handshake_timeout`,
    /// `per_source_limit`, `io`.
    pub category: &'static str,
    /// The polytls error, when the handshake failed with one.
    pub error: Option<polytls_api::Error>,
    /// What happened, in words.
    pub message: String,
}

type FailureHook = Arc<dyn Fn(&HandshakeFailure) + Send + Sync>;

/// Accepts TCP connections and completes their TLS handshakes concurrently.
pub struct TlsListener<D: ServerDriver> {
    tcp: TcpListener,
    acceptor: Arc<RwLock<TlsAcceptor<D>>>,
    on_failure: Option<FailureHook>,
    timeout: Duration,
    max_handshakes: usize,
    per_source: usize,
    limits: Arc<HandshakeLimits>,
    handshakes: JoinSet<Option<TlsConnection<D::Session>>>,
}

impl<D: ServerDriver> std::fmt::Debug for TlsListener<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("local_addr", &self.tcp.local_addr().ok())
            .field("timeout", &self.timeout)
            .field("handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl<D: ServerDriver> TlsListener<D> {
    /// A listener over `tcp` presenting `context`, with a 10 s handshake
    /// timeout, at most 1024 handshakes in flight and no per-source limit.
    pub fn new(tcp: TcpListener, context: ServerContext<D>) -> Self {
        Self {
            tcp,
            acceptor: Arc::new(RwLock::new(TlsAcceptor::new(context))),
            on_failure: None,
            timeout: Duration::from_secs(10),
            max_handshakes: 1024,
            per_source: 0,
            limits: HandshakeLimits::new(1024, 0),
            handshakes: JoinSet::new(),
        }
    }

    /// A listener over `tcp` with a context built by `backend` from
    /// `config`, offering ALPN `h2` and `http/1.1` (server preference in
    /// that order) unless `config` names its own protocols.
    pub fn from_config<B>(
        tcp: TcpListener,
        backend: &B,
        config: &ServerConfig,
    ) -> polytls_api::Result<Self>
    where
        B: Backend<ServerDriver = D>,
    {
        Ok(Self::new(
            tcp,
            backend.server_context(&with_http_alpn(config))?,
        ))
    }

    /// A handle that replaces the listener's server context: new
    /// handshakes use the new one, connections already made keep theirs.
    pub fn reloader(&self) -> Reloader<D> {
        Reloader {
            current: self.acceptor.clone(),
        }
    }

    /// Calls `hook` for every handshake that does not complete (failed,
    /// timed out, refused by the per-source limit), with the peer's
    /// address and the error category — for metrics, logs or a ban list.
    pub fn on_handshake_failure(
        mut self,
        hook: impl Fn(&HandshakeFailure) + Send + Sync + 'static,
    ) -> Self {
        self.on_failure = Some(Arc::new(hook));
        self
    }

    /// How long a client has to complete its handshake.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many handshakes may run at once (at least 1); further clients
    /// wait in the listen backlog.
    pub fn max_handshakes(mut self, n: usize) -> Self {
        self.max_handshakes = n.max(1);
        self.limits = HandshakeLimits::new(self.max_handshakes, self.per_source);
        self
    }

    /// How many handshakes one source address may have in flight (0, the
    /// default: no limit); connections past it are closed at once, so one
    /// host holding idle sockets cannot take every handshake slot. Behind
    /// a proxy every client shares the proxy's address: leave it off there.
    pub fn max_handshakes_per_source(mut self, n: usize) -> Self {
        self.per_source = n;
        self.limits = HandshakeLimits::new(self.max_handshakes, self.per_source);
        self
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The next connection whose handshake completed. Handshakes that fail
    /// or time out are logged (`tracing`, with the error category) and
    /// dropped; errors accepting TCP connections (such as running out of
    /// file descriptors) are returned.
    pub async fn accept(&mut self) -> io::Result<TlsConnection<D::Session>> {
        loop {
            // A permit per handshake in flight; without one, only finishing
            // handshakes are waited for (each frees a permit).
            let mut slot = self.limits.try_slot();
            tokio::select! {
                accepted = self.tcp.accept(), if slot.is_some() => {
                    let (tcp, peer) = accepted?;
                    let Some(slot) = slot.take() else { continue };
                    let handshaking = match self.limits.admit(slot, Some(peer.ip()), self.timeout) {
                        Ok(h) => h,
                        Err(refused) => {
                            tracing::debug!(%peer, error = %refused, "TLS handshake refused");
                            if let Some(hook) = &self.on_failure {
                                hook(&HandshakeFailure {
                                    peer,
                                    category: "per_source_limit",
                                    error: None,
                                    message: refused.to_string(),
                                });
                            }
                            continue;
                        }
                    };
                    let _ = tcp.set_nodelay(true);
                    let acceptor = self
                        .acceptor
                        .read()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    let hook = self.on_failure.clone();
                    self.handshakes.spawn(async move {
                        handshake(&acceptor, handshaking, tcp, peer, hook).await
                    });
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(conn)) = done {
                        return Ok(conn);
                    }
                }
            }
        }
    }

    /// The connections as a stream (for `tonic`'s
    /// `Server::serve_with_incoming`), accepted by a task of the current
    /// tokio runtime; it ends at the first TCP accept error, and the task
    /// ends when the stream is dropped.
    pub fn into_stream(
        mut self,
    ) -> impl futures_core::Stream<Item = io::Result<TlsConnection<D::Session>>> + Send {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    next = self.accept() => next,
                    () = tx.closed() => return,
                };
                let failed = next.is_err();
                if tx.send(next).await.is_err() || failed {
                    return;
                }
            }
        });
        Incoming(rx)
    }
}

/// The stream of [`TlsListener::into_stream`].
struct Incoming<T>(tokio::sync::mpsc::Receiver<T>);

impl<T> futures_core::Stream for Incoming<T> {
    type Item = T;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

async fn handshake<D: ServerDriver>(
    acceptor: &TlsAcceptor<D>,
    handshaking: Handshaking,
    tcp: TcpStream,
    peer: SocketAddr,
    hook: Option<FailureHook>,
) -> Option<TlsConnection<D::Session>> {
    match handshaking.handshake(acceptor, tcp).await {
        Ok(stream) => Some(TlsConnection { stream, peer }),
        Err(e) => {
            let error = polytls_api::Error::from_io(&e).cloned();
            let category = error.as_ref().map_or_else(
                || {
                    if e.kind() == io::ErrorKind::TimedOut {
                        "handshake_timeout"
                    } else {
                        "io"
                    }
                },
                polytls_api::Error::category,
            );
            tracing::debug!(%peer, category, error = %e, "TLS handshake failed");
            if let Some(hook) = hook {
                hook(&HandshakeFailure {
                    peer,
                    category,
                    error,
                    message: e.to_string(),
                });
            }
            None
        }
    }
}

/// `config`, offering ALPN `h2` and `http/1.1` when it names no protocol.
fn with_http_alpn(config: &ServerConfig) -> ServerConfig {
    let mut config = config.clone();
    if config.common.alpn.is_empty() {
        config.common.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    config
}

/// Replaces a running [`TlsListener`]'s server context (from
/// [`TlsListener::reloader`]); cheap to clone.
pub struct Reloader<D: ServerDriver> {
    current: Arc<RwLock<TlsAcceptor<D>>>,
}

impl<D: ServerDriver> Clone for Reloader<D> {
    fn clone(&self) -> Self {
        Self {
            current: self.current.clone(),
        }
    }
}

impl<D: ServerDriver> std::fmt::Debug for Reloader<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").finish_non_exhaustive()
    }
}

impl<D: ServerDriver> Reloader<D> {
    /// New handshakes use `context` from now on; connections already made,
    /// and handshakes under way, keep the context they began with.
    pub fn replace(&self, context: ServerContext<D>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = TlsAcceptor::new(context);
    }

    /// Loads a certificate chain and key from PEM files into `config`
    /// (ALPN `h2`, `http/1.1` unless it names its own, as
    /// [`TlsListener::from_config`]) and replaces the context with one
    /// `backend` builds from it. On any error (a file missing or
    /// malformed, a key that does not match) the running context stays.
    pub fn reload_from_pem_files<B>(
        &self,
        backend: &B,
        config: &ServerConfig,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> polytls_api::Result<()>
    where
        B: Backend<ServerDriver = D>,
    {
        let mut config = with_http_alpn(config);
        config.identity = Identity::from_pem_files(cert, key)?;
        self.replace(backend.server_context(&config)?);
        Ok(())
    }

    /// Spawns a task (on the current tokio runtime) that checks `cert` and
    /// `key` every `every` and reloads them with
    /// [`reload_from_pem_files`](Self::reload_from_pem_files) when either
    /// changed (modification time or size). A failed reload is logged
    /// (`tracing` warning) and keeps the running context; the next change
    /// is tried again. The task ends when the listener is dropped.
    pub fn watch_pem_files<B>(
        self,
        backend: B,
        config: ServerConfig,
        cert: PathBuf,
        key: PathBuf,
        every: Duration,
    ) -> tokio::task::JoinHandle<()>
    where
        B: Backend<ServerDriver = D>,
    {
        let every = every.max(Duration::from_millis(10));
        let weak = Arc::downgrade(&self.current);
        drop(self);
        tokio::spawn(async move {
            let stamp = |p: &Path| {
                std::fs::metadata(p)
                    .ok()
                    .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
            };
            let mut last = (stamp(&cert), stamp(&key));
            loop {
                tokio::time::sleep(every).await;
                let Some(current) = weak.upgrade() else {
                    return;
                };
                let now = (stamp(&cert), stamp(&key));
                if now == last {
                    continue;
                }
                last = now;
                let reloader = Reloader { current };
                match reloader.reload_from_pem_files(&backend, &config, &cert, &key) {
                    Ok(()) => tracing::info!(cert = %cert.display(), "TLS certificate reloaded"),
                    Err(e) => tracing::warn!(
                        cert = %cert.display(), error = %e,
                        "TLS certificate reload failed; the running one stays"
                    ),
                }
            }
        })
    }
}

/// A connection whose TLS handshake completed: `AsyncRead + AsyncWrite`,
/// with the peer's address and what was negotiated.
#[derive(Debug)]
pub struct TlsConnection<S> {
    stream: TlsStream<TcpStream, S>,
    peer: SocketAddr,
}

impl<S: polytls_api::driver::SessionDriver> TlsConnection<S> {
    /// The TLS stream.
    pub fn stream(&self) -> &TlsStream<TcpStream, S> {
        &self.stream
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// What a server wants to know about the connection, cheap to clone.
    pub fn info(&self) -> TlsConnectInfo {
        let session = self.stream.session();
        TlsConnectInfo {
            remote_addr: self.peer,
            alpn: session.alpn().map(<[u8]>::to_vec),
            peer_certificates: Arc::new(session.info().peer_chain),
        }
    }

    /// Gives back the TLS stream.
    pub fn into_inner(self) -> TlsStream<TcpStream, S> {
        self.stream
    }
}

/// The peer's address, ALPN protocol and certificate chain (leaf first;
/// empty without client authentication).
#[derive(Debug, Clone)]
pub struct TlsConnectInfo {
    /// The peer's address.
    pub remote_addr: SocketAddr,
    /// The ALPN protocol agreed on.
    pub alpn: Option<Vec<u8>>,
    /// The client's certificates, leaf first.
    pub peer_certificates: Arc<Vec<CertificateDer<'static>>>,
}

impl<S: polytls_api::driver::SessionDriver> AsyncRead for TlsConnection<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<S: polytls_api::driver::SessionDriver> AsyncWrite for TlsConnection<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(feature = "axum")]
impl<D: ServerDriver> axum::serve::Listener for TlsListener<D> {
    type Io = TlsConnection<D::Session>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match TlsListener::accept(self).await {
                Ok(conn) => {
                    let peer = conn.peer;
                    return (conn, peer);
                }
                Err(e) => {
                    // axum's own TCP listener does the same: log, back off,
                    // go on (out of file descriptors and the like).
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// With `Router::into_make_service_with_connect_info::<TlsConnectInfo>()`,
/// handlers get the peer's address, ALPN and certificates as
/// `ConnectInfo<TlsConnectInfo>`.
#[cfg(feature = "axum")]
impl<D: ServerDriver>
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener<D>>>
    for TlsConnectInfo
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener<D>>) -> Self {
        stream.io().info()
    }
}

#[cfg(feature = "tonic")]
impl<S: polytls_api::driver::SessionDriver> tonic::transport::server::Connected
    for TlsConnection<S>
{
    type ConnectInfo = TlsConnectInfo;

    fn connect_info(&self) -> TlsConnectInfo {
        self.info()
    }
}
