//! The futures-io adapter (smol, async-std and other runtimes on the
//! `futures` IO traits): [`TlsStream`] is `AsyncRead + AsyncWrite` over any
//! [`Session`], with [`connect`] and [`accept`] to run the handshake. The
//! stream is the same state machine as [`tokio_io`](crate::tokio_io)'s,
//! written once; the semantics are the same (EOF only after
//! `close_notify`, `poll_close` sends it).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::async_core::{Core, Transport};
use crate::context::{ClientContext, ServerContext};
use crate::driver::{ClientDriver, ServerDriver, SessionDriver};
use crate::session::Session;
use crate::Error;

/// Runs a client handshake with `server_name` over `io`.
pub async fn connect<C, IO>(
    context: &ClientContext<C>,
    server_name: &str,
    io: IO,
) -> io::Result<TlsStream<IO, C::Session>>
where
    C: ClientDriver,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let session = context.connect(server_name).map_err(Error::into_io)?;
    let mut stream = TlsStream::new(io, session);
    stream.handshake().await?;
    Ok(stream)
}

/// Runs a server handshake over `io`.
pub async fn accept<C, IO>(
    context: &ServerContext<C>,
    io: IO,
) -> io::Result<TlsStream<IO, C::Session>>
where
    C: ServerDriver,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let session = context.accept().map_err(Error::into_io)?;
    let mut stream = TlsStream::new(io, session);
    stream.handshake().await?;
    Ok(stream)
}

/// A TLS stream over a futures-io transport.
#[derive(Debug)]
pub struct TlsStream<IO, D> {
    io: IO,
    core: Core<D>,
}

/// A futures-io transport, as the shared adapter polls it.
struct Futures<'a, IO>(&'a mut IO);

impl<IO: AsyncRead + AsyncWrite + Unpin> Transport for Futures<'_, IO> {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
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
        Pin::new(&mut *self.0).poll_close(cx)
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
        poll_fn(|cx| self.core.poll_handshake(&mut Futures(&mut self.io), cx)).await
    }

    /// The transport and the session.
    pub fn get_ref(&self) -> (&IO, &Session<D>) {
        (&self.io, &self.core.session)
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
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.core.poll_read(&mut Futures(&mut this.io), cx, buf)
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
            .poll_write_vectored(&mut Futures(&mut this.io), cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.core
            .poll_write_vectored(&mut Futures(&mut this.io), cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.core.poll_flush(&mut Futures(&mut this.io), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.core.poll_shutdown(&mut Futures(&mut this.io), cx)
    }
}

/// A stream over a backend chosen at run time.
pub type DynTlsStream<IO> = TlsStream<IO, Box<dyn SessionDriver>>;
