//! Application data, shutdown and truncation, exporters, key logs, misuse and
//! hostile input.

use std::sync::Arc;

use polytls_api::driver::SessionDriver;
use polytls_api::keylog::KeyLogLines;
use polytls_api::{Backend, Error, ProtocolVersion, ReadOutcome, Session};

use super::{client_config, connect_ok, pair, server_config};
use crate::pair::Side;
use crate::pki::pki;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + i / 251) as u8).collect()
}

fn both_ways<B: Backend>(b: &B, len: usize) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.min_version = v;
        c.common.max_version = v;
        let mut p = connect_ok(b, &c, &server_config(pki().server()));
        let data = pattern(len);
        assert_eq!(p.transfer(Side::Client, &data).expect("c->s"), data, "{v}");
        assert_eq!(p.transfer(Side::Server, &data).expect("s->c"), data, "{v}");
    }
}

/// One byte each way arrives intact.
pub fn transfer_one_byte<B: Backend>(b: &B) {
    both_ways(b, 1);
}

/// 1 MiB each way arrives intact, crossing many records.
pub fn transfer_one_mib<B: Backend>(b: &B) {
    both_ways(b, 1 << 20);
}

/// Sizes around the 16 KiB record limit arrive intact.
pub fn transfer_record_boundaries<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    for len in [16383, 16384, 16385, 32768 + 1] {
        let data = pattern(len);
        assert_eq!(
            p.transfer(Side::Client, &data).expect("c->s"),
            data,
            "{len}"
        );
    }
}

/// A large write is taken in bounded pieces, the same on every backend:
/// at most 64 KiB of plaintext while nothing is queued, nothing more until
/// the ciphertext leaves, then more again; everything arrives in order.
pub fn large_write_is_bounded<B: Backend>(b: &B) {
    const LIMIT: usize = 64 * 1024;
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    let data = pattern(1 << 20);
    let mut got = Vec::new();
    let mut sent = 0;
    for round in 0..2 {
        let n = p.client.write(&data[sent..]).expect("write");
        assert!(
            n > 0 && n <= LIMIT,
            "round {round}: took {n} bytes of a large write"
        );
        assert_eq!(
            p.client.write(&data[sent + n..]).expect("write while full"),
            0,
            "round {round}: took more while {n} bytes were queued"
        );
        sent += n;
        while p.pump().expect("pump") {
            let (more, closed) = p.read_all(Side::Server).expect("read");
            assert!(!closed);
            got.extend_from_slice(&more);
        }
        assert!(
            got == data[..sent],
            "round {round}: {} bytes arrived of {sent}",
            got.len()
        );
    }
}

/// A zero-length write takes nothing and sends nothing readable.
pub fn zero_length_write<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    assert_eq!(p.client.write(&[]).expect("empty write"), 0);
    p.pump().expect("pump");
    let (got, closed) = p.read_all(Side::Server).expect("read");
    assert!(got.is_empty() && !closed);
    assert_eq!(p.transfer(Side::Client, b"after").expect("data"), b"after");
}

/// Data written before the handshake completes is delivered after it.
pub fn write_before_handshake_completes<B: Backend>(b: &B) {
    let mut p = pair(
        b,
        &client_config(),
        &server_config(pki().server()),
        "localhost",
    );
    assert!(p.client.is_handshaking());
    let n = p.client.write(b"early bird").expect("buffered write");
    assert_eq!(n, 10);
    p.handshake().expect_ok();
    p.pump().expect("pump");
    let (got, _) = p.read_all(Side::Server).expect("read");
    assert_eq!(got, b"early bird");
}

/// close_notify reads as a clean end after all data before it.
pub fn close_notify_is_clean_eof<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    p.client.write(b"last words").expect("write");
    p.client.send_close_notify();
    p.pump().expect("pump");
    let (got, closed) = p.read_all(Side::Server).expect("read");
    assert_eq!(got, b"last words");
    assert!(closed, "close_notify must read as Closed");
    // Clean EOF stays clean, even if the transport then ends.
    assert_eq!(
        p.eof_to(Side::Server).expect("after close"),
        ReadOutcome::Closed
    );
}

