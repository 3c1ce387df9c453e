//! Project automation. `cargo xtask test` runs every check the project has;
//! `cargo xtask compare` runs the backend comparison. Both install missing
//! Debian packages first (as root) or print the exact command to do so.

use std::process::{Command, ExitCode};

mod packages;

/// Packages and feature sets that are linted and tested, each by its own
/// cargo invocation, so no binary ever links both OpenSSL and BoringSSL.
const PACKAGES: &[(&str, &[&str])] = &[
    ("polytls-api", &["--features", "tokio"]),
    ("polytls-rustls", &[]),
    ("polytls-conformance", &[]),
    ("polytls", &[]),
    ("polytls-openssl", &[]),
    ("polytls", &["--features", "openssl"]),
    ("polytls-boring", &[]),
    (
        "polytls",
        &["--no-default-features", "--features", "rustls,tokio,boring"],
    ),
    ("xtask", &[]),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("compare") => compare(&args[1..]),
        Some("deps") => packages::ensure(packages::ALL),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 test      install missing system packages, then fmt, clippy and every test, package by package\n  \
                 compare   the backend comparison (benchmarks)\n  \
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

fn test() -> Result<(), String> {
    packages::ensure(packages::ALL)?;
    cargo(&["fmt", "--all", "--check"])?;
    for (pkg, features) in PACKAGES {
        let mut args = vec!["clippy", "--package", pkg, "--all-targets"];
        args.extend_from_slice(features);
        args.extend_from_slice(&["--", "-D", "warnings"]);
        cargo(&args)?;
    }
    for (pkg, features) in PACKAGES {
        let mut args = vec!["test", "--package", pkg];
        args.extend_from_slice(features);
        cargo(&args)?;
    }
    eprintln!("xtask test: all checks passed");
    Ok(())
}

fn compare(_args: &[String]) -> Result<(), String> {
    packages::ensure(packages::ALL)?;
    Err("the comparison run is not built yet (benchmarks: see the open issue); nothing was measured".into())
}
