//! Trust on resumption: the one policy, written once for every backend.
//!
//! A resumed session skips certificate verification: the peer proves it
//! holds the session's secret, and the library hands back the chain it
//! verified when the session was made. Libraries accept it as long as the
//! session's own lifetime runs, so left alone a client whose certificate
//! was revoked or has expired since would keep resuming its way back in (and
//! each resumption issues a fresh ticket). polytls does not allow that, on
//! any backend, as client or as server:
//!
//! 1. **A resumed session meets today's checks.** When a resumed handshake
//!    completes, the peer chain it carries is checked again, now: each
//!    certificate's validity dates, the freshness of the CRLs that cover it
//!    (past `nextUpdate`, or not yet at `thisUpdate`), and on a client the
//!    SPKI pins. A failure is the same typed error a full handshake gives
//!    ([`CertificateError::Expired`], ...); the session is failed before any
//!    application data is read or written. The libraries send no alert for
//!    a session they already accepted, so the peer sees the connection end
//!    without `close_notify` — a failure, never a clean end.
//! 2. **Nothing outlives its trust.** A client never offers a session past
//!    the notAfter of the server chain it was made with (the context's
//!    cache skips it, and [`ResumptionState`](crate::ResumptionState)
//!    offered past it makes a full handshake instead). A server never
//!    resumes a session past the client chain's notAfter (rule 1).
//! 3. **Every trust input binds resumption state.** A digest of the trust
//!    inputs — roots, CRLs and their scope, pins, verification settings,
//!    the client-auth mode, versions — is bound into what resumes: the
//!    session ID context (OpenSSL family) or the ticket's associated data
//!    (rustls) on servers, the context fingerprint of saved client state.
//!    Contexts with the same trust (a fleet sharing ticket keys) resume each
//!    other's sessions; after any change — a reloaded CA or CRL file — old
//!    sessions and tickets make a full handshake, which applies the new
//!    trust in full (a revoked peer gets the normal refusal and its alert).
//!
//! Within one context the trust inputs never change (contexts are
//! immutable), so time is all rule 1 has left to check; rule 3 covers
//! everything else.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer as _;

use crate::config::{ClientAuth, ClientConfig, Common, Roots, ServerConfig, SpkiPin};
use crate::error::CertificateError;
use crate::identity::CertificateDer;
use crate::revocation::{Revocation, RevocationScope};
use crate::{check_pins, Error, Result};

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The dates of one CRL that decide whether it may vouch for anything.
#[derive(Debug, Clone)]
struct CrlDates {
    /// The issuer's name, DER.
    issuer: Vec<u8>,
    this_update: i64,
    next_update: Option<i64>,
}

/// When each CRL of a [`Revocation`] may vouch for anything, parsed once:
/// a CRL is usable from its `thisUpdate` to its `nextUpdate`. Backends
/// whose library does not refuse a future-dated CRL by itself check chains
/// with it, so every backend answers the same (fail closed).
#[derive(Debug, Clone, Default)]
pub struct CrlFreshness {
    crls: Vec<CrlDates>,
    scope: RevocationScope,
}

impl CrlFreshness {
    /// The dates of `revocation`'s CRLs and its scope.
    pub fn new(revocation: &Revocation) -> Self {
        let crls = revocation
            .crls()
            .iter()
            .filter_map(|der| {
                let (_, crl) =
                    x509_parser::revocation_list::CertificateRevocationList::from_der(der).ok()?;
                Some(CrlDates {
                    issuer: crl.issuer().as_raw().to_vec(),
                    this_update: crl.last_update().timestamp(),
                    next_update: crl.next_update().map(|t| t.timestamp()),
                })
            })
            .collect();
        Self {
            crls,
            scope: revocation.scope,
        }
    }

