//! The comparison report: rows of polytls vs direct per backend, case and
//! side, as a text table, JSON and an HTML page with SVG bar charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

#[derive(Debug)]
pub(crate) struct Row {
    kind: &'static str,
    case: String,
    backend: String,
    side: String,
    polytls_ns: f64,
    direct_ns: Option<f64>,
    floor_ns: Option<f64>,
    bytes: Option<u64>,
    /// Instructions per operation (callgrind), polytls and direct.
    instr: Option<(f64, f64)>,
}

pub(crate) struct Report {
    rows: Vec<Row>,
    limits: BTreeMap<String, f64>,
    /// Per backend: bytes per idle session, polytls and direct.
    pub(crate) memory: Vec<Value>,
    /// Cases a backend cannot run: (benchmark group, why).
    pub(crate) unsupported: Vec<(String, String)>,
}

impl Report {
    pub(crate) fn build(results: &BTreeMap<String, f64>, instr: &BTreeMap<String, f64>) -> Self {
        let limits: BTreeMap<String, f64> = results
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("limits/").map(|k| (k.to_owned(), *v)))
            .collect();
        let lim = |k: &str| limits.get(k).copied();
        let mut rows = Vec::new();
        for (id, ns) in results {
            let parts: Vec<&str> = id.split('/').collect();
            let [kind, case, backend, func] = parts[..] else {
                continue;
            };
            let Some(side) = func.strip_prefix("polytls-") else {
                continue;
            };
            let direct = results
                .get(&format!("{kind}/{case}/{backend}/direct-{side}"))
                .copied();
            let (kind, floor, bytes) = match kind {
                "handshake" => ("handshake", handshake_floor(case, side, &lim), None),
                "throughput" => {
                    let bytes = if case.contains("-1m-") {
                        1 << 20
                    } else {
                        16 << 10
                    };
                    let suite = case.split('-').next().unwrap_or_default();
                    let floor = lim(&format!("aead/{suite}"))
                        .map(|per16k| per16k * (bytes as f64 / 16384.0));
                    ("throughput", floor, Some(bytes))
                }
                // Both ends and the kernel's loopback work: no crypto floor.
                "tokio-handshake" => ("tokio-handshake", None, None),
                "tokio-throughput" => ("tokio-throughput", None, Some(1 << 20)),
                _ => continue,
            };
            let counted = |imp: &str| instr.get(&format!("{kind}/{case}/{backend}/{imp}-{side}"));
            let instr = counted("polytls")
                .zip(counted("direct"))
                .map(|(p, d)| (*p, *d));
            rows.push(Row {
                instr,
                kind,
                case: case.to_owned(),
                backend: backend.to_owned(),
                side: side.to_owned(),
                polytls_ns: *ns,
                direct_ns: direct,
                floor_ns: floor,
                bytes,
            });
        }
        rows.sort_by(|a, b| {
            (a.kind, &a.case, &a.side, &a.backend).cmp(&(b.kind, &b.case, &b.side, &b.backend))
        });
        Self {
            rows,
            limits,
            memory: Vec::new(),
            unsupported: Vec::new(),
        }
    }

    pub(crate) fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<16} {:<24} {:<9} {:<8} {:>14} {:>14} {:>9} {:>10} {:>12}",
            "kind",
            "case",
            "side",
            "backend",
            "polytls",
            "direct",
            "overhead",
            "of floor",
            "instr Δ"
        );
        for r in &self.rows {
            let fmt_v = |ns: f64| match r.bytes {
                Some(b) => format!("{:.0} MiB/s", b as f64 / ns * 1e9 / (1 << 20) as f64),
                None => format!("{:.1} µs", ns / 1000.0),
            };
            let overhead = r
                .direct_ns
                .map(|d| format!("{:+.1}%", (r.polytls_ns / d - 1.0) * 100.0))
                .unwrap_or_else(|| "-".into());
            let floor = r
                .floor_ns
                .map(|f| format!("{:.0}%", f / r.polytls_ns * 100.0))
                .unwrap_or_else(|| "-".into());
            let instr = r
                .instr
                .map(|(p, d)| format!("{:+.2}%", (p / d - 1.0) * 100.0))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                s,
                "{:<16} {:<24} {:<9} {:<8} {:>14} {:>14} {:>9} {:>10} {:>12}",
                r.kind,
                r.case,
                r.side,
                r.backend,
                fmt_v(r.polytls_ns),
                r.direct_ns.map(fmt_v).unwrap_or_else(|| "-".into()),
                overhead,
                floor,
                instr
            );
        }
        if !self.memory.is_empty() {
            let _ = writeln!(
                s,
                "\nmemory per established idle session (TLS 1.3, ECDSA), bytes:\n{:<8} {:>14} {:>14} {:>14} {:>14}",
                "backend", "polytls client", "direct client", "polytls server", "direct server"
            );
            for m in &self.memory {
                let v = |k: &str| m[k].as_i64().map_or("-".into(), |n| n.to_string());
                let _ = writeln!(
                    s,
                    "{:<8} {:>14} {:>14} {:>14} {:>14}",
                    m["backend"].as_str().unwrap_or_default(),
                    v("polytls_client"),
                    v("direct_client"),
                    v("polytls_server"),
                    v("direct_server")
                );
            }
        }
        let aead: Vec<String> = ["aes128gcm", "aes256gcm", "chacha20"]
            .iter()
            .filter_map(|a| {
                let ns = self.limits.get(&format!("aead/{a}"))?;
                Some(format!(
                    "{a} {:.0} MiB/s",
                    16384.0 / ns * 1e9 / (1 << 20) as f64
                ))
            })
            .collect();
        if let Some(copy) = self.limits.get("aead/memcpy") {
            let _ = writeln!(
                s,
                "\nlimits per 16 KiB record: AEAD seal {}; memcpy {:.2} µs \
(a buffered TLS API copies each record twice per side)",
                aead.join(", "),
                copy / 1000.0
            );
        }
        for (id, why) in &self.unsupported {
            let _ = writeln!(s, "{id:<59} n/a: {why}");
        }
        let _ = writeln!(
            s,
            "\noverhead: polytls median / direct median - 1 (same side, same case); \
of floor: this machine's crypto cost for the same work (aws-lc-rs) / polytls median; \
instr Δ: polytls / direct instructions per operation - 1 (callgrind, same side, same case)"
        );
        s
    }

    pub(crate) fn json(&self) -> String {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "kind": r.kind, "case": r.case, "backend": r.backend, "side": r.side,
                    "polytls_median_ns": r.polytls_ns, "direct_median_ns": r.direct_ns,
                    "floor_ns": r.floor_ns, "bytes": r.bytes,
                    "polytls_instructions": r.instr.map(|i| i.0),
                    "direct_instructions": r.instr.map(|i| i.1),
                })
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({
            "rows": rows, "limits_ns": self.limits, "memory_bytes": self.memory,
            "unsupported": self.unsupported.iter()
                .map(|(id, why)| serde_json::json!({ "id": id, "reason": why }))
                .collect::<Vec<_>>(),
        }))
        .unwrap_or_default()
    }

    pub(crate) fn html(&self) -> String {
        let mut h = String::from(
            "<!doctype html><meta charset=utf-8><title>polytls comparison</title>\
<style>body{font:14px system-ui;margin:2em}h2{margin-top:2em}.l{font:12px monospace}</style>\
<h1>polytls backend comparison</h1><p>Median per operation; bars: through polytls (dark) \
and the same library driven directly (light). Shorter is faster for handshakes; \
throughput shows MiB/s (longer is faster).</p>",
        );
        let mut groups: BTreeMap<(String, String, String), Vec<&Row>> = BTreeMap::new();
        for r in &self.rows {
            groups
                .entry((r.kind.to_owned(), r.case.clone(), r.side.clone()))
                .or_default()
                .push(r);
        }
        for ((kind, case, side), rows) in groups {
            let value = |r: &Row, ns: f64| match r.bytes {
                Some(b) => b as f64 / ns * 1e9 / (1 << 20) as f64,
                None => ns / 1000.0,
            };
            let unit = if kind.ends_with("throughput") {
                "MiB/s"
            } else {
                "µs"
            };
            let max = rows
                .iter()
                .flat_map(|r| {
                    [
                        Some(value(r, r.polytls_ns)),
                        r.direct_ns.map(|d| value(r, d)),
                    ]
                })
                .flatten()
                .fold(0.0f64, f64::max)
                .max(1e-9);
            let height = rows.len() * 44 + 10;
            let _ = write!(h, "<h2>{kind} · {case} · {side}</h2><svg width='760' height='{height}' xmlns='http://www.w3.org/2000/svg'>");
            for (i, r) in rows.iter().enumerate() {
                let y = i * 44 + 5;
                let _ = write!(
                    h,
                    "<text x='0' y='{}' class='l'>{}</text>",
                    y + 16,
                    r.backend
                );
                let p = value(r, r.polytls_ns);
                let _ = write!(h, "<rect x='80' y='{y}' width='{:.1}' height='18' fill='#2b5797'/><text x='{:.1}' y='{}' class='l'>{p:.1} {unit}</text>",
                    p / max * 560.0, 86.0 + p / max * 560.0, y + 14);
                if let Some(d) = r.direct_ns {
                    let d = value(r, d);
                    let _ = write!(h, "<rect x='80' y='{}' width='{:.1}' height='18' fill='#9fb8e0'/><text x='{:.1}' y='{}' class='l'>{d:.1} {unit} direct</text>",
                        y + 20, d / max * 560.0, 86.0 + d / max * 560.0, y + 34);
                }
            }
            h.push_str("</svg>");
        }
        let _ = write!(h, "<h2>Table</h2><pre>{}</pre>", self.table());
        h
    }
}

