//! Tests against real peers nobody here wrote (the `openssl` command line
//! tool), over loopback TCP.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use polytls_api::blocking::Stream;
use polytls_api::{Backend, ClientConfig, Error, ProtocolVersion, ServerConfig};

use crate::pki::{pki, to_pem};

const LIMIT: Duration = Duration::from_secs(20);

/// Whether the `openssl` tool is on `PATH`.
pub fn openssl_cli_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `openssl s_client` asks our TLS 1.2 server to renegotiate (its `R`
/// command). The server must refuse: the client's renegotiation fails and
/// the server never reads the data sent after it as if nothing happened.
pub fn renegotiation_refused<B: Backend>(b: &B) {
    assert!(
        openssl_cli_available(),
        "the openssl command line tool is required"
    );
    let dir =
        std::env::temp_dir().join(format!("polytls-reneg-{}-{}", b.name(), std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca = dir.join("root.pem");
    std::fs::write(&ca, pki().root_pem()).expect("write root");

    let mut cfg = ServerConfig::new(pki().server());
    cfg.common.max_version = ProtocolVersion::Tls12;
    let ctx = b.server_context(&cfg).expect("server context");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (ready_tx, ready_rx) = mpsc::channel();

    std::thread::scope(|s| {
        let server = s.spawn(move || {
            let (sock, _) = listener.accept().expect("accept");
            sock.set_read_timeout(Some(LIMIT)).expect("timeout");
            let mut tls = Stream::new(sock, ctx.accept().expect("session"));
            tls.handshake().expect("first handshake");
            ready_tx.send(()).expect("signal");
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            let end = loop {
                match tls.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => break Err(e),
                }
            };
            (got, end)
        });

        let mut client = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-tls1_2",
            ])
            .args([
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
            ])
            .arg(&ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn openssl s_client");
        ready_rx.recv_timeout(LIMIT).expect("server handshake done");
        let mut stdin = client.stdin.take().expect("stdin");
        stdin.write_all(b"R\n").expect("ask to renegotiate");
        std::thread::sleep(Duration::from_millis(300));
        let _ = stdin.write_all(b"after renegotiation\n");
        drop(stdin);
        let started = Instant::now();
        while client.try_wait().expect("wait").is_none() {
            if started.elapsed() > LIMIT {
                let _ = client.kill();
                panic!("s_client did not finish");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut out = String::new();
        if let Some(mut e) = client.stderr.take() {
            let _ = e.read_to_string(&mut out);
        }
        if let Some(mut o) = client.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        assert!(out.contains("RENEGOTIATING"), "the client tried: {out}");
        let (got, end) = server.join().expect("server thread");
        assert!(
            !String::from_utf8_lossy(&got).contains("after renegotiation"),
            "data after a refused renegotiation must not arrive as if it succeeded"
        );
        let err = end.expect_err("the connection ends in an error, not a clean close");
        assert!(
            matches!(
                Error::from_io(&err),
                Some(Error::AlertReceived(_) | Error::PeerMisbehaved(_))
            ),
            "server sees the failed renegotiation: {err:?}; client said: {out}"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// A temporary directory with the test PKI as PEM files: `root.crt`,
/// `server.crt` (the chain) + `server.key`, `intermediate.crt`.
struct PemDir(std::path::PathBuf);

impl PemDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("polytls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("root.crt"), pki().root_pem()).expect("root");
        let id = pki().server();
        let chain: String = id
            .chain()
            .iter()
            .map(|c| to_pem("CERTIFICATE", c))
            .collect();
        std::fs::write(dir.join("server.crt"), chain).expect("chain");
        std::fs::write(
            dir.join("server.key"),
            to_pem("PRIVATE KEY", id.key().secret_der()),
        )
        .expect("key");
        let intermediate = to_pem("CERTIFICATE", &pki().intermediate());
        std::fs::write(dir.join("intermediate.crt"), intermediate).expect("intermediate");
        Self(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for PemDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wait_bounded(child: &mut std::process::Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("external peer did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Serves one connection with `handle` on a thread; returns the port.
fn serve_one<'scope, B: Backend>(
    s: &'scope std::thread::Scope<'scope, '_>,
    ctx: &crate::cases::ServerCtx<B>,
    handle: impl FnOnce(&mut Stream<std::net::TcpStream, crate::cases::ServerSession<B>>)
        + Send
        + 'static,
) -> (
    u16,
    std::thread::ScopedJoinHandle<'scope, polytls_api::SessionInfo>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let session = ctx.accept().expect("session");
    let h = s.spawn(move || {
        let (sock, _) = listener.accept().expect("accept");
        sock.set_read_timeout(Some(LIMIT)).expect("timeout");
        let mut tls = Stream::new(sock, session);
        handle(&mut tls);
        tls.get_ref().1.info()
    });
    (port, h)
}

/// `openssl s_client` (TLS 1.2 and 1.3) talks to our server: the line it
/// sends comes back, and both sides name the same version.
pub fn s_client_to_our_server<B: Backend>(b: &B) {
    let pem = PemDir::new(&format!("s-client-{}", b.name()));
    for (flag, version) in [
        ("-tls1_2", ProtocolVersion::Tls12),
        ("-tls1_3", ProtocolVersion::Tls13),
    ] {
        let ctx = b
            .server_context(&ServerConfig::new(pki().server()))
            .expect("ctx");
        std::thread::scope(|s| {
            let (port, server) = serve_one::<B>(s, &ctx, |tls| {
                let mut line = Vec::new();
                let mut byte = [0u8; 1];
                while tls.read(&mut byte).expect("read") == 1 && byte[0] != b'\n' {
                    line.push(byte[0]);
                }
                tls.write_all(b"echo:").expect("write");
                tls.write_all(&line).expect("write");
                tls.write_all(b"\n").expect("write");
                tls.shutdown().expect("close_notify");
            });
            let mut client = Command::new("openssl")
                .args([
                    "s_client",
                    "-connect",
                    &format!("127.0.0.1:{port}"),
                    flag,
                    "-quiet",
                ])
                .args([
                    "-servername",
                    "localhost",
                    "-verify_return_error",
                    "-CAfile",
                ])
                .arg(pem.path("root.crt"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn s_client");
            client
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"hello polytls\n")
                .expect("send");
            let status = wait_bounded(&mut client);
            let mut out = String::new();
            client
                .stdout
                .take()
                .expect("stdout")
                .read_to_string(&mut out)
                .expect("read");
            assert!(status.success(), "s_client failed: {out}");
            assert!(out.contains("echo:hello polytls"), "{flag}: {out:?}");
            let info = server.join().expect("server");
            assert_eq!(info.version, Some(version));
        });
    }
}

/// curl fetches a page from our server over HTTPS, verifying it against the
/// test root.
pub fn curl_to_our_server<B: Backend>(b: &B) {
    let pem = PemDir::new(&format!("curl-{}", b.name()));
    let mut cfg = ServerConfig::new(pki().server());
    cfg.common.alpn = vec![b"http/1.1".to_vec()];
    let ctx = b.server_context(&cfg).expect("ctx");
    std::thread::scope(|s| {
        let (port, server) = serve_one::<B>(s, &ctx, |tls| {
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && tls.read(&mut byte).expect("read") == 1 {
                req.push(byte[0]);
            }
            assert!(
                req.starts_with(b"GET /hello HTTP/1.1\r\n"),
                "{:?}",
                String::from_utf8_lossy(&req)
            );
            let body = b"served by polytls";
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            tls.write_all(head.as_bytes()).expect("head");
            tls.write_all(body).expect("body");
            tls.shutdown().expect("close_notify");
        });
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert", &pem.path("root.crt")])
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
            .arg(format!("https://localhost:{port}/hello"))
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"served by polytls");
        let info = server.join().expect("server");
        assert_eq!(info.alpn.as_deref(), Some(&b"http/1.1"[..]));
    });
}

/// Our client talks to `openssl s_server -rev` (TLS 1.2 and 1.3): it
/// verifies the server and gets its line back reversed.
pub fn our_client_to_s_server<B: Backend>(b: &B) {
    let pem = PemDir::new(&format!("s-server-{}", b.name()));
    for (flag, version) in [
        ("-tls1_2", ProtocolVersion::Tls12),
        ("-tls1_3", ProtocolVersion::Tls13),
    ] {
        // Find a free port, then let s_server listen on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut server = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                flag,
                "-naccept",
                "1",
                "-rev",
            ])
            .args([
                "-cert",
                &pem.path("server.crt"),
                "-key",
                &pem.path("server.key"),
                "-cert_chain",
                &pem.path("intermediate.crt"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn s_server");
        let mut stdout = std::io::BufReader::new(server.stdout.take().expect("stdout"));
        let mut line = String::new();
        while !line.starts_with("ACCEPT") {
            line.clear();
            if std::io::BufRead::read_line(&mut stdout, &mut line).expect("read") == 0 {
                panic!("s_server exited before accepting");
            }
        }
        let ctx = b
            .client_context(&ClientConfig::new(pki().roots()))
            .expect("ctx");
        let sock = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        sock.set_read_timeout(Some(LIMIT)).expect("timeout");
        let mut tls = Stream::new(sock, ctx.connect("localhost").expect("session"));
        tls.write_all(b"polytls\n").expect("write");
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\n") && tls.read(&mut byte).expect("read") == 1 {
            got.push(byte[0]);
        }
        assert_eq!(got, b"sltylop\n", "{flag}");
        assert_eq!(tls.get_ref().1.info().version, Some(version));
        let _ = tls.shutdown();
        drop(tls);
        let _ = wait_bounded(&mut server);
    }
}
