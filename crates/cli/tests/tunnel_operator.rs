//! What an operator puts in front of a database: revocation (CRLs from
//! `polytls certs --revoke`, reloaded when the file changes), allow rules on
//! the client certificate's names per tunnel and per route, the PROXY
//! protocol in from a real HAProxy and out to a real HAProxy that reports
//! the address it was given, and metrics that add up to a load run — on each
//! backend of this build.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use common::*;
use polytls_cli::certs::{self, CertsArgs, KeyAlg};
use polytls_cli::values::Count;

fn certs_args(dir: &Path) -> CertsArgs {
    CertsArgs {
        dir: dir.to_path_buf(),
        server: vec![],
        server_file: "server".into(),
        client: vec![],
        key: KeyAlg::Ecdsa,
        days: Count::of(30),
        force: true,
        revoke: vec![],
        crl: false,
        crl_days: Count::of(30),
    }
}

fn revoke(dir: &Path, name: &str) {
    certs::run(&CertsArgs {
        revoke: vec![name.into()],
        ..certs_args(dir)
    })
    .unwrap();
}

fn server_tunnel(dir: &Path, name: &str, backend: &str, extra: &[&str]) -> (Proc, String) {
    let mut args = vec![
        "--log-format",
        "json",
        "tunnel",
        "--mode",
        "server",
        "--name",
        name,
        "--listen",
        "127.0.0.1:0",
        "--backend",
        backend,
        "--cert",
        "pki/server.pem",
        "--key",
        "pki/server-key.pem",
        "--reload-interval",
        "0.2",
    ];
    args.extend_from_slice(extra);
    let mut p = Proc::polytls(&args, dir);
    let addr = p.listen_addr(name);
    (p, addr)
}

fn client(dir: &Path, addr: &str, sni: &str, who: Option<&str>) -> Result<Tls, String> {
    let pki = dir.join("pki");
    let id = who.map(|w| {
        (
            pki.join(format!("{w}.pem")),
            pki.join(format!("{w}-key.pem")),
        )
    });
    tls_client(
        addr,
        &pki.join("ca.pem"),
        sni,
        id.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
    )
}

/// Sends and reads back `msg` (the target echoes after its banner).
fn echo_through(tls: &mut Tls, banner: &str, msg: &[u8]) -> std::io::Result<()> {
    let got = read_n(tls, banner.len())?;
    assert_eq!(got, banner.as_bytes());
    tls.write_all(msg)?;
    tls.flush()?;
    assert_eq!(read_n(tls, msg.len())?, msg);
    Ok(())
}

#[test]
fn revoked_clients_are_refused_and_a_new_crl_applies_without_restart() {
    for backend in polytls::available_backends() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let pki_dir = pki(&dir.join("pki"), &["alice", "bob"]);
        revoke(&pki_dir, "bob");
        let target = Target::start("db\n");
        let (mut tunnel, addr) = server_tunnel(
            dir,
            "db",
            backend,
            &[
                "--target",
                &target.addr,
                "--ca",
                "pki/ca.pem",
                "--crl",
                "pki/crl.pem",
            ],
        );
        let mut alice = client(dir, &addr, "localhost", Some("alice")).unwrap();
        echo_through(&mut alice, "db\n", b"alice").unwrap();
        alice.shutdown().unwrap();
        // Bob's certificate is revoked: he never reaches the target.
        assert!(
            refused(client(dir, &addr, "localhost", Some("bob"))),
            "{backend}: revoked bob got through"
        );
        let line = tunnel.wait_log(&["connection refused", "invalid_certificate"], 10);
        assert!(line.contains("revoked"), "{backend}: {line}");
        // Revoking alice rewrites the CRL; the tunnel reloads it.
        revoke(&pki_dir, "alice");
        tunnel.wait_log(&["TLS configuration reloaded"], 20);
        assert!(
            refused(client(dir, &addr, "localhost", Some("alice"))),
            "{backend}: alice still got through"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tunnel.logs(&["connection refused", "revoked"]).len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend}: alice's refusal not logged:\n{}",
                tunnel.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Only alice's first connection reached the target.
        assert_eq!(
            target.ends.recv_timeout(Duration::from_secs(5)).unwrap(),
            End::Clean(5)
        );
        assert!(target
            .ends
            .recv_timeout(Duration::from_millis(300))
            .is_err());
    }
}

