//! A fleet behind a real load balancer: two `polytls tunnel` instances
//! sharing one ticket-key file behind HAProxy (TCP mode, round robin). A
//! client's second connection lands on the other instance and resumes the
//! session the first instance made; with different key files it does not.
//! Each tunnel's JSON log line says whether the connection resumed.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use common::*;
use polytls::{Backend, TicketKey, TicketKeys};

fn key_file(path: &Path, seed: u8) {
    let keys = TicketKeys::new(vec![TicketKey {
        name: [seed; 16],
        hmac: [seed.wrapping_add(1); 32],
        aes: [seed.wrapping_add(2); 32],
    }])
    .unwrap();
    std::fs::write(path, format!("# test keys\n{}", keys.to_text())).unwrap();
    set_mode(path, 0o600);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_ticket_key_file_others_can_read_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &[]);
    let keys = dir.join("keys.txt");
    key_file(&keys, 3);
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "tunnel",
            "--check",
            "--mode",
            "server",
            "--listen",
            "127.0.0.1:0",
            "--target",
            "127.0.0.1:9",
            "--client-auth",
            "none",
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/server-key.pem",
            "--ticket-keys",
            "keys.txt",
        ];
        a.extend_from_slice(extra);
        a
    };
    assert!(run(&args(&[]), dir).0.success(), "mode 0600 is accepted");
    set_mode(&keys, 0o644);
    let (status, _, err) = run(&args(&[]), dir);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
    let (status, _, err) = run(&args(&["--allow-readable-ticket-keys"]), dir);
    assert!(status.success(), "explicitly allowed: {err}");
}

fn tunnel(dir: &Path, name: &str, backend: &str, target: &str, keys: &str) -> (Proc, String) {
    let mut p = Proc::polytls(
        &[
            "--log-format",
            "json",
            "tunnel",
            "--mode",
            "server",
            "--name",
            name,
            "--listen",
            "127.0.0.1:0",
            "--target",
            target,
            "--backend",
            backend,
            "--client-auth",
            "none",
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/server-key.pem",
            "--ticket-keys",
            keys,
        ],
        dir,
    );
    let addr = p.listen_addr(name);
    (p, addr)
}

/// HAProxy in TCP mode, round robin over `servers`; returns it and its
/// address once its monitor answers.
fn haproxy(dir: &Path, servers: &[&str]) -> (Proc, String) {
    let port = free_port();
    let mut cfg = format!(
        "frontend fleet\n    bind 127.0.0.1:{port}\n    default_backend tunnels\n\n\
         backend tunnels\n    balance roundrobin\n"
    );
    for (i, s) in servers.iter().enumerate() {
        cfg.push_str(&format!("    server t{i} {s}\n"));
    }
    (haproxy_with(dir, &cfg), format!("127.0.0.1:{port}"))
}

/// Two connections from one client context through `addr`; whether each
/// resumed, as the client saw it.
fn two_connections(addr: &str, backend: &str, ca: &Path) -> Vec<bool> {
    let roots = polytls::Roots::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let ctx = polytls::backend_by_name(backend)
        .unwrap()
        .client_context(&polytls::ClientConfig::new(roots))
        .unwrap();
    (0..2)
        .map(|i| {
            let tcp = std::net::TcpStream::connect(addr).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut tls = polytls::blocking::Stream::new(tcp, ctx.connect("localhost").unwrap());
            let msg = format!("hello {i}");
            tls.write_all(msg.as_bytes()).unwrap();
            assert_eq!(read_n(&mut tls, msg.len()).unwrap(), msg.as_bytes());
            tls.shutdown().unwrap();
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).unwrap();
            tls.session().info().resumed
        })
        .collect()
}

/// The `resumed` field of every connection logged by `p`.
fn logged(p: &mut Proc, name: &str) -> Vec<bool> {
    p.wait_log(
        &["connection closed", &format!("\"tunnel\":\"{name}\"")],
        20,
    );
    p.logs(&["connection closed"])
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["resumed"].as_bool().unwrap()
        })
        .collect()
}

fn fleet(backend: &str, same_keys: bool) -> (Vec<bool>, Vec<bool>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &[]);
    key_file(&dir.join("a.keys"), 1);
    key_file(&dir.join("b.keys"), if same_keys { 1 } else { 2 });
    let echo = echo_server();
    let (mut a, a_addr) = tunnel(dir, "a", backend, &echo, "a.keys");
    let (mut b, b_addr) = tunnel(dir, "b", backend, &echo, "b.keys");
    let (_lb, lb_addr) = haproxy(dir, &[&a_addr, &b_addr]);
    let client = two_connections(&lb_addr, backend, &dir.join("pki/ca.pem"));
    let mut servers = logged(&mut a, "a");
    servers.extend(logged(&mut b, "b"));
    servers.sort();
    (client, servers)
}

