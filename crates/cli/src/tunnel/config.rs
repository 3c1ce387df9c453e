//! Tunnel configuration: a TOML file with one `[[tunnel]]` table per tunnel,
//! or the same settings as flags for a single tunnel.
//!
//! ```toml
//! drain_timeout = 30          # seconds to let open connections finish on SIGTERM
//! reload_interval = 2         # seconds between checks of the files (0: SIGHUP only)
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
//! crls = ["crl.pem"]          # ... that it has not revoked
//! [tunnel.allow]              # ... and that names one of these (any matches)
//! uri_prefix = ["spiffe://example.org/app/"]
//! ```
//!
//! Every key of a `[[tunnel]]` table is a flag of `polytls tunnel` (with `-`
//! for `_`), parsed by the same type ([`TunnelSettings`]), with the same
//! default and range. Unknown keys are errors; paths are relative to the
//! file's directory.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::ValueEnum;
use serde::Deserialize;

use super::access::AllowRules;
use super::proxy_header::{self, ProxyVersion};
use crate::error::{CliError, Result};
use crate::tls::{ClientAuthMode, TlsOpts};
use crate::values::{Count, DrainTimeout, HandshakeTimeout, IdleTimeout, Interval};

/// Which side of the tunnel speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Accepts TLS, forwards plaintext to the target (in front of a service).
    Server,
    /// Accepts plaintext, forwards over TLS to the target (next to a client).
    Client,
}

/// Connections open at once per tunnel.
pub type MaxConnections = Count<1, 1_000_000>;
/// Handshakes in flight at once per tunnel.
pub type MaxHandshakes = Count<1, 1_000_000>;
/// Handshakes in flight at once from one source address (0: no limit).
pub type HandshakesPerSource = Count<0, 1_000_000>;
/// Bytes buffered per direction per connection.
pub type BufferSize = Count<512, { 16 << 20 }>;

