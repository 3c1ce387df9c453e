//! BoringSSL's `SSL` over memory, as the shared session drives it.

use boring::ssl::{
    ErrorCode, HandshakeError, MidHandshakeSslStream, SslRef, SslSignatureAlgorithm, SslStream,
    SslStreamBuilder,
};
use polytls_api::memio::MemIo;
use polytls_api::{CipherSuite, NamedGroup, SignatureScheme};
use polytls_ossl_common::SslDriver;

/// One BoringSSL connection: an `SSL` over [`MemIo`]. Reach it through
/// `Session::native::<BoringDriver>()` for what polytls does not model.
#[derive(Debug)]
pub struct BoringDriver {
    conn: Conn,
}

/// The boring crate runs the handshake on a type of its own, so the
/// connection moves from one to the other.
#[derive(Debug)]
enum Conn {
    Handshaking(MidHandshakeSslStream<MemIo>),
    Ready(SslStream<MemIo>),
    /// The library gave the connection back without its `SSL` (a setup
    /// failure): every call fails, none panics.
    Lost(MemIo),
}

/// A failed BoringSSL call, owned (the boring crate's error stays with the
/// stream during the handshake), read the way `boring::ssl::Error` is.
#[derive(Debug, Clone)]
pub struct BoringError {
    code: ErrorCode,
    io_error: Option<std::io::ErrorKind>,
    stack: Option<boring::error::ErrorStack>,
    text: String,
}

/// Whether `SSL_get_error`'s `code` only asks for more input or output.
fn wants_io(code: ErrorCode) -> bool {
    code == ErrorCode::WANT_READ || code == ErrorCode::WANT_WRITE
}

impl BoringError {
    fn from_ssl(e: &boring::ssl::Error) -> Self {
        let code = e.code();
        // Nothing is allocated or formatted on the `WouldBlock` path, which
        // every handshake step that waits for the peer takes (a read that
        // drains the input answers `Ok(None)` without an error).
        let retry = wants_io(code);
        Self {
            code,
            io_error: e.io_error().map(std::io::Error::kind),
            stack: e.ssl_error().cloned(),
            text: if retry { String::new() } else { e.to_string() },
        }
    }

    /// What `SSL_get_error` said.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The kind of the transport's error, if that was the cause.
    pub fn io_error(&self) -> Option<std::io::ErrorKind> {
        self.io_error
    }

    /// The library's error queue, if it had one.
    pub fn ssl_error(&self) -> Option<&boring::error::ErrorStack> {
        self.stack.as_ref()
    }
}

impl std::fmt::Display for BoringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.text.is_empty() {
            return write!(f, "the operation should be retried ({:?})", self.code);
        }
        f.write_str(&self.text)
    }
}

impl std::error::Error for BoringError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.stack
            .as_ref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl BoringDriver {
    pub(crate) fn new(ssl: boring::ssl::Ssl, server: bool) -> Self {
        let builder = SslStreamBuilder::new(ssl, MemIo::new());
        let mid = if server {
            builder.setup_accept()
        } else {
            builder.setup_connect()
        };
        Self {
            conn: Conn::Handshaking(mid),
        }
    }

    /// The BoringSSL `SSL` underneath (outside the portable guarantee);
    /// `None` only after a setup failure.
    pub fn ssl(&self) -> Option<&SslRef> {
        match &self.conn {
            Conn::Handshaking(m) => Some(m.ssl()),
            Conn::Ready(s) => Some(s.ssl()),
            Conn::Lost(_) => None,
        }
    }

    fn ssl_ref(&self) -> Option<&SslRef> {
        self.ssl()
    }

    fn stream(&mut self) -> std::result::Result<&mut SslStream<MemIo>, BoringError> {
        match &mut self.conn {
            Conn::Ready(s) => Ok(s),
            _ => Err(lost()),
        }
    }
}

/// What a call on a connection without a ready `SSL` reports.
fn lost() -> BoringError {
    BoringError {
        code: ErrorCode::SSL,
        io_error: None,
        stack: None,
        text: "boring: the connection is not ready".into(),
    }
}

impl SslDriver for BoringDriver {
    type Error = BoringError;

    polytls_ossl_common::rust_openssl_accessors!(boring, crate::error::LIBRARY);

    fn io(&self) -> &MemIo {
        match &self.conn {
            Conn::Handshaking(m) => m.get_ref(),
            Conn::Ready(s) => s.get_ref(),
            Conn::Lost(io) => io,
        }
    }

    fn io_mut(&mut self) -> &mut MemIo {
        match &mut self.conn {
            Conn::Handshaking(m) => m.get_mut(),
            Conn::Ready(s) => s.get_mut(),
            Conn::Lost(io) => io,
        }
    }

    fn handshake(&mut self) -> std::result::Result<(), Self::Error> {
        let conn = std::mem::replace(&mut self.conn, Conn::Lost(MemIo::new()));
        let mid = match conn {
            Conn::Handshaking(mid) => mid,
            other => {
                self.conn = other;
                return Ok(());
            }
        };
        match mid.handshake() {
            Ok(stream) => {
                self.conn = Conn::Ready(stream);
                Ok(())
            }
            Err(HandshakeError::WouldBlock(mid) | HandshakeError::Failure(mid)) => {
                let e = BoringError::from_ssl(mid.error());
                self.conn = Conn::Handshaking(mid);
                Err(e)
            }
            Err(HandshakeError::SetupFailure(stack)) => Err(BoringError {
                code: ErrorCode::SSL,
                io_error: None,
                text: format!("boring: handshake setup failed: {stack}"),
                stack: Some(stack),
            }),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<Option<usize>, Self::Error> {
        match self.stream()?.ssl_read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if wants_io(e.code()) => Ok(None),
            Err(e) => Err(BoringError::from_ssl(&e)),
        }
    }

    /// The boring crate has no `SSL_peek`: the session reads ahead one
    /// byte instead.
    fn peek(&mut self, _buf: &mut [u8]) -> Option<std::result::Result<usize, Self::Error>> {
        None
    }

    fn write(&mut self, data: &[u8]) -> std::result::Result<usize, Self::Error> {
        self.stream()?
            .ssl_write(data)
            .map_err(|e| BoringError::from_ssl(&e))
    }

    fn shutdown(&mut self) {
        if let Ok(s) = self.stream() {
            // Queues close_notify in memory; the result only says whether
            // the peer's close_notify has arrived too.
            let _ = s.shutdown();
        }
    }

    fn verify_result(&self) -> i32 {
        self.ssl()
            .and_then(|s| s.verify_result().err())
            .map_or(0, |e| e.as_raw())
    }

    fn cipher_suite(&self) -> Option<CipherSuite> {
        let c = self.ssl()?.current_cipher()?;
        CipherSuite::from_code(c.protocol_id())
    }

    /// BoringSSL's `SSL_get_peer_signature_algorithm`, as an IANA code.
    fn peer_signature_scheme(&self) -> Option<SignatureScheme> {
        let used = self.ssl()?.peer_signature_algorithm()?;
        SignatureScheme::ALL
            .iter()
            .copied()
            .find(|s| SslSignatureAlgorithm::from(s.code()) == used)
    }

    /// The negotiated group, by BoringSSL's name for it.
    fn group(&self) -> Option<NamedGroup> {
        let name = self.ssl()?.curve_name()?;
        NamedGroup::ALL
            .iter()
            .copied()
            .find(|g| g.openssl_name().eq_ignore_ascii_case(name))
    }
}
