//! `cargo xtask compare --tunnel`: the polytls tunnel on each backend beside
//! stunnel4, nginx (stream module) and HAProxy, driven by the same load
//! generator through the same two-hop chain on loopback:
//!
//! ```text
//! polytls-loadgen -> plaintext in, TLS out (client certificate) -> TLS in (mutual TLS), plaintext out -> echo
//! ```
//!
//! Each contender runs both hops in one process with as many worker threads
//! as the machine has cores (nginx `worker_processes`, HAProxy `nbthread`,
//! tokio workers; stunnel's model is a thread per connection). Every one
//! resumes TLS sessions on the inner hop by default and keeps it so. Same
//! certificates (made by `polytls certs`), release build, logs at warning
//! level on all (stunnel `debug = 4`, polytls `RUST_LOG=warn`: at
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

/// Worker threads for every contender: the machine's cores (nginx worker
/// processes, HAProxy threads, tokio workers; stunnel runs a thread per
/// connection, its only model).
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// One contender: starts its two hops (one process holding both, for every
/// contender), returns the client-side port.
fn start(who: &str, bins: &Bins, dir: &Path, echo: u16, guard: &mut Guard) -> Result<u16, String> {
    let (server_port, client_port) = (free_port()?, free_port()?);
    let pki = dir.join("pki");
    let p = |f: &str| pki.join(f).display().to_string();
    let write = |name: &str, text: String| -> Result<PathBuf, String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Ok(path)
    };
    match who {
        "stunnel" => {
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
            let path = write("stunnel.conf", conf)?;
            let exe = if Command::new("stunnel4").arg("-version").output().is_ok() {
                "stunnel4"
            } else {
                "stunnel"
            };
            guard.0.push(spawn(
                Command::new(exe).arg(&path),
                &dir.join("stunnel.stderr"),
            )?);
        }
        "nginx" => {
            // The stream module: TLS termination with client certificates,
            // and TLS origination with a client certificate, as the tunnel.
            let d = dir.display();
            let conf = format!(
                "daemon off;\nworker_processes {n};\npid {d}/nginx.pid;\n\
                 error_log {d}/nginx-error.log warn;\nworker_rlimit_nofile 65536;\n\
                 load_module {module};\n\
                 events {{ worker_connections 16384; }}\n\
                 stream {{\n\
                   server {{\n    listen 127.0.0.1:{server_port} ssl;\n    \
                     ssl_certificate {cert};\n    ssl_certificate_key {key};\n    \
                     ssl_client_certificate {ca};\n    ssl_verify_client on;\n    \
                     ssl_protocols TLSv1.2 TLSv1.3;\n    proxy_pass 127.0.0.1:{echo};\n  }}\n\
                   server {{\n    listen 127.0.0.1:{client_port};\n    \
                     proxy_pass 127.0.0.1:{server_port};\n    proxy_ssl on;\n    \
                     proxy_ssl_certificate {acert};\n    proxy_ssl_certificate_key {akey};\n    \
                     proxy_ssl_trusted_certificate {ca};\n    proxy_ssl_verify on;\n    \
                     proxy_ssl_name localhost;\n    proxy_ssl_server_name on;\n  }}\n}}\n",
                n = threads(),
                module = NGINX_STREAM_MODULE,
                cert = p("server.pem"),
                key = p("server-key.pem"),
                ca = p("ca.pem"),
                acert = p("alice.pem"),
                akey = p("alice-key.pem"),
            );
            let path = write("nginx.conf", conf)?;
            guard.0.push(spawn(
                Command::new("nginx").args([
                    "-p",
                    &d.to_string(),
                    "-c",
                    &path.display().to_string(),
                    "-e",
                    &format!("{d}/nginx-startup.log"),
                ]),
                &dir.join("nginx.stderr"),
            )?);
        }
        "haproxy" => {
            // HAProxy wants each certificate and its key in one file.
            let both = |cert: &str, key: &str| -> Result<String, String> {
                let mut pem = std::fs::read_to_string(pki.join(cert)).map_err(|e| e.to_string())?;
                pem.push_str(&std::fs::read_to_string(pki.join(key)).map_err(|e| e.to_string())?);
                Ok(write(&format!("haproxy-{cert}"), pem)?
                    .display()
                    .to_string())
            };
            let (server, alice) = (
                both("server.pem", "server-key.pem")?,
                both("alice.pem", "alice-key.pem")?,
            );
            let conf = format!(
                "global\n    nbthread {n}\n    maxconn 4096\n\n\
                 defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    \
                 timeout server 60s\n\n\
                 frontend tls_in\n    bind 127.0.0.1:{server_port} ssl crt {server} ca-file {ca} \
                 verify required\n    default_backend echo\n\n\
                 backend echo\n    server e 127.0.0.1:{echo}\n\n\
                 frontend plain_in\n    bind 127.0.0.1:{client_port}\n    default_backend tls_out\n\n\
                 backend tls_out\n    server s 127.0.0.1:{server_port} ssl crt {alice} ca-file {ca} \
                 verify required sni str(localhost) verifyhost localhost\n",
                n = threads(),
                ca = p("ca.pem"),
            );
            let path = write("haproxy.cfg", conf)?;
            guard.0.push(spawn(
                Command::new("haproxy").args(["-db", "-f", &path.display().to_string()]),
                &dir.join("haproxy.stderr"),
            )?);
        }
        polytls => {
            // `-x25519`: the key exchange the others use (OpenSSL 3.0 has no
            // X25519MLKEM768), beside polytls' default hybrid one.
            let (backend, groups) = match polytls.strip_suffix("-x25519") {
                Some(b) => (b.trim_start_matches("polytls-"), "groups = [\"x25519\"]\n"),
                None => (polytls.trim_start_matches("polytls-"), ""),
            };
            let bin = bins.polytls(backend)?;
            let conf = format!(
                "[[tunnel]]\nname = \"in\"\nmode = \"server\"\nlisten = \"127.0.0.1:{server_port}\"\n\
                 target = \"127.0.0.1:{echo}\"\nmax_connections = 4096\nmax_handshakes = 4096\n\
                 max_handshakes_per_source = 0\n[tunnel.tls]\n\
                 backend = \"{backend}\"\n{groups}cert = \"{cert}\"\nkey = \"{key}\"\nca = \"{ca}\"\n\n\
                 [[tunnel]]\nname = \"out\"\nmode = \"client\"\nlisten = \"127.0.0.1:{client_port}\"\n\
                 target = \"127.0.0.1:{server_port}\"\nserver_name = \"localhost\"\n\
                 max_connections = 4096\nmax_handshakes = 4096\n[tunnel.tls]\nbackend = \"{backend}\"\n{groups}ca = \"{ca}\"\n\
                 cert = \"{acert}\"\nkey = \"{akey}\"\n",
                cert = p("server.pem"),
                key = p("server-key.pem"),
                ca = p("ca.pem"),
                acert = p("alice.pem"),
                akey = p("alice-key.pem"),
            );
            let path = write(&format!("{polytls}.toml"), conf)?;
            guard.0.push(spawn(
                Command::new(bin)
                    .args(["tunnel", "--config", &path.display().to_string()])
                    .env("TOKIO_WORKER_THREADS", threads().to_string()),
                &dir.join(format!("{polytls}.log")),
            )?);
        }
    }
    wait_port(server_port)?;
    wait_port(client_port)?;
    Ok(client_port)
}

