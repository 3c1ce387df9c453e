//! Debian packages the build and the tests need, installed when missing.

use std::process::Command;

/// Everything `cargo xtask test` needs: pkg-config and libssl-dev for the
/// OpenSSL backend; cmake, g++, libclang for building BoringSSL; the
/// `openssl` tool and curl as external peers in tests; the system trust
/// store for `Roots::platform()`; redis-server behind the tunnel in its tests
/// and stunnel4 beside it in `compare --tunnel`; haproxy in front of a fleet
/// of tunnels in their tests; nginx behind the hyper connector's tests and,
/// with its stream module, beside the tunnel in `compare --tunnel`;
/// valgrind for the instruction counts of
/// `compare`; Go's `x/crypto`, `x/term` and `x/sys` and pip for the BoGo
/// runner.
pub(crate) const ALL: &[&str] = &[
    "valgrind",
    "redis-server",
    "stunnel4",
    "haproxy",
    "nginx",
    "libnginx-mod-stream",
    "pkg-config",
    "openssl",
    "curl",
    "ca-certificates",
    "libssl-dev",
    "cmake",
    "g++",
    "make",
    "libclang1-14",
    "libclang-common-14-dev",
    // The BoGo runner: its Go imports (the toolchain comes from PyPI).
    "golang-golang-x-crypto-dev",
    "golang-golang-x-term-dev",
    "golang-golang-x-sys-dev",
    "python3-pip",
];

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs the missing packages of `wanted` with apt-get when running as
/// root; otherwise prints the command and fails.
pub(crate) fn ensure(wanted: &[&str]) -> Result<(), String> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("xtask: not a Debian-like system; assuming {wanted:?} are present");
        return Ok(());
    }
    let missing: Vec<&str> = wanted.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!(
        "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        return Err(format!(
            "missing system packages {missing:?}; install them with:\n    sudo sh -c '{line}'"
        ));
    }
    eprintln!("xtask: installing {missing:?}");
    let status = Command::new("sh")
        .args(["-c", &line])
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}
