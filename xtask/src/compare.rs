//! `cargo xtask compare`: runs the per-backend bench binaries as separate
//! processes (one OpenSSL-family library per binary), then reads
//! criterion's results and prints one table: median through polytls, the
//! same case driven directly (no polytls) and the ratio, and the share of
//! this machine's crypto floor. Writes `target/polytls-report/` (JSON, HTML).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use serde_json::Value;

use crate::report::Report;

/// One bench binary and the column of the report its results fill.
pub(crate) struct Runner {
    /// The column (`<kind>/<case>/<column>/…`, `polytls_bench::column`).
    pub(crate) column: &'static str,
    /// The registry backend it runs (`polytls-scale --backend`).
    backend: &'static str,
    /// Cargo features of `polytls-bench`.
    features: &'static [&'static str],
    /// The bench target.
    bench: &'static str,
}

/// Every column, in the order tables show them: each backend, and the
/// OpenSSL backend once more over the OpenSSL that `openssl-src` vendors
/// (3.6), beside the system OpenSSL (3.0 here).
pub(crate) const RUNNERS: &[Runner] = &[
    Runner {
        column: "rustls",
        backend: "rustls",
        features: &[],
        bench: "rustls",
    },
    Runner {
        column: "rustls-ring",
        backend: "rustls-ring",
        features: &["--features", "rustls-ring"],
        bench: "rustls-ring",
    },
    Runner {
        column: "openssl",
        backend: "openssl",
        features: &["--features", "openssl"],
        bench: "openssl",
    },
    Runner {
        column: "openssl-vendored",
        backend: "openssl",
        features: &["--features", "openssl-vendored"],
        bench: "openssl",
    },
    Runner {
        column: "boring",
        backend: "boring",
        features: &["--features", "boring"],
        bench: "boring",
    },
    Runner {
        column: "aws-lc",
        backend: "aws-lc",
        features: &["--features", "aws-lc"],
        bench: "aws-lc",
    },
];

/// The columns, in table order.
pub(crate) fn columns() -> Vec<&'static str> {
    RUNNERS.iter().map(|r| r.column).collect()
}

/// How long each benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 0.2 s warm-up, 0.4 s of 10 samples: a look in minutes.
    Quick,
    /// 1 s warm-up, 2 s of 50 samples: the report.
    Default,
    /// criterion's own defaults (3 s warm-up, 5 s of 100 samples).
    Full,
}

struct Options {
    mode: Mode,
    quick: bool,
    instructions: bool,
    backends: Vec<String>,
    case: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        mode: Mode::Default,
        quick: false,
        instructions: true,
        backends: Vec::new(),
        case: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.mode = Mode::Quick,
            "--full" => o.mode = Mode::Full,
            "--no-instructions" => o.instructions = false,
            "--backend" => o
                .backends
                .push(it.next().ok_or("--backend needs a name")?.clone()),
            "--case" => o.case = Some(it.next().ok_or("--case needs a filter")?.clone()),
            other => {
                return Err(format!(
                    "unknown option {other:?} (use --quick or --full, --backend NAME, --case FILTER, --no-instructions, or --tunnel, or --diff A.json B.json)"
                ))
            }
        }
    }
    if args.iter().any(|a| a == "--quick") && args.iter().any(|a| a == "--full") {
        return Err("--quick and --full contradict each other: pick one".into());
    }
    o.quick = o.mode == Mode::Quick;
    for b in &mut o.backends {
        if !columns().contains(&b.as_str()) {
            *b = crate::backends::get(b)?.name.to_owned();
        }
    }
    Ok(o)
}

/// The benchmark groups, each run as its own process (a median must not
/// depend on what ran before it in the same process), with the crypto floor
/// that divides it: the floor is measured by the same bench binary with the
/// backend's own library (`floor/…`), right before the group, so case and
/// floor see the same machine state and the same implementation.
const GROUPS: &[(&str, Option<&str>)] = &[
    ("handshake/", Some("floor/crypto/")),
    ("throughput/", Some("floor/aead/")),
    ("tokio-handshake/", None),
    ("tokio-throughput/", None),
];

/// One process of the run: a bench binary restricted to one group.
struct Step {
    runner: &'static Runner,
    /// What this step measures (a backend's cases or its floor).
    label: String,
    /// Criterion's filter (a regular expression on the benchmark id).
    filter: String,
    /// Benchmarks it runs.
    count: usize,
    /// For a floor step: the backend whose next group it divides.
    floor_for: Option<&'static str>,
}

/// Escapes `s` for criterion's regular-expression filter.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$#&-~".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// Seconds one benchmark takes: criterion's warm-up and measurement plus
/// its analysis and the process start.
fn seconds_per_benchmark(mode: Mode) -> f64 {
    match mode {
        Mode::Quick => 0.2 + 0.4 + 0.5,
        Mode::Default => 1.0 + 2.0 + 0.7,
        Mode::Full => 3.0 + 5.0 + 1.0,
    }
}

