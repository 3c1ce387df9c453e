//! The sans-IO session: one TLS connection as a state machine.

use std::io;

use crate::identity::CertificateDer;
use crate::params::{CipherSuite, NamedGroup, ProtocolVersion};
use crate::Result;

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
/// A session never panics on peer input: every malformed byte stream ends in an
/// [`Error`](crate::Error), after which the session should be dropped (its
/// pending output, typically a fatal alert, may still be written first).
pub trait Session: Send {
    /// Reads ciphertext from `rd`, with one `read` call. `Ok(0)` means the
    /// transport reached EOF, which the session records: a later
    /// [`read`](Session::read) without a prior `close_notify` is then
    /// [`Error::UnexpectedEof`](crate::Error::UnexpectedEof).
    ///
    /// Call [`process_new_packets`](Session::process_new_packets) afterwards.
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize>;

    /// Processes the ciphertext read so far: advances the handshake and makes
    /// application data available. Errors here are fatal for the connection.
    fn process_new_packets(&mut self) -> Result<()>;

    /// Writes pending ciphertext (handshake messages, records, alerts) to
    /// `wr`, returning how many bytes it accepted.
    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize>;

    /// Copies received plaintext into `buf`.
    ///
    /// Returns [`ReadOutcome::Closed`] once the peer's `close_notify` has been
    /// processed and all data before it was read, and
    /// [`Error::UnexpectedEof`](crate::Error::UnexpectedEof) when the transport
    /// ended without one. With an empty `buf` nothing is consumed and the
    /// answer is [`ReadOutcome::NeedInput`].
    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome>;

    /// Queues plaintext to be sent, returning how much was taken. Before the
    /// handshake finishes the data is buffered (a bounded amount) and sent as
    /// soon as keys are available. Writing after
    /// [`send_close_notify`](Session::send_close_notify) is
    /// [`Error::Misuse`](crate::Error::Misuse).
    fn write(&mut self, data: &[u8]) -> Result<usize>;

    /// Whether the session wants more ciphertext from the transport.
    fn wants_read(&self) -> bool;

    /// Whether the session has ciphertext for the transport.
    fn wants_write(&self) -> bool;

    /// Whether the handshake is still in progress.
    fn is_handshaking(&self) -> bool;

    /// Queues a `close_notify` alert; after it no more plaintext can be
    /// written. Flush it with [`write_tls`](Session::write_tls).
    fn send_close_notify(&mut self);

    /// What was negotiated (fields are `None` until known).
    fn info(&self) -> SessionInfo;

    /// Derives keying material (RFC 5705 / RFC 8446 §7.5) into `out`. Before
    /// the handshake completes this is [`Error::Misuse`](crate::Error::Misuse).
    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()>;
}

impl<S: Session + ?Sized> Session for Box<S> {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        (**self).read_tls(rd)
    }
    fn process_new_packets(&mut self) -> Result<()> {
        (**self).process_new_packets()
    }
    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        (**self).write_tls(wr)
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome> {
        (**self).read(buf)
    }
    fn write(&mut self, data: &[u8]) -> Result<usize> {
        (**self).write(data)
    }
    fn wants_read(&self) -> bool {
        (**self).wants_read()
    }
    fn wants_write(&self) -> bool {
        (**self).wants_write()
    }
    fn is_handshaking(&self) -> bool {
        (**self).is_handshaking()
    }
    fn send_close_notify(&mut self) {
        (**self).send_close_notify()
    }
    fn info(&self) -> SessionInfo {
        (**self).info()
    }
    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        (**self).export_keying_material(out, label, context)
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
    /// The key-exchange group (`None` if unknown or not applicable).
    pub group: Option<NamedGroup>,
    /// The ALPN protocol agreed on, if any.
    pub alpn: Option<Vec<u8>>,
    /// The SNI name: sent (client) or received (server).
    pub sni: Option<String>,
    /// The peer's certificate chain as it sent it, leaf first (empty if none).
    pub peer_chain: Vec<CertificateDer<'static>>,
    /// Whether the session was resumed rather than a full handshake.
    pub resumed: bool,
}
