//! The blocking and tokio adapters: over real loopback TCP, and over hostile
//! fake IO (`Pending` every other call, one byte at a time, early EOF).

use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use polytls_api::blocking::Stream;
use polytls_api::tokio_io::{TlsAcceptor, TlsConnector};
use polytls_api::{Backend, Error, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::{client_config, server_config};
use crate::pki::pki;

const IO_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) fn payload() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}

pub(crate) fn upper(data: &[u8]) -> Vec<u8> {
    data.iter().map(|b| b.wrapping_add(1)).collect()
}

/// Contexts for the default server and client, and a loopback listener.
fn tcp_fixture<B: Backend>(
    b: &B,
) -> (
    super::ServerCtx<B>,
    super::ClientCtx<B>,
    std::net::TcpListener,
    std::net::SocketAddr,
) {
    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("server ctx");
    let cc = b.client_context(&client_config()).expect("client ctx");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (sc, cc, listener, addr)
}

/// In-memory IO for a stream: reads `input` (then EOF), keeps what is
/// written.
struct Scripted {
    input: std::io::Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Read::read(&mut self.input, buf)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A blocking `Stream` whose read meets a tampered record fails with
/// `PeerMisbehaved` and tells the peer: the alert reaches the client, on
/// TLS 1.2 and 1.3 (the read, not a probe, processes the record now).
pub fn blocking_read_error_sends_the_alert<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.min_version = v;
        c.common.max_version = v;
        let mut p = super::connect_ok(b, &c, &server_config(pki().server()));
        p.client.write(b"integrity matters").expect("write");
        let mut wire = std::mem::take(p.client_to_server_bytes());
        let last = wire.len() - 1;
        wire[last] ^= 1;
        let crate::pair::Pair {
            mut client, server, ..
        } = p;
        let io = Scripted {
            input: std::io::Cursor::new(wire),
            output: Vec::new(),
        };
        let mut tls = Stream::new(io, server);
        let mut buf = [0u8; 64];
        let err = tls.read(&mut buf).expect_err("a tampered record");
        assert!(
            matches!(Error::from_io(&err), Some(Error::PeerMisbehaved(_))),
            "{v}: {err:?}"
        );
        let (io, _) = tls.into_inner();
        assert!(!io.output.is_empty(), "{v}: an alert was sent");
        client.read_tls(&mut &io.output[..]).expect("read_tls");
        let r = client.process_new_packets();
        assert!(matches!(r, Err(Error::AlertReceived(_))), "{v}: {r:?}");
    }
}

/// The blocking `Stream` over loopback TCP: handshake, echo both ways,
/// close_notify in each direction.
pub fn blocking_over_tcp<B: Backend>(b: &B) {
    let (sc, cc, listener, addr) = tcp_fixture(b);
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let (sock, _) = listener.accept().expect("accept");
            sock.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
            let mut tls = Stream::new(sock, sc.accept().expect("session"));
            let mut got = Vec::new();
            tls.read_to_end(&mut got)
                .expect("server reads to clean EOF");
            tls.write_all(&upper(&got)).expect("reply");
            tls.shutdown().expect("shutdown");
            got.len()
        });
        let sock = std::net::TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let session = cc.connect("localhost").expect("session");
        let mut tls = Stream::new(sock, session);
        tls.handshake().expect("handshake");
        assert!(tls.get_ref().1.info().version.is_some());
        let data = payload();
        tls.write_all(&data).expect("write");
        tls.shutdown().expect("close_notify");
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply)
            .expect("read reply to clean EOF");
        assert_eq!(reply, upper(&data));
        assert_eq!(server.join().expect("server thread"), data.len());
    });
}