fn criterion_args(mode: Mode) -> Vec<String> {
    let mut args = vec!["--noplot".to_owned()];
    let timing: &[&str] = match mode {
        Mode::Quick => &[
            "--warm-up-time",
            "0.2",
            "--measurement-time",
            "0.4",
            "--sample-size",
            "10",
            "--nresamples",
            "1000",
        ],
        Mode::Default => &[
            "--warm-up-time",
            "1",
            "--measurement-time",
            "2",
            "--sample-size",
            "50",
        ],
        Mode::Full => &[],
    };
    args.extend(timing.iter().map(|s| s.to_string()));
    args
}

/// The runners `--backend` picks (every one without it).
fn chosen(opts: &Options) -> impl Iterator<Item = &'static Runner> + '_ {
    RUNNERS
        .iter()
        .filter(|r| opts.backends.is_empty() || opts.backends.iter().any(|b| b == r.column))
}

/// Builds every bench binary, lists its benchmarks and lays out the run.
fn plan(cargo: &str, opts: &Options) -> Result<Vec<Step>, String> {
    let runners: Vec<&'static Runner> = chosen(opts).collect();
    let mut ids = BTreeMap::new();
    for (i, r) in runners.iter().enumerate() {
        eprintln!(
            "[build {}/{}] the {} benchmarks (release)",
            i + 1,
            runners.len(),
            r.column
        );
        let exe = crate::instructions::executable(cargo, r.bench, r.features)?;
        ids.insert(r.column, crate::instructions::list(&exe)?);
    }
    let case = opts.case.as_deref();
    let mut steps = Vec::new();
    for r in &runners {
        for (group, floor) in GROUPS {
            let count = ids[r.column]
                .iter()
                .filter(|id| id.starts_with(group) && case.is_none_or(|c| id.contains(c)))
                .count();
            if count == 0 {
                continue;
            }
            if let Some(floor) = floor {
                steps.push(Step {
                    runner: r,
                    label: format!("{} floor", r.column),
                    filter: format!("^{}", regex_escape(floor)),
                    count: ids[r.column]
                        .iter()
                        .filter(|id| id.starts_with(floor))
                        .count(),
                    floor_for: Some(r.column),
                });
            }
            let mut filter = format!("^{}", regex_escape(group));
            if let Some(c) = case {
                filter.push_str(&format!(".*{}", regex_escape(c)));
            }
            steps.push(Step {
                runner: r,
                label: r.column.to_owned(),
                filter,
                count,
                floor_for: None,
            });
        }
    }
    Ok(steps)
}

/// Adds a floor step's results (`floor/<kind>/<op>/<library>`) to a
/// backend's floor: each library's figure (`<kind>/<op>/<library>`) and the
/// cheapest of them (`<kind>/<op>`), which is what a case is divided by.
fn merge_floor(floor: &mut BTreeMap<String, f64>, fresh: &BTreeMap<String, f64>) {
    for (id, ns) in fresh {
        let Some(key) = id.strip_prefix("floor/") else {
            continue;
        };
        floor.insert(key.to_owned(), *ns);
        if let Some((op, _library)) = key.rsplit_once('/') {
            let best = floor.entry(op.to_owned()).or_insert(*ns);
            *best = best.min(*ns);
        }
    }
}

