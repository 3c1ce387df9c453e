//! `cargo xtask compare`: runs the per-backend bench binaries as separate
//! processes (never OpenSSL with BoringSSL in one binary), then reads
//! criterion's results and prints one table: median through polytls, the
//! same case driven directly (no polytls) and the ratio, and the share of
//! this machine's crypto floor. Writes `target/polytls-report/` (JSON, HTML).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde_json::Value;

use crate::report::Report;

/// One bench binary: backend name, cargo features, bench target.
const RUNNERS: &[(&str, &[&str], &str)] = &[
    ("limits", &[], "limits"),
    ("rustls", &[], "rustls"),
    ("openssl", &["--features", "openssl"], "openssl"),
    ("boring", &["--features", "boring"], "boring"),
];

struct Options {
    quick: bool,
    instructions: bool,
    backends: Vec<String>,
    case: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        instructions: true,
        backends: Vec::new(),
        case: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-instructions" => o.instructions = false,
            "--backend" => o
                .backends
                .push(it.next().ok_or("--backend needs a name")?.clone()),
            "--case" => o.case = Some(it.next().ok_or("--case needs a filter")?.clone()),
            other => {
                return Err(format!(
                    "unknown option {other:?} (use --quick, --backend NAME, --case FILTER, --no-instructions)"
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
    let unsupported_log = target.join("polytls-report").join("unsupported.jsonl");
    let _ = std::fs::remove_file(&unsupported_log);
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
                    "--nresamples",
                    "1000",
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
    let mut instr = BTreeMap::new();
    if opts.instructions {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let scratch = target.join("polytls-report").join("callgrind");
        for (name, features, bench) in runners.iter().filter(|r| r.0 != "limits") {
            eprintln!("counting instructions ({name}, callgrind)");
            instr.extend(crate::instructions::count(
                &cargo,
                name,
                bench,
                features,
                opts.quick,
                opts.case.as_deref(),
                &scratch,
            )?);
        }
        let _ = std::fs::remove_dir(&scratch);
    }
    let results = collect(&target.join("criterion"), started)?;
    let mut report = Report::build(&results, &instr);
    report.memory = collect_memory(&target.join("polytls-report"), started);
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
            // Criterion's change lines ("time: [+1.2% ...]") are not results.
            if let Some(pos) = line.find("time:").filter(|_| !line.contains('%')) {
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
