//! Load through both tunnel modes on loopback: 1,000 connections open at
//! once, 100,000 in all, every connection's bytes checked by hash; file
//! descriptors back to their baseline and RSS bounded afterwards; 500 clients
//! that never finish a handshake do not keep others out, and are closed by
//! the handshake timeout.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]
// The default (rustls + OpenSSL) build only: the load is on the tunnel's own
// code, and repeating it with BoringSSL or AWS-LC would cost CI minutes for
// little.
#![cfg(not(any(feature = "boring", feature = "aws-lc")))]

mod common;

use std::time::{Duration, Instant};

use common::*;
use polytls_loadgen::LoadSpec;

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Waits until `pid` holds `want` descriptors (connections close
/// asynchronously after the client sees its last byte).
fn settle_fds(pid: u32, want: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = fds(pid);
        if now == want || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first log lines of connections that did not end cleanly.
fn unclean(p: &Proc) -> Vec<String> {
    let err = p.err.lock().unwrap();
    err.iter()
        .filter(|l| l.contains("conn=") && !l.contains("reason=closed"))
        .take(3)
        .cloned()
        .collect()
}

#[test]
fn thousands_of_connections_through_both_tunnel_modes() {
    polytls_cli::raise_fd_limit().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let echo_addr = echo_server();
    let mut server = Proc::polytls(
        &[
            "tunnel",
            "--mode",
            "server",
            "--name",
            "in",
            "--listen",
            "127.0.0.1:0",
            "--target",
            &echo_addr,
            "--backend",
            ossl_backend(),
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/server-key.pem",
            "--ca",
            "pki/ca.pem",
            "--max-connections",
            "4000",
            // 1,000 handshakes at once, all from the client tunnel's address.
            "--max-handshakes",
            "4000",
            "--max-handshakes-per-source",
            "0",
            "--handshake-timeout",
            "3",
        ],
        dir,
    );
    let server_addr = server.listen_addr("in");
    let mut client = Proc::polytls(
        &[
            "tunnel",
            "--mode",
            "client",
            "--name",
            "out",
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
            "--max-connections",
            "4000",
            "--max-handshakes",
            "4000",
        ],
        dir,
    );
    let client_addr = client.listen_addr("out");
    let (spid, cpid) = (server.pid(), client.pid());
    let (server_fds, client_fds) = (fds(spid), fds(cpid));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    // 1,000 connections open at once, then each sends 16 KiB and checks the echo.
    let held = rt.block_on(polytls_loadgen::run(&LoadSpec {
        connect: client_addr.clone(),
        concurrency: 1000,
        total: 1000,
        bytes: 16 * 1024,
        hold: true,
    }));
    assert_eq!(
        (held.ok, held.failed),
        (1000, 0),
        "{:?}\nserver: {:?}\nclient: {:?}",
        held.first_error,
        unclean(&server),
        unclean(&client)
    );
    assert_eq!(settle_fds(spid, server_fds), server_fds);
    assert_eq!(settle_fds(cpid, client_fds), client_fds);
    let (server_rss, client_rss) = (rss_kib(spid), rss_kib(cpid));

    // 100,000 connections, 1,000 at a time, 1 KiB each way, hashed.
    let start = Instant::now();
    let many = rt.block_on(polytls_loadgen::run(&LoadSpec {
        connect: client_addr.clone(),
        concurrency: 1000,
        total: 100_000,
        bytes: 1024,
        hold: false,
    }));
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(
        (many.ok, many.failed),
        (100_000, 0),
        "{:?}",
        many.first_error
    );
    eprintln!(
        "load: 100000 connections through two tunnels in {secs:.1} s ({:.0}/s); RSS after warm-up: server {server_rss} KiB, client {client_rss} KiB",
        100_000.0 / secs
    );

    // 500 clients that open TCP and never finish a handshake ...
    let idle: Vec<std::net::TcpStream> = (0..500)
        .map(|_| {
            let s = std::net::TcpStream::connect(&server_addr).unwrap();
            // A record header promising more than will ever come.
            std::io::Write::write_all(&mut &s, &[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
            s
        })
        .collect();
    // ... do not keep others out.
    let meanwhile = rt.block_on(polytls_loadgen::run(&LoadSpec {
        connect: client_addr.clone(),
        concurrency: 50,
        total: 500,
        bytes: 1024,
        hold: false,
    }));
    assert_eq!(
        (meanwhile.ok, meanwhile.failed),
        (500, 0),
        "{:?}",
        meanwhile.first_error
    );
    // The handshake timeout closes every one of them.
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = [0u8; 64];
        let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
        assert_eq!(n, 0, "an idle handshaker got data");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.logs(&["handshake_timeout"]).len() < 500 {
        assert!(
            Instant::now() < deadline,
            "{} timeouts logged",
            server.logs(&["handshake_timeout"]).len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Everything closed: descriptors back to the baseline, memory bounded.
    assert_eq!(
        settle_fds(spid, server_fds),
        server_fds,
        "server tunnel leaked descriptors"
    );
    assert_eq!(
        settle_fds(cpid, client_fds),
        client_fds,
        "client tunnel leaked descriptors"
    );
    let (server_after, client_after) = (rss_kib(spid), rss_kib(cpid));
    eprintln!("RSS after 100k: server {server_after} KiB, client {client_after} KiB");
    for (what, before, after) in [
        ("server", server_rss, server_after),
        ("client", client_rss, client_after),
    ] {
        assert!(
            after <= before + before / 2 + 16 * 1024,
            "{what} tunnel RSS grew from {before} KiB to {after} KiB"
        );
    }
    assert_eq!(
        server.logs(&["connection refused"]).len(),
        500,
        "only the idle handshakers are refused"
    );
}
