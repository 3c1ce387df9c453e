//! The rustls connection as a polytls [`Session`]: rustls is sans-IO already,
//! so this is a thin mapping.

use std::io::{self, Read, Write};

use polytls_api::{
    CipherSuite, Error, NamedGroup, ProtocolVersion, ReadOutcome, Result, Session, SessionInfo,
};
use rustls::{Connection, HandshakeKind};

use crate::error::map;

/// A client or server connection on rustls.
#[derive(Debug)]
pub struct RustlsSession {
    conn: Connection,
    sni: Option<String>,
    close_sent: bool,
}

impl RustlsSession {
    pub(crate) fn new(conn: Connection, sni: Option<String>) -> Self {
        Self {
            conn,
            sni,
            close_sent: false,
        }
    }

    /// The rustls connection underneath.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl Session for RustlsSession {
    fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.conn.read_tls(rd)
    }

    fn process_new_packets(&mut self) -> Result<()> {
        self.conn.process_new_packets().map(|_| ()).map_err(map)
    }

    fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.conn.write_tls(wr)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        if buf.is_empty() {
            return Ok(ReadOutcome::NeedInput);
        }
        match self.conn.reader().read(buf) {
            Ok(0) => Ok(ReadOutcome::Closed),
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::NeedInput),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Error::UnexpectedEof),
            Err(e) => Err(Error::other("rustls: plaintext read failed", e)),
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize> {
        if self.close_sent {
            return Err(Error::Misuse("write after send_close_notify".into()));
        }
        self.conn
            .writer()
            .write(data)
            .map_err(|e| Error::other("rustls: plaintext write failed", e))
    }

    fn wants_read(&self) -> bool {
        self.conn.wants_read()
    }

    fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    fn send_close_notify(&mut self) {
        if !self.close_sent {
            self.conn.send_close_notify();
            self.close_sent = true;
        }
    }

    fn info(&self) -> SessionInfo {
        let mut info = SessionInfo::default();
        info.version = self.conn.protocol_version().and_then(|v| match v {
            rustls::ProtocolVersion::TLSv1_2 => Some(ProtocolVersion::Tls12),
            rustls::ProtocolVersion::TLSv1_3 => Some(ProtocolVersion::Tls13),
            _ => None,
        });
        info.cipher_suite = self
            .conn
            .negotiated_cipher_suite()
            .and_then(|s| CipherSuite::from_code(u16::from(s.suite())));
        info.group = self
            .conn
            .negotiated_key_exchange_group()
            .and_then(|g| NamedGroup::from_code(u16::from(g.name())));
        info.alpn = self.conn.alpn_protocol().map(<[u8]>::to_vec);
        info.sni = match &self.conn {
            Connection::Server(s) => s.server_name().map(str::to_owned),
            Connection::Client(_) => self.sni.clone(),
        };
        info.peer_chain = self
            .conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        info.resumed = self.conn.handshake_kind() == Some(HandshakeKind::Resumed);
        info
    }

    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        if self.conn.is_handshaking() {
            return Err(Error::Misuse(
                "keying material is available only after the handshake".into(),
            ));
        }
        self.conn
            .export_keying_material(out, label, context)
            .map(|_| ())
            .map_err(map)
    }
}
