//! Bad numbers, tried as a user would type them: every numeric flag and
//! every numeric TOML key with 0, a negative number, NaN, 1e20 and the
//! type's maximum. A value out of range is a clear error naming the flag or
//! key and exit code 2 — never a panic, never a value noticed only later
//! (at SIGTERM, in a connection task). Values in range pass `--check`.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Runs `polytls args` in `dir`, killing it after 20 s (a command that
/// accepted a bad number and started serving is a failure too).
fn polytls(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("polytls {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Asserts a refusal: exit code 2, no panic, and `name` in the message.
#[track_caller]
fn refused(out: &Output, name: &str, value: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name} = {value}: {err}");
    assert!(!err.contains("panicked"), "{name} = {value}: {err}");
    assert!(
        err.contains(name),
        "{name} = {value}: the error names it: {err}"
    );
}

const FLAG_VALUES: &[&str] = &["0", "-1", "NaN", "1e20", "18446744073709551615"];

/// A tunnel in server mode that `--check` accepts.
const TUNNEL: &[&str] = &[
    "tunnel",
    "--check",
    "--mode",
    "server",
    "--listen",
    "127.0.0.1:0",
    "--target",
    "127.0.0.1:9",
    "--cert",
    "pki/server.pem",
    "--key",
    "pki/server-key.pem",
    "--ca",
    "pki/ca.pem",
];

#[test]
fn numeric_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let good = polytls(dir, TUNNEL);
    assert!(good.status.success(), "{good:?}");

    // (flag, values that are in range).
    let tunnel_flags: &[(&str, &[&str])] = &[
        ("--handshake-timeout", &[]),
        ("--idle-timeout", &[]),
        ("--max-connections", &[]),
        ("--buffer-size", &[]),
        ("--drain-timeout", &["0"]),
        ("--reload-interval", &["0"]),
    ];
    for (flag, ok) in tunnel_flags {
        for v in FLAG_VALUES {
            let mut args = TUNNEL.to_vec();
            let kv = format!("{flag}={v}");
            args.push(&kv);
            let out = polytls(dir, &args);
            if ok.contains(v) {
                assert!(out.status.success(), "{kv}: {out:?}");
            } else {
                refused(&out, flag, v);
            }
        }
    }
    for v in FLAG_VALUES {
        let days = format!("--days={v}");
        refused(
            &polytls(dir, &["certs", "--dir", "more", "--server", "x", &days]),
            "--days",
            v,
        );
        let t = format!("--timeout={v}");
        refused(
            &polytls(dir, &["connect", "127.0.0.1:9", &t]),
            "--timeout",
            v,
        );
        let t = format!("--handshake-timeout={v}");
        refused(
            &polytls(dir, &["serve", "--listen", "127.0.0.1:0", &t]),
            "--handshake-timeout",
            v,
        );
        let m = format!("--max-accepts={v}");
        refused(
            &polytls(dir, &["serve", "--listen", "127.0.0.1:0", &m]),
            "--max-accepts",
            v,
        );
    }
}

#[test]
fn numeric_toml_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let values = [
        "0",
        "-1",
        "nan",
        "1e20",
        "9223372036854775807",
        "18446744073709551615",
    ];
    // (key, top level?, values in range).
    let keys: &[(&str, bool, &[&str])] = &[
        ("drain_timeout", true, &["0"]),
        ("reload_interval", true, &["0"]),
        ("handshake_timeout", false, &[]),
        ("idle_timeout", false, &[]),
        ("max_connections", false, &[]),
        ("max_handshakes", false, &[]),
        ("max_handshakes_per_source", false, &["0"]),
        ("buffer_size", false, &[]),
    ];
    for (key, top, ok) in keys {
        for v in values {
            let line = format!("{key} = {v}\n");
            let (global, local) = if *top {
                (line.as_str(), "")
            } else {
                ("", line.as_str())
            };
            let toml = format!(
                "{global}[[tunnel]]\nmode = \"server\"\nlisten = \"127.0.0.1:0\"\n\
                 target = \"127.0.0.1:9\"\n{local}[tunnel.tls]\ncert = \"pki/server.pem\"\n\
                 key = \"pki/server-key.pem\"\nca = \"pki/ca.pem\"\n"
            );
            std::fs::write(dir.join("t.toml"), toml).unwrap();
            let out = polytls(dir, &["tunnel", "--check", "--config", "t.toml"]);
            if ok.contains(&v) {
                assert!(out.status.success(), "{key} = {v}: {out:?}");
            } else {
                refused(&out, key, v);
            }
        }
    }
}

