//! An OpenSSL `SSL` driven sans-IO: `SslStream` over [`MemIo`], where
//! `WANT_READ` means "feed me ciphertext" and output is collected in memory.

use std::io::{self, Read, Write};

use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::ssl::{ErrorCode, Ssl, SslStream, SslVersion};
use polytls_api::memio::MemIo;
use polytls_api::{
    CertificateDer, CipherSuite, Error, NamedGroup, ProtocolVersion, ReadOutcome, Result, Session,
    SessionInfo,
};

use crate::error::{is_unexpected_eof, map, would_block};

/// Plaintext accepted before the handshake completes, at most.
const EARLY_LIMIT: usize = 64 * 1024;

/// A client or server connection on OpenSSL.
#[derive(Debug)]
pub struct OpenSslSession {
    stream: SslStream<MemIo>,
    handshaking: bool,
    is_server: bool,
    early: Vec<u8>,
    close_sent: bool,
    peer_closed: bool,
    failed: Option<Error>,
    /// The key-exchange group, captured during the handshake: OpenSSL frees
    /// the ephemeral keys once they are used.
    group: Option<NamedGroup>,
}

/// The group of the ephemeral key OpenSSL currently holds, if any.
fn current_group(ssl: &openssl::ssl::SslRef) -> Option<NamedGroup> {
    let key = ssl
        .peer_tmp_key()
        .map(|k| {
            (
                k.id(),
                k.ec_key().ok().and_then(|ec| ec.group().curve_name()),
            )
        })
        .or_else(|_| {
            ssl.tmp_key().map(|k| {
                (
                    k.id(),
                    k.ec_key().ok().and_then(|ec| ec.group().curve_name()),
                )
            })
        })
        .ok()?;
    match key {
        (Id::X25519, _) => Some(NamedGroup::X25519),
        (Id::X448, _) => Some(NamedGroup::X448),
        (Id::EC, Some(Nid::X9_62_PRIME256V1)) => Some(NamedGroup::SECP256R1),
        (Id::EC, Some(Nid::SECP384R1)) => Some(NamedGroup::SECP384R1),
        (Id::EC, Some(Nid::SECP521R1)) => Some(NamedGroup::SECP521R1),
        _ => None,
    }
}

impl OpenSslSession {
    pub(crate) fn new(ssl: Ssl, is_server: bool) -> Result<Self> {
        let stream = SslStream::new(ssl, MemIo::new())
            .map_err(|e| Error::other("openssl: cannot create a session", e))?;
        Ok(Self {
            stream,
            handshaking: true,
            is_server,
            early: Vec::new(),
            close_sent: false,
            peer_closed: false,
            failed: None,
            group: None,
        })
    }

    /// The OpenSSL `SSL` underneath.
    pub fn ssl(&self) -> &openssl::ssl::SslRef {
        self.stream.ssl()
    }

    fn fail(&mut self, e: openssl::ssl::Error) -> Error {
        let at_eof = self.stream.get_ref().is_eof();
        let err = map(e, self.stream.ssl(), at_eof);
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
        match self.stream.ssl_write(&early) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }
}

impl Session for OpenSslSession {
    fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.stream.get_mut().fill_from(rd)
    }

    fn process_new_packets(&mut self) -> Result<()> {
        self.check_failed()?;
        if self.handshaking {
            let result = self.stream.do_handshake();
            if self.group.is_none() {
                self.group = current_group(self.stream.ssl());
            }
            match result {
                Ok(()) => {
                    self.handshaking = false;
                    self.flush_early()?;
                }
                Err(e) if would_block(&e) => return Ok(()),
                Err(e) if is_unexpected_eof(&e, self.stream.get_ref().is_eof()) => return Ok(()),
                Err(e) => return Err(self.fail(e)),
            }
        }
        // Process records now (tickets, alerts, close_notify) so failures
        // surface here, as on every backend. Application data stays in
        // OpenSSL's record buffer until `read` copies it out once.
        if self.stream.get_ref().has_input() && !self.peer_closed {
            let mut probe = [0u8; 1];
            match self.stream.ssl_peek(&mut probe) {
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => self.peer_closed = true,
                Err(e)
                    if would_block(&e) || is_unexpected_eof(&e, self.stream.get_ref().is_eof()) => {
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.stream.get_mut().drain_to(wr)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        self.check_failed()?;
        if buf.is_empty() {
            return Ok(ReadOutcome::NeedInput);
        }
        if self.handshaking {
            return if self.stream.get_ref().is_eof() {
                Err(Error::UnexpectedEof)
            } else {
                Ok(ReadOutcome::NeedInput)
            };
        }
        if self.peer_closed {
            return Ok(ReadOutcome::Closed);
        }
        match self.stream.ssl_read(buf) {
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                self.peer_closed = true;
                Ok(ReadOutcome::Closed)
            }
            Err(e) if would_block(&e) => {
                if self.stream.get_ref().is_eof() {
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
        if self.handshaking {
            let n = data.len().min(EARLY_LIMIT - self.early.len());
            self.early.extend_from_slice(&data[..n]);
            return Ok(n);
        }
        match self.stream.ssl_write(data) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn wants_read(&self) -> bool {
        self.failed.is_none() && !self.peer_closed && !self.stream.get_ref().is_eof()
    }

    fn wants_write(&self) -> bool {
        self.stream.get_ref().has_output()
    }

    fn is_handshaking(&self) -> bool {
        self.handshaking
    }

    fn send_close_notify(&mut self) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        if !self.handshaking {
            // Queues the alert in memory; the result only says whether the
            // peer's close_notify has arrived too.
            let _ = self.stream.shutdown();
        }
    }

    fn info(&self) -> SessionInfo {
        let ssl = self.stream.ssl();
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
        if self.handshaking {
            info.sni = ssl
                .servername(openssl::ssl::NameType::HOST_NAME)
                .map(str::to_owned);
            return info;
        }
        info.cipher_suite = ssl
            .current_cipher()
            .and_then(|c| CipherSuite::from_code(u16::from_be_bytes(c.protocol_id())));
        info.group = self.group.or_else(|| current_group(ssl));
        info.alpn = ssl.selected_alpn_protocol().map(<[u8]>::to_vec);
        info.sni = ssl
            .servername(openssl::ssl::NameType::HOST_NAME)
            .map(str::to_owned);
        let der = |c: &openssl::x509::X509Ref| c.to_der().ok().map(CertificateDer::from);
        // OpenSSL's server-side chain leaves out the leaf; the client's has it.
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
        if self.handshaking {
            return Err(Error::Misuse(
                "keying material is available only after the handshake".into(),
            ));
        }
        let label = std::str::from_utf8(label).map_err(|_| Error::Unsupported {
            backend: crate::NAME,
            what: "exporter labels must be UTF-8".into(),
        })?;
        self.stream
            .ssl()
            .export_keying_material(out, label, context)
            .map_err(|e| Error::other("openssl: exporter failed", e))
    }
}
