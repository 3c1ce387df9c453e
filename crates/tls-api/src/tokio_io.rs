//! The tokio adapter: [`TlsConnector`], [`TlsAcceptor`] and [`TlsStream`]
//! (`AsyncRead + AsyncWrite`) over any [`Session`], written once for every
//! backend.
//!
//! Semantics match [`blocking`](crate::blocking): `poll_read` reports EOF
//! (zero bytes) only after the peer's `close_notify`, and fails with
//! [`io::ErrorKind::UnexpectedEof`] if the transport ends without one;
//! `poll_shutdown` sends `close_notify`, flushes, then shuts the transport's
//! write half. At most one write's worth of ciphertext is buffered: a slow
//! peer pushes back on the writer. Output the session has left over once the
//! handshake is done (session tickets, our Finished) is sent with the next
//! read, write or flush; a failure to send it surfaces on a write or flush,
//! never by hiding data the peer already sent.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::context::{ClientContext, ServerContext};
use crate::driver::{ClientDriver, ServerDriver, SessionDriver};
use crate::session::{ReadOutcome, Session};
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

/// A TLS stream over an async transport.
#[derive(Debug)]
pub struct TlsStream<IO, D> {
    io: IO,
    session: Session<D>,
    transport_eof: bool,
    close_sent: bool,
}

/// `io::Read`/`io::Write` over a polled transport: `Pending` becomes
/// `WouldBlock`, with the waker registered.
struct SyncIo<'a, 'b, IO> {
    io: &'a mut IO,
    cx: &'a mut Context<'b>,
}

impl<IO: AsyncRead + Unpin> io::Read for SyncIo<'_, '_, IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut rb = ReadBuf::new(buf);
        match Pin::new(&mut *self.io).poll_read(self.cx, &mut rb) {
            Poll::Ready(Ok(())) => Ok(rb.filled().len()),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<IO: AsyncWrite + Unpin> io::Write for SyncIo<'_, '_, IO> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Several queued records in one transport write (`writev` on a socket),
    /// as rustls hands them over.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write_vectored(self.cx, bufs) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match Pin::new(&mut *self.io).poll_flush(self.cx) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
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
            session,
            transport_eof: false,
            close_sent: false,
        }
    }

    /// Runs the handshake to completion.
    pub async fn handshake(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_handshake(cx)).await
    }

    /// The transport and the session.
    pub fn get_ref(&self) -> (&IO, &Session<D>) {
        (&self.io, &self.session)
    }

    /// The transport and the session, mutably. Touching the transport directly
    /// corrupts the TLS stream.
    pub fn get_mut(&mut self) -> (&mut IO, &mut Session<D>) {
        (&mut self.io, &mut self.session)
    }

    /// The session (what was negotiated, keying material, ...).
    pub fn session(&self) -> &Session<D> {
        &self.session
    }

    /// Gives back the transport and the session.
    pub fn into_inner(self) -> (IO, Session<D>) {
        (self.io, self.session)
    }

    /// Writes pending ciphertext; `Ready(Ok)` once nothing is pending.
    fn poll_write_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.session.wants_write() {
            let mut w = SyncIo {
                io: &mut self.io,
                cx,
            };
            match self.session.write_tls(&mut w) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads once and processes; `Ready(Ok(n))` with the bytes read.
    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut r = SyncIo {
            io: &mut self.io,
            cx,
        };
        let n = match self.session.read_tls(&mut r) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if n == 0 {
            self.transport_eof = true;
        }
        if let Err(e) = self.session.process_new_packets() {
            // Best effort: send the alert the session queued.
            let _ = self.poll_write_tls(cx);
            return Poll::Ready(Err(e.into_io()));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            // Send what we can. Once the handshake is over, whatever is left
            // (our Finished, session tickets) goes out with the next read,
            // write or flush: waiting for it here would deadlock against a
            // peer that writes first into a small transport buffer.
            let written = self.poll_write_tls(cx);
            if !self.session.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            if let Poll::Ready(Err(e)) = written {
                return Poll::Ready(Err(e));
            }
            match self.poll_read_tls(cx)? {
                Poll::Ready(0) if self.session.is_handshaking() => {
                    return Poll::Ready(Err(Error::UnexpectedEof.into_io()))
                }
                Poll::Ready(_) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
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
        if this.session.is_handshaking() {
            std::task::ready!(this.poll_handshake(cx))?;
        }
        loop {
            match this
                .session
                .read(buf.initialize_unfilled())
                .map_err(Error::into_io)?
            {
                ReadOutcome::Data(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                ReadOutcome::Closed => return Poll::Ready(Ok(())),
                ReadOutcome::NeedInput => {}
            }
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if this.transport_eof {
                return Poll::Ready(Err(Error::UnexpectedEof.into_io()));
            }
            // Answer anything the peer's messages called for (key updates,
            // alerts). Best effort: neither a full transport nor a peer that
            // stopped reading (tickets it never collects) keeps us from
            // reading what it sent; a write error comes back on the next
            // write.
            let _ = this.poll_write_tls(cx);
            std::task::ready!(this.poll_read_tls(cx))?;
        }
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
        if this.session.is_handshaking() {
            std::task::ready!(this.poll_handshake(cx))?;
        }
        // Backpressure: take new plaintext only once earlier ciphertext left.
        std::task::ready!(this.poll_write_tls(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A session refuses plaintext only while its outgoing buffer is full;
        // once that is drained the second attempt takes data.
        for _ in 0..2 {
            let n = this.session.write(buf).map_err(Error::into_io)?;
            // Start sending now; what the transport cannot take yet is flushed
            // by the next write, flush or shutdown.
            let flushed = this.poll_write_tls(cx)?;
            if n > 0 {
                return Poll::Ready(Ok(n));
            }
            if flushed.is_pending() {
                // The waker is registered by the write attempt.
                return Poll::Pending;
            }
        }
        Poll::Ready(Err(io::ErrorKind::WriteZero.into()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_write_tls(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent && this.session.is_handshaking() {
            // Closing a stream not used yet: complete the handshake first, so
            // the peer reads a clean end rather than an alert mid-handshake.
            std::task::ready!(this.poll_handshake(cx))?;
        }
        if !this.close_sent {
            this.session.send_close_notify();
            this.close_sent = true;
        }
        std::task::ready!(this.poll_write_tls(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}
