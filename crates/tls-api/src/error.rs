//! One error taxonomy for every backend.
//!
//! Errors are grouped by *category*: the conformance suite asserts that the same
//! failure lands in the same category on rustls, OpenSSL and BoringSSL. The
//! backend's native error, where there is one, is kept as [`std::error::Error::source`].

use std::fmt;
use std::sync::Arc;

use crate::Capability;

/// A `Result` whose error is a polytls [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in polytls, by category.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer's certificate was rejected; the reason says why.
    #[error("invalid peer certificate: {0}")]
    InvalidCertificate(CertificateError),
    /// The peers share no common ground (version, cipher suite, group, ALPN).
    #[error("peer incompatible: {0}")]
    PeerIncompatible(Incompatibility),
    /// The server requires a client certificate and the client sent none.
    #[error("the server requires a client certificate and none was presented")]
    ClientCertificateRequired,
    /// The peer sent a fatal alert.
    #[error("received fatal alert: {0}")]
    AlertReceived(Alert),
    /// The peer broke the protocol: malformed records or messages, bad MACs,
    /// unexpected messages, renegotiation attempts.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(#[source] Misbehaviour),
    /// The transport ended without a `close_notify` alert: the stream may have
    /// been truncated by an attacker, so this is never a clean end. Also the
    /// answer when the peer ends the connection before the handshake
    /// completes, with or without a `close_notify` (some backends report a
    /// plaintext `close_notify` at once, rustls at the transport EOF after it).
    #[error("peer closed the connection without sending close_notify")]
    UnexpectedEof,
    /// The backend lacks something the configuration or the call asks for;
    /// [`Unsupported::capability`] names it where it is a
    /// [`Capability`] (ask [`Backend::supports`](crate::Backend::supports)
    /// first).
    #[error("{0}")]
    Unsupported(Unsupported),
    /// The configuration is invalid (bad PEM, unknown cipher name, key not
    /// matching the certificate, contradictory settings, ...).
    #[error("invalid configuration: {0}")]
    InvalidConfig(ConfigError),
    /// The API was used out of order (write after close, export before the
    /// handshake completed, a resumption value from another context, ...).
    #[error("API misuse: {0}")]
    Misuse(MisuseError),
    /// Anything not categorised above; the backend's own error is the source.
    #[error("{message}")]
    Other {
        /// A description of what failed.
        message: String,
        /// The backend's native error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

/// A native error kept as the `source()` of a polytls error.
pub type NativeError = Arc<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// An [`Error::Other`] keeping `source` as the native error.
    pub fn other<E>(message: impl Into<String>, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error::Other {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// An [`Error::Unsupported`]: `backend` lacks `capability`, because
    /// `reason`.
    pub fn unsupported(
        backend: &'static str,
        capability: impl Into<Option<Capability>>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Unsupported(Unsupported {
            backend,
            capability: capability.into(),
            reason: reason.into(),
        })
    }

    /// An [`Error::InvalidConfig`] of `kind`.
    pub fn config(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Error::InvalidConfig(ConfigError {
            kind,
            message: message.into(),
        })
    }

    /// An [`Error::Misuse`] of `kind`.
    pub fn misuse(kind: MisuseKind, message: impl Into<String>) -> Self {
        Error::Misuse(MisuseError {
            kind,
            message: message.into(),
        })
    }

    /// An [`Error::PeerMisbehaved`] described by `message`.
    pub fn misbehaved(message: impl Into<String>) -> Self {
        Error::PeerMisbehaved(Misbehaviour {
            message: message.into(),
            source: None,
        })
    }

    /// An [`Error::PeerMisbehaved`] keeping the backend's native error.
    pub fn misbehaved_from<E>(message: impl Into<String>, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error::PeerMisbehaved(Misbehaviour {
            message: message.into(),
            source: Some(Arc::new(source)),
        })
    }

    /// Turns the error into an [`std::io::Error`] for the IO adapters, keeping
    /// it reachable with `get_ref().downcast_ref::<Error>()`.
    /// [`Error::UnexpectedEof`] becomes [`std::io::ErrorKind::UnexpectedEof`].
    pub fn into_io(self) -> std::io::Error {
        let kind = match self {
            Error::UnexpectedEof => std::io::ErrorKind::UnexpectedEof,
            Error::Misuse(_) | Error::InvalidConfig(_) | Error::Unsupported(_) => {
                std::io::ErrorKind::InvalidInput
            }
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, self)
    }

    /// Finds the polytls [`Error`] inside an [`std::io::Error`] produced by an
    /// adapter (`None` for plain transport errors).
    pub fn from_io(err: &std::io::Error) -> Option<&Error> {
        err.get_ref().and_then(|e| e.downcast_ref::<Error>())
    }

    /// Finds the polytls [`Error`] anywhere in `err`'s chain of
    /// [`source`](std::error::Error::source)s — through the wrappers of
    /// hyper (`client error (Connect)`), tokio-postgres (`error performing
    /// TLS handshake`), `std::io::Error` and the like — so the reason
    /// ("invalid peer certificate: unknown issuer") and its category can be
    /// read without knowing how deep it sits.
    ///
    /// ```
    /// use polytls_api::{CertificateError, Error};
    ///
    /// let io = Error::InvalidCertificate(CertificateError::UnknownIssuer).into_io();
    /// let wrapped: Box<dyn std::error::Error> = Box::new(Wrapper(io));
    /// let found = Error::find_in(&*wrapped).expect("a polytls error inside");
    /// assert_eq!(found.category(), "invalid_certificate");
    ///
    /// #[derive(Debug)]
    /// struct Wrapper(std::io::Error);
    /// impl std::fmt::Display for Wrapper {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("client error (Connect)")
    ///     }
    /// }
    /// impl std::error::Error for Wrapper {
    ///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    ///         Some(&self.0)
    ///     }
    /// }
    /// ```
    pub fn find_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Error> {
        let mut next = Some(err);
        while let Some(e) = next {
            if let Some(found) = e.downcast_ref::<Error>() {
                return Some(found);
            }
            if let Some(found) = e.downcast_ref::<std::io::Error>().and_then(Error::from_io) {
                return Some(found);
            }
            next = e.source();
        }
        None
    }

    /// The category as a stable `snake_case` name, for logs and metrics.
    pub fn category(&self) -> &'static str {
        match self {
            Error::InvalidCertificate(_) => "invalid_certificate",
            Error::PeerIncompatible(_) => "peer_incompatible",
            Error::ClientCertificateRequired => "client_certificate_required",
            Error::AlertReceived(_) => "alert_received",
            Error::PeerMisbehaved(_) => "peer_misbehaved",
            Error::UnexpectedEof => "unexpected_eof",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidConfig(_) => "invalid_config",
            Error::Misuse(_) => "misuse",
            Error::Other { .. } => "other",
        }
    }
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// PEM, DER or PKCS#12 input that cannot be parsed.
    Malformed,
    /// A file that cannot be read.
    Io,
    /// A name polytls does not know (cipher suite, group, version, backend).
    UnknownName,
    /// A protocol version polytls refuses (SSLv3, TLS 1.0, TLS 1.1).
    Obsolete,
    /// Settings that contradict each other or allow no handshake.
    Contradiction,
    /// A number outside its allowed range.
    OutOfRange,
    /// A private key that does not belong to its certificate.
    KeyMismatch,
    /// Not a DNS name or IP address polytls can use.
    ServerName,
    /// A certificate, key or list the TLS library refused to load.
    Rejected,
}

/// An invalid configuration: what kind of problem, and a message naming the
/// item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
}

