//! Shared helpers of the CLI tests: running `polytls` as a child process
//! and reading what it prints, a dev PKI, a redis-server on a free port.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polytls_cli::certs::{self, CertsArgs, KeyAlg};

pub const BIN: &str = env!("CARGO_BIN_EXE_polytls");

/// The OpenSSL-family backend of this build (the tunnel's server side in
/// tests), or rustls if there is none.
pub fn ossl_backend() -> &'static str {
    polytls::available_backends()
        .into_iter()
        .find(|b| *b != "rustls")
        .unwrap_or("rustls")
}

/// A running `polytls` (or other) child whose output lines are collected.
pub struct Proc {
    pub child: Child,
    pub out: Arc<Mutex<Vec<String>>>,
    pub err: Arc<Mutex<Vec<String>>>,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            match line {
                Ok(l) => sink.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
    lines
}

/// A plaintext echo server in this process, on a runtime thread of its own;
/// returns its address.
pub fn echo_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap().to_string()).unwrap();
            let _ = polytls_loadgen::echo_server(l).await;
        });
    });
    rx.recv().unwrap()
}

impl Proc {
    pub fn polytls(args: &[&str], dir: &Path) -> Proc {
        Proc::spawn(BIN, args, dir)
    }

    pub fn spawn(program: &str, args: &[&str], dir: &Path) -> Proc {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Proc { child, out, err }
    }