/// A transport EOF without close_notify is `UnexpectedEof`, after the data.
pub fn truncation_is_unexpected_eof<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    assert_eq!(
        p.transfer(Side::Client, b"partial").expect("data"),
        b"partial"
    );
    assert!(matches!(p.eof_to(Side::Server), Err(Error::UnexpectedEof)));
}

/// Half-close: after the client's close_notify the server can still send and
/// the client still reads.
pub fn half_close<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    p.client.send_close_notify();
    p.pump().expect("pump");
    let (_, closed) = p.read_all(Side::Server).expect("read");
    assert!(closed);
    p.server
        .write(b"reply after your close")
        .expect("server write");
    p.pump().expect("pump");
    let (got, _) = p.read_all(Side::Client).expect("client read");
    assert_eq!(got, b"reply after your close");
}

/// Writing after close_notify is `Misuse`, not a panic.
pub fn write_after_close_is_misuse<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    p.client.send_close_notify();
    assert!(matches!(p.client.write(b"too late"), Err(Error::Misuse(_))));
}

/// EOF during the handshake is `UnexpectedEof` or a handshake error, never a
/// hang or a clean end.
pub fn eof_during_handshake<B: Backend>(b: &B) {
    let mut p = pair(
        b,
        &client_config(),
        &server_config(pki().server()),
        "localhost",
    );
    p.client_to_server_bytes();
    let r = p.eof_to(Side::Server);
    assert!(
        !matches!(r, Ok(ReadOutcome::Closed) | Ok(ReadOutcome::Data(_))),
        "{r:?}"
    );
    assert!(matches!(r, Err(Error::UnexpectedEof)), "{r:?}");
}

/// Exporters agree between the ends, depend on label and context, and fail
/// before the handshake.
pub fn exporter_agrees<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.min_version = v;
        c.common.max_version = v;
        let p = connect_ok(b, &c, &server_config(pki().server()));
        fn export<D: SessionDriver>(s: &Session<D>, label: &[u8], ctx: Option<&[u8]>) -> [u8; 32] {
            let mut out = [0u8; 32];
            s.export_keying_material(&mut out, label, ctx)
                .expect("export");
            out
        }
        let c1 = export(&p.client, b"EXPORTER-polytls", Some(b"ctx"));
        assert_eq!(
            c1,
            export(&p.server, b"EXPORTER-polytls", Some(b"ctx")),
            "{v}"
        );
        assert_ne!(c1, [0u8; 32]);
        assert_ne!(
            c1,
            export(&p.client, b"EXPORTER-other", Some(b"ctx")),
            "{v}"
        );
        let no_ctx = export(&p.client, b"EXPORTER-polytls", None);
        assert_eq!(no_ctx, export(&p.server, b"EXPORTER-polytls", None), "{v}");
        assert_ne!(no_ctx, c1, "{v}");
    }
    let p = pair(
        b,
        &client_config(),
        &server_config(pki().server()),
        "localhost",
    );
    let mut out = [0u8; 16];
    assert!(matches!(
        p.client
            .export_keying_material(&mut out, b"EXPORTER-polytls", None),
        Err(Error::Misuse(_))
    ));
}

/// Key logs on both ends record the same TLS 1.3 secrets in NSS format.
pub fn key_log_lines<B: Backend>(b: &B) {
    let (cl, sl) = (
        Arc::new(KeyLogLines::default()),
        Arc::new(KeyLogLines::default()),
    );
    let mut c = client_config();
    c.common.key_log = Some(cl.clone());
    let mut s = server_config(pki().server());
    s.common.key_log = Some(sl.clone());
    connect_ok(b, &c, &s);
    let (mut lines, mut server_lines) = (cl.lines(), sl.lines());
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("{label} missing from {lines:?}"));
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3, "{line}");
        assert_eq!(parts[1].len(), 64, "client random is 32 bytes: {line}");
        assert!(parts[2].len() >= 64 && parts[2].bytes().all(|c| c.is_ascii_hexdigit()));
    }
    lines.retain(|l| !l.starts_with("EXPORTER_SECRET"));
    server_lines.retain(|l| !l.starts_with("EXPORTER_SECRET"));
    lines.sort();
    server_lines.sort();
    assert_eq!(lines, server_lines, "both ends derive the same secrets");
}

