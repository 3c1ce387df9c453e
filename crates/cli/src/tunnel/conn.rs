//! Accepting and serving one connection: the handshake under its timeout,
//! the checks (pins, routes), the target, the bytes — and the one log line
//! that says what happened.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use polytls::tokio_io::{DynTlsAcceptor, DynTlsConnector, DynTlsStream};
use polytls::SpkiPin;
use polytls_listener::admission::{HandshakeLimits, Handshaking};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::access::Names;
use super::config::{Route, TunnelSettings};
use super::proxy::{pump, Outcome};
use super::proxy_header;
use super::reload::{Side, Tunnel};
use crate::net::io_to_cli;
use crate::tls::subject;

/// Accepts connections until `stop`: at most `max_handshakes` in their
/// handshake at once (`max_handshakes_per_source` from one address, in
/// server mode), and `max_connections` established.
pub(super) async fn accept_loop(
    tunnel: Arc<Tunnel>,
    listener: TcpListener,
    stop: CancellationToken,
    force: CancellationToken,
    tracker: TaskTracker,
) {
    let handshakes = HandshakeLimits::new(
        tunnel.spec.max_handshakes.usize(),
        tunnel.spec.max_handshakes_per_source.usize(),
    );
    let connections = Arc::new(Semaphore::new(tunnel.spec.max_connections.usize()));
    let server = matches!(&*tunnel.side(), Side::Server { .. });
    loop {
        let slot = tokio::select! {
            s = handshakes.slot() => s,
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
        // In server mode, per source address; balancers are not counted by
        // their own address (every client behind them shares it).
        let counted = (server && !tunnel.proxy_sources.iter().any(|n| n.contains(&peer.ip())))
            .then_some(peer.ip());
        let id = tunnel.ids.fetch_add(1, Ordering::Relaxed);
        let handshaking = match handshakes.admit(slot, counted, tunnel.spec.handshake_timeout.get())
        {
            Ok(h) => h,
            Err(refused) => {
                tunnel.metrics.opened(&tunnel.name);
                tunnel.metrics.closed(&tunnel.name, 0, 0);
                tunnel.metrics.refused(&tunnel.name, "per_source_limit");
                tracing::warn!(
                    tunnel = %tunnel.name, conn = id, %peer, backend = tunnel.backend,
                    category = "per_source_limit", error = %refused,
                    "connection refused"
                );
                continue;
            }
        };
        let tunnel = tunnel.clone();
        let force = force.clone();
        let connections = connections.clone();
        tracker.spawn(async move {
            let mut phase = Phase {
                deadline: handshaking.deadline(),
                handshaking: Some(handshaking),
                connections,
                established: None,
            };
            handle(&tunnel, id, tcp, peer, &force, &mut phase).await;
        });
    }
}

/// Where a connection is in its life: one deadline from accept to the end
/// of the handshake, then an established-connection slot.
struct Phase {
    deadline: Instant,
    handshaking: Option<Handshaking>,
    connections: Arc<Semaphore>,
    established: Option<OwnedSemaphorePermit>,
}

impl Phase {
    /// The handshake is done: its slots are released, and the connection
    /// takes one of `max_connections` (refused when none is free).
    fn establish(&mut self) -> Result<(), Refusal> {
        if self.handshaking.take().is_none() {
            return Ok(());
        }
        match self.connections.clone().try_acquire_owned() {
            Ok(p) => {
                self.established = Some(p);
                Ok(())
            }
            Err(_) => Err(Refusal::new(
                "max_connections",
                "every connection slot is taken (max_connections)",
            )),
        }
    }
}

/// What is known about a connection, for its log line.
struct Facts {
    /// The client: the TCP peer, or the address a trusted balancer's PROXY
    /// header gave.
    peer: SocketAddr,
    /// The balancer the connection came through, if any.
    via: Option<SocketAddr>,
    /// The address the client connected to (for the PROXY header sent on).
    local: Option<SocketAddr>,
    sni: Option<String>,
    alpn: Option<String>,
    version: Option<&'static str>,
    resumed: bool,
    client: Option<String>,
    /// The allow rule that let the client in, or the rules that refused it.
    rule: Option<String>,
    target: Option<String>,
}

async fn handle(
    t: &Tunnel,
    id: u64,
    mut tcp: TcpStream,
    peer: SocketAddr,
    force: &CancellationToken,
    phase: &mut Phase,
) {
    let start = Instant::now();
    t.metrics.opened(&t.name);
    let mut facts = Facts {
        peer,
        via: None,
        local: tcp.local_addr().ok(),
        sni: None,
        alpn: None,
        version: None,
        resumed: false,
        client: None,
        rule: None,
        target: None,
    };
    let result = match admit(t, &mut tcp, &mut facts, phase.deadline).await {
        Err(refusal) => Err(refusal),
        Ok(()) => match &*t.side() {
            Side::Server { acceptor, pins } => {
                serve_conn(t, acceptor, pins, tcp, force, &mut facts, phase).await
            }
            Side::Client {
                connector,
                server_name,
            } => client_conn(t, connector, server_name, tcp, force, &mut facts, phase).await,
        },
    };
    let ms = start.elapsed().as_millis() as u64;
    let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let (sni, alpn, client, upstream, rule) = (
        text(&facts.sni),
        text(&facts.alpn),
        text(&facts.client),
        text(&facts.target),
        text(&facts.rule),
    );
    let via = facts.via.map_or_else(|| "-".into(), |v| v.to_string());
    let peer = facts.peer;
    match result {
        Ok(Outcome {
            from_tls,
            to_tls,
            reason,
        }) => {
            t.metrics.closed(&t.name, from_tls, to_tls);
            tracing::info!(
                tunnel = %t.name, conn = id, %peer, via, backend = t.backend,
                sni, alpn, version = facts.version.unwrap_or("-"), resumed = facts.resumed, client,
                rule, upstream, bytes_from_tls = from_tls, bytes_to_tls = to_tls, duration_ms = ms,
                reason = %reason,
                "connection closed"
            )
        }
        Err(Refusal {
            category,
            error,
            handshake,
        }) => {
            t.metrics.closed(&t.name, 0, 0);
            if handshake {
                t.metrics.handshake_failed(&t.name, category);
            } else {
                t.metrics.refused(&t.name, category);
            }
            tracing::warn!(
                tunnel = %t.name, conn = id, %peer, via, backend = t.backend,
                sni, client, rule, upstream, duration_ms = ms, category, error = %error,
                "connection refused"
            )
        }
    }
}

/// Before TLS: a trusted balancer's PROXY header, when the tunnel takes
/// them (and nobody else may connect).
async fn admit(
    t: &Tunnel,
    tcp: &mut TcpStream,
    facts: &mut Facts,
    deadline: Instant,
) -> Result<(), Refusal> {
    if t.proxy_sources.is_empty() {
        return Ok(());
    }
    let from = facts.peer;
    if !t.proxy_sources.iter().any(|n| n.contains(&from.ip())) {
        return Err(Refusal::during_handshake(
            "proxy_untrusted",
            format!("{from} is not a configured balancer (accept_proxy_from)"),
        ));
    }
    match tokio::time::timeout_at(deadline, proxy_header::read_header(tcp)).await {
        Ok(Ok(addresses)) => {
            facts.via = Some(from);
            if let Some((client, local)) = addresses {
                facts.peer = client;
                facts.local = Some(local);
            }
            Ok(())
        }
        Ok(Err(e)) => Err(Refusal::during_handshake("proxy_header", e)),
        Err(_) => Err(Refusal::during_handshake(
            "handshake_timeout",
            "no PROXY header within the handshake timeout",
        )),
    }
}

/// Why a connection never reached the proxying stage.
struct Refusal {
    category: &'static str,
    error: String,
    /// Whether it failed before the TLS handshake completed.
    handshake: bool,
}

impl Refusal {
    /// Refused after the handshake (routes, rules, the target).
    fn new(category: &'static str, error: impl std::fmt::Display) -> Self {
        Self {
            category,
            error: error.to_string(),
            handshake: false,
        }
    }

    /// The handshake (or what comes before it) failed.
    fn during_handshake(category: &'static str, error: impl std::fmt::Display) -> Self {
        Self {
            handshake: true,
            ..Self::new(category, error)
        }
    }

    fn from_io(e: std::io::Error) -> Self {
        let category = polytls::Error::from_io(&e).map_or("io", polytls::Error::category);
        Self::during_handshake(category, io_to_cli("TLS handshake", e))
    }
}

/// The TLS handshake under the connection's deadline (polytls-listener's
/// bounded, timed handshake).
async fn handshake(
    phase: &Phase,
    acceptor: &DynTlsAcceptor,
    tcp: TcpStream,
) -> Result<DynTlsStream<TcpStream>, Refusal> {
    let Some(handshaking) = &phase.handshaking else {
        return Err(Refusal::during_handshake(
            "handshake_timeout",
            "no handshake slot",
        ));
    };
    match handshaking.handshake(acceptor, tcp).await {
        Ok(tls) => Ok(tls),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(Refusal::during_handshake(
            "handshake_timeout",
            "no handshake within the timeout",
        )),
        Err(e) => Err(Refusal::from_io(e)),
    }
}

async fn serve_conn(
    t: &Tunnel,
    acceptor: &DynTlsAcceptor,
    pins: &[SpkiPin],
    tcp: TcpStream,
    force: &CancellationToken,
    facts: &mut Facts,
    phase: &mut Phase,
) -> Result<Outcome, Refusal> {
    let began = Instant::now();
    let tls = tokio::select! {
        // The deadline set at accept: a PROXY header does not restart it.
        r = handshake(phase, acceptor, tcp) => r?,
        () = force.cancelled() => return Err(Refusal::during_handshake("shutdown", "shutting down")),
    };
    t.metrics.handshake_done(&t.name, began.elapsed());
    let info = tls.get_ref().1.info();
    phase.establish()?;
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
    let Some((target, route)) = route(&t.spec, info.sni.as_deref()) else {
        return Err(Refusal::new(
            "no_route",
            format!("no route for SNI {:?}", info.sni),
        ));
    };
    // The route's rules when it has some, else the tunnel's.
    let (rules, scope) = match route {
        Some(r) if !r.allow.is_empty() => (&r.allow, format!("route {}", r.sni)),
        _ => (&t.spec.allow, "tunnel".to_string()),
    };
    if !rules.is_empty() {
        let names = info
            .peer_chain
            .first()
            .map(|c| Names::of(c.as_ref()))
            .unwrap_or_default();
        match rules.matching(&names) {
            Some(rule) => facts.rule = Some(format!("{scope}: {rule}")),
            None => {
                facts.rule = Some(format!("{scope}: no match"));
                let why = rules
                    .why_not(&names)
                    .map(|w| format!(": {w}"))
                    .unwrap_or_default();
                return Err(Refusal::new(
                    "access_denied",
                    format!(
                        "client certificate ({names}) matches no allow rule of the {scope}{why}"
                    ),
                ));
            }
        }
    }
    facts.target = Some(target.to_string());
    let connect_timeout = t.spec.handshake_timeout.get();
    let mut plain = match tokio::time::timeout(connect_timeout, TcpStream::connect(target)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(Refusal::new("target_unreachable", e)),
        Err(_) => return Err(Refusal::new("target_unreachable", "connect timed out")),
    };
    let _ = plain.set_nodelay(true);
    if let (Some(version), Some(local)) = (t.spec.send_proxy, facts.local) {
        if let Err(e) = proxy_header::send_header(&mut plain, version, facts.peer, local).await {
            return Err(Refusal::new("target_unreachable", e));
        }
    }
    let idle = t.spec.idle_timeout.get();
    Ok(pump(tls, plain, t.spec.buffer_size.usize(), idle, force).await)
}

/// The target for `sni`, and the route that chose it (none for the
/// tunnel's default target).
fn route<'a>(spec: &'a TunnelSettings, sni: Option<&str>) -> Option<(&'a str, Option<&'a Route>)> {
    sni.and_then(|name| {
        spec.routes
            .iter()
            .find(|r| r.sni.eq_ignore_ascii_case(name))
            .map(|r| (r.target.as_str(), Some(r)))
    })
    .or(spec.target.as_deref().map(|t| (t, None)))
}

