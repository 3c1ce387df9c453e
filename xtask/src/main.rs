//! Project automation. `cargo xtask test` runs every check the project has;
//! `cargo xtask compare` runs the backend comparison. Both install missing
//! Debian packages first (as root) or print the exact command to do so.

use std::process::{Command, ExitCode};

mod backends;
mod bogo;
mod compare;
mod diff;
mod fuzz;
mod instructions;
mod matrix;
mod packages;
mod report;
mod tunnel_bench;

/// The packages linted and tested together in one cargo invocation, with
/// the features they are built with. OpenSSL and BoringSSL never share a
/// binary, AWS-LC's libssl clashes with BoringSSL's too, and the `openssl`
/// crate links either OpenSSL or AWS-LC for a whole build, so there are three
/// such worlds: rustls + OpenSSL, rustls + BoringSSL, rustls + AWS-LC. Within a world cargo unifies features once, so every
/// dependency (aws-lc-sys, BoringSSL) is built once, not per package.
pub(crate) struct World {
    name: &'static str,
    packages: &'static [&'static str],
    args: &'static [&'static str],
    /// The interop peer binary of this world (rustls and its libraries).
    pub(crate) peer_binary: &'static str,
    /// The BoGo shim binary of this world.
    pub(crate) shim_binary: &'static str,
}

pub(crate) static WORLDS: &[World] = &[
    World {
        name: "rustls + OpenSSL",
        packages: &[
            "xtask",
            "polytls-api",
            "polytls-rustls",
            "polytls-conformance",
            "polytls-ossl-common",
            "polytls-openssl",
            "polytls",
            "polytls-cli",
            "polytls-loadgen",
            "polytls-hyper",
            "polytls-listener",
            "polytls-postgres",
            "polytls-peer",
            "polytls-bench",
            "polytls-fuzz-targets",
            "polytls-downstream",
            "polytls-bogo-shim",
        ],
        args: &[
            "--features",
            "polytls/openssl,polytls/futures-io,polytls-peer/openssl,\
             polytls/rustls-ring,polytls-peer/rustls-ring,polytls-cli/rustls-ring,\
             polytls-bogo-shim/rustls-ring,polytls-bench/rustls-ring,polytls-fuzz-targets/rustls-ring,polytls-bogo-shim/openssl,polytls-bench/openssl,polytls-fuzz-targets/openssl,\
             polytls-hyper/openssl,polytls-listener/openssl,polytls-listener/axum,\
             polytls-listener/tonic,polytls-postgres/openssl",
        ],
        peer_binary: "polytls-peer-openssl",
        shim_binary: "polytls-bogo-shim-openssl",
    },
    World {
        name: "rustls + BoringSSL",
        packages: &[
            "polytls-boring",
            "polytls",
            "polytls-cli",
            "polytls-hyper",
            "polytls-listener",
            "polytls-postgres",
            "polytls-peer",
            "polytls-bench",
            "polytls-fuzz-targets",
            "polytls-bogo-shim",
        ],
        args: &[
            "--no-default-features",
            "--features",
            "polytls/rustls,polytls/tokio,polytls/futures-io,polytls/boring,polytls-cli/boring,polytls-peer/boring,\
             polytls-bogo-shim/boring,\
             polytls-bench/boring,polytls-fuzz-targets/boring,polytls-hyper/boring,\
             polytls-listener/boring,polytls-listener/axum,polytls-listener/tonic,\
             polytls-postgres/boring",
        ],
        peer_binary: "polytls-peer-boring",
        shim_binary: "polytls-bogo-shim-boring",
    },
    // AWS-LC's libssl symbols are not prefixed (aws-lc-sys 0.41 prefixes
    // only libcrypto's): 556 `SSL_*` symbols clash with BoringSSL's at link
    // time, so AWS-LC has a world of its own. The integrations (hyper,
    // listener, postgres) are tested in the other two worlds: their code is
    // backend-generic and AWS-LC passes the same conformance suite.
    World {
        name: "rustls + AWS-LC",
        packages: &[
            "polytls-aws-lc",
            "polytls",
            "polytls-cli",
            "polytls-peer",
            "polytls-bench",
            "polytls-fuzz-targets",
            "polytls-bogo-shim",
        ],
        args: &[
            "--no-default-features",
            "--features",
            "polytls/rustls,polytls/tokio,polytls/futures-io,polytls/aws-lc,polytls-cli/aws-lc,\
             polytls-peer/aws-lc,polytls-bogo-shim/aws-lc,polytls-bench/aws-lc,\
             polytls-fuzz-targets/aws-lc",
        ],
        peer_binary: "polytls-peer-aws-lc",
        shim_binary: "polytls-bogo-shim-aws-lc",
    },
];

