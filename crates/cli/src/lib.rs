//! The `polytls` command line, as a library so its tests and benchmarks can
//! drive the same code the binary runs.
//!
//! - [`certs`]: an in-process development PKI (CA, server and client
//!   certificates), like mkcert.
//! - [`serve`] / [`connect`]: an `s_server` / `s_client` pair on any
//!   compiled-in backend.
//! - [`tunnel`]: an stunnel-like TLS tunnel, mutual TLS by default, in front of
//!   a plaintext service.
//! - [`net`] and [`values`]: what the commands share — listening, error
//!   words, and numbers parsed once with their ranges checked.

#![forbid(unsafe_code)]

pub mod certs;
pub mod cli;
pub mod connect;
pub mod error;
pub mod logging;
pub mod net;
pub mod serve;
pub mod tls;
pub mod tunnel;
pub mod values;

pub use error::{CliError, Result};

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
