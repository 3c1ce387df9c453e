//! `polytls tunnel`: TLS in front of a plaintext service (server mode), or
//! plaintext in front of a TLS service (client mode), stunnel-style.
//!
//! - Server mode requires client certificates by default (mutual TLS); pins,
//!   if given, must match the client's chain. A refused client never reaches
//!   the target: the target is connected only after the handshake and checks.
//! - Every connection has a handshake timeout and an idle timeout; the number
//!   of open connections is bounded (further clients wait in the backlog).
//! - SIGTERM or SIGINT: stop accepting, let open connections finish for up to
//!   `drain_timeout`, then close what is left and exit 0.
//! - SIGHUP, or a change of a certificate/key/CA file (checked every
//!   `reload_interval`): rebuild the TLS contexts; new connections use them,
//!   live ones are untouched. A reload that fails is logged and the old
//!   contexts stay.
//! - One log event per connection with tunnel, peer, SNI, ALPN, backend,
//!   version, client certificate subject, bytes each way, duration and the
//!   close reason; refusals are logged as warnings with the error category.

pub mod config;
pub mod proxy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use polytls::tokio_io::{TlsAcceptor, TlsConnector};
use polytls::{Backend, DynClientDriver, DynServerDriver, SpkiPin};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connect::{io_to_cli, secs};
use crate::error::{CliError, Context, Result};
use crate::tls::{subject, ClientAuthMode};
pub use config::{FileConfig, Mode, Route, TunnelArgs, TunnelSpec};
use proxy::{pump, Outcome};

/// The TLS side of a tunnel, rebuilt on reload.
enum Side {
    Server {
        acceptor: TlsAcceptor<DynServerDriver>,
        pins: Vec<SpkiPin>,
    },
    Client {
        connector: TlsConnector<DynClientDriver>,
        server_name: String,
    },
}

struct Tunnel {
    spec: TunnelSpec,
    name: String,
    backend: &'static str,
    side: RwLock<Arc<Side>>,
    stamps: Mutex<Vec<Option<(SystemTime, u64)>>>,
    ids: AtomicU64,
}

/// Runs the tunnels until SIGTERM/SIGINT, then drains.
pub async fn run(args: TunnelArgs) -> Result<()> {
    let config = args.load()?;
    serve(config, shutdown_signal()?).await
}

/// Runs the tunnels of `config` until `shutdown` completes, then drains.
pub async fn serve(
    config: FileConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let stop = CancellationToken::new();
    let force = CancellationToken::new();
    let tracker = TaskTracker::new();
    let mut tunnels = Vec::new();
    let mut listeners = Vec::new();
    for spec in config.tunnels {
        let tunnel = Arc::new(Tunnel::new(spec)?);
        let listener = crate::bind_listener(&tunnel.spec.listen)
            .await
            .context(format!(
                "tunnel {:?}: binding {}",
                tunnel.name, tunnel.spec.listen
            ))?;
        let addr = listener.local_addr().context("reading the local address")?;
        println!("tunnel {} listening on {addr}", tunnel.name);
        tracing::info!(
            tunnel = %tunnel.name,
            %addr,
            mode = ?tunnel.spec.mode,
            backend = tunnel.backend,
            upstream = tunnel.spec.target.as_deref().unwrap_or("-"),
            "listening"
        );
        tunnels.push(tunnel.clone());
        listeners.push((tunnel, listener));
    }
    let mut loops = tokio::task::JoinSet::new();
    for (tunnel, listener) in listeners {
        loops.spawn(accept_loop(
            tunnel,
            listener,
            stop.clone(),
            force.clone(),
            tracker.clone(),
        ));
    }
    loops.spawn(reload_loop(
        tunnels.clone(),
        config.reload_interval,
        stop.clone(),
    ));

    shutdown.await;
    let open = tracker.len();
    tracing::info!(
        open,
        drain_timeout = config.drain_timeout,
        "shutting down: not accepting; draining"
    );
    stop.cancel();
    tracker.close();
    while loops.join_next().await.is_some() {}
    if tokio::time::timeout(secs(config.drain_timeout)?, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = tracker.len(),
            "drain deadline passed; closing what is left"
        );
        force.cancel();
        tracker.wait().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes on the first SIGTERM or SIGINT.
pub fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM"),
            _ = int.recv() => tracing::info!("SIGINT"),
        }
    })
}

