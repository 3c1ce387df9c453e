//! The rustls connection as a polytls session driver: rustls is sans-IO
//! already, so this is a thin mapping.

use std::any::Any;
use std::io::{self, Read, Write};
use std::sync::Arc;

use polytls_api::driver::{SessionBlob, SessionDriver};
use polytls_api::{
    CertificateDer, CipherSuite, Error, NamedGroup, ProtocolVersion, ReadOutcome, Result,
    SessionInfo, SignatureScheme,
};
use rustls::{Connection, HandshakeKind};

use crate::error::map;
use crate::store::ConnStore;

/// A client or server connection on rustls.
#[derive(Debug)]
pub struct RustlsSession {
    conn: Connection,
    sni: Option<String>,
    /// A client's view of its context's resumption cache.
    store: Option<Arc<ConnStore>>,
    /// A client's early data, kept until the server says whether it took
    /// it (rustls drops rejected early data; polytls sends it again).
    early: Vec<u8>,
    /// Whether early data was accepted (known after the handshake on a
    /// client; as soon as it arrives on a server).
    early_accepted: bool,
    /// The scheme the peer's handshake signature verified with.
    peer_scheme: Option<SignatureScheme>,
}

impl RustlsSession {
    pub(crate) fn client(
        conn: rustls::ClientConnection,
        sni: Option<String>,
        store: Option<Arc<ConnStore>>,
    ) -> Self {
        Self {
            conn: conn.into(),
            sni,
            store,
            early: Vec::new(),
            early_accepted: false,
            peer_scheme: None,
        }
    }

    pub(crate) fn server(conn: rustls::ServerConnection) -> Self {
        Self {
            conn: conn.into(),
            sni: None,
            store: None,
            early: Vec::new(),
            early_accepted: false,
            peer_scheme: None,
        }
    }

    /// Once a client's handshake completes: early data the server
    /// rejected is sent again, as ordinary data, ahead of anything later.
    fn settle_early_data(&mut self) -> Result<()> {
        let Connection::Client(c) = &mut self.conn else {
            return Ok(());
        };
        if self.early.is_empty() || c.is_handshaking() {
            return Ok(());
        }
        let early = std::mem::take(&mut self.early);
        self.early_accepted = c.is_early_data_accepted();
        if !self.early_accepted {
            c.writer()
                .write_all(&early)
                .map_err(|e| Error::other("rustls: re-sending rejected early data", e))?;
        }
        Ok(())
    }

    /// The rustls connection underneath.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl SessionDriver for RustlsSession {
    #[inline]
    fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.conn.read_tls(rd)
    }

    #[inline]
    fn process_for_read(&mut self) -> Result<()> {
        self.process_new_packets()
    }

    #[inline]
    fn process_new_packets(&mut self) -> Result<()> {
        if self.conn.is_handshaking() {
            // See `peer_sig`: the verifier notes the scheme during the call.
            crate::peer_sig::take();
            let processed = self.conn.process_new_packets();
            if let Some(s) = crate::peer_sig::take() {
                self.peer_scheme = SignatureScheme::from_code(u16::from(s));
            }
            processed.map_err(map)?;
        } else {
            self.conn.process_new_packets().map_err(map)?;
        }
        if self.early.is_empty() {
            return Ok(());
        }
        self.settle_early_data()
    }

    fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.conn.write_tls(wr)
    }

    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        if let Connection::Server(s) = &mut self.conn {
            if let Some(mut early) = s.early_data() {
                self.early_accepted = true;
                match early.read(buf) {
                    Ok(0) => {}
                    Ok(n) => return Ok(ReadOutcome::Data(n)),
                    Err(e) => return Err(Error::other("rustls: early data read failed", e)),
                }
            }
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

    #[inline]
    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    fn send_close_notify(&mut self) {
        self.conn.send_close_notify();
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
        info.peer_chain = self.peer_chain().into_owned();
        info.resumed = self.conn.handshake_kind() == Some(HandshakeKind::Resumed);
        if !info.resumed && !self.conn.is_handshaking() {
            info.peer_signature_scheme = self.peer_scheme;
        }
        info
    }

    fn alpn(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    fn peer_chain(&self) -> std::borrow::Cow<'_, [CertificateDer<'static>]> {
        std::borrow::Cow::Borrowed(self.conn.peer_certificates().unwrap_or_default())
    }

    fn peer_leaf(&self) -> Option<CertificateDer<'static>> {
        self.conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.clone().into_owned())
    }

    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        self.conn
            .export_keying_material(out, label, context)
            .map(|_| ())
            .map_err(map)
    }

    fn write_early_data(&mut self, data: &[u8]) -> Result<usize> {
        let Connection::Client(c) = &mut self.conn else {
            return Ok(0);
        };
        let Some(mut early) = c.early_data() else {
            return Ok(0);
        };
        let n = early
            .write(data)
            .map_err(|e| Error::other("rustls: early data write failed", e))?;
        self.early.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn early_data_accepted(&self) -> bool {
        self.early_accepted
    }

    fn take_resumption(&mut self) -> Option<SessionBlob> {
        self.store.as_ref()?.take_stored()
    }

    fn forget_resumption(&mut self) {
        if let Some(store) = &self.store {
            store.forget();
        }
    }

    fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    fn set_peer_not_after(&mut self, not_after: i64) {
        if let Some(store) = &self.store {
            store.set_peer_not_after(not_after);
        }
    }

    fn native(&self) -> &dyn Any {
        self
    }
}