/// nginx's stream module as Debian installs it (`libnginx-mod-stream`).
const NGINX_STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

/// The polytls binaries, one per world: rustls with OpenSSL, BoringSSL or
/// AWS-LC.
struct Bins {
    openssl: PathBuf,
    boring: PathBuf,
    aws_lc: PathBuf,
}

impl Bins {
    fn polytls(&self, backend: &str) -> Result<&Path, String> {
        match backend {
            "rustls" | "openssl" => Ok(&self.openssl),
            "boring" => Ok(&self.boring),
            "aws-lc" => Ok(&self.aws_lc),
            other => Err(format!("no polytls binary for {other}")),
        }
    }
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

/// Everyone in the table, in order.
const CONTENDERS: [&str; 8] = [
    "stunnel",
    "nginx",
    "haproxy",
    "polytls-rustls",
    "polytls-rustls-x25519",
    "polytls-openssl",
    "polytls-boring",
    "polytls-aws-lc",
];

pub(crate) fn run(
    quick: bool,
    cargo: &dyn Fn(&[&str]) -> Result<(), String>,
) -> Result<(), String> {
    let target = crate::compare::target_dir();
    let dir: PathBuf = target.join("polytls-tunnel-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // rustls + BoringSSL and rustls + AWS-LC first (kept under other names),
    // then the default rustls + OpenSSL build: one OpenSSL-family library per
    // binary.
    let mut other = Vec::new();
    for feature in ["boring", "aws-lc"] {
        cargo(&[
            "build",
            "--release",
            "--package",
            "polytls-cli",
            "--no-default-features",
            "--features",
            feature,
        ])?;
        let kept = dir.join(format!("polytls-{feature}"));
        std::fs::copy(target.join("release").join("polytls"), &kept)
            .map_err(|e| format!("copying the {feature} build: {e}"))?;
        other.push(kept);
    }
    let [boring, aws_lc] = <[PathBuf; 2]>::try_from(other).map_err(|_| "two builds")?;
    cargo(&[
        "build",
        "--release",
        "--package",
        "polytls-cli",
        "--package",
        "polytls-loadgen",
    ])?;
    let bin = target.join("release").join("polytls");
    let loadgen = target.join("release").join("polytls-loadgen");
    let bins = Bins {
        openssl: bin.clone(),
        boring,
        aws_lc,
    };
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
    for who in CONTENDERS {
        eprintln!("tunnel benchmark: {who}");
        let mut g = Guard(Vec::new());
        let port = start(who, &bins, &dir, echo_port, &mut g)?;
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
    // The best of the others on each figure is the bar.
    let others = rows.iter().filter(|r| !r.0.starts_with("polytls"));
    let best_t = others.clone().map(|r| r.1).fold(0.0, f64::max);
    let best_c = others.map(|r| r.2).fold(0.0, f64::max);
    let mut table = format!(
        "\n{:<22} {:>10} {:>8} {:>14} {:>8}   (x best = against the best of stunnel, nginx, HAProxy; median of 3; {} threads each)\n",
        "tunnel (2 hops)", "MB/s", "x best", "connections/s", "x best", threads()
    );
    let mut json = Vec::new();
    for (who, t, c) in &rows {
        table.push_str(&format!(
            "{who:<22} {t:>10.0} {:>8.2} {c:>14.0} {:>8.2}\n",
            t / best_t,
            c / best_c
        ));
        json.push(serde_json::json!({
            "tunnel": who, "mb_per_s": t, "connections_per_s": c,
            "throughput_vs_best_other": t / best_t, "connections_vs_best_other": c / best_c,
        }));
    }
    table.push_str(
        "key exchange: polytls rows use polytls' default, the X25519MLKEM768 hybrid where the \
library has it (rustls, BoringSSL, AWS-LC; OpenSSL 3.0 has not, so polytls-openssl uses X25519); \
polytls-rustls-x25519 uses X25519 alone, like stunnel, nginx and HAProxy on this \
machine's OpenSSL 3.0\n",
    );
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
