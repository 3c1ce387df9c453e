//! Mapping OpenSSL-family errors onto the polytls taxonomy, once: by error
//! code, reason code, alert and X.509 verify result, never by message text.
//! Each library supplies only its [`Reasons`] table.

use polytls_api::{Alert, Error, Incompatibility};

use crate::map_verify;

/// Reason codes at or above this are alerts received from the peer (both
/// libraries).
const ALERT_OFFSET: i32 = 1000;

/// A library's reason codes for the failures polytls categorises.
#[derive(Debug)]
pub struct Reasons {
    /// `ERR_LIB_SSL`.
    pub lib_ssl: i32,
    /// `SSL_R_CERTIFICATE_VERIFY_FAILED`.
    pub certificate_verify_failed: i32,
    /// `SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE`.
    pub no_client_certificate: i32,
    /// Codes meaning "no shared cipher suite".
    pub no_shared_cipher: &'static [i32],
    /// Codes meaning "no shared group".
    pub no_shared_group: &'static [i32],
    /// Codes meaning "no shared signature algorithm".
    pub no_shared_sigalg: &'static [i32],
    /// Codes meaning "no shared version".
    pub no_shared_version: &'static [i32],
    /// Codes meaning "no shared ALPN protocol".
    pub no_application_protocol: &'static [i32],
    /// Codes meaning "the peer's certificate may not be used this way"
    /// (BoringSSL's `KEY_USAGE_BIT_INCORRECT`): an invalid certificate,
    /// `InvalidPurpose`, as a full chain verification would say.
    pub wrong_key_usage: &'static [i32],
    /// The code meaning "the transport ended without close_notify", where
    /// the library has one (OpenSSL 3's `SSL_R_UNEXPECTED_EOF_WHILE_READING`).
    pub unexpected_eof: Option<i32>,
}

impl Reasons {
    /// BoringSSL's reason codes (`ssl.h`, `err.h`; they differ from
    /// OpenSSL's), which AWS-LC, forked from it, keeps.
    pub const BORINGSSL: Reasons = Reasons {
        lib_ssl: 16,
        certificate_verify_failed: 125,
        no_client_certificate: 192,
        no_shared_cipher: &[184],
        no_shared_group: &[266],
        no_shared_sigalg: &[253],
        // UNSUPPORTED_PROTOCOL, NO_SUPPORTED_VERSIONS_ENABLED
        no_shared_version: &[240, 280],
        no_application_protocol: &[307],
        // KEY_USAGE_BIT_INCORRECT
        wrong_key_usage: &[302],
        // A transport EOF is a reasonless SSL_ERROR_SYSCALL.
        unexpected_eof: None,
    };

    /// The category of an SSL-library reason code, if it has one;
    /// `verify_result` is the X.509 verify result of the session.
    pub fn map(&self, reason: i32, verify_result: impl FnOnce() -> i32) -> Option<Error> {
        if reason >= ALERT_OFFSET {
            return u8::try_from(reason - ALERT_OFFSET)
                .ok()
                .map(|a| Error::AlertReceived(Alert(a)));
        }
        let incompatible = |i| Some(Error::PeerIncompatible(i));
        if reason == self.certificate_verify_failed {
            Some(Error::InvalidCertificate(map_verify(verify_result())))
        } else if reason == self.no_client_certificate {
            Some(Error::ClientCertificateRequired)
        } else if self.no_shared_cipher.contains(&reason) {
            incompatible(Incompatibility::NoSharedCipherSuite)
        } else if self.no_shared_group.contains(&reason) {
            incompatible(Incompatibility::NoSharedGroup)
        } else if self.no_shared_sigalg.contains(&reason) {
            incompatible(Incompatibility::NoSharedSignatureScheme)
        } else if self.no_shared_version.contains(&reason) {
            incompatible(Incompatibility::NoSharedVersion)
        } else if self.no_application_protocol.contains(&reason) {
            incompatible(Incompatibility::NoApplicationProtocol)
        } else if self.wrong_key_usage.contains(&reason) {
            Some(Error::InvalidCertificate(
                polytls_api::CertificateError::InvalidPurpose,
            ))
        } else {
            None
        }
    }
}

/// `SSL_get_error`'s answer, as far as the mapping cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `SSL_ERROR_WANT_READ` / `WANT_WRITE`: more input (or room) needed.
    WouldBlock,
    /// `SSL_ERROR_ZERO_RETURN`: the peer's close_notify.
    ZeroReturn,
    /// `SSL_ERROR_SYSCALL`.
    Syscall,
    /// `SSL_ERROR_SSL`.
    Ssl,
    /// Anything else.
    Other,
}

/// A failed library call as the shared mapping sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What `SSL_get_error` said.
    pub code: Code,
    /// Whether the transport reported an IO error (never for memory IO).
    pub io_error: bool,
    /// `(library, reason)` of every entry on the error queue.
    pub reasons: Vec<(i32, i32)>,
}

/// One OpenSSL-API library: its name (for messages) and reason table.
#[derive(Debug)]
pub struct Library {
    /// The backend's name.
    pub name: &'static str,
    /// Its reason codes.
    pub reasons: Reasons,
}

impl Library {
    /// A library of BoringSSL's lineage (BoringSSL, AWS-LC), named `name`:
    /// BoringSSL's reason codes.
    pub const fn boringssl(name: &'static str) -> Self {
        Self {
            name,
            reasons: Reasons::BORINGSSL,
        }
    }

