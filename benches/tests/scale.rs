//! The scale harness as `cargo xtask compare` runs it, smoke-sized, on every
//! backend this build holds: every figure is produced, nothing failed, and
//! the numbers are of the right kind. No timing is asserted.

use std::process::Command;

use serde_json::Value;

fn backends() -> Vec<&'static str> {
    let mut b = vec!["rustls"];
    if cfg!(feature = "rustls-ring") {
        b.push("rustls-ring");
    }
    if cfg!(feature = "openssl") {
        b.push("openssl");
    }
    if cfg!(feature = "boring") {
        b.push("boring");
    }
    if cfg!(feature = "aws-lc") {
        b.push("aws-lc");
    }
    b
}

fn scale(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_polytls-scale"))
        .args(args)
        .output()
        .expect("run polytls-scale");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_backend_gives_handshake_and_memory_figures() {
    for backend in backends() {
        let (ok, out, err) = scale(&[
            "run",
            "--backend",
            backend,
            "--threads",
            "1,2",
            "--seconds",
            "0.2",
            "--concurrency",
            "4",
            "--idle",
            "500",
        ]);
        assert!(ok, "{backend}: {err}");
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 3, "{backend}: {out}");
        for (line, threads) in lines[..2].iter().zip([1, 2]) {
            assert_eq!(line["backend"], backend);
            assert_eq!(line["kind"], "handshakes");
            assert_eq!(line["server_threads"], threads);
            assert_eq!(line["failed"], 0, "{backend}: {line}");
            assert!(line["completed"].as_u64().is_some_and(|n| n > 0));
            let (p50, p99) = (line["p50_us"].as_f64(), line["p99_us"].as_f64());
            assert!(
                p50.zip(p99).is_some_and(|(a, b)| 0.0 < a && a <= b),
                "{line}"
            );
        }
        let idle = &lines[2];
        assert_eq!(idle["kind"], "idle");
        assert_eq!(idle["connections"], 500);
        // 500 sessions cannot fit in what the warm-up freed: both grow.
        for side in ["server", "client"] {
            let bytes = idle[format!("{side}_bytes_per_connection")].as_f64();
            assert!(bytes.is_some_and(|b| b > 0.0), "{backend} {side}: {idle}");
        }
    }
}

#[test]
fn bad_settings_are_refused_with_the_reason() {
    let (ok, _, err) = scale(&["run", "--backend", "nonesuch", "--idle", "10"]);
    assert!(!ok && err.contains("not in this build"), "{err}");
    for (flag, value) in [
        ("--threads", "0"),
        ("--seconds", "1e20"),
        ("--seconds", "NaN"),
        ("--idle", "-1"),
        ("--concurrency", "99999"),
    ] {
        let arg = format!("{flag}={value}");
        let (ok, _, err) = scale(&["run", "--backend", "rustls", &arg]);
        assert!(!ok && err.contains(flag), "{flag} {value}: {err}");
    }
}
