//! Key logging in the NSS `SSLKEYLOGFILE` format, for Wireshark and friends.
//! Off by default: set [`Common::key_log`](crate::config::Common::key_log).

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;

/// Receives key log lines such as `CLIENT_HANDSHAKE_TRAFFIC_SECRET <client
/// random hex> <secret hex>` (no trailing newline).
pub trait KeyLog: Send + Sync {
    /// Called once per secret, during the handshake.
    fn log_line(&self, line: &str);
}

/// Formats one key log line from its parts.
pub fn format_line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut s = String::with_capacity(label.len() + 2 + 2 * (client_random.len() + secret.len()));
    s.push_str(label);
    s.push(' ');
    for b in client_random {
        let _ = write!(s, "{b:02x}");
    }
    s.push(' ');
    for b in secret {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Appends lines to a file, like browsers do with `SSLKEYLOGFILE`.
#[derive(Debug)]
pub struct KeyLogFile {
    file: Mutex<File>,
}

impl KeyLogFile {
    /// Opens (creating or appending) the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }

    /// Opens the file named by the `SSLKEYLOGFILE` environment variable, if set.
    pub fn from_env() -> Option<std::io::Result<Self>> {
        std::env::var_os("SSLKEYLOGFILE").map(Self::open)
    }
}

impl KeyLog for KeyLogFile {
    fn log_line(&self, line: &str) {
        if let Ok(mut f) = self.file.lock() {
            // A key log is a debugging aid: a failed write must not fail the
            // connection.
            let _ = writeln!(f, "{line}");
        }
    }
}

/// Collects lines in memory (tests, diagnostics).
#[derive(Debug, Default)]
pub struct KeyLogLines {
    lines: Mutex<Vec<String>>,
}

impl KeyLogLines {
    /// The lines collected so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl KeyLog for KeyLogLines {
    fn log_line(&self, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_nss_lines() {
        assert_eq!(
            format_line("CLIENT_RANDOM", &[0, 0xab], &[0xff]),
            "CLIENT_RANDOM 00ab ff"
        );
    }
}
