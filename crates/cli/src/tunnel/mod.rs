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
//! - CRLs (`crls`, reloaded like certificates), allow rules on the client
//!   certificate's names per tunnel and per route ([`access`]), the PROXY
//!   protocol in from balancers and out to the target ([`proxy_header`]),
//!   and Prometheus metrics with a health check ([`metrics`]).

//! - `--check` loads everything (files, keys, certificates, ticket keys)
//!   and exits: 0 if the configuration is good, 2 if not.
//!
//! The code is split by job: [`config`] (one settings type for flags and
//! TOML), `reload` (the TLS side of each tunnel, rebuilt on SIGHUP or file
//! change), `conn` (accepting and serving one connection, and its log line)
//! and [`proxy`] (moving bytes), with the process lifecycle here.

pub mod access;
pub mod config;
mod conn;
pub mod metrics;
pub mod proxy;
pub mod proxy_header;
mod reload;

use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::{CliError, Context, Result};
pub use config::{FileConfig, Globals, Mode, Route, TunnelArgs, TunnelSettings};
use reload::Tunnel;

/// Runs the tunnels until SIGTERM/SIGINT, then drains; with `--check`,
/// only builds everything once and reports.
pub async fn run(args: TunnelArgs) -> Result<()> {
    let config = args.load()?;
    if args.check {
        let metrics = Arc::new(metrics::Metrics::new());
        for spec in config.tunnels {
            spec.resolve_addresses()
                .map_err(|e| CliError::Config(format!("tunnel {:?}: {e}", spec.display_name())))?;
            let t = Tunnel::new(spec, metrics.clone())?;
            println!("tunnel {}: configuration OK ({})", t.name, t.backend);
        }
        return Ok(());
    }
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
    let metrics = Arc::new(metrics::Metrics::new());
    let mut tunnels = Vec::new();
    let mut listeners = Vec::new();
    for spec in config.tunnels {
        let tunnel = Arc::new(Tunnel::new(spec, metrics.clone())?);
        let listener = crate::net::bind_listener(tunnel.spec.listen())
            .await
            .context(format!(
                "tunnel {:?}: binding {}",
                tunnel.name,
                tunnel.spec.listen()
            ))?;
        let addr = listener.local_addr().context("reading the local address")?;
        println!("tunnel {} listening on {addr}", tunnel.name);
        tracing::info!(
            tunnel = %tunnel.name,
            %addr,
            mode = ?tunnel.spec.mode(),
            backend = tunnel.backend,
            upstream = tunnel.spec.target.as_deref().unwrap_or("-"),
            "listening"
        );
        tunnels.push(tunnel.clone());
        listeners.push((tunnel, listener));
    }
    let mut loops = tokio::task::JoinSet::new();
    if let Some(addr) = &config.globals.metrics_listen {
        let listener = crate::net::bind_listener(addr)
            .await
            .context(format!("metrics: binding {addr}"))?;
        let local = listener.local_addr().context("reading the local address")?;
        println!("metrics listening on {local}");
        tracing::info!(addr = %local, "metrics and health listening");
        // Until the drain ends: the health check reports the drain.
        loops.spawn(metrics::serve(metrics.clone(), listener, force.clone()));
    }
    for (tunnel, listener) in listeners {
        loops.spawn(conn::accept_loop(
            tunnel,
            listener,
            stop.clone(),
            force.clone(),
            tracker.clone(),
        ));
    }
    loops.spawn(reload::reload_loop(
        tunnels.clone(),
        config.globals.reload_interval.get(),
        stop.clone(),
    ));

    shutdown.await;
    let open = tracker.len();
    let drain = config.globals.drain_timeout.get();
    tracing::info!(
        open,
        drain_timeout = drain.as_secs_f64(),
        "shutting down: not accepting; draining"
    );
    metrics.set_draining();
    stop.cancel();
    tracker.close();
    if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
        tracing::warn!(
            open = tracker.len(),
            "drain deadline passed; closing what is left"
        );
        force.cancel();
        tracker.wait().await;
    }
    force.cancel();
    while loops.join_next().await.is_some() {}
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
