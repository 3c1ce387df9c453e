//! The tunnel's operational behaviour: SNI routing, hot reload (SIGHUP and
//! file changes) without dropping live connections, SIGTERM drain with a
//! deadline, idle and handshake timeouts, and truncation passed on as a reset.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use common::*;
use polytls_cli::certs::{self, CertsArgs, KeyAlg};

fn issue_server(dir: &Path, stem: &str, names: &[&str]) {
    certs::run(&CertsArgs {
        dir: dir.to_path_buf(),
        server: names.iter().map(|n| n.to_string()).collect(),
        server_file: stem.into(),
        client: vec![],
        key: KeyAlg::Ecdsa,
        days: polytls_cli::values::Count::of(30),
        force: true,
        revoke: vec![],
        crl: false,
        crl_days: polytls_cli::values::Count::of(30),
    })
    .unwrap();
}

fn leaf(tls: &Tls) -> Vec<u8> {
    tls.get_ref().1.info().peer_chain[0].as_ref().to_vec()
}

/// Sends `msg` and reads it back.
fn echo(tls: &mut Tls, msg: &[u8]) {
    tls.write_all(msg).unwrap();
    tls.flush().unwrap();
    assert_eq!(read_n(tls, msg.len()).unwrap(), msg);
}

fn config(dir: &Path, body: &str) {
    std::fs::write(dir.join("tunnel.toml"), body).unwrap();
}

#[test]
fn sni_routes_choose_target_and_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki_dir = pki(&dir.join("pki"), &[]);
    issue_server(&pki_dir, "a", &["a.example"]);
    issue_server(&pki_dir, "b", &["b.example"]);
    let (ta, tb) = (Target::start("A\n"), Target::start("B\n"));
    let port = free_port();
    config(
        dir,
        &format!(
            r#"
# Two tunnels in one file: a client-mode one asking for a.example ...
[[tunnel]]
name = "to-a"
mode = "client"
listen = "127.0.0.1:0"
target = "127.0.0.1:{port}"
server_name = "a.example"
[tunnel.tls]
ca = "pki/ca.pem"
alpn = ["x-test"]

# ... and the routing server.
[[tunnel]]
name = "routed"
mode = "server"
listen = "127.0.0.1:{port}"
client_auth = "none"
[tunnel.tls]
backend = "{backend}"
cert = "pki/server.pem"
key = "pki/server-key.pem"
[[tunnel.route]]
sni = "a.example"
target = "{a}"
cert = "pki/a.pem"
key = "pki/a-key.pem"
[[tunnel.route]]
sni = "B.example"
target = "{b}"
cert = "pki/b.pem"
key = "pki/b-key.pem"
"#,
            backend = ossl_backend(),
            a = ta.addr,
            b = tb.addr
        ),
    );
    let mut tunnel = Proc::polytls(
        &["--log-format", "json", "tunnel", "--config", "tunnel.toml"],
        dir,
    );
    let addr = tunnel.listen_addr("routed");
    let to_a = tunnel.listen_addr("to-a");
    let ca = pki_dir.join("ca.pem");
    // Plaintext into the client-mode tunnel comes out at target A.
    let mut plain = std::net::TcpStream::connect(&to_a).unwrap();
    assert_eq!(read_n(&mut plain, 2).unwrap(), b"A\n");
    plain.write_all(b"via to-a").unwrap();
    assert_eq!(read_n(&mut plain, 8).unwrap(), b"via to-a");
    drop(plain);
    // One JSON object per connection, with the fields named in the docs.
    let line = tunnel.wait_log(&["connection closed", "\"tunnel\":\"to-a\""], 10);
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["sni"], "a.example", "{line}");
    assert_eq!(
        event["upstream"],
        "127.0.0.1:".to_string() + &port.to_string(),
        "{line}"
    );
    assert_eq!(event["bytes_to_tls"], 8, "{line}");
    assert_eq!(event["bytes_from_tls"], 10, "{line}");
    assert_eq!(event["reason"], "closed", "{line}");
    for key in [
        "peer",
        "backend",
        "alpn",
        "version",
        "duration_ms",
        "conn",
        "client",
    ] {
        assert!(event.get(key).is_some(), "no {key} in {line}");
    }
    for (name, banner) in [("a.example", b"A\n"), ("b.example", b"B\n")] {
        let mut tls = tls_client(&addr, &ca, name, None).unwrap();
        assert_eq!(&read_n(&mut tls, 2).unwrap(), banner, "{name}");
        echo(&mut tls, name.as_bytes());
        tls.shutdown().unwrap();
    }
    // A name with no route and no default target: the handshake succeeds
    // (default certificate) but the connection is refused.
    let mut tls = tls_client(&addr, &ca, "localhost", None).unwrap();
    let mut buf = [0u8; 1];
    assert!(
        tls.read(&mut buf).is_err(),
        "unrouted connection was forwarded"
    );
    tunnel.wait_log(&["connection refused", "no_route", "localhost"], 10);
}

