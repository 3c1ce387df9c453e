//! SPKI pins: SHA-256 of a certificate's `SubjectPublicKeyInfo`.

use sha2::{Digest, Sha256};

use crate::config::SpkiPin;
use crate::error::CertificateError;
use crate::identity::CertificateDer;
use crate::{ConfigErrorKind, Error, Result};

impl SpkiPin {
    /// The pin of a DER certificate.
    pub fn of_certificate(cert: &CertificateDer<'_>) -> Result<Self> {
        use x509_parser::nom::Parser as _;
        // Only the key is read: the extensions stay unparsed (this runs on
        // every handshake that checks pins).
        let (_, parsed) = x509_parser::certificate::X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(cert.as_ref())
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let spki = parsed.tbs_certificate.subject_pki.raw;
        Ok(SpkiPin(Sha256::digest(spki).into()))
    }

    /// Parses `sha256//<base64>` (the curl form) or 64 hex digits.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            Error::config(
                ConfigErrorKind::Malformed,
                format!("invalid SPKI pin {s:?}: want sha256//<base64> or 64 hex digits"),
            )
        };
        let bytes = if let Some(b64) = s.strip_prefix("sha256//") {
            unbase64(b64).ok_or_else(bad)?
        } else {
            // Byte-indexed below: anything but 64 ASCII characters is refused
            // first (a multi-byte character would split mid-character).
            if s.len() != 64 || !s.is_ascii() {
                return Err(bad());
            }
            (0..32)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16))
                .collect::<std::result::Result<Vec<u8>, _>>()
                .map_err(|_| bad())?
        };
        let arr: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(SpkiPin(arr))
    }
}

/// Checks that some certificate of `chain` matches one of `pins`. An empty pin
/// list accepts every chain.
pub fn check_pins(pins: &[SpkiPin], chain: &[CertificateDer<'_>]) -> Result<()> {
    if pins.is_empty() {
        return Ok(());
    }
    for cert in chain {
        if let Ok(p) = SpkiPin::of_certificate(cert) {
            if pins.contains(&p) {
                return Ok(());
            }
        }
    }
    Err(Error::InvalidCertificate(CertificateError::PinMismatch))
}

pub(crate) fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn unbase64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

impl std::fmt::Display for SpkiPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256//{}", base64(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(unbase64(&base64(&data)), Some(data));
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
    }

    #[test]
    fn pin_parsing() {
        let pin = SpkiPin([7; 32]);
        assert_eq!(SpkiPin::parse(&pin.to_string()).ok(), Some(pin));
        assert_eq!(SpkiPin::parse(&"07".repeat(32)).ok(), Some(pin));
        assert!(matches!(
            SpkiPin::parse("sha256//abc"),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(SpkiPin::parse("zz"), Err(Error::InvalidConfig(_))));
        // 64 bytes, not 64 characters (found by the config_load fuzz target).
        let wide = format!("0{}{}", "é", "0".repeat(61));
        assert_eq!(wide.len(), 64);
        assert!(matches!(
            SpkiPin::parse(&wide),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn empty_pins_accept_and_garbage_chain_mismatches() {
        assert!(check_pins(&[], &[]).is_ok());
        let garbage = CertificateDer::from(vec![1, 2, 3]);
        assert!(matches!(
            check_pins(&[SpkiPin([0; 32])], &[garbage]),
            Err(Error::InvalidCertificate(CertificateError::PinMismatch))
        ));
    }
}