#[test]
fn a_fleet_sharing_ticket_keys_resumes_across_instances() {
    for backend in polytls::available_backends() {
        let (client, servers) = fleet(backend, true);
        assert_eq!(
            client,
            [false, true],
            "{backend}: the second connection resumes"
        );
        assert_eq!(
            servers,
            [false, true],
            "{backend}: one connection per instance (round robin), the other instance resumed"
        );
    }
}

#[test]
fn a_fleet_with_different_keys_does_not_resume() {
    for backend in polytls::available_backends() {
        let (client, servers) = fleet(backend, false);
        assert_eq!(client, [false, false], "{backend}");
        assert_eq!(servers, [false, false], "{backend}");
    }
}

/// A fleet with client authentication, CRLs and one shared key file: while
/// alice is trusted her second connection resumes on the other instance;
/// once her certificate is revoked and both instances have reloaded the new
/// CRL, her client (still holding tickets under the shared key) is refused
/// on both, each logging the revocation.
#[test]
fn a_fleet_reloaded_with_a_new_crl_refuses_the_revoked_client_on_every_instance() {
    use polytls_cli::certs::{self, CertsArgs, KeyAlg};
    use polytls_cli::values::Count;
    for backend in polytls::available_backends() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let pki_dir = pki(&dir.join("pki"), &["alice"]);
        let revoke = |names: Vec<String>| {
            certs::run(&CertsArgs {
                dir: pki_dir.clone(),
                server: vec![],
                server_file: "server".into(),
                client: vec![],
                key: KeyAlg::Ecdsa,
                days: Count::of(30),
                force: true,
                revoke: names,
                crl: true,
                crl_days: Count::of(30),
            })
            .unwrap();
        };
        revoke(vec![]); // an empty CRL to begin with
        key_file(&dir.join("fleet.keys"), 5);
        let echo = echo_server();
        let start = |name: &str| {
            let mut p = Proc::polytls(
                &[
                    "--log-format",
                    "json",
                    "tunnel",
                    "--mode",
                    "server",
                    "--name",
                    name,
                    "--listen",
                    "127.0.0.1:0",
                    "--target",
                    &echo,
                    "--backend",
                    backend,
                    "--cert",
                    "pki/server.pem",
                    "--key",
                    "pki/server-key.pem",
                    "--ca",
                    "pki/ca.pem",
                    "--crl",
                    "pki/crl.pem",
                    "--ticket-keys",
                    "fleet.keys",
                    "--reload-interval",
                    "0.2",
                ],
                dir,
            );
            let addr = p.listen_addr(name);
            (p, addr)
        };
        let (mut a, a_addr) = start("a");
        let (mut b, b_addr) = start("b");
        let (_lb, lb_addr) = haproxy(dir, &[&a_addr, &b_addr]);
        let ca = pki_dir.join("ca.pem");
        let (cert, key) = (pki_dir.join("alice.pem"), pki_dir.join("alice-key.pem"));
        let alice = client_context(&ca, Some((&cert, &key)));
        let resumed: Vec<bool> = (0..2)
            .map(|i| {
                let mut tls = tls_client_with(&alice, &lb_addr, "localhost").unwrap();
                let msg = format!("hello {i}");
                tls.write_all(msg.as_bytes()).unwrap();
                assert_eq!(read_n(&mut tls, msg.len()).unwrap(), msg.as_bytes());
                tls.shutdown().unwrap();
                let mut rest = Vec::new();
                tls.read_to_end(&mut rest).unwrap();
                tls.session().info().resumed
            })
            .collect();
        assert_eq!(
            resumed,
            [false, true],
            "{backend}: trusted alice resumes across the fleet"
        );
        revoke(vec!["alice".into()]);
        a.wait_log(&["TLS configuration reloaded"], 20);
        b.wait_log(&["TLS configuration reloaded"], 20);
        for _ in 0..2 {
            let refused = match tls_client_with(&alice, &lb_addr, "localhost") {
                Err(_) => true,
                Ok(mut tls) => {
                    let _ = tls.write_all(b"let me in");
                    let mut buf = [0u8; 1];
                    !matches!(tls.read(&mut buf), Ok(n) if n > 0)
                }
            };
            assert!(refused, "{backend}: revoked alice got through the fleet");
        }
        for (p, name) in [(&mut a, "a"), (&mut b, "b")] {
            let line = p.wait_log(&["connection refused", "revoked"], 20);
            assert!(
                line.contains("invalid_certificate"),
                "{backend}, {name}: {line}"
            );
        }
    }
}
