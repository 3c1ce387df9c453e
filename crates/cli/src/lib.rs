//! The `polytls` command line, as a library so its tests and benchmarks can
//! drive the same code the binary runs.
//!
//! - [`certs`]: an in-process development PKI (CA, server and client
//!   certificates), like mkcert.
//! - [`serve`] / [`connect`]: an `s_server` / `s_client` pair on any
//!   compiled-in backend.
//! - [`tunnel`]: an stunnel-like TLS tunnel, mutual TLS by default, in front of
//!   a plaintext service.
//! - [`loadgen`]: the plaintext echo target and load generator used by the
//!   tunnel's load tests and by `cargo xtask compare --tunnel`.

#![forbid(unsafe_code)]

pub mod certs;
pub mod cli;
pub mod connect;
pub mod error;
pub mod loadgen;
pub mod logging;
pub mod serve;
pub mod tls;
pub mod tunnel;

pub use error::{CliError, Result};

/// Binds a listener with a deep accept queue (4096, capped by the kernel's
/// `somaxconn`), so bursts of connections wait in the queue instead of
/// overflowing it: an overflowing queue makes the kernel drop or, with SYN
/// cookies, sometimes reset connections the client believed established.
pub async fn bind_listener(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a) {
            Ok(()) => return socket.listen(4096),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr:?} resolves to no address"),
        )
    }))
}

/// Raises the soft limit on open files to the hard limit, as servers that
/// hold thousands of connections do; returns the limit now in force.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// `--version` text: the crate version and every compiled-in backend with
/// its library version.
pub fn long_version() -> String {
    let mut s = format!("{}\nbackends:", env!("CARGO_PKG_VERSION"));
    for name in polytls::available_backends() {
        match polytls::backend_by_name(name) {
            Ok(b) => s.push_str(&format!(
                "\n  {name:<8} {}",
                polytls::Backend::library_version(&b)
            )),
            Err(e) => s.push_str(&format!("\n  {name:<8} unavailable: {e}")),
        }
    }
    s
}
