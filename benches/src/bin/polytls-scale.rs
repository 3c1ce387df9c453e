//! `polytls-scale`: the scale harness as a program (see
//! `polytls_bench::scale`). `run` starts its own server as a child process
//! per measurement and prints one JSON line per figure; `serve` is that
//! child.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};

use clap::{Parser, Subcommand, ValueEnum};
use polytls_api::{Backend, CertificateDer};
use polytls_bench::scale::{self, ServeMode};

/// Handshakes per second as threads grow, memory as connections grow.
#[derive(Parser, Debug)]
#[command(name = "polytls-scale")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Measure: prints one JSON line per figure.
    Run {
        /// rustls, or the OpenSSL-family backend this build holds.
        #[arg(long)]
        backend: String,
        /// Server worker threads to measure handshakes at (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1,2",
              value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Vec<u16>,
        /// Seconds of load per point.
        #[arg(long, default_value_t = 3.0, value_parser = seconds)]
        seconds: f64,
        /// Client loops opening connections at once.
        #[arg(long, default_value_t = 32,
              value_parser = clap::value_parser!(u16).range(1..=4096))]
        concurrency: u16,
        /// Idle connection counts to measure memory at (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1000,10000",
              value_parser = clap::value_parser!(u32).range(1..=100_000))]
        idle: Vec<u32>,
        /// Measure only idle memory, with the library used directly (its
        /// own tokio adapter, no polytls): OpenSSL-family backends only.
        /// Run it as a process of its own, beside a run without it.
        #[arg(long)]
        direct: bool,
    },
    /// The server: prints `listening on ADDR`, serves until killed.
    Serve {
        #[arg(long)]
        backend: String,
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: u16,
        #[arg(long, value_enum)]
        mode: Mode,
        /// Serve with the library used directly, not through polytls.
        #[arg(long)]
        direct: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Mode {
    Close,
    Hold,
}

fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if !(0.1..=3600.0).contains(&v) {
        return Err(format!("{v} is outside 0.1..=3600 seconds"));
    }
    Ok(v)
}

/// Runs `f` with the backend named `name`, if this build holds it.
fn with_backend(name: &str, f: &dyn Fn(&dyn Dispatch) -> Result<(), String>) -> Result<(), String> {
    match name {
        "rustls" => f(&polytls_rustls::Rustls),
        #[cfg(feature = "rustls-ring")]
        "rustls-ring" => f(&polytls_rustls::RustlsRing),
        #[cfg(feature = "openssl")]
        "openssl" => f(&polytls_openssl::OpenSsl),
        #[cfg(feature = "boring")]
        "boring" => f(&polytls_boring::Boring),
        #[cfg(feature = "aws-lc")]
        "aws-lc" => f(&polytls_aws_lc::AwsLc),
        other => Err(format!(
            "backend {other:?} is not in this build (rustls{}{}{})",
            if cfg!(feature = "openssl") {
                ", openssl"
            } else {
                ""
            },
            if cfg!(feature = "boring") {
                ", boring"
            } else {
                ""
            },
            if cfg!(feature = "aws-lc") {
                ", aws-lc"
            } else {
                ""
            }
        )),
    }
}

/// The generic harness behind a trait object, so one `match` picks the
/// backend.
trait Dispatch {
    fn serve(&self, threads: usize, mode: ServeMode) -> Result<(), String>;
    fn handshakes(
        &self,
        peer: &Peer,
        threads: usize,
        conc: usize,
        secs: f64,
    ) -> Result<scale::HandshakeFigures, String>;
    fn hold_idle(&self, peer: &Peer, n: usize, measure: &mut dyn FnMut(&str))
        -> Result<(), String>;
}

impl<B: Backend> Dispatch for B {
    fn serve(&self, threads: usize, mode: ServeMode) -> Result<(), String> {
        scale::serve(self, threads, mode, |addr, root| {
            println!("listening on {addr} root {}", scale::to_hex(&root));
        })
    }
    fn handshakes(
        &self,
        peer: &Peer,
        threads: usize,
        conc: usize,
        secs: f64,
    ) -> Result<scale::HandshakeFigures, String> {
        scale::handshakes(self, peer.addr, &peer.root, threads, conc, secs)
    }
    fn hold_idle(
        &self,
        peer: &Peer,
        n: usize,
        measure: &mut dyn FnMut(&str),
    ) -> Result<(), String> {
        scale::hold_idle(self, peer.addr, &peer.root, n, measure)
    }
}

/// The server child; killed (exactly this PID) when dropped.
struct Server(Child);

/// Where the server listens and the root its chain comes from.
struct Peer {
    addr: SocketAddr,
    root: CertificateDer<'static>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(
    backend: &str,
    threads: usize,
    mode: &str,
    direct: bool,
) -> Result<(Server, Peer), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["serve", "--backend", backend, "--mode", mode])
        .args(["--threads", &threads.to_string()])
        .args(direct.then_some("--direct"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the server: {e}"))?;
    let out = child.stdout.take().ok_or("no server stdout")?;
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| format!("reading the server's address: {e}"))?;
    let peer = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_once(" root "))
        .and_then(|(addr, root)| {
            Some(Peer {
                addr: addr.parse().ok()?,
                root: CertificateDer::from(scale::from_hex(root)?),
            })
        })
        .ok_or_else(|| format!("the server did not start (said {line:?})"))?;
    Ok((server, peer))
}