    /// Checks that every CRL covering a certificate of `chain` (leaf
    /// first; by issuer name, within the scope) is usable now: before its
    /// `thisUpdate` is [`CertificateError::RevocationListNotYetValid`], past
    /// its `nextUpdate` [`CertificateError::ExpiredRevocationList`].
    pub fn check_chain(&self, chain: &[CertificateDer<'_>]) -> Result<()> {
        if self.crls.is_empty() {
            return Ok(());
        }
        self.check(&parse_chain(chain)?, unix_now())
    }

    fn check(&self, chain: &[Parsed<'_>], now: i64) -> Result<()> {
        let in_scope = match self.scope {
            RevocationScope::EndEntity => &chain[..chain.len().min(1)],
            _ => chain,
        };
        for cert in in_scope.iter().filter(|c| !c.self_issued) {
            for crl in self.crls.iter().filter(|crl| crl.issuer == cert.issuer) {
                if crl.this_update > now {
                    return Err(Error::InvalidCertificate(
                        CertificateError::RevocationListNotYetValid,
                    ));
                }
                if crl.next_update.is_some_and(|n| n < now) {
                    return Err(Error::InvalidCertificate(
                        CertificateError::ExpiredRevocationList,
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What rule 1 needs of one certificate.
#[derive(Debug, Clone)]
pub(crate) struct Parsed<'a> {
    not_before: i64,
    not_after: i64,
    /// The issuer's name, DER (the CRLs it matches).
    issuer: &'a [u8],
    self_issued: bool,
}

/// Parses the dates and issuer of each certificate of `chain`.
pub(crate) fn parse_chain<'a>(chain: &'a [CertificateDer<'_>]) -> Result<Vec<Parsed<'a>>> {
    chain
        .iter()
        .map(|der| {
            parse_one(der.as_ref()).ok_or(Error::InvalidCertificate(CertificateError::BadEncoding))
        })
        .collect()
}

/// One DER element at the front of `der`: its tag, its contents and what
/// follows it. Low tag numbers and definite lengths of up to four bytes,
/// which is all a certificate's fields before the subject use.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
            let len = bytes
                .iter()
                .fold(0usize, |len, b| (len << 8) | usize::from(*b));
            (len, rest)
        }
        _ => return None,
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// A certificate's `Time` (RFC 5280, 4.1.2.5: `UTCTime` `YYMMDDHHMMSSZ`,
/// or `GeneralizedTime` `YYYYMMDDHHMMSSZ`) in Unix seconds.
fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let (year, rest) = match (tag, text.len()) {
        (0x17, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if rest.last() != Some(&b'Z') {
        return None;
    }
    let field = |i: usize| digits(rest.get(i..i + 2)?);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// The number written in ASCII `text`, all digits.
fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0i64, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The fields rule 1 reads, without parsing the whole certificate (this
/// runs on every client handshake and every resumption, where a full X.509
/// parse cost more than the rest of polytls together; see
/// `cargo xtask compare`): `Certificate ::= SEQUENCE { tbsCertificate
/// SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
/// validity, subject, ... }, ... }`. Agreement with x509-parser is tested.
fn parse_one(der: &[u8]) -> Option<Parsed<'_>> {
    const SEQUENCE: u8 = 0x30;
    let (SEQUENCE, cert, _) = element(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = element(cert)? else {
        return None;
    };
    let (mut tag, _, mut rest) = element(tbs)?;
    if tag == 0xa0 {
        (tag, _, rest) = element(rest)?; // the version came first
    }
    if tag != 0x02 {
        return None; // the serial number
    }
    let (SEQUENCE, _signature, rest) = element(rest)? else {
        return None;
    };
    let (SEQUENCE, _, after_issuer) = element(rest)? else {
        return None;
    };
    let issuer = &rest[..rest.len() - after_issuer.len()];
    let (SEQUENCE, validity, after_validity) = element(after_issuer)? else {
        return None;
    };
    let (SEQUENCE, _, after_subject) = element(after_validity)? else {
        return None;
    };
    let subject = &after_validity[..after_validity.len() - after_subject.len()];
    let (before_tag, before, rest) = element(validity)?;
    let (after_tag, after, _) = element(rest)?;
    Some(Parsed {
        not_before: time(before_tag, before)?,
        not_after: time(after_tag, after)?,
        issuer,
        self_issued: issuer == subject,
    })
}

/// The earliest notAfter of a chain, in Unix seconds (`None` for an empty
/// chain).
pub(crate) fn chain_not_after(chain: &[Parsed<'_>]) -> Option<i64> {
    chain.iter().map(|c| c.not_after).min()
}

/// Rule 1 for one context: what a resumed session's peer chain must pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustCheck {
    /// Whether dates and CRLs are checked: not when the client accepts any
    /// certificate (`danger_accept_invalid_certs`) or the server asks for
    /// none.
    dates: bool,
    /// SPKI pins (client), checked even with `danger_accept_invalid_certs`.
    pins: Vec<SpkiPin>,
    crls: CrlFreshness,
}

impl TrustCheck {
    pub(crate) fn client(config: &ClientConfig) -> Self {
        Self {
            dates: !config.danger_accept_invalid_certs,
            pins: config.pins.clone(),
            crls: CrlFreshness::new(&config.revocation),
        }
    }

    pub(crate) fn server(config: &ServerConfig) -> Self {
        Self {
            dates: matches!(
                config.client_auth,
                ClientAuth::Optional(_) | ClientAuth::Required(_)
            ),
            pins: Vec::new(),
            crls: CrlFreshness::new(&config.client_revocation),
        }
    }

    /// Checks the chain of a resumed session at `now` (rule 1).
    pub(crate) fn check_resumed(&self, chain: &[CertificateDer<'_>], now: i64) -> Result<()> {
        self.check_parsed(chain, None, now)
    }

    /// [`check_resumed`](Self::check_resumed), with the chain parsed
    /// already if `parsed` is given (the client parses it once per
    /// handshake for its expiry).
    pub(crate) fn check_parsed(
        &self,
        chain: &[CertificateDer<'_>],
        parsed: Option<&Result<Vec<Parsed<'_>>>>,
        now: i64,
    ) -> Result<()> {
        if chain.is_empty() {
            return Ok(());
        }
        check_pins(&self.pins, chain)?;
        if !self.dates {
            return Ok(());
        }
        let fresh;
        let parsed = match parsed {
            Some(p) => p,
            None => {
                fresh = parse_chain(chain);
                &fresh
            }
        };
        let parsed = parsed.as_ref().map_err(Clone::clone)?;
        for cert in parsed {
            if now > cert.not_after {
                return Err(Error::InvalidCertificate(CertificateError::Expired));
            }
            if now < cert.not_before {
                return Err(Error::InvalidCertificate(CertificateError::NotValidYet));
            }
        }
        self.crls.check(parsed, now)
    }
}

/// Length-prefixed fields into one SHA-256.
struct Fields(Sha256);

impl Fields {
    fn new(label: &[u8]) -> Self {
        let mut f = Self(Sha256::new());
        f.add(label);
        f
    }

    fn add(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    fn roots(&mut self, label: &[u8], roots: &Roots) {
        self.add(label);
        self.add(&(roots.certs().len() as u64).to_be_bytes());
        for root in roots.certs() {
            self.add(root.as_ref());
        }
    }

    fn revocation(&mut self, revocation: &Revocation) {
        self.add(b"crls");
        self.add(&(revocation.crls().len() as u64).to_be_bytes());
        for crl in revocation.crls() {
            self.add(crl.as_ref());
        }
        self.add(match revocation.scope {
            RevocationScope::EndEntity => b"scope: leaf",
            _ => b"scope: chain",
        });
    }

    fn versions(&mut self, common: &Common) {
        self.add(&common.min_version.code().to_be_bytes());
        self.add(&common.max_version.code().to_be_bytes());
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

impl ClientConfig {
    /// A digest of everything that decides whether this client trusts a
    /// server: roots, CRLs and their scope, SPKI pins, its own identity,
    /// the verification switches, SNI and versions. Resumption state saved
    /// by one context is restored only into a context with the same digest
    /// (see [`trust`](crate::trust), rule 3).
    pub fn trust_digest(&self) -> [u8; 32] {
        let mut f = Fields::new(b"polytls client trust v2");
        f.roots(b"roots", &self.roots);
        f.revocation(&self.revocation);
        f.add(b"pins");
        for pin in &self.pins {
            f.add(&pin.0);
        }
        f.add(b"identity");
        if let Some(id) = &self.identity {
            for cert in id.chain() {
                f.add(cert.as_ref());
            }
        }
        f.add(&[
            u8::from(self.danger_accept_invalid_certs),
            u8::from(self.danger_accept_invalid_hostnames),
            u8::from(self.send_sni),
        ]);
        f.versions(&self.common);
        f.finish()
    }
}

impl ServerConfig {
    /// A digest of everything that decides whether this server trusts a
    /// client: the client-auth mode, its roots, CRLs and their scope, and
    /// versions. Backends bind it into what resumes (the session ID
    /// context, the tickets), so servers with the same trust resume each
    /// other's sessions and a server whose trust changed resumes none made
    /// before (see [`trust`](crate::trust), rule 3).
    pub fn trust_digest(&self) -> [u8; 32] {
        let mut f = Fields::new(b"polytls server trust v1");
        match &self.client_auth {
            ClientAuth::None => f.add(b"client auth: none"),
            ClientAuth::Optional(roots) => f.roots(b"client auth: optional", roots),
            ClientAuth::Required(roots) => f.roots(b"client auth: required", roots),
            ClientAuth::DangerAcceptAny { required } => f.add(if *required {
                b"client auth: danger, any certificate, required"
            } else {
                b"client auth: danger, any certificate, optional"
            }),
        }
        f.revocation(&self.client_revocation);
        f.versions(&self.common);
        f.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_changes_with_every_trust_input() {
        let base = ClientConfig::new(Roots::default());
        let d = base.trust_digest();
        let mut pinned = base.clone();
        pinned.pins.push(SpkiPin([1; 32]));
        assert_ne!(pinned.trust_digest(), d);
        let mut scoped = base.clone();
        scoped.revocation.scope = RevocationScope::EndEntity;
        assert_ne!(scoped.trust_digest(), d);
        let mut danger = base.clone();
        danger.danger_accept_invalid_hostnames = true;
        assert_ne!(danger.trust_digest(), d);
        assert_eq!(base.clone().trust_digest(), d, "stable");
    }

    #[test]
    fn narrow_parse_agrees_with_the_full_parser() {
        let cert = rcgen_free_certificate();
        let (_, full) = x509_parser::parse_x509_certificate(&cert).expect("parses");
        let narrow = parse_one(&cert).expect("parses");
        assert_eq!(narrow.not_before, full.validity().not_before.timestamp());
        assert_eq!(narrow.not_after, full.validity().not_after.timestamp());
        assert_eq!(narrow.issuer, full.issuer().as_raw());
        assert!(narrow.self_issued, "a self-signed certificate");
        for cut in 0..cert.len() {
            assert!(parse_one(&cert[..cut]).is_none() || cut > cert.len() - 80);
        }
    }

    #[test]
    fn times_agree_with_the_full_parser() {
        use x509_parser::time::ASN1Time;
        let der = |tag: u8, text: &str| {
            let mut d = vec![tag, text.len() as u8];
            d.extend_from_slice(text.as_bytes());
            d
        };
        let full = |d: &[u8]| ASN1Time::from_der(d).ok().map(|(_, t)| t.timestamp());
        let mut checked = 0;
        for year in (1950..2050)
            .chain((1..10_000).step_by(97))
            .chain([2000, 2100, 2400])
        {
            for (month, day) in [(1, 1), (2, 28), (2, 29), (3, 1), (6, 30), (12, 31), (4, 31)] {
                let hms = "235959Z";
                let (tag, text) = if (1950..2050).contains(&year) {
                    (0x17, format!("{:02}{month:02}{day:02}{hms}", year % 100))
                } else {
                    (0x18, format!("{year:04}{month:02}{day:02}{hms}"))
                };
                let d = der(tag, &text);
                let expected = full(&d);
                let ours = time(tag, text.as_bytes());
                // Day 31 of a 30-day month (or 29 February of a common
                // year) is refused by the full parser; ours computes a
                // date from it, as it only needs an order, not a calendar
                // check, and such a date never verified in the first place.
                if expected.is_some() {
                    assert_eq!(ours, expected, "{text}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
        for bad in [
            "2401011200Z",
            "24010112000Z0",
            "240101120000",
            "241301120000Z",
            "2401a1120000Z",
            "240132120000Z",
            "240101240000Z",
            "240101126000Z",
        ] {
            assert_eq!(time(0x17, bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(
            time(0x18, b"240101120000Z"),
            None,
            "a UTCTime's length as GeneralizedTime"
        );
        assert_eq!(time(0x04, b"240101120000Z"), None, "not a time");
    }

    #[test]
    fn elements_never_read_past_the_input() {
        assert_eq!(element(&[]), None);
        assert_eq!(element(&[0x30]), None);
        assert_eq!(
            element(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            None,
            "five length bytes"
        );
        assert_eq!(element(&[0x30, 0x80]), None, "indefinite length");
        assert_eq!(
            element(&[0x30, 0x82, 0xff, 0xff, 0]),
            None,
            "longer than the input"
        );
        assert_eq!(element(&[0x1f, 0x01, 0x00]), None, "high tag number");
        assert_eq!(
            element(&[0x04, 0x01, 0xaa, 0xbb]),
            Some((0x04, &[0xaa][..], &[0xbb][..]))
        );
    }

    /// A self-signed Ed25519 certificate (RFC 8410, section 10.2's example).
    fn rcgen_free_certificate() -> Vec<u8> {
        const B64: &str = "MIIBLDCB36ADAgECAghWAUdKKo3DMDAFBgMrZXAwGTEXMBUGA1UEAwwOSUVURiBUZXN0IERlbW8wHhcNMTYwODAxMTIxOTI0WhcNNDAxMjMxMjM1OTU5WjAZMRcwFQYDVQQDDA5JRVRGIFRlc3QgRGVtbzAqMAUGAytlbgMhAIUg8AmJMKdUdIt93LQ+91oNvzoNJjga9OukqY6qm05qo0UwQzAPBgNVHRMBAf8EBTADAQEAMA4GA1UdDwEBAAQEAwIBBjAgBgNVHQ4BAQAEFgQUABI0VniavN7wEjRWeJq83vASNFYwBQYDK2VwA0EAFkv7fL3KQ9bRCMZDdScZ+p12Jqfrh2TQTt6YsSZmDsMX+eFf07TKAJr1FbdszRJC4gs9F+1gCu+AyC11WoNCcQ==";
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(B64)
            .expect("base64")
    }

    #[test]
    fn without_dates_checks_nothing() {
        let check = TrustCheck::default();
        let garbage = [CertificateDer::from(vec![1, 2, 3])];
        assert!(check.check_resumed(&garbage, 0).is_ok());
        let on = TrustCheck {
            dates: true,
            ..TrustCheck::default()
        };
        assert!(matches!(
            on.check_resumed(&garbage, 0),
            Err(Error::InvalidCertificate(CertificateError::BadEncoding))
        ));
    }
}
