//! `polytls --version`, `certs`, `serve` and `connect`, and clear errors for
//! bad configuration, run as a user would: the built binary as a process.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn version_lists_compiled_in_backends_with_library_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let (status, out, _) = run(&["--version"], tmp.path());
    assert!(status.success());
    assert!(out.contains("rustls   rustls 0.23"), "{out}");
    if cfg!(feature = "boring") {
        assert!(out.contains("boring   BoringSSL (API version "), "{out}");
        assert!(!out.contains("openssl "), "{out}");
    } else if cfg!(feature = "aws-lc") {
        assert!(out.contains("aws-lc   AWS-LC 1."), "{out}");
        assert!(!out.contains("openssl "), "{out}");
    } else {
        assert!(out.contains("openssl  OpenSSL 3."), "{out}");
        assert!(!out.contains("boring "), "{out}");
    }
}

#[test]
fn certs_writes_private_keys_0600_reuses_the_ca_and_refuses_to_clobber() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (status, out, err) = run(
        &["certs", "--dir", "pki", "--server", "localhost,127.0.0.1"],
        dir,
    );
    assert!(status.success(), "{err}");
    assert!(out.contains("wrote pki/ca.pem"), "{out}");
    for (file, mode) in [
        ("ca-key.pem", 0o600),
        ("server-key.pem", 0o600),
        ("ca.pem", 0o644),
        ("server.pem", 0o644),
    ] {
        let meta = std::fs::metadata(dir.join("pki").join(file)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{file}");
    }
    assert_eq!(
        std::fs::metadata(dir.join("pki"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let ca_before = std::fs::read(dir.join("pki/ca.pem")).unwrap();

    // A second run issues from the same CA; an RSA client this time.
    let (status, out, err) = run(
        &["certs", "--dir", "pki", "--client", "carol", "--key", "rsa"],
        dir,
    );
    assert!(status.success(), "{err}");
    assert!(out.contains("using the existing CA"), "{out}");
    assert_eq!(std::fs::read(dir.join("pki/ca.pem")).unwrap(), ca_before);
    let key = std::fs::read(dir.join("pki/carol-key.pem")).unwrap();
    let key = polytls::identity::private_key_from_pem(&key).unwrap();
    assert!(
        key.secret_der().len() > 1000,
        "an RSA-2048 key is over 1 KB of DER"
    );

    // Existing leaves are kept unless --force.
    let (status, _, err) = run(&["certs", "--dir", "pki", "--client", "carol"], dir);
    assert!(!status.success());
    assert!(err.contains("exists; pass --force"), "{err}");

    // carol (RSA, second run) is accepted by a server from the first run.
    let mut server = Proc::polytls(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/server-key.pem",
            "--ca",
            "pki/ca.pem",
        ],
        dir,
    );
    let addr = server.listen_addr("");
    let (status, _, err) = connect(
        dir,
        &addr,
        &["--cert", "pki/carol.pem", "--key", "pki/carol-key.pem"],
        b"hi",
    );
    assert!(status.success(), "{err}");
    server.wait_log(&["handshake done"], 10);
}

/// Runs `polytls connect` with `stdin` as input; (status, stdout, stderr).
fn connect(
    dir: &std::path::Path,
    addr: &str,
    extra: &[&str],
    stdin: &[u8],
) -> (std::process::ExitStatus, Vec<u8>, String) {
    let mut args = vec!["connect", addr, "--server-name", "localhost"];
    if !extra.contains(&"--ca") {
        args.extend_from_slice(&["--ca", "pki/ca.pem"]);
    }
    args.extend_from_slice(extra);
    let mut child = Command::new(BIN)
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_and_connect_echo_on_every_backend_pair() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &[]);
    let data: Vec<u8> = polytls_loadgen::payload(7, 300_000);
    for server_backend in polytls::available_backends() {
        let mut server = Proc::polytls(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--cert",
                "pki/server.pem",
                "--key",
                "pki/server-key.pem",
                "--backend",
                server_backend,
                "--alpn",
                "echo/1",
            ],
            dir,
        );
        let addr = server.listen_addr("");
        for client_backend in polytls::available_backends() {
            let (status, out, err) = connect(
                dir,
                &addr,
                &["--backend", client_backend, "--alpn", "echo/1"],
                &data,
            );
            assert!(
                status.success(),
                "{client_backend} -> {server_backend}: {err}"
            );
            assert!(
                out == data,
                "{client_backend} -> {server_backend}: echo differs ({} bytes back)",
                out.len()
            );
            assert!(
                err.contains(&format!("backend:  {client_backend}")),
                "{err}"
            );
            assert!(err.contains("version:  TLSv1.3"), "{err}");
            assert!(err.contains("alpn:     echo/1"), "{err}");
            assert!(err.contains("peer[0]:  CN=localhost"), "{err}");
        }
        // TLS 1.2 with a chosen suite, printed back.
        let (status, _, err) = connect(
            dir,
            &addr,
            &[
                "--max-version",
                "1.2",
                "--cipher",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "--quit",
            ],
            b"",
        );
        assert!(status.success(), "{err}");
        assert!(err.contains("version:  TLSv1.2"), "{err}");
        assert!(
            err.contains("suite:    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
            "{err}"
        );
    }
}

#[test]
fn serve_www_describes_the_session_and_connect_rejects_a_foreign_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &[]);
    pki(&dir.join("other"), &[]);
    let mut server = Proc::polytls(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--mode",
            "www",
            "--cert",
            "other/server.pem",
            "--key",
            "other/server-key.pem",
            "--backend",
            ossl_backend(),
        ],
        dir,
    );
    let addr = server.listen_addr("");
    let (status, _, err) = connect(dir, &addr, &[], b"GET / HTTP/1.0\r\n\r\n");
    assert!(!status.success());
    assert!(err.contains("invalid peer certificate"), "{err}");

    let (status, out, err) = connect(
        dir,
        &addr,
        &["--ca", "other/ca.pem"],
        b"GET / HTTP/1.0\r\n\r\n",
    );
    assert!(status.success(), "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("HTTP/1.0 200 OK\r\n"), "{out}");
    assert!(
        out.contains(&format!("backend:  {}", ossl_backend())),
        "{out}"
    );
    assert!(out.contains("sni:      localhost"), "{out}");
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki(&dir.join("pki"), &["alice"]);
    let base = [
        "tunnel",
        "--mode",
        "server",
        "--listen",
        "127.0.0.1:0",
        "--target",
        "127.0.0.1:9",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--cert",
                "pki/missing.pem",
                "--key",
                "pki/server-key.pem",
                "--ca",
                "pki/ca.pem",
            ],
            "pki/missing.pem",
        ),
        (
            &[
                "--cert",
                "pki/server.pem",
                "--key",
                "pki/alice-key.pem",
                "--ca",
                "pki/ca.pem",
            ],
            "invalid configuration",
        ),
        (
            &[
                "--cert",
                "pki/server.pem",
                "--key",
                "pki/server-key.pem",
                "--ca",
                "pki/ca.pem",
                "--cipher",
                "TLS_FOO",
            ],
            "unknown CipherSuite \"TLS_FOO\"",
        ),
        (
            &["--cert", "pki/server.pem", "--key", "pki/server-key.pem"],
            "needs --ca",
        ),
        (
            &[
                "--cert",
                "pki/server.pem",
                "--key",
                "pki/server-key.pem",
                "--ca",
                "pki/ca.pem",
                "--pin",
                "sha256//nope",
            ],
            "invalid SPKI pin",
        ),
        (
            &[
                "--cert",
                "pki/server.pem",
                "--key",
                "pki/server-key.pem",
                "--ca",
                "pki/ca.pem",
                "--backend",
                "gnutls",
            ],
            "unknown backend",
        ),
        (
            &[
                "--cert",
                "pki/ca-key.pem",
                "--key",
                "pki/server-key.pem",
                "--ca",
                "pki/ca.pem",
            ],
            "pki/ca-key.pem",
        ),
    ];
    for (extra, expect) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let (status, _, err) = run(&args, dir);
        assert!(!status.success(), "{extra:?} was accepted");
        assert!(err.contains(expect), "{extra:?}: want {expect:?} in {err}");
    }
    // The key does not match: InvalidConfig from the backend, on each of them.
    for backend in polytls::available_backends() {
        let mut args = base.to_vec();
        args.extend_from_slice(&[
            "--cert",
            "pki/server.pem",
            "--key",
            "pki/alice-key.pem",
            "--ca",
            "pki/ca.pem",
            "--backend",
            backend,
        ]);
        let (status, _, err) = run(&args, dir);
        assert!(
            !status.success() && err.contains("invalid configuration"),
            "{backend}: {err}"
        );
    }
    // TOML: unknown keys are rejected, not ignored.
    std::fs::write(dir.join("bad.toml"), "[[tunnel]]\nmode = \"server\"\nlisten = \"127.0.0.1:0\"\ntarget = \"127.0.0.1:9\"\nhandshake_timeuot = 3\n").unwrap();
    let (status, _, err) = run(&["tunnel", "--config", "bad.toml"], dir);
    assert!(!status.success());
    assert!(err.contains("unknown field `handshake_timeuot`"), "{err}");
    let (status, _, err) = run(&["tunnel", "--config", "absent.toml"], dir);
    assert!(!status.success() && err.contains("absent.toml"), "{err}");
}