impl ConfigError {
    /// What kind of problem it is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The message, naming the item at fault.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Which rule of the API was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MisuseKind {
    /// Plaintext written after `send_close_notify`.
    WriteAfterClose,
    /// Something that needs a completed handshake (keying material,
    /// resumption state) asked for before it completed.
    HandshakeIncomplete,
    /// A resumption value offered to a context that did not make it, or for
    /// another server name.
    ForeignResumption,
    /// A client-only call on a server session, or the reverse.
    WrongRole,
}

/// API misuse: which rule, and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisuseError {
    kind: MisuseKind,
    message: String,
}

impl MisuseError {
    /// Which rule was broken.
    pub fn kind(&self) -> MisuseKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for MisuseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// How the peer broke the protocol, with the backend's native error where
/// there is one.
#[derive(Debug, Clone)]
pub struct Misbehaviour {
    message: String,
    source: Option<NativeError>,
}

impl Misbehaviour {
    /// The description.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The backend's native error, if it reported one.
    pub fn native(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Misbehaviour {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A backend lacking something: which backend, which capability, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Which backend answered (`"polytls"` for the facade itself).
    pub backend: &'static str,
    /// The capability it lacks, where the request maps to one.
    pub capability: Option<Capability>,
    /// Why, in words.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported by the {} backend: {}",
            self.backend, self.reason
        )
    }
}

/// Why a certificate was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateError {
    /// The chain does not lead to a trusted root (including a missing
    /// intermediate or a self-signed certificate not in the roots).
    UnknownIssuer,
    /// A certificate in the chain has expired.
    Expired,
    /// A certificate in the chain is not valid yet.
    NotValidYet,
    /// The certificate does not cover the name the client asked for.
    NotValidForName,
    /// A signature in the chain does not verify.
    BadSignature,
    /// The certificate has been revoked (by a configured CRL).
    Revoked,
    /// Revocation checking is on and no CRL from the certificate's issuer
    /// is configured (see [`Revocation`](crate::Revocation): fail closed).
    UnknownRevocationStatus,
    /// The CRL that covers the certificate is past its `nextUpdate`.
    ExpiredRevocationList,
    /// The CRL that covers the certificate is not valid yet (its
    /// `thisUpdate` is in the future): it cannot vouch for anything now, so
    /// the certificate is refused (fail closed).
    RevocationListNotYetValid,
    /// The certificate may not be used for this purpose (wrong EKU, a CA
    /// certificate used as a leaf, ...).
    InvalidPurpose,
    /// No certificate in the chain matches a configured SPKI pin.
    PinMismatch,
    /// The certificate could not be parsed.
    BadEncoding,
    /// The peer sent no certificate where one was needed.
    NoCertificate,
    /// Any other reason.
    Other,
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            CertificateError::UnknownIssuer => "unknown issuer",
            CertificateError::Expired => "expired",
            CertificateError::NotValidYet => "not valid yet",
            CertificateError::NotValidForName => "not valid for the requested name",
            CertificateError::BadSignature => "bad signature",
            CertificateError::Revoked => "revoked",
            CertificateError::UnknownRevocationStatus => {
                "revocation status unknown (no CRL from its issuer)"
            }
            CertificateError::ExpiredRevocationList => "the CRL that covers it has expired",
            CertificateError::RevocationListNotYetValid => {
                "the CRL that covers it is not valid yet"
            }
            CertificateError::InvalidPurpose => "not valid for this purpose",
            CertificateError::PinMismatch => "no certificate matches the SPKI pins",
            CertificateError::BadEncoding => "malformed certificate",
            CertificateError::NoCertificate => "no certificate presented",
            CertificateError::Other => "rejected",
        };
        f.write_str(s)
    }
}

