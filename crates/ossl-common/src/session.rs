//! The OpenSSL-family session, written once: an `SSL` driven over
//! [`MemIo`], where `WANT_READ` means "feed me ciphertext" and all output is
//! collected in memory.

use std::any::Any;
use std::io::{self, Read, Write};
use std::sync::Arc;

use polytls_api::driver::{SessionBlob, SessionDriver};
use polytls_api::memio::MemIo;
use polytls_api::{
    CertificateDer, CipherSuite, Error, NamedGroup, ProtocolVersion, ReadOutcome, Result,
    SessionInfo,
};

use crate::errors::{Code, Failure, Library};
use crate::resume::Slot;

/// Plaintext accepted before the handshake completes, at most.
const EARLY_LIMIT: usize = 64 * 1024;

/// What a binding of an OpenSSL-API library provides: an `SSL` over a
/// [`MemIo`] and the calls the session makes on it. Implemented by
/// `polytls-openssl` and `polytls-boring`.
pub trait SslDriver: std::fmt::Debug + Send + Sync + Unpin + 'static {
    /// The binding's error for a failed `SSL_*` call.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The library's name and reason table.
    fn library() -> &'static Library;
    /// What `SSL_get_error` and the error queue say about `e`.
    fn failure(e: &Self::Error) -> Failure;

    /// The memory transport.
    fn io(&self) -> &MemIo;
    /// The memory transport, mutably.
    fn io_mut(&mut self) -> &mut MemIo;
    /// `SSL_do_handshake`.
    fn handshake(&mut self) -> std::result::Result<(), Self::Error>;
    /// `SSL_read`.
    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Self::Error>;
    /// `SSL_peek`, where the binding has it (otherwise the session reads one
    /// byte ahead and keeps it).
    fn peek(&mut self, buf: &mut [u8]) -> Option<std::result::Result<usize, Self::Error>>;
    /// `SSL_write`.
    fn write(&mut self, data: &[u8]) -> std::result::Result<usize, Self::Error>;
    /// `SSL_read_early_data` on a server (`Ok(0)`: the early data ended),
    /// where the binding has it.
    fn read_early_data(
        &mut self,
        buf: &mut [u8],
    ) -> Option<std::result::Result<usize, Self::Error>> {
        let _ = buf;
        None
    }
    /// `SSL_shutdown` (queues close_notify in memory).
    fn shutdown(&mut self);
    /// `SSL_pending`.
    fn pending(&self) -> usize;
    /// `SSL_get_verify_result`.
    fn verify_result(&self) -> i32;

    /// The negotiated version.
    fn version(&self) -> Option<ProtocolVersion>;
    /// The negotiated suite.
    fn cipher_suite(&self) -> Option<CipherSuite>;
    /// The key-exchange group, while the library can still tell.
    fn group(&self) -> Option<NamedGroup>;
    /// The ALPN protocol agreed on.
    fn alpn(&self) -> Option<&[u8]>;
    /// The SNI name sent or received.
    fn sni(&self) -> Option<String>;
    /// `SSL_get_peer_certificate`.
    fn peer_certificate(&self) -> Option<CertificateDer<'static>>;
    /// `SSL_get_peer_cert_chain` (with the leaf on a client, without it on a
    /// server).
    fn peer_cert_chain(&self) -> Vec<CertificateDer<'static>>;
    /// `SSL_session_reused`.
    fn resumed(&self) -> bool;
    /// The connection's own session as DER (`SSL_get_session`,
    /// `i2d_SSL_SESSION`).
    fn session_der(&self) -> Option<Vec<u8>>;
    /// `SSL_export_keying_material`.
    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()>;
}

/// A client or server connection on an OpenSSL-API library.
#[derive(Debug)]
pub struct OsslSession<D> {
    d: D,
    handshaking: bool,
    is_server: bool,
    early: Vec<u8>,
    peer_closed: bool,
    /// The key-exchange group, captured during the handshake: OpenSSL frees
    /// the ephemeral keys once they are used.
    group: Option<NamedGroup>,
    /// One plaintext byte read ahead by `process_new_packets` where the
    /// binding has no `SSL_peek`; handed out first by `read`.
    stash: Option<u8>,
    /// A client's link to its context's resumption cache.
    slot: Option<Arc<Slot>>,
    /// A server accepting early data: still reading it (before the rest of
    /// the handshake).
    early_phase: bool,
    /// Early data received, not yet read by the application.
    early_in: Vec<u8>,
    /// Whether any early data arrived.
    early_accepted: bool,
}

