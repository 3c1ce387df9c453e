//! The scale harness: polytls over real loopback TCP with tokio, a server
//! process and a client process, for the two questions people choosing a
//! backend ask that one-connection benchmarks cannot answer:
//!
//! - **handshakes per second as threads grow**: the server runs on `N`
//!   tokio worker threads; the client opens connections from `concurrency`
//!   loops for a fixed time (connect, full TLS 1.3 handshake, then the
//!   server sends close_notify and closes first, so TIME_WAIT stays off the
//!   client's ports). Reported: completed handshakes per second and the
//!   client-observed latency (TCP connect to handshake done) at p50 and p99.
//!   The client shares the machine with the server: on a small machine the
//!   figure is what the pair costs, the same for every backend.
//! - **memory as connections grow**: `n` established, idle connections
//!   held open; the growth of each process' resident set (`VmRSS`) divided
//!   by `n`, server and client apart.
//!
//! The case is the benchmarks' first: TLS 1.3, X25519, ECDSA P-256 server
//! key, no client certificate, no resumption.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polytls_api::tokio_io::{TlsAcceptor, TlsConnector};
use polytls_api::{Backend, CertificateDer, Roots};
use polytls_conformance::pki::pki;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::handshake_cases;

/// What the server does with a connection after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeMode {
    /// Send close_notify and close at once (handshake load).
    Close,
    /// Keep it open, reading until the client closes (idle connections).
    Hold,
}

/// One point of the handshake curve.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeFigures {
    /// Completed handshakes per second.
    pub per_second: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Handshakes completed.
    pub completed: usize,
    /// Connections that failed (any failure is reported, never hidden).
    pub failed: usize,
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Serves TLS on 127.0.0.1 (a free port) with `threads` workers until the
/// process is killed; calls `ready` with the address and the root that
/// issued the server's chain (the test PKI is made per process) once
/// listening.
pub fn serve<B: Backend>(
    backend: &B,
    threads: usize,
    mode: ServeMode,
    ready: impl FnOnce(SocketAddr, CertificateDer<'static>),
) -> Result<(), String> {
    let (_, config) = handshake_cases()[0].1.configs();
    let ctx = backend
        .server_context(&config)
        .map_err(|e| format!("server context: {e}"))?;
    let acceptor = Arc::new(TlsAcceptor::new(ctx));
    serve_with(threads, mode, ready, move |tcp| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(tcp).await.ok() }
    })
}

/// [`serve`] with `accept` making each TLS stream (`None`: the handshake
/// failed).
fn serve_with<S, F, Fut>(
    threads: usize,
    mode: ServeMode,
    ready: impl FnOnce(SocketAddr, CertificateDer<'static>),
    accept: F,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<S>> + Send + 'static,
{
    let accept = Arc::new(accept);
    let rt = runtime(threads)?;
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        ready(
            listener.local_addr().map_err(|e| e.to_string())?,
            pki().root(),
        );
        loop {
            // Accept errors (descriptor limits) are transient: keep serving.
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let accept = accept.clone();
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let Some(mut tls) = accept(tcp).await else {
                    return;
                };
                match mode {
                    ServeMode::Close => {
                        let _ = tls.shutdown().await;
                    }
                    ServeMode::Hold => {
                        let mut buf = [0u8; 64];
                        while let Ok(n) = tls.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                        }
                    }
                }
            });
        }
    })
}

/// A client context for the scale case, trusting `root`.
fn connector<B: Backend>(
    backend: &B,
    root: &CertificateDer<'static>,
) -> Result<TlsConnector<B::ClientDriver>, String> {
    let (mut config, _) = handshake_cases()[0].1.configs();
    config.roots = Roots::new(vec![root.clone()]);
    let ctx = backend
        .client_context(&config)
        .map_err(|e| format!("client context: {e}"))?;
    Ok(TlsConnector::new(ctx))
}

/// One connection against a `ServeMode::Close` server: the handshake's
/// latency, after reading the server's close_notify.
async fn one_handshake<D: polytls_api::driver::ClientDriver>(
    connector: &TlsConnector<D>,
    addr: SocketAddr,
) -> Result<Duration, String> {
    let start = Instant::now();
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut tls = connector
        .connect("localhost", tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let took = start.elapsed();
    let mut buf = [0u8; 16];
    // A clean end is the server's close_notify; anything else is a failure.
    match tls.read(&mut buf).await {
        Ok(0) => Ok(took),
        Ok(_) => Err("unexpected data".into()),
        Err(e) => Err(format!("closing: {e}")),
    }
}

/// Handshake load for `seconds` from `concurrency` loops on a runtime with
/// `client_threads` workers, against `addr` (whose chain `root` issued).
pub fn handshakes<B: Backend>(
    backend: &B,
    addr: SocketAddr,
    root: &CertificateDer<'static>,
    client_threads: usize,
    concurrency: usize,
    seconds: f64,
) -> Result<HandshakeFigures, String> {
    let connector = Arc::new(connector(backend, root)?);
    let rt = runtime(client_threads)?;
    rt.block_on(async move {
        // Warm-up: the first handshakes pay for lazy initialisation.
        for _ in 0..10 {
            one_handshake(&connector, addr).await?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (connector, stop) = (connector.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut failed = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    match one_handshake(&connector, addr).await {
                        Ok(d) => lat.push(d),
                        Err(_) => failed += 1,
                    }
                }
                (lat, failed)
            }));
        }
        tokio::time::sleep(Duration::from_secs_f64(seconds.max(0.01))).await;
        stop.store(true, Ordering::Relaxed);
        let mut lat = Vec::new();
        let mut failed = 0;
        for t in tasks {
            let (l, f) = t.await.map_err(|e| format!("load task: {e}"))?;
            lat.extend(l);
            failed += f;
        }
        let elapsed = started.elapsed().as_secs_f64();
        lat.sort();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
        };
        Ok(HandshakeFigures {
            per_second: lat.len() as f64 / elapsed,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            completed: lat.len(),
            failed,
        })
    })
}