/// The blocking `Stream` reports a peer that closes TCP without close_notify
/// as `UnexpectedEof`.
pub fn blocking_truncation_is_error<B: Backend>(b: &B) {
    let (sc, cc, listener, addr) = tcp_fixture(b);
    std::thread::scope(|s| {
        s.spawn(|| {
            let (sock, _) = listener.accept().expect("accept");
            let mut tls = Stream::new(sock, sc.accept().expect("s"));
            tls.write_all(b"cut short").expect("write");
            // Drop without shutdown: TCP FIN, no close_notify.
        });
        let sock = std::net::TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let mut tls = Stream::new(sock, cc.connect("localhost").expect("c"));
        let mut got = Vec::new();
        let err = tls
            .read_to_end(&mut got)
            .expect_err("truncation must be an error");
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(matches!(Error::from_io(&err), Some(Error::UnexpectedEof)));
        assert_eq!(got, b"cut short");
    });
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The tokio adapter over loopback TCP: connector and acceptor, echo, clean
/// shutdown, `get_ref` and `into_inner`.
pub fn tokio_over_tcp<B: Backend>(b: &B) {
    let acceptor = TlsAcceptor::new(b.server_context(&server_config(pki().server())).expect("s"));
    let connector = TlsConnector::new(b.client_context(&client_config()).expect("c"));
    runtime().block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.expect("accept");
            let mut tls = acceptor.accept(sock).await.expect("server handshake");
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.expect("read to clean EOF");
            tls.write_all(&upper(&got)).await.expect("reply");
            tls.shutdown().await.expect("shutdown");
            got.len()
        });
        let sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut tls = tokio::time::timeout(IO_TIMEOUT, connector.connect("localhost", sock))
            .await
            .expect("no hang")
            .expect("client handshake");
        assert_eq!(tls.get_ref().1.info().sni.as_deref(), Some("localhost"));
        let data = payload();
        tls.write_all(&data).await.expect("write");
        tls.shutdown().await.expect("close_notify");
        let mut reply = Vec::new();
        tokio::time::timeout(IO_TIMEOUT, tls.read_to_end(&mut reply))
            .await
            .expect("no hang")
            .expect("read reply");
        assert_eq!(reply, upper(&data));
        assert_eq!(server.await.expect("server task"), data.len());
        let (_tcp, session) = tls.into_inner();
        assert!(session.info().version.is_some());
    });
}

/// Transport that returns `Pending` on every other call in each direction and
/// moves at most one byte per call.
pub(crate) struct Hostile<IO> {
    io: IO,
    read_flip: bool,
    write_flip: bool,
}

impl<IO> Hostile<IO> {
    pub(crate) fn new(io: IO) -> Self {
        Self {
            io,
            read_flip: false,
            write_flip: true,
        }
    }
}

fn stall(flip: &mut bool, cx: &mut Context<'_>) -> bool {
    *flip = !*flip;
    if *flip {
        cx.waker().wake_by_ref();
    }
    *flip
}

impl<IO: AsyncRead + Unpin> AsyncRead for Hostile<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if stall(&mut self.read_flip, cx) {
            return Poll::Pending;
        }
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut one = [0u8; 1];
        let mut rb = ReadBuf::new(&mut one);
        let r = Pin::new(&mut self.io).poll_read(cx, &mut rb);
        if let Poll::Ready(Ok(())) = r {
            buf.put_slice(rb.filled());
        }
        r
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Hostile<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if stall(&mut self.write_flip, cx) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_write(cx, &buf[..buf.len().min(1)])
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Over hostile IO on both ends the handshake and a transfer still complete
/// with every byte in order.
pub fn tokio_hostile_io<B: Backend>(b: &B) {
    let acceptor = TlsAcceptor::new(b.server_context(&server_config(pki().server())).expect("s"));
    let connector = TlsConnector::new(b.client_context(&client_config()).expect("c"));
    runtime().block_on(async move {
        let (a, z) = tokio::io::duplex(64);
        let server = tokio::spawn(async move {
            let mut tls = acceptor.accept(Hostile::new(z)).await.expect("server");
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.expect("read");
            tls.write_all(&upper(&got)).await.expect("write");
            tls.shutdown().await.expect("shutdown");
        });
        let mut tls = connector
            .connect("localhost", Hostile::new(a))
            .await
            .expect("client");
        let data: Vec<u8> = payload()[..5000].to_vec();
        tls.write_all(&data).await.expect("write");
        tls.shutdown().await.expect("shutdown");
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await.expect("read");
        assert_eq!(reply, upper(&data));
        server.await.expect("server task");
    });
}

