//! Moving bytes between a TLS stream and a plaintext socket.
//!
//! Each direction owns one fixed buffer and writes it out completely before
//! reading again, so a slow reader on one side slows the writer on the other
//! (TCP backpressure end to end) and memory per connection is bounded.
//! A clean end on one side (close_notify, or FIN on the plaintext side) is
//! passed on as a clean end (FIN, or close_notify); a TLS stream that ends
//! without close_notify is passed on as a reset, never as a clean end, so
//! the service cannot mistake a truncated request for a complete one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// How a proxied connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides closed cleanly.
    Closed,
    /// No traffic for the idle timeout.
    IdleTimeout,
    /// Still open when the shutdown drain deadline passed.
    ShutdownDeadline,
    /// The TLS peer closed without close_notify; the plaintext side was reset.
    Truncated,
    /// A TLS error, by category.
    Tls(&'static str),
    /// A transport error.
    Io(std::io::ErrorKind),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Closed => f.write_str("closed"),
            CloseReason::IdleTimeout => f.write_str("idle_timeout"),
            CloseReason::ShutdownDeadline => f.write_str("shutdown_deadline"),
            CloseReason::Truncated => f.write_str("truncated"),
            CloseReason::Tls(c) => write!(f, "tls_error:{c}"),
            CloseReason::Io(k) => write!(f, "io_error:{k}"),
        }
    }
}

/// Byte counts and the end of one proxied connection.
#[derive(Debug)]
pub struct Outcome {
    /// Bytes read from the TLS side and written to the plaintext side.
    pub from_tls: u64,
    /// Bytes read from the plaintext side and written to the TLS side.
    pub to_tls: u64,
    /// Why it ended.
    pub reason: CloseReason,
}

/// Proxies until both directions end, the idle timeout passes, or `force`
/// is cancelled.
pub async fn pump<T>(
    tls: T,
    plain: TcpStream,
    buffer_size: usize,
    idle: Duration,
    force: &CancellationToken,
) -> Outcome
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let last = AtomicU64::new(0);
    let from_tls = AtomicU64::new(0);
    let to_tls = AtomicU64::new(0);
    let (mut tr, mut tw) = tokio::io::split(tls);
    let (mut pr, mut pw) = plain.into_split();
    let both = async {
        tokio::try_join!(
            copy(&mut tr, &mut pw, buffer_size, &from_tls, &last, start),
            copy(&mut pr, &mut tw, buffer_size, &to_tls, &last, start),
        )
    };
    let watchdog = async {
        loop {
            let since = Duration::from_millis(last.load(Ordering::Relaxed));
            let deadline = start + since + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    };
    let reason = tokio::select! {
        r = both => match r {
            Ok(_) => CloseReason::Closed,
            Err(e) => classify(&e),
        },
        () = watchdog => CloseReason::IdleTimeout,
        () = force.cancelled() => CloseReason::ShutdownDeadline,
    };
    match reason {
        CloseReason::Closed => {}
        CloseReason::IdleTimeout | CloseReason::ShutdownDeadline => {
            // Our own decision to close: say so cleanly on both sides, briefly.
            let close = async {
                let _ = tw.shutdown().await;
                let _ = pw.shutdown().await;
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
        }
        _ => {
            // A broken end on one side is passed on as a reset, never as a clean end.
            if let Ok(p) = pr.reunite(pw) {
                let _ = p.set_zero_linger();
            }
        }
    }
    Outcome {
        from_tls: from_tls.load(Ordering::Relaxed),
        to_tls: to_tls.load(Ordering::Relaxed),
        reason,
    }
}

fn classify(e: &std::io::Error) -> CloseReason {
    match polytls::Error::from_io(e) {
        Some(polytls::Error::UnexpectedEof) => CloseReason::Truncated,
        Some(tls) => CloseReason::Tls(tls.category()),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => CloseReason::Truncated,
        None => CloseReason::Io(e.kind()),
    }
}

async fn copy<R, W>(
    r: &mut R,
    w: &mut W,
    size: usize,
    count: &AtomicU64,
    last: &AtomicU64,
    start: Instant,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; size];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return w.shutdown().await;
        }
        w.write_all(&buf[..n]).await?;
        w.flush().await?;
        count.fetch_add(n as u64, Ordering::Relaxed);
        last.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}