impl<D: SslDriver> OsslSession<D> {
    /// A server session over `d`; with `early_data`, it reads the client's
    /// early data (0-RTT) before completing the handshake.
    pub fn server(d: D, early_data: bool) -> Self {
        let mut s = Self::new(d, true, None);
        s.early_phase = early_data;
        s
    }

    /// A client session over `d`; the ClientHello is produced at once.
    pub fn client(d: D, slot: Option<Arc<Slot>>) -> Result<Self> {
        let mut s = Self::new(d, false, slot);
        s.process_new_packets()?;
        Ok(s)
    }

    fn new(d: D, is_server: bool, slot: Option<Arc<Slot>>) -> Self {
        Self {
            d,
            handshaking: true,
            is_server,
            early: Vec::new(),
            peer_closed: false,
            group: None,
            stash: None,
            slot,
            early_phase: false,
            early_in: Vec::new(),
            early_accepted: false,
        }
    }

    /// Reads the client's early data until it ends (or more input is
    /// needed); the handshake then goes on as usual.
    fn read_early(&mut self) -> Result<()> {
        let mut buf = [0u8; 16 * 1024];
        while self.early_phase {
            let Some(r) = self.d.read_early_data(&mut buf) else {
                self.early_phase = false;
                break;
            };
            match r {
                Ok(0) => self.early_phase = false,
                Ok(n) => {
                    self.early_accepted = true;
                    self.early_in.extend_from_slice(&buf[..n]);
                }
                Err(e) if self.benign(&e) => return Ok(()),
                Err(e) => return Err(self.map(e)),
            }
        }
        Ok(())
    }

    /// The binding's driver (its `SSL` underneath).
    pub fn driver(&self) -> &D {
        &self.d
    }

    fn at_eof(&self) -> bool {
        self.d.io().is_eof()
    }

    fn map(&self, e: D::Error) -> Error {
        let f = D::failure(&e);
        D::library().map(&f, e, self.at_eof(), || self.d.verify_result())
    }

    /// Whether `e` only asks for more input, or is the transport's EOF
    /// (which the wrapper reports when plaintext is wanted).
    fn benign(&self, e: &D::Error) -> bool {
        let f = D::failure(e);
        f.code == Code::WouldBlock || D::library().is_unexpected_eof(&f, self.at_eof())
    }

    fn flush_early(&mut self) -> Result<()> {
        if self.early.is_empty() {
            return Ok(());
        }
        let early = std::mem::take(&mut self.early);
        match self.d.write(&early) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.map(e)),
        }
    }

    /// Reads ahead one record so alerts, tickets and close_notify surface
    /// now, as on every backend; application data stays in the library's
    /// buffer (or one byte of it in the stash) until `read` copies it out.
    fn probe(&mut self) -> Result<()> {
        let mut byte = [0u8; 1];
        let r = match self.d.peek(&mut byte) {
            Some(r) => r.map(|_| ()),
            None => self.d.read(&mut byte).map(|n| {
                self.stash = (n == 1).then_some(byte[0]);
            }),
        };
        match r {
            Ok(()) => Ok(()),
            Err(e) if D::failure(&e).code == Code::ZeroReturn => {
                self.peer_closed = true;
                Ok(())
            }
            Err(e) if self.benign(&e) => Ok(()),
            Err(e) => Err(self.map(e)),
        }
    }

    /// Hands out the stashed byte, with whatever follows it in the same
    /// record.
    fn read_stashed(&mut self, byte: u8, buf: &mut [u8]) -> Result<ReadOutcome> {
        buf[0] = byte;
        if buf.len() == 1 || self.d.pending() == 0 {
            return Ok(ReadOutcome::Data(1));
        }
        match self.d.read(&mut buf[1..]) {
            Ok(n) => Ok(ReadOutcome::Data(n + 1)),
            Err(e) if D::failure(&e).code == Code::ZeroReturn => {
                self.peer_closed = true;
                Ok(ReadOutcome::Data(1))
            }
            Err(e) if self.benign(&e) => Ok(ReadOutcome::Data(1)),
            Err(e) => Err(self.map(e)),
        }
    }
}