/// What `hold_idle` calls at "before" and "after".
type Measure<'a> = &'a mut dyn FnMut(&str);

/// Holds `n` idle connections with `hold` against `server`; the resident
/// memory each adds to the server and to this process (the client).
fn idle_growth(
    server: &Server,
    n: u32,
    hold: &mut dyn FnMut(Measure<'_>) -> Result<(), String>,
) -> Result<(f64, f64), String> {
    let pid = server.0.id().to_string();
    let mut before = (0u64, 0u64);
    let mut after = (0u64, 0u64);
    let mut missing = false;
    hold(
        &mut |when| match (scale::rss_bytes(&pid), scale::rss_bytes("self")) {
            (Some(s), Some(c)) if when == "before" => before = (s, c),
            (Some(s), Some(c)) => after = (s, c),
            _ => missing = true,
        },
    )?;
    if missing {
        return Err("cannot read VmRSS from /proc".into());
    }
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / f64::from(n);
    Ok((per(after.0, before.0), per(after.1, before.1)))
}

/// `hold_idle` with `backend`'s library used directly.
fn direct_hold_idle(
    backend: &str,
    peer: &Peer,
    n: usize,
    measure: &mut dyn FnMut(&str),
) -> Result<(), String> {
    match backend {
        #[cfg(any(feature = "openssl", feature = "boring", feature = "aws-lc"))]
        "openssl" | "boring" | "aws-lc" => {
            scale::direct::hold_idle(peer.addr, &peer.root, n, measure)
        }
        other => {
            let _ = (peer, n, measure);
            Err(format!("no direct measurement for {other:?} in this build"))
        }
    }
}

/// `serve` with `backend`'s library used directly.
fn direct_serve(backend: &str, threads: usize, mode: ServeMode) -> Result<(), String> {
    match backend {
        #[cfg(any(feature = "openssl", feature = "boring", feature = "aws-lc"))]
        "openssl" | "boring" | "aws-lc" => scale::direct::serve(threads, mode, |addr, root| {
            println!("listening on {addr} root {}", scale::to_hex(&root));
        }),
        other => {
            let _ = (threads, mode);
            Err(format!("no direct server for {other:?} in this build"))
        }
    }
}

fn run(
    backend: &str,
    threads: &[u16],
    secs: f64,
    concurrency: u16,
    idle: &[u32],
    direct_only: bool,
) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if let (Some(most), Some(limit)) = (idle.iter().max(), scale::open_file_limit()) {
        if u64::from(*most) + 256 > limit {
            return Err(format!(
                "{most} idle connections need {} open files; this process may open {limit} \
(raise it with `ulimit -n`)",
                u64::from(*most) + 256
            ));
        }
    }
    with_backend(backend, &|b| {
        // The library used directly is measured in a process of its own:
        // heap pages a polytls run left behind would be reused by its
        // connections and hide their growth.
        let threads = if direct_only { &[][..] } else { threads };
        for &t in threads {
            let (server, peer) = start_server(backend, t.into(), "close", false)?;
            let f = b.handshakes(&peer, cores, concurrency.into(), secs)?;
            drop(server);
            println!(
                "{}",
                serde_json::json!({
                    "backend": backend, "kind": "handshakes", "server_threads": t,
                    "client_threads": cores, "concurrency": concurrency, "seconds": secs,
                    "per_second": f.per_second, "p50_us": f.p50_us, "p99_us": f.p99_us,
                    "completed": f.completed, "failed": f.failed,
                })
            );
        }
        for &n in idle {
            let (server, peer) = start_server(backend, cores, "hold", direct_only)?;
            let (s, c) = idle_growth(&server, n, &mut |measure| {
                if direct_only {
                    direct_hold_idle(backend, &peer, n as usize, measure)
                } else {
                    b.hold_idle(&peer, n as usize, measure)
                }
            })?;
            drop(server);
            println!(
                "{}",
                serde_json::json!({
                    "backend": backend,
                    "kind": if direct_only { "idle-direct" } else { "idle" },
                    "connections": n,
                    "server_bytes_per_connection": s,
                    "client_bytes_per_connection": c,
                })
            );
        }
        Ok(())
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Cmd::Run {
            backend,
            threads,
            seconds,
            concurrency,
            idle,
            direct,
        } => run(&backend, &threads, seconds, concurrency, &idle, direct),
        Cmd::Serve {
            backend,
            threads,
            mode,
            direct,
        } => {
            let mode = match mode {
                Mode::Close => ServeMode::Close,
                Mode::Hold => ServeMode::Hold,
            };
            if direct {
                direct_serve(&backend, threads.into(), mode)
            } else {
                with_backend(&backend, &|b| b.serve(threads.into(), mode))
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polytls-scale: {e}");
            ExitCode::FAILURE
        }
    }
}
