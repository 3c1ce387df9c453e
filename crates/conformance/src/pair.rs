//! An in-memory client/server pair: moves ciphertext between two sessions
//! with no sockets, optionally in fragments of chosen sizes.

use polytls_api::driver::SessionDriver;
use polytls_api::{Error, ReadOutcome, Session};

/// Which end of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client.
    Client,
    /// The server.
    Server,
}

/// How both ends of a handshake ended.
#[derive(Debug)]
pub struct Outcome {
    /// The client's result.
    pub client: Result<(), Error>,
    /// The server's result.
    pub server: Result<(), Error>,
}

impl Outcome {
    /// Panics with both results unless both ends succeeded.
    #[track_caller]
    pub fn expect_ok(&self) {
        assert!(
            self.client.is_ok() && self.server.is_ok(),
            "handshake failed: {self:?}"
        );
    }

    /// The client's error; panics if it succeeded.
    #[track_caller]
    pub fn client_err(&self) -> &Error {
        self.client
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("client succeeded: {self:?}"))
    }

    /// The server's error; panics if it succeeded.
    #[track_caller]
    pub fn server_err(&self) -> &Error {
        self.server
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("server succeeded: {self:?}"))
    }
}

/// A client session and a server session joined by in-memory byte queues.
pub struct Pair<C, S> {
    /// The client end.
    pub client: Session<C>,
    /// The server end.
    pub server: Session<S>,
    c2s: Vec<u8>,
    s2c: Vec<u8>,
    /// Sizes of successive `read_tls` feeds (cycled); empty means "all at once".
    pub fragments: Vec<usize>,
    frag_at: usize,
    /// What each side was fed, in order, up to [`TRANSCRIPT_LIMIT`] bytes:
    /// the client's bytes (delivered to the server), then the server's.
    transcript: [Vec<u8>; 2],
}

/// How much of each direction a pair keeps for [`Pair::sent`]: the
/// handshake, not bulk data.
pub const TRANSCRIPT_LIMIT: usize = 64 * 1024;

fn drain<T: SessionDriver>(from: &mut Session<T>, into: &mut Vec<u8>) -> bool {
    let before = into.len();
    while from.wants_write() {
        match from.write_tls(into) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    into.len() > before
}

/// Feeds up to `n` queued bytes to `session` and processes them; `None` when
/// the session takes no more input for now.
fn feed<T: SessionDriver>(
    queue: &mut Vec<u8>,
    session: &mut Session<T>,
    n: usize,
    transcript: &mut Vec<u8>,
) -> Result<Option<usize>, Error> {
    let mut rd: &[u8] = &queue[..n];
    let Ok(used) = session.read_tls(&mut rd) else {
        return Ok(None);
    };
    let keep = used.min(TRANSCRIPT_LIMIT.saturating_sub(transcript.len()));
    transcript.extend_from_slice(&queue[..keep]);
    queue.drain(..used);
    session.process_new_packets()?;
    Ok(Some(used))
}

fn stall(what: &str) -> Error {
    Error::other(what.to_owned(), std::io::Error::other(what.to_owned()))
}

fn stalled(handshaking: bool) -> Result<(), Error> {
    if handshaking {
        Err(stall("handshake stalled with nothing left to send"))
    } else {
        Ok(())
    }
}

fn eof<T: SessionDriver>(session: &mut Session<T>) -> Result<ReadOutcome, Error> {
    let mut empty: &[u8] = &[];
    let n = session
        .read_tls(&mut empty)
        .map_err(|e| Error::other("read_tls", e))?;
    assert_eq!(n, 0, "an empty reader is EOF");
    session.process_new_packets()?;
    let mut buf = [0u8; 64];
    session.read(&mut buf)
}

fn read_all<T: SessionDriver>(session: &mut Session<T>) -> Result<(Vec<u8>, bool), Error> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match session.read(&mut buf)? {
            ReadOutcome::Data(n) => out.extend_from_slice(&buf[..n]),
            ReadOutcome::NeedInput => return Ok((out, false)),
            ReadOutcome::Closed => return Ok((out, true)),
        }
    }
}

impl<C: SessionDriver, S: SessionDriver> Pair<C, S> {
    /// Joins `client` and `server`.
    pub fn new(client: Session<C>, server: Session<S>) -> Self {
        Self {
            client,
            server,
            c2s: Vec::new(),
            s2c: Vec::new(),
            fragments: Vec::new(),
            frag_at: 0,
            transcript: [Vec::new(), Vec::new()],
        }
    }

    /// The bytes `side` sent that the other side has taken, in order (the
    /// first [`TRANSCRIPT_LIMIT`] of them).
    pub fn sent(&self, side: Side) -> &[u8] {
        match side {
            Side::Client => &self.transcript[0],
            Side::Server => &self.transcript[1],
        }
    }

    fn next_fragment(&mut self, left: usize) -> usize {
        if self.fragments.is_empty() {
            return left;
        }
        let f = self.fragments[self.frag_at % self.fragments.len()].max(1);
        self.frag_at += 1;
        f.min(left)
    }

