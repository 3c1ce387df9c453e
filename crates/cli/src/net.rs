//! What the commands share for the network: listening with a deep accept
//! queue, host names of addresses, and adapter errors in CLI words.

use crate::error::{CliError, Result};

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

/// Turns an adapter error back into its polytls category where it has one.
pub fn io_to_cli(what: &str, e: std::io::Error) -> CliError {
    match polytls::Error::from_io(&e) {
        Some(tls) => CliError::Tls {
            context: what.into(),
            source: tls.clone(),
        },
        None => CliError::Io {
            context: what.into(),
            source: e,
        },
    }
}

/// The host part of `host:port` (brackets of an IPv6 address removed).
pub fn host_of(addr: &str) -> Result<String> {
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h,
        None => return Err(CliError::Config(format!("{addr:?} is not host:port"))),
    };
    Ok(host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string())
}