/// One tunnel's settings: the same type is read from flags (`polytls tunnel
/// --mode ...`) and from each `[[tunnel]]` table of a TOML file, so every
/// setting is declared once, with one default and one range.
#[derive(clap::Args, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelSettings {
    /// Name used in logs (default: the listen address).
    #[arg(long)]
    #[serde(default)]
    pub name: Option<String>,
    /// server: TLS in, plaintext out; client: plaintext in, TLS out.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Address to accept connections on.
    #[arg(long)]
    #[serde(default)]
    pub listen: Option<String>,
    /// Where connections go: the plaintext service (server mode) or the TLS
    /// server (client mode). In server mode, SNI routes may replace it.
    #[arg(long)]
    #[serde(default)]
    pub target: Option<String>,
    /// Client mode: the name sent as SNI and verified in the server's
    /// certificate (default: the target's host).
    #[arg(long)]
    #[serde(default)]
    pub server_name: Option<String>,
    /// Server mode: client certificates (default `required`: mutual TLS).
    #[arg(long, value_enum)]
    #[serde(default)]
    pub client_auth: Option<ClientAuthMode>,
    /// Server mode: targets (and optionally identities) chosen by SNI; as a
    /// flag `SNI=HOST:PORT` (repeatable), in TOML `[[tunnel.route]]` tables.
    #[arg(long = "route")]
    #[serde(rename = "route", default)]
    pub routes: Vec<Route>,
    /// Seconds a client has from the TCP accept to the end of its TLS
    /// handshake, a PROXY header included (and the target to accept): 0.001
    /// to 86400. One deadline, never restarted.
    #[arg(long, default_value = "10")]
    #[serde(default = "default_handshake")]
    pub handshake_timeout: HandshakeTimeout,
    /// Seconds without traffic in either direction before a connection is
    /// closed: 0.001 to 604800.
    #[arg(long, default_value = "300")]
    #[serde(default = "default_idle")]
    pub idle_timeout: IdleTimeout,
    /// Established connections open at once (1 to 1,000,000). A slot is
    /// taken only once the handshake is done, so clients that never finish
    /// theirs cannot hold one; past the limit, new clients are refused
    /// (`max_connections`).
    #[arg(long, default_value = "1024")]
    #[serde(default = "default_max_conns")]
    pub max_connections: MaxConnections,
    /// Handshakes in flight at once (1 to 1,000,000), counted apart from
    /// established connections; further clients wait in the listen backlog.
    #[arg(long, default_value = "256")]
    #[serde(default = "default_max_handshakes")]
    pub max_handshakes: MaxHandshakes,
    /// Handshakes in flight at once from one source address (0 to
    /// 1,000,000; 0 turns the limit off); more from that address are
    /// refused at once (`per_source_limit`). Connections from
    /// `accept_proxy_from` balancers are not counted by the balancer's
    /// address.
    #[arg(long, default_value = "32")]
    #[serde(default = "default_per_source")]
    pub max_handshakes_per_source: HandshakesPerSource,
    /// Bytes buffered per direction per connection (512 to 16 MiB).
    #[arg(long, default_value = "16384")]
    #[serde(default = "default_buffer")]
    pub buffer_size: BufferSize,
    /// Server mode: who may connect beyond "signed by the CA" (in TOML, a
    /// `[tunnel.allow]` table; see `polytls_cli::tunnel::access`).
    #[command(flatten)]
    #[serde(default)]
    pub allow: AllowRules,
    /// Balancers in front of the tunnel, by address or network
    /// (comma-separated or repeated): each must begin its connections with
    /// a PROXY protocol header (v1 or v2), whose client address then stands
    /// for the connection's. Connections from anywhere else are refused.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub accept_proxy_from: Vec<String>,
    /// Server mode: begin each connection to the target with a PROXY
    /// protocol header (`v1` or `v2`) carrying the client's address.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub send_proxy: Option<ProxyVersion>,
    /// TLS settings (in TOML, a `[tunnel.tls]` table).
    #[command(flatten)]
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
    /// Who may use this route; when set, replaces the tunnel's rules for it.
    #[serde(default)]
    pub allow: AllowRules,
}

impl FromStr for Route {
    type Err = String;

    /// The flag form, `SNI=HOST:PORT`.
    fn from_str(r: &str) -> std::result::Result<Self, String> {
        match r.split_once('=') {
            Some((sni, target)) if !sni.is_empty() && !target.is_empty() => Ok(Route {
                sni: sni.into(),
                target: target.into(),
                cert: None,
                key: None,
                allow: AllowRules::default(),
            }),
            _ => Err(format!("{r:?}: want SNI=HOST:PORT")),
        }
    }
}

fn default_handshake() -> HandshakeTimeout {
    const D: HandshakeTimeout = HandshakeTimeout::whole(10);
    D
}
fn default_idle() -> IdleTimeout {
    const D: IdleTimeout = IdleTimeout::whole(300);
    D
}
/// The machine's memory in bytes (`MemTotal` of /proc/meminfo), if known.
fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn default_max_conns() -> MaxConnections {
    const D: MaxConnections = MaxConnections::of(1024);
    D
}
fn default_max_handshakes() -> MaxHandshakes {
    const D: MaxHandshakes = MaxHandshakes::of(256);
    D
}
fn default_per_source() -> HandshakesPerSource {
    const D: HandshakesPerSource = HandshakesPerSource::of(32);
    D
}
fn default_buffer() -> BufferSize {
    const D: BufferSize = BufferSize::of(16 * 1024);
    D
}
fn default_drain() -> DrainTimeout {
    const D: DrainTimeout = DrainTimeout::whole(30);
    D
}
fn default_reload() -> Interval {
    const D: Interval = Interval::every(2);
    D
}

