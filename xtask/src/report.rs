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
    /// Per backend: its library's crypto floor (`aead/<suite>`, `crypto/<op>`), ns.
    floors: BTreeMap<String, BTreeMap<String, f64>>,
    /// Per backend: bytes per idle session, polytls and direct.
    pub(crate) memory: Vec<Value>,
    /// Cases a backend cannot run: (benchmark group, why).
    pub(crate) unsupported: Vec<(String, String)>,
    /// How, where and when the run was made (`run_meta`).
    pub(crate) meta: Value,
    /// The scale harness' JSON lines: `handshakes` points (per server
    /// thread count) and `idle` points (per connection count).
    pub(crate) scale: Vec<Value>,
}

/// The version of `results.json`'s layout; `compare --diff` reads this one
/// and the earlier ones (it compares rows, which every version has). 3: the
/// floors are per backend (`floors_ns`, each measured with the backend's own
/// library) instead of one `limits_ns`.
pub(crate) const SCHEMA_VERSION: u64 = 3;

/// The most instructions polytls may add to any row, in percent of the
/// library used directly.
const OVERHEAD_TARGET: f64 = 0.5;

/// The run's description for `results.json`: mode, machine, commit, time.
pub(crate) fn run_meta(mode: &str, instructions: bool, seconds: f64) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    serde_json::json!({
        "mode": mode,
        "instructions": instructions,
        "run_seconds": seconds.round(),
        "finished_unix": unix,
        "commit": commit,
        "machine": { "cores": cores, "cpu": cpu, "kernel": kernel },
    })
}

/// The family a case belongs to in the summary.
fn family(kind: &str, case: &str) -> String {
    match kind {
        "handshake" if case.contains("mlkem") => "post-quantum hybrid handshake".into(),
        "handshake" if case.contains("resumed") => "resumed handshake".into(),
        "handshake" if case.contains("mtls") => "mutual-TLS handshake".into(),
        "handshake" => "full handshake".into(),
        "throughput" => format!("bulk {}", case.split('-').next().unwrap_or_default()),
        "tokio-handshake" => "tokio handshake, loopback".into(),
        "tokio-throughput" => "tokio bulk, loopback".into(),
        other => other.into(),
    }
}

/// Text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One summary line: a family and, per backend, its time relative to the
/// best backend (`None`: not run) and whether some of its cases are n/a.
struct SummaryLine {
    family: String,
    cells: Vec<(Option<f64>, bool)>,
}

