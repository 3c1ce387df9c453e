//! `cargo xtask fuzz`: cargo-fuzz (libFuzzer) over the targets of
//! `crates/fuzz-targets`, from the `fuzz/` workspace.
//!
//! Runs on the stable toolchain: `cargo fuzz ... -s none` builds with
//! coverage instrumentation (`-Cpasses=sancov-module`) but without
//! AddressSanitizer, the one part that needs nightly (`-Zsanitizer`); our
//! crates forbid `unsafe`, so ASan would watch only the C libraries, which
//! their own projects fuzz with it. Seeds are recorded from real handshakes
//! of each backend by `polytls-fuzz-seeds` before every run.

use std::path::Path;
use std::process::Command;

/// Every target, as named in `fuzz/Cargo.toml`.
pub(crate) const TARGETS: &[&str] = &[
    "server_session",
    "client_session",
    "handshake_mutation",
    "config_load",
    "adapters",
    "differential",
];

pub(crate) struct Options {
    pub(crate) backend: String,
    pub(crate) targets: Vec<String>,
    pub(crate) seconds: u64,
}

pub(crate) fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        backend: "openssl".into(),
        targets: Vec::new(),
        seconds: 60,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--backend" => {
                o.backend = it
                    .next()
                    .ok_or("--backend needs openssl, boring or aws-lc")?
                    .clone()
            }
            "--target" => o
                .targets
                .push(it.next().ok_or("--target needs a name")?.clone()),
            "--seconds" => {
                o.seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a number")?
            }
            other => {
                return Err(format!(
                "unknown option {other:?} (use --backend openssl|boring|aws-lc, --target T, --seconds N)"
            ))
            }
        }
    }
    o.backend = crate::backends::get(&o.backend)?.name.to_owned();
    if o.backend.starts_with("rustls") {
        return Err("--backend: openssl, boring or aws-lc (rustls runs in each)".into());
    }
    for t in &o.targets {
        if !TARGETS.contains(&t.as_str()) {
            return Err(format!("unknown target {t:?}; targets: {TARGETS:?}"));
        }
    }
    if o.targets.is_empty() {
        o.targets = TARGETS.iter().map(|s| s.to_string()).collect();
    }
    Ok(o)
}

fn ensure_cargo_fuzz(cargo: &dyn Fn(&[&str]) -> Result<(), String>) -> Result<(), String> {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if have {
        return Ok(());
    }
    cargo(&["install", "cargo-fuzz", "--locked", "--version", "0.13.2"])
}

/// One target's result.
pub(crate) struct Run {
    pub(crate) target: String,
    pub(crate) execs: u64,
    pub(crate) cov: u64,
    pub(crate) features: u64,
    pub(crate) corpus: u64,
}

pub(crate) fn run(
    opts: &Options,
    cargo: &dyn Fn(&[&str]) -> Result<(), String>,
) -> Result<Vec<Run>, String> {
    ensure_cargo_fuzz(cargo)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let fuzz = root.join("fuzz");
    let corpus = fuzz.join("corpus");
    let features = format!("--features={}", opts.backend);
    let corpus_arg = corpus.display().to_string();
    cargo(&[
        "run",
        "--quiet",
        "--package",
        "polytls-fuzz-targets",
        "--no-default-features",
        &features,
        "--bin",
        "polytls-fuzz-seeds",
        "--",
        &corpus_arg,
    ])?;
    let target_dir = fuzz.join("target").join(&opts.backend);
    let mut runs = Vec::new();
    for t in &opts.targets {
        let dir = corpus.join(t);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let artifacts = fuzz.join("artifacts").join(&opts.backend).join(t);
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        eprintln!(
            "+ cargo fuzz run {t} ({}, {} s)",
            opts.backend, opts.seconds
        );
        let out = Command::new("cargo")
            .current_dir(&fuzz)
            .args([
                "fuzz",
                "run",
                "-s",
                "none",
                "--no-default-features",
                &features,
            ])
            .arg("--target-dir")
            .arg(&target_dir)
            .args([t.as_str(), &dir.display().to_string(), "--"])
            .arg(format!("-max_total_time={}", opts.seconds))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .args(["-timeout=20", "-rss_limit_mb=4096", "-print_final_stats=1"])
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            return Err(format!(
                "fuzz target {t} ({}) failed: a crash, a hang or a build error; artifacts in {}\n{}",
                opts.backend,
                artifacts.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        let stat = |key: &str| {
            log.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let done = log
            .lines()
            .rev()
            .find(|l| l.contains(" cov: "))
            .unwrap_or("");
        let field = |name: &str| {
            done.split_whitespace()
                .skip_while(|w| *w != name)
                .nth(1)
                .and_then(|v| v.split('/').next()?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let r = Run {
            target: t.clone(),
            execs: stat("stat::number_of_executed_units:"),
            cov: field("cov:"),
            features: field("ft:"),
            corpus: field("corp:"),
        };
        eprintln!(
            "  {t}: {} execs, cov {}, ft {}, corpus {}",
            r.execs, r.cov, r.features, r.corpus
        );
        runs.push(r);
    }
    println!(
        "\nfuzz ({} + rustls), {} s per target",
        opts.backend, opts.seconds
    );
    println!(
        "{:<20} {:>12} {:>8} {:>8} {:>8}",
        "target", "execs", "cov", "ft", "corpus"
    );
    for r in &runs {
        println!(
            "{:<20} {:>12} {:>8} {:>8} {:>8}",
            r.target, r.execs, r.cov, r.features, r.corpus
        );
    }
    Ok(runs)
}
