//! Project automation. `cargo xtask test` runs every check the project has;
//! `cargo xtask compare` runs the backend comparison. Both install missing
//! Debian packages first (as root) or print the exact command to do so.

use std::process::{Command, ExitCode};

mod compare;
mod fuzz;
mod instructions;
mod matrix;
mod packages;
mod report;
mod tunnel_bench;

/// Packages and feature sets that are linted and tested, each by its own
/// cargo invocation, so no binary ever links both OpenSSL and BoringSSL.
const PACKAGES: &[(&str, &[&str])] = &[
    ("xtask", &[]),
    ("polytls-api", &["--features", "tokio"]),
    ("polytls-rustls", &[]),
    ("polytls-conformance", &[]),
    ("polytls", &[]),
    ("polytls-ossl-common", &[]),
    ("polytls-openssl", &[]),
    ("polytls", &["--features", "openssl"]),
    // The CLI's default build holds rustls and OpenSSL ...
    ("polytls-cli", &[]),
    ("polytls-boring", &[]),
    (
        "polytls",
        &["--no-default-features", "--features", "rustls,tokio,boring"],
    ),
    // ... and its `boring` build rustls and BoringSSL.
    (
        "polytls-cli",
        &["--no-default-features", "--features", "boring"],
    ),
    // The bench binaries run once each under `cargo test` (bench smoke):
    // rustls, limits and OpenSSL in one build, BoringSSL in the other.
    ("polytls-bench", &["--features", "openssl"]),
    ("polytls-bench", &["--features", "boring"]),
    // Fuzz target bodies replayed over seeds, mutations and regressions.
    ("polytls-fuzz-targets", &["--features", "openssl"]),
    ("polytls-fuzz-targets", &["--features", "boring"]),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("compare") => compare(&args[1..]),
        Some("matrix") => packages::ensure(packages::ALL).and_then(|()| matrix::run(&cargo)),
        Some("deps") => packages::ensure(packages::ALL),
        Some("fuzz") => packages::ensure(packages::ALL)
            .and_then(|()| fuzz::parse(&args[1..]))
            .and_then(|o| fuzz::run(&o, &cargo))
            .map(|_| ()),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 test      install missing system packages, then fmt, clippy and every test, package by package\n  \
                 compare   the backend comparison: [--quick] [--backend NAME]... [--case FILTER]\n  \
                 compare --tunnel [--quick]   the polytls tunnel beside stunnel4\n  \
                 fuzz      libFuzzer on every target: [--backend openssl|boring] [--target T]... [--seconds N]\n  \
                 matrix    every client backend x every server backend, across processes\n  \
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

fn cargo(args: &[&str]) -> Result<(), String> {
    eprintln!("+ cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
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

fn test() -> Result<(), String> {
    packages::ensure(packages::ALL)?;
    cargo(&["fmt", "--all", "--check"])?;
    for (pkg, features) in PACKAGES {
        let mut args = vec!["clippy", "--package", pkg, "--all-targets"];
        args.extend_from_slice(features);
        args.extend_from_slice(&["--", "-D", "warnings"]);
        cargo(&args)?;
    }
    let mut totals = Totals::default();
    for (pkg, features) in PACKAGES {
        let mut args = vec!["test", "--package", pkg];
        args.extend_from_slice(features);
        cargo_test(&args, &mut totals)?;
    }
    matrix::run(&cargo)?;
    // A 5-second libFuzzer run of every target (rustls + OpenSSL build); the
    // BoringSSL build's targets are replayed by polytls-fuzz-targets' smoke
    // test above, and fuzzed with `cargo xtask fuzz --backend boring`.
    let smoke = fuzz::Options {
        backend: "openssl".into(),
        targets: fuzz::TARGETS.iter().map(|s| s.to_string()).collect(),
        seconds: 5,
    };
    let fuzz_started = std::time::Instant::now();
    fuzz::run(&smoke, &cargo)?;
    eprintln!(
        "libFuzzer smoke (build and run): {:.0} s",
        fuzz_started.elapsed().as_secs_f64()
    );
    eprintln!("xtask test: all checks passed");
    println!(
        "{} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    Ok(())
}

fn compare(args: &[String]) -> Result<(), String> {
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
