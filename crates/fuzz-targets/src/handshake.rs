//! A full in-memory handshake where one flight of one direction is tampered
//! with. Whatever the tampering, nothing may panic, and if both ends still
//! complete the handshake they must hold the same keys (equal exporter
//! output) and pass application data intact.

use polytls_api::ReadOutcome;

use crate::drive::DynSession;

use crate::drive::drain;
use crate::fixtures::fixtures;

/// Layout: byte 0 picks client backend, server backend, direction, TLS
/// version; byte 1 the flight (0-based, per direction) to tamper with; then
/// 3-byte edits `(offset: u16 LE, xor: u8)`, where xor 0 means "cut the flight
/// here".
pub fn mutated_handshake(data: &[u8]) {
    let [sel, flight, edits @ ..] = data else {
        return;
    };
    let fx = fixtures();
    let client = &fx[usize::from(sel & 1) % fx.len()];
    let server = &fx[usize::from((sel >> 1) & 1) % fx.len()];
    let to_server = sel & 4 != 0;
    let server_ctx = if sel & 8 != 0 {
        &server.server_mtls
    } else {
        &server.server
    };
    let (Ok(mut c), Ok(mut s)) = (client.client.connect("localhost"), server_ctx.accept()) else {
        return;
    };
    let tamper = |buf: &mut Vec<u8>| {
        for e in edits.chunks_exact(3) {
            let pos = usize::from(u16::from_le_bytes([e[0], e[1]]));
            if buf.is_empty() {
                return;
            }
            let pos = pos % buf.len();
            if e[2] == 0 {
                buf.truncate(pos);
            } else {
                buf[pos] ^= e[2];
            }
        }
    };
    let mut flights = [0u8; 2];
    let mut failed = false;
    for _ in 0..32 {
        let mut moved = false;
        for dir in [true, false] {
            let (from, to): (&mut DynSession, &mut DynSession) = if dir {
                (&mut c, &mut s)
            } else {
                (&mut s, &mut c)
            };
            let mut buf = Vec::new();
            drain(from, &mut buf);
            if buf.is_empty() {
                continue;
            }
            moved = true;
            let n = &mut flights[usize::from(!dir)];
            if dir == to_server && *n == *flight {
                tamper(&mut buf);
            }
            *n = n.saturating_add(1);
            let mut rd: &[u8] = &buf;
            while !rd.is_empty() {
                match to.read_tls(&mut rd) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if to.process_new_packets().is_err() {
                    failed = true;
                    break;
                }
            }
            if failed {
                // The failing side's alert still goes out, and must not upset the other.
                let mut alert = Vec::new();
                drain(to, &mut alert);
                let mut rd: &[u8] = &alert;
                let _ = from.read_tls(&mut rd);
                let _ = from.process_new_packets();
                return;
            }
        }
        if !moved {
            break;
        }
    }
    if c.is_handshaking() || s.is_handshaking() {
        return;
    }
    let (mut kc, mut ks) = ([0u8; 32], [0u8; 32]);
    if c.export_keying_material(&mut kc, b"EXPERIMENTAL polytls fuzz", None)
        .is_ok()
        && s.export_keying_material(&mut ks, b"EXPERIMENTAL polytls fuzz", None)
            .is_ok()
    {
        assert_eq!(
            kc, ks,
            "both ends completed a tampered handshake with different keys"
        );
    }
    // Application data must arrive intact or not at all.
    if c.write(b"polytls").is_err() {
        return;
    }
    let mut buf = Vec::new();
    drain(&mut c, &mut buf);
    let mut rd: &[u8] = &buf;
    while !rd.is_empty() {
        if !matches!(s.read_tls(&mut rd), Ok(n) if n > 0) || s.process_new_packets().is_err() {
            return;
        }
    }
    let mut got = [0u8; 16];
    if let Ok(ReadOutcome::Data(n)) = s.read(&mut got) {
        assert!(
            b"polytls".starts_with(&got[..n]),
            "application data changed in transit"
        );
    }
}
