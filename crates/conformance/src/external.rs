//! Tests against real peers nobody here wrote (the `openssl` command line
//! tool), over loopback TCP.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use polytls_api::blocking::Stream;
use polytls_api::{Backend, Error, ProtocolVersion, ServerConfig, ServerContext};

use crate::pki::pki;

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
            let mut tls = Stream::new(ctx.accept().expect("session"), sock);
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