/// Opens `n` connections to a `ServeMode::Hold` server and keeps them
/// open. `measure("before")` runs after a warm-up (a few connections opened
/// and closed, so lazy initialisation is not counted), `measure("after")`
/// once all `n` are established and idle; then they are closed.
pub fn hold_idle<B: Backend>(
    backend: &B,
    addr: SocketAddr,
    root: &CertificateDer<'static>,
    n: usize,
    measure: impl FnMut(&str),
) -> Result<(), String> {
    let connector = Arc::new(connector(backend, root)?);
    hold_idle_with(n, measure, move || {
        let connector = connector.clone();
        async move {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            connector
                .connect("localhost", tcp)
                .await
                .map_err(|e| format!("handshake: {e}"))
        }
    })
}

/// [`hold_idle`] with `connect` making each connection.
fn hold_idle_with<C, F, Fut>(
    n: usize,
    mut measure: impl FnMut(&str),
    connect: F,
) -> Result<(), String>
where
    C: AsyncWrite + Unpin + Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<C, String>> + Send + 'static,
{
    let connect = Arc::new(connect);
    let rt = runtime(std::thread::available_parallelism().map_or(2, |n| n.get()))?;
    rt.block_on(async move {
        let open = |count: usize| {
            let connect = connect.clone();
            async move {
                let mut held = Vec::with_capacity(count);
                // In batches, so the listener's backlog is never the limit.
                while held.len() < count {
                    let batch = (count - held.len()).min(64);
                    let mut tasks = Vec::with_capacity(batch);
                    for _ in 0..batch {
                        tasks.push(tokio::spawn(connect()));
                    }
                    for t in tasks {
                        held.push(t.await.map_err(|e| format!("connect task: {e}"))??);
                    }
                }
                Ok::<_, String>(held)
            }
        };
        for mut s in open(64).await? {
            let _ = s.shutdown().await;
        }
        // Let both sides settle (closed connections freed, tasks parked).
        tokio::time::sleep(Duration::from_millis(300)).await;
        measure("before");
        let held = open(n).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        measure("after");
        for mut s in held {
            let _ = s.shutdown().await;
        }
        Ok(())
    })
}

/// The same figures with the library used directly, through its own tokio
/// adapter (tokio-openssl, tokio-boring) and the benchmarks' direct
/// contexts: what the library itself needs per idle connection, beside
/// what it needs through polytls.
#[cfg(any(feature = "openssl", feature = "aws-lc", feature = "boring"))]
pub mod direct {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use polytls_api::CertificateDer;
    use tokio::net::TcpStream;

    #[cfg(feature = "boring")]
    use crate::direct_boring::DirectFactory;
    #[cfg(not(feature = "boring"))]
    use crate::direct_openssl::DirectFactory;
    use crate::handshake_cases;
    use crate::tokio_loopback::TokioTls;

    use super::ServeMode;

    /// [`serve`](super::serve), the library used directly.
    pub fn serve(
        threads: usize,
        mode: ServeMode,
        ready: impl FnOnce(SocketAddr, CertificateDer<'static>),
    ) -> Result<(), String> {
        let direct = Arc::new(DirectFactory::new(&handshake_cases()[0].1));
        super::serve_with(threads, mode, ready, move |tcp| {
            let direct = direct.clone();
            async move { Some(direct.accept(tcp).await) }
        })
    }

    /// [`hold_idle`](super::hold_idle), the library used directly.
    pub fn hold_idle(
        addr: SocketAddr,
        root: &CertificateDer<'static>,
        n: usize,
        measure: impl FnMut(&str),
    ) -> Result<(), String> {
        let direct = Arc::new(DirectFactory::trusting(&handshake_cases()[0].1, root));
        super::hold_idle_with(n, measure, move || {
            let direct = direct.clone();
            async move {
                let tcp = TcpStream::connect(addr)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                Ok(direct.connect(tcp).await)
            }
        })
    }
}

/// The open-file limit of this process (`Max open files`, soft).
pub fn open_file_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The resident set of process `pid` (`self` for this one), in bytes.
pub fn rss_bytes(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// `bytes` as lowercase hexadecimal (the root on the server's first line).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lowercase or uppercase hexadecimal `text`.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_set_is_read_from_proc() {
        let rss = rss_bytes("self").expect("VmRSS of this process");
        assert!(rss > 0 && rss % 1024 == 0);
        assert_eq!(rss_bytes("no-such-process"), None);
        assert!(open_file_limit().is_some_and(|n| n > 0));
    }

    #[test]
    fn hex_round_trips_and_refuses_garbage() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes.to_vec()));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("é1"), None);
    }
}
