//! Differential: the same bytes, as a client's first flight, go to a rustls
//! server and to the OpenSSL-family server of this build (same certificate,
//! same settings). Their outcome classes must agree, or the pair must be in
//! [`ALLOWED`] — a reviewed list of known, harmless differences.

use crate::drive::{feed, Class};
use crate::fixtures::fixtures;

/// Divergences accepted after review: (rustls, OpenSSL-family, why).
/// Anything else is a finding: an error left uncategorised (`other`), a
/// handshake that completes or closes from one flight, an alert or EOF
/// class on one side only, or a certificate error from a ClientHello.
///
/// Measured on 20,000 mutated ClientHellos of every client backend: 4.2 %
/// diverged against OpenSSL 3.0 and 6.9 % against BoringSSL, all in the
/// classes below (most: rustls rejecting an extension the others tolerate).
pub const ALLOWED: &[(Class, Class, &str)] = &[
    (
        Class::Error("peer_misbehaved"),
        Class::Handshaking,
        "rustls validates extension contents OpenSSL and BoringSSL skip or tolerate \
         (SNI list shape, empty lists, duplicate entries)",
    ),
    (
        Class::Handshaking,
        Class::Error("peer_misbehaved"),
        "OpenSSL and BoringSSL parse some fields rustls ignores or reads leniently \
         (legacy session id, compression methods, extensions it does not use)",
    ),
    (
        Class::Error("peer_incompatible"),
        Class::Error("peer_misbehaved"),
        "a corrupted list (versions, groups, suites) reads as nothing usable to rustls \
         and as malformed to OpenSSL",
    ),
    (
        Class::Error("peer_misbehaved"),
        Class::Error("peer_incompatible"),
        "the reverse: rustls rejects the list's encoding, OpenSSL finds nothing it supports in it",
    ),
    (
        Class::Handshaking,
        Class::Error("peer_incompatible"),
        "OpenSSL applies its security level and RFC 8422 curve rules to mutated \
         signature_algorithms/supported_groups where rustls still finds a usable entry",
    ),
    (
        Class::Error("alert_received"),
        Class::Error("peer_misbehaved"),
        "an alert record with an undefined level or description: rustls reports the alert \
         it read, OpenSSL and BoringSSL reject the alert itself as malformed (found by the \
         differential campaign; inputs in regressions/differential/)",
    ),
    (
        Class::Error("peer_incompatible"),
        Class::Handshaking,
        "rustls gives up where OpenSSL falls back: no scheme for the key in a TLS 1.2 \
         signature_algorithms list, where OpenSSL uses the RFC 5246 defaults",
    ),
    (
        Class::Handshaking,
        Class::Error("unexpected_eof"),
        "a plaintext close_notify during the handshake: OpenSSL and BoringSSL end the \
         session there; rustls ignores an unauthenticated close_notify and reports \
         unexpected_eof at the transport EOF that must follow (conformance case \
         close_notify_during_handshake; found by the BoringSSL campaign)",
    ),
    (
        Class::Error("peer_misbehaved"),
        Class::Error("unexpected_eof"),
        "a close_notify after four other warning alerts: rustls counts it as the fifth \
         warning, over its limit, and fails as peer_misbehaved; OpenSSL and BoringSSL end \
         the session at the close_notify (found by the BoringSSL campaign)",
    ),
    (
        Class::Error("peer_misbehaved"),
        Class::Error("alert_received"),
        "an alert record in the middle of a handshake message split across records: \
         rustls and OpenSSL reject the interleaving (RFC 8446 section 5.1), BoringSSL \
         acts on the alert (found by the BoringSSL campaign; input in \
         regressions/differential/)",
    ),
];

/// Whether a divergence is in the allow-list.
pub fn allowed(rustls: Class, other: Class) -> Option<&'static str> {
    ALLOWED
        .iter()
        .find(|(r, o, _)| *r == rustls && *o == other)
        .map(|(_, _, why)| *why)
}

/// `data` cut at TLS record boundaries (5-byte header plus the length it
/// announces); the last piece may be a partial record.
pub fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let len = match rest {
            [_, _, _, hi, lo, ..] => 5 + usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => rest.len(),
        };
        let (record, tail) = rest.split_at(len.min(rest.len()));
        out.push(record);
        rest = tail;
    }
    out
}

/// The classes of the rustls server and the other server for `data`, at
/// the first decision: the flight goes to both a record at a time, and the
/// comparison is made after the first record on which either server stops
/// handshaking. What one server makes of records after the point where the
/// other already failed is not compared (it would only restate that the
/// earlier failure differs).
pub fn classes(data: &[u8]) -> Option<(Class, Class, &'static str)> {
    // rustls (aws-lc-rs) against the build's OpenSSL-family library.
    let fx = fixtures();
    let rustls = fx.first()?;
    let other = fx
        .iter()
        .find(|f| !polytls_api::Backend::name(&f.backend).starts_with("rustls"))?;
    let mut a = rustls.server.accept().ok()?;
    let mut b = other.server.accept().ok()?;
    let (mut ca, mut cb) = (Class::Handshaking, Class::Handshaking);
    for record in records(data) {
        ca = feed(&mut a, record, 0, false).0;
        cb = feed(&mut b, record, 0, false).0;
        if ca != Class::Handshaking || cb != Class::Handshaking {
            break;
        }
    }
    Some((ca, cb, polytls_api::Backend::name(&other.backend)))
}

/// The target: panics on a divergence not in [`ALLOWED`].
pub fn run(data: &[u8]) {
    if let Some((r, o, name)) = classes(data) {
        if r != o && allowed(r, o).is_none() {
            panic!(
                "divergence: rustls {r:?}, {name} {o:?} (input {} bytes)",
                data.len()
            );
        }
    }
}
