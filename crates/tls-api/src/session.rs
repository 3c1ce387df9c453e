//! The sans-IO session: one TLS connection as a state machine.

use std::io;
use std::sync::Arc;

use crate::driver::SessionDriver;
use crate::identity::CertificateDer;
use crate::params::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use crate::resumption::{Origin, ResumptionState};
use crate::trust::{self, TrustCheck};
use crate::{Error, MisuseKind, Result};

/// What a plaintext read produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ReadOutcome {
    /// This many bytes of plaintext were copied into the buffer (never 0).
    Data(usize),
    /// No plaintext is available yet: feed more ciphertext with
    /// [`Session::read_tls`].
    NeedInput,
    /// The peer sent `close_notify`: a clean end of the stream.
    Closed,
}

/// One TLS connection, without any IO.
///
/// The caller moves bytes: ciphertext from the transport goes in with
/// [`read_tls`](Session::read_tls) and is processed by
/// [`process_new_packets`](Session::process_new_packets); ciphertext for the
/// transport comes out of [`write_tls`](Session::write_tls). Plaintext goes in
/// with [`write`](Session::write) and comes out of [`read`](Session::read).
/// Nothing here blocks; the adapters in [`blocking`](crate::blocking) and
/// `tokio` drive a session over a real transport.
///
/// The rules below hold on every backend, because this type enforces them
/// around the backend's [`SessionDriver`]:
///
/// - A session never panics on peer input: every malformed byte stream ends
///   in an [`Error`], which is remembered — later calls that need the
///   connection answer it again. Its pending output (typically a fatal alert)
///   may still be written.
/// - A transport EOF without the peer's `close_notify` is
///   [`Error::UnexpectedEof`], never a clean end; a client then forgets the
///   resumption state the connection produced.
/// - Writing after [`send_close_notify`](Session::send_close_notify) and
///   exporting keying material before the handshake completes are
///   [`Error::Misuse`].
///
/// `D` is the backend's driver; `Session<Box<dyn SessionDriver>>` is the
/// type-erased form ([`Session::boxed`]).
#[derive(Debug)]
pub struct Session<D> {
    driver: D,
    /// Set for client sessions: where resumption state taken from this
    /// session belongs.
    client: Option<(Arc<Origin>, Box<str>)>,
    /// Set for server sessions: what a resumed client chain must pass.
    server_trust: Option<Arc<TrustCheck>>,
    /// Whether the end of the handshake was seen (and checked).
    handshake_done: bool,
    /// The earliest notAfter of the peer's chain (clients, once known).
    peer_not_after: Option<i64>,
    transport_eof: bool,
    close_sent: bool,
    peer_closed: bool,
    failed: Option<Error>,
}

impl<D: SessionDriver> Session<D> {
    pub(crate) fn client(driver: D, origin: Arc<Origin>, server_name: &str) -> Self {
        Self::with(driver, Some((origin, server_name.into())), None)
    }

    pub(crate) fn server(driver: D, trust: Arc<TrustCheck>) -> Self {
        Self::with(driver, None, Some(trust))
    }

    fn with(
        driver: D,
        client: Option<(Arc<Origin>, Box<str>)>,
        server_trust: Option<Arc<TrustCheck>>,
    ) -> Self {
        Self {
            driver,
            client,
            server_trust,
            handshake_done: false,
            peer_not_after: None,
            transport_eof: false,
            close_sent: false,
            peer_closed: false,
            failed: None,
        }
    }

    /// Erases the backend type.
    pub fn boxed(self) -> Session<Box<dyn SessionDriver>> {
        Session {
            driver: Box::new(self.driver),
            client: self.client,
            server_trust: self.server_trust,
            handshake_done: self.handshake_done,
            peer_not_after: self.peer_not_after,
            transport_eof: self.transport_eof,
            close_sent: self.close_sent,
            peer_closed: self.peer_closed,
            failed: self.failed,
        }
    }

    #[inline]
    fn check(&self) -> Result<()> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Records the first failure; a client forgets its resumption state.
    #[cold]
    fn fail(&mut self, e: Error) -> Error {
        if self.failed.is_none() {
            self.failed = Some(e.clone());
            self.driver.forget_resumption();
        }
        e
    }

