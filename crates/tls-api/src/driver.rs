//! What a backend implements: a driver for each layer. Applications never use
//! these traits directly; they use [`Backend`](crate::Backend),
//! [`ClientContext`](crate::ClientContext),
//! [`ServerContext`](crate::ServerContext) and [`Session`](crate::Session),
//! which wrap the drivers and enforce the portable rules once, for every
//! backend:
//!
//! - a driver only ever sees a configuration that passed validation
//!   ([`Valid`]);
//! - a client driver only ever sees a server name that is a DNS name or an
//!   IP address, and only resumption state its own context made;
//! - a session driver's `read` is called only with a non-empty buffer, after
//!   the handshake and before any failure; its `write` only with data, before
//!   `close_notify`; its `export_keying_material` only after the handshake.
//!   The wrapper remembers the first failure and answers it again, turns a
//!   transport EOF without `close_notify` into [`Error::UnexpectedEof`](crate::Error::UnexpectedEof), and
//!   tells the driver to forget resumption state of a connection that did not
//!   end cleanly.

use std::any::Any;
use std::borrow::Cow;
use std::io;
use std::ops::Deref;

pub use crate::cache::{PeerExpiry, SessionCache};
use crate::config::{ClientConfig, ServerConfig};
use crate::identity::CertificateDer;
use crate::session::{ReadOutcome, SessionInfo};
use crate::Result;

/// A configuration that passed validation: backends receive only this, so
/// none can forget a check. Only `polytls-api` makes one.
#[derive(Debug, Clone, Copy)]
pub struct Valid<'a, T>(&'a T);

impl<'a> Valid<'a, ClientConfig> {
    pub(crate) fn client(config: &'a ClientConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self(config))
    }
}

impl<'a> Valid<'a, ServerConfig> {
    pub(crate) fn server(config: &'a ServerConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self(config))
    }
}

impl<T> Deref for Valid<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}

/// A client session's resumption state as the backend keeps it: DER where
/// the library can serialize it (OpenSSL, BoringSSL), an opaque value
/// otherwise (rustls).
#[derive(Debug)]
pub enum SessionBlob {
    /// The library's own serialization (`i2d_SSL_SESSION`).
    Der(Vec<u8>),
    /// A value only the backend that made it understands.
    Opaque(Box<dyn Any + Send + Sync>),
}

/// The earliest notAfter in `chain` (Unix seconds), read from the DER;
/// `None` if a certificate does not parse or the chain is empty. What
/// [`SessionDriver::peer_not_after`] answers by default.
pub fn chain_not_after(chain: &[CertificateDer<'_>]) -> Option<i64> {
    let parsed = crate::trust::parse_chain(chain).ok()?;
    crate::trust::chain_not_after(&parsed)
}

/// One TLS connection as a backend drives it. See the [module
/// docs](self) for the calls the wrapper guarantees.
pub trait SessionDriver: Send + Sync + Unpin + std::fmt::Debug + 'static {
    /// Reads ciphertext with one `read` call; `Ok(0)` is the transport's EOF.
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize>;
    /// Processes the ciphertext read so far.
    fn process_new_packets(&mut self) -> Result<()>;
    /// Processes as [`process_new_packets`](Self::process_new_packets)
    /// does, when [`read`](Self::read) is called next (until it needs
    /// input): a library that decrypts lazily may leave the records to
    /// those reads, which then report what processing them finds (alerts,
    /// `close_notify`, errors) and store tickets. The default processes
    /// them now.
    fn process_for_read(&mut self) -> Result<()> {
        self.process_new_packets()
    }
    /// Writes pending ciphertext with one `write` (or `write_vectored`) call.
    fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize>;
    /// Copies plaintext into `buf` (never empty; handshake complete).
    fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome>;
    /// Takes plaintext (never empty; before `close_notify`), buffering a
    /// bounded amount while the handshake runs.
    fn write(&mut self, data: &[u8]) -> Result<usize>;
    /// Whether the session wants more ciphertext.
    fn wants_read(&self) -> bool;
    /// Whether ciphertext is waiting to be written.
    fn wants_write(&self) -> bool;
    /// Whether the handshake is still running.
    fn is_handshaking(&self) -> bool;
    /// Queues `close_notify` (called at most once).
    fn send_close_notify(&mut self);
    /// What was negotiated so far.
    fn info(&self) -> SessionInfo;
    /// The ALPN protocol agreed on, without copying it.
    fn alpn(&self) -> Option<&[u8]>;
    /// The peer's end-entity certificate, without the rest of the chain.
    fn peer_leaf(&self) -> Option<CertificateDer<'static>>;
    /// The peer's chain as [`SessionInfo::peer_chain`] gives it, borrowed
    /// where the library keeps it (the trust checks read it on every client
    /// handshake and every resumption).
    fn peer_chain(&self) -> Cow<'_, [CertificateDer<'static>]> {
        Cow::Owned(self.info().peer_chain)
    }
    /// Derives keying material (called only after the handshake).
    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()>;
    /// A client's newest resumption state, taken out of its context's cache
    /// so it is offered only where the caller offers it. Servers answer
    /// `None`.
    fn take_resumption(&mut self) -> Option<SessionBlob> {
        None
    }
    /// The connection failed or was truncated: resumption state it produced
    /// must not be offered again.
    fn forget_resumption(&mut self) {}
    /// Whether the handshake resumed a session (cheaper than
    /// [`info`](Self::info)).
    fn resumed(&self) -> bool {
        self.info().resumed
    }
    /// A client's handshake completed with a server chain valid until
    /// `not_after` (Unix seconds): resumption state this connection stores
    /// must not be offered past it ([`PeerExpiry`]).
    fn set_peer_not_after(&mut self, not_after: i64) {
        let _ = not_after;
    }
    /// The earliest notAfter of the peer's chain (Unix seconds), which a
    /// client learns at the end of every full handshake. The default parses
    /// [`peer_chain`](Self::peer_chain); a library that holds the chain
    /// parsed answers from it without serializing the certificates again
    /// (BoringSSL re-encodes each one: most of what polytls cost a client
    /// handshake there).
    fn peer_not_after(&self) -> Option<i64> {
        chain_not_after(&self.peer_chain())
    }
    /// Writes early data (0-RTT) on a client before the handshake
    /// completes, as far as the server's ticket allows; 0 when it allows
    /// none. Data the server then rejects must be sent again, in order,
    /// once the handshake completes.
    fn write_early_data(&mut self, data: &[u8]) -> Result<usize> {
        let _ = data;
        Ok(0)
    }
    /// Whether early data (0-RTT) was accepted: on a client, by the server;
    /// on a server, from the client.
    fn early_data_accepted(&self) -> bool {
        false
    }
    /// The backend's own session object, for [`Session::native`](crate::Session::native).
    fn native(&self) -> &dyn Any;
}