impl Report {
    /// Rows from criterion's medians, the floors measured beside each
    /// backend's groups and the instruction counts.
    pub(crate) fn build(
        results: &BTreeMap<String, f64>,
        floors: &BTreeMap<String, BTreeMap<String, f64>>,
        instr: &BTreeMap<String, f64>,
    ) -> Self {
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
            // The floor measured right before this backend's group.
            let lim = |k: &str| floors.get(backend).and_then(|f| f.get(k)).copied();
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
            floors: floors.clone(),
            memory: Vec::new(),
            unsupported: Vec::new(),
            meta: Value::Null,
            scale: Vec::new(),
        }
    }

    /// Columns (backends, and the vendored OpenSSL) that appear in the run,
    /// in the usual order.
    fn backends(&self) -> Vec<&'static str> {
        crate::compare::columns()
            .into_iter()
            .filter(|b| {
                self.rows.iter().any(|r| r.backend == *b)
                    || self
                        .unsupported
                        .iter()
                        .any(|(id, _)| id.ends_with(&format!("/{b}")))
            })
            .collect()
    }

    /// Per column: the library (name and version) its bench binary linked.
    fn libraries(&self) -> Vec<(&'static str, String)> {
        self.backends()
            .into_iter()
            .map(|b| {
                let lib = self
                    .memory
                    .iter()
                    .find(|m| m["backend"] == b)
                    .and_then(|m| m["library"].as_str())
                    .unwrap_or("(version not recorded)");
                (b, lib.to_owned())
            })
            .collect()
    }

    /// Per case family and backend: the geometric mean, over the family's
    /// cases and sides, of the time through polytls relative to the fastest
    /// backend for that same case and side (1.00 = the best).
    fn summary(&self) -> Vec<SummaryLine> {
        let backends = self.backends();
        let mut fams: BTreeMap<String, BTreeMap<(String, String), Vec<&Row>>> = BTreeMap::new();
        for r in &self.rows {
            fams.entry(family(r.kind, &r.case))
                .or_default()
                .entry((r.case.clone(), r.side.clone()))
                .or_default()
                .push(r);
        }
        let mut na: BTreeMap<(String, String), bool> = BTreeMap::new();
        for (id, _) in &self.unsupported {
            let parts: Vec<&str> = id.split('/').collect();
            if let [kind, case, backend] = parts[..] {
                na.insert((family(kind, case), backend.to_owned()), true);
                fams.entry(family(kind, case)).or_default();
            }
        }
        let mut out: Vec<SummaryLine> = fams
            .into_iter()
            .map(|(fam, cases)| {
                let cells = backends
                    .iter()
                    .map(|b| {
                        let logs: Vec<f64> = cases
                            .values()
                            .filter_map(|rows| {
                                let best =
                                    rows.iter().map(|r| r.polytls_ns).fold(f64::MAX, f64::min);
                                let mine = rows.iter().find(|r| r.backend == *b)?;
                                Some((mine.polytls_ns / best).ln())
                            })
                            .collect();
                        let rel = (!logs.is_empty())
                            .then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp());
                        (rel, na.contains_key(&(fam.clone(), (*b).to_owned())))
                    })
                    .collect();
                SummaryLine { family: fam, cells }
            })
            .collect();
        // Scale: handshakes per second at the most server threads measured
        // (time relative: best rate / this rate), and resident memory per
        // idle connection at the most connections measured.
        let most = |kind: &str, key: &str| {
            self.scale
                .iter()
                .filter(|v| v["kind"] == kind)
                .filter_map(|v| v[key].as_u64())
                .max()
        };
        if let Some(t) = most("handshakes", "server_threads") {
            let rate: Vec<Option<f64>> = backends
                .iter()
                .map(|b| {
                    self.scale
                        .iter()
                        .find(|v| v["backend"] == *b && v["server_threads"] == t)?["per_second"]
                        .as_f64()
                })
                .collect();
            let best = rate.iter().flatten().copied().fold(0.0, f64::max);
            out.push(SummaryLine {
                family: format!("handshakes/s, TCP, {t} threads"),
                cells: rate
                    .iter()
                    .map(|r| (r.filter(|r| *r > 0.0).map(|r| best / r), false))
                    .collect(),
            });
        }
        if let Some(n) = most("idle", "connections") {
            let bytes: Vec<Option<f64>> = backends
                .iter()
                .map(|b| {
                    let v = self.scale.iter().find(|v| {
                        v["kind"] == "idle" && v["backend"] == *b && v["connections"] == n
                    })?;
                    Some(
                        v["server_bytes_per_connection"].as_f64()?
                            + v["client_bytes_per_connection"].as_f64()?,
                    )
                })
                .collect();
            let least = bytes.iter().flatten().copied().fold(f64::MAX, f64::min);
            if least > 0.0 && least < f64::MAX {
                out.push(SummaryLine {
                    family: format!("RSS per idle conn, {n}"),
                    cells: bytes
                        .iter()
                        .map(|b| (b.map(|b| b / least), false))
                        .collect(),
                });
            }
        }
        // Memory per idle session: client plus server bytes, through polytls.
        let mem: Vec<Option<f64>> = backends
            .iter()
            .map(|b| {
                let m = self.memory.iter().find(|m| m["backend"] == *b)?;
                Some((m["polytls_client"].as_i64()? + m["polytls_server"].as_i64()?) as f64)
            })
            .collect();
        let least = mem.iter().flatten().copied().fold(f64::MAX, f64::min);
        if least > 0.0 && least < f64::MAX {
            out.push(SummaryLine {
                family: "memory per idle session".into(),
                cells: mem.iter().map(|m| (m.map(|m| m / least), false)).collect(),
            });
        }
        out
    }

    /// Per backend: the largest instruction-count overhead of any row and
    /// the number of rows counted.
    fn overhead_verdict(&self) -> Vec<(&'static str, Option<(f64, usize)>)> {
        self.backends()
            .into_iter()
            .map(|b| {
                let deltas: Vec<f64> = self
                    .rows
                    .iter()
                    .filter(|r| r.backend == b)
                    .filter_map(|r| r.instr.map(|(p, d)| (p / d - 1.0) * 100.0))
                    .collect();
                let worst = deltas.iter().copied().fold(f64::MIN, f64::max);
                (b, (!deltas.is_empty()).then_some((worst, deltas.len())))
            })
            .collect()
    }

    /// The scale harness' figures as text.
    fn scale_text(&self) -> String {
        let mut s = String::new();
        let hs: Vec<&Value> = self
            .scale
            .iter()
            .filter(|v| v["kind"] == "handshakes")
            .collect();
        if !hs.is_empty() {
            let _ = writeln!(
                s,
                "\nscale over loopback TCP (TLS 1.3, X25519, ECDSA P-256; a new connection each; \
the client on all cores beside the server):\n{:<16} {:>14} {:>13} {:>9} {:>9}",
                "backend", "server threads", "handshakes/s", "p50 ms", "p99 ms"
            );
            for v in hs {
                let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
                let _ = writeln!(
                    s,
                    "{:<16} {:>14} {:>13.0} {:>9.2} {:>9.2}",
                    v["backend"].as_str().unwrap_or_default(),
                    v["server_threads"],
                    f("per_second"),
                    f("p50_us") / 1000.0,
                    f("p99_us") / 1000.0
                );
            }
        }
        let idle: Vec<&Value> = self.scale.iter().filter(|v| v["kind"] == "idle").collect();
        if !idle.is_empty() {
            let _ = writeln!(
                s,
                "\nresident memory per established idle connection (VmRSS growth / connections), bytes:\n{:<16} {:>12} {:>10} {:>10}",
                "backend", "connections", "server", "client"
            );
            for v in &idle {
                let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
                let _ = writeln!(
                    s,
                    "{:<16} {:>12} {:>10.0} {:>10.0}",
                    v["backend"].as_str().unwrap_or_default(),
                    v["connections"],
                    f("server_bytes_per_connection"),
                    f("client_bytes_per_connection")
                );
            }
            let direct: Vec<&Value> = self
                .scale
                .iter()
                .filter(|v| v["kind"] == "idle-direct")
                .collect();
            if !direct.is_empty() {
                let _ = writeln!(
                    s,
                    "\nthe library used directly (its own tokio adapter), and polytls / direct:\n{:<16} {:>12} {:>10} {:>10} {:>8} {:>8}",
                    "backend", "connections", "server", "client", "server", "client"
                );
            }
            for d in direct {
                let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
                let through = idle
                    .iter()
                    .find(|v| v["backend"] == d["backend"] && v["connections"] == d["connections"]);
                let ratio = |k: &str| through.map_or(f64::NAN, |v| f(v, k) / f(d, k));
                let _ = writeln!(
                    s,
                    "{:<16} {:>12} {:>10.0} {:>10.0} {:>8.2} {:>8.2}",
                    d["backend"].as_str().unwrap_or_default(),
                    d["connections"],
                    f(d, "server_bytes_per_connection"),
                    f(d, "client_bytes_per_connection"),
                    ratio("server_bytes_per_connection"),
                    ratio("client_bytes_per_connection")
                );
            }
        }
        s
    }

    /// The scale figures as SVG charts: handshakes/s by server threads (one
    /// line per backend) and bytes per idle connection (bars).
    fn scale_html(&self) -> String {
        let colors = [
            "#2b5797", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085",
        ];
        let backends = self.backends();
        let hs: Vec<&Value> = self
            .scale
            .iter()
            .filter(|v| v["kind"] == "handshakes")
            .collect();
        if hs.is_empty() {
            return String::new();
        }
        let mut h = String::from(
            "<h2>Scale over loopback TCP</h2><p>Handshakes per second (TLS 1.3, a new TCP \
connection each) as the server gets more worker threads; the client runs on all cores \
beside it, so on a small machine this is what the pair costs.</p>",
        );
        let max_t = hs
            .iter()
            .filter_map(|v| v["server_threads"].as_u64())
            .max()
            .unwrap_or(1);
        let max_r = hs
            .iter()
            .filter_map(|v| v["per_second"].as_f64())
            .fold(1.0, f64::max);
        let (w, ht, x0, y0) = (560.0, 240.0, 60.0, 20.0);
        let x = |t: u64| {
            x0 + if max_t > 1 {
                (t - 1) as f64 / (max_t - 1) as f64 * w
            } else {
                w / 2.0
            }
        };
        let y = |r: f64| y0 + ht - r / max_r * ht;
        let _ = write!(
            h,
            "<svg width='760' height='{}' xmlns='http://www.w3.org/2000/svg'>\
<line x1='{x0}' y1='{}' x2='{}' y2='{}' stroke='#888'/><line x1='{x0}' y1='{y0}' x2='{x0}' y2='{}' stroke='#888'/>\
<text x='0' y='{}' class='l'>{max_r:.0}/s</text><text x='40' y='{}' class='l'>0</text><text x='{}' y='{}' class='l'>server threads</text>",
            ht + 60.0,
            y0 + ht,
            x0 + w,
            y0 + ht,
            y0 + ht,
            y0 + 10.0,
            y0 + ht,
            x0 + w - 90.0,
            y0 + ht + 32.0
        );
        for t in 1..=max_t {
            if hs.iter().any(|v| v["server_threads"] == t) {
                let _ = write!(
                    h,
                    "<text x='{:.1}' y='{}' class='l'>{t}</text>",
                    x(t) - 3.0,
                    y0 + ht + 16.0
                );
            }
        }
        for (i, b) in backends.iter().enumerate() {
            let pts: Vec<(u64, f64)> = hs
                .iter()
                .filter(|v| v["backend"] == *b)
                .filter_map(|v| Some((v["server_threads"].as_u64()?, v["per_second"].as_f64()?)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let c = colors[i % colors.len()];
            let path: Vec<String> = pts
                .iter()
                .map(|(t, r)| format!("{:.1},{:.1}", x(*t), y(*r)))
                .collect();
            let _ = write!(
                h,
                "<polyline fill='none' stroke='{c}' stroke-width='2' points='{}'/>",
                path.join(" ")
            );
            for (t, r) in &pts {
                let _ = write!(
                    h,
                    "<circle cx='{:.1}' cy='{:.1}' r='3' fill='{c}'/>",
                    x(*t),
                    y(*r)
                );
            }
            let (lt, lr) = pts[pts.len() - 1];
            let _ = write!(
                h,
                "<text x='{:.1}' y='{:.1}' class='l' fill='{c}'>{b} {lr:.0}/s</text>",
                x(lt) + 6.0,
                y(lr) + 4.0 + i as f64 * 12.0
            );
        }
        h.push_str("</svg>");
        let idle: Vec<&Value> = self.scale.iter().filter(|v| v["kind"] == "idle").collect();
        if !idle.is_empty() {
            h.push_str(
                "<p>Resident memory per established idle connection (growth of each \
process' VmRSS divided by the connections): server (dark) and client (light).</p>",
            );
            let max_b = idle
                .iter()
                .flat_map(|v| {
                    [
                        v["server_bytes_per_connection"].as_f64(),
                        v["client_bytes_per_connection"].as_f64(),
                    ]
                })
                .flatten()
                .fold(1.0, f64::max);
            let height = idle.len() * 44 + 10;
            let _ = write!(
                h,
                "<svg width='760' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
            );
            for (i, v) in idle.iter().enumerate() {
                let yy = i * 44 + 5;
                let _ = write!(
                    h,
                    "<text x='0' y='{}' class='l'>{} {}</text>",
                    yy + 16,
                    v["backend"].as_str().unwrap_or_default(),
                    v["connections"]
                );
                for (j, (k, fill)) in [
                    ("server_bytes_per_connection", "#2b5797"),
                    ("client_bytes_per_connection", "#9fb8e0"),
                ]
                .iter()
                .enumerate()
                {
                    let b = v[*k].as_f64().unwrap_or(0.0);
                    let _ = write!(h, "<rect x='130' y='{}' width='{:.1}' height='18' fill='{fill}'/><text x='{:.1}' y='{}' class='l'>{:.1} KB</text>",
                        yy + j * 20, b / max_b * 500.0, 136.0 + b / max_b * 500.0, yy + j * 20 + 14, b / 1000.0);
                }
            }
            h.push_str("</svg>");
        }
        h
    }

    /// The summary as text: the table that answers "which backend".
    fn summary_text(&self) -> String {
        let backends = self.backends();
        let w = backends.iter().map(|b| b.len()).max().unwrap_or(0).max(9);
        let mut s = String::from(
            "summary: time per operation through polytls relative to the fastest backend \
(1.00 = best; geometric mean over the family's cases and sides; n/a = cannot run, * = some cases n/a)\n",
        );
        for (b, lib) in self.libraries() {
            let _ = writeln!(s, "  {b:<16} {lib}");
        }
        let _ = write!(s, "{:<32}", "family");
        for b in &backends {
            let _ = write!(s, " {b:>w$}");
        }
        s.push('\n');
        for line in self.summary() {
            let _ = write!(s, "{:<32}", line.family);
            for (rel, na) in &line.cells {
                let cell = match (rel, na) {
                    (Some(r), false) => format!("{r:.2}"),
                    (Some(r), true) => format!("{r:.2}*"),
                    (None, true) => "n/a".into(),
                    (None, false) => "-".into(),
                };
                let _ = write!(s, " {cell:>w$}");
            }
            s.push('\n');
        }
        for (b, v) in self.overhead_verdict() {
            match v {
                Some((worst, n)) => {
                    let _ = writeln!(
                        s,
                        "overhead of polytls on {b} by instruction count: worst {worst:+.2}% over {n} rows (target <= {OVERHEAD_TARGET}%: {})",
                        if worst <= OVERHEAD_TARGET { "met" } else { "missed" }
                    );
                }
                None => {
                    let _ = writeln!(s, "overhead of polytls on {b}: not counted in this run");
                }
            }
        }
        s
    }

    pub(crate) fn table(&self) -> String {
        let mut s = self.summary_text();
        s.push('\n');
        let _ = writeln!(
            s,
            "{:<16} {:<24} {:<9} {:<16} {:>14} {:>14} {:>9} {:>10} {:>12}",
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
                "{:<16} {:<24} {:<9} {:<16} {:>14} {:>14} {:>9} {:>10} {:>12}",
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
                "\nmemory per established idle session (TLS 1.3, ECDSA), bytes:\n{:<16} {:>14} {:>14} {:>14} {:>14}",
                "backend", "polytls client", "direct client", "polytls server", "direct server"
            );
            for m in &self.memory {
                let v = |k: &str| m[k].as_i64().map_or("-".into(), |n| n.to_string());
                let _ = writeln!(
                    s,
                    "{:<16} {:>14} {:>14} {:>14} {:>14}",
                    m["backend"].as_str().unwrap_or_default(),
                    v("polytls_client"),
                    v("direct_client"),
                    v("polytls_server"),
                    v("direct_server")
                );
            }
        }
        s.push_str(&self.scale_text());
        for (backend, floor) in &self.floors {
            let aead: Vec<String> = ["aes128gcm", "aes256gcm", "chacha20"]
                .iter()
                .filter_map(|a| {
                    let ns = floor.get(&format!("aead/{a}"))?;
                    Some(format!(
                        "{a} {:.0} MiB/s",
                        16384.0 / ns * 1e9 / (1 << 20) as f64
                    ))
                })
                .collect();
            if let Some(copy) = floor.get("aead/memcpy") {
                let _ = writeln!(
                    s,
                    "floor beside {backend} per 16 KiB record (the cheaper of aws-lc-rs and {backend}'s library): AEAD seal {}; memcpy {:.2} µs",
                    aead.join(", "),
                    copy / 1000.0
                );
            }
        }
        for (id, why) in &self.unsupported {
            let _ = writeln!(s, "{id:<59} n/a: {why}");
        }
        let _ = writeln!(
            s,
            "\noverhead: polytls median / direct median - 1 (same side, same case); \
of floor: this machine's least crypto cost for the same work (the cheaper of aws-lc-rs and the backend's own library, per operation) / polytls median; \
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
            "schema_version": SCHEMA_VERSION, "run": self.meta,
            "rows": rows, "floors_ns": self.floors, "memory_bytes": self.memory,
            "scale": self.scale,
            "unsupported": self.unsupported.iter()
                .map(|(id, why)| serde_json::json!({ "id": id, "reason": why }))
                .collect::<Vec<_>>(),
        }))
        .unwrap_or_default()
    }

    fn summary_html(&self) -> String {
        let mut h = String::from(
            "<style>table.s{border-collapse:collapse}table.s td,table.s th{padding:4px 12px;\
border-bottom:1px solid #ddd;text-align:right}table.s td:first-child,table.s th:first-child\
{text-align:left}td.best{background:#d8f0d8;font-weight:bold}td.na{color:#a00}</style>\
<h2>Summary: which backend</h2><p>Time per operation through polytls relative to the \
fastest backend for the same case and side (1.00 = best, 2.00 = twice the time; geometric \
mean over the family's cases and sides; memory: bytes per idle session). <em>n/a</em>: \
the backend cannot run it; <em>*</em>: some of the family's cases are n/a.</p>\
<table class=s><tr><th>family</th>",
        );
        for (b, lib) in self.libraries() {
            let _ = write!(
                h,
                "<th title='{}'>{b}<br><small>{}</small></th>",
                escape(&lib),
                escape(&lib)
            );
        }
        h.push_str("</tr>");
        for line in self.summary() {
            let _ = write!(h, "<tr><td>{}</td>", line.family);
            for (rel, na) in &line.cells {
                let star = if *na { "*" } else { "" };
                let _ = match rel {
                    Some(r) if *r < 1.005 => write!(h, "<td class=best>{r:.2}{star}</td>"),
                    Some(r) => write!(h, "<td>{r:.2}{star}</td>"),
                    None if *na => write!(h, "<td class=na>n/a</td>"),
                    None => write!(h, "<td>-</td>"),
                };
            }
            h.push_str("</tr>");
        }
        h.push_str("</table><p>");
        for (b, v) in self.overhead_verdict() {
            let _ = match v {
                Some((worst, n)) => write!(
                    h,
                    "<b>{b}</b>: polytls adds at most {worst:+.2}% instructions over the \
library used directly ({n} rows; target &le; {OVERHEAD_TARGET}%: {}).<br>",
                    if worst <= OVERHEAD_TARGET {
                        "met"
                    } else {
                        "missed"
                    }
                ),
                None => write!(h, "<b>{b}</b>: instructions not counted in this run.<br>"),
            };
        }
        h.push_str("</p>");
        if !self.unsupported.is_empty() {
            h.push_str("<p>Not run:</p><ul>");
            for (id, why) in &self.unsupported {
                let _ = write!(h, "<li><code>{}</code>: {}</li>", escape(id), escape(why));
            }
            h.push_str("</ul>");
        }
        h
    }

    pub(crate) fn html(&self) -> String {
        let mut h = String::from(
            "<!doctype html><meta charset=utf-8><title>polytls comparison</title>\
<style>body{font:14px system-ui;margin:2em}h2{margin-top:2em}.l{font:12px monospace}</style>\
<h1>polytls backend comparison</h1>",
        );
        if !self.meta.is_null() {
            let m = &self.meta;
            let secs = m["run_seconds"].as_f64().unwrap_or(0.0) as u64;
            let _ = write!(
                h,
                "<p>{} run &middot; {} cores ({}) &middot; commit {} &middot; took {}:{:02}</p>",
                escape(m["mode"].as_str().unwrap_or("?")),
                m["machine"]["cores"],
                escape(m["machine"]["cpu"].as_str().unwrap_or("?")),
                escape(m["commit"].as_str().unwrap_or("?")),
                secs / 60,
                secs % 60
            );
        }
        h.push_str(&self.summary_html());
        h.push_str(&bogo_html());
        h.push_str(&self.scale_html());
        h.push_str(
            "<h2>How to read this</h2><p>Each figure is criterion's median over many \
iterations on this machine, through polytls and with the same library driven directly \
(no polytls), same case, same side. Wall-clock medians on a shared machine move by a few \
percent from run to run (<code>cargo xtask compare --diff A.json B.json</code> shows how \
far); the overhead of polytls is judged by instruction counts (callgrind), which repeat: bulk \
rows to a few instructions; handshake rows, whose signature checks over a random transcript \
vary, within about 0.1 % (the mean of 30 handshakes per side, 10 with <code>--quick</code>), \
counted with each side's teardown of its connection and glibc's fastbins off on both \
sides (with them, a teardown's frees were consolidated inside some later handshake). \
The <em>floor</em> is this machine's least cost of the cryptography alone: per operation, \
the cheaper of aws-lc-rs and the backend's own library (OpenSSL's EVP, BoringSSL's EVP_AEAD \
and EVP_PKEY), measured by the same binary right before the cases it divides: a handshake or a record cannot be cheaper. \
<em>n/a</em> marks a case a backend cannot run, with the reason below; nothing is left out \
silently.</p><h2>Details</h2><p>Bars: through polytls (dark) and the same library driven \
directly (light). Shorter is faster for handshakes; throughput shows MiB/s (longer is \
faster).</p>",
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
        let _ = write!(h, "<h2>Table</h2><pre>{}</pre>", escape(&self.table()));
        h
    }
}