    /// Reads ciphertext from `rd`, with one `read` call. `Ok(0)` means the
    /// transport reached EOF, which the session records: a later
    /// [`read`](Session::read) without a prior `close_notify` is then
    /// [`Error::UnexpectedEof`].
    ///
    /// Call [`process_new_packets`](Session::process_new_packets) afterwards.
    pub fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        let n = self.driver.read_tls(rd)?;
        if n == 0 {
            self.transport_eof = true;
        }
        Ok(n)
    }

    /// Processes the ciphertext read so far: advances the handshake and makes
    /// application data available. Errors here are fatal for the connection.
    ///
    /// When a resumed handshake completes, the peer chain the session
    /// carries is checked again, now ([`trust`](crate::trust)): a chain that
    /// has expired since, or whose CRLs are no longer current, fails the
    /// session with the error a full handshake would give, before any
    /// application data passes.
    pub fn process_new_packets(&mut self) -> Result<()> {
        self.process(false)
    }

    /// Processes the ciphertext read so far, for a caller that calls
    /// [`read`](Self::read) next, until it answers
    /// [`ReadOutcome::NeedInput`] or [`ReadOutcome::Closed`] (a receive
    /// loop after each [`read_tls`](Self::read_tls)). A library that
    /// decrypts lazily (the OpenSSL family) then leaves the records to
    /// those reads, which decrypt and copy each with one library call
    /// instead of two, and report what the records hold: an alert or a bad
    /// record is a read's error, a `close_notify` its
    /// [`ReadOutcome::Closed`], a ticket is stored. Until the reads have
    /// run, [`wants_read`](Self::wants_read), `take_resumption` and
    /// [`info`](Self::info) may not reflect those records yet; use
    /// [`process_new_packets`](Self::process_new_packets) where no read
    /// follows. The handshake advances, and its failures are reported, as
    /// with `process_new_packets`.
    pub fn process_for_read(&mut self) -> Result<()> {
        self.process(true)
    }

    /// Processes input; with `reading`, a read follows at once (and the
    /// driver may leave records to it, [`SessionDriver::process_for_read`]).
    #[inline]
    pub(crate) fn process(&mut self, reading: bool) -> Result<()> {
        self.check()?;
        let processed = if reading {
            self.driver.process_for_read()
        } else {
            self.driver.process_new_packets()
        };
        if let Err(e) = processed {
            return Err(self.fail(e));
        }
        if self.handshake_done {
            return Ok(());
        }
        self.after_handshake_step()
    }

    /// Once the handshake completes: the trust rules, once.
    #[inline(never)]
    fn after_handshake_step(&mut self) -> Result<()> {
        if !self.driver.is_handshaking() {
            self.handshake_done = true;
            if let Err(e) = self.handshake_completed() {
                return Err(self.fail(e));
            }
        }
        Ok(())
    }

    /// The trust rules at the end of the handshake.
    fn handshake_completed(&mut self) -> Result<()> {
        let resumed = self.driver.resumed();
        let trust = match (&self.client, &self.server_trust) {
            (Some((origin, _)), _) => {
                // Clients learn the server chain's expiry: what this
                // connection stores is never offered past it (rule 2).
                let (not_after, verdict) = if resumed {
                    let chain = self.driver.peer_chain();
                    let parsed = trust::parse_chain(&chain);
                    let not_after = parsed.as_deref().ok().and_then(trust::chain_not_after);
                    let verdict =
                        origin
                            .trust
                            .check_parsed(&chain, Some(&parsed), trust::unix_now());
                    (not_after, verdict)
                } else {
                    // The library verified the chain; only its expiry is
                    // needed, which the driver may read without the DER.
                    (self.driver.peer_not_after(), Ok(()))
                };
                if let Some(t) = not_after {
                    self.peer_not_after = Some(t);
                    self.driver.set_peer_not_after(t);
                }
                return verdict;
            }
            (None, Some(trust)) if resumed => trust,
            _ => return Ok(()),
        };
        trust.check_resumed(&self.driver.peer_chain(), trust::unix_now())
    }

    /// Writes pending ciphertext (handshake messages, records, alerts) to
    /// `wr`, returning how many bytes it accepted.
    pub fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        self.driver.write_tls(wr)
    }

    /// Copies received plaintext into `buf`.
    ///
    /// Returns [`ReadOutcome::Closed`] once the peer's `close_notify` has been
    /// processed and all data before it was read, and
    /// [`Error::UnexpectedEof`] when the transport ended without one. With an
    /// empty `buf` nothing is consumed and the answer is
    /// [`ReadOutcome::NeedInput`].
    pub fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        self.check()?;
        if buf.is_empty() {
            return Ok(ReadOutcome::NeedInput);
        }
        if self.peer_closed {
            return Ok(ReadOutcome::Closed);
        }
        let outcome = if self.driver.is_handshaking() {
            Ok(ReadOutcome::NeedInput)
        } else {
            self.driver.read(buf)
        };
        match outcome {
            Ok(ReadOutcome::NeedInput) if self.transport_eof => {
                Err(self.fail(Error::UnexpectedEof))
            }
            Ok(ReadOutcome::Closed) => {
                self.peer_closed = true;
                Ok(ReadOutcome::Closed)
            }
            Ok(o) => Ok(o),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Queues plaintext to be sent, returning how much was taken. Before the
    /// handshake finishes the data is buffered (a bounded amount) and sent as
    /// soon as keys are available. After it, every backend takes plaintext
    /// only while less than 64 KiB of ciphertext waits for
    /// [`write_tls`](Session::write_tls): a large write is taken in pieces
    /// (`Ok(0)` means "send what is queued first"), so records go out while
    /// they are still in the CPU's cache. Writing after
    /// [`send_close_notify`](Session::send_close_notify) is
    /// [`Error::Misuse`].
    pub fn write(&mut self, data: &[u8]) -> Result<usize> {
        if self.close_sent {
            return Err(Error::misuse(
                MisuseKind::WriteAfterClose,
                "write after send_close_notify",
            ));
        }
        self.check()?;
        if data.is_empty() {
            return Ok(0);
        }
        match self.driver.write(data) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Whether the session wants more ciphertext from the transport.
    pub fn wants_read(&self) -> bool {
        self.failed.is_none()
            && !self.peer_closed
            && !self.transport_eof
            && self.driver.wants_read()
    }

    /// Whether the session has ciphertext for the transport.
    pub fn wants_write(&self) -> bool {
        self.driver.wants_write()
    }

    /// Whether the handshake is still in progress.
    pub fn is_handshaking(&self) -> bool {
        self.driver.is_handshaking()
    }

    /// Queues a `close_notify` alert; after it no more plaintext can be
    /// written. Flush it with [`write_tls`](Session::write_tls).
    pub fn send_close_notify(&mut self) {
        if !self.close_sent {
            self.close_sent = true;
            self.driver.send_close_notify();
        }
    }

    /// Whether the peer's `close_notify` has been read.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// What was negotiated (fields are `None` until known). This copies the
    /// peer's chain; [`alpn`](Self::alpn) and [`peer_leaf`](Self::peer_leaf)
    /// answer without copying.
    pub fn info(&self) -> SessionInfo {
        self.driver.info()
    }

    /// The ALPN protocol agreed on, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.driver.alpn()
    }

    /// The peer's end-entity certificate (one certificate, not the chain).
    pub fn peer_leaf(&self) -> Option<CertificateDer<'static>> {
        self.driver.peer_leaf()
    }

    /// Derives keying material (RFC 5705 / RFC 8446 §7.5) into `out`. Before
    /// the handshake completes this is [`Error::Misuse`].
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        self.check()?;
        if self.driver.is_handshaking() {
            return Err(Error::misuse(
                MisuseKind::HandshakeIncomplete,
                "keying material is available only after the handshake",
            ));
        }
        self.driver.export_keying_material(out, label, context)
    }

    /// Takes this client session's newest resumption state out of its
    /// context's cache, to be offered later with
    /// [`ClientContext::connect_resuming`](crate::ClientContext::connect_resuming).
    /// `Ok(None)` while the server has sent none (TLS 1.3 tickets arrive
    /// after the handshake, with the server's first data) or when resumption
    /// is off. On a server session this is [`Error::Misuse`].
    pub fn take_resumption(&mut self) -> Result<Option<ResumptionState>> {
        let Some((origin, name)) = &self.client else {
            return Err(Error::misuse(
                MisuseKind::WrongRole,
                "only client sessions hold resumption state",
            ));
        };
        self.check()?;
        if self.driver.is_handshaking() {
            return Err(Error::misuse(
                MisuseKind::HandshakeIncomplete,
                "resumption state exists only after the handshake",
            ));
        }
        Ok(self.driver.take_resumption().map(|blob| ResumptionState {
            origin: origin.clone(),
            server_name: name.to_string(),
            blob,
            not_after: self.peer_not_after,
        }))
    }

    /// Sends `data` as early data (0-RTT), before the handshake completes:
    /// on a client resuming a session whose server allows it, with
    /// [`ClientConfig::early_data`](crate::ClientConfig::early_data) on.
    /// Returns how much was taken as early data (0 when the ticket allows
    /// none); write the rest with [`write`](Self::write) as usual.
    ///
    /// If the server rejects the early data, the session sends it again
    /// after the handshake, in order: the server reads it exactly once
    /// either way. But early data can be **replayed**: an attacker who
    /// recorded it can send it again to the server. Servers refuse a
    /// ticket's second use (tickets for early data are single-use and kept
    /// in the server's cache), which stops replays against that server
    /// process, not against another server of a fleet. Send early only what
    /// is safe to run twice (idempotent requests).
    ///
    /// On a server session, or after the handshake, this is
    /// [`Error::Misuse`].
    pub fn write_early_data(&mut self, data: &[u8]) -> Result<usize> {
        if self.client.is_none() {
            return Err(Error::misuse(
                MisuseKind::WrongRole,
                "only clients send early data",
            ));
        }
        if !self.driver.is_handshaking() {
            return Err(Error::misuse(
                MisuseKind::HandshakeIncomplete,
                "early data goes before the handshake completes",
            ));
        }
        if self.close_sent {
            return Err(Error::misuse(
                MisuseKind::WriteAfterClose,
                "write after send_close_notify",
            ));
        }
        self.check()?;
        if data.is_empty() {
            return Ok(0);
        }
        match self.driver.write_early_data(data) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Whether early data (0-RTT) was accepted: on a client, by the server
    /// (known once the handshake completes); on a server, from this client
    /// — data read before [`is_handshaking`](Self::is_handshaking) turns
    /// false then came early, and may be a replay (see
    /// [`write_early_data`](Self::write_early_data)).
    pub fn early_data_accepted(&self) -> bool {
        self.driver.early_data_accepted()
    }

    /// The backend's own connection, for what polytls does not model:
    /// `polytls_rustls::RustlsSession` (`.connection()`: the rustls
    /// `Connection`), `polytls_openssl::OpenSslDriver` and
    /// `polytls_boring::BoringDriver` (`.ssl()`: the library's `SslRef`).
    /// `None` for any other type. Outside the portable guarantee: what you
    /// do with it is your backend's behaviour, not polytls'.
    pub fn native<T: 'static>(&self) -> Option<&T> {
        self.driver.native().downcast_ref::<T>()
    }

    /// The backend's session driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }
}

/// What a session negotiated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The protocol version.
    pub version: Option<ProtocolVersion>,
    /// The cipher suite.
    pub cipher_suite: Option<CipherSuite>,
    /// The key-exchange group (`None` if unknown or not applicable: a
    /// TLS 1.2 resumption exchanges no keys, so it has none on every
    /// backend).
    pub group: Option<NamedGroup>,
    /// The ALPN protocol agreed on, if any.
    pub alpn: Option<Vec<u8>>,
    /// The SNI name: sent (client) or received (server).
    pub sni: Option<String>,
    /// The peer's certificate chain as it sent it, leaf first (empty if none).
    pub peer_chain: Vec<CertificateDer<'static>>,
    /// Whether the session was resumed rather than a full handshake.
    pub resumed: bool,
    /// The scheme the peer signed this handshake with: the server's on a
    /// client, the client's (with client authentication) on a server.
    /// `None` on a resumption (nothing is signed), before the handshake
    /// completes, or for a scheme polytls does not name.
    pub peer_signature_scheme: Option<SignatureScheme>,
}