/// The `resumed` field of the newest log line that has `pats`.
fn last_resumed(tunnel: &Proc, pats: &[&str]) -> Option<bool> {
    let line = tunnel.logs(pats).pop()?;
    let v: serde_json::Value = serde_json::from_str(&line).ok()?;
    v["resumed"].as_bool()
}

#[test]
fn a_revoked_client_cannot_resume_after_the_reload() {
    for backend in polytls::available_backends() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let pki_dir = pki(&dir.join("pki"), &["alice", "bob"]);
        revoke(&pki_dir, "bob");
        let target = Target::start("db\n");
        let (mut tunnel, addr) = server_tunnel(
            dir,
            "db",
            backend,
            &[
                "--target",
                &target.addr,
                "--ca",
                "pki/ca.pem",
                "--crl",
                "pki/crl.pem",
            ],
        );
        let ca = pki_dir.join("ca.pem");
        let (cert, key) = (pki_dir.join("alice.pem"), pki_dir.join("alice-key.pem"));
        let alice = client_context(&ca, Some((&cert, &key)));
        // Two connections: the second resumes (the tunnel logs it), so the
        // client does offer its ticket below.
        for n in 1..=2 {
            let mut tls = tls_client_with(&alice, &addr, "localhost").unwrap();
            echo_through(&mut tls, "db\n", b"alice").unwrap();
            tls.shutdown().unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while tunnel.logs(&["connection closed"]).len() < n {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{backend}: no log line"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert_eq!(
            last_resumed(&tunnel, &["connection closed"]),
            Some(true),
            "{backend}: alice resumes while trusted:\n{}",
            tunnel.stderr()
        );
        // Revoke alice; the tunnel reloads the CRL (its trust changed).
        revoke(&pki_dir, "alice");
        tunnel.wait_log(&["TLS configuration reloaded"], 20);
        assert!(
            refused(tls_client_with(&alice, &addr, "localhost")),
            "{backend}: revoked alice resumed her way back in"
        );
        let line = tunnel.wait_log(&["connection refused", "revoked"], 10);
        assert!(line.contains("invalid_certificate"), "{backend}: {line}");
        // Only alice's two trusted connections reached the target.
        for _ in 0..2 {
            assert_eq!(
                target.ends.recv_timeout(Duration::from_secs(5)).unwrap(),
                End::Clean(5)
            );
        }
        assert!(target
            .ends
            .recv_timeout(Duration::from_millis(300))
            .is_err());
    }
}

/// A connection from `source` (any 127.0.0.0/8 address) to `addr`.
fn connect_from(source: &str, addr: &str) -> std::net::TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(format!("{source}:0").parse().unwrap()).unwrap();
        s.connect(addr.parse().unwrap())
            .await
            .unwrap()
            .into_std()
            .unwrap()
    })
}

