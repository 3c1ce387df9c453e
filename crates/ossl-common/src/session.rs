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
    SessionInfo, SignatureScheme,
};

use crate::errors::{Code, Failure, Library};
use crate::resume::Slot;

/// Plaintext accepted before the handshake completes, at most.
const EARLY_LIMIT: usize = 64 * 1024;

/// Ciphertext queued for the transport, at most, before `write` takes no
/// more plaintext (rustls' default buffer limit, so every backend takes the
/// same amount per call). Unbounded, one `write` of a megabyte would seal it
/// all into memory before the first byte leaves: the ciphertext falls out of
/// the CPU's cache before it is copied to the socket (measured: tokio 1 MiB
/// transfers 17–37 % slower than tokio-openssl and tokio-boring, whose
/// streams hand each record to the socket as it is sealed).
const WRITE_LIMIT: usize = 64 * 1024;

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
    /// `SSL_read`; `Ok(None)` when the library wants more input
    /// (`SSL_ERROR_WANT_READ` or `WANT_WRITE`). That answer ends every
    /// receive loop, so it is told apart here, from the binding's error
    /// code, rather than through [`failure`](Self::failure) (and, where the
    /// driver wraps the binding's error, without wrapping it).
    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<Option<usize>, Self::Error>;
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
    /// The scheme the peer signed the handshake with, where the library
    /// still knows it.
    fn peer_signature_scheme(&self) -> Option<SignatureScheme>;
    /// The ALPN protocol agreed on.
    fn alpn(&self) -> Option<&[u8]>;
    /// The SNI name sent or received.
    fn sni(&self) -> Option<String>;
    /// `SSL_get_peer_certificate`.
    fn peer_certificate(&self) -> Option<CertificateDer<'static>>;
    /// `SSL_get_peer_cert_chain` (with the leaf on a client, without it on a
    /// server).
    fn peer_cert_chain(&self) -> Vec<CertificateDer<'static>>;
    /// The earliest notAfter of the peer's chain (Unix seconds), read from
    /// the library's parsed certificates (`X509_get0_notAfter`) without
    /// serializing them; `with_leaf` where the chain leaves the leaf out
    /// (a server's view), as for [`peer_chain`](SessionDriver::peer_chain).
    fn peer_not_after(&self, with_leaf: bool) -> Option<i64>;
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
    /// The key-exchange group, read when the handshake completes.
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
                self.stash = (n == Some(1)).then_some(byte[0]);
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

    /// Reads early data, then advances the handshake, as far as the input
    /// goes; `Ok(true)` once both are over (records may be processed).
    fn advance(&mut self) -> Result<bool> {
        if self.early_phase {
            self.read_early()?;
            if self.early_phase {
                return Ok(false);
            }
        }
        if self.handshaking {
            let r = self.d.handshake();
            match r {
                Ok(()) => {
                    self.handshaking = false;
                    // Read when the handshake completes, not before: a client
                    // that offered a session would otherwise report the
                    // offered session's group, even when the server declined
                    // it or picked another group.
                    self.group = self.d.group();
                    self.flush_early()?;
                }
                Err(e) if self.benign(&e) => return Ok(false),
                Err(e) => return Err(self.map(e)),
            }
        }
        Ok(true)
    }

    /// Hands out the stashed byte, with whatever follows it in the same
    /// record.
    fn read_stashed(&mut self, byte: u8, buf: &mut [u8]) -> Result<ReadOutcome> {
        buf[0] = byte;
        if buf.len() == 1 || self.d.pending() == 0 {
            return Ok(ReadOutcome::Data(1));
        }
        match self.d.read(&mut buf[1..]) {
            Ok(n) => Ok(ReadOutcome::Data(n.unwrap_or(0) + 1)),
            Err(e) if D::failure(&e).code == Code::ZeroReturn => {
                self.peer_closed = true;
                Ok(ReadOutcome::Data(1))
            }
            Err(e) if self.benign(&e) => Ok(ReadOutcome::Data(1)),
            Err(e) => Err(self.map(e)),
        }
    }

    /// [`read`](SessionDriver::read) before the library's plaintext: early
    /// data, the handshake, the stashed byte, the peer's close_notify.
    #[cold]
    #[inline(never)]
    fn read_rare(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
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
        Ok(ReadOutcome::Closed)
    }

    /// A read the library failed: close_notify, or an error to map.
    #[cold]
    #[inline(never)]
    fn read_failed(&mut self, e: D::Error) -> Result<ReadOutcome> {
        match D::failure(&e).code {
            Code::ZeroReturn => {
                self.peer_closed = true;
                Ok(ReadOutcome::Closed)
            }
            Code::WouldBlock => Ok(ReadOutcome::NeedInput),
            _ => Err(self.map(e)),
        }
    }
}

