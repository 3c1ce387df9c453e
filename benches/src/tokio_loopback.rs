//! tokio over loopback TCP: polytls' tokio adapter against each library's
//! own (tokio-rustls, tokio-openssl, tokio-boring), same configurations.
//! Both ends run on one current-thread runtime, so a figure is the cost of
//! the pair plus the kernel's loopback work, which is the same for both.
//!
//! Groups: `tokio-handshake/<case>/<backend>` (a TCP connect, accept and
//! full TLS handshake per iteration) and `tokio-throughput/<case>/<backend>`
//! (one write of the size through an established connection, read by the
//! other end); functions `polytls-pair` and `direct-pair`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use criterion::{BenchmarkGroup, Criterion, Throughput};
use polytls_api::driver::{ClientDriver, ServerDriver};
use polytls_api::tokio_io::{TlsAcceptor, TlsConnector, TlsStream};
use polytls_api::Backend;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Runtime;

use crate::{handshake_cases, Params, BULK_SUITES};

/// A TLS library's tokio adapter: each end over a TCP stream.
pub trait TokioTls {
    /// The client's TLS stream.
    type Client: AsyncRead + AsyncWrite + Unpin;
    /// The server's TLS stream.
    type Server: AsyncRead + AsyncWrite + Unpin;
    /// A client handshake (server name "localhost") over `tcp`.
    fn connect(&self, tcp: TcpStream) -> impl Future<Output = Self::Client>;
    /// A server handshake over `tcp`.
    fn accept(&self, tcp: TcpStream) -> impl Future<Output = Self::Server>;
}

/// polytls' tokio adapter on one backend.
pub struct PolytlsTokio<B: Backend> {
    connector: TlsConnector<B::ClientDriver>,
    acceptor: TlsAcceptor<B::ServerDriver>,
}

impl<B: Backend> PolytlsTokio<B> {
    /// Contexts for `params` on `backend`.
    pub fn new(backend: &B, params: &Params) -> Self {
        let (c, s) = params.configs();
        Self {
            connector: TlsConnector::new(backend.client_context(&c).expect("client context")),
            acceptor: TlsAcceptor::new(backend.server_context(&s).expect("server context")),
        }
    }
}

impl<B: Backend> TokioTls for PolytlsTokio<B> {
    type Client = TlsStream<TcpStream, <B::ClientDriver as ClientDriver>::Session>;
    type Server = TlsStream<TcpStream, <B::ServerDriver as ServerDriver>::Session>;
    async fn connect(&self, tcp: TcpStream) -> Self::Client {
        self.connector
            .connect("localhost", tcp)
            .await
            .expect("polytls connect")
    }
    async fn accept(&self, tcp: TcpStream) -> Self::Server {
        self.acceptor.accept(tcp).await.expect("polytls accept")
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime")
}

/// Socket buffer sizes for the transfer cases. Fixed sizes turn the
/// kernel's buffer auto-tuning off: with it, the same case measured 1.2 or
/// 2.4 GiB/s from one process to the next, depending on where auto-tuning
/// settled on each new connection.
const SOCKET_BUFFER: u32 = 1 << 20;

/// A listener on 127.0.0.1, port 0; with `fixed_buffers`, accepted sockets
/// inherit [`SOCKET_BUFFER`] sizes.
fn listener(fixed_buffers: bool) -> std::io::Result<TcpListener> {
    let sock = TcpSocket::new_v4()?;
    if fixed_buffers {
        sock.set_send_buffer_size(SOCKET_BUFFER)?;
        sock.set_recv_buffer_size(SOCKET_BUFFER)?;
    }
    sock.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    sock.listen(1024)
}

async fn tcp_pair(
    listener: &TcpListener,
    addr: SocketAddr,
    fixed_buffers: bool,
) -> (TcpStream, TcpStream) {
    let connect = async {
        let sock = TcpSocket::new_v4()?;
        if fixed_buffers {
            sock.set_send_buffer_size(SOCKET_BUFFER)?;
            sock.set_recv_buffer_size(SOCKET_BUFFER)?;
        }
        sock.connect(addr).await
    };
    let (c, s) = tokio::join!(connect, listener.accept());
    let c = c.expect("connect");
    let s = s.expect("accept").0;
    c.set_nodelay(true).expect("nodelay");
    s.set_nodelay(true).expect("nodelay");
    (c, s)
}

/// One TCP connection and TLS handshake; the server end is dropped first so
/// TIME_WAIT stays off the client's ephemeral ports.
pub async fn handshake_once<T: TokioTls>(tls: &T, listener: &TcpListener, addr: SocketAddr) {
    let (c, s) = tcp_pair(listener, addr, false).await;
    let (c, s) = tokio::join!(tls.connect(c), tls.accept(s));
    drop(s);
    drop(c);
}

/// One `data` write from the client, read in full by the server.
pub async fn transfer_once<C, S>(c: &mut C, s: &mut S, data: &[u8], buf: &mut [u8])
where
    C: AsyncWrite + Unpin,
    S: AsyncRead + Unpin,
{
    let write = async {
        c.write_all(data).await.expect("write");
        c.flush().await.expect("flush");
    };
    let read = async {
        let mut got = 0;
        while got < data.len() {
            let n = s.read(buf).await.expect("read");
            assert!(n > 0, "early EOF");
            got += n;
        }
    };
    tokio::join!(write, read);
}

fn bench_handshake<T: TokioTls>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    func: &str,
    tls: &T,
) {
    let rt = runtime();
    let (listener, addr) = rt.block_on(async {
        let l = listener(false).expect("listen");
        let a = l.local_addr().expect("addr");
        (l, a)
    });
    rt.block_on(handshake_once(tls, &listener, addr));
    g.bench_function(func, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    handshake_once(tls, &listener, addr).await;
                }
                start.elapsed()
            })
        })
    });
}

