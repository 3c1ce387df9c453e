//! Mapping rustls errors onto the polytls taxonomy, by variant (never by
//! message text).

use polytls_api::{Alert, CertificateError as Cert, Error, Incompatibility, MisuseKind};
use rustls::{CertificateError as RCert, PeerIncompatible as PI};

/// The pin check's verdict, carried through rustls inside
/// `CertificateError::Other` and recognised on the way out.
#[derive(Debug)]
pub(crate) struct PinMismatch;

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no certificate of the chain matches the SPKI pins")
    }
}

impl std::error::Error for PinMismatch {}

/// A CRL that covers the chain is not valid yet (its thisUpdate is in the
/// future): webpki accepts it, polytls refuses it on every backend.
#[derive(Debug)]
pub(crate) struct CrlNotYetValid;

impl std::fmt::Display for CrlNotYetValid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CRL that covers the chain is not valid yet")
    }
}

impl std::error::Error for CrlNotYetValid {}

pub(crate) fn map(err: rustls::Error) -> Error {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(c) => Error::InvalidCertificate(map_cert(&c)),
        E::NoCertificatesPresented => Error::ClientCertificateRequired,
        // A CRL that covers the chain but does not verify (bad signature,
        // an issuer not allowed to sign CRLs): the chain cannot be trusted.
        E::InvalidCertRevocationList(ref crl) => {
            let cert = match crl {
                rustls::CertRevocationListError::BadSignature
                | rustls::CertRevocationListError::IssuerInvalidForCrl => Cert::BadSignature,
                _ => Cert::Other,
            };
            Error::InvalidCertificate(cert)
        }
        E::AlertReceived(a) => Error::AlertReceived(Alert(u8::from(a))),
        E::PeerIncompatible(pi) => Error::PeerIncompatible(map_incompatible(&pi)),
        E::NoApplicationProtocol => Error::PeerIncompatible(Incompatibility::NoApplicationProtocol),
        E::HandshakeNotComplete => Error::misuse(
            MisuseKind::HandshakeIncomplete,
            "the handshake has not completed",
        ),
        E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. }
        | E::InvalidMessage(_)
        | E::PeerMisbehaved(_)
        | E::DecryptError
        | E::PeerSentOversizedRecord
        | E::UnsupportedNameType => Error::misbehaved_from(format!("rustls: {err}"), err),
        // rustls' TLS 1.2 server finds no scheme in the client's
        // signature_algorithms for its key, and says so only in words
        // (found by the differential fuzz target; pinned by a unit test).
        E::General(ref m) if m == "incompatible signing key" => {
            Error::PeerIncompatible(Incompatibility::NoSharedSignatureScheme)
        }
        other => Error::other(format!("rustls: {other}"), other),
    }
}

fn map_cert(c: &RCert) -> Cert {
    match c {
        RCert::BadEncoding | RCert::UnhandledCriticalExtension => Cert::BadEncoding,
        RCert::Expired | RCert::ExpiredContext { .. } => Cert::Expired,
        RCert::NotValidYet | RCert::NotValidYetContext { .. } => Cert::NotValidYet,
        RCert::Revoked => Cert::Revoked,
        RCert::UnknownRevocationStatus => Cert::UnknownRevocationStatus,
        RCert::ExpiredRevocationList | RCert::ExpiredRevocationListContext { .. } => {
            Cert::ExpiredRevocationList
        }
        RCert::UnknownIssuer => Cert::UnknownIssuer,
        RCert::BadSignature
        | RCert::UnsupportedSignatureAlgorithmContext { .. }
        | RCert::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => Cert::BadSignature,
        RCert::NotValidForName | RCert::NotValidForNameContext { .. } => Cert::NotValidForName,
        RCert::InvalidPurpose | RCert::InvalidPurposeContext { .. } => Cert::InvalidPurpose,
        RCert::Other(o) if o.0.downcast_ref::<PinMismatch>().is_some() => Cert::PinMismatch,
        RCert::Other(o) if o.0.downcast_ref::<CrlNotYetValid>().is_some() => {
            Cert::RevocationListNotYetValid
        }
        _ => Cert::Other,
    }
}

fn map_incompatible(pi: &PI) -> Incompatibility {
    match pi {
        PI::NoCipherSuitesInCommon => Incompatibility::NoSharedCipherSuite,
        PI::NoKxGroupsInCommon => Incompatibility::NoSharedGroup,
        PI::NoSignatureSchemesInCommon | PI::NoCertificateRequestSignatureSchemesInCommon => {
            Incompatibility::NoSharedSignatureScheme
        }
        PI::ServerDoesNotSupportTls12Or13
        | PI::ServerTlsVersionIsDisabledByOurConfig
        | PI::SupportedVersionsExtensionRequired
        | PI::Tls12NotOffered
        | PI::Tls12NotOfferedOrEnabled => Incompatibility::NoSharedVersion,
        _ => Incompatibility::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert!(matches!(
            map(rustls::Error::InvalidCertificate(RCert::UnknownIssuer)),
            Error::InvalidCertificate(Cert::UnknownIssuer)
        ));
        assert!(matches!(
            map(rustls::Error::AlertReceived(
                rustls::AlertDescription::UnknownCA
            )),
            Error::AlertReceived(Alert::UNKNOWN_CA)
        ));
        assert!(matches!(
            map(rustls::Error::PeerIncompatible(PI::Tls12NotOffered)),
            Error::PeerIncompatible(Incompatibility::NoSharedVersion)
        ));
        let pin = rustls::Error::InvalidCertificate(RCert::Other(rustls::OtherError(
            std::sync::Arc::new(PinMismatch),
        )));
        assert!(matches!(
            map(pin),
            Error::InvalidCertificate(Cert::PinMismatch)
        ));
        assert!(matches!(
            map(rustls::Error::General("x".into())),
            Error::Other { .. }
        ));
        assert!(matches!(
            map(rustls::Error::General("incompatible signing key".into())),
            Error::PeerIncompatible(Incompatibility::NoSharedSignatureScheme)
        ));
    }
}