    fn ssl_reasons<'a>(&self, f: &'a Failure) -> impl Iterator<Item = i32> + 'a {
        let lib = self.reasons.lib_ssl;
        f.reasons
            .iter()
            .filter(move |(l, _)| *l == lib)
            .map(|(_, r)| *r)
    }

    /// `SSL_ERROR_SYSCALL` with no IO error and nothing on the error queue.
    fn syscall_without_reason(f: &Failure) -> bool {
        f.code == Code::Syscall && !f.io_error && f.reasons.is_empty()
    }

    /// Whether the failure is the transport ending without close_notify:
    /// the library's "unexpected EOF" reason, or a reasonless
    /// `SSL_ERROR_SYSCALL` once the memory transport is at its end (both
    /// libraries report some handshake failures as a reasonless
    /// `SSL_ERROR_SYSCALL` too — found by the differential fuzzer — so the
    /// end of input is what tells them apart).
    pub fn is_unexpected_eof(&self, f: &Failure, at_eof: bool) -> bool {
        (at_eof && Self::syscall_without_reason(f))
            || self
                .reasons
                .unexpected_eof
                .is_some_and(|eof| self.ssl_reasons(f).any(|r| r == eof))
    }

    /// The polytls category of a failed handshake or record operation;
    /// `native` is kept as the error's source.
    pub fn map<E>(
        &self,
        f: &Failure,
        native: E,
        at_eof: bool,
        verify_result: impl FnOnce() -> i32,
    ) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let name = self.name;
        if self.is_unexpected_eof(f, at_eof) {
            return Error::UnexpectedEof;
        }
        if f.code == Code::ZeroReturn {
            // Reads turn a close_notify into `Closed` before mapping, so this
            // is a close_notify that came before the handshake completed: the
            // peer ended the connection early, as the other backends report.
            return Error::UnexpectedEof;
        }
        let mut verify_result = Some(verify_result);
        for reason in self.ssl_reasons(f) {
            let verify = || verify_result.take().map_or(0, |v| v());
            if let Some(mapped) = self.reasons.map(reason, verify) {
                return mapped;
            }
        }
        if f.code == Code::Ssl {
            // A TLS-layer failure while processing the peer's bytes with no
            // finer category: the peer broke the protocol.
            return Error::misbehaved_from(format!("{name}: {native}"), native);
        }
        if Self::syscall_without_reason(f) {
            // Not at the end of input, and the memory transport cannot fail:
            // the library refused the peer's bytes without recording why
            // (it has queued its alert).
            return Error::misbehaved_from(
                format!("{name}: the handshake failed without a recorded reason"),
                native,
            );
        }
        Error::other(format!("{name}: {native}"), native)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polytls_api::CertificateError as Cert;

    const LIB: Library = Library {
        name: "test",
        reasons: Reasons {
            lib_ssl: 20,
            certificate_verify_failed: 134,
            no_client_certificate: 199,
            no_shared_cipher: &[193],
            no_shared_group: &[410],
            no_shared_sigalg: &[376],
            no_shared_version: &[258],
            no_application_protocol: &[235],
            wrong_key_usage: &[302],
            unexpected_eof: Some(294),
        },
    };

    fn failure(code: Code, reasons: &[i32]) -> Failure {
        Failure {
            code,
            io_error: false,
            reasons: reasons.iter().map(|r| (20, *r)).collect(),
        }
    }

    fn map(f: &Failure, at_eof: bool) -> Error {
        LIB.map(f, std::io::Error::other("native"), at_eof, || 10)
    }

    #[test]
    fn reasons_map_by_code() {
        let r = &LIB.reasons;
        assert!(matches!(
            r.map(1048, || 0),
            Some(Error::AlertReceived(Alert::UNKNOWN_CA))
        ));
        assert!(matches!(
            r.map(134, || 10),
            Some(Error::InvalidCertificate(Cert::Expired))
        ));
        assert!(matches!(
            r.map(199, || 0),
            Some(Error::ClientCertificateRequired)
        ));
        assert!(matches!(
            r.map(258, || 0),
            Some(Error::PeerIncompatible(Incompatibility::NoSharedVersion))
        ));
        assert!(matches!(
            r.map(302, || 0),
            Some(Error::InvalidCertificate(Cert::InvalidPurpose))
        ));
        assert!(r.map(1, || 0).is_none());
    }

    #[test]
    fn eof_and_fallbacks() {
        let reasonless = failure(Code::Syscall, &[]);
        assert!(matches!(map(&reasonless, true), Error::UnexpectedEof));
        assert!(matches!(map(&reasonless, false), Error::PeerMisbehaved(_)));
        assert!(matches!(
            map(&failure(Code::Ssl, &[294]), false),
            Error::UnexpectedEof
        ));
        assert!(matches!(
            map(&failure(Code::ZeroReturn, &[]), false),
            Error::UnexpectedEof
        ));
        assert!(matches!(
            map(&failure(Code::Ssl, &[134]), false),
            Error::InvalidCertificate(Cert::Expired)
        ));
        let e = map(&failure(Code::Ssl, &[7]), false);
        assert!(
            matches!(&e, Error::PeerMisbehaved(m) if m.native().is_some()),
            "native error kept: {e:?}"
        );
        let other = map(&failure(Code::Other, &[7]), false);
        assert!(std::error::Error::source(&other).is_some(), "{other:?}");
    }
}
