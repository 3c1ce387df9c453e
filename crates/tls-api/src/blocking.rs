//! A blocking stream over any [`Session`]: [`Stream`] is `io::Read + io::Write`
//! over a transport that is `io::Read + io::Write` (a `TcpStream`, a pipe).
//!
//! - The handshake runs on first use, or explicitly with [`Stream::handshake`].
//! - `read` returns `Ok(0)` only after the peer's `close_notify`; a transport
//!   EOF without it is an [`io::ErrorKind::UnexpectedEof`] error whose inner
//!   error is [`Error::UnexpectedEof`].
//! - `write` encrypts and sends before returning; `flush` also flushes the
//!   transport; [`Stream::shutdown`] sends `close_notify`.
//!
//! TLS errors surface as `io::Error`s that carry the polytls [`Error`]; get it
//! back with [`Error::from_io`].

use std::io::{self, Read, Write};

use crate::driver::SessionDriver;
use crate::session::{ReadOutcome, Session};
use crate::Error;

/// A TLS stream over a blocking transport.
#[derive(Debug)]
pub struct Stream<IO, D> {
    io: IO,
    session: Session<D>,
    transport_eof: bool,
}

impl<IO: Read + Write, D: SessionDriver> Stream<IO, D> {
    /// Wraps `io` with `session` (from `ClientContext::connect` or
    /// `ServerContext::accept`). No IO happens until first use.
    pub fn new(io: IO, session: Session<D>) -> Self {
        Self {
            io,
            session,
            transport_eof: false,
        }
    }

    /// Runs the handshake to completion (a no-op once it is done).
    pub fn handshake(&mut self) -> io::Result<()> {
        while self.session.is_handshaking() {
            self.write_all_tls()?;
            if !self.session.is_handshaking() {
                break;
            }
            if self.read_and_process(false)? == 0 && self.session.is_handshaking() {
                return Err(Error::UnexpectedEof.into_io());
            }
        }
        // The handshake is done; what is left (our Finished, session
        // tickets) is sent now if the peer takes it. A peer that already
        // stopped reading must not hide what it sent: a failure here comes
        // back on the next write or flush.
        let _ = self.write_all_tls();
        Ok(())
    }

    /// Sends `close_notify` and flushes; the peer then reads a clean end of
    /// stream. Reading remains possible until the peer closes too. On a
    /// stream not used yet, the handshake is completed first.
    pub fn shutdown(&mut self) -> io::Result<()> {
        self.handshake()?;
        self.session.send_close_notify();
        self.flush()
    }

    /// The transport and the session.
    pub fn get_ref(&self) -> (&IO, &Session<D>) {
        (&self.io, &self.session)
    }

    /// The transport and the session, mutably. Reading or writing the
    /// transport directly corrupts the TLS stream.
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

    fn write_all_tls(&mut self) -> io::Result<()> {
        while self.session.wants_write() {
            if self.session.write_tls(&mut self.io)? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    /// Reads once from the transport and processes what came; returns the
    /// number of bytes read (0 at transport EOF). With `reading`, plaintext
    /// is read next (`Session::process`).
    fn read_and_process(&mut self, reading: bool) -> io::Result<usize> {
        let n = loop {
            match self.session.read_tls(&mut self.io) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        if n == 0 {
            self.transport_eof = true;
        }
        if let Err(e) = self.session.process(reading) {
            // Tell the peer why (the session queued an alert); the error we
            // return matters more than a failure to send it.
            let _ = self.write_all_tls();
            return Err(e.into_io());
        }
        Ok(n)
    }
}

impl<IO: Read + Write, D: SessionDriver> Read for Stream<IO, D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        loop {
            let outcome = match self.session.read(buf) {
                Ok(o) => o,
                Err(e) => {
                    // Best effort: the records this read processed may have
                    // queued an alert for the peer.
                    let _ = self.write_all_tls();
                    return Err(e.into_io());
                }
            };
            match outcome {
                ReadOutcome::Data(n) => return Ok(n),
                ReadOutcome::Closed => return Ok(0),
                ReadOutcome::NeedInput => {}
            }
            if self.transport_eof {
                return Err(Error::UnexpectedEof.into_io());
            }
            // Best effort, as in `handshake`.
            let _ = self.write_all_tls();
            self.read_and_process(true)?;
        }
    }
}

impl<IO: Read + Write, D: SessionDriver> Write for Stream<IO, D> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        // A session refuses plaintext only while its outgoing buffer is full;
        // draining it makes room, so the second attempt takes data.
        for _ in 0..2 {
            let n = self.session.write(buf).map_err(Error::into_io)?;
            self.write_all_tls()?;
            if n > 0 {
                return Ok(n);
            }
        }
        Err(io::ErrorKind::WriteZero.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_all_tls()?;
        self.io.flush()
    }
}

/// A blocking stream over a backend chosen at run time.
pub type DynStream<IO> = Stream<IO, Box<dyn SessionDriver>>;
