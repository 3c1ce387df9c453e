//! `cargo xtask matrix`: every client backend × every server backend, each
//! pair across two processes (OpenSSL cannot share one with BoringSSL or
//! AWS-LC), over
//! loopback TCP. Prints a table (rows: client, columns: server, cells:
//! passed/total) and fails if any cell has a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIOS: &[(&str, &str, &str)] = &[
    ("1.2", "ecdsa", "none"),
    ("1.2", "ecdsa", "mtls"),
    ("1.2", "rsa", "none"),
    ("1.2", "rsa", "mtls"),
    ("1.3", "ecdsa", "none"),
    ("1.3", "ecdsa", "mtls"),
    ("1.3", "rsa", "none"),
    ("1.3", "rsa", "mtls"),
    ("1.2", "ecdsa", "resume"),
    ("1.3", "ecdsa", "resume"),
];

/// The backends, from the xtask's one list.
fn backends() -> Vec<&'static str> {
    crate::backends::names()
}

/// The peer binary holding `backend` (and rustls): its world's.
fn peer_for(target: &Path, backend: &str) -> PathBuf {
    let bin =
        crate::backends::get(backend).map_or("polytls-peer-openssl", |b| b.world().peer_binary);
    // Under `cargo xtask test` the build has an explicit target triple.
    match std::env::var_os("CARGO_BUILD_TARGET") {
        Some(triple) => target.join(triple).join("debug").join(bin),
        None => target.join("debug").join(bin),
    }
}

/// Whether `backend` can resume as a client, asked of the backend itself
/// (through its peer binary).
fn resumes_as_client(target: &Path, backend: &str) -> Result<bool, String> {
    let out = Command::new(peer_for(target, backend))
        .args(["caps", backend])
        .output()
        .map_err(|e| format!("caps {backend}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("client_resumption="))
        .map(|v| v == "true")
        .ok_or_else(|| format!("caps {backend}: no client_resumption line in {text:?}"))
}

fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs one scenario; `Err` says what went wrong.
fn run_one(
    target: &Path,
    pki: &Path,
    client: &str,
    server: &str,
    s: (&str, &str, &str),
) -> Result<(), String> {
    let (version, key, mtls) = s;
    let mut srv = Command::new(peer_for(target, server))
        .args([
            "serve",
            &pki.display().to_string(),
            server,
            version,
            key,
            mtls,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn server: {e}"))?;
    let mut stdout = srv.stdout.take().map(BufReader::new).ok_or("no stdout")?;
    let mut first = String::new();
    stdout.read_line(&mut first).map_err(|e| e.to_string())?;
    let Some(port) = first.trim().strip_prefix("PORT ").map(str::to_owned) else {
        let _ = srv.kill();
        return Err(format!("server did not start: {first:?}"));
    };
    let cli = Command::new(peer_for(target, client))
        .args([
            "connect",
            &pki.display().to_string(),
            client,
            &port,
            version,
            key,
            mtls,
        ])
        .output()
        .map_err(|e| format!("spawn client: {e}"))?;
    let server_status = wait(&mut srv, Duration::from_secs(20));
    let server_info = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("INFO ").map(str::to_owned));
    let mut server_err = String::new();
    if let Some(mut e) = srv.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut server_err);
    }
    let client_info = String::from_utf8_lossy(&cli.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("INFO ").map(str::to_owned));
    if !cli.status.success() {
        return Err(format!(
            "client failed: {} | server: {}",
            String::from_utf8_lossy(&cli.stderr).trim(),
            server_err.trim()
        ));
    }
    if !server_status.is_some_and(|s| s.success()) {
        return Err(format!("server failed: {}", server_err.trim()));
    }
    let (Some(c), Some(s)) = (client_info, server_info) else {
        return Err("missing INFO line".into());
    };
    let want_version = if version == "1.2" {
        "TLSv1.2"
    } else {
        "TLSv1.3"
    };
    if c != s {
        return Err(format!("ends disagree: client {c} / server {s}"));
    }
    if !c.contains(&format!("version={want_version} ")) || !c.contains("alpn=h2 ") {
        return Err(format!("unexpected parameters: {c}"));
    }
    if mtls == "resume" {
        let want = resumes_as_client(target, client)?;
        if !c.contains(&format!("resumed={want} ")) {
            return Err(format!("expected resumed={want}: {c}"));
        }
    }
    Ok(())
}

/// Builds the peer binaries, then runs the matrix.
pub(crate) fn run(cargo: &dyn Fn(&[&str]) -> Result<(), String>) -> Result<(), String> {
    for world in crate::WORLDS {
        let mut args = world.command("build");
        args.extend(["--bin", world.peer_binary]);
        cargo(&args)?;
    }
    run_built()
}

/// Runs the matrix with peer binaries already built.
pub(crate) fn run_built() -> Result<(), String> {
    let target = crate::compare::target_dir();
    let pki = target.join("polytls-matrix").join("pki");
    let status = Command::new(peer_for(&target, "rustls"))
        .args(["pki", &pki.display().to_string()])
        .status()
        .map_err(|e| format!("pki: {e}"))?;
    if !status.success() {
        return Err("could not write the test PKI".into());
    }
    let mut failures = Vec::new();
    let mut table = format!("{:<14}", "client \\ server");
    let backends = backends();
    for s in &backends {
        table.push_str(&format!("{s:>12}"));
    }
    table.push('\n');
    for client in &backends {
        table.push_str(&format!("{client:<14}"));
        for server in &backends {
            let mut passed = 0;
            for s in SCENARIOS {
                match run_one(&target, &pki, client, server, *s) {
                    Ok(()) => passed += 1,
                    Err(e) => failures.push(format!("{client} → {server} {s:?}: {e}")),
                }
            }
            table.push_str(&format!("{:>12}", format!("{passed}/{}", SCENARIOS.len())));
        }
        table.push('\n');
    }
    println!(
        "interop matrix (TLS 1.2/1.3 × ECDSA/RSA × with/without client certificates, and \
resumption with both ends reporting a resumed session; cross-process over loopback):\n{table}"
    );
    for f in &failures {
        eprintln!("FAILED {f}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} matrix cases failed", failures.len()))
    }
}