impl World {
    /// `cargo <verb> -p A -p B ... <args>`.
    fn command<'a>(&'a self, verb: &'a str) -> Vec<&'a str> {
        let mut v = vec![verb];
        for p in self.packages {
            v.extend(["--package", p]);
        }
        v.extend_from_slice(self.args);
        v
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("compare") => compare(&args[1..]),
        Some("matrix") => packages::ensure(packages::ALL).and_then(|()| matrix::run(&cargo)),
        Some("deps") => packages::ensure(packages::ALL),
        Some("bogo") => bogo_command(&args[1..]),
        Some("openssl-current") => openssl_current(),
        Some("fuzz") => packages::ensure(packages::ALL)
            .and_then(|()| fuzz::parse(&args[1..]))
            .and_then(|o| fuzz::run(&o, &cargo))
            .map(|_| ()),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 test      install missing system packages, then fmt, clippy and every test, package by package\n  \
                 compare   the backend comparison: [--quick|--full] [--backend NAME]... [--case FILTER]\n  \
                 compare --tunnel [--quick]   the polytls tunnel beside stunnel4, nginx, HAProxy\n  \
                 compare --diff A.json B.json   how far the figures of the same rows moved between two runs\n  \
                 fuzz      libFuzzer on every target: [--backend openssl|boring] [--target T]... [--seconds N]\n  \
                 matrix    every client backend x every server backend, across processes\n  \
                 bogo      BoringSSL's BoGo runner against the polytls shim: [--backend NAME]... [--filter 'GLOB;GLOB'] [--subset]\n  \
                 openssl-current   the OpenSSL backend on a current OpenSSL (3.6, built by openssl-src): conformance and interop\n  \
                 deps      only install the system packages"
            );
            Err("unknown command".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask openssl-current`: the OpenSSL backend built against the
/// OpenSSL that `openssl-src` vendors (3.6), beside the system one (3.0):
/// the conformance suite on both paths and the interop tests with rustls.
/// Not part of `cargo xtask test`: building OpenSSL from source takes
/// minutes of CI's 30, and the backend's code is the same for both
/// versions; run it when the OpenSSL backend or `openssl-src` changes.
fn openssl_current() -> Result<(), String> {
    if std::env::var_os("CARGO_BUILD_TARGET").is_none() {
        std::env::set_var("CARGO_BUILD_TARGET", host_triple()?);
    }
    let mut totals = Totals::default();
    cargo_test(
        &[
            "test",
            "--package",
            "polytls-openssl",
            "--features",
            "vendored",
            "--test",
            "conformance",
            "--test",
            "interop",
        ],
        &mut totals,
    )?;
    println!(
        "OpenSSL (vendored): {} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    Ok(())
}

/// The host's target triple (`rustc -vV`).
fn host_triple() -> Result<String, String> {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_env(args, &[])
}

/// `cargo args` with extra environment variables.
fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("+ cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// Test counts summed over every `cargo test` run.
#[derive(Debug, Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Totals {
    /// Adds the counts of a libtest summary line such as
    /// `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
    fn add_summary(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(n)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test`, echoing its output and counting its results.
fn cargo_test(args: &[&str], totals: &mut Totals) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    eprintln!("+ cargo {}", args.join(" "));
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            totals.add_summary(&line);
        }
    }
    let status = child.wait().map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// How long each phase of `cargo xtask test` took.
#[derive(Default)]
struct Phases(Vec<(String, std::time::Duration)>);

impl Phases {
    fn run<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        let start = std::time::Instant::now();
        let r = f();
        self.0.push((name.to_owned(), start.elapsed()));
        r
    }

    fn print(&self) {
        eprintln!("phase times:");
        for (name, d) in &self.0 {
            eprintln!("  {:>7.1} s  {name}", d.as_secs_f64());
        }
        let total: f64 = self.0.iter().map(|(_, d)| d.as_secs_f64()).sum();
        eprintln!("  {total:>7.1} s  in all");
    }
}

fn test() -> Result<(), String> {
    // An explicit target keeps build scripts and proc-macros (host units)
    // apart from the crates being tested: without it cargo shares a host
    // unit with an identical target unit when there is one, so clippy, test,
    // doc and build each saw a different `regex` under bindgen and rebuilt
    // BoringSSL and aws-lc (five and four times on a fresh machine).
    if std::env::var_os("CARGO_BUILD_TARGET").is_none() {
        std::env::set_var("CARGO_BUILD_TARGET", host_triple()?);
    }
    // A clean checkout builds once: incremental caches would only take disk
    // (3.5 GB of the 18 GB a CI run once wrote, and a full disk failed it).
    if std::env::var_os("CI").is_some() && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        std::env::set_var("CARGO_INCREMENTAL", "0");
    }
    let mut phases = Phases::default();
    let mut totals = Totals::default();
    let result = run_tests(&mut phases, &mut totals);
    phases.print();
    println!(
        "{} passed, {} failed, {} skipped (skips are listed with their reasons above each suite)",
        totals.passed, totals.failed, totals.ignored
    );
    result?;
    eprintln!("xtask test: all checks passed");
    Ok(())
}

/// The crates published to crates.io, in dependency order; everything
/// else in the workspace has `publish = false`.
const PUBLISHED: &[&str] = &[
    "polytls-api",
    "polytls-rustls",
    "polytls-ossl-common",
    "polytls-openssl",
    "polytls-boring",
    "polytls-aws-lc",
    "polytls",
    "polytls-hyper",
    "polytls-listener",
    "polytls-postgres",
];

/// `cargo package` of every published crate (metadata, files, versioned
/// path dependencies), then `cargo publish --dry-run` of the one whose
/// dependencies are all on crates.io already (the others depend on
/// polytls-api, which a dry run cannot find there before it is published).
fn packaging() -> Result<(), String> {
    let mut args = vec!["package", "--no-verify", "--allow-dirty"];
    for p in PUBLISHED {
        args.extend(["--package", p]);
    }
    cargo(&args)?;
    cargo(&[
        "publish",
        "--dry-run",
        "--allow-dirty",
        "--package",
        "polytls-api",
    ])
}

fn run_tests(phases: &mut Phases, totals: &mut Totals) -> Result<(), String> {
    phases.run("system packages", || packages::ensure(packages::ALL))?;
    phases.run("rustfmt", || cargo(&["fmt", "--all", "--check"]))?;
    phases.run("packaging", packaging)?;
    for world in WORLDS {
        phases.run(&format!("clippy, {}", world.name), || {
            let mut args = world.command("clippy");
            args.extend(["--all-targets", "--", "-D", "warnings"]);
            cargo(&args)
        })?;
        phases.run(&format!("tests, {}", world.name), || {
            cargo_test(&world.command("test"), totals)
        })?;
        phases.run(&format!("docs, {}", world.name), || {
            // The world's own packages and features: nothing rebuilds.
            let mut args = world.command("doc");
            args.push("--no-deps");
            cargo_env(&args, &[("RUSTDOCFLAGS", "-D warnings")])
        })?;
    }
    // A downstream library that forwards one backend feature to polytls:
    // built once per backend, each build holding exactly that backend (so
    // the facade is also built with rustls alone, and with each
    // OpenSSL-family library without rustls). polytls-feature-parity only
    // gives the build host the worlds' features, so BoringSSL and AWS-LC are
    // not built from source a second time.
    phases.run("downstream example, one backend per build", || {
        for backend in backends::BACKENDS {
            let feature = format!("echo-client/{}", backend.feature());
            cargo_test(
                &[
                    "test",
                    "--package",
                    "echo-client",
                    "--package",
                    "polytls-feature-parity",
                    "--no-default-features",
                    "--features",
                    &feature,
                ],
                totals,
            )?;
        }
        Ok(())
    })?;
    phases.run("interop matrix", || {
        // The peer binaries (and the BoGo shims), built with each world's
        // features so nothing rebuilds.
        for world in WORLDS {
            let mut args = world.command("build");
            args.push("--bins");
            cargo(&args)?;
        }
        matrix::run_built()
    })?;
    phases.run("BoGo subset, every backend", || {
        let runner = bogo::runner()?;
        let opts = bogo::Options {
            subset: true,
            ..bogo::Options::default()
        };
        for backend in backends::names() {
            let counts = bogo::run_backend(&runner, &shim_path(backend)?, backend, &opts)?;
            bogo::print(backend, &counts);
            totals.passed += counts.passed;
            totals.ignored += counts.unimplemented;
            if counts.failed > 0 || counts.passed == 0 {
                return Err(format!(
                    "BoGo subset on {backend}: {} failed, {} passed",
                    counts.failed, counts.passed
                ));
            }
        }
        Ok(())
    })?;
    // libFuzzer itself runs with `cargo xtask fuzz`: the fuzz target bodies
    // are replayed over their seeds, mutations and saved regressions by the
    // polytls-fuzz-targets tests in both worlds above.
    Ok(())
}

/// The shim binary for `backend`: its world's.
fn shim_path(backend: &str) -> Result<std::path::PathBuf, String> {
    let bin = backends::get(backend)?.world().shim_binary;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let triple = host_triple()?;
    let path = std::path::Path::new(&target)
        .join(triple)
        .join("debug")
        .join(bin);
    std::fs::canonicalize(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `cargo xtask bogo`: builds the runner and the shims, runs every (or
/// each given) backend, prints the tables and gap lists, writes
/// `target/bogo/summary.json`.
fn bogo_command(args: &[String]) -> Result<(), String> {
    let opts = bogo::parse(args)?;
    packages::ensure(packages::ALL)?;
    if std::env::var_os("CARGO_BUILD_TARGET").is_none() {
        std::env::set_var("CARGO_BUILD_TARGET", host_triple()?);
    }
    let backends: Vec<String> = if opts.backends.is_empty() {
        backends::names().iter().map(|b| b.to_string()).collect()
    } else {
        opts.backends.clone()
    };
    // Each wanted world's shim, built with the world's features (the same
    // artifacts `cargo xtask test` builds).
    for world in WORLDS {
        let wanted = backends
            .iter()
            .any(|b| backends::get(b).is_ok_and(|b| b.world().name == world.name));
        if wanted {
            let mut args = world.command("build");
            args.extend(["--bin", world.shim_binary]);
            cargo(&args)?;
        }
    }
    let runner = bogo::runner()?;
    let started = std::time::Instant::now();
    let mut summary = serde_json::Map::new();
    for backend in &backends {
        let t = std::time::Instant::now();
        let counts = bogo::run_backend(&runner, &shim_path(backend)?, backend, &opts)?;
        bogo::print(backend, &counts);
        println!("  ({:.0} s)", t.elapsed().as_secs_f64());
        summary.insert(
            backend.clone(),
            serde_json::json!({
                "passed": counts.passed,
                "failed": counts.failed,
                "unimplemented": counts.unimplemented,
                "disabled": counts.disabled,
                "stale": counts.stale,
                "failures": counts.failures.iter().map(|(n, e)| serde_json::json!({"test": n, "error": e})).collect::<Vec<_>>(),
                "other_protocol": counts.other_protocol,
                "gaps": counts.gaps.iter().map(|(f, alone, all)| serde_json::json!({"flag": f, "unlocks": alone, "needed_by": all})).collect::<Vec<_>>(),
                "seconds": t.elapsed().as_secs(),
                "baseline": counts.baseline.as_ref().map(|b| serde_json::json!({
                    "shim": b.shim,
                    "ours_run": b.ours_run,
                    "theirs_run": b.theirs_run,
                    "their_pass_we_run": b.their_pass_we_run,
                    "both_pass": b.both_pass,
                    "by_design": b.by_design,
                    "defects": b.defects.iter().map(|(n, w)| serde_json::json!({"test": n, "listed": w})).collect::<Vec<_>>(),
                })),
            }),
        );
    }
    let out = runner.with_file_name("summary.json");
    std::fs::write(&out, serde_json::Value::Object(summary).to_string())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "BoGo: {:.0} s; results in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn compare(args: &[String]) -> Result<(), String> {
    if args.first().is_some_and(|a| a == "--diff") {
        let [_, a, b] = args else {
            return Err("--diff takes two results.json files: --diff A.json B.json".into());
        };
        return diff::run(a, b);
    }
    packages::ensure(packages::ALL)?;
    if args.iter().any(|a| a == "--tunnel") {
        let quick = args.iter().any(|a| a == "--quick");
        if let Some(other) = args
            .iter()
            .find(|a| !["--tunnel", "--quick"].contains(&a.as_str()))
        {
            return Err(format!("--tunnel takes only --quick, not {other:?}"));
        }
        return tunnel_bench::run(quick, &cargo);
    }
    compare::run(args)
}

#[cfg(test)]
mod tests {
    use super::Totals;

    #[test]
    fn sums_libtest_summaries() {
        let mut t = Totals::default();
        t.add_summary("test result: ok. 146 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 1.26s");
        t.add_summary(
            "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        t.add_summary("running 3 tests");
        assert_eq!((t.passed, t.failed, t.ignored), (149, 1, 2));
    }
}
