//! # polytls-loadgen — a development tool, not part of the `polytls` command
//!
//! A plaintext echo target and a load generator that checks every byte.
//!
//! Used by the tunnel's load tests (in process) and by `cargo xtask compare --tunnel`
//! (as the `polytls-loadgen` development binary, not shipped in `polytls`), so
//! polytls and stunnel are driven by the very same client and target.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Echoes every connection until the client closes, then closes.
pub async fn echo_server(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (mut tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let (mut r, mut w) = tcp.split();
            if tokio::io::copy(&mut r, &mut w).await.is_ok() {
                let _ = w.shutdown().await;
            }
        });
    }
}

/// What to generate.
#[derive(clap::Args, Debug, Clone)]
pub struct LoadSpec {
    /// The address to connect to (a tunnel's plaintext or TLS-terminating side
    /// in front of an echo server).
    #[arg(long)]
    pub connect: String,
    /// Connections open at once.
    #[arg(long, default_value_t = 100)]
    pub concurrency: u64,
    /// Connections in all.
    #[arg(long, default_value_t = 1000)]
    pub total: u64,
    /// Bytes each connection sends (and must get back, identical).
    #[arg(long, default_value_t = 1024)]
    pub bytes: u64,
    /// Open all `concurrency` connections first and only then send, so that
    /// many are truly open at once (one round).
    #[arg(long)]
    pub hold: bool,
}

/// The result of a load run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// Connections whose echo matched exactly.
    pub ok: u64,
    /// Connections that failed or whose echo differed.
    pub failed: u64,
    /// Bytes sent plus bytes received over all good connections.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The first failure, if any.
    pub first_error: Option<String>,
}

/// Deterministic pseudo-random payload for connection `index`.
pub fn payload(index: u64, len: u64) -> Vec<u8> {
    let mut state = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = Vec::with_capacity(len as usize);
    while (out.len() as u64) < len {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len as usize);
    out
}

/// Runs the load described by `spec`.
pub async fn run(spec: &LoadSpec) -> LoadReport {
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let total = if spec.hold {
        spec.concurrency
    } else {
        spec.total
    };
    let barrier = Arc::new(tokio::sync::Barrier::new(spec.concurrency.max(1) as usize));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..spec.concurrency.max(1) {
        let (next, ok, bytes, first_error, barrier) = (
            next.clone(),
            ok.clone(),
            bytes.clone(),
            first_error.clone(),
            barrier.clone(),
        );
        let (addr, len, hold) = (spec.connect.clone(), spec.bytes, spec.hold);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                match one(&addr, i, len, hold.then_some(&*barrier)).await {
                    Ok(()) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(2 * len, Ordering::Relaxed);
                    }
                    Err(e) => {
                        let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        first.get_or_insert_with(|| format!("connection {i}: {e}"));
                    }
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let ok = ok.load(Ordering::Relaxed);
    let first_error = first_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    LoadReport {
        ok,
        failed: total - ok,
        bytes: bytes.load(Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
        first_error,
    }
}

async fn one(
    addr: &str,
    index: u64,
    len: u64,
    barrier: Option<&tokio::sync::Barrier>,
) -> std::io::Result<()> {
    let connected = TcpStream::connect(addr).await;
    if let Some(b) = barrier {
        // Everyone waits, connected or not, so a failure cannot stall the rest.
        b.wait().await;
    }
    let mut tcp = connected?;
    tcp.set_nodelay(true)?;
    let data = payload(index, len);
    let (mut r, mut w) = tcp.split();
    // Send everything while reading the echo; close our side only once the
    // whole echo is back (tunnels without TLS half-close, like stunnel, end
    // both directions at the first close_notify), then expect a clean end.
    let send = w.write_all(&data);
    let receive = async {
        let mut hash = Sha256::new();
        let mut n = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        while n < len {
            let want = buf.len().min((len - n) as usize);
            let k = r.read(&mut buf[..want]).await?;
            if k == 0 {
                break;
            }
            hash.update(&buf[..k]);
            n += k as u64;
        }
        Ok::<_, std::io::Error>((n, hash.finalize()))
    };
    let ((), (n, got)) = tokio::try_join!(send, receive)?;
    if n != len || got != Sha256::digest(&data) {
        return Err(std::io::Error::other(format!(
            "echo mismatch: sent {len} bytes, got {n} (or different content)"
        )));
    }
    w.shutdown().await?;
    let mut extra = [0u8; 1];
    if r.read(&mut extra).await? != 0 {
        return Err(std::io::Error::other("bytes after the echo"));
    }
    Ok(())
}
