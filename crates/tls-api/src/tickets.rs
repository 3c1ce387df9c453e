//! Session ticket keys given by the application, so a fleet of servers (or
//! a server across restarts) resumes each other's sessions — what nginx's
//! `ssl_session_ticket_key` and HAProxy's `tls-ticket-keys` do.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use zeroize::{Zeroize, Zeroizing};

use crate::{ConfigErrorKind, Error, Result};

/// One ticket key: 80 bytes, as nginx and HAProxy use them — a 16-byte name
/// (sent in each ticket, to find the key again), a 32-byte HMAC-SHA256 key
/// and a 32-byte AES-256 key.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKey {
    /// The key name, sent in the clear in every ticket it encrypts.
    pub name: [u8; 16],
    /// The HMAC-SHA256 key.
    pub hmac: [u8; 32],
    /// The AES-256 key.
    pub aes: [u8; 32],
}

/// Key material is wiped from memory when a key is dropped.
impl Drop for TicketKey {
    fn drop(&mut self) {
        self.hmac.zeroize();
        self.aes.zeroize();
    }
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketKey")
            .field("name", &hex(&self.name))
            .finish_non_exhaustive()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The most keys a file may hold.
pub const MAX_TICKET_KEYS: usize = 16;

/// Ticket keys in rotation order: the first encrypts new tickets, every key
/// decrypts. Rotate by writing a new key at the top of the file and
/// reloading; drop the last one once tickets it encrypted have expired.
///
/// The file format is text: one key per line, 80 bytes in base64 (`openssl
/// rand 80 | base64 -w0`), with blank lines and `#` comments allowed.
///
/// Tickets are only readable by the backend that made them: servers sharing
/// keys resume each other's sessions when they run the same backend.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKeys {
    keys: Arc<[TicketKey]>,
}

impl fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys.iter()).finish()
    }
}

impl TicketKeys {
    /// Keys from a list, the encrypting key first.
    pub fn new(keys: Vec<TicketKey>) -> Result<Self> {
        if keys.is_empty() || keys.len() > MAX_TICKET_KEYS {
            return Err(Error::config(
                ConfigErrorKind::OutOfRange,
                format!(
                    "ticket keys: {} given; allowed: 1 to {MAX_TICKET_KEYS}",
                    keys.len()
                ),
            ));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.name == k.name) {
                return Err(Error::config(
                    ConfigErrorKind::Contradiction,
                    format!(
                        "ticket keys: key {} repeats the name of an earlier key",
                        i + 1
                    ),
                ));
            }
        }
        Ok(Self { keys: keys.into() })
    }

    /// Parses the text format (see the type's docs).
    pub fn parse(text: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(text).map_err(|_| {
            Error::config(ConfigErrorKind::Malformed, "ticket key file is not text")
        })?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| {
                Error::config(
                    ConfigErrorKind::Malformed,
                    format!("ticket key file, line {}: {why}", n + 1),
                )
            };
            let raw = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(line)
                    .map_err(|_| bad("not base64"))?,
            );
            if raw.len() != 80 {
                return Err(bad(&format!(
                    "a key is 80 bytes (name, HMAC and AES-256 keys), this one {}",
                    raw.len()
                )));
            }
            let mut k = TicketKey {
                name: [0; 16],
                hmac: [0; 32],
                aes: [0; 32],
            };
            k.name.copy_from_slice(&raw[..16]);
            k.hmac.copy_from_slice(&raw[16..48]);
            k.aes.copy_from_slice(&raw[48..]);
            keys.push(k);
        }
        if keys.is_empty() {
            return Err(Error::config(
                ConfigErrorKind::Malformed,
                "ticket key file holds no key",
            ));
        }
        Self::new(keys)
    }

    /// Reads and parses a key file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = Zeroizing::new(std::fs::read(path).map_err(|e| {
            Error::config(
                ConfigErrorKind::Io,
                format!("cannot read {}: {e}", path.display()),
            )
        })?);
        Self::parse(&text).map_err(|e| match e {
            Error::InvalidConfig(c) => {
                Error::config(c.kind(), format!("{}: {}", path.display(), c.message()))
            }
            other => other,
        })
    }

    /// The keys, the encrypting key first.
    pub fn keys(&self) -> &[TicketKey] {
        &self.keys
    }

    /// The key that encrypts new tickets.
    pub fn current(&self) -> &TicketKey {
        &self.keys[0]
    }

    /// The key named `name`, if any.
    pub fn find(&self, name: &[u8]) -> Option<&TicketKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The key file text for `keys` (for tools and tests).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for k in self.keys.iter() {
            let mut raw = Vec::with_capacity(80);
            raw.extend_from_slice(&k.name);
            raw.extend_from_slice(&k.hmac);
            raw.extend_from_slice(&k.aes);
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(raw));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> TicketKey {
        TicketKey {
            name: [b; 16],
            hmac: [b.wrapping_add(1); 32],
            aes: [b.wrapping_add(2); 32],
        }
    }

    #[test]
    fn text_round_trip() {
        let keys = TicketKeys::new(vec![key(1), key(9)]).expect("keys");
        let text = format!("# rotated daily\n\n{}", keys.to_text());
        let back = TicketKeys::parse(text.as_bytes()).expect("parses");
        assert_eq!(back, keys);
        assert_eq!(back.current().name, [1; 16]);
        assert_eq!(back.find(&[9; 16]).map(|k| k.aes), Some([11; 32]));
        assert!(back.find(&[2; 16]).is_none());
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let kind = |r: Result<TicketKeys>| match r {
            Err(Error::InvalidConfig(c)) => c.kind(),
            other => panic!("{other:?}"),
        };
        assert_eq!(kind(TicketKeys::parse(b"")), ConfigErrorKind::Malformed);
        assert_eq!(
            kind(TicketKeys::parse(b"# only\n")),
            ConfigErrorKind::Malformed
        );
        assert_eq!(
            kind(TicketKeys::parse(b"!!!\n")),
            ConfigErrorKind::Malformed
        );
        assert_eq!(
            kind(TicketKeys::parse(b"AAAA\n")),
            ConfigErrorKind::Malformed
        );
        assert_eq!(
            kind(TicketKeys::parse(&[0xff, 0xfe])),
            ConfigErrorKind::Malformed
        );
        assert_eq!(
            kind(TicketKeys::new(vec![key(1), key(1)])),
            ConfigErrorKind::Contradiction
        );
        assert_eq!(kind(TicketKeys::new(vec![])), ConfigErrorKind::OutOfRange);
        assert_eq!(
            kind(TicketKeys::new((0..17).map(key).collect())),
            ConfigErrorKind::OutOfRange
        );
        assert_eq!(
            kind(TicketKeys::from_file("/nonexistent/polytls/keys")),
            ConfigErrorKind::Io
        );
    }
}
