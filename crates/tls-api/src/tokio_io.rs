//! The tokio adapter: [`TlsConnector`], [`TlsAcceptor`] and [`TlsStream`]
//! (`AsyncRead + AsyncWrite`) over any [`Session`], written once for every
//! backend (and, with the futures-io front in `futures_io`, once for both
//! runtimes' IO traits).
//!
//! Semantics match [`blocking`](crate::blocking): `poll_read` reports EOF
//! (zero bytes) only after the peer's `close_notify`, and fails with
//! [`io::ErrorKind::UnexpectedEof`] if the transport ends without one;
//! `poll_shutdown` sends `close_notify`, flushes, then shuts the transport's
//! write half. At most one write's worth of ciphertext is buffered: a slow
//! peer pushes back on the writer. Output the session has left over once the
//! handshake is done (session tickets, our Finished) is sent with the next
//! read, write or flush; a failure to send it surfaces on a write or flush,
//! never by hiding data the peer already sent. `poll_write_vectored` takes
//! several buffers in one call. The two halves of
//! [`tokio::io::split`](https://docs.rs/tokio/latest/tokio/io/fn.split.html)
//! can be used from two tasks (a reader and a writer) at once.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::async_core::{Core, Transport};
use crate::context::{ClientContext, ServerContext};
use crate::driver::{ClientDriver, ServerDriver, SessionDriver};
use crate::session::Session;
use crate::Error;

/// Connects TLS clients over any async transport. Cloning is cheap.
#[derive(Debug)]
pub struct TlsConnector<C> {
    context: ClientContext<C>,
}

impl<C> Clone for TlsConnector<C> {
    fn clone(&self) -> Self {
        Self {
            context: self.context.clone(),
        }
    }
}

impl<C: ClientDriver> TlsConnector<C> {
    /// A connector making sessions from `context`.
    pub fn new(context: ClientContext<C>) -> Self {
        Self { context }
    }

    /// The context sessions are made from.
    pub fn context(&self) -> &ClientContext<C> {
        &self.context
    }

    /// Runs a client handshake with `server_name` over `io`.
    pub async fn connect<IO>(
        &self,
        server_name: &str,
        io: IO,
    ) -> io::Result<TlsStream<IO, C::Session>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let session = self.context.connect(server_name).map_err(Error::into_io)?;
        let mut stream = TlsStream::new(io, session);
        stream.handshake().await?;
        Ok(stream)
    }
}

/// Accepts TLS connections over any async transport. Cloning is cheap.
#[derive(Debug)]
pub struct TlsAcceptor<C> {
    context: ServerContext<C>,
}

impl<C> Clone for TlsAcceptor<C> {
    fn clone(&self) -> Self {
        Self {
            context: self.context.clone(),
        }
    }
}

impl<C: ServerDriver> TlsAcceptor<C> {
    /// An acceptor making sessions from `context`.
    pub fn new(context: ServerContext<C>) -> Self {
        Self { context }
    }

    /// The context sessions are made from.
    pub fn context(&self) -> &ServerContext<C> {
        &self.context
    }

    /// Runs a server handshake over `io`.
    pub async fn accept<IO>(&self, io: IO) -> io::Result<TlsStream<IO, C::Session>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let session = self.context.accept().map_err(Error::into_io)?;
        let mut stream = TlsStream::new(io, session);
        stream.handshake().await?;
        Ok(stream)
    }
}

/// A TLS stream over a tokio transport.
#[derive(Debug)]
pub struct TlsStream<IO, D> {
    io: IO,
    core: Core<D>,
}

/// A tokio transport, as the shared adapter polls it.
struct Tokio<'a, IO>(&'a mut IO);

impl<IO: AsyncRead + AsyncWrite + Unpin> Transport for Tokio<'_, IO> {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut rb = ReadBuf::new(buf);
        Pin::new(&mut *self.0)
            .poll_read(cx, &mut rb)
            .map_ok(|()| rb.filled().len())
    }
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<IO, D> TlsStream<IO, D>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    /// Wraps `io` with `session`; the handshake runs on first use or with
    /// [`TlsStream::handshake`].
    pub fn new(io: IO, session: Session<D>) -> Self {
        Self {
            io,
            core: Core::new(session),
        }
    }

    /// Runs the handshake to completion.
    pub async fn handshake(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.core.poll_handshake(&mut Tokio(&mut self.io), cx)).await
    }

    /// The transport and the session.
    pub fn get_ref(&self) -> (&IO, &Session<D>) {
        (&self.io, &self.core.session)
    }

    /// The transport and the session, mutably. Touching the transport directly
    /// corrupts the TLS stream.
    pub fn get_mut(&mut self) -> (&mut IO, &mut Session<D>) {
        (&mut self.io, &mut self.core.session)
    }

    /// The session (what was negotiated, keying material, ...).
    pub fn session(&self) -> &Session<D> {
        &self.core.session
    }

    /// Gives back the transport and the session.
    pub fn into_inner(self) -> (IO, Session<D>) {
        (self.io, self.core.session)
    }
}

impl<IO, D> AsyncRead for TlsStream<IO, D>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = std::task::ready!(this.core.poll_read(
            &mut Tokio(&mut this.io),
            cx,
            buf.initialize_unfilled()
        ))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<IO, D> AsyncWrite for TlsStream<IO, D>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    D: SessionDriver,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.core
            .poll_write_vectored(&mut Tokio(&mut this.io), cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.core
            .poll_write_vectored(&mut Tokio(&mut this.io), cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.core.poll_flush(&mut Tokio(&mut this.io), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.core.poll_shutdown(&mut Tokio(&mut this.io), cx)
    }
}

/// A connector over a backend chosen at run time.
pub type DynTlsConnector = TlsConnector<crate::DynClientDriver>;

/// An acceptor over a backend chosen at run time.
pub type DynTlsAcceptor = TlsAcceptor<crate::DynServerDriver>;

/// A stream over a backend chosen at run time.
pub type DynTlsStream<IO> = TlsStream<IO, Box<dyn SessionDriver>>;