fn bench_transfer<T: TokioTls>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    func: &str,
    tls: &T,
    size: usize,
) {
    let rt = runtime();
    let data = vec![0x5a_u8; size];
    let mut buf = vec![0u8; 64 * 1024];
    let (mut c, mut s) = rt.block_on(async {
        let l = listener(true).expect("listen");
        let a = l.local_addr().expect("addr");
        let (c, s) = tcp_pair(&l, a, true).await;
        tokio::join!(tls.connect(c), tls.accept(s))
    });
    g.bench_function(func, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    transfer_once(&mut c, &mut s, &data, &mut buf).await;
                }
                start.elapsed()
            })
        })
    });
}

/// The tokio cases: TLS 1.3 ECDSA full handshakes, and 1 MiB writes with
/// AES-128-GCM (TLS 1.2 suite pinned, as in the in-memory bulk cases).
pub fn tokio_cases() -> [(&'static str, &'static str, Params, usize); 2] {
    let hs = handshake_cases()[0].1;
    let bulk = Params {
        suite: Some(BULK_SUITES[0].1),
        version: polytls_api::ProtocolVersion::Tls12,
        ..hs
    };
    [
        ("tokio-handshake", "tls13-ecdsa-full", hs, 0),
        ("tokio-throughput", "aes128gcm-1m-c2s", bulk, 1 << 20),
    ]
}

/// Registers the tokio cases for `backend`: through polytls, and through the
/// library's own tokio adapter that `direct` makes for a case.
pub fn run<B: Backend, D: TokioTls>(c: &mut Criterion, backend: &B, direct: impl Fn(&Params) -> D) {
    let name = crate::column(backend);
    for (kind, case, params, size) in tokio_cases() {
        let mut g = c.benchmark_group(format!("{kind}/{case}/{name}"));
        let poly = PolytlsTokio::new(backend, &params);
        let direct = direct(&params);
        if size == 0 {
            g.throughput(Throughput::Elements(1));
            bench_handshake(&mut g, "polytls-pair", &poly);
            bench_handshake(&mut g, "direct-pair", &direct);
        } else {
            g.throughput(Throughput::Bytes(size as u64));
            bench_transfer(&mut g, "polytls-pair", &poly, size);
            bench_transfer(&mut g, "direct-pair", &direct, size);
        }
        g.finish();
    }
}