impl<D: SslDriver> SessionDriver for OsslSession<D> {
    fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.d.io_mut().fill_from(rd)
    }

    fn process_new_packets(&mut self) -> Result<()> {
        // Probe only what the library has not decrypted yet: while
        // plaintext is pending, a probe would only see it again, and a
        // receiver fed many records before it reads paid one library call
        // per record more than the library needs (`cargo xtask compare`).
        if self.advance()?
            && self.d.io().has_input()
            && !self.peer_closed
            && self.stash.is_none()
            && self.d.pending() == 0
        {
            self.probe()?;
        }
        Ok(())
    }

    /// Without the probe: the `SSL_read` that follows processes the records
    /// and copies their plaintext with one library call (the probe and the
    /// read were two per record), and answers what the probe would have:
    /// `read` maps alerts, `close_notify` and errors as `probe` does.
    fn process_for_read(&mut self) -> Result<()> {
        self.advance().map(|_| ())
    }

    fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.d.io_mut().drain_to(wr)
    }

    /// The library's read, with everything rare (early data, the stashed
    /// byte, the end, a failure) out of line: a receive loop calls this once
    /// per record and once more to find the input drained.
    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        if !self.early_in.is_empty() || self.handshaking || self.stash.is_some() || self.peer_closed
        {
            return self.read_rare(buf);
        }
        match self.d.read(buf) {
            Ok(Some(n)) => Ok(ReadOutcome::Data(n)),
            Ok(None) => Ok(ReadOutcome::NeedInput),
            Err(e) => self.read_failed(e),
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize> {
        if self.handshaking {
            let n = data.len().min(EARLY_LIMIT - self.early.len());
            self.early.extend_from_slice(&data[..n]);
            return Ok(n);
        }
        let room = WRITE_LIMIT.saturating_sub(self.d.io().queued_output());
        if room == 0 {
            return Ok(0);
        }
        match self.d.write(&data[..data.len().min(room)]) {
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
        info.resumed = self.d.resumed();
        // A TLS 1.2 resumption exchanges no keys: the library would name
        // the group of the handshake that made the session, which rustls
        // cannot, so no backend does.
        if !(info.resumed && info.version == Some(ProtocolVersion::Tls12)) {
            info.group = self.group.or_else(|| self.d.group());
        }
        info.alpn = self.d.alpn().map(<[u8]>::to_vec);
        info.peer_chain = self.peer_chain().into_owned();
        if !info.resumed {
            info.peer_signature_scheme = self.d.peer_signature_scheme();
        }
        info
    }

    fn peer_chain(&self) -> std::borrow::Cow<'_, [CertificateDer<'static>]> {
        // The server-side chain leaves out the leaf; the client's has it,
        // except on a resumed session, where the library keeps the leaf
        // alone.
        let chain = self.d.peer_cert_chain();
        if self.is_server || chain.is_empty() {
            let mut full: Vec<_> = self.d.peer_certificate().into_iter().collect();
            full.extend(chain);
            return full.into();
        }
        chain.into()
    }

    fn peer_not_after(&self) -> Option<i64> {
        // From the library's parsed certificates; from the DER if a date
        // would not convert, so the expiry rule never silently lapses.
        self.d
            .peer_not_after(self.is_server)
            .or_else(|| polytls_api::driver::chain_not_after(&self.peer_chain()))
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

    fn resumed(&self) -> bool {
        self.d.resumed()
    }

    fn set_peer_not_after(&mut self, not_after: i64) {
        if let Some(slot) = &self.slot {
            slot.set_peer_not_after(not_after);
        }
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

/// The state machine once, over a scripted fake library: what it does with
/// each answer of `SSL_do_handshake` / `SSL_read`, with and without
/// `SSL_peek`, independently of OpenSSL and BoringSSL.
#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use std::collections::VecDeque;
    use std::io::Read as _;

    use polytls_api::CertificateError as Cert;

    use super::*;
    use crate::errors::Reasons;

    static LIB: Library = Library {
        name: "fake",
        reasons: Reasons {
            lib_ssl: 20,
            certificate_verify_failed: 134,
            no_client_certificate: 199,
            no_shared_cipher: &[193],
            no_shared_group: &[410],
            no_shared_sigalg: &[376],
            no_shared_version: &[258],
            no_application_protocol: &[235],
            wrong_key_usage: &[],
            unexpected_eof: None,
        },
    };

    #[derive(Debug)]
    struct FakeError(Failure);

    impl std::fmt::Display for FakeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fake failure {:?}", self.0)
        }
    }

    impl std::error::Error for FakeError {}

    fn fail(code: Code, reasons: &[i32]) -> FakeError {
        FakeError(Failure {
            code,
            io_error: false,
            reasons: reasons.iter().map(|r| (20, *r)).collect(),
        })
    }

    /// What the fake's `SSL_do_handshake` answers, in turn.
    #[derive(Debug)]
    enum Step {
        Want,
        Done,
        Fail(Code, Vec<i32>),
    }

    /// A library whose handshake follows a script and whose records are
    /// plain bytes: every input byte is a plaintext byte; `close` is the
    /// peer's close_notify once the input is read.
    #[derive(Debug, Default)]
    struct Fake {
        io: MemIo,
        script: VecDeque<Step>,
        has_peek: bool,
        /// How many times the session peeked.
        peeks: usize,
        plaintext: VecDeque<u8>,
        close: bool,
        written: Vec<u8>,
        verify: i32,
    }

    impl Fake {
        fn pull(&mut self) {
            let mut buf = [0u8; 64];
            while let Ok(n) = self.io.read(&mut buf) {
                if n == 0 {
                    break;
                }
                self.plaintext.extend(&buf[..n]);
            }
        }

        fn answer(
            &mut self,
            buf: &mut [u8],
            consume: bool,
        ) -> std::result::Result<usize, FakeError> {
            self.pull();
            if self.plaintext.is_empty() {
                return Err(if self.close {
                    fail(Code::ZeroReturn, &[])
                } else if self.io.is_eof() {
                    fail(Code::Syscall, &[])
                } else {
                    fail(Code::WouldBlock, &[])
                });
            }
            let n = buf.len().min(self.plaintext.len());
            for (i, b) in buf.iter_mut().take(n).enumerate() {
                *b = self.plaintext[i];
            }
            if consume {
                self.plaintext.drain(..n);
            }
            Ok(n)
        }
    }

    impl SslDriver for Fake {
        type Error = FakeError;
        fn library() -> &'static Library {
            &LIB
        }
        fn failure(e: &FakeError) -> Failure {
            e.0.clone()
        }
        fn io(&self) -> &MemIo {
            &self.io
        }
        fn io_mut(&mut self) -> &mut MemIo {
            &mut self.io
        }
        fn handshake(&mut self) -> std::result::Result<(), FakeError> {
            match self.script.pop_front().unwrap_or(Step::Done) {
                Step::Want => Err(fail(Code::WouldBlock, &[])),
                Step::Done => Ok(()),
                Step::Fail(code, reasons) => Err(fail(code, &reasons)),
            }
        }
        fn read(&mut self, buf: &mut [u8]) -> std::result::Result<Option<usize>, FakeError> {
            match self.answer(buf, true) {
                Err(e) if e.0.code == Code::WouldBlock => Ok(None),
                r => r.map(Some),
            }
        }
        fn peek(&mut self, buf: &mut [u8]) -> Option<std::result::Result<usize, FakeError>> {
            self.peeks += usize::from(self.has_peek);
            self.has_peek.then(|| self.answer(buf, false))
        }
        fn write(&mut self, data: &[u8]) -> std::result::Result<usize, FakeError> {
            self.written.extend_from_slice(data);
            Ok(data.len())
        }
        fn shutdown(&mut self) {}
        fn pending(&self) -> usize {
            self.plaintext.len()
        }
        fn verify_result(&self) -> i32 {
            self.verify
        }
        fn version(&self) -> Option<ProtocolVersion> {
            Some(ProtocolVersion::Tls13)
        }
        fn cipher_suite(&self) -> Option<CipherSuite> {
            None
        }
        fn group(&self) -> Option<NamedGroup> {
            None
        }
        fn peer_signature_scheme(&self) -> Option<SignatureScheme> {
            None
        }
        fn alpn(&self) -> Option<&[u8]> {
            None
        }
        fn sni(&self) -> Option<String> {
            None
        }
        fn peer_certificate(&self) -> Option<CertificateDer<'static>> {
            None
        }
        fn peer_cert_chain(&self) -> Vec<CertificateDer<'static>> {
            Vec::new()
        }
        fn peer_not_after(&self, _: bool) -> Option<i64> {
            None
        }
        fn resumed(&self) -> bool {
            false
        }
        fn session_der(&self) -> Option<Vec<u8>> {
            None
        }
        fn export_keying_material(&self, _: &mut [u8], _: &[u8], _: Option<&[u8]>) -> Result<()> {
            Ok(())
        }
    }

    fn session(script: Vec<Step>, has_peek: bool) -> OsslSession<Fake> {
        let fake = Fake {
            script: script.into(),
            has_peek,
            ..Fake::default()
        };
        OsslSession::client(fake, None).unwrap()
    }

    fn feed(s: &mut OsslSession<Fake>, bytes: &[u8]) {
        let mut r = bytes;
        while !r.is_empty() {
            s.read_tls(&mut r).unwrap();
        }
    }

    fn read_all(s: &mut OsslSession<Fake>) -> (Vec<u8>, ReadOutcome) {
        let mut got = Vec::new();
        loop {
            let mut buf = [0u8; 4];
            match s.read(&mut buf).unwrap() {
                ReadOutcome::Data(n) => got.extend_from_slice(&buf[..n]),
                other => return (got, other),
            }
        }
    }

    #[test]
    fn writes_stop_at_the_queued_ciphertext_limit() {
        let mut s = session(vec![Step::Done], true);
        s.process_new_packets().unwrap();
        assert!(!s.is_handshaking());
        let data = vec![7u8; 1 << 20];
        assert_eq!(s.write(&data).unwrap(), WRITE_LIMIT);
        // The fake seals nothing: queue ciphertext by hand.
        s.d.io.write_all(&vec![1u8; WRITE_LIMIT - 100]).unwrap();
        assert_eq!(s.write(&data).unwrap(), 100);
        s.d.io.write_all(&[1u8; 100]).unwrap();
        assert_eq!(s.write(&data).unwrap(), 0, "full");
        let mut sink = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut sink).unwrap();
        }
        assert_eq!(sink.len(), WRITE_LIMIT);
        assert_eq!(s.write(&data).unwrap(), WRITE_LIMIT, "room again");
        assert_eq!(s.d.written.len(), 2 * WRITE_LIMIT + 100);
    }

    #[test]
    fn want_read_waits_and_early_writes_go_out_when_the_handshake_ends() {
        let mut s = session(vec![Step::Want, Step::Want, Step::Done], true);
        assert!(s.is_handshaking());
        assert_eq!(s.write(b"early").unwrap(), 5);
        assert!(matches!(
            s.read(&mut [0; 4]).unwrap(),
            ReadOutcome::NeedInput
        ));
        s.process_new_packets().unwrap();
        assert!(s.is_handshaking(), "still wants input");
        assert!(
            s.d.written.is_empty(),
            "nothing written before the handshake ends"
        );
        s.process_new_packets().unwrap();
        assert!(!s.is_handshaking());
        assert_eq!(s.d.written, b"early");
    }

    #[test]
    fn a_failed_handshake_is_mapped_by_reason_and_verify_result() {
        let mut s = session(vec![Step::Want, Step::Fail(Code::Ssl, vec![134])], true);
        s.d.verify = 23;
        assert!(matches!(
            s.process_new_packets(),
            Err(Error::InvalidCertificate(Cert::Revoked))
        ));
        let mut s = session(vec![Step::Want, Step::Fail(Code::Ssl, vec![1040])], true);
        assert!(matches!(
            s.process_new_packets(),
            Err(Error::AlertReceived(a)) if a.0 == 40
        ));
    }

    #[test]
    fn data_then_close_notify_is_a_clean_end_with_and_without_peek() {
        for has_peek in [true, false] {
            let mut s = session(vec![Step::Done], has_peek);
            feed(&mut s, b"hello, world");
            s.d.close = true;
            s.process_new_packets().unwrap();
            // Without SSL_peek one byte was read ahead; none is lost.
            assert_eq!(s.stash.is_some(), !has_peek);
            let (got, end) = read_all(&mut s);
            assert_eq!(got, b"hello, world", "peek: {has_peek}");
            assert!(matches!(end, ReadOutcome::Closed), "peek: {has_peek}");
            assert!(!s.wants_read());
        }
    }

    #[test]
    fn pending_plaintext_is_not_probed_again() {
        let mut s = session(vec![Step::Done], true);
        s.process_new_packets().unwrap();
        for chunk in [&b"one"[..], b"two", b"three"] {
            feed(&mut s, chunk);
            s.process_new_packets().unwrap();
        }
        assert_eq!(s.d.peeks, 1, "decrypted plaintext was probed again");
        let (got, end) = read_all(&mut s);
        assert_eq!(got, b"onetwothree");
        assert!(matches!(end, ReadOutcome::NeedInput));
        feed(&mut s, b"four");
        s.process_new_packets().unwrap();
        assert_eq!(s.d.peeks, 2, "new input after a drained read is probed");
    }

    #[test]
    fn process_for_read_leaves_records_to_the_read() {
        for has_peek in [true, false] {
            let mut s = session(vec![Step::Want, Step::Done], has_peek);
            assert!(s.is_handshaking());
            s.process_for_read().unwrap();
            assert!(!s.is_handshaking(), "the handshake still advances");
            feed(&mut s, b"hello, world");
            s.d.close = true;
            s.process_for_read().unwrap();
            assert_eq!(s.d.peeks, 0, "peek: {has_peek}: no probe");
            assert!(s.stash.is_none(), "peek: {has_peek}: nothing read ahead");
            let (got, end) = read_all(&mut s);
            assert_eq!(got, b"hello, world", "peek: {has_peek}");
            assert!(matches!(end, ReadOutcome::Closed), "peek: {has_peek}");
            assert!(!s.wants_read());
        }
    }

    #[test]
    fn eof_without_close_notify_is_an_error_not_an_end() {
        for has_peek in [true, false] {
            let mut s = session(vec![Step::Done], has_peek);
            feed(&mut s, b"partial");
            s.read_tls(&mut &b""[..]).unwrap(); // the transport's EOF
            s.process_new_packets().unwrap();
            let mut got = Vec::new();
            let err = loop {
                let mut buf = [0u8; 4];
                match s.read(&mut buf) {
                    Ok(ReadOutcome::Data(n)) => got.extend_from_slice(&buf[..n]),
                    Ok(other) => panic!("peek {has_peek}: {other:?} after a truncated stream"),
                    Err(e) => break e,
                }
            };
            assert_eq!(got, b"partial");
            assert!(matches!(err, Error::UnexpectedEof), "{err:?}");
        }
    }
}