/// The crypto floor of one side of a handshake: X25519 plus the signatures
/// that side makes and verifies (every certificate in the test PKI is signed
/// with ECDSA P-256; leaves are ECDSA P-256 or RSA-2048).
fn handshake_floor(case: &str, side: &str, lim: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    // The limits measure X25519, ECDSA P-256 and RSA-2048 only: no floor
    // for the other key types and groups rather than a wrong one.
    if ["p384", "ed25519", "rsa4096", "mlkem"]
        .iter()
        .any(|k| case.contains(k))
    {
        return None;
    }
    let kx = lim("crypto/x25519-keygen-agree")?;
    if case.contains("resumed") {
        return case.starts_with("tls13").then_some(kx);
    }
    let (sign, verify_leaf) = if case.contains("rsa") {
        (lim("crypto/rsa2048-sign")?, lim("crypto/rsa2048-verify")?)
    } else {
        (
            lim("crypto/ecdsa-p256-sign")?,
            lim("crypto/ecdsa-p256-verify")?,
        )
    };
    let ecdsa_sign = lim("crypto/ecdsa-p256-sign")?;
    let ecdsa_verify = lim("crypto/ecdsa-p256-verify")?;
    // Verifying a peer: its handshake signature plus two chain signatures.
    let (server, client) = (kx + sign, kx + verify_leaf + 2.0 * ecdsa_verify);
    let mtls = case.contains("mtls");
    Some(match (side, mtls) {
        ("client", false) => client,
        ("client", true) => client + ecdsa_sign,
        ("server", false) => server,
        (_, true) => server + 3.0 * ecdsa_verify,
        _ => return None,
    })
}