/// The operator settings, tried wrong: a CRL file of garbage, an empty or
/// truncated CRL, a URI prefix without its slash, an empty allow rule, a
/// balancer address that is no address, `--crl` with client auth `none`,
/// `--crl-scope` without `--crl`, allow rules in client mode. Each is a
/// clear error naming what is wrong, exit code 2, no panic.
#[test]
fn operator_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let pki_dir = dir.join("pki");
    std::fs::write(pki_dir.join("garbage.crl"), "not a CRL\n").unwrap();
    std::fs::write(pki_dir.join("empty.crl"), "").unwrap();
    // A real CRL cut in half.
    polytls_cli::certs::run(&polytls_cli::certs::CertsArgs {
        dir: pki_dir.clone(),
        server: vec![],
        server_file: "server".into(),
        client: vec![],
        key: polytls_cli::certs::KeyAlg::Ecdsa,
        days: polytls_cli::values::Count::of(30),
        force: true,
        revoke: vec!["alice".into()],
        crl: false,
        crl_days: polytls_cli::values::Count::of(30),
    })
    .unwrap();
    let crl = std::fs::read_to_string(pki_dir.join("crl.pem")).unwrap();
    std::fs::write(pki_dir.join("cut.crl"), &crl[..crl.len() / 2]).unwrap();
    let with = |extra: &[&str]| {
        let mut args = TUNNEL.to_vec();
        args.extend_from_slice(extra);
        polytls(dir, &args)
    };
    for (args, names) in [
        (vec!["--crl", "pki/garbage.crl"], "garbage.crl"),
        (vec!["--crl", "pki/empty.crl"], "empty.crl"),
        (vec!["--crl", "pki/cut.crl"], "cut.crl"),
        (vec!["--crl", "pki/missing.crl"], "missing.crl"),
        (
            vec!["--allow-uri-prefix", "spiffe://example.org"],
            "must end in '/'",
        ),
        (vec!["--allow-cn", ""], "empty"),
        (vec!["--accept-proxy-from", "10.0.0.500"], "10.0.0.500"),
        (vec!["--accept-proxy-from", "10.0.0.0/33"], "10.0.0.0/33"),
        (
            vec!["--crl", "pki/crl.pem", "--client-auth", "none"],
            "--crl",
        ),
        (vec!["--crl-scope", "leaf"], "--crl-scope needs --crl"),
        (
            vec!["--allow-cn", "alice", "--client-auth", "optional"],
            "client_auth",
        ),
    ] {
        refused(&with(&args), names, &args.join(" "));
    }
    // Allow rules and send_proxy are for server mode.
    for extra in [["--allow-cn", "alice"], ["--send-proxy", "v2"]] {
        let mut args = vec![
            "tunnel",
            "--check",
            "--mode",
            "client",
            "--listen",
            "127.0.0.1:0",
            "--target",
            "127.0.0.1:9",
            "--ca",
            "pki/ca.pem",
        ];
        args.extend_from_slice(&extra);
        refused(&polytls(dir, &args), "server mode", extra[0]);
    }
    // The good CRL and rules pass.
    let out = with(&[
        "--crl",
        "pki/crl.pem",
        "--allow-uri-prefix",
        "spiffe://example.org/",
        "--accept-proxy-from",
        "10.0.0.0/8",
        "--send-proxy",
        "v1",
    ]);
    assert!(out.status.success(), "{out:?}");
}

/// `--check` catches what start-up would: addresses that do not parse or
/// resolve, routes that are empty or differ only by case, limits whose
/// buffers exceed the machine's memory, a missing file — each exit code 2.
#[test]
fn check_catches_what_start_up_would() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let tls = "[tunnel.tls]\ncert = \"pki/server.pem\"\nkey = \"pki/server-key.pem\"\nca = \"pki/ca.pem\"\n";
    let cases: &[(&str, &str)] = &[
        ("listen = \"127.0.0.1\"\ntarget = \"127.0.0.1:9\"\n", "listen"),
        ("listen = \"127.0.0.1:0\"\ntarget = \"no-such-host.invalid:9\"\n", "target"),
        ("listen = \"127.0.0.1:0\"\ntarget = \"127.0.0.1:9\"\n[[tunnel.route]]\nsni = \"\"\ntarget = \"127.0.0.1:9\"\n", "empty sni"),
        (
            "listen = \"127.0.0.1:0\"\ntarget = \"127.0.0.1:9\"\n[[tunnel.route]]\nsni = \"db.example\"\ntarget = \"127.0.0.1:9\"\n[[tunnel.route]]\nsni = \"DB.example\"\ntarget = \"127.0.0.1:8\"\n",
            "same SNI",
        ),
        (
            "listen = \"127.0.0.1:0\"\ntarget = \"127.0.0.1:9\"\nmax_connections = 1000000\nbuffer_size = 16777216\n",
            "memory",
        ),
    ];
    for (body, says) in cases {
        // Routes are tables of their own: the TLS table goes before them.
        let (head, routes) = body
            .split_once("[[tunnel.route]]")
            .map_or((*body, String::new()), |(h, r)| {
                (h, format!("[[tunnel.route]]{r}"))
            });
        std::fs::write(
            dir.join("t.toml"),
            format!("[[tunnel]]\nmode = \"server\"\n{head}{tls}{routes}"),
        )
        .unwrap();
        let out = polytls(dir, &["tunnel", "--check", "--config", "t.toml"]);
        refused(&out, says, body);
    }
    let out = polytls(dir, &["tunnel", "--check", "--config", "missing.toml"]);
    refused(&out, "missing.toml", "a missing file");
}
