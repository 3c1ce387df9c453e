//! The async adapter, written once: a [`Session`] driven over any polled
//! transport. The tokio ([`tokio_io`](crate::tokio_io)) and futures-io
//! (`futures_io`) streams are thin fronts that hand their transport in as a
//! [`Transport`].
//!
//! Semantics: reading reports EOF (zero bytes) only after the peer's
//! `close_notify`, and fails with [`io::ErrorKind::UnexpectedEof`] if the
//! transport ends without one; shutting down sends `close_notify`, flushes,
//! then shuts the transport's write half. At most one write's worth of
//! ciphertext is buffered: a slow peer pushes back on the writer. Output the
//! session has left over once the handshake is done (session tickets, our
//! Finished) is sent with the next read, write or flush; a failure to send it
//! surfaces on a write or flush, never by hiding data the peer already sent.

use std::io;
use std::task::{Context, Poll};

use crate::driver::SessionDriver;
use crate::session::{ReadOutcome, Session};
use crate::Error;

/// A transport as the adapter polls it (each front implements it for its
/// runtime's IO traits).
pub(crate) trait Transport {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// `io::Read`/`io::Write` over a polled transport: `Pending` becomes
/// `WouldBlock`, with the waker registered.
struct SyncIo<'a, 'b, T> {
    io: &'a mut T,
    cx: &'a mut Context<'b>,
}

fn blocking<T>(p: Poll<io::Result<T>>) -> io::Result<T> {
    match p {
        Poll::Ready(r) => r,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl<T: Transport> io::Read for SyncIo<'_, '_, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        blocking(self.io.poll_read(self.cx, buf))
    }
}

impl<T: Transport> io::Write for SyncIo<'_, '_, T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        blocking(self.io.poll_write(self.cx, buf))
    }

    /// Several queued records in one transport write (`writev` on a socket),
    /// as rustls hands them over.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        blocking(self.io.poll_write_vectored(self.cx, bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        blocking(self.io.poll_flush(self.cx))
    }
}

/// The TLS state of an async stream: the session and what the adapter
/// remembers about the transport.
#[derive(Debug)]
pub(crate) struct Core<D> {
    pub(crate) session: Session<D>,
    transport_eof: bool,
    close_sent: bool,
}

impl<D: SessionDriver> Core<D> {
    pub(crate) fn new(session: Session<D>) -> Self {
        Self {
            session,
            transport_eof: false,
            close_sent: false,
        }
    }

    /// Writes pending ciphertext; `Ready(Ok)` once nothing is pending.
    fn poll_write_tls<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.session.wants_write() {
            let mut w = SyncIo { io: &mut *io, cx };
            match self.session.write_tls(&mut w) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads once and processes; `Ready(Ok(n))` with the bytes read. With
    /// `reading`, the caller reads plaintext next (`Session::process`).
    fn poll_read_tls<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
        reading: bool,
    ) -> Poll<io::Result<usize>> {
        let mut r = SyncIo { io: &mut *io, cx };
        let n = match self.session.read_tls(&mut r) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if n == 0 {
            self.transport_eof = true;
        }
        if let Err(e) = self.session.process(reading) {
            // Best effort: send the alert the session queued.
            let _ = self.poll_write_tls(io, cx);
            return Poll::Ready(Err(e.into_io()));
        }
        Poll::Ready(Ok(n))
    }

    pub(crate) fn poll_handshake<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            // Send what we can. Once the handshake is over, whatever is left
            // (our Finished, session tickets) goes out with the next read,
            // write or flush: waiting for it here would deadlock against a
            // peer that writes first into a small transport buffer.
            let written = self.poll_write_tls(io, cx);
            if !self.session.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            if let Poll::Ready(Err(e)) = written {
                return Poll::Ready(Err(e));
            }
            match self.poll_read_tls(io, cx, false)? {
                Poll::Ready(0) if self.session.is_handshaking() => {
                    return Poll::Ready(Err(Error::UnexpectedEof.into_io()))
                }
                Poll::Ready(_) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads plaintext into `buf`; `Ready(Ok(0))` is the peer's
    /// close_notify (or an empty `buf`).
    pub(crate) fn poll_read<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.session.is_handshaking() {
            std::task::ready!(self.poll_handshake(io, cx))?;
        }
        loop {
            let outcome = match self.session.read(buf) {
                Ok(o) => o,
                Err(e) => {
                    // Best effort, as in `poll_read_tls`: the records this
                    // read processed may have queued an alert.
                    let _ = self.poll_write_tls(io, cx);
                    return Poll::Ready(Err(e.into_io()));
                }
            };
            match outcome {
                ReadOutcome::Data(n) => return Poll::Ready(Ok(n)),
                ReadOutcome::Closed => return Poll::Ready(Ok(0)),
                ReadOutcome::NeedInput => {}
            }
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            if self.transport_eof {
                return Poll::Ready(Err(Error::UnexpectedEof.into_io()));
            }
            // Answer anything the peer's messages called for (key updates,
            // alerts). Best effort: neither a full transport nor a peer that
            // stopped reading (tickets it never collects) keeps us from
            // reading what it sent; a write error comes back on the next
            // write.
            let _ = self.poll_write_tls(io, cx);
            std::task::ready!(self.poll_read_tls(io, cx, true))?;
        }
    }

    /// Takes as much of `bufs` as the session will (in order), then starts
    /// sending it.
    pub(crate) fn poll_write_vectored<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.session.is_handshaking() {
            std::task::ready!(self.poll_handshake(io, cx))?;
        }
        // Backpressure: take new plaintext only once earlier ciphertext left.
        std::task::ready!(self.poll_write_tls(io, cx))?;
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        // A session refuses plaintext only while its outgoing buffer is
        // full; once that is drained the second attempt takes data.
        for _ in 0..2 {
            let mut taken = 0;
            for b in bufs {
                let n = self.session.write(b).map_err(Error::into_io)?;
                taken += n;
                if n < b.len() {
                    break;
                }
            }
            // Start sending now; what the transport cannot take yet is
            // flushed by the next write, flush or shutdown.
            let flushed = self.poll_write_tls(io, cx)?;
            if taken > 0 {
                return Poll::Ready(Ok(taken));
            }
            if flushed.is_pending() {
                // The waker is registered by the write attempt.
                return Poll::Pending;
            }
        }
        Poll::Ready(Err(io::ErrorKind::WriteZero.into()))
    }

    pub(crate) fn poll_flush<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_write_tls(io, cx))?;
        io.poll_flush(cx)
    }

    pub(crate) fn poll_shutdown<T: Transport>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.close_sent && self.session.is_handshaking() {
            // Closing a stream not used yet: complete the handshake first, so
            // the peer reads a clean end rather than an alert mid-handshake.
            std::task::ready!(self.poll_handshake(io, cx))?;
        }
        if !self.close_sent {
            self.session.send_close_notify();
            self.close_sent = true;
        }
        std::task::ready!(self.poll_write_tls(io, cx))?;
        io.poll_shutdown(cx)
    }
}
