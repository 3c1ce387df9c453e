//! Accepting and serving one connection: the handshake under its timeout,
//! the checks (pins, routes), the target, the bytes — and the one log line
//! that says what happened.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use polytls::tokio_io::{TlsAcceptor, TlsConnector};
use polytls::{DynClientDriver, DynServerDriver, SpkiPin};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::TunnelSettings;
use super::proxy::{pump, Outcome};
use super::reload::{Side, Tunnel};
use crate::net::io_to_cli;
use crate::tls::subject;

/// Accepts connections until `stop`, at most `max_connections` at once.
pub(super) async fn accept_loop(
    tunnel: Arc<Tunnel>,
    listener: TcpListener,
    stop: CancellationToken,
    force: CancellationToken,
    tracker: TaskTracker,
) {
    let limit = Arc::new(Semaphore::new(tunnel.spec.max_connections.usize()));
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            () = stop.cancelled() => return,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off, don't spin.
                    tracing::warn!(tunnel = %tunnel.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        let _ = tcp.set_nodelay(true);
        let tunnel = tunnel.clone();
        let force = force.clone();
        tracker.spawn(async move {
            let id = tunnel.ids.fetch_add(1, Ordering::Relaxed);
            handle(&tunnel, id, tcp, peer, &force).await;
            drop(permit);
        });
    }
}

/// What is known about a connection, for its log line.
#[derive(Default)]
struct Facts {
    sni: Option<String>,
    alpn: Option<String>,
    version: Option<&'static str>,
    resumed: bool,
    client: Option<String>,
    target: Option<String>,
}

async fn handle(t: &Tunnel, id: u64, tcp: TcpStream, peer: SocketAddr, force: &CancellationToken) {
    let start = Instant::now();
    let mut facts = Facts::default();
    let result = match &*t.side() {
        Side::Server { acceptor, pins } => {
            serve_conn(t, acceptor, pins, tcp, force, &mut facts).await
        }
        Side::Client {
            connector,
            server_name,
        } => client_conn(t, connector, server_name, tcp, force, &mut facts).await,
    };
    let ms = start.elapsed().as_millis() as u64;
    let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let (sni, alpn, client, upstream) = (
        text(&facts.sni),
        text(&facts.alpn),
        text(&facts.client),
        text(&facts.target),
    );
    match result {
        Ok(Outcome {
            from_tls,
            to_tls,
            reason,
        }) => tracing::info!(
            tunnel = %t.name, conn = id, %peer, backend = t.backend,
            sni, alpn, version = facts.version.unwrap_or("-"), resumed = facts.resumed, client, upstream,
            bytes_from_tls = from_tls, bytes_to_tls = to_tls, duration_ms = ms,
            reason = %reason,
            "connection closed"
        ),
        Err(Refusal { category, error }) => tracing::warn!(
            tunnel = %t.name, conn = id, %peer, backend = t.backend,
            sni, client, upstream, duration_ms = ms, category, error = %error,
            "connection refused"
        ),
    }
}

/// Why a connection never reached the proxying stage.
struct Refusal {
    category: &'static str,
    error: String,
}

impl Refusal {
    fn new(category: &'static str, error: impl std::fmt::Display) -> Self {
        Self {
            category,
            error: error.to_string(),
        }
    }

    fn from_io(e: std::io::Error) -> Self {
        let category = polytls::Error::from_io(&e).map_or("io", polytls::Error::category);
        Self::new(category, io_to_cli("TLS handshake", e))
    }
}

async fn serve_conn(
    t: &Tunnel,
    acceptor: &TlsAcceptor<DynServerDriver>,
    pins: &[SpkiPin],
    tcp: TcpStream,
    force: &CancellationToken,
    facts: &mut Facts,
) -> Result<Outcome, Refusal> {
    let deadline = t.spec.handshake_timeout.get();
    let tls = tokio::select! {
        r = tokio::time::timeout(deadline, acceptor.accept(tcp)) => match r {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => return Err(Refusal::from_io(e)),
            Err(_) => return Err(Refusal::new("handshake_timeout", "no handshake within the timeout")),
        },
        () = force.cancelled() => return Err(Refusal::new("shutdown", "shutting down")),
    };
    let info = tls.get_ref().1.info();
    facts.sni = info.sni.clone();
    facts.alpn = info
        .alpn
        .as_ref()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    facts.version = info.version.map(|v| v.name());
    facts.resumed = info.resumed;
    facts.client = info.peer_chain.first().map(|c| subject(c.as_ref()));
    if let Err(e) = polytls::check_pins(pins, &info.peer_chain) {
        return Err(Refusal::new(
            e.category(),
            format!("client certificate: {e}"),
        ));
    }
    let target = match route(&t.spec, info.sni.as_deref()) {
        Some(target) => target,
        None => {
            return Err(Refusal::new(
                "no_route",
                format!("no route for SNI {:?}", info.sni),
            ))
        }
    };
    facts.target = Some(target.to_string());
    let plain = match tokio::time::timeout(deadline, TcpStream::connect(target)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(Refusal::new("target_unreachable", e)),
        Err(_) => return Err(Refusal::new("target_unreachable", "connect timed out")),
    };
    let _ = plain.set_nodelay(true);
    let idle = t.spec.idle_timeout.get();
    Ok(pump(tls, plain, t.spec.buffer_size.usize(), idle, force).await)
}

fn route<'a>(spec: &'a TunnelSettings, sni: Option<&str>) -> Option<&'a str> {
    sni.and_then(|name| {
        spec.routes
            .iter()
            .find(|r| r.sni.eq_ignore_ascii_case(name))
            .map(|r| r.target.as_str())
    })
    .or(spec.target.as_deref())
}

async fn client_conn(
    t: &Tunnel,
    connector: &TlsConnector<DynClientDriver>,
    server_name: &str,
    plain: TcpStream,
    force: &CancellationToken,
    facts: &mut Facts,
) -> Result<Outcome, Refusal> {
    let deadline = t.spec.handshake_timeout.get();
    let target = t.spec.target.as_deref().unwrap_or_default();
    facts.target = Some(target.to_string());
    facts.sni = Some(server_name.to_string());
    let connect = async {
        let tcp = TcpStream::connect(target)
            .await
            .map_err(|e| Refusal::new("target_unreachable", e))?;
        let _ = tcp.set_nodelay(true);
        connector
            .connect(server_name, tcp)
            .await
            .map_err(Refusal::from_io)
    };
    let tls = tokio::select! {
        r = tokio::time::timeout(deadline, connect) => match r {
            Ok(r) => r,
            Err(_) => Err(Refusal::new("handshake_timeout", "no handshake within the timeout")),
        },
        () = force.cancelled() => Err(Refusal::new("shutdown", "shutting down")),
    };
    let tls = match tls {
        Ok(tls) => tls,
        Err(refusal) => {
            // The plaintext client must not mistake the refusal for a clean end.
            let _ = plain.set_zero_linger();
            return Err(refusal);
        }
    };
    let info = tls.get_ref().1.info();
    facts.alpn = info
        .alpn
        .as_ref()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    facts.version = info.version.map(|v| v.name());
    facts.resumed = info.resumed;
    let idle = t.spec.idle_timeout.get();
    Ok(pump(tls, plain, t.spec.buffer_size.usize(), idle, force).await)
}
