//! TLS settings shared by `serve`, `connect` and `tunnel`, and how they become
//! polytls configurations.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;
use polytls::keylog::KeyLogFile;
use polytls::{
    CipherSuite, ClientAuth, ClientConfig, Common, DynBackend, Identity, NamedGroup,
    ProtocolVersion, Revocation, RevocationScope, Roots, ServerConfig, SessionInfo, SpkiPin,
};
use serde::Deserialize;

use crate::error::{CliError, Context, Result};

/// Protocol settings; every field may come from a flag or a TOML key of the
/// same name (with `-` as `_`).
#[derive(clap::Args, Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsOpts {
    /// Backend: rustls, openssl, boring or aws-lc (default: $POLYTLS_BACKEND, else rustls).
    #[arg(long)]
    pub backend: Option<String>,
    /// Lowest protocol version: 1.2 or 1.3 (default 1.2).
    #[arg(long)]
    pub min_version: Option<String>,
    /// Highest protocol version: 1.2 or 1.3 (default 1.3).
    #[arg(long)]
    pub max_version: Option<String>,
    /// Cipher suites by IANA name, in preference order (comma-separated).
    #[arg(long = "cipher", value_delimiter = ',')]
    #[serde(default)]
    pub ciphers: Vec<String>,
    /// Key-exchange groups by name (x25519, secp256r1, ...), comma-separated.
    #[arg(long = "group", value_delimiter = ',')]
    #[serde(default)]
    pub groups: Vec<String>,
    /// ALPN protocols, in preference order (comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub alpn: Vec<String>,
    /// Certificate chain (PEM, leaf first): the server's identity, or the
    /// client's for mutual TLS.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of `--cert`.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// CA certificates (PEM): a client verifies the server with them (default:
    /// the platform's roots); a server verifies client certificates with them.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// SPKI pins (sha256//BASE64 or 64 hex digits): the peer's chain must hold
    /// a certificate with one of these keys.
    #[arg(long = "pin")]
    #[serde(default)]
    pub pins: Vec<String>,
    /// Certificate revocation lists (PEM or DER; comma-separated or
    /// repeated): a server checks client certificates against them, a
    /// client the server's chain. Every CA in scope needs its CRL (a
    /// certificate whose issuer has none is refused), and a CRL past its
    /// next update refuses the certificates it covers. Reloaded like the
    /// certificates.
    #[arg(long = "crl", value_delimiter = ',')]
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// What the CRLs cover: `chain` (the leaf and intermediates, default)
    /// or `leaf`.
    #[arg(long, value_enum)]
    pub crl_scope: Option<CrlScope>,
    /// Append TLS secrets to this file (NSS key log format) for Wireshark.
    #[arg(long)]
    pub keylog: Option<PathBuf>,
    /// Server: session ticket keys shared with other servers (a text file,
    /// one base64 80-byte key per line, the first encrypts; see
    /// `polytls::TicketKeys`), so a fleet resumes each other's sessions.
    /// Reloaded like the certificates.
    #[arg(long)]
    pub ticket_keys: Option<PathBuf>,
    /// Server: accept a ticket-key file that group or others can read (by
    /// default refused, as ssh refuses such private keys: whoever reads the
    /// keys can decrypt every session resumed under them).
    #[arg(long)]
    #[serde(default)]
    pub allow_readable_ticket_keys: bool,
}

/// What CRLs cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrlScope {
    /// The leaf and every intermediate.
    Chain,
    /// The leaf only.
    Leaf,
}

/// Whether a server asks clients for certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuthMode {
    /// No client certificates.
    None,
    /// Asked for; verified if sent.
    Optional,
    /// Required and verified (mutual TLS).
    Required,
}

