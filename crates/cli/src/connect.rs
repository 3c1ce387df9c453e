//! `polytls connect`: an `s_client`-like client. Prints the negotiated
//! session to stderr, then pipes stdin to the server and the server's data to
//! stdout. It ends when the server closes; stdin's EOF sends close_notify.
//! A server that closes without close_notify is an error (exit status 1):
//! the output may have been truncated.

use polytls::tokio_io::TlsConnector;
use polytls::Backend;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;

use crate::error::{CliError, Context, Result};
use crate::net::{host_of, io_to_cli};
use crate::tls::{describe, TlsOpts};
use crate::values::HandshakeTimeout;

/// `polytls connect` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ConnectArgs {
    /// Server address, host:port.
    pub addr: String,
    /// Name to send as SNI and to verify the certificate against (default:
    /// the host part of the address).
    #[arg(long)]
    pub server_name: Option<String>,
    /// Close right after the handshake instead of piping stdin/stdout.
    #[arg(long)]
    pub quit: bool,
    /// Give up if the connection and handshake take longer (seconds, 0.001
    /// to 86400).
    #[arg(long, default_value = "10")]
    pub timeout: HandshakeTimeout,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls: TlsOpts,
}

/// Runs `polytls connect`.
pub async fn run(args: ConnectArgs) -> Result<()> {
    let backend = args.tls.backend()?;
    let context = backend
        .client_context(&args.tls.client_config()?)
        .context("building the client context")?;
    let name = match &args.server_name {
        Some(n) => n.clone(),
        None => host_of(&args.addr)?,
    };
    polytls::check_server_name(&name).context("--server-name")?;
    let connector = TlsConnector::new(context);
    let handshake = async {
        let tcp = TcpStream::connect(&args.addr)
            .await
            .context(format!("connecting to {}", args.addr))?;
        connector
            .connect(&name, tcp)
            .await
            .map_err(|e| io_to_cli("TLS handshake", e))
    };
    let mut stream = tokio::time::timeout(args.timeout.get(), handshake)
        .await
        .map_err(|_| CliError::Timeout(format!("handshake timed out after {}s", args.timeout)))??;
    eprint!("{}", describe(&stream.get_ref().1.info(), backend.name()));
    if args.quit {
        stream
            .shutdown()
            .await
            .map_err(|e| io_to_cli("closing", e))?;
        return Ok(());
    }
    let (mut r, mut w) = tokio::io::split(stream);
    let up = async {
        let mut stdin = tokio::io::stdin();
        tokio::io::copy(&mut stdin, &mut w)
            .await
            .map_err(|e| io_to_cli("sending", e))?;
        w.shutdown().await.map_err(|e| io_to_cli("closing", e))?;
        std::future::pending::<Result<()>>().await
    };
    let down = async {
        let mut out = BufWriter::new(tokio::io::stdout());
        tokio::io::copy(&mut r, &mut out)
            .await
            .map_err(|e| io_to_cli("receiving", e))?;
        out.flush().await.context("writing stdout")
    };
    tokio::select! {
        r = down => r,
        r = up => r,
    }
}