impl Tunnel {
    fn new(spec: TunnelSpec) -> Result<Self> {
        let name = spec.display_name();
        let backend = spec.tls.backend()?.name();
        let side = build_side(&spec).map_err(|e| match e {
            CliError::Config(m) => CliError::Config(format!("tunnel {name:?}: {m}")),
            other => other,
        })?;
        let stamps = stamps(&spec.files());
        Ok(Self {
            spec,
            name,
            backend,
            side: RwLock::new(Arc::new(side)),
            stamps: Mutex::new(stamps),
            ids: AtomicU64::new(0),
        })
    }

    fn side(&self) -> Arc<Side> {
        self.side.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the TLS side from the files; on failure keeps the old one.
    fn reload(&self, why: &str) {
        *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) = stamps(&self.spec.files());
        match build_side(&self.spec) {
            Ok(side) => {
                *self.side.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(side);
                tracing::info!(tunnel = %self.name, why, "TLS configuration reloaded");
            }
            Err(e) => {
                tracing::error!(tunnel = %self.name, why, error = %e, "reload failed; keeping the previous configuration");
            }
        }
    }

    fn files_changed(&self) -> bool {
        let now = stamps(&self.spec.files());
        *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) != now
    }
}

fn stamps(files: &[PathBuf]) -> Vec<Option<(SystemTime, u64)>> {
    files
        .iter()
        .map(|f| {
            let m = std::fs::metadata(f).ok()?;
            Some((m.modified().ok()?, m.len()))
        })
        .collect()
}

fn build_side(spec: &TunnelSpec) -> Result<Side> {
    let backend = spec.tls.backend()?;
    match spec.mode {
        Mode::Server => {
            let auth = spec.client_auth.unwrap_or(ClientAuthMode::Required);
            let sni: Vec<_> = spec
                .routes
                .iter()
                .filter_map(|r| Some((r.sni.clone(), r.cert.clone()?, r.key.clone()?)))
                .collect();
            let config = spec.tls.server_config(auth, &sni)?;
            let context = backend
                .server_context(&config)
                .context("building the server context")?;
            Ok(Side::Server {
                acceptor: TlsAcceptor::new(context),
                pins: spec.tls.parsed_pins()?,
            })
        }
        Mode::Client => {
            let target = spec.target.as_deref().unwrap_or_default();
            let server_name = match &spec.server_name {
                Some(n) => n.clone(),
                None => target
                    .rsplit_once(':')
                    .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
                    .ok_or_else(|| {
                        CliError::Config(format!("target {target:?} is not host:port"))
                    })?,
            };
            polytls::check_server_name(&server_name).context("server_name")?;
            let context = backend
                .client_context(&spec.tls.client_config()?)
                .context("building the client context")?;
            Ok(Side::Client {
                connector: TlsConnector::new(context),
                server_name,
            })
        }
    }
}

async fn reload_loop(tunnels: Vec<Arc<Tunnel>>, interval: f64, stop: CancellationToken) {
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the SIGHUP handler; reload disabled");
            return;
        }
    };
    let period = if interval > 0.0 {
        Duration::from_secs_f64(interval)
    } else {
        Duration::from_secs(u64::from(u32::MAX))
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = hup.recv() => tunnels.iter().for_each(|t| t.reload("SIGHUP")),
            _ = tick.tick() => {
                for t in &tunnels {
                    if t.files_changed() {
                        t.reload("file changed");
                    }
                }
            }
            () = stop.cancelled() => return,
        }
    }
}

async fn accept_loop(
    tunnel: Arc<Tunnel>,
    listener: TcpListener,
    stop: CancellationToken,
    force: CancellationToken,
    tracker: TaskTracker,
) {
    let limit = Arc::new(Semaphore::new(tunnel.spec.max_connections));
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
            sni, alpn, version = facts.version.unwrap_or("-"), client, upstream,
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
    let deadline = Duration::from_secs_f64(t.spec.handshake_timeout);
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
    let idle = Duration::from_secs_f64(t.spec.idle_timeout);
    Ok(pump(tls, plain, t.spec.buffer_size, idle, force).await)
}

fn route<'a>(spec: &'a TunnelSpec, sni: Option<&str>) -> Option<&'a str> {
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
    let deadline = Duration::from_secs_f64(t.spec.handshake_timeout);
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
    let idle = Duration::from_secs_f64(t.spec.idle_timeout);
    Ok(pump(tls, plain, t.spec.buffer_size, idle, force).await)
}