/// Without a key log nothing is logged (and nothing breaks).
pub fn key_log_off_by_default<B: Backend>(b: &B) {
    let c = client_config();
    assert!(c.common.key_log.is_none());
    connect_ok(b, &c, &server_config(pki().server()));
}

fn feed_server<B: Backend>(b: &B, bytes: &[u8]) -> Result<(), Error> {
    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("ctx");
    let mut s = sc.accept().expect("accept");
    let mut rd = bytes;
    while !rd.is_empty() {
        let n = s
            .read_tls(&mut rd)
            .map_err(|e| Error::other("read_tls", e))?;
        s.process_new_packets()?;
        if n == 0 {
            break;
        }
    }
    let mut out = Vec::new();
    while s.wants_write() {
        if s.write_tls(&mut out).unwrap_or(0) == 0 {
            break;
        }
    }
    Ok(())
}

/// Random bytes to a server are an error, never a panic or success.
pub fn garbage_to_server<B: Backend>(b: &B) {
    let mut junk = vec![0u8; 2048];
    let mut x = 0x1234_5678u32;
    for byte in junk.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *byte = x as u8;
    }
    assert!(feed_server(b, &junk).is_err());
    // A plausible record header announcing a handshake but carrying junk.
    let mut rec = vec![0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c];
    rec.extend_from_slice(&junk[..0x3c]);
    let r = feed_server(b, &rec);
    assert!(matches!(r, Err(Error::PeerMisbehaved(_))), "{r:?}");
}

/// The first flight of a client of `b` connecting to "localhost".
fn client_hello<B: Backend>(b: &B) -> Vec<u8> {
    let cc = b.client_context(&client_config()).expect("ctx");
    let mut c = cc.connect("localhost").expect("connect");
    let mut hello = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut hello).expect("hello");
    }
    hello
}

/// A real ClientHello with a malformed extension added (a supported_groups
/// body whose inner length overruns it) is rejected as peer misbehaviour.
pub fn client_hello_with_garbage_extensions<B: Backend>(b: &B) {
    let mut hello = client_hello(b);
    assert_eq!(hello[0], 0x16, "a handshake record");
    assert_eq!(hello[5], 0x01, "a ClientHello");
    // record(5) handshake(4) version(2) random(32) session id, suites,
    // compression, then the extensions length.
    let mut at = 5 + 4 + 2 + 32;
    at += 1 + usize::from(hello[at]);
    at += 2 + usize::from(u16::from_be_bytes([hello[at], hello[at + 1]]));
    at += 1 + usize::from(hello[at]);
    let bad_ext = [0x00, 0x0a, 0x00, 0x03, 0x00, 0x05, 0x00];
    let grow = |hello: &mut Vec<u8>, pos: usize, width: usize| {
        let mut v = 0usize;
        for i in 0..width {
            v = (v << 8) | usize::from(hello[pos + i]);
        }
        v += bad_ext.len();
        for i in 0..width {
            hello[pos + width - 1 - i] = (v >> (8 * i)) as u8;
        }
    };
    grow(&mut hello, 3, 2);
    grow(&mut hello, 6, 3);
    grow(&mut hello, at, 2);
    hello.extend_from_slice(&bad_ext);
    let r = feed_server(b, &hello);
    assert!(matches!(r, Err(Error::PeerMisbehaved(_))), "{r:?}");
}

