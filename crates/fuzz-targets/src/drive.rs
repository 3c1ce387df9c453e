//! Feeding bytes to one session, and the outcome classes the differential
//! target compares.

use polytls_api::driver::SessionDriver;
use polytls_api::{ReadOutcome, Session};

/// A session of a backend chosen at run time.
pub type DynSession = Session<Box<dyn SessionDriver>>;

use crate::fixtures::fixtures;

/// How a session ended up after being fed a byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// No error; still handshaking, waiting for more input.
    Handshaking,
    /// Handshake complete, no error.
    Established,
    /// The peer's close_notify was read.
    Closed,
    /// An error of this category.
    Error(&'static str),
}

/// Upper bound on feed rounds, so a session that keeps asking for nothing
/// cannot spin forever.
const MAX_ROUNDS: usize = 10_000;

/// Feeds `input` to `session` in chunks of `chunk` bytes (0 = all at once),
/// draining its output and plaintext as it goes; then, if `eof`, a
/// transport EOF. Returns the class and the bytes the session wrote.
pub fn feed(session: &mut DynSession, input: &[u8], chunk: usize, eof: bool) -> (Class, Vec<u8>) {
    let mut out = Vec::new();
    let mut rest = input;
    let mut plain = [0u8; 4096];
    for _ in 0..MAX_ROUNDS {
        drain(session, &mut out);
        let at_end = rest.is_empty();
        if at_end && !eof {
            break;
        }
        let n = if chunk == 0 {
            rest.len()
        } else {
            chunk.min(rest.len())
        };
        let mut rd: &[u8] = &rest[..n];
        match session.read_tls(&mut rd) {
            Ok(used) => rest = &rest[used..],
            Err(_) => break,
        }
        if let Err(e) = session.process_new_packets() {
            drain(session, &mut out);
            return (Class::Error(e.category()), out);
        }
        loop {
            match session.read(&mut plain) {
                Ok(ReadOutcome::Data(_)) => continue,
                Ok(ReadOutcome::NeedInput) => break,
                Ok(ReadOutcome::Closed) => return (Class::Closed, out),
                Err(e) => return (Class::Error(e.category()), out),
            }
        }
        if at_end {
            break;
        }
    }
    drain(session, &mut out);
    let class = if session.is_handshaking() {
        Class::Handshaking
    } else {
        Class::Established
    };
    (class, out)
}

/// Collects everything the session wants to write.
pub fn drain(session: &mut DynSession, out: &mut Vec<u8>) {
    while session.wants_write() {
        match session.write_tls(out) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// The first input byte picks the chunk size and whether EOF follows.
fn split(data: &[u8]) -> (usize, bool, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) => (usize::from(b & 0x7f), b & 0x80 != 0, rest),
        None => (0, false, data),
    }
}

/// A server session (with and without client-certificate requests) fed
/// arbitrary bytes.
pub fn server_session(data: &[u8]) {
    let (chunk, eof, input) = split(data);
    for f in fixtures() {
        for ctx in [&f.server, &f.server_mtls] {
            if let Ok(mut s) = ctx.accept() {
                let _ = feed(&mut s, input, chunk, eof);
            }
        }
    }
}

/// A client session that has sent a real ClientHello, fed arbitrary bytes
/// as the server's answer.
pub fn client_session(data: &[u8]) {
    let (chunk, eof, input) = split(data);
    for f in fixtures() {
        if let Ok(mut c) = f.client.connect("localhost") {
            let mut hello = Vec::new();
            drain(&mut c, &mut hello);
            let _ = feed(&mut c, input, chunk, eof);
        }
    }
}