/// Settings of the whole process.
#[derive(clap::Args, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Globals {
    /// Seconds open connections may take to finish after SIGTERM (0 to
    /// 86400).
    #[arg(long, default_value = "30")]
    #[serde(default = "default_drain")]
    pub drain_timeout: DrainTimeout,
    /// Seconds between checks of certificate and key files for changes (0.1
    /// to 86400; 0 = only on SIGHUP).
    #[arg(long, default_value = "2")]
    #[serde(default = "default_reload")]
    pub reload_interval: Interval,
    /// Serve Prometheus metrics on `/metrics` and a health check on
    /// `/health` at this address (HTTP; default off).
    #[arg(long)]
    #[serde(default)]
    pub metrics_listen: Option<String>,
}

impl Default for Globals {
    fn default() -> Self {
        Self {
            drain_timeout: default_drain(),
            reload_interval: default_reload(),
            metrics_listen: None,
        }
    }
}

/// A whole configuration: the process settings and the tunnels.
#[derive(Debug, Clone)]
pub struct FileConfig {
    /// Settings of the whole process.
    pub globals: Globals,
    /// The tunnels.
    pub tunnels: Vec<TunnelSettings>,
}

/// `polytls tunnel` arguments: `--config FILE`, or one tunnel as flags.
#[derive(clap::Args, Debug, Clone)]
pub struct TunnelArgs {
    /// TOML file with one or more `[[tunnel]]` tables (format in the
    /// `polytls_cli::tunnel::config` docs).
    #[arg(long, conflicts_with_all = ["mode", "listen", "target"])]
    pub config: Option<PathBuf>,
    /// Check the configuration (files, keys, certificates) and exit: 0 if it
    /// is good, 2 if not.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub tunnel: TunnelSettings,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub globals: Globals,
}

impl TunnelArgs {
    /// The configuration these arguments describe, checked.
    pub fn load(&self) -> Result<FileConfig> {
        let config = match &self.config {
            Some(path) => load_file(path)?,
            None => FileConfig {
                globals: self.globals.clone(),
                tunnels: vec![self.tunnel.clone()],
            },
        };
        config.check()?;
        Ok(config)
    }
}