impl TlsOpts {
    /// Paths are taken relative to `base` (the config file's directory).
    pub fn rebase(&mut self, base: &Path) {
        for p in [
            &mut self.cert,
            &mut self.key,
            &mut self.ca,
            &mut self.keylog,
            &mut self.ticket_keys,
        ]
        .into_iter()
        .flatten()
        .chain(self.crls.iter_mut())
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The backend these settings name, or the default one.
    pub fn backend(&self) -> Result<DynBackend> {
        match &self.backend {
            Some(name) => polytls::backend_by_name(name),
            None => polytls::default_backend(),
        }
        .context("choosing the backend")
    }

    /// The parsed SPKI pins.
    pub fn parsed_pins(&self) -> Result<Vec<SpkiPin>> {
        self.pins
            .iter()
            .map(|p| SpkiPin::parse(p).context("reading a pin"))
            .collect()
    }

    /// The CRLs of `--crl`, with `--crl-scope`.
    pub fn revocation(&self) -> Result<Revocation> {
        if self.crls.is_empty() {
            if self.crl_scope.is_some() {
                return Err(CliError::Config("--crl-scope needs --crl".into()));
            }
            return Ok(Revocation::default());
        }
        let mut r = Revocation::from_files(&self.crls).context("loading CRLs")?;
        r.scope = match self.crl_scope {
            Some(CrlScope::Leaf) => RevocationScope::EndEntity,
            Some(CrlScope::Chain) | None => RevocationScope::Chain,
        };
        Ok(r)
    }

    fn common(&self) -> Result<Common> {
        let mut c = Common::default();
        if let Some(v) = &self.min_version {
            c.min_version = v.parse::<ProtocolVersion>().context("--min-version")?;
        }
        if let Some(v) = &self.max_version {
            c.max_version = v.parse::<ProtocolVersion>().context("--max-version")?;
        }
        if !self.ciphers.is_empty() {
            let suites = self.ciphers.iter().map(|s| s.parse::<CipherSuite>());
            let suites: polytls::Result<Vec<_>> = suites.collect();
            c.cipher_suites = Some(suites.context("--cipher")?);
        }
        if !self.groups.is_empty() {
            let groups = self.groups.iter().map(|s| s.parse::<NamedGroup>());
            let groups: polytls::Result<Vec<_>> = groups.collect();
            c.groups = Some(groups.context("--group")?);
        }
        c.alpn = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        if let Some(path) = &self.keylog {
            let file = KeyLogFile::open(path).context(format!("opening {}", path.display()))?;
            c.key_log = Some(Arc::new(file));
        }
        Ok(c)
    }

    /// The identity of `--cert` / `--key`, if given (both or neither).
    pub fn identity(&self) -> Result<Option<Identity>> {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => load_identity(cert, key).map(Some),
            (None, None) => Ok(None),
            _ => Err(CliError::Config(
                "--cert and --key must be given together".into(),
            )),
        }
    }

    /// A server configuration. `client_auth` decides whether `--ca` verifies
    /// client certificates; `Required` without `--ca` is an error.
    pub fn server_config(
        &self,
        client_auth: ClientAuthMode,
        sni: &[(String, PathBuf, PathBuf)],
    ) -> Result<ServerConfig> {
        let identity = self
            .identity()?
            .ok_or_else(|| CliError::Config("a server needs --cert and --key".into()))?;
        let mut config = ServerConfig::new(identity);
        let roots = self.ca.as_deref().map(load_roots).transpose()?;
        config.client_auth = match (client_auth, roots) {
            (ClientAuthMode::None, _) => ClientAuth::None,
            (ClientAuthMode::Optional, Some(r)) => ClientAuth::Optional(r),
            (ClientAuthMode::Required, Some(r)) => ClientAuth::Required(r),
            (mode, None) => {
                return Err(CliError::Config(format!(
                    "client authentication {mode:?} needs --ca (the CA that signs client \
                     certificates); use client auth `none` to accept anyone"
                )))
            }
        };
        if !self.crls.is_empty() && client_auth == ClientAuthMode::None {
            return Err(CliError::Config(
                "--crl on a server checks client certificates: it needs client auth \
                 `optional` or `required`"
                    .into(),
            ));
        }
        config.client_revocation = self.revocation()?;
        for (name, cert, key) in sni {
            config
                .sni_identities
                .push((name.clone(), load_identity(cert, key)?));
        }
        if let Some(path) = &self.ticket_keys {
            if !self.allow_readable_ticket_keys {
                private_file(path)?;
            }
            config.resumption.ticket_keys =
                Some(polytls::TicketKeys::from_file(path).context("ticket keys")?);
        }
        config.common = self.common()?;
        config
            .validate()
            .context("checking the server configuration")?;
        Ok(config)
    }

    /// A client configuration: roots from `--ca` or the platform, optional
    /// client identity, pins.
    pub fn client_config(&self) -> Result<ClientConfig> {
        if self.ticket_keys.is_some() {
            return Err(CliError::Config("--ticket-keys is for servers".into()));
        }
        let roots = match &self.ca {
            Some(path) => load_roots(path)?,
            None => Roots::platform().context("loading the platform's trust store")?,
        };
        let mut config = ClientConfig::new(roots);
        config.identity = self.identity()?;
        config.pins = self.parsed_pins()?;
        config.revocation = self.revocation()?;
        config.common = self.common()?;
        config
            .validate()
            .context("checking the client configuration")?;
        Ok(config)
    }

