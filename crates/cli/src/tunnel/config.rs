//! Tunnel configuration: a TOML file with one `[[tunnel]]` table per tunnel,
//! or the same settings as flags for a single tunnel.
//!
//! ```toml
//! drain_timeout = 30          # seconds to let open connections finish on SIGTERM
//!
//! [[tunnel]]
//! name = "redis"
//! mode = "server"             # TLS in, plaintext out
//! listen = "0.0.0.0:6380"
//! target = "127.0.0.1:6379"
//! [tunnel.tls]                # the same keys as the TLS flags
//! cert = "server.pem"
//! key = "server-key.pem"
//! ca = "ca.pem"               # clients must present a certificate from this CA
//! ```
//!
//! Unknown keys are errors; paths are relative to the file's directory.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Deserialize;

use crate::error::{CliError, Context, Result};
use crate::tls::{ClientAuthMode, TlsOpts};

/// Which side of the tunnel speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Accepts TLS, forwards plaintext to the target (in front of a service).
    Server,
    /// Accepts plaintext, forwards over TLS to the target (next to a client).
    Client,
}

/// A whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Seconds open connections may take to finish after SIGTERM.
    #[serde(default = "default_drain")]
    pub drain_timeout: f64,
    /// Seconds between checks of certificate files for changes (0 = only on SIGHUP).
    #[serde(default = "default_reload")]
    pub reload_interval: f64,
    /// The tunnels.
    #[serde(rename = "tunnel", default)]
    pub tunnels: Vec<TunnelSpec>,
}

/// One tunnel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelSpec {
    /// Name used in logs (default: the listen address).
    #[serde(default)]
    pub name: String,
    /// Server or client mode.
    pub mode: Mode,
    /// Address to accept connections on.
    pub listen: String,
    /// Where connections go: the plaintext service (server mode) or the TLS
    /// server (client mode). In server mode, SNI routes may replace it.
    #[serde(default)]
    pub target: Option<String>,
    /// Client mode: the name sent as SNI and verified in the server's
    /// certificate (default: the target's host).
    #[serde(default)]
    pub server_name: Option<String>,
    /// Server mode: client certificates (default `required`: mutual TLS).
    #[serde(default)]
    pub client_auth: Option<ClientAuthMode>,
    /// Seconds a client has to complete the TLS handshake (and the target to
    /// accept).
    #[serde(default = "default_handshake")]
    pub handshake_timeout: f64,
    /// Seconds without traffic in either direction before a connection is closed.
    #[serde(default = "default_idle")]
    pub idle_timeout: f64,
    /// Connections open at once; further clients wait in the listen backlog.
    #[serde(default = "default_max_conns")]
    pub max_connections: usize,
    /// Bytes buffered per direction per connection (backpressure bound).
    #[serde(default = "default_buffer")]
    pub buffer_size: usize,
    /// Server mode: targets (and optionally identities) chosen by SNI.
    #[serde(rename = "route", default)]
    pub routes: Vec<Route>,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsOpts,
}

/// A server-mode route: clients asking for `sni` go to `target`, and are
/// shown `cert`/`key` if given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The SNI host name (exact, case-insensitive).
    pub sni: String,
    /// The plaintext target for this name.
    pub target: String,
    /// Certificate chain shown for this name (default: the tunnel's).
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// Its key.
    #[serde(default)]
    pub key: Option<PathBuf>,
}

fn default_drain() -> f64 {
    30.0
}
fn default_reload() -> f64 {
    2.0
}
fn default_handshake() -> f64 {
    10.0
}
fn default_idle() -> f64 {
    300.0
}
fn default_max_conns() -> usize {
    1024
}
fn default_buffer() -> usize {
    16 * 1024
}

/// `polytls tunnel` arguments: `--config FILE`, or one tunnel as flags.
#[derive(clap::Args, Debug, Clone)]
pub struct TunnelArgs {
    /// TOML file with one or more `[[tunnel]]` tables.
    #[arg(long, conflicts_with_all = ["mode", "listen", "target"])]
    pub config: Option<PathBuf>,
    /// server: TLS in, plaintext out; client: plaintext in, TLS out.
    #[arg(long, value_enum, required_unless_present = "config")]
    pub mode: Option<Mode>,
    /// Address to accept on.
    #[arg(long, required_unless_present = "config")]
    pub listen: Option<String>,
    /// Where to forward.
    #[arg(long)]
    pub target: Option<String>,
    /// Name for the logs.
    #[arg(long)]
    pub name: Option<String>,
    /// Client mode: SNI and verified name (default: the target's host).
    #[arg(long)]
    pub server_name: Option<String>,
    /// Server mode: client certificates (default: required).
    #[arg(long, value_enum)]
    pub client_auth: Option<ClientAuthMode>,
    /// Server mode: `SNI=HOST:PORT` routes (repeatable).
    #[arg(long = "route")]
    pub routes: Vec<String>,
    /// Seconds to complete a handshake.
    #[arg(long, default_value_t = default_handshake())]
    pub handshake_timeout: f64,
    /// Seconds of silence before a connection is closed.
    #[arg(long, default_value_t = default_idle())]
    pub idle_timeout: f64,
    /// Connections open at once.
    #[arg(long, default_value_t = default_max_conns())]
    pub max_connections: usize,
    /// Bytes buffered per direction per connection.
    #[arg(long, default_value_t = default_buffer())]
    pub buffer_size: usize,
    /// Seconds open connections may take to finish after SIGTERM.
    #[arg(long, default_value_t = default_drain())]
    pub drain_timeout: f64,
    /// Seconds between certificate file checks (0 = only on SIGHUP).
    #[arg(long, default_value_t = default_reload())]
    pub reload_interval: f64,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls: TlsOpts,
}

