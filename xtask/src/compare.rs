//! `cargo xtask compare`: runs the per-backend bench binaries as separate
//! processes (never OpenSSL with BoringSSL in one binary), then reads
//! criterion's results and prints one table: median through polytls, the
//! same case driven directly (no polytls) and the ratio, and the share of
//! this machine's crypto floor. Writes `target/polytls-report/` (JSON, HTML).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde_json::Value;

/// One bench binary: backend name, cargo features, bench target.
const RUNNERS: &[(&str, &[&str], &str)] = &[
    ("limits", &[], "limits"),
    ("rustls", &[], "rustls"),
    ("openssl", &["--features", "openssl"], "openssl"),
    ("boring", &["--features", "boring"], "boring"),
];

struct Options {
    quick: bool,
    backends: Vec<String>,
    case: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        backends: Vec::new(),
        case: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--backend" => o
                .backends
                .push(it.next().ok_or("--backend needs a name")?.clone()),
            "--case" => o.case = Some(it.next().ok_or("--case needs a filter")?.clone()),
            other => {
                return Err(format!(
                    "unknown option {other:?} (use --quick, --backend NAME, --case FILTER)"
                ))
            }
        }
    }
    for b in &o.backends {
        if !["rustls", "openssl", "boring"].contains(&b.as_str()) {
            return Err(format!("unknown backend {b:?}: rustls, openssl or boring"));
        }
    }
    Ok(o)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let started = SystemTime::now();
    let target = target_dir();
    let runners: Vec<_> = RUNNERS
        .iter()
        .filter(|(name, _, _)| {
            *name == "limits" || opts.backends.is_empty() || opts.backends.iter().any(|b| b == name)
        })
        .collect();
    for (i, (name, features, bench)) in runners.iter().enumerate() {
        eprintln!(
            "[{}/{}] building and running the {name} benchmarks",
            i + 1,
            runners.len()
        );
        let mut args: Vec<String> = ["bench", "--package", "polytls-bench", "--bench", bench]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(features.iter().map(|s| s.to_string()));
        args.extend(["--", "--noplot"].iter().map(|s| s.to_string()));
        if opts.quick {
            args.extend(
                [
                    "--warm-up-time",
                    "0.2",
                    "--measurement-time",
                    "0.4",
                    "--sample-size",
                    "10",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
        }
        if let (Some(case), false) = (&opts.case, *name == "limits") {
            args.push(case.clone());
        }
        run_with_progress(name, &args)?;
    }
    let results = collect(&target.join("criterion"), started)?;
    let mut report = Report::build(&results);
    report.memory = collect_memory(&target.join("polytls-report"), started);
    println!("{}", report.table());
    let dir = target.join("polytls-report");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("results.json"), report.json()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("index.html"), report.html()).map_err(|e| e.to_string())?;
    eprintln!("report: {}", dir.join("index.html").display());
    Ok(())
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        })
}

/// Runs cargo bench, showing one progress line per finished benchmark.
fn run_with_progress(name: &str, args: &[String]) -> Result<(), String> {
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut done = 0;
    let mut current = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if !line.starts_with(' ') && !line.trim().is_empty() && !line.contains("time:") {
                current = line
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            if let Some(pos) = line.find("time:") {
                done += 1;
                let id = line[..pos].trim();
                let id = if id.is_empty() { current.as_str() } else { id };
                eprintln!("  {name} [{done:>3}] {id:<60} {}", line[pos..].trim());
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the {name} benchmarks failed ({status})"))
    }
}

/// Median nanoseconds per benchmark id (`group/function`).
fn collect(dir: &Path, since: SystemTime) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.file_name().and_then(|n| n.to_str()) != Some("benchmark.json")
                || p.parent()
                    .and_then(|x| x.file_name())
                    .and_then(|n| n.to_str())
                    != Some("new")
            {
                continue;
            }
            let fresh = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .map(|t| t >= since)
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let read = |f: &Path| -> Option<Value> {
                serde_json::from_str(&std::fs::read_to_string(f).ok()?).ok()
            };
            let (Some(meta), Some(est)) = (read(&p), read(&p.with_file_name("estimates.json")))
            else {
                continue;
            };
            let id = meta["full_id"].as_str().unwrap_or_default().to_owned();
            if let Some(ns) = est["median"]["point_estimate"].as_f64() {
                out.insert(id, ns);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no fresh results under {}", dir.display()));
    }
    Ok(out)
}

#[derive(Debug)]
struct Row {
    kind: &'static str,
    case: String,
    backend: String,
    side: String,
    polytls_ns: f64,
    direct_ns: Option<f64>,
    floor_ns: Option<f64>,
    bytes: Option<u64>,
}

struct Report {
    rows: Vec<Row>,
    limits: BTreeMap<String, f64>,
    /// Per backend: bytes per idle session, polytls and direct.
    memory: Vec<Value>,
}

/// The `memory-<backend>.json` files the bench binaries wrote in this run.
fn collect_memory(dir: &Path, since: SystemTime) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Value> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("memory-") && n.ends_with(".json"))
        })
        .filter(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        })
        .filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok())
        .collect();
    out.sort_by_key(|v: &Value| v["backend"].as_str().unwrap_or_default().to_owned());
    out
}

impl Report {
    fn build(results: &BTreeMap<String, f64>) -> Self {
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
            rows.push(Row {
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
        }
    }

    fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<16} {:<24} {:<9} {:<8} {:>14} {:>14} {:>9} {:>10}",
            "kind", "case", "side", "backend", "polytls", "direct", "overhead", "of floor"
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
            let _ = writeln!(
                s,
                "{:<16} {:<24} {:<9} {:<8} {:>14} {:>14} {:>9} {:>10}",
                r.kind,
                r.case,
                r.side,
                r.backend,
                fmt_v(r.polytls_ns),
                r.direct_ns.map(fmt_v).unwrap_or_else(|| "-".into()),
                overhead,
                floor
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
        let _ = writeln!(
            s,
            "\noverhead: polytls median / direct median - 1 (same side, same case); \
of floor: this machine's crypto cost for the same work (aws-lc-rs) / polytls median"
        );
        s
    }

    fn json(&self) -> String {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "kind": r.kind, "case": r.case, "backend": r.backend, "side": r.side,
                    "polytls_median_ns": r.polytls_ns, "direct_median_ns": r.direct_ns,
                    "floor_ns": r.floor_ns, "bytes": r.bytes,
                })
            })
            .collect();
        serde_json::to_string_pretty(
            &serde_json::json!({ "rows": rows, "limits_ns": self.limits, "memory_bytes": self.memory }),
        )
            .unwrap_or_default()
    }

    fn html(&self) -> String {
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
