//! `cargo xtask compare --tunnel`: polytls tunnel beside stunnel4, driven by
//! the same load generator through the same two-hop chain on loopback:
//!
//! ```text
//! polytls-loadgen -> client-mode tunnel -> server-mode tunnel (mutual TLS) -> echo
//! ```
//!
//! Same certificates (made by `polytls certs`), release build, logs at
//! warning level on both (stunnel `debug = 4`, polytls `RUST_LOG=warn`: at
//! its default `debug = 5`, stunnel here spent ~100 ms per connection in
//! logging; see the note of the tunnel issue),
//! TCP_NODELAY on every socket of both (stunnel: `socket = l:/r:TCP_NODELAY=1`;
//! without it, Nagle and delayed ACKs cost stunnel ~40 ms per exchange).
//! Throughput is bytes echoed per second (sent + received) over a few large
//! connections; connections/s comes from many short ones (full TLS
//! handshakes on both hops, 1 KiB each way). Each figure is the median of
//! three runs.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Guard(Vec<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn wait_port(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("nothing listens on port {port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn spawn(cmd: &mut Command, log: &Path) -> Result<Child, String> {
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    cmd.env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))
}

/// One contender: starts its two tunnels, returns the client-side port.
fn start(who: &str, bin: &Path, dir: &Path, echo: u16, guard: &mut Guard) -> Result<u16, String> {
    let (server_port, client_port) = (free_port()?, free_port()?);
    let pki = dir.join("pki");
    let p = |f: &str| pki.join(f).display().to_string();
    if who == "stunnel" {
        let conf = format!(
            "foreground = yes\npid =\ndebug = 4\noutput = {log}\n\
             socket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n\
             [in]\naccept = 127.0.0.1:{server_port}\nconnect = 127.0.0.1:{echo}\n\
             cert = {cert}\nkey = {key}\nCAfile = {ca}\nverify = 2\n\
             [out]\nclient = yes\naccept = 127.0.0.1:{client_port}\nconnect = 127.0.0.1:{server_port}\n\
             cert = {acert}\nkey = {akey}\nCAfile = {ca}\nverify = 2\ncheckHost = localhost\n",
            log = dir.join("stunnel.log").display(),
            cert = p("server.pem"),
            key = p("server-key.pem"),
            ca = p("ca.pem"),
            acert = p("alice.pem"),
            akey = p("alice-key.pem"),
        );
        let path = dir.join("stunnel.conf");
        std::fs::write(&path, conf).map_err(|e| e.to_string())?;
        let exe = if Command::new("stunnel4").arg("-version").output().is_ok() {
            "stunnel4"
        } else {
            "stunnel"
        };
        guard.0.push(spawn(
            Command::new(exe).arg(&path),
            &dir.join("stunnel.stderr"),
        )?);
    } else {
        let backend = who.trim_start_matches("polytls-");
        let mut server = Command::new(bin);
        server.args([
            "tunnel",
            "--mode",
            "server",
            "--listen",
            &format!("127.0.0.1:{server_port}"),
            "--target",
            &format!("127.0.0.1:{echo}"),
            "--backend",
            backend,
            "--cert",
            &p("server.pem"),
            "--key",
            &p("server-key.pem"),
            "--ca",
            &p("ca.pem"),
            "--max-connections",
            "4096",
        ]);
        guard
            .0
            .push(spawn(&mut server, &dir.join(format!("{who}-server.log")))?);
        let mut client = Command::new(bin);
        client.args([
            "tunnel",
            "--mode",
            "client",
            "--listen",
            &format!("127.0.0.1:{client_port}"),
            "--target",
            &format!("127.0.0.1:{server_port}"),
            "--server-name",
            "localhost",
            "--backend",
            backend,
            "--ca",
            &p("ca.pem"),
            "--cert",
            &p("alice.pem"),
            "--key",
            &p("alice-key.pem"),
            "--max-connections",
            "4096",
        ]);
        guard
            .0
            .push(spawn(&mut client, &dir.join(format!("{who}-client.log")))?);
    }
    wait_port(server_port)?;
    wait_port(client_port)?;
    Ok(client_port)
}