/// What the peers failed to agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Incompatibility {
    /// No protocol version in common.
    NoSharedVersion,
    /// No cipher suite in common.
    NoSharedCipherSuite,
    /// No key-exchange group in common.
    NoSharedGroup,
    /// No signature scheme in common.
    NoSharedSignatureScheme,
    /// Both sides use ALPN but share no protocol.
    NoApplicationProtocol,
    /// Something else the peers could not agree on.
    Other,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Incompatibility::NoSharedVersion => "no protocol version in common",
            Incompatibility::NoSharedCipherSuite => "no cipher suite in common",
            Incompatibility::NoSharedGroup => "no key-exchange group in common",
            Incompatibility::NoSharedSignatureScheme => "no signature scheme in common",
            Incompatibility::NoApplicationProtocol => "no application protocol (ALPN) in common",
            Incompatibility::Other => "incompatible parameters",
        };
        f.write_str(s)
    }
}

/// A TLS alert description (RFC 8446 §6), as received from the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert(pub u8);

impl Alert {
    /// `close_notify` (0).
    pub const CLOSE_NOTIFY: Alert = Alert(0);
    /// `unexpected_message` (10).
    pub const UNEXPECTED_MESSAGE: Alert = Alert(10);
    /// `bad_record_mac` (20).
    pub const BAD_RECORD_MAC: Alert = Alert(20);
    /// `handshake_failure` (40).
    pub const HANDSHAKE_FAILURE: Alert = Alert(40);
    /// `bad_certificate` (42).
    pub const BAD_CERTIFICATE: Alert = Alert(42);
    /// `unsupported_certificate` (43).
    pub const UNSUPPORTED_CERTIFICATE: Alert = Alert(43);
    /// `certificate_revoked` (44).
    pub const CERTIFICATE_REVOKED: Alert = Alert(44);
    /// `certificate_expired` (45).
    pub const CERTIFICATE_EXPIRED: Alert = Alert(45);
    /// `certificate_unknown` (46).
    pub const CERTIFICATE_UNKNOWN: Alert = Alert(46);
    /// `illegal_parameter` (47).
    pub const ILLEGAL_PARAMETER: Alert = Alert(47);
    /// `unknown_ca` (48).
    pub const UNKNOWN_CA: Alert = Alert(48);
    /// `decode_error` (50).
    pub const DECODE_ERROR: Alert = Alert(50);
    /// `decrypt_error` (51).
    pub const DECRYPT_ERROR: Alert = Alert(51);
    /// `protocol_version` (70).
    pub const PROTOCOL_VERSION: Alert = Alert(70);
    /// `insufficient_security` (71).
    pub const INSUFFICIENT_SECURITY: Alert = Alert(71);
    /// `internal_error` (80).
    pub const INTERNAL_ERROR: Alert = Alert(80);
    /// `missing_extension` (109).
    pub const MISSING_EXTENSION: Alert = Alert(109);
    /// `unrecognized_name` (112).
    pub const UNRECOGNIZED_NAME: Alert = Alert(112);
    /// `certificate_required` (116).
    pub const CERTIFICATE_REQUIRED: Alert = Alert(116);
    /// `no_application_protocol` (120).
    pub const NO_APPLICATION_PROTOCOL: Alert = Alert(120);

    /// The RFC name of the alert, if it is a known one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            100 => "no_renegotiation",
            109 => "missing_extension",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            113 => "bad_certificate_status_response",
            115 => "unknown_psk_identity",
            116 => "certificate_required",
            120 => "no_application_protocol",
            _ => return None,
        })
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "alert {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_round_trip_keeps_category() {
        let io = Error::InvalidCertificate(CertificateError::Expired).into_io();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
        assert!(matches!(
            Error::from_io(&io),
            Some(Error::InvalidCertificate(CertificateError::Expired))
        ));
        let eof = Error::UnexpectedEof.into_io();
        assert_eq!(eof.kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(
            Error::from_io(&eof).map(Error::category),
            Some("unexpected_eof")
        );
        assert_eq!(
            Error::ClientCertificateRequired.category(),
            "client_certificate_required"
        );
    }

    #[test]
    fn alert_names() {
        assert_eq!(Alert::UNKNOWN_CA.to_string(), "unknown_ca (48)");
        assert_eq!(Alert(200).to_string(), "alert 200");
    }
}