async fn client_conn(
    t: &Tunnel,
    connector: &DynTlsConnector,
    server_name: &str,
    plain: TcpStream,
    force: &CancellationToken,
    facts: &mut Facts,
    phase: &mut Phase,
) -> Result<Outcome, Refusal> {
    let deadline = phase.deadline;
    let target = t.spec.target.as_deref().unwrap_or_default();
    facts.target = Some(target.to_string());
    facts.sni = Some(server_name.to_string());
    let connect = async {
        let tcp = TcpStream::connect(target)
            .await
            .map_err(|e| Refusal::new("target_unreachable", e))?;
        let _ = tcp.set_nodelay(true);
        let began = Instant::now();
        let tls = connector
            .connect(server_name, tcp)
            .await
            .map_err(Refusal::from_io)?;
        t.metrics.handshake_done(&t.name, began.elapsed());
        Ok(tls)
    };
    let tls = tokio::select! {
        r = tokio::time::timeout_at(deadline, connect) => match r {
            Ok(r) => r,
            Err(_) => Err(Refusal::during_handshake("handshake_timeout", "no handshake within the timeout")),
        },
        () = force.cancelled() => Err(Refusal::during_handshake("shutdown", "shutting down")),
    };
    let tls = match tls.and_then(|tls| phase.establish().map(|()| tls)) {
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
