//! The command line's shape (clap).

use clap::{Parser, Subcommand};

use crate::certs::CertsArgs;
use crate::connect::ConnectArgs;
use crate::logging::LogFormat;
use crate::serve::ServeArgs;
use crate::tunnel::TunnelArgs;

/// TLS on rustls, OpenSSL, BoringSSL or AWS-LC through one tool: dev certificates,
/// a test server and client, and a mutual-TLS tunnel.
#[derive(Parser, Debug)]
#[command(name = "polytls", version, propagate_version = true)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More logging (RUST_LOG overrides).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a development CA and issue server and client certificates.
    Certs(CertsArgs),
    /// Accept TLS connections and echo, or answer HTTP like `s_server -www`.
    Serve(ServeArgs),
    /// Connect, print the negotiated session, pipe stdin/stdout.
    Connect(ConnectArgs),
    /// Run TLS tunnels (stunnel-style) from flags or a TOML file.
    Tunnel(Box<TunnelArgs>),
}