/// A ClientHello whose server_name list holds a byte after its one entry
/// (the name's length cut by one): OpenSSL and BoringSSL refuse it as peer
/// misbehaviour, and the refusal is reported — BoringSSL answers it with a
/// decode_error alert but leaves no reason on its error queue, which must
/// not read as "waiting for more input" (found by the differential fuzzer).
/// rustls reads the list's first entry and goes on.
pub fn client_hello_with_trailing_byte_in_server_name<B: Backend>(b: &B) {
    let mut hello = client_hello(b);
    let sni = [
        0x00, 0x00, 0x09, b'l', b'o', b'c', b'a', b'l', b'h', b'o', b's', b't',
    ];
    let at = hello
        .windows(sni.len())
        .position(|w| w == sni)
        .expect("the server_name entry");
    hello[at + 2] = 0x08;
    let r = feed_server(b, &hello);
    if crate::quirk(crate::Quirk::LenientServerNameList) {
        assert!(r.is_ok(), "{r:?}");
    } else {
        assert!(matches!(r, Err(Error::PeerMisbehaved(_))), "{r:?}");
    }
}

/// A truncated record followed by EOF fails as `UnexpectedEof`.
pub fn truncated_record_mid_stream<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    p.client.write(&pattern(1000)).expect("write");
    let bytes = p.client_to_server_bytes();
    bytes.truncate(bytes.len() / 2);
    assert!(matches!(p.eof_to(Side::Server), Err(Error::UnexpectedEof)));
}

/// A flipped bit in a record is a bad MAC: peer misbehaviour, not data.
pub fn tampered_record_is_rejected<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    p.client.write(b"integrity matters").expect("write");
    let bytes = p.client_to_server_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let r = p.pump();
    assert!(
        matches!(r, Err((Side::Server, Error::PeerMisbehaved(_)))),
        "{r:?}"
    );
}

/// How a receive loop ended: the bytes read, then `Closed`, `NeedInput` or
/// the error.
type Received = (Vec<u8>, Result<ReadOutcome, Error>);

/// Feeds `wire` to `s` as a receive loop does (`read_tls` in 1 KiB pieces,
/// processing after each, reading after that); with `for_read`, through
/// `process_for_read`.
fn receive<D: SessionDriver>(s: &mut Session<D>, wire: &[u8], for_read: bool) -> Received {
    receive_then(s, wire, for_read, false)
}

/// [`receive`], then (with `eof`) the transport's EOF.
fn receive_then<D: SessionDriver>(
    s: &mut Session<D>,
    wire: &[u8],
    for_read: bool,
    eof: bool,
) -> Received {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    let end: &[u8] = &[];
    for piece in wire.chunks(1024).chain(eof.then_some(end)) {
        let mut rd = piece;
        // The empty piece is the EOF: one `read_tls` that returns 0.
        let mut at_eof = piece.is_empty();
        while !rd.is_empty() || std::mem::take(&mut at_eof) {
            if let Err(e) = s.read_tls(&mut rd) {
                return (got, Err(Error::other("read_tls", e)));
            }
            let processed = if for_read {
                s.process_for_read()
            } else {
                s.process_new_packets()
            };
            if let Err(e) = processed {
                return (got, Err(e));
            }
            loop {
                match s.read(&mut buf) {
                    Ok(ReadOutcome::Data(n)) => got.extend_from_slice(&buf[..n]),
                    end @ (Ok(ReadOutcome::Closed) | Err(_)) => return (got, end),
                    Ok(ReadOutcome::NeedInput) => break,
                }
            }
        }
    }
    (got, Ok(ReadOutcome::NeedInput))
}

