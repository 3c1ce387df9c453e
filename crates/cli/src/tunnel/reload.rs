//! The TLS side of each tunnel, built from its settings and rebuilt on
//! SIGHUP or when one of its files changes; a reload that fails keeps the
//! previous side.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use polytls::tokio_io::{DynTlsAcceptor, DynTlsConnector};
use polytls::{Backend, SpkiPin};
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use ipnet::IpNet;

use super::config::{Mode, TunnelSettings};
use super::metrics::Metrics;
use super::proxy_header;
use crate::error::{CliError, Context, Result};
use crate::tls::ClientAuthMode;

/// The TLS side of a tunnel, rebuilt on reload.
pub(super) enum Side {
    Server {
        acceptor: DynTlsAcceptor,
        pins: Vec<SpkiPin>,
    },
    Client {
        connector: DynTlsConnector,
        server_name: String,
    },
}

/// One tunnel: its settings and its current TLS side.
pub(super) struct Tunnel {
    pub(super) spec: TunnelSettings,
    pub(super) name: String,
    pub(super) backend: &'static str,
    side: RwLock<Arc<Side>>,
    stamps: Mutex<Vec<Option<(SystemTime, u64)>>>,
    pub(super) ids: AtomicU64,
    /// Balancers that may connect, each with a PROXY header first (empty:
    /// anyone, without one).
    pub(super) proxy_sources: Vec<IpNet>,
    pub(super) metrics: Arc<Metrics>,
}

impl Tunnel {
    pub(super) fn new(spec: TunnelSettings, metrics: Arc<Metrics>) -> Result<Self> {
        let name = spec.display_name();
        let backend = spec.tls.backend()?.name();
        let side = build_side(&spec).map_err(|e| match e {
            CliError::Config(m) => CliError::Config(format!("tunnel {name:?}: {m}")),
            other => other,
        })?;
        let stamps = stamps(&spec.files());
        let proxy_sources =
            proxy_header::parse_sources(&spec.accept_proxy_from).map_err(CliError::Config)?;
        Ok(Self {
            spec,
            name,
            backend,
            side: RwLock::new(Arc::new(side)),
            stamps: Mutex::new(stamps),
            ids: AtomicU64::new(0),
            proxy_sources,
            metrics,
        })
    }

    pub(super) fn side(&self) -> Arc<Side> {
        self.side.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the TLS side from the files; on failure keeps the old one.
    fn reload(&self, why: &str) {
        *self.stamps.lock().unwrap_or_else(|p| p.into_inner()) = stamps(&self.spec.files());
        match build_side(&self.spec) {
            Ok(side) => {
                *self.side.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(side);
                self.metrics.reloaded(&self.name, true);
                tracing::info!(tunnel = %self.name, why, "TLS configuration reloaded");
            }
            Err(e) => {
                self.metrics.reloaded(&self.name, false);
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

fn build_side(spec: &TunnelSettings) -> Result<Side> {
    let backend = spec.tls.backend()?;
    match spec.mode() {
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
                acceptor: DynTlsAcceptor::new(context),
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
                connector: DynTlsConnector::new(context),
                server_name,
            })
        }
    }
}

/// Reloads on SIGHUP, and when files change (checked every `interval`).
pub(super) async fn reload_loop(
    tunnels: Vec<Arc<Tunnel>>,
    interval: Option<Duration>,
    stop: CancellationToken,
) {
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the SIGHUP handler; reload disabled");
            return;
        }
    };
    // Off: a period no tunnel outlives (tokio's own "far future").
    let period = interval.unwrap_or(Duration::from_secs(86_400 * 365 * 30));
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