/// Minutes and seconds.
fn mmss(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let started = SystemTime::now();
    let target = target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let unsupported_log = target.join("polytls-report").join("unsupported.jsonl");
    let _ = std::fs::remove_file(&unsupported_log);
    let steps = plan(&cargo, &opts)?;
    let total: usize = steps.iter().map(|s| s.count).sum();
    let estimate = total as f64 * seconds_per_benchmark(opts.mode);
    eprintln!(
        "{total} benchmarks in {} processes, about {} (min:s) before the instruction counts",
        steps.len(),
        mmss(estimate)
    );
    let mut progress = Progress {
        total,
        done: 0,
        started: Instant::now(),
        estimate,
    };
    // The floor per backend, measured right before that backend's groups.
    let mut floors: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for step in &steps {
        let r = step.runner;
        let mut args: Vec<String> = ["bench", "--package", "polytls-bench", "--bench", r.bench]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(r.features.iter().map(|s| s.to_string()));
        args.push("--".into());
        args.extend(criterion_args(opts.mode));
        args.push(step.filter.clone());
        let step_started = SystemTime::now();
        run_with_progress(&step.label, &args, &mut progress)
            .map_err(|e| format!("the {} benchmarks failed: {e}", r.column))?;
        if let Some(backend) = step.floor_for {
            let fresh = collect_since(&target.join("criterion"), step_started);
            let floor = floors.entry(backend.to_owned()).or_default();
            merge_floor(floor, &fresh);
        }
    }
    let mut scale_rows = Vec::new();
    for r in chosen(&opts) {
        if opts.case.is_some() {
            break;
        }
        eprintln!(
            "scale over loopback TCP ({}): handshakes/s per server thread count, memory per idle connection",
            r.column
        );
        scale_rows.extend(run_scale(&cargo, r, opts.quick)?);
    }
    let mut instr = BTreeMap::new();
    if opts.instructions {
        let scratch = target.join("polytls-report").join("callgrind");
        for r in chosen(&opts) {
            eprintln!("counting instructions ({}, callgrind)", r.column);
            instr.extend(crate::instructions::count(
                &cargo,
                r.column,
                r.bench,
                r.features,
                opts.quick,
                opts.case.as_deref(),
                &scratch,
            )?);
        }
        let _ = std::fs::remove_dir(&scratch);
    }
    let results = collect_since(&target.join("criterion"), started);
    if results.is_empty() {
        return Err(format!(
            "no fresh results under {}",
            target.join("criterion").display()
        ));
    }
    let mut report = Report::build(&results, &floors, &instr);
    report.memory = collect_memory(&target.join("polytls-report"), started);
    report.scale = scale_rows;
    // Cases a backend cannot run, as the bench binaries recorded them.
    let mut unsupported: Vec<(String, String)> = std::fs::read_to_string(&unsupported_log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["id"].as_str()?.to_owned(),
                v["reason"].as_str()?.to_owned(),
            ))
        })
        .collect();
    unsupported.sort();
    unsupported.dedup();
    report.unsupported = unsupported;
    let seconds = started.elapsed().map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let mode = match opts.mode {
        Mode::Quick => "quick",
        Mode::Default => "default",
        Mode::Full => "full",
    };
    report.meta = crate::report::run_meta(mode, opts.instructions, seconds);
    println!("{}", report.table());
    let dir = target.join("polytls-report");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("results.json"), report.json()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("index.html"), report.html()).map_err(|e| e.to_string())?;
    eprintln!(
        "report: {} (the run took {})",
        dir.join("index.html").display(),
        mmss(seconds)
    );
    Ok(())
}

/// Server thread counts for the handshake curve: 1 to all cores (powers of
/// two past 4, and all cores).
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut t: Vec<usize> = (1..=cores.min(4)).collect();
    let mut n = 8;
    while n < cores {
        t.push(n);
        n *= 2;
    }
    if !t.contains(&cores) {
        t.push(cores);
    }
    t
}

/// Builds and runs the scale harness (`polytls-scale`) for one runner; its
/// JSON lines, named by the runner's column. The open-file limit is raised
/// to the hard limit for the 10,000 idle connections.
fn run_scale(cargo: &str, runner: &Runner, quick: bool) -> Result<Vec<Value>, String> {
    let (backend, features) = (runner.backend, runner.features);
    let mut args = vec![
        "build",
        "--profile",
        "bench",
        "--package",
        "polytls-bench",
        "--bin",
        "polytls-scale",
        "--message-format=json-render-diagnostics",
    ];
    args.extend_from_slice(features);
    let out = Command::new(cargo)
        .args(&args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err("building polytls-scale failed".into());
    }
    let exe = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "polytls-scale")
        .find_map(|v| v["executable"].as_str().map(str::to_owned))
        .ok_or("cargo named no polytls-scale executable")?;
    let threads: Vec<String> = thread_counts().iter().map(|t| t.to_string()).collect();
    let secs = if quick { "1" } else { "5" };
    let mut rows: Vec<Value> = Vec::new();
    // The OpenSSL family's idle memory with the library used directly, in
    // a process of its own (a client's freed pages would be reused).
    let family = matches!(backend, "openssl" | "boring" | "aws-lc");
    for direct in [false, true].into_iter().filter(|d| !d || family) {
        let out = Command::new("sh")
            .args([
                "-c",
                r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#,
                &exe,
                "run",
                "--backend",
                backend,
                "--threads",
                &threads.join(","),
                "--seconds",
                secs,
                "--idle",
                "1000,10000",
            ])
            .args(direct.then_some("--direct"))
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run polytls-scale: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "polytls-scale on {backend} failed ({})",
                out.status
            ));
        }
        rows.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok()),
        );
    }
    let backend = runner.column;
    for r in &mut rows {
        r["backend"] = backend.into();
    }
    for r in &rows {
        match r["kind"].as_str() {
            Some("handshakes") => eprintln!(
                "  {backend} {} server thread(s): {:.0} handshakes/s, p50 {:.2} ms, p99 {:.2} ms",
                r["server_threads"],
                r["per_second"].as_f64().unwrap_or(f64::NAN),
                r["p50_us"].as_f64().unwrap_or(f64::NAN) / 1000.0,
                r["p99_us"].as_f64().unwrap_or(f64::NAN) / 1000.0
            ),
            kind => {
                eprintln!(
                "  {backend} {} idle connections{}: {:.0} B server, {:.0} B client per connection",
                r["connections"],
                if kind == Some("idle-direct") { " (library directly)" } else { "" },
                r["server_bytes_per_connection"].as_f64().unwrap_or(f64::NAN),
                r["client_bytes_per_connection"].as_f64().unwrap_or(f64::NAN)
            )
            }
        }
    }
    Ok(rows)
}

