//! `polytls serve`: an `s_server`-like server. Each client is served on its
//! own task: echo (default) sends every byte back; `--www` answers one
//! HTTP/1.0 request with a page describing the session, like `s_server -www`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::ValueEnum;
use polytls::tokio_io::DynTlsAcceptor;
use polytls::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Context, Result};
use crate::net::io_to_cli;
use crate::tls::{describe, ClientAuthMode, TlsOpts};
use crate::values::{Count, HandshakeTimeout};

/// What the server does with a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ServeMode {
    /// Send every byte back, then close_notify after the client's.
    #[default]
    Echo,
    /// Answer one HTTP/1.0 request with the session's description.
    Www,
}

/// `polytls serve` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4433")]
    pub listen: String,
    /// What to do with each connection.
    #[arg(long, value_enum, default_value_t = ServeMode::Echo)]
    pub mode: ServeMode,
    /// Client certificates: default `required` when --ca is given, else `none`.
    #[arg(long, value_enum)]
    pub client_auth: Option<ClientAuthMode>,
    /// Give up on a handshake after this many seconds (0.001 to 86400).
    #[arg(long, default_value = "10")]
    pub handshake_timeout: HandshakeTimeout,
    /// Stop after serving this many connections (default: serve forever).
    #[arg(long)]
    pub max_accepts: Option<Count<1, { u64::MAX >> 1 }>>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls: TlsOpts,
}

/// Runs `polytls serve`; prints `listening on <addr>` to stdout once bound.
pub async fn run(args: ServeArgs) -> Result<()> {
    let backend = args.tls.backend()?;
    let auth = args.client_auth.unwrap_or(if args.tls.ca.is_some() {
        ClientAuthMode::Required
    } else {
        ClientAuthMode::None
    });
    let context = backend
        .server_context(&args.tls.server_config(auth, &[])?)
        .context("building the server context")?;
    let listener = crate::net::bind_listener(&args.listen)
        .await
        .context(format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("reading the local address")?;
    println!("listening on {addr}");
    tracing::info!(%addr, backend = backend.name(), mode = ?args.mode, "listening");
    let acceptor = Arc::new(DynTlsAcceptor::new(context));
    let timeout = args.handshake_timeout.get();
    let ids = AtomicU64::new(0);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        if args
            .max_accepts
            .is_some_and(|m| ids.load(Ordering::Relaxed) >= m.get())
        {
            break;
        }
        let (tcp, peer) = listener.accept().await.context("accepting")?;
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let acceptor = acceptor.clone();
        let name = backend.name();
        let mode = args.mode;
        tasks.spawn(async move {
            if let Err(e) = serve_one(&acceptor, tcp, timeout, mode, name).await {
                tracing::warn!(conn = id, %peer, error = %e, "connection failed");
            } else {
                tracing::info!(conn = id, %peer, "connection closed");
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn serve_one(
    acceptor: &DynTlsAcceptor,
    tcp: TcpStream,
    timeout: std::time::Duration,
    mode: ServeMode,
    backend: &str,
) -> Result<()> {
    let peer: Option<SocketAddr> = tcp.peer_addr().ok();
    let mut tls = tokio::time::timeout(timeout, acceptor.accept(tcp))
        .await
        .map_err(|_| crate::CliError::Config("handshake timed out".into()))?
        .map_err(|e| io_to_cli("TLS handshake", e))?;
    let info = tls.get_ref().1.info();
    tracing::info!(
        ?peer,
        version = ?info.version.map(|v| v.name()),
        suite = ?info.cipher_suite.map(|s| s.iana_name()),
        sni = ?info.sni,
        "handshake done"
    );
    match mode {
        ServeMode::Echo => {
            let (mut r, mut w) = tokio::io::split(tls);
            tokio::io::copy(&mut r, &mut w)
                .await
                .map_err(|e| io_to_cli("echo", e))?;
            w.shutdown().await.map_err(|e| io_to_cli("closing", e))?;
        }
        ServeMode::Www => {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                let n = tls
                    .read(&mut buf)
                    .await
                    .map_err(|e| io_to_cli("reading the request", e))?;
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let body = describe(&info, backend);
            let response = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(response.as_bytes())
                .await
                .map_err(|e| io_to_cli("answering", e))?;
            tls.shutdown().await.map_err(|e| io_to_cli("closing", e))?;
        }
    }
    Ok(())
}
