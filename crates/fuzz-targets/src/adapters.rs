//! The blocking and tokio adapters over transports that move arbitrary
//! chunk sizes and (tokio) return `Pending` at arbitrary points: the bytes
//! must arrive intact, in order, once, and the clean end must be seen.

use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use polytls_api::blocking;
use polytls_api::tokio_io::{TlsAcceptor, TlsConnector};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::fixtures::fixtures;

/// A transport whose every call moves at most `pattern[i]`-derived bytes,
/// and (async) sometimes answers `Pending` first, waking itself so the
/// executor polls again. Never twice in a row for the same operation, so a
/// read that has data does get it on the next poll: a transport that is
/// spuriously `Pending` forever would be unfair, not hostile.
struct Chunky<IO> {
    io: IO,
    pattern: Vec<u8>,
    at: usize,
    pended: [bool; 2],
}

impl<IO> Chunky<IO> {
    fn new(io: IO, pattern: &[u8]) -> Self {
        let pattern = if pattern.is_empty() {
            vec![255]
        } else {
            pattern.to_vec()
        };
        Self {
            io,
            pattern,
            at: 0,
            pended: [false; 2],
        }
    }

    /// `None` = answer Pending this time; else the byte limit. `op` is 0
    /// for reads, 1 for writes.
    fn next(&mut self, op: usize) -> Option<usize> {
        let v = self.pattern[self.at % self.pattern.len()];
        self.at += 1;
        if v % 4 == 0 && !self.pended[op] {
            self.pended[op] = true;
            return None;
        }
        self.pended[op] = false;
        Some(usize::from(v % 64) + 1)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Chunky<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let Some(limit) = self.next(0) else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        let mut tmp = [0u8; 64];
        let limit = limit.min(buf.remaining());
        let mut sub = ReadBuf::new(&mut tmp[..limit]);
        match Pin::new(&mut self.io).poll_read(cx, &mut sub) {
            Poll::Ready(Ok(())) => {
                buf.put_slice(sub.filled());
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Chunky<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let Some(limit) = self.next(1) else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        let n = limit.min(data.len());
        Pin::new(&mut self.io).poll_write(cx, &data[..n])
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl<IO: Read> Read for Chunky<IO> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.next(0).unwrap_or(1).min(buf.len());
        self.io.read(&mut buf[..n])
    }
}

impl<IO: Write> Write for Chunky<IO> {
    /// Blocking writes are short but not tiny: each socket write costs
    /// kernel buffer space far beyond its bytes, and a blocking transport
    /// that cannot hold one flight deadlocks any two peers that write at
    /// once (tickets one way, data the other), TLS or not.
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = (self.next(1).unwrap_or(1) * 64).min(data.len());
        self.io.write(&data[..n])
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.io.flush()
    }
}

/// Layout: byte 0 picks backends and the adapter; byte 1 the payload length
/// (x 64); then the chunk pattern for the client's and the server's transport.
pub fn run(data: &[u8]) {
    let [sel, len, pattern @ ..] = data else {
        return;
    };
    let fx = fixtures();
    let client = &fx[usize::from(sel & 1) % fx.len()];
    let server = &fx[usize::from((sel >> 1) & 1) % fx.len()];
    let payload: Vec<u8> = (0..usize::from(*len) * 64)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let (pc, ps) = pattern.split_at(pattern.len() / 2);
    if sel & 4 == 0 {
        tokio_pair(client, server, &payload, pc, ps);
    } else {
        blocking_pair(client, server, &payload, pc, ps);
    }
}

fn tokio_pair(
    client: &crate::fixtures::Fixture,
    server: &crate::fixtures::Fixture,
    payload: &[u8],
    pc: &[u8],
    ps: &[u8],
) {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(_) => return,
    };
    let (a, b) = tokio::io::duplex(512);
    let connector = TlsConnector::new(client.client.clone());
    let acceptor = TlsAcceptor::new(server.server.clone());
    rt.block_on(async {
        let c = async {
            let mut tls = connector.connect("localhost", Chunky::new(a, pc)).await?;
            tls.write_all(payload).await?;
            tls.shutdown().await?;
            let mut answer = Vec::new();
            tls.read_to_end(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        let s = async {
            let mut tls = acceptor.accept(Chunky::new(b, ps)).await?;
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await?;
            tls.write_all(b"ok").await?;
            tls.shutdown().await?;
            Ok::<_, std::io::Error>(got)
        };
        let (answer, got) = tokio::join!(c, s);
        check(answer, got, payload);
    });
}

fn blocking_pair(
    client: &crate::fixtures::Fixture,
    server: &crate::fixtures::Fixture,
    payload: &[u8],
    pc: &[u8],
    ps: &[u8],
) {
    let Ok((a, b)) = std::os::unix::net::UnixStream::pair() else {
        return;
    };
    for s in [&a, &b] {
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    }
    let (Ok(cs), Ok(ss)) = (client.client.connect("localhost"), server.server.accept()) else {
        return;
    };
    let ps = ps.to_vec();
    let server_thread = std::thread::spawn(move || {
        let mut tls = blocking::Stream::new(Chunky::new(b, &ps), ss);
        let mut got = Vec::new();
        tls.read_to_end(&mut got)?;
        tls.write_all(b"ok")?;
        tls.shutdown()?;
        Ok::<_, std::io::Error>(got)
    });
    let mut tls = blocking::Stream::new(Chunky::new(a, pc), cs);
    let answer = (|| {
        tls.write_all(payload)?;
        tls.shutdown()?;
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer)?;
        Ok::<_, std::io::Error>(answer)
    })();
    let got = server_thread.join().expect("server thread panicked");
    check(answer, got, payload);
}

/// Both ends succeeded, the server got exactly the payload, the client the answer.
fn check(answer: std::io::Result<Vec<u8>>, got: std::io::Result<Vec<u8>>, payload: &[u8]) {
    let (answer, got) = (
        answer.expect("client side failed"),
        got.expect("server side failed"),
    );
    assert!(
        got == payload,
        "the server received {} bytes, not the {} sent",
        got.len(),
        payload.len()
    );
    assert_eq!(answer, b"ok");
}
