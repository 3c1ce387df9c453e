//! Metrics and health: counters every tunnel keeps (always on; a few atomic
//! operations per connection), served with `--metrics-listen ADDR` as
//! Prometheus text on `/metrics` and a health check on `/health` (200 while
//! serving, 503 once draining). The format is prometheus-client's, the
//! HTTP hyper's.
//!
//! | metric | labels | meaning |
//! |---|---|---|
//! | `polytls_tunnel_connections_total` | tunnel | connections accepted |
//! | `polytls_tunnel_connections_open` | tunnel | connections open now |
//! | `polytls_tunnel_handshake_failures_total` | tunnel, category | handshakes that failed, by polytls error category (or `handshake_timeout`, `proxy_header`) |
//! | `polytls_tunnel_refused_total` | tunnel, reason | connections refused: after the handshake (`access_denied`, `no_route`, `target_unreachable`, pins, `max_connections`) or at accept (`per_source_limit`) |
//! | `polytls_tunnel_bytes_total` | tunnel, direction | bytes proxied: `from_tls`, `to_tls` (counted as each connection ends) |
//! | `polytls_tunnel_handshake_duration_seconds` | tunnel | histogram of completed handshakes |
//! | `polytls_tunnel_reloads_total` | tunnel, result | TLS reloads: `ok`, `failed` |

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TunnelLabel {
    tunnel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabel {
    tunnel: String,
    category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    tunnel: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabel {
    tunnel: String,
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    tunnel: String,
    result: &'static str,
}

type Histograms = Family<TunnelLabel, Histogram, fn() -> Histogram>;

fn handshake_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every tunnel's counters, in one registry.
pub struct Metrics {
    registry: Registry,
    total: Family<TunnelLabel, Counter>,
    open: Family<TunnelLabel, Gauge>,
    handshake_failures: Family<CategoryLabel, Counter>,
    refused: Family<ReasonLabel, Counter>,
    bytes: Family<DirectionLabel, Counter>,
    handshake: Histograms,
    reloads: Family<ResultLabel, Counter>,
    draining: AtomicBool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty counters, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            total: Family::default(),
            open: Family::default(),
            handshake_failures: Family::default(),
            refused: Family::default(),
            bytes: Family::default(),
            handshake: Family::new_with_constructor(handshake_histogram),
            reloads: Family::default(),
            draining: AtomicBool::new(false),
            registry: Registry::default(),
        };
        registry.register(
            "polytls_tunnel_connections",
            "Connections accepted",
            m.total.clone(),
        );
        registry.register(
            "polytls_tunnel_connections_open",
            "Connections open now",
            m.open.clone(),
        );
        registry.register(
            "polytls_tunnel_handshake_failures",
            "Failed handshakes, by error category",
            m.handshake_failures.clone(),
        );
        registry.register(
            "polytls_tunnel_refused",
            "Connections refused after the handshake, by reason",
            m.refused.clone(),
        );
        registry.register(
            "polytls_tunnel_bytes",
            "Bytes proxied, by direction (from_tls, to_tls)",
            m.bytes.clone(),
        );
        registry.register(
            "polytls_tunnel_handshake_duration_seconds",
            "Duration of completed TLS handshakes",
            m.handshake.clone(),
        );
        registry.register(
            "polytls_tunnel_reloads",
            "TLS configuration reloads, by result (ok, failed)",
            m.reloads.clone(),
        );
        Metrics { registry, ..m }
    }

    fn t(tunnel: &str) -> TunnelLabel {
        TunnelLabel {
            tunnel: tunnel.to_owned(),
        }
    }

    /// A connection was accepted.
    pub fn opened(&self, tunnel: &str) {
        self.total.get_or_create(&Self::t(tunnel)).inc();
        self.open.get_or_create(&Self::t(tunnel)).inc();
    }

    /// A connection ended (after proxying `from_tls` / `to_tls` bytes).
    pub fn closed(&self, tunnel: &str, from_tls: u64, to_tls: u64) {
        // Bytes first, then the open gauge: a scrape encodes the gauge
        // (registered first) before the bytes, so one that sees the
        // connection closed sees its bytes counted too.
        for (direction, n) in [("from_tls", from_tls), ("to_tls", to_tls)] {
            let label = DirectionLabel {
                tunnel: tunnel.to_owned(),
                direction,
            };
            self.bytes.get_or_create(&label).inc_by(n);
        }
        self.open.get_or_create(&Self::t(tunnel)).dec();
    }

    /// A handshake completed in `took`.
    pub fn handshake_done(&self, tunnel: &str, took: Duration) {
        self.handshake
            .get_or_create(&Self::t(tunnel))
            .observe(took.as_secs_f64());
    }

    /// A handshake failed with `category`.
    pub fn handshake_failed(&self, tunnel: &str, category: &str) {
        let label = CategoryLabel {
            tunnel: tunnel.to_owned(),
            category: category.to_owned(),
        };
        self.handshake_failures.get_or_create(&label).inc();
    }

    /// A connection was refused after its handshake, for `reason`.
    pub fn refused(&self, tunnel: &str, reason: &str) {
        let label = ReasonLabel {
            tunnel: tunnel.to_owned(),
            reason: reason.to_owned(),
        };
        self.refused.get_or_create(&label).inc();
    }

    /// A reload happened.
    pub fn reloaded(&self, tunnel: &str, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        let label = ResultLabel {
            tunnel: tunnel.to_owned(),
            result,
        };
        self.reloads.get_or_create(&label).inc();
    }

    /// The process is draining: `/health` answers 503 from now on.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String does not fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn respond(&self, path: &str) -> Response<Full<Bytes>> {
        let (status, content_type, body) = match path {
            "/metrics" => (
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                self.render(),
            ),
            "/health" if self.draining.load(Ordering::Relaxed) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "draining\n".into(),
            ),
            "/health" => (StatusCode::OK, "text/plain", "ok\n".into()),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found: try /metrics or /health\n".into(),
            ),
        };
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    }
}