/// A transport that ends during the handshake fails the tokio handshake with
/// `UnexpectedEof` instead of hanging.
pub fn tokio_early_eof<B: Backend>(b: &B) {
    let connector = TlsConnector::new(b.client_context(&client_config()).expect("c"));
    runtime().block_on(async move {
        let (a, mut z) = tokio::io::duplex(64 * 1024);
        let peer = tokio::spawn(async move {
            let mut hello = [0u8; 5];
            z.read_exact(&mut hello).await.expect("client hello header");
            drop(z);
        });
        let err = connector
            .connect("localhost", a)
            .await
            .map(|_| ())
            .expect_err("EOF mid-handshake");
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
        peer.await.expect("peer");
    });
}

/// One step a writer takes through an adapter.
#[derive(Debug, Clone)]
enum Op {
    Write(usize),
    Flush,
}

fn ops_strategy() -> impl proptest::strategy::Strategy<Value = (Vec<Op>, bool, Vec<usize>)> {
    use proptest::prelude::*;
    let op = prop_oneof![4 => (1usize..9000).prop_map(Op::Write), 1 => Just(Op::Flush)];
    (
        proptest::collection::vec(op, 0..12),
        any::<bool>(),
        proptest::collection::vec(1usize..5000, 1..6),
    )
}

/// Model check of the tokio adapter (proptest): any interleaving of writes
/// and flushes, with or without a final shutdown, read back in arbitrary
/// chunk sizes, delivers exactly the bytes written, in order, once; the
/// reader sees a clean end only after a shutdown, `UnexpectedEof` otherwise.
pub fn adapter_interleavings_tokio<B: Backend>(b: &B) {
    use proptest::test_runner::{Config, TestRunner};

    let acceptor = TlsAcceptor::new(b.server_context(&server_config(pki().server())).expect("s"));
    let connector = TlsConnector::new(b.client_context(&client_config()).expect("c"));
    let rt = runtime();
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&ops_strategy(), |(ops, shutdown, chunks)| {
            let (acceptor, connector) = (acceptor.clone(), connector.clone());
            rt.block_on(async move {
                let (a, z) = tokio::io::duplex(4096);
                let reader = tokio::spawn(async move {
                    let mut tls = acceptor.accept(z).await.expect("server handshake");
                    let mut got = Vec::new();
                    let mut buf = vec![0u8; 8192];
                    for i in 0.. {
                        let n = chunks[i % chunks.len()];
                        match tls.read(&mut buf[..n]).await {
                            Ok(0) => return (got, Ok(())),
                            Ok(k) => got.extend_from_slice(&buf[..k]),
                            Err(e) => return (got, Err(e.kind())),
                        }
                    }
                    unreachable!()
                });
                let mut tls = connector
                    .connect("localhost", a)
                    .await
                    .expect("client handshake");
                let mut model = Vec::new();
                for op in &ops {
                    match op {
                        Op::Write(n) => {
                            let data: Vec<u8> = (0..*n).map(|i| (model.len() + i) as u8).collect();
                            tls.write_all(&data).await.expect("write");
                            model.extend_from_slice(&data);
                        }
                        Op::Flush => tls.flush().await.expect("flush"),
                    }
                }
                if shutdown {
                    tls.shutdown().await.expect("shutdown");
                } else {
                    tls.flush().await.expect("flush");
                }
                drop(tls);
                let (got, end) = reader.await.expect("reader");
                proptest::prop_assert_eq!(&got, &model);
                if shutdown {
                    proptest::prop_assert_eq!(end, Ok(()));
                } else {
                    proptest::prop_assert_eq!(end, Err(std::io::ErrorKind::UnexpectedEof));
                }
                Ok(())
            })
        })
        .expect("tokio adapter model");
}