/// Reads and parses a TOML file; paths inside are made relative to its
/// directory. Unknown keys are errors.
pub fn load_file(path: &Path) -> Result<FileConfig> {
    // A missing or unreadable file is a bad configuration (exit code 2),
    // like every other file the configuration names.
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Config(format!("cannot read {}: {e}", path.display())))?;
    let bad = |e: &dyn std::fmt::Display| CliError::Config(format!("{}: {e}", path.display()));
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| bad(&e))?;
    let tunnels = table
        .remove("tunnel")
        .unwrap_or(toml::Value::Array(Vec::new()));
    let globals: Globals = table.try_into().map_err(|e| bad(&e))?;
    let mut tunnels: Vec<TunnelSettings> = tunnels
        .try_into()
        .map_err(|e| bad(&format!("[[tunnel]]: {e}")))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for t in &mut tunnels {
        t.tls.rebase(base);
        for r in &mut t.routes {
            for p in [&mut r.cert, &mut r.key].into_iter().flatten() {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
    }
    Ok(FileConfig { globals, tunnels })
}

impl FileConfig {
    /// Checks what can be checked without touching files or the network.
    pub fn check(&self) -> Result<()> {
        if self.tunnels.is_empty() {
            return Err(CliError::Config("no [[tunnel]] configured".into()));
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

impl TunnelSettings {
    /// The name in logs.
    pub fn display_name(&self) -> String {
        match (&self.name, &self.listen) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(l)) => l.clone(),
            _ => "-".into(),
        }
    }

    /// The mode (checked to be present).
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Server)
    }

    /// The listen address (checked to be present).
    pub fn listen(&self) -> &str {
        self.listen.as_deref().unwrap_or_default()
    }

    fn check(&self) -> Result<()> {
        let Some(mode) = self.mode else {
            return Err(CliError::Config(
                "mode is required (server or client); give --config FILE, or --mode and \
                 --listen"
                    .into(),
            ));
        };
        if self.listen.as_deref().is_none_or(str::is_empty) {
            return Err(CliError::Config("listen is required".into()));
        }
        proxy_header::parse_sources(&self.accept_proxy_from).map_err(CliError::Config)?;
        let rules = std::iter::once(("", &self.allow))
            .chain(self.routes.iter().map(|r| (r.sni.as_str(), &r.allow)));
        for (sni, allow) in rules {
            let at = |e: String| match sni {
                "" => CliError::Config(e),
                sni => CliError::Config(format!("route {sni:?}: {e}")),
            };
            allow.check().map_err(at)?;
            if !allow.is_empty() && mode == Mode::Client {
                return Err(CliError::Config(
                    "allow rules are for server mode (they check client certificates)".into(),
                ));
            }
            if !allow.is_empty()
                && self
                    .client_auth
                    .is_some_and(|a| a != ClientAuthMode::Required)
            {
                return Err(at(
                    "allow rules need client_auth = \"required\" (a client without a \
                     certificate has no name to allow)"
                        .into(),
                ));
            }
        }
        if mode == Mode::Client && self.send_proxy.is_some() {
            return Err(CliError::Config(
                "send_proxy is for server mode (the target is plaintext there)".into(),
            ));
        }
        match mode {
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
                let mut seen: Vec<String> = Vec::new();
                for r in &self.routes {
                    if r.sni.trim().is_empty() {
                        return Err(CliError::Config("a route has an empty sni".into()));
                    }
                    let folded = r.sni.to_ascii_lowercase();
                    if let Some(first) = seen.iter().find(|s| **s == folded) {
                        return Err(CliError::Config(format!(
                            "routes {first:?} and {:?} name the same SNI (SNI matching ignores \
                             case)",
                            r.sni
                        )));
                    }
                    seen.push(folded);
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
                if self.tls.ticket_keys.is_some() {
                    return Err(CliError::Config("ticket_keys are for server mode".into()));
                }
            }
        }
        self.check_memory(machine_memory())
    }

    /// Refuses limits whose buffers alone would need more memory than
    /// `memory` bytes (the machine's, when known): every connection and
    /// handshake in flight may hold `buffer_size` bytes each way.
    fn check_memory(&self, memory: Option<u64>) -> Result<()> {
        let Some(memory) = memory else {
            return Ok(());
        };
        let slots = self.max_connections.get() + self.max_handshakes.get();
        let need = slots
            .saturating_mul(2)
            .saturating_mul(self.buffer_size.get());
        if need > memory {
            return Err(CliError::Config(format!(
                "max_connections + max_handshakes ({slots}) × 2 × buffer_size ({}) is {} MiB of \
                 buffers, more than this machine's {} MiB of memory",
                self.buffer_size.get(),
                need >> 20,
                memory >> 20
            )));
        }
        if need > memory / 2 {
            tracing::warn!(
                tunnel = %self.display_name(),
                "buffers for max_connections + max_handshakes may take {} MiB, over half of \
                 this machine's {} MiB",
                need >> 20,
                memory >> 20
            );
        }
        Ok(())
    }

    /// The addresses the tunnel listens on and connects to, resolved now
    /// (`--check`): each must parse, and each name must resolve.
    pub fn resolve_addresses(&self) -> Result<()> {
        use std::net::ToSocketAddrs as _;
        let targets = self.target.iter().map(|t| ("target", t.as_str())).chain(
            self.routes
                .iter()
                .map(|r| ("route target", r.target.as_str())),
        );
        for (what, addr) in std::iter::once(("listen", self.listen())).chain(targets) {
            let resolved = addr
                .to_socket_addrs()
                .map_err(|e| CliError::Config(format!("{what} {addr:?}: {e}")))?;
            if resolved.count() == 0 {
                return Err(CliError::Config(format!(
                    "{what} {addr:?} resolves to no address"
                )));
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