    fn wait_in(
        &mut self,
        which: &Arc<Mutex<Vec<String>>>,
        pred: impl Fn(&str) -> bool,
        secs: u64,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(l) = which.lock().unwrap().iter().find(|l| pred(l)) {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                if let Some(l) = which.lock().unwrap().iter().find(|l| pred(l)) {
                    return l.clone();
                }
                panic!(
                    "process exited ({status}) first; stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for output; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a stdout line containing `pat`.
    pub fn wait_stdout(&mut self, pat: &str, secs: u64) -> String {
        let out = self.out.clone();
        self.wait_in(&out, |l| l.contains(pat), secs)
    }

    /// Waits for a stderr line containing every one of `pats`.
    pub fn wait_log(&mut self, pats: &[&str], secs: u64) -> String {
        let err = self.err.clone();
        self.wait_in(&err, |l| pats.iter().all(|p| l.contains(p)), secs)
    }

    /// Log lines containing every one of `pats`.
    pub fn logs(&self, pats: &[&str]) -> Vec<String> {
        let err = self.err.lock().unwrap();
        err.iter()
            .filter(|l| pats.iter().all(|p| l.contains(p)))
            .cloned()
            .collect()
    }

    /// The address printed by `[<name> ]listening on <addr>` on stdout.
    pub fn listen_addr(&mut self, name: &str) -> String {
        let pat = if name.is_empty() {
            "listening on ".to_string()
        } else {
            format!("{name} listening on ")
        };
        let line = self.wait_stdout(&pat, 60);
        line.rsplit(' ').next().unwrap().to_string()
    }

    pub fn stderr(&self) -> String {
        self.err.lock().unwrap().join("\n")
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args(["-s", sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -s {sig} failed");
    }

    pub fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `polytls` to completion: (status, stdout, stderr).
pub fn run(args: &[&str], dir: &Path) -> (ExitStatus, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run polytls");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issues a CA (if new), a `localhost`/127.0.0.1 server certificate and the
/// named client certificates into `dir`.
pub fn pki(dir: &Path, clients: &[&str]) -> PathBuf {
    certs::run(&CertsArgs {
        dir: dir.to_path_buf(),
        server: vec!["localhost".into(), "127.0.0.1".into()],
        server_file: "server".into(),
        client: clients.iter().map(|c| c.to_string()).collect(),
        key: KeyAlg::Ecdsa,
        days: polytls_cli::values::Count::of(30),
        force: true,
        revoke: vec![],
        crl: false,
        crl_days: polytls_cli::values::Count::of(30),
    })
    .expect("certs");
    dir.to_path_buf()
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server on 127.0.0.1 with no persistence, killed on drop.
pub struct Redis {
    pub proc: Proc,
    pub port: u16,
}

impl Redis {
    pub fn start(dir: &Path) -> Redis {
        let port = free_port();
        let port_s = port.to_string();
        let proc = Proc::spawn(
            "redis-server",
            &[
                "--port",
                &port_s,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            dir,
        );
        let mut redis = Redis { proc, port };
        redis.proc.wait_stdout("Ready to accept connections", 30);
        redis
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A minimal RESP client over any byte stream.
pub struct Resp<S: std::io::Read + std::io::Write> {
    r: BufReader<S>,
}

impl<S: std::io::Read + std::io::Write> Resp<S> {
    pub fn new(s: S) -> Self {
        Resp {
            r: BufReader::new(s),
        }
    }

    pub fn command(&mut self, args: &[&[u8]]) -> std::io::Result<Option<Vec<u8>>> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.r.get_mut().write_all(&req)?;
        self.r.get_mut().flush()?;
        self.reply()
    }

    fn reply(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        use std::io::Read;
        let mut line = String::new();
        if self.r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" | ":" => Ok(Some(rest.as_bytes().to_vec())),
            "-" => Err(std::io::Error::other(format!("redis error: {rest}"))),
            "$" => {
                let n: i64 = rest.parse().map_err(std::io::Error::other)?;
                if n < 0 {
                    return Ok(None);
                }
                let mut buf = vec![0; n as usize + 2];
                self.r.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                Ok(Some(buf))
            }
            _ => Err(std::io::Error::other(format!("unexpected reply {line:?}"))),
        }
    }
}

use std::io::Write;

/// A blocking TLS client (rustls) to `addr`, verifying `server_name` against
/// `ca`, optionally presenting `cert`/`key`.
pub type Tls = polytls::blocking::DynStream<std::net::TcpStream>;

pub fn tls_client(
    addr: &str,
    ca: &Path,
    server_name: &str,
    identity: Option<(&Path, &Path)>,
) -> Result<Tls, String> {
    tls_client_with(&client_context(ca, identity), addr, server_name)
}

/// A rustls client context trusting `ca`, with an optional identity: one
/// context resumes its sessions on later connections.
pub fn client_context(ca: &Path, identity: Option<(&Path, &Path)>) -> polytls::DynClientContext {
    use polytls::Backend;
    let roots = polytls::Roots::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let mut config = polytls::ClientConfig::new(roots);
    if let Some((cert, key)) = identity {
        config.identity = Some(polytls::Identity::from_pem_files(cert, key).unwrap());
    }
    polytls::DynBackend::new(polytls::backends::Rustls)
        .client_context(&config)
        .unwrap()
}

/// A connection through `ctx` (which offers a cached session if it has one).
pub fn tls_client_with(
    ctx: &polytls::DynClientContext,
    addr: &str,
    server_name: &str,
) -> Result<Tls, String> {
    let tcp = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = polytls::blocking::Stream::new(tcp, ctx.connect(server_name).unwrap());
    tls.handshake().map_err(|e| e.to_string())?;
    Ok(tls)
}

/// How a connection to a [`Target`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Clean(usize),
    Reset(usize),
}

/// A plaintext service: writes `banner` then echoes; reports how each
/// connection ended.
pub struct Target {
    pub addr: String,
    pub ends: std::sync::mpsc::Receiver<End>,
}

impl Target {
    pub fn start(banner: &'static str) -> Target {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, ends) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let _ = conn.write_all(banner.as_bytes());
                    let mut buf = [0u8; 16384];
                    let mut n = 0;
                    let end = loop {
                        match conn.read(&mut buf) {
                            Ok(0) => break End::Clean(n),
                            Ok(k) => {
                                n += k;
                                if conn.write_all(&buf[..k]).is_err() {
                                    break End::Reset(n);
                                }
                            }
                            Err(_) => break End::Reset(n),
                        }
                    };
                    let _ = conn.shutdown(std::net::Shutdown::Write);
                    let _ = tx.send(end);
                });
            }
        });
        Target { addr, ends }
    }
}

/// Reads exactly `n` bytes.
pub fn read_n(r: &mut impl std::io::Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// HAProxy (TCP mode by default) with `sections` (frontends, backends)
/// after a global/defaults preamble and a health frontend; returns once the
/// health frontend answers. Killed on drop.
pub fn haproxy_with(dir: &Path, sections: &str) -> Proc {
    use std::io::Read;
    let health = free_port();
    let cfg = format!(
        "global\n    maxconn 1024\n\ndefaults\n    mode tcp\n    timeout connect 5s\n    \
         timeout client 30s\n    timeout server 30s\n\nfrontend health\n    mode http\n    \
         bind 127.0.0.1:{health}\n    monitor-uri /health\n\n{sections}"
    );
    std::fs::write(dir.join("haproxy.cfg"), cfg).unwrap();
    assert!(
        Command::new("haproxy").arg("-v").output().is_ok(),
        "haproxy is required (cargo xtask test installs it)"
    );
    let p = Proc::spawn("haproxy", &["-db", "-f", "haproxy.cfg"], dir);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", health)) {
            let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
            let mut resp = String::new();
            let _ = s.read_to_string(&mut resp);
            if resp.starts_with("HTTP/1.") && resp.contains(" 200 ") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "haproxy did not start: {}",
            p.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

/// A plain HTTP/1.0 GET of `path` at `addr`: (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").as_bytes())
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