impl SessionDriver for Box<dyn SessionDriver> {
    fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        (**self).read_tls(rd)
    }
    fn process_new_packets(&mut self) -> Result<()> {
        (**self).process_new_packets()
    }
    fn process_for_read(&mut self) -> Result<()> {
        (**self).process_for_read()
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
    fn alpn(&self) -> Option<&[u8]> {
        (**self).alpn()
    }
    fn peer_leaf(&self) -> Option<CertificateDer<'static>> {
        (**self).peer_leaf()
    }
    fn peer_chain(&self) -> Cow<'_, [CertificateDer<'static>]> {
        (**self).peer_chain()
    }
    fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<()> {
        (**self).export_keying_material(out, label, context)
    }
    fn take_resumption(&mut self) -> Option<SessionBlob> {
        (**self).take_resumption()
    }
    fn forget_resumption(&mut self) {
        (**self).forget_resumption()
    }
    fn resumed(&self) -> bool {
        (**self).resumed()
    }
    fn set_peer_not_after(&mut self, not_after: i64) {
        (**self).set_peer_not_after(not_after)
    }
    fn peer_not_after(&self) -> Option<i64> {
        (**self).peer_not_after()
    }
    fn write_early_data(&mut self, data: &[u8]) -> Result<usize> {
        (**self).write_early_data(data)
    }
    fn early_data_accepted(&self) -> bool {
        (**self).early_data_accepted()
    }
    fn native(&self) -> &dyn Any {
        (**self).native()
    }
}

/// What a client driver is asked to offer for resumption.
#[derive(Debug)]
pub enum Offer {
    /// Whatever the context's own cache holds for the name (nothing when
    /// resumption is off).
    Cache,
    /// This state, which the context made (checked by the wrapper).
    State(SessionBlob),
    /// Nothing: a full handshake (the state the caller offered is past its
    /// server's notAfter).
    Nothing,
}

/// A backend's client context (≈ a client `SSL_CTX`).
pub trait ClientDriver: Send + Sync + 'static {
    /// The session driver it makes.
    type Session: SessionDriver;
    /// Starts a session to `server_name` (checked: a DNS name or an IP
    /// address) with the ClientHello ready to be written.
    fn connect(&self, server_name: &str, offer: Offer) -> Result<Self::Session>;
    /// Whether this context's resumption state can be serialized
    /// ([`SessionBlob::Der`]).
    fn exports_resumption(&self) -> bool;
}

/// A backend's server context (≈ a server `SSL_CTX`).
pub trait ServerDriver: Send + Sync + 'static {
    /// The session driver it makes.
    type Session: SessionDriver;
    /// Starts a session waiting for a ClientHello.
    fn accept(&self) -> Result<Self::Session>;
}
