//! A BoringSSL `SSL` driven sans-IO: `SslStream` over [`MemIo`], where
//! `WANT_READ` means "feed me ciphertext" and output is collected in memory.

use std::io::{self, Read, Write};

use boring::ssl::{
    ErrorCode, HandshakeError, MidHandshakeSslStream, Ssl, SslStream, SslStreamBuilder, SslVersion,
};
use polytls_api::memio::MemIo;
use polytls_api::{
    CertificateDer, CipherSuite, Error, NamedGroup, ProtocolVersion, ReadOutcome, Result, Session,
    SessionInfo,
};

use crate::error::{is_unexpected_eof, map, would_block};

/// Plaintext accepted before the handshake completes, at most.
const EARLY_LIMIT: usize = 64 * 1024;

/// A client or server connection on BoringSSL.
#[derive(Debug)]
pub struct BoringSession {
    conn: Conn,
    is_server: bool,
    early: Vec<u8>,
    close_sent: bool,
    peer_closed: bool,
    failed: Option<Error>,
    /// The key-exchange group, captured when the handshake completes.
    group: Option<NamedGroup>,
    /// One plaintext byte read ahead by `process_new_packets` (the boring
    /// crate has no `SSL_peek`): handed out first by `read`.
    stash: Option<u8>,
}

/// The `SSL` and its stream: the boring crate runs the handshake on a
/// separate type, so the session moves from one to the other.
#[derive(Debug)]
enum Conn {
    Handshaking(MidHandshakeSslStream<MemIo>),
    Ready(SslStream<MemIo>),
    /// Only while moving between the two.
    Empty,
}

/// The negotiated group, by BoringSSL's name for it.
fn current_group(ssl: &boring::ssl::SslRef) -> Option<NamedGroup> {
    let name = ssl.curve_name()?;
    NamedGroup::ALL
        .iter()
        .copied()
        .find(|g| g.openssl_name().eq_ignore_ascii_case(name))
}

impl BoringSession {
    pub(crate) fn new(ssl: Ssl, is_server: bool) -> Result<Self> {
        let builder = SslStreamBuilder::new(ssl, MemIo::new());
        let mid = if is_server {
            builder.setup_accept()
        } else {
            builder.setup_connect()
        };
        Ok(Self {
            conn: Conn::Handshaking(mid),
            is_server,
            early: Vec::new(),
            close_sent: false,
            peer_closed: false,
            failed: None,
            group: None,
            stash: None,
        })
    }

    fn io(&self) -> &MemIo {
        match &self.conn {
            Conn::Handshaking(m) => m.get_ref(),
            Conn::Ready(s) => s.get_ref(),
            Conn::Empty => unreachable!("a session is never left empty"),
        }
    }

    fn io_mut(&mut self) -> &mut MemIo {
        match &mut self.conn {
            Conn::Handshaking(m) => m.get_mut(),
            Conn::Ready(s) => s.get_mut(),
            Conn::Empty => unreachable!("a session is never left empty"),
        }
    }