    /// Feeds queued ciphertext to one side; stops when it is consumed or the
    /// session will not take more until plaintext is read.
    fn deliver(&mut self, to: Side) -> Result<bool, Error> {
        let mut moved = false;
        loop {
            let left = match to {
                Side::Client => self.s2c.len(),
                Side::Server => self.c2s.len(),
            };
            if left == 0 {
                return Ok(moved);
            }
            let n = self.next_fragment(left);
            let fed = match to {
                Side::Client => feed(&mut self.s2c, &mut self.client, n, &mut self.transcript[1])?,
                Side::Server => feed(&mut self.c2s, &mut self.server, n, &mut self.transcript[0])?,
            };
            let Some(used) = fed else {
                // The session's buffers are full: the caller reads plaintext
                // first, then delivery resumes.
                return Ok(moved);
            };
            moved |= used > 0;
            if used == 0 {
                return Ok(moved);
            }
        }
    }

    /// Moves bytes both ways once; returns whether anything moved. Errors are
    /// tagged with the side that raised them.
    pub fn pump(&mut self) -> Result<bool, (Side, Error)> {
        let mut moved = drain(&mut self.client, &mut self.c2s);
        moved |= self.deliver(Side::Server).map_err(|e| (Side::Server, e))?;
        moved |= drain(&mut self.server, &mut self.s2c);
        moved |= self.deliver(Side::Client).map_err(|e| (Side::Client, e))?;
        Ok(moved)
    }

    /// Runs the handshake on both ends until neither has anything to say,
    /// then reports how each ended. After one side fails, its last words
    /// (usually an alert) are still delivered to the other.
    pub fn handshake(&mut self) -> Outcome {
        let (mut client, mut server) = (None, None);
        for _ in 0..1000 {
            let mut moved = false;
            moved |= drain(&mut self.client, &mut self.c2s);
            if server.is_none() {
                match self.deliver(Side::Server) {
                    Ok(m) => moved |= m,
                    Err(e) => server = Some(e),
                }
            }
            moved |= drain(&mut self.server, &mut self.s2c);
            if client.is_none() {
                match self.deliver(Side::Client) {
                    Ok(m) => moved |= m,
                    Err(e) => client = Some(e),
                }
            }
            if !moved {
                break;
            }
        }
        Outcome {
            client: client.map_or_else(|| stalled(self.client.is_handshaking()), Err),
            server: server.map_or_else(|| stalled(self.server.is_handshaking()), Err),
        }
    }

    /// Sends `data` from `from` to the other side and returns what the other
    /// side read (all of it, unless an error or the end of stream came first).
    pub fn transfer(&mut self, from: Side, data: &[u8]) -> Result<Vec<u8>, (Side, Error)> {
        let mut sent = 0;
        let mut got = Vec::with_capacity(data.len());
        let mut buf = vec![0u8; 32 * 1024];
        let mut idle = 0;
        while got.len() < data.len() {
            if sent < data.len() {
                let w = match from {
                    Side::Client => self.client.write(&data[sent..]),
                    Side::Server => self.server.write(&data[sent..]),
                };
                sent += w.map_err(|e| (from, e))?;
            }
            let moved = self.pump()?;
            let to = match from {
                Side::Client => Side::Server,
                Side::Server => Side::Client,
            };
            let mut read_any = false;
            loop {
                let r = match to {
                    Side::Client => self.client.read(&mut buf),
                    Side::Server => self.server.read(&mut buf),
                };
                match r.map_err(|e| (to, e))? {
                    ReadOutcome::Data(n) => {
                        got.extend_from_slice(&buf[..n]);
                        read_any = true;
                    }
                    ReadOutcome::NeedInput => break,
                    ReadOutcome::Closed => return Ok(got),
                }
            }
            idle = if moved || read_any { 0 } else { idle + 1 };
            if idle > 3 {
                return Err((to, stall("transfer stalled")));
            }
        }
        Ok(got)
    }

    /// Feeds a transport EOF to `to` and reports what its next read says.
    pub fn eof_to(&mut self, to: Side) -> Result<ReadOutcome, Error> {
        self.pump().map_err(|(_, e)| e)?;
        match to {
            Side::Client => eof(&mut self.client),
            Side::Server => eof(&mut self.server),
        }
    }

    /// Reads everything the `side` has received until it needs input or the
    /// stream ends; returns the bytes and whether the stream ended cleanly.
    pub fn read_all(&mut self, side: Side) -> Result<(Vec<u8>, bool), Error> {
        match side {
            Side::Client => read_all(&mut self.client),
            Side::Server => read_all(&mut self.server),
        }
    }

    /// Raw access to the queued client→server bytes (for tampering tests).
    pub fn client_to_server_bytes(&mut self) -> &mut Vec<u8> {
        drain(&mut self.client, &mut self.c2s);
        &mut self.c2s
    }

    /// Raw access to the queued server→client bytes (for tampering tests).
    pub fn server_to_client_bytes(&mut self) -> &mut Vec<u8> {
        drain(&mut self.server, &mut self.s2c);
        &mut self.s2c
    }
}
