//! Instruction counts per benchmark and side, polytls and direct, under
//! `valgrind --tool=callgrind`: the overhead figure that wall-clock medians
//! on a shared 2-core machine cannot resolve to 2 %. Each count is one
//! process: the bench binary with `POLYTLS_BENCH_COUNT` set runs that
//! benchmark's side a fixed number of times inside its counted region
//! (`polytls_bench::count`); callgrind collects only there. Two processes
//! run at a time: counts do not depend on load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

/// The built bench executable of `bench` (cargo's JSON messages).
pub(crate) fn executable(cargo: &str, bench: &str, features: &[&str]) -> Result<PathBuf, String> {
    let mut args = vec![
        "bench",
        "--package",
        "polytls-bench",
        "--bench",
        bench,
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    args.extend_from_slice(features);
    let out = Command::new(cargo)
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the {bench} benchmarks failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == bench)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo named no executable for the {bench} benchmarks"))
}

/// The benchmark ids the binary registers (criterion's `--list`).
pub(crate) fn list(exe: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(exe)
        .arg("--list")
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": benchmark"))
        .map(str::to_owned)
        .collect())
}

/// Iterations counted per benchmark. A handshake verifies signatures over
/// a random transcript (ECDSA, Ed25519 and RSA verification take a varying
/// number of steps), so one handshake's count varies by about 0.3 %; 30
/// (10 with `--quick`) bring each side's mean within about 0.1 %. Bulk
/// rounds repeat their counts to a few instructions.
fn iterations(id: &str, quick: bool) -> u64 {
    let full = if id.starts_with("handshake/") {
        30
    } else if id.contains("-1m-") {
        2
    } else {
        20
    };
    if quick {
        (full / 3).max(1)
    } else {
        full
    }
}

/// Instructions counted in one callgrind output file (`summary:` or
/// `totals:` line; the first event is Ir).
fn parse_total(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .max()
}

fn count_one(exe: &Path, id: &str, iters: u64, scratch: &Path) -> Result<f64, String> {
    let file = scratch.join(format!("{}.out", id.replace('/', "_")));
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*polytls_counted_region*",
        ])
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(exe)
        .env("POLYTLS_BENCH_COUNT", id)
        .env("POLYTLS_BENCH_COUNT_ITERS", iters.to_string())
        // glibc's fastbins off, on both sides alike: with them, what a
        // connection's teardown freed was consolidated inside a later
        // handshake (malloc_consolidate, up to 10,000 instructions), often
        // the other side's, counted or not by where it fell. Without them
        // freeing costs at free time, and each side's teardown is counted
        // with its handshake.
        .env("GLIBC_TUNABLES", "glibc.malloc.mxfast=0")
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "counting {id} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let _ = std::fs::remove_file(&file);
    let total = parse_total(&text).ok_or_else(|| format!("{id}: no total in callgrind output"))?;
    if total == 0 {
        return Err(format!(
            "{id}: nothing counted (counted region not reached)"
        ));
    }
    Ok(total as f64 / iters as f64)
}

/// Counts every handshake and throughput benchmark of one bench binary
/// (fewer iterations with `quick`; those containing `case` if given): instructions
/// per operation, by benchmark id.
pub(crate) fn count(
    cargo: &str,
    name: &str,
    bench: &str,
    features: &[&str],
    quick: bool,
    case: Option<&str>,
    scratch: &Path,
) -> Result<BTreeMap<String, f64>, String> {
    let exe = executable(cargo, bench, features)?;
    let ids: Vec<String> = list(&exe)?
        .into_iter()
        .filter(|id| id.starts_with("handshake/") || id.starts_with("throughput/"))
        .filter(|id| case.is_none_or(|c| id.contains(c)))
        .collect();
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(id) = ids.get(i) else { break };
                match count_one(&exe, id, iterations(id, quick), scratch) {
                    Ok(n) => {
                        let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                        eprintln!(
                            "  {name} instructions [{d:>3}/{}] {id:<60} {n:>12.0}",
                            ids.len()
                        );
                        results.lock().expect("results").insert(id.clone(), n);
                    }
                    Err(e) => errors.lock().expect("errors").push(e),
                }
            });
        }
    });
    let errors = errors.into_inner().expect("errors");
    if let Some(e) = errors.first() {
        return Err(e.clone());
    }
    Ok(results.into_inner().expect("results"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callgrind_totals_are_read() {
        let text = "events: Ir\nfl=x\n0 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(parse_total(text), Some(123_456));
        assert_eq!(parse_total("events: Ir\n"), None);
    }

    #[test]
    fn quick_counts_fewer_iterations_but_at_least_one() {
        assert_eq!(iterations("handshake/x/rustls/polytls-client", false), 30);
        assert_eq!(iterations("handshake/x/rustls/polytls-client", true), 10);
        assert_eq!(
            iterations("throughput/a-1m-c2s/rustls/polytls-sender", true),
            1
        );
    }
}