#[test]
fn idle_handshakes_from_one_address_cannot_fill_the_tunnel() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let target = Target::start("db\n");
    std::fs::write(
        dir.join("tunnel.toml"),
        format!(
            r#"
metrics_listen = "127.0.0.1:0"
[[tunnel]]
name = "db"
mode = "server"
listen = "127.0.0.1:0"
target = "{target}"
handshake_timeout = 60
max_handshakes = 16
max_handshakes_per_source = 4
[tunnel.tls]
backend = "{backend}"
cert = "pki/server.pem"
key = "pki/server-key.pem"
ca = "pki/ca.pem"
"#,
            target = target.addr,
            backend = ossl_backend(),
        ),
    )
    .unwrap();
    let mut tunnel = Proc::polytls(
        &["--log-format", "json", "tunnel", "--config", "tunnel.toml"],
        dir,
    );
    let addr = tunnel.listen_addr("db");
    let metrics = tunnel.listen_addr("metrics");
    // More idle handshakers from 127.0.0.2 than the per-source limit (and
    // than max_handshakes), each promising a record that never comes.
    let idle: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let s = connect_from("127.0.0.2", &addr);
            std::io::Write::write_all(&mut &s, &[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
            s
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while tunnel
        .logs(&["connection refused", "per_source_limit"])
        .len()
        < 16
    {
        assert!(
            std::time::Instant::now() < deadline,
            "per-source refusals not logged:\n{}",
            tunnel.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A real client from another address still gets in, while the four
    // idle ones are held.
    let mut alice = client(dir, &addr, "localhost", Some("alice")).unwrap();
    echo_through(&mut alice, "db\n", b"alice").unwrap();
    alice.shutdown().unwrap();
    let (status, body) = http_get(&metrics, "/metrics");
    assert_eq!(status, 200);
    let refused = sample(
        &body,
        "polytls_tunnel_refused_total{tunnel=\"db\",reason=\"per_source_limit\"}",
    );
    assert_eq!(refused, 16.0, "{body}");
    // The refused ones were closed at once; the four admitted are still
    // waiting for their handshake deadline.
    let mut closed = 0;
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 8];
        match std::io::Read::read(&mut s, &mut buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Ok(n) => {
                assert_eq!(n, 0, "an idle handshaker got data");
                closed += 1;
            }
            Err(_) => closed += 1,
        }
    }
    assert_eq!(
        closed, 16,
        "the refused sockets are closed, the admitted ones held"
    );
}

/// A client certificate with a URI SAN (a SPIFFE ID), issued by the dev CA.
fn issue_spiffe_client(pki_dir: &Path, name: &str, uri: &str) {
    let ca = std::fs::read_to_string(pki_dir.join("ca.pem")).unwrap();
    let ca_key = std::fs::read_to_string(pki_dir.join("ca-key.pem")).unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_pem(&ca, rcgen::KeyPair::from_pem(&ca_key).unwrap()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.subject_alt_names = vec![rcgen::SanType::URI(uri.try_into().unwrap())];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(pki_dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(pki_dir.join(format!("{name}-key.pem")), key.serialize_pem()).unwrap();
}

/// Whether the tunnel refused the client: the handshake failed, or (TLS
/// 1.3, where the client finishes first) the first read hears the alert.
fn refused(result: Result<Tls, String>) -> bool {
    match result {
        Err(_) => true,
        Ok(mut tls) => {
            let mut buf = [0u8; 1];
            !matches!(tls.read(&mut buf), Ok(n) if n > 0)
        }
    }
}

#[test]
fn allow_rules_by_name_per_tunnel_and_per_route() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki_dir = pki(&dir.join("pki"), &["alice", "bob"]);
    certs::run(&CertsArgs {
        server: vec!["localhost".into(), "db.example".into()],
        ..certs_args(&pki_dir)
    })
    .unwrap();
    issue_spiffe_client(&pki_dir, "svc", "spiffe://example.org/db/reader");
    issue_spiffe_client(&pki_dir, "intruder", "spiffe://example.org.evil/db/reader");
    let (default_target, db_target) = (Target::start("default\n"), Target::start("db\n"));
    std::fs::write(
        dir.join("tunnel.toml"),
        format!(
            r#"
reload_interval = 0
[[tunnel]]
name = "gate"
mode = "server"
listen = "127.0.0.1:0"
target = "{default}"
[tunnel.tls]
backend = "{backend}"
cert = "pki/server.pem"
key = "pki/server-key.pem"
ca = "pki/ca.pem"
[tunnel.allow]
cn = ["alice"]
[[tunnel.route]]
sni = "db.example"
target = "{db}"
allow = {{ uri_prefix = ["spiffe://example.org/db/"] }}
"#,
            default = default_target.addr,
            db = db_target.addr,
            backend = ossl_backend(),
        ),
    )
    .unwrap();
    let mut tunnel = Proc::polytls(
        &["--log-format", "json", "tunnel", "--config", "tunnel.toml"],
        dir,
    );
    let addr = tunnel.listen_addr("gate");
    // The tunnel's rule: alice by CN.
    let mut alice = client(dir, &addr, "localhost", Some("alice")).unwrap();
    echo_through(&mut alice, "default\n", b"hi").unwrap();
    alice.shutdown().unwrap();
    let line = tunnel.wait_log(&["connection closed", "tunnel: cn=alice"], 10);
    assert!(line.contains("\"sni\":\"localhost\""), "{line}");
    assert!(refused(client(dir, &addr, "localhost", Some("bob"))));
    let line = tunnel.wait_log(&["connection refused", "access_denied"], 10);
    assert!(line.contains("tunnel: no match"), "{line}");
    assert!(line.contains("bob"), "the refused client is named: {line}");
    // The route's rule replaces the tunnel's: the SPIFFE service, not alice.
    let mut svc = client(dir, &addr, "db.example", Some("svc")).unwrap();
    echo_through(&mut svc, "db\n", b"query").unwrap();
    svc.shutdown().unwrap();
    tunnel.wait_log(
        &[
            "connection closed",
            "route db.example: uri_prefix=spiffe://example.org/db/",
        ],
        10,
    );
    assert!(refused(client(dir, &addr, "db.example", Some("alice"))));
    tunnel.wait_log(&["connection refused", "route db.example: no match"], 10);
    // A look-alike trust domain does not match the prefix.
    assert!(refused(client(dir, &addr, "db.example", Some("intruder"))));
    // The client sees the refusal before the tunnel's log line is written.
    tunnel.wait_log(&["connection refused", "intruder"], 10);
    assert_eq!(tunnel.logs(&["access_denied"]).len(), 3);
    // Refused clients never reached a target.
    assert_eq!(
        default_target
            .ends
            .recv_timeout(Duration::from_secs(5))
            .unwrap(),
        End::Clean(2)
    );
    assert_eq!(
        db_target.ends.recv_timeout(Duration::from_secs(5)).unwrap(),
        End::Clean(5)
    );
    assert!(default_target
        .ends
        .recv_timeout(Duration::from_millis(300))
        .is_err());
    assert!(db_target
        .ends
        .recv_timeout(Duration::from_millis(300))
        .is_err());
}

#[test]
fn proxy_protocol_from_haproxy_to_the_tunnel_and_on_to_haproxy() {
    for backend in polytls::available_backends() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        pki(&dir.join("pki"), &[]);
        let (tunnel_port, v2_port, v1_port, app_port) =
            (free_port(), free_port(), free_port(), free_port());
        // The balancer connects from 127.0.0.2, the only trusted source.
        let haproxy = haproxy_with(
            dir,
            &format!(
                "frontend in_v2\n    bind 127.0.0.1:{v2_port}\n    default_backend t_v2\n\n\
                 backend t_v2\n    server t 127.0.0.1:{tunnel_port} send-proxy-v2 source 127.0.0.2\n\n\
                 frontend in_v1\n    bind 127.0.0.1:{v1_port}\n    default_backend t_v1\n\n\
                 backend t_v1\n    server t 127.0.0.1:{tunnel_port} send-proxy source 127.0.0.2\n\n\
                 frontend app\n    mode http\n    bind 127.0.0.1:{app_port} accept-proxy\n    \
                 http-request return status 200 content-type text/plain lf-string \"%[src]:%[src_port]\"\n"
            ),
        );
        let listen = format!("127.0.0.1:{tunnel_port}");
        let app = format!("127.0.0.1:{app_port}");
        let mut args = vec![
            "--log-format",
            "json",
            "tunnel",
            "--mode",
            "server",
            "--name",
            "pp",
            "--listen",
            &listen,
            "--target",
            &app,
            "--backend",
            backend,
            "--client-auth",
            "none",
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/server-key.pem",
            "--accept-proxy-from",
            "127.0.0.2",
            "--send-proxy",
            "v2",
        ];
        let mut tunnel = Proc::polytls(&args, dir);
        tunnel.listen_addr("pp");
        for port in [v2_port, v1_port] {
            let front = format!("127.0.0.1:{port}");
            let mut tls = client(dir, &front, "localhost", None).unwrap();
            let me = tls.get_ref().0.local_addr().unwrap();
            tls.write_all(b"GET / HTTP/1.0\r\nHost: app\r\n\r\n")
                .unwrap();
            let mut resp = String::new();
            let _ = tls.read_to_string(&mut resp);
            drop(tls);
            // The application saw this client's own address and port.
            assert!(
                resp.ends_with(&format!("\r\n\r\n{me}")),
                "{backend} via {port}: {resp:?}"
            );
            let line = tunnel.wait_log(&["connection closed", &format!("\"peer\":\"{me}\"")], 10);
            assert!(line.contains("\"via\":\"127.0.0.2:"), "{line}");
        }
        // Straight to the tunnel from an untrusted address: refused.
        assert!(refused(client(dir, &listen, "localhost", None)));
        tunnel.wait_log(&["connection refused", "proxy_untrusted"], 10);
        args.clear();
        drop(haproxy);
    }
}

/// The value of the sample `name` (with its labels) in Prometheus text.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn metrics_add_up_to_a_load_run_and_health_reports_the_drain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let echo = echo_server();
    let server_port = free_port();
    std::fs::write(
        dir.join("tunnel.toml"),
        format!(
            r#"
metrics_listen = "127.0.0.1:0"
[[tunnel]]
name = "in"
mode = "client"
listen = "127.0.0.1:0"
target = "127.0.0.1:{server_port}"
server_name = "localhost"
[tunnel.tls]
ca = "pki/ca.pem"
cert = "pki/alice.pem"
key = "pki/alice-key.pem"
[[tunnel]]
name = "out"
mode = "server"
listen = "127.0.0.1:{server_port}"
target = "{echo}"
[tunnel.tls]
backend = "{backend}"
cert = "pki/server.pem"
key = "pki/server-key.pem"
ca = "pki/ca.pem"
"#,
            backend = ossl_backend(),
        ),
    )
    .unwrap();
    let mut tunnel = Proc::polytls(&["tunnel", "--config", "tunnel.toml"], dir);
    let plain = tunnel.listen_addr("in");
    let metrics = tunnel.listen_addr("metrics");
    assert_eq!(http_get(&metrics, "/health"), (200, "ok\n".into()));
    // Clients without a certificate fail their handshake with the server tunnel.
    let server = format!("127.0.0.1:{server_port}");
    let bad = 3;
    for _ in 0..bad {
        assert!(refused(client(dir, &server, "localhost", None)));
    }
    let (total, bytes) = (200u64, 4096u64);
    let spec = polytls_loadgen::LoadSpec {
        connect: plain,
        concurrency: 20,
        total,
        bytes,
        hold: false,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = rt.spawn(async move { polytls_loadgen::run(&spec).await });
    // Scraped during the run: consistent, never ahead of the load.
    let during = http_get(&metrics, "/metrics").1;
    assert!(
        sample(&during, "polytls_tunnel_connections_total{tunnel=\"out\"}") <= (total + bad) as f64
    );
    let report = rt.block_on(run).unwrap();
    assert_eq!((report.ok, report.failed), (total, 0), "{report:?}");
    // Every connection has ended once both tunnels logged them.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = http_get(&metrics, "/metrics").1;
        if sample(&text, "polytls_tunnel_connections_open{tunnel=\"out\"}") == 0.0
            && sample(&text, "polytls_tunnel_connections_open{tunnel=\"in\"}") == 0.0
        {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "connections stay open:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let n = total as f64;
    for (name, want) in [
        ("polytls_tunnel_connections_total{tunnel=\"in\"}", n),
        (
            "polytls_tunnel_connections_total{tunnel=\"out\"}",
            n + bad as f64,
        ),
        (
            "polytls_tunnel_handshake_duration_seconds_count{tunnel=\"in\"}",
            n,
        ),
        (
            "polytls_tunnel_handshake_duration_seconds_count{tunnel=\"out\"}",
            n,
        ),
        (
            "polytls_tunnel_bytes_total{tunnel=\"out\",direction=\"from_tls\"}",
            n * bytes as f64,
        ),
        (
            "polytls_tunnel_bytes_total{tunnel=\"out\",direction=\"to_tls\"}",
            n * bytes as f64,
        ),
        (
            "polytls_tunnel_bytes_total{tunnel=\"in\",direction=\"to_tls\"}",
            n * bytes as f64,
        ),
        (
            "polytls_tunnel_bytes_total{tunnel=\"in\",direction=\"from_tls\"}",
            n * bytes as f64,
        ),
    ] {
        assert_eq!(sample(&text, name), want, "{name} in\n{text}");
    }
    let failures: f64 = text
        .lines()
        .filter(|l| l.starts_with("polytls_tunnel_handshake_failures_total{tunnel=\"out\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(failures, bad as f64, "{text}");
    assert!(text.contains("# TYPE polytls_tunnel_handshake_duration_seconds histogram"));
    // Draining: health says so while a connection holds the drain open.
    let mut held = std::net::TcpStream::connect(listen_of(&mut tunnel)).unwrap();
    held.write_all(b"x").unwrap();
    assert_eq!(read_n(&mut held, 1).unwrap(), b"x");
    tunnel.signal("TERM");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if http_get(&metrics, "/health").0 == 503 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "health never reported the drain"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(held);
    assert!(tunnel.wait_exit(30).success());
}

fn listen_of(tunnel: &mut Proc) -> String {
    tunnel.listen_addr("in")
}