    /// Every file these settings read (for change detection).
    pub fn files(&self) -> Vec<PathBuf> {
        [&self.cert, &self.key, &self.ca, &self.ticket_keys]
            .into_iter()
            .flatten()
            .chain(&self.crls)
            .cloned()
            .collect()
    }
}

/// Loads a PEM chain and key, naming the files in errors.
pub fn load_identity(cert: &Path, key: &Path) -> Result<Identity> {
    Identity::from_pem_files(cert, key).context(format!(
        "loading identity {} / {}",
        cert.display(),
        key.display()
    ))
}

/// Loads PEM CA certificates, naming the file in errors.
pub fn load_roots(path: &Path) -> Result<Roots> {
    let pem = std::fs::read(path).context(format!("reading {}", path.display()))?;
    let roots = Roots::from_pem(&pem).context(format!("reading {}", path.display()))?;
    if roots.is_empty() {
        return Err(CliError::Config(format!(
            "{}: no CERTIFICATE found",
            path.display()
        )));
    }
    Ok(roots)
}

/// The subject of a DER certificate, RFC 4514 style; `?` if unparsable.
pub fn subject(der: &[u8]) -> String {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| escaped_name(c.subject()))
        .unwrap_or_else(|_| "?".into())
}

/// Refuses a secret file that group or others may read (its mode says so).
fn private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| CliError::Config(format!("ticket keys: cannot read {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CliError::Config(format!(
            "ticket keys: {} has mode {:04o}: group or others can read it; \
             chmod 600 it (or pass --allow-readable-ticket-keys)",
            path.display(),
            mode & 0o7777
        )));
    }
    Ok(())
}

/// A distinguished name as RFC 4514 text with every value escaped (`,`,
/// `+`, `"`, `\`, `<`, `>`, `;`, `=`, a leading `#` or space, a trailing
/// space, control characters), so a value such as `alice, CN=admin` shows
/// as one name and cannot pose as two in a log.
pub fn escaped_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    use x509_parser::objects::{oid2abbrev, oid_registry};
    let mut parts = Vec::new();
    for rdn in name.iter_rdn() {
        let attrs: Vec<String> = rdn
            .iter()
            .map(|a| {
                let kind = oid2abbrev(a.attr_type(), oid_registry())
                    .map_or_else(|_| a.attr_type().to_id_string(), str::to_owned);
                let value = match a.as_str() {
                    Ok(v) => escape_value(v),
                    Err(_) => format!(
                        "#{}",
                        a.attr_value()
                            .data
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                    ),
                };
                format!("{kind}={value}")
            })
            .collect();
        parts.push(attrs.join("+"));
    }
    parts.join(", ")
}

fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A multi-line description of a session, as `connect` prints it.
pub fn describe(info: &SessionInfo, backend: &str) -> String {
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    let mut s = format!(
        "backend:  {backend}\nversion:  {}\nsuite:    {}\ngroup:    {}\nalpn:     {}\nsni:      {}\nresumed:  {}\n",
        opt(info.version.map(|v| v.to_string())),
        opt(info.cipher_suite.map(|v| v.to_string())),
        opt(info.group.map(|v| v.to_string())),
        opt(info.alpn.as_ref().map(|a| String::from_utf8_lossy(a).into_owned())),
        opt(info.sni.clone()),
        info.resumed,
    );
    if info.peer_chain.is_empty() {
        s.push_str("peer:     (no certificate)\n");
    }
    for (i, cert) in info.peer_chain.iter().enumerate() {
        let pin = SpkiPin::of_certificate(cert)
            .map(|p| p.to_string())
            .unwrap_or_default();
        s.push_str(&format!("peer[{i}]:  {}  {pin}\n", subject(cert.as_ref())));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::escape_value;

    #[test]
    fn one_value_cannot_pose_as_two_names() {
        assert_eq!(escape_value("alice"), "alice");
        assert_eq!(escape_value("alice, CN=admin"), "alice\\, CN\\=admin");
        assert_eq!(escape_value("a+b\"c\\d"), "a\\+b\\\"c\\\\d");
        assert_eq!(escape_value(" #x "), "\\ #x\\ ");
        assert_eq!(escape_value("#x"), "\\#x");
        assert_eq!(escape_value("a\nb"), "a\\0ab");
    }
}