#[test]
fn sighup_reloads_certificates_live_connections_survive_and_sigterm_drains() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki_dir = pki(&dir.join("pki"), &[]);
    let ca = pki_dir.join("ca.pem");
    let target = Target::start("");
    config(
        dir,
        &format!(
            r#"
drain_timeout = 20
reload_interval = 0
[[tunnel]]
name = "hup"
mode = "server"
listen = "127.0.0.1:0"
target = "{t}"
client_auth = "none"
[tunnel.tls]
cert = "pki/server.pem"
key = "pki/server-key.pem"
"#,
            t = target.addr
        ),
    );
    let mut tunnel = Proc::polytls(&["tunnel", "--config", "tunnel.toml"], dir);
    let addr = tunnel.listen_addr("hup");
    let mut live = tls_client(&addr, &ca, "localhost", None).unwrap();
    echo(&mut live, b"before");
    let old = leaf(&live);

    // A new certificate on disk is not used until SIGHUP (reload_interval = 0).
    issue_server(&pki_dir, "server", &["localhost"]);
    std::thread::sleep(Duration::from_millis(500));
    let probe = tls_client(&addr, &ca, "localhost", None).unwrap();
    assert_eq!(leaf(&probe), old);
    drop(probe);
    tunnel.signal("HUP");
    tunnel.wait_log(&["TLS configuration reloaded", "SIGHUP"], 10);
    let mut fresh = tls_client(&addr, &ca, "localhost", None).unwrap();
    assert_ne!(
        leaf(&fresh),
        old,
        "new connections must see the new certificate"
    );
    echo(&mut fresh, b"fresh");
    fresh.shutdown().unwrap();
    echo(&mut live, b"still alive after the reload");

    // SIGTERM: no new connections, the live one finishes, then exit 0.
    tunnel.signal("TERM");
    tunnel.wait_log(&["shutting down"], 10);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "still accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    echo(&mut live, b"draining");
    assert!(
        tunnel.child.try_wait().unwrap().is_none(),
        "exited before the drain"
    );
    live.shutdown().unwrap();
    let mut rest = Vec::new();
    live.read_to_end(&mut rest).unwrap(); // clean close_notify back
    assert!(tunnel.wait_exit(20).success());
    tunnel.wait_log(&["connection closed", "reason=closed", "bytes_to_tls="], 5);
    // The probe was dropped without close_notify (a reset for the target);
    // the others ended cleanly with every byte.
    let mut ends: Vec<End> = (0..3)
        .map(|_| target.ends.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    ends.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(ends, [End::Clean(42), End::Clean(5), End::Reset(0)]);
}

