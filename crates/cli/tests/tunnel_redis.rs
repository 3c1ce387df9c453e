//! redis-server behind `polytls tunnel` (server mode, mutual TLS), reached
//! through `polytls tunnel` in client mode: 10 MiB round-trip with identical
//! SHA-256; clients without a certificate, with another CA's certificate or
//! failing a pin are refused, logged, and never reach redis.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use common::*;
use polytls::{Backend, ClientConfig, Identity, Roots, SpkiPin};
use polytls_loadgen::payload;
use sha2::{Digest, Sha256};

fn pin_of(cert: &Path) -> String {
    let certs = polytls::identity::certs_from_pem_file(cert).unwrap();
    SpkiPin::of_certificate(&certs[0]).unwrap().to_string()
}

fn connections_received(direct: &mut Resp<TcpStream>) -> u64 {
    let info = direct.command(&[b"INFO", b"stats"]).unwrap().unwrap();
    let info = String::from_utf8(info).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("total_connections_received in INFO stats")
}

/// A direct TLS client (rustls) sending PING to the tunnel: Ok(reply) or
/// the error that ended it.
fn ping_over_tls(
    addr: &str,
    pki: &Path,
    identity: Option<(&str, &Path)>,
) -> Result<Vec<u8>, String> {
    let mut config =
        ClientConfig::new(Roots::from_pem(&std::fs::read(pki.join("ca.pem")).unwrap()).unwrap());
    if let Some((name, dir)) = identity {
        config.identity = Some(
            Identity::from_pem_files(
                dir.join(format!("{name}.pem")),
                dir.join(format!("{name}-key.pem")),
            )
            .unwrap(),
        );
    }
    let ctx = polytls::backends::Rustls.client_context(&config).unwrap();
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let mut tls = polytls::blocking::Stream::new(tcp, ctx.connect("localhost").unwrap());
    tls.handshake().map_err(|e| e.to_string())?;
    tls.write_all(b"*1\r\n$4\r\nPING\r\n")
        .map_err(|e| e.to_string())?;
    tls.flush().map_err(|e| e.to_string())?;
    let mut reply = [0u8; 7];
    tls.read_exact(&mut reply).map_err(|e| e.to_string())?;
    Ok(reply.to_vec())
}

#[test]
fn redis_behind_a_mutual_tls_tunnel() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki_dir = pki(&dir.join("pki"), &["alice", "bob"]);
    let other = pki(&dir.join("other"), &["mallory"]);
    let redis = Redis::start(dir);
    let alice_pin = pin_of(&pki_dir.join("alice.pem"));
    std::fs::write(
        dir.join("tunnel.toml"),
        format!(
            r#"
drain_timeout = 5

[[tunnel]]
name = "redis-tls"
mode = "server"
listen = "127.0.0.1:0"
target = "{target}"
handshake_timeout = 5

[tunnel.tls]
backend = "{backend}"
cert = "pki/server.pem"
key = "pki/server-key.pem"
ca = "pki/ca.pem"
pins = ["{alice_pin}"]
"#,
            target = redis.addr(),
            backend = ossl_backend(),
        ),
    )
    .unwrap();
    let mut server = Proc::polytls(&["tunnel", "--config", "tunnel.toml"], dir);
    let server_addr = server.listen_addr("redis-tls");
    let mut client = Proc::polytls(
        &[
            "tunnel",
            "--mode",
            "client",
            "--name",
            "redis-local",
            "--listen",
            "127.0.0.1:0",
            "--target",
            &server_addr,
            "--server-name",
            "localhost",
            "--backend",
            "rustls",
            "--ca",
            "pki/ca.pem",
            "--cert",
            "pki/alice.pem",
            "--key",
            "pki/alice-key.pem",
        ],
        dir,
    );
    let local = client.listen_addr("redis-local");

    // 10 MiB of random values, SET then GET through both tunnels.
    let mut db = Resp::new(TcpStream::connect(&local).unwrap());
    let mut sent = Sha256::new();
    for i in 0..10u64 {
        let value = payload(i, 1 << 20);
        sent.update(&value);
        let key = format!("key:{i}");
        assert_eq!(
            db.command(&[b"SET", key.as_bytes(), &value])
                .unwrap()
                .as_deref(),
            Some(&b"OK"[..])
        );
    }
    let mut got = Sha256::new();
    let mut total = 0;
    for i in 0..10u64 {
        let key = format!("key:{i}");
        let value = db
            .command(&[b"GET", key.as_bytes()])
            .unwrap()
            .expect("value");
        total += value.len();
        got.update(&value);
    }
    assert_eq!(total, 10 << 20);
    assert_eq!(
        sent.finalize(),
        got.finalize(),
        "values differ after the round trip"
    );
    drop(db);
    let closed = server.wait_log(&["connection closed", "CN=alice", "reason=closed"], 30);
    assert!(
        closed.contains(&format!("backend=\"{}\"", ossl_backend())),
        "{closed}"
    );
    assert!(closed.contains("bytes_from_tls="), "{closed}");

    // Refused clients never reach redis.
    let mut direct = Resp::new(TcpStream::connect(redis.addr()).unwrap());
    let before = connections_received(&mut direct);
    let no_cert = ping_over_tls(&server_addr, &pki_dir, None);
    let pinned_out = ping_over_tls(&server_addr, &pki_dir, Some(("bob", &pki_dir)));
    let other_ca = ping_over_tls(&server_addr, &pki_dir, Some(("mallory", &other)));
    for (what, r) in [
        ("no cert", &no_cert),
        ("bob", &pinned_out),
        ("mallory", &other_ca),
    ] {
        assert!(r.is_err(), "{what} was let through: {r:?}");
    }
    assert!(no_cert.unwrap_err().contains("certificate_required"));
    server.wait_log(
        &[
            "connection refused",
            "category=\"client_certificate_required\"",
        ],
        10,
    );
    server.wait_log(&["connection refused", "CN=bob", "pin"], 10);
    server.wait_log(
        &[
            "connection refused",
            "category=\"invalid_certificate\"",
            "client=\"-\"",
        ],
        10,
    );
    let refusals = server.logs(&["connection refused"]);
    assert_eq!(refusals.len(), 3, "{refusals:#?}");
    assert!(refusals.iter().all(|l| l.contains("peer=127.0.0.1:")));

    // A client-mode tunnel pinned to the wrong key refuses the server.
    let mut wrong = Proc::polytls(
        &[
            "tunnel",
            "--mode",
            "client",
            "--name",
            "wrong-pin",
            "--listen",
            "127.0.0.1:0",
            "--target",
            &server_addr,
            "--server-name",
            "localhost",
            "--ca",
            "pki/ca.pem",
            "--cert",
            "pki/alice.pem",
            "--key",
            "pki/alice-key.pem",
            "--pin",
            &alice_pin,
        ],
        dir,
    );
    let wrong_addr = wrong.listen_addr("wrong-pin");
    let mut via_wrong = Resp::new(TcpStream::connect(&wrong_addr).unwrap());
    // Refused: the plaintext client sees a reset, never a clean end.
    let refused = via_wrong
        .command(&[b"PING"])
        .expect_err("the wrongly pinned tunnel forwarded");
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionReset,
        "{refused}"
    );
    wrong.wait_log(
        &[
            "connection refused",
            "category=\"invalid_certificate\"",
            "pin",
        ],
        10,
    );

    assert_eq!(
        connections_received(&mut direct),
        before,
        "redis saw connections from refused clients"
    );
    server.signal("TERM");
    assert!(server.wait_exit(20).success());
}