/// `process_for_read` then `read` report what `process_new_packets` then
/// `read` do, whatever the records hold: data then `close_notify`, data
/// then a tampered record, data then a truncated record (and then the
/// transport's EOF). On the OpenSSL
/// family the read does the processing; the outcome must not change.
pub fn process_for_read_reports_what_records_hold<B: Backend>(b: &B) {
    type Tamper = fn(&mut Vec<u8>);
    let endings: [(&str, bool, Tamper); 4] = [
        ("close_notify", true, |_| {}),
        ("tampered", false, |w| {
            let last = w.len() - 1;
            w[last] ^= 1;
        }),
        ("truncated", false, |w| w.truncate(w.len() - 3)),
        ("truncated, then EOF", false, |w| w.truncate(w.len() - 3)),
    ];
    let data = pattern(40_000);
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.min_version = v;
        c.common.max_version = v;
        for (name, close, tamper) in endings {
            let mut ends = Vec::new();
            for for_read in [false, true] {
                let mut p = connect_ok(b, &c, &server_config(pki().server()));
                let mut sent = 0;
                while sent < data.len() {
                    sent += p.client.write(&data[sent..]).expect("write");
                    p.client_to_server_bytes();
                }
                p.client.write(b"tail").expect("write");
                if close {
                    p.client.send_close_notify();
                }
                let mut wire = std::mem::take(p.client_to_server_bytes());
                tamper(&mut wire);
                let eof = name.ends_with("EOF");
                let (got, end) = receive_then(&mut p.server, &wire, for_read, eof);
                let mut want = data.clone();
                if close {
                    want.extend_from_slice(b"tail");
                }
                // Before a tampered record, rustls may fail with data of the
                // same read still unread; the data that did arrive is the
                // data sent, and the same either way.
                assert!(
                    want.starts_with(&got) && (got.len() == want.len() || name == "tampered"),
                    "{v} {name} (process_for_read: {for_read}): {} of {} bytes",
                    got.len(),
                    want.len()
                );
                ends.push((got.len(), format!("{end:?}")));
            }
            assert_eq!(
                ends[0], ends[1],
                "{v} {name}: the same data and end either way"
            );
            let ends: Vec<String> = ends.into_iter().map(|(_, e)| e).collect();
            if close {
                assert_eq!(ends[1], "Ok(Closed)", "{v} {name}");
            } else if name.ends_with("EOF") {
                assert_eq!(ends[1], "Err(UnexpectedEof)", "{v} {name}");
            } else if name == "tampered" {
                assert!(
                    ends[1].starts_with("Err(PeerMisbehaved"),
                    "{v} {name}: {}",
                    ends[1]
                );
            } else {
                assert_eq!(ends[1], "Ok(NeedInput)", "{v} {name}: waits for the rest");
            }
        }
    }
}

/// A client that receives through `process_for_read` stores its tickets all
/// the same: resumption state is there once the server's first flight
/// after the handshake (tickets, then data) was read, on TLS 1.2 and 1.3.
pub fn process_for_read_stores_tickets<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.min_version = v;
        c.common.max_version = v;
        let mut p = pair(b, &c, &server_config(pki().server()), "localhost");
        let (mut greeted, mut got) = (false, Vec::new());
        for _ in 0..20 {
            let c2s = std::mem::take(p.client_to_server_bytes());
            if !c2s.is_empty() {
                p.server.read_tls(&mut &c2s[..]).expect("server read_tls");
                p.server.process_new_packets().expect("server");
                if !p.server.is_handshaking() && !greeted {
                    // BoringSSL sends its TLS 1.3 tickets with the server's
                    // first write.
                    p.server.write(b"hello").expect("server write");
                    greeted = true;
                }
            }
            let s2c = std::mem::take(p.server_to_client_bytes());
            if c2s.is_empty() && s2c.is_empty() && !p.client.is_handshaking() {
                break;
            }
            let (data, end) = receive(&mut p.client, &s2c, true);
            assert!(matches!(end, Ok(ReadOutcome::NeedInput)), "{v}: {end:?}");
            got.extend_from_slice(&data);
        }
        assert!(!p.client.is_handshaking(), "{v}: handshake done");
        assert_eq!(got, b"hello", "{v}");
        let state = p.client.take_resumption().expect("after the handshake");
        assert!(state.is_some(), "{v}: a session to resume");
    }
}

