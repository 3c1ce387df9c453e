//! The portable defaults are what every backend offers: the ClientHello of a
//! default configuration lists exactly `polytls_api::defaults`' suites,
//! groups (less those the backend lacks) and signature schemes.

use polytls_api::defaults::{CIPHER_SUITES, GROUPS, SIGNATURE_SCHEMES};
use polytls_api::{Backend, Capability};

use super::client_config;
use crate::wire::ClientHello;

/// A list extension's entries, less GREASE values (RFC 8701) and the
/// renegotiation SCSV, which say nothing about the configuration.
fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .filter(|v| v & 0x0f0f != 0x0a0a && *v != 0x00ff)
        .collect()
}

/// A default client offers the portable suites (in order), the portable
/// groups it supports (in order) and the portable signature schemes — no
/// library defaults such as X448, P-521 or SHA-1 signatures.
pub fn default_client_hello_offers_portable_lists<B: Backend>(b: &B) {
    let cc = b.client_context(&client_config()).expect("ctx");
    let mut c = cc.connect("localhost").expect("connect");
    let mut hello = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut hello).expect("hello");
    }
    let hello = ClientHello::parse(&hello).expect("a well-formed ClientHello");
    let list = |kind| {
        u16_list(
            hello
                .extension(kind)
                .and_then(|e| e.get(2..))
                .unwrap_or(&[]),
        )
    };
    let suites: Vec<u16> = CIPHER_SUITES.iter().map(|s| s.code()).collect();
    let offered: Vec<u16> = hello
        .suites
        .iter()
        .copied()
        .filter(|v| v & 0x0f0f != 0x0a0a && *v != 0x00ff)
        .collect();
    assert_eq!(offered, suites, "cipher suites");
    let groups: Vec<u16> = GROUPS
        .iter()
        .filter(|g| b.supports(Capability::Group(**g)))
        .map(|g| g.code())
        .collect();
    assert_eq!(list(0x000a), groups, "groups");
    let mut sigalgs = list(0x000d);
    sigalgs.sort_unstable();
    let mut want: Vec<u16> = SIGNATURE_SCHEMES.iter().map(|s| s.code()).collect();
    want.sort_unstable();
    assert_eq!(sigalgs, want, "signature schemes");
}