#[test]
fn file_changes_reload_bad_files_keep_the_old_config_and_the_drain_deadline_cuts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki_dir = pki(&dir.join("pki"), &[]);
    let ca = pki_dir.join("ca.pem");
    let target = Target::start("");
    config(
        dir,
        &format!(
            r#"
drain_timeout = 1
reload_interval = 0.2
[[tunnel]]
name = "watch"
mode = "server"
listen = "127.0.0.1:0"
target = "{t}"
client_auth = "none"
[tunnel.tls]
backend = "{backend}"
cert = "pki/server.pem"
key = "pki/server-key.pem"
"#,
            t = target.addr,
            backend = ossl_backend()
        ),
    );
    let mut tunnel = Proc::polytls(&["tunnel", "--config", "tunnel.toml"], dir);
    let addr = tunnel.listen_addr("watch");
    let mut live = tls_client(&addr, &ca, "localhost", None).unwrap();
    echo(&mut live, b"hello");
    let old = leaf(&live);
    issue_server(&pki_dir, "server", &["localhost"]);
    tunnel.wait_log(&["TLS configuration reloaded", "file changed"], 10);
    let new = tls_client(&addr, &ca, "localhost", None).unwrap();
    assert_ne!(leaf(&new), old);
    let current = leaf(&new);
    drop(new);

    // A broken key file: logged, and the previous configuration keeps serving.
    std::fs::write(
        pki_dir.join("server-key.pem"),
        "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    tunnel.wait_log(&["reload failed", "keeping the previous configuration"], 10);
    let mut after = tls_client(&addr, &ca, "localhost", None).unwrap();
    assert_eq!(leaf(&after), current);
    echo(&mut after, b"served by the previous configuration");
    after.shutdown().unwrap();
    echo(&mut live, b"live");

    // SIGTERM with a connection that never ends: cut at the 1 s deadline.
    tunnel.signal("TERM");
    assert!(tunnel.wait_exit(20).success());
    tunnel.wait_log(&["connection closed", "reason=shutdown_deadline"], 5);
    let mut rest = Vec::new();
    // We chose to close: the client gets a clean close_notify.
    live.read_to_end(&mut rest).unwrap();
}

#[test]
fn idle_and_handshake_timeouts_close_connections_and_truncation_resets_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki_dir = pki(&dir.join("pki"), &[]);
    let ca = pki_dir.join("ca.pem");
    let target = Target::start("");
    let mut tunnel = Proc::polytls(
        &[
            "tunnel",
            "--mode",
            "server",
            "--name",
            "t",
            "--listen",
            "127.0.0.1:0",
            "--target",
            &target.addr,
            "--client-auth",
            "none",
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/server-key.pem",
            "--idle-timeout",
            "0.5",
            "--handshake-timeout",
            "0.5",
        ],
        dir,
    );
    let addr = tunnel.listen_addr("t");

    // Idle: closed by the tunnel with close_notify, the target sees a clean end.
    let mut idle = tls_client(&addr, &ca, "localhost", None).unwrap();
    echo(&mut idle, b"ping");
    let mut rest = Vec::new();
    idle.read_to_end(&mut rest).unwrap();
    tunnel.wait_log(&["connection closed", "reason=idle_timeout"], 10);
    assert_eq!(
        target.ends.recv_timeout(Duration::from_secs(5)),
        Ok(End::Clean(4))
    );

    // Handshake timeout: a TCP client that never speaks is closed.
    let mut silent = std::net::TcpStream::connect(&addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(silent.read(&mut buf).unwrap_or(0), 0);
    tunnel.wait_log(
        &["connection refused", "category=\"handshake_timeout\""],
        10,
    );

    // Truncation: the client drops TCP without close_notify; the target sees a reset.
    let mut trunc = tls_client(&addr, &ca, "localhost", None).unwrap();
    echo(&mut trunc, b"partial");
    let (tcp, _) = trunc.into_inner();
    tcp.shutdown(std::net::Shutdown::Both).unwrap();
    drop(tcp);
    tunnel.wait_log(&["connection closed", "reason=truncated"], 10);
    assert_eq!(
        target.ends.recv_timeout(Duration::from_secs(5)),
        Ok(End::Reset(7))
    );
}