/// The crypto floor of one side of a handshake: X25519 plus the signatures
/// that side makes and verifies (every certificate in the test PKI is signed
/// with ECDSA P-256; leaves are ECDSA P-256 or RSA-2048).
/// The BoGo section, from the last `cargo xtask bogo` (its
/// `target/bogo/summary.json`), when there is one.
fn bogo_html() -> String {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let Ok(text) = std::fs::read_to_string(format!("{target}/bogo/summary.json")) else {
        return "<h2>BoGo</h2><p>Not run: <code>cargo xtask bogo</code> writes this section.</p>"
            .into();
    };
    bogo_section(&text)
}

fn bogo_section(summary: &str) -> String {
    let Ok(Value::Object(backends)) = serde_json::from_str::<Value>(summary) else {
        return String::new();
    };
    let mut h = String::from(
        "<h2>BoGo: BoringSSL's test runner through polytls</h2><p>Per backend: tests passed, \
         failed, unimplemented (a flag the polytls API cannot express; DTLS and QUIC apart) and \
         disabled (listed with a reason in <code>bogo/&lt;backend&gt;.json</code>); beside the \
         library's own shim on the same runner: how many tests each runs, and of those its own \
         shim passes, how many pass through polytls.</p><table border=1 cellpadding=4>\
         <tr><th>backend</th><th>passed</th><th>failed</th><th>unimplemented (DTLS/QUIC)</th>\
         <th>disabled</th><th>own shim</th><th>tests run: polytls / own</th>\
         <th>own shim passes, polytls passes</th></tr>",
    );
    for (name, b) in &backends {
        let base = &b["baseline"];
        let (shim, runs, passes) = if base.is_null() {
            ("none".to_string(), "-".to_string(), "-".to_string())
        } else {
            let n = |k: &str| base[k].as_u64().unwrap_or(0);
            (
                escape(base["shim"].as_str().unwrap_or("?")),
                format!("{} / {}", n("ours_run"), n("theirs_run")),
                format!(
                    "{} of {} ({:.1} %; {} more by design)",
                    n("both_pass"),
                    n("their_pass_we_run"),
                    100.0 * n("both_pass") as f64 / n("their_pass_we_run").max(1) as f64,
                    n("by_design")
                ),
            )
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{shim}</td>\
             <td>{runs}</td><td>{passes}</td></tr>",
            escape(name),
            b["passed"],
            b["failed"],
            b["unimplemented"],
            b["other_protocol"],
            b["disabled"],
        );
    }
    h.push_str("</table>");
    if let Some((_, first)) = backends.iter().next() {
        let gaps: Vec<String> = first["gaps"]
            .as_array()
            .map(|g| {
                g.iter()
                    .take(12)
                    .map(|x| {
                        format!(
                            "<code>{}</code> {}",
                            escape(x["flag"].as_str().unwrap_or("?")),
                            x["unlocks"]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            "<p>The API's gap list (flag, tests it alone would unlock): {}.</p>",
            gaps.join(", ")
        );
    }
    h
}

fn handshake_floor(case: &str, side: &str, lim: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    // The floors measure X25519, ECDSA P-256 and RSA-2048 only: no floor
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

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut results = BTreeMap::new();
        for (backend, client, server) in [("rustls", 100.0, 200.0), ("openssl", 400.0, 200.0)] {
            let g = format!("handshake/tls13-ecdsa-full/{backend}");
            results.insert(format!("{g}/polytls-client"), client);
            results.insert(format!("{g}/polytls-server"), server);
            results.insert(format!("{g}/direct-client"), client);
        }
        let floors = BTreeMap::from([(
            "rustls".to_owned(),
            BTreeMap::from([
                ("crypto/x25519-keygen-agree".to_owned(), 10.0),
                ("crypto/ecdsa-p256-sign".to_owned(), 20.0),
                ("crypto/ecdsa-p256-verify".to_owned(), 30.0),
            ]),
        )]);
        let instr = BTreeMap::from([
            (
                "handshake/tls13-ecdsa-full/rustls/polytls-client".to_owned(),
                1010.0,
            ),
            (
                "handshake/tls13-ecdsa-full/rustls/direct-client".to_owned(),
                1000.0,
            ),
        ]);
        let mut r = Report::build(&results, &floors, &instr);
        r.unsupported = vec![(
            "handshake/tls13-x25519mlkem768-full/openssl".into(),
            "openssl lacks Group(X25519MLKEM768)".into(),
        )];
        r
    }

    #[test]
    fn bogo_section_reads_the_summary() {
        let h = super::bogo_section(
            r#"{"rustls":{"passed":837,"failed":0,"unimplemented":6737,"other_protocol":2721,"disabled":531,"gaps":[{"flag":"-signing-prefs","unlocks":111,"needed_by":192}],"baseline":{"shim":"rustls-shim.tsv","ours_run":1368,"theirs_run":2855,"their_pass_we_run":632,"both_pass":628,"by_design":0}}}"#,
        );
        assert!(h.contains("<td>837</td>"), "{h}");
        assert!(h.contains("1368 / 2855"), "{h}");
        assert!(h.contains("628 of 632 (99.4 %"), "{h}");
        assert!(h.contains("<code>-signing-prefs</code> 111"), "{h}");
    }

    #[test]
    fn summary_is_relative_to_the_best_backend_per_case_and_side() {
        let r = report();
        let lines = r.summary();
        let full = lines
            .iter()
            .find(|l| l.family == "full handshake")
            .expect("full handshake family");
        // rustls: best on both sides; openssl: 4x (client) and 1x (server): geomean 2.
        let rel: Vec<f64> = full.cells.iter().map(|c| c.0.unwrap_or(0.0)).collect();
        assert_eq!(r.backends(), ["rustls", "openssl"]);
        assert!(
            (rel[0] - 1.0).abs() < 1e-9 && (rel[1] - 2.0).abs() < 1e-9,
            "{rel:?}"
        );
        let pq = lines
            .iter()
            .find(|l| l.family == "post-quantum hybrid handshake")
            .expect("an unsupported family still has a line");
        assert_eq!(pq.cells[1], (None, true));
        assert!(r.summary_text().contains("n/a"));
        assert!(r.html().contains("<td class=na>n/a</td>"));
    }

    #[test]
    fn scale_points_join_the_summary_and_the_charts() {
        let mut r = report();
        r.scale = vec![
            serde_json::json!({"backend": "rustls", "kind": "handshakes", "server_threads": 1, "per_second": 600.0, "p50_us": 900.0, "p99_us": 2000.0}),
            serde_json::json!({"backend": "rustls", "kind": "handshakes", "server_threads": 2, "per_second": 1000.0, "p50_us": 800.0, "p99_us": 1900.0}),
            serde_json::json!({"backend": "openssl", "kind": "handshakes", "server_threads": 2, "per_second": 500.0, "p50_us": 1600.0, "p99_us": 3000.0}),
            serde_json::json!({"backend": "rustls", "kind": "idle", "connections": 10000, "server_bytes_per_connection": 6000.0, "client_bytes_per_connection": 4000.0}),
            serde_json::json!({"backend": "openssl", "kind": "idle", "connections": 10000, "server_bytes_per_connection": 20000.0, "client_bytes_per_connection": 10000.0}),
        ];
        let lines = r.summary();
        let cells = |family: &str| {
            lines
                .iter()
                .find(|l| l.family == family)
                .map(|l| l.cells.iter().map(|c| c.0).collect::<Vec<_>>())
        };
        assert_eq!(
            cells("handshakes/s, TCP, 2 threads"),
            Some(vec![Some(1.0), Some(2.0)])
        );
        assert_eq!(
            cells("RSS per idle conn, 10000"),
            Some(vec![Some(1.0), Some(3.0)])
        );
        let html = r.html();
        assert_eq!(html.matches("<polyline").count(), 2);
        assert!(r.table().contains("handshakes/s"));
        let json: Value = serde_json::from_str(&r.json()).expect("json");
        assert_eq!(json["scale"].as_array().map(Vec::len), Some(5));
    }

    #[test]
    fn instruction_verdict_and_schema_version_are_reported() {
        let r = report();
        let v = r.overhead_verdict();
        assert_eq!(v[0].0, "rustls");
        let (worst, n) = v[0].1.expect("rustls counted");
        assert!((worst - 1.0).abs() < 1e-9 && n == 1);
        assert_eq!(v[1], ("openssl", None));
        let json: Value = serde_json::from_str(&r.json()).expect("json");
        assert_eq!(json["schema_version"], SCHEMA_VERSION);
        assert_eq!(
            json["unsupported"][0]["reason"],
            "openssl lacks Group(X25519MLKEM768)"
        );
    }

    #[test]
    fn the_floor_is_the_one_measured_beside_the_backend() {
        let r = report();
        let floor = |backend: &str, side: &str| {
            r.rows
                .iter()
                .find(|x| x.backend == backend && x.side == side)
                .and_then(|x| x.floor_ns)
        };
        // Client: key exchange + leaf signature + two chain signatures.
        assert_eq!(floor("rustls", "client"), Some(10.0 + 30.0 + 2.0 * 30.0));
        assert_eq!(floor("rustls", "server"), Some(10.0 + 20.0));
        // No floor measured beside openssl: none, not rustls' one.
        assert_eq!(floor("openssl", "client"), None);
    }
}