impl TunnelArgs {
    /// The configuration these arguments describe, checked.
    pub fn load(&self) -> Result<FileConfig> {
        let config = match &self.config {
            Some(path) => load_file(path)?,
            None => self.flags_config()?,
        };
        config.check()?;
        Ok(config)
    }

    fn flags_config(&self) -> Result<FileConfig> {
        let routes = self
            .routes
            .iter()
            .map(|r| match r.split_once('=') {
                Some((sni, target)) if !sni.is_empty() && !target.is_empty() => Ok(Route {
                    sni: sni.into(),
                    target: target.into(),
                    cert: None,
                    key: None,
                }),
                _ => Err(CliError::Config(format!(
                    "--route {r:?}: want SNI=HOST:PORT"
                ))),
            })
            .collect::<Result<_>>()?;
        let (Some(mode), Some(listen)) = (self.mode, self.listen.clone()) else {
            return Err(CliError::Config(
                "give --config FILE, or --mode and --listen".into(),
            ));
        };
        Ok(FileConfig {
            drain_timeout: self.drain_timeout,
            reload_interval: self.reload_interval,
            tunnels: vec![TunnelSpec {
                name: self.name.clone().unwrap_or_default(),
                mode,
                listen,
                target: self.target.clone(),
                server_name: self.server_name.clone(),
                client_auth: self.client_auth,
                handshake_timeout: self.handshake_timeout,
                idle_timeout: self.idle_timeout,
                max_connections: self.max_connections,
                buffer_size: self.buffer_size,
                routes,
                tls: self.tls.clone(),
            }],
        })
    }
}

/// Reads and parses a TOML file; paths inside are made relative to its directory.
pub fn load_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).context(format!("reading {}", path.display()))?;
    let mut config: FileConfig =
        toml::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for t in &mut config.tunnels {
        t.tls.rebase(base);
        for r in &mut t.routes {
            for p in [&mut r.cert, &mut r.key].into_iter().flatten() {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
    }
    Ok(config)
}

impl FileConfig {
    /// Checks what can be checked without touching files or the network.
    pub fn check(&self) -> Result<()> {
        if self.tunnels.is_empty() {
            return Err(CliError::Config("no [[tunnel]] configured".into()));
        }
        for (what, v) in [
            ("drain_timeout", self.drain_timeout),
            ("reload_interval", self.reload_interval),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(CliError::Config(format!("{what} must be >= 0")));
            }
        }
        let mut names = std::collections::HashSet::new();
        for t in &self.tunnels {
            let name = t.display_name();
            if !names.insert(name.clone()) {
                return Err(CliError::Config(format!("two tunnels are named {name:?}")));
            }
            t.check()
                .map_err(|e| CliError::Config(format!("tunnel {name:?}: {e}")))?;
        }
        Ok(())
    }
}

impl TunnelSpec {
    /// The name in logs.
    pub fn display_name(&self) -> String {
        if self.name.is_empty() {
            self.listen.clone()
        } else {
            self.name.clone()
        }
    }

    fn check(&self) -> Result<()> {
        for (what, v) in [
            ("handshake_timeout", self.handshake_timeout),
            ("idle_timeout", self.idle_timeout),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(CliError::Config(format!("{what} must be > 0")));
            }
        }
        if self.max_connections == 0 {
            return Err(CliError::Config("max_connections must be > 0".into()));
        }
        if !(512..=16 << 20).contains(&self.buffer_size) {
            return Err(CliError::Config(
                "buffer_size must be between 512 bytes and 16 MiB".into(),
            ));
        }
        match self.mode {
            Mode::Server => {
                if self.target.is_none() && self.routes.is_empty() {
                    return Err(CliError::Config(
                        "server mode needs a target or routes".into(),
                    ));
                }
                if self.server_name.is_some() {
                    return Err(CliError::Config(
                        "server_name is for client mode (server mode routes by SNI)".into(),
                    ));
                }
                for r in &self.routes {
                    if r.cert.is_some() != r.key.is_some() {
                        return Err(CliError::Config(format!(
                            "route {:?}: cert and key go together",
                            r.sni
                        )));
                    }
                }
            }
            Mode::Client => {
                if self.target.is_none() {
                    return Err(CliError::Config("client mode needs a target".into()));
                }
                if !self.routes.is_empty() || self.client_auth.is_some() {
                    return Err(CliError::Config(
                        "routes and client_auth are for server mode".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every file the tunnel reads, for change detection.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut v = self.tls.files();
        for r in &self.routes {
            v.extend(r.cert.iter().chain(r.key.iter()).cloned());
        }
        v
    }
}