    /// Runs the handshake as far as the input allows.
    fn handshake(&mut self) -> Result<()> {
        let Conn::Handshaking(mid) = std::mem::replace(&mut self.conn, Conn::Empty) else {
            return Ok(());
        };
        match mid.handshake() {
            Ok(stream) => {
                self.conn = Conn::Ready(stream);
                self.group = current_group(self.ssl());
                self.flush_early()
            }
            Err(HandshakeError::WouldBlock(mid)) => {
                self.conn = Conn::Handshaking(mid);
                Ok(())
            }
            Err(HandshakeError::Failure(mid)) => {
                let at_eof = mid.get_ref().is_eof();
                let err = if is_unexpected_eof(mid.error(), at_eof) {
                    None
                } else {
                    Some(map(mid.error(), mid.ssl(), at_eof))
                };
                self.conn = Conn::Handshaking(mid);
                match err {
                    None => Ok(()),
                    Some(err) => {
                        self.failed = Some(err.clone());
                        Err(err)
                    }
                }
            }
            Err(HandshakeError::SetupFailure(e)) => {
                let err = Error::other("boring: handshake setup failed", e);
                self.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    /// The BoringSSL `SSL` underneath.
    pub fn ssl(&self) -> &boring::ssl::SslRef {
        match &self.conn {
            Conn::Handshaking(m) => m.ssl(),
            Conn::Ready(s) => s.ssl(),
            Conn::Empty => unreachable!("a session is never left empty"),
        }
    }

    fn stream(&mut self) -> &mut SslStream<MemIo> {
        match &mut self.conn {
            Conn::Ready(s) => s,
            _ => unreachable!("only called after the handshake"),
        }
    }

    fn fail(&mut self, e: boring::ssl::Error) -> Error {
        let err = map(&e, self.ssl(), self.io().is_eof());
        self.failed = Some(err.clone());
        err
    }

    fn check_failed(&self) -> Result<()> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn flush_early(&mut self) -> Result<()> {
        if self.early.is_empty() {
            return Ok(());
        }
        let early = std::mem::take(&mut self.early);
        match self.stream().ssl_write(&early) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }
}

impl Session for BoringSession {
    fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.io_mut().fill_from(rd)
    }

    fn process_new_packets(&mut self) -> Result<()> {
        self.check_failed()?;
        if self.is_handshaking() {
            self.handshake()?;
            if self.is_handshaking() {
                return Ok(());
            }
        }
        // Process records now (tickets, alerts, close_notify) so failures
        // surface here, as on every backend. Application data stays in
        // OpenSSL's record buffer until `read` copies it out once.
        if self.io().has_input() && !self.peer_closed && self.stash.is_none() {
            let mut probe = [0u8; 1];
            match self.stream().ssl_read(&mut probe) {
                Ok(n) => self.stash = (n == 1).then_some(probe[0]),
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => self.peer_closed = true,
                Err(e) if would_block(&e) || is_unexpected_eof(&e, self.io().is_eof()) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.io_mut().drain_to(wr)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        self.check_failed()?;
        if buf.is_empty() {
            return Ok(ReadOutcome::NeedInput);
        }
        if self.is_handshaking() {
            return if self.io().is_eof() {
                Err(Error::UnexpectedEof)
            } else {
                Ok(ReadOutcome::NeedInput)
            };
        }
        if let Some(byte) = self.stash.take() {
            buf[0] = byte;
            if buf.len() == 1 || self.ssl().pending() == 0 {
                return Ok(ReadOutcome::Data(1));
            }
            return match self.stream().ssl_read(&mut buf[1..]) {
                Ok(n) => Ok(ReadOutcome::Data(n + 1)),
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    self.peer_closed = true;
                    Ok(ReadOutcome::Data(1))
                }
                Err(e) if would_block(&e) || is_unexpected_eof(&e, self.io().is_eof()) => {
                    Ok(ReadOutcome::Data(1))
                }
                Err(e) => Err(self.fail(e)),
            };
        }
        if self.peer_closed {
            return Ok(ReadOutcome::Closed);
        }
        match self.stream().ssl_read(buf) {
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                self.peer_closed = true;
                Ok(ReadOutcome::Closed)
            }
            Err(e) if would_block(&e) => {
                if self.io().is_eof() {
                    Err(Error::UnexpectedEof)
                } else {
                    Ok(ReadOutcome::NeedInput)
                }
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize> {
        if self.close_sent {
            return Err(Error::Misuse("write after send_close_notify".into()));
        }
        self.check_failed()?;
        if data.is_empty() {
            return Ok(0);
        }
        if self.is_handshaking() {
            let n = data.len().min(EARLY_LIMIT - self.early.len());
            self.early.extend_from_slice(&data[..n]);
            return Ok(n);
        }
        match self.stream().ssl_write(data) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn wants_read(&self) -> bool {
        self.failed.is_none() && !self.peer_closed && !self.io().is_eof()
    }

    fn wants_write(&self) -> bool {
        self.io().has_output()
    }

    fn is_handshaking(&self) -> bool {
        !matches!(self.conn, Conn::Ready(_))
    }

    fn send_close_notify(&mut self) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        if let Conn::Ready(stream) = &mut self.conn {
            // Queues the alert in memory; the result only says whether the
            // peer's close_notify has arrived too.
            let _ = stream.shutdown();
        }
    }

    fn info(&self) -> SessionInfo {
        let ssl = self.ssl();
        let mut info = SessionInfo::default();
        info.version = ssl.version2().and_then(|v| {
            if v == SslVersion::TLS1_3 {
                Some(ProtocolVersion::Tls13)
            } else if v == SslVersion::TLS1_2 {
                Some(ProtocolVersion::Tls12)
            } else {
                None
            }
        });
        if self.is_handshaking() {
            info.sni = ssl
                .servername(boring::ssl::NameType::HOST_NAME)
                .map(str::to_owned);
            return info;
        }
        info.cipher_suite = ssl
            .current_cipher()
            .and_then(|c| CipherSuite::from_code(c.protocol_id()));
        info.group = self.group.or_else(|| current_group(ssl));
        info.alpn = ssl.selected_alpn_protocol().map(<[u8]>::to_vec);
        info.sni = ssl
            .servername(boring::ssl::NameType::HOST_NAME)
            .map(str::to_owned);
        let der = |c: &boring::x509::X509Ref| c.to_der().ok().map(CertificateDer::from);
        // BoringSSL's server-side chain leaves out the leaf; the client's has it.
        if self.is_server {
            info.peer_chain
                .extend(ssl.peer_certificate().as_deref().and_then(der));
        }
        if let Some(chain) = ssl.peer_cert_chain() {
            info.peer_chain.extend(chain.iter().filter_map(der));
        }
        info.resumed = ssl.session_reused();
        info
    }

    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        if self.is_handshaking() {
            return Err(Error::Misuse(
                "keying material is available only after the handshake".into(),
            ));
        }
        let label = std::str::from_utf8(label).map_err(|_| Error::Unsupported {
            backend: crate::NAME,
            what: "exporter labels must be UTF-8".into(),
        })?;
        self.ssl()
            .export_keying_material(out, label, context)
            .map_err(|e| Error::other("boring: exporter failed", e))
    }
}