/// Runs the load generator (`polytls-loadgen run`); returns (bytes/s,
/// connections/s).
fn load(
    loadgen: &Path,
    port: u16,
    concurrency: u64,
    total: u64,
    bytes: u64,
) -> Result<(f64, f64), String> {
    let out = Command::new(loadgen)
        .args([
            "run",
            "--connect",
            &format!("127.0.0.1:{port}"),
            "--concurrency",
            &concurrency.to_string(),
            "--total",
            &total.to_string(),
            "--bytes",
            &bytes.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    let report: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("loadgen: {e}: {}", String::from_utf8_lossy(&out.stderr)))?;
    if !out.status.success() {
        return Err(format!("loadgen failed: {report}"));
    }
    let secs = report["seconds"].as_f64().unwrap_or(f64::NAN);
    let ok = report["ok"].as_f64().unwrap_or(0.0);
    let b = report["bytes"].as_f64().unwrap_or(0.0);
    Ok((b / secs, ok / secs))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(crate) fn run(
    quick: bool,
    cargo: &dyn Fn(&[&str]) -> Result<(), String>,
) -> Result<(), String> {
    cargo(&[
        "build",
        "--release",
        "--package",
        "polytls-cli",
        "--package",
        "polytls-loadgen",
    ])?;
    let target = crate::compare::target_dir();
    let bin = target.join("release").join("polytls");
    let loadgen = target.join("release").join("polytls-loadgen");
    let dir: PathBuf = target.join("polytls-tunnel-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let status = Command::new(&bin)
        .args([
            "certs",
            "--dir",
            "pki",
            "--server",
            "localhost,127.0.0.1",
            "--client",
            "alice",
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("polytls certs failed".into());
    }
    let mut guard = Guard(Vec::new());
    let echo_port = free_port()?;
    guard.0.push(spawn(
        Command::new(&loadgen).args(["echo", "--listen", &format!("127.0.0.1:{echo_port}")]),
        &dir.join("echo.log"),
    )?);
    wait_port(echo_port)?;

    let (big, conns) = if quick {
        (16u64 << 20, 1000)
    } else {
        (128u64 << 20, 5000)
    };
    let mut rows = Vec::new();
    for who in ["stunnel", "polytls-rustls", "polytls-openssl"] {
        eprintln!("tunnel benchmark: {who}");
        let mut g = Guard(Vec::new());
        let port = start(who, &bin, &dir, echo_port, &mut g)?;
        load(&loadgen, port, 10, 100, 1024)?; // warm-up
        let mut tput = Vec::new();
        let mut cps = Vec::new();
        for _ in 0..3 {
            tput.push(load(&loadgen, port, 4, 4, big)?.0);
            cps.push(load(&loadgen, port, 50, conns, 1024)?.1);
        }
        let row = (who, median(tput) / 1e6, median(cps));
        eprintln!("  {:.0} MB/s, {:.0} connections/s", row.1, row.2);
        rows.push(row);
    }
    drop(guard);
    let (base_t, base_c) = (rows[0].1, rows[0].2);
    let mut table = format!(
        "\n{:<18} {:>12} {:>10} {:>14} {:>10}\n",
        "tunnel (2 hops)", "MB/s", "x stunnel", "connections/s", "x stunnel"
    );
    let mut json = Vec::new();
    for (who, t, c) in &rows {
        table.push_str(&format!(
            "{who:<18} {t:>12.0} {:>10.2} {c:>14.0} {:>10.2}\n",
            t / base_t,
            c / base_c
        ));
        json.push(serde_json::json!({
            "tunnel": who, "mb_per_s": t, "connections_per_s": c,
            "throughput_vs_stunnel": t / base_t, "connections_vs_stunnel": c / base_c,
        }));
    }
    println!("{table}");
    let out = target.join("polytls-report");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    std::fs::write(
        out.join("tunnel.json"),
        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    eprintln!("raw: {}", out.join("tunnel.json").display());
    Ok(())
}