/// A fatal alert from the client mid-handshake (TLS 1.2, after the server's
/// first flight) is `AlertReceived` with that alert on the server.
pub fn peer_sends_fatal_alert<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.max_version = ProtocolVersion::Tls12;
    let mut p = pair(b, &c, &server_config(pki().server()), "localhost");
    p.client_to_server_bytes();
    p.pump().expect("client hello and server flight");
    assert!(p.server.is_handshaking());
    // handshake_failure, as a plaintext alert record, instead of the
    // client's second flight.
    let alert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40];
    p.server.read_tls(&mut &alert[..]).expect("read");
    let r = p.server.process_new_packets();
    assert!(
        matches!(r, Err(Error::AlertReceived(a)) if a == polytls_api::Alert::HANDSHAKE_FAILURE),
        "{r:?}"
    );
}

/// A close_notify before the handshake completes (as the client's first
/// record, and in TLS 1.2 after the server's first flight) ends the
/// connection as `UnexpectedEof`: at once (OpenSSL, BoringSSL) or at the
/// transport EOF that follows (rustls ignores an unauthenticated
/// close_notify), never as a clean close. One exception: OpenSSL rejects any
/// record other than a handshake record before the ClientHello as an
/// unexpected message, `PeerMisbehaved`.
pub fn close_notify_during_handshake<B: Backend>(b: &B) {
    fn finish<D: SessionDriver>(s: &mut Session<D>) -> Result<ReadOutcome, Error> {
        let close_notify = [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00];
        let mut rd = &close_notify[..];
        s.read_tls(&mut rd)
            .map_err(|e| Error::other("read_tls", e))?;
        s.process_new_packets()?;
        assert!(s.is_handshaking(), "a handshake cannot finish on an alert");
        let mut empty: &[u8] = &[];
        s.read_tls(&mut empty)
            .map_err(|e| Error::other("read_tls", e))?;
        s.process_new_packets()?;
        let mut buf = [0u8; 16];
        s.read(&mut buf)
    }

    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("ctx");
    let mut fresh = sc.accept().expect("accept");
    let first = finish(&mut fresh);

    let mut c = client_config();
    c.common.max_version = ProtocolVersion::Tls12;
    let mut p = pair(b, &c, &server_config(pki().server()), "localhost");
    p.client_to_server_bytes();
    p.pump().expect("client hello and server flight");
    let after_flight = finish(&mut p.server);
    let first_ok = match first {
        Err(Error::UnexpectedEof) => true,
        Err(Error::PeerMisbehaved(_)) => {
            crate::quirk(crate::Quirk::RecordBeforeClientHelloMisbehaves)
        }
        _ => false,
    };
    assert!(
        first_ok && matches!(after_flight, Err(Error::UnexpectedEof)),
        "first record: {first:?}; after the server's flight: {after_flight:?}"
    );
}

/// Reads after the peer closed keep reporting `Closed`; writes after our
/// close are `Misuse`; neither panics.
pub fn read_after_close_is_stable<B: Backend>(b: &B) {
    let mut p = connect_ok(b, &client_config(), &server_config(pki().server()));
    p.client.send_close_notify();
    p.pump().expect("pump");
    let mut buf = [0u8; 8];
    for _ in 0..3 {
        assert_eq!(p.server.read(&mut buf).expect("read"), ReadOutcome::Closed);
    }
    assert!(matches!(p.client.write(b"x"), Err(Error::Misuse(_))));
}

/// Random fragmentation of both byte streams (proptest): the handshake
/// completes and data arrives intact whatever the chunk sizes.
pub fn random_fragmentation<B: Backend>(b: &B) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("server ctx");
    let cc = b.client_context(&client_config()).expect("client ctx");
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(1usize..300, 1..12),
        proptest::collection::vec(any::<u8>(), 1..40_000),
    );
    runner
        .run(&strategy, |(fragments, data)| {
            let mut p = crate::pair::Pair::new(
                cc.connect("localhost").expect("c"),
                sc.accept().expect("s"),
            );
            p.fragments = fragments;
            let o = p.handshake();
            prop_assert!(o.client.is_ok() && o.server.is_ok(), "{:?}", o);
            prop_assert_eq!(p.transfer(Side::Client, &data).expect("c->s"), data.clone());
            prop_assert_eq!(p.transfer(Side::Server, &data).expect("s->c"), data);
            Ok(())
        })
        .expect("fragmentation property");
}