impl<D: SslDriver> SessionDriver for OsslSession<D> {
    fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.d.io_mut().fill_from(rd)
    }

    fn process_new_packets(&mut self) -> Result<()> {
        if self.early_phase {
            self.read_early()?;
            if self.early_phase {
                return Ok(());
            }
        }
        if self.handshaking {
            let r = self.d.handshake();
            if self.group.is_none() {
                self.group = self.d.group();
            }
            match r {
                Ok(()) => {
                    self.handshaking = false;
                    self.flush_early()?;
                }
                Err(e) if self.benign(&e) => return Ok(()),
                Err(e) => return Err(self.map(e)),
            }
        }
        if self.d.io().has_input() && !self.peer_closed && self.stash.is_none() {
            self.probe()?;
        }
        Ok(())
    }

    fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.d.io_mut().drain_to(wr)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        if !self.early_in.is_empty() {
            let n = buf.len().min(self.early_in.len());
            buf[..n].copy_from_slice(&self.early_in[..n]);
            self.early_in.drain(..n);
            return Ok(ReadOutcome::Data(n));
        }
        if self.handshaking {
            return Ok(ReadOutcome::NeedInput);
        }
        if let Some(byte) = self.stash.take() {
            return self.read_stashed(byte, buf);
        }
        if self.peer_closed {
            return Ok(ReadOutcome::Closed);
        }
        match self.d.read(buf) {
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e) if D::failure(&e).code == Code::ZeroReturn => {
                self.peer_closed = true;
                Ok(ReadOutcome::Closed)
            }
            Err(e) if D::failure(&e).code == Code::WouldBlock => Ok(ReadOutcome::NeedInput),
            Err(e) => Err(self.map(e)),
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize> {
        if self.handshaking {
            let n = data.len().min(EARLY_LIMIT - self.early.len());
            self.early.extend_from_slice(&data[..n]);
            return Ok(n);
        }
        match self.d.write(data) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.map(e)),
        }
    }

    fn wants_read(&self) -> bool {
        !self.peer_closed && !self.at_eof()
    }

    fn wants_write(&self) -> bool {
        self.d.io().has_output()
    }

    fn is_handshaking(&self) -> bool {
        self.handshaking
    }

    fn send_close_notify(&mut self) {
        if !self.handshaking {
            // Queues the alert in memory; the result only says whether the
            // peer's close_notify has arrived too.
            self.d.shutdown();
        }
    }

    fn info(&self) -> SessionInfo {
        let mut info = SessionInfo::default();
        info.version = self.d.version();
        info.sni = self.d.sni();
        if self.handshaking {
            return info;
        }
        info.cipher_suite = self.d.cipher_suite();
        info.group = self.group.or_else(|| self.d.group());
        info.alpn = self.d.alpn().map(<[u8]>::to_vec);
        // The server-side chain leaves out the leaf; the client's has it.
        if self.is_server {
            info.peer_chain.extend(self.d.peer_certificate());
        }
        info.peer_chain.extend(self.d.peer_cert_chain());
        info.resumed = self.d.resumed();
        info
    }

    fn alpn(&self) -> Option<&[u8]> {
        self.d.alpn()
    }

    fn peer_leaf(&self) -> Option<CertificateDer<'static>> {
        self.d.peer_certificate()
    }

    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        self.d.export_keying_material(out, label, context)
    }

    fn early_data_accepted(&self) -> bool {
        self.early_accepted
    }

    fn take_resumption(&mut self) -> Option<SessionBlob> {
        let slot = self.slot.as_ref()?;
        if let Some(der) = slot.take_newest() {
            return Some(SessionBlob::Der(der));
        }
        // A resumed TLS 1.2 connection gets no new session (the library
        // reports only new ones): its state is the session it resumed.
        if self.d.resumed() && self.d.version() == Some(ProtocolVersion::Tls12) {
            slot.take_offered();
            return self.d.session_der().map(SessionBlob::Der);
        }
        None
    }

    fn forget_resumption(&mut self) {
        if let Some(slot) = &self.slot {
            slot.forget();
        }
    }

    fn native(&self) -> &dyn Any {
        &self.d
    }
}