/// Scrape connections served at once; more wait in the listen backlog, so
/// a flood of scrapers cannot take the process's memory or descriptors.
pub const MAX_SCRAPES: usize = 16;

/// Serves `/metrics` and `/health` on `listener` until `stop`, at most
/// [`MAX_SCRAPES`] connections at once. A listener on anything but loopback
/// is logged as a warning: the metrics name tunnels, peers' failure
/// categories and traffic, for whoever can reach the port.
pub async fn serve(metrics: Arc<Metrics>, listener: TcpListener, stop: CancellationToken) {
    if let Ok(addr) = listener.local_addr() {
        if !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "metrics listen on a non-loopback address: anyone who can reach it reads them"
            );
        }
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_SCRAPES));
    loop {
        let slot = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            () = stop.cancelled() => return,
        };
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let r = metrics.respond(req.uri().path());
                async move { Ok::<_, Infallible>(r) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics: connection failed");
            }
            drop(slot);
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn renders_what_happened() {
        let m = Metrics::new();
        m.opened("db");
        m.opened("db");
        m.handshake_done("db", Duration::from_millis(3));
        m.handshake_failed("db", "invalid_certificate");
        m.refused("db", "access_denied");
        m.closed("db", 10, 20);
        m.reloaded("db", false);
        let text = m.render();
        for line in [
            "polytls_tunnel_connections_total{tunnel=\"db\"} 2",
            "polytls_tunnel_connections_open{tunnel=\"db\"} 1",
            "polytls_tunnel_handshake_failures_total{tunnel=\"db\",category=\"invalid_certificate\"} 1",
            "polytls_tunnel_refused_total{tunnel=\"db\",reason=\"access_denied\"} 1",
            "polytls_tunnel_bytes_total{tunnel=\"db\",direction=\"from_tls\"} 10",
            "polytls_tunnel_bytes_total{tunnel=\"db\",direction=\"to_tls\"} 20",
            "polytls_tunnel_handshake_duration_seconds_count{tunnel=\"db\"} 1",
            "polytls_tunnel_reloads_total{tunnel=\"db\",result=\"failed\"} 1",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
