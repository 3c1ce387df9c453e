//! Seed corpora, recorded from real handshakes between every client and
//! server backend of this build: each direction's flights, for the session
//! targets; selector bytes plus a few edits for the structured targets; the
//! test PKI's PEM, DER and PKCS#12 files for the loaders.

use std::path::Path;

use polytls_api::{Backend, ClientConfig, ProtocolVersion, ServerConfig};
use polytls_conformance::pki::{pki, to_pem};

use crate::drive::drain;
use crate::fixtures::backends;

/// Client and server flights of full handshakes between every pair of
/// backends, TLS 1.2 and 1.3.
pub fn transcripts() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for cb in backends() {
        for sb in backends() {
            for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
                let mut cc = ClientConfig::new(pki().roots());
                cc.common.max_version = v;
                cc.common.alpn = vec![b"h2".to_vec()];
                let mut sc = ServerConfig::new(pki().server());
                sc.common.alpn = vec![b"h2".to_vec()];
                let (Ok(cctx), Ok(sctx)) = (cb.client_context(&cc), sb.server_context(&sc)) else {
                    continue;
                };
                let (Ok(mut c), Ok(mut s)) = (cctx.connect("localhost"), sctx.accept()) else {
                    continue;
                };
                let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
                for _ in 0..16 {
                    let (a, b) = (c2s.len(), s2c.len());
                    drain(&mut c, &mut c2s);
                    let mut rd: &[u8] = &c2s[a..];
                    while !rd.is_empty() && matches!(s.read_tls(&mut rd), Ok(n) if n > 0) {
                        let _ = s.process_new_packets();
                    }
                    drain(&mut s, &mut s2c);
                    let mut rd: &[u8] = &s2c[b..];
                    while !rd.is_empty() && matches!(c.read_tls(&mut rd), Ok(n) if n > 0) {
                        let _ = c.process_new_packets();
                    }
                    if c2s.len() == a && s2c.len() == b {
                        break;
                    }
                }
                let name = format!("{}-{}-{}", cb.name(), sb.name(), v.name());
                out.push((name, c2s, s2c));
            }
        }
    }
    out
}

/// Writes every target's seeds under `dir`; returns how many files.
pub fn write(dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    let mut put = |target: &str, name: &str, data: &[u8]| -> std::io::Result<()> {
        let d = dir.join(target);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(name), data)?;
        n += 1;
        Ok(())
    };
    for (name, c2s, s2c) in transcripts() {
        // Session targets: byte 0 = chunk size / EOF flag, then the flight.
        for (prefix, tag) in [(0u8, "whole"), (0x85, "chunks5-eof")] {
            put(
                "server_session",
                &format!("{name}-{tag}"),
                &[&[prefix][..], &c2s].concat(),
            )?;
            put(
                "client_session",
                &format!("{name}-{tag}"),
                &[&[prefix][..], &s2c].concat(),
            )?;
        }
        put("differential", &name, &c2s)?;
    }
    for sel in 0u8..16 {
        for flight in 0u8..3 {
            put(
                "handshake_mutation",
                &format!("s{sel}-f{flight}"),
                &[sel, flight, 9, 0, 1, 40, 0, 0x80],
            )?;
        }
    }
    for sel in 0u8..8 {
        put(
            "adapters",
            &format!("s{sel}"),
            &[sel, 20, 1, 7, 63, 4, 200, 13, 33, 2, 9, 129],
        )?;
    }
    let p = pki();
    let id = p.server();
    let chain_pem: String = id
        .chain()
        .iter()
        .map(|c| to_pem("CERTIFICATE", c.as_ref()))
        .collect();
    let key_pem = to_pem("PRIVATE KEY", id.key().secret_der());
    let sep = [0xffu8];
    put(
        "config_load",
        "pem",
        &[&[0u8][..], chain_pem.as_bytes(), &sep, key_pem.as_bytes()].concat(),
    )?;
    put(
        "config_load",
        "der",
        &[
            &[1u8][..],
            id.chain()[0].as_ref(),
            &sep,
            id.key().secret_der(),
        ]
        .concat(),
    )?;
    put(
        "config_load",
        "p12",
        &[&[2u8][..], &p.pkcs12(&id, "pw"), &sep, b"pw"].concat(),
    )?;
    put(
        "config_load",
        "roots",
        &[
            &[3u8][..],
            p.root_pem().as_bytes(),
            &sep,
            key_pem.as_bytes(),
        ]
        .concat(),
    )?;
    put("config_load", "names", b"\x04TLS_AES_128_GCM_SHA256")?;
    put(
        "config_load",
        "key",
        &[&[5u8][..], id.key().secret_der()].concat(),
    )?;
    Ok(n)
}
