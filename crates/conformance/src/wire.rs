//! Just enough TLS wire parsing for the cases to check what was sent: the
//! records of a byte stream, the plaintext handshake messages in them, and a
//! ClientHello's fields and extensions.

/// TLS record content type `handshake`.
pub const HANDSHAKE: u8 = 22;

/// The `(content type, body)` of each complete record in `bytes`.
pub fn records(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let Some(body) = rest.get(5..5 + len) else {
            break;
        };
        out.push((rest[0], body));
        rest = &rest[5 + len..];
    }
    out
}

/// The `(type, body)` of each handshake message in the plaintext handshake
/// records of `bytes` (messages split across records are joined; once a
/// record is encrypted, parsing stops making sense and the caller should not
/// look past it).
pub fn handshake_messages(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut stream = Vec::new();
    for (kind, body) in records(bytes) {
        if kind == HANDSHAKE {
            stream.extend_from_slice(body);
        }
    }
    let mut out = Vec::new();
    let mut rest = &stream[..];
    while rest.len() >= 4 {
        let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
        let Some(body) = rest.get(4..4 + len) else {
            break;
        };
        out.push((rest[0], body.to_vec()));
        rest = &rest[4 + len..];
    }
    out
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The extension types of the first ServerHello in `bytes` (records as
/// sent; in TLS 1.2 every server extension is here, in TLS 1.3 most move to
/// the encrypted EncryptedExtensions).
pub fn server_hello_extensions(bytes: &[u8]) -> Option<Vec<u16>> {
    let (_, body) = handshake_messages(bytes)
        .into_iter()
        .find(|(t, _)| *t == 2)?;
    let mut at = 2 + 32;
    at += 1 + usize::from(*body.get(at)?);
    at += 2 + 1;
    let end = at + 2 + usize::from(u16_at(&body, at)?);
    at += 2;
    let mut types = Vec::new();
    while at + 4 <= end {
        types.push(u16_at(&body, at)?);
        at += 4 + usize::from(u16_at(&body, at + 2)?);
    }
    Some(types)
}

/// A ClientHello's cipher suites and extensions.
#[derive(Debug, Default)]
pub struct ClientHello {
    /// The cipher suites, in order.
    pub suites: Vec<u16>,
    /// `(type, body)` of each extension, in order.
    pub extensions: Vec<(u16, Vec<u8>)>,
}

impl ClientHello {
    /// Parses the first ClientHello in `bytes` (records as sent).
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let (_, body) = handshake_messages(bytes)
            .into_iter()
            .find(|(t, _)| *t == 1)?;
        let mut at = 2 + 32;
        at += 1 + usize::from(*body.get(at)?);
        let n = usize::from(u16_at(&body, at)?);
        let suites = body
            .get(at + 2..at + 2 + n)?
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        at += 2 + n;
        at += 1 + usize::from(*body.get(at)?);
        let end = at + 2 + usize::from(u16_at(&body, at)?);
        at += 2;
        let mut extensions = Vec::new();
        while at + 4 <= end {
            let kind = u16_at(&body, at)?;
            let len = usize::from(u16_at(&body, at + 2)?);
            extensions.push((kind, body.get(at + 4..at + 4 + len)?.to_vec()));
            at += 4 + len;
        }
        Some(Self { suites, extensions })
    }

    /// The body of extension `kind`.
    pub fn extension(&self, kind: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, b)| b.as_slice())
    }

    /// The first PSK identity offered (`pre_shared_key`, TLS 1.3
    /// resumption), if any.
    pub fn psk_identity(&self) -> Option<Vec<u8>> {
        let ext = self.extension(41)?;
        let len = usize::from(u16_at(ext, 2)?);
        ext.get(4..4 + len).map(<[u8]>::to_vec)
    }

    /// The TLS 1.2 session ticket offered (`session_ticket`), if non-empty.
    pub fn session_ticket(&self) -> Option<&[u8]> {
        self.extension(35).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_messages() {
        // Two records, the second holding a handshake message split from
        // the first.
        let bytes = [
            22, 3, 3, 0, 3, 4, 0, 0, // type 4, length 2 (first byte)...
            22, 3, 3, 0, 3, 2, 0xab, 0xcd, // ...second length byte, body
            23, 3, 3, 0, 1, 0xff,
        ];
        assert_eq!(records(&bytes).len(), 3);
        assert_eq!(handshake_messages(&bytes), vec![(4, vec![0xab, 0xcd])]);
        assert!(records(&bytes[..4]).is_empty());
    }
}