/// Benchmarks done so far over the whole run, for the progress lines.
struct Progress {
    total: usize,
    done: usize,
    started: Instant,
    /// The estimate made before the run (used until results come in).
    estimate: f64,
}

impl Progress {
    /// Seconds left: the pace so far applied to what remains.
    fn left(&self) -> f64 {
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.done == 0 {
            return self.estimate - elapsed;
        }
        elapsed / self.done as f64 * self.total.saturating_sub(self.done) as f64
    }
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

/// Runs cargo bench, showing one progress line per finished benchmark: how
/// many of the run's benchmarks are done and the time left at this pace.
fn run_with_progress(label: &str, args: &[String], progress: &mut Progress) -> Result<(), String> {
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    // criterion's "Benchmarking …" lines repeat what the progress line says;
    // everything else (cargo, errors) goes through.
    let errors = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if !line.starts_with("Benchmarking ") {
                    eprintln!("{line}");
                }
            }
        })
    });
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
            // Criterion's change lines ("time: [+1.2% ...]") are not results.
            if let Some(pos) = line.find("time:").filter(|_| !line.contains('%')) {
                progress.done += 1;
                let id = line[..pos].trim();
                let id = if id.is_empty() { current.as_str() } else { id };
                eprintln!(
                    "  [{:>3}/{}] {label:<17} {id:<56} {}  ~{} left",
                    progress.done,
                    progress.total,
                    line[pos..].trim(),
                    mmss(progress.left())
                );
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if let Some(t) = errors {
        let _ = t.join();
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("{status}"))
    }
}

/// Median nanoseconds per benchmark id (`group/function`), of the results
/// written since `since`.
fn collect_since(dir: &Path, since: SystemTime) -> BTreeMap<String, f64> {
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
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_the_text_literally() {
        assert_eq!(regex_escape("tls13-ecdsa"), "tls13\\-ecdsa");
        assert_eq!(regex_escape("a.b(c)"), "a\\.b\\(c\\)");
        assert_eq!(mmss(125.4), "2:05");
        assert_eq!(mmss(-3.0), "0:00");
    }

    #[test]
    fn the_floor_is_the_cheaper_library_per_operation() {
        let fresh = BTreeMap::from([
            ("floor/aead/chacha20/aws-lc-rs".to_owned(), 6000.0),
            ("floor/aead/chacha20/openssl".to_owned(), 3700.0),
            ("floor/aead/aes128gcm/aws-lc-rs".to_owned(), 700.0),
            ("floor/aead/aes128gcm/openssl".to_owned(), 3300.0),
            ("handshake/x/openssl/polytls-client".to_owned(), 1.0),
        ]);
        let mut floor = BTreeMap::new();
        merge_floor(&mut floor, &fresh);
        assert_eq!(floor["aead/chacha20"], 3700.0);
        assert_eq!(floor["aead/aes128gcm"], 700.0);
        assert_eq!(floor["aead/chacha20/aws-lc-rs"], 6000.0);
        assert!(!floor.keys().any(|k| k.starts_with("handshake")));
    }

    #[test]
    fn every_backend_has_its_column_and_columns_are_unique() {
        for b in crate::backends::BACKENDS {
            assert!(
                RUNNERS
                    .iter()
                    .any(|r| r.column == b.name && r.backend == b.name),
                "{}",
                b.name
            );
        }
        let mut c = columns();
        c.sort_unstable();
        c.dedup();
        assert_eq!(c.len(), RUNNERS.len());
        let o = parse(&[
            "--backend".into(),
            "openssl-vendored".into(),
            "--backend".into(),
            "BoringSSL".into(),
        ])
        .expect("both names are known");
        assert_eq!(o.backends, ["openssl-vendored", "boring"]);
    }

    #[test]
    fn thread_counts_run_from_one_to_all_cores() {
        let t = thread_counts();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(t.first(), Some(&1));
        assert_eq!(t.last(), Some(&cores));
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn time_left_follows_the_pace() {
        let p = Progress {
            total: 10,
            done: 0,
            started: Instant::now(),
            estimate: 100.0,
        };
        assert!(p.left() <= 100.0 && p.left() > 90.0);
    }
}
