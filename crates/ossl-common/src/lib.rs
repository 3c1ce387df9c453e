//! # polytls-ossl-common — shared by the OpenSSL and BoringSSL backends
//!
//! The two libraries differ in their Rust bindings and reason codes but not
//! in what those mean; this crate holds the meaning once. It links neither
//! library, so both backends can use it.

#![forbid(unsafe_code)]

use polytls_api::{
    check_pins, Alert, CertificateDer, CertificateError as Cert, Error, Incompatibility, SpkiPin,
};

/// TLS 1.2 suites offered when none are configured: ECDHE with AEADs only,
/// the same set as the rustls backend.
pub const DEFAULT_TLS12_SUITES: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// The session id context; servers need one to resume sessions with client
/// authentication.
pub const SESSION_ID_CONTEXT: &[u8] = b"polytls";

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
}

impl Reasons {
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
        } else {
            None
        }
    }
}

/// X.509 verify results (`X509_V_ERR_*`, the same in both libraries).
pub fn map_verify(result: i32) -> Cert {
    match result {
        2 | 18 | 19 | 20 | 21 | 27 | 79 => Cert::UnknownIssuer,
        4 | 6 | 7 => Cert::BadSignature,
        9 => Cert::NotValidYet,
        10 => Cert::Expired,
        13 | 14 | 41 => Cert::BadEncoding,
        23 => Cert::Revoked,
        26 | 28 => Cert::InvalidPurpose,
        APPLICATION_VERIFICATION => Cert::PinMismatch,
        62 | 64 => Cert::NotValidForName,
        _ => Cert::Other,
    }
}

/// `X509_V_ERR_APPLICATION_VERIFICATION`: what the verify callback reports
/// when no certificate matches the SPKI pins.
pub const APPLICATION_VERIFICATION: i32 = 50;

/// The pin check of the verify callback, at depth 0. `chain` is the chain
/// the library built (leaf first); when it `verified` the chain, its last
/// certificate is our trust anchor, not something the server presented, and
/// pins do not apply to it.
pub fn pins_match(
    pins: &[SpkiPin],
    mut chain: Vec<CertificateDer<'static>>,
    verified: bool,
) -> bool {
    if verified && chain.len() > 1 {
        chain.pop();
    }
    check_pins(pins, &chain).is_ok()
}

/// The ALPN wire format of a protocol list.
pub fn alpn_wire(alpn: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for p in alpn {
        wire.push(p.len() as u8);
        wire.extend_from_slice(p);
    }
    wire
}

/// The first of the server's `prefs` that the client offered (server
/// preference), as a slice of the client's wire-format list. A malformed
/// list selects nothing.
pub fn select_alpn<'a>(prefs: &[Vec<u8>], client: &'a [u8]) -> Option<&'a [u8]> {
    let mut offered = Vec::new();
    let mut rest = client;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        if len == 0 || tail.len() < len {
            return None;
        }
        offered.push(&tail[..len]);
        rest = &tail[len..];
    }
    prefs
        .iter()
        .find_map(|p| offered.iter().copied().find(|o| *o == p.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_selection_prefers_server_order() {
        let client = alpn_wire(&[b"http/1.1".to_vec(), b"h2".to_vec()]);
        let prefs = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        assert_eq!(select_alpn(&prefs, &client), Some(&b"h2"[..]));
        assert_eq!(select_alpn(&[b"imap".to_vec()], &client), None);
        assert_eq!(select_alpn(&prefs, &[5, b'h']), None, "truncated list");
    }

    #[test]
    fn verify_results() {
        assert_eq!(map_verify(10), Cert::Expired);
        assert_eq!(map_verify(62), Cert::NotValidForName);
        assert_eq!(map_verify(20), Cert::UnknownIssuer);
        assert_eq!(map_verify(APPLICATION_VERIFICATION), Cert::PinMismatch);
    }

    #[test]
    fn reasons_map_by_code() {
        let r = Reasons {
            lib_ssl: 20,
            certificate_verify_failed: 134,
            no_client_certificate: 199,
            no_shared_cipher: &[193],
            no_shared_group: &[410],
            no_shared_sigalg: &[376],
            no_shared_version: &[258],
            no_application_protocol: &[235],
        };
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
        assert!(r.map(1, || 0).is_none());
    }
}