/// The same model check through the blocking adapter over a socket pair.
pub fn adapter_interleavings_blocking<B: Backend>(b: &B) {
    use proptest::test_runner::{Config, TestRunner};

    let sc = b.server_context(&server_config(pki().server())).expect("s");
    let cc = b.client_context(&client_config()).expect("c");
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&ops_strategy(), |(ops, shutdown, chunks)| {
            let (a, z) = std::os::unix::net::UnixStream::pair().expect("socket pair");
            z.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
            let session = sc.accept().expect("s");
            let reader = std::thread::spawn(move || {
                let mut tls = Stream::new(z, session);
                let mut got = Vec::new();
                let mut buf = vec![0u8; 8192];
                for i in 0.. {
                    let n = chunks[i % chunks.len()];
                    match tls.read(&mut buf[..n]) {
                        Ok(0) => return (got, Ok(())),
                        Ok(k) => got.extend_from_slice(&buf[..k]),
                        Err(e) => return (got, Err(e.kind())),
                    }
                }
                unreachable!()
            });
            let mut tls = Stream::new(a, cc.connect("localhost").expect("c"));
            let mut model = Vec::new();
            for op in &ops {
                match op {
                    Op::Write(n) => {
                        let data: Vec<u8> = (0..*n).map(|i| (model.len() + i) as u8).collect();
                        tls.write_all(&data).expect("write");
                        model.extend_from_slice(&data);
                    }
                    Op::Flush => tls.flush().expect("flush"),
                }
            }
            tls.handshake().expect("handshake");
            if shutdown {
                tls.shutdown().expect("shutdown");
            }
            drop(tls);
            let (got, end) = reader.join().expect("reader");
            proptest::prop_assert_eq!(&got, &model);
            if shutdown {
                proptest::prop_assert_eq!(end, Ok(()));
            } else {
                // Never a clean end. A socket closed with unread data in it
                // (tickets the writer never read) is reported by the kernel
                // as a reset rather than an EOF; either way it is an error.
                proptest::prop_assert!(
                    matches!(
                        end,
                        Err(std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset)
                    ),
                    "{:?}",
                    end
                );
            }
            Ok(())
        })
        .expect("blocking adapter model");
}

/// Closing a stream before any read or write first completes the handshake,
/// then sends close_notify: the peer reads a clean, empty stream, on both
/// adapters. (Found by the `adapters` fuzz target: the blocking adapter used
/// to send close_notify in the middle of the handshake.)
pub fn shutdown_before_first_use<B: Backend>(b: &B) {
    let (sc, cc, listener, addr) = tcp_fixture(b);
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let (sock, _) = listener.accept().expect("accept");
            sock.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
            let mut tls = Stream::new(sock, sc.accept().expect("s"));
            let mut got = Vec::new();
            tls.read_to_end(&mut got).expect("a clean, empty stream");
            tls.shutdown().expect("shutdown");
            got
        });
        let sock = std::net::TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let session = cc.connect("localhost").expect("c");
        let mut tls = Stream::new(sock, session);
        tls.shutdown().expect("shutdown before first use");
        assert!(
            !tls.get_ref().1.is_handshaking(),
            "shutdown completes the handshake"
        );
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest)
            .expect("the server's clean close");
        assert!(rest.is_empty());
        assert!(server.join().expect("server thread").is_empty());
    });

    runtime().block_on(async {
        let (a, b2) = tokio::io::duplex(4096);
        let acceptor = TlsAcceptor::new(sc);
        let session = cc.connect("localhost").expect("c");
        let client = async {
            let mut tls = polytls_api::tokio_io::TlsStream::new(a, session);
            tls.shutdown().await?;
            assert!(
                !tls.get_ref().1.is_handshaking(),
                "shutdown completes the handshake"
            );
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).await?;
            Ok::<_, std::io::Error>(rest)
        };
        let server = async {
            let mut tls = acceptor.accept(b2).await?;
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await?;
            tls.shutdown().await?;
            Ok::<_, std::io::Error>(got)
        };
        let (c, s) = tokio::join!(client, server);
        assert!(c.expect("tokio client").is_empty());
        assert!(s.expect("tokio server").is_empty());
    });
}
