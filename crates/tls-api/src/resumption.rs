//! Resumption state as a value: taken from one connection, offered on a
//! later one of the same context, and — where the library can serialize it —
//! saved across a restart.

use std::fmt;
use std::sync::Arc;

use crate::driver::SessionBlob;
use crate::{Capability, ConfigErrorKind, Error, MisuseKind, Result};

/// The context a piece of resumption state belongs to.
#[derive(Debug)]
pub(crate) struct Origin {
    pub(crate) backend: &'static str,
    /// Unique per context in this process.
    pub(crate) context: u64,
    /// The backend and the trust digest; stable across processes.
    pub(crate) fingerprint: [u8; 32],
    /// What a resumed session's server chain must still pass.
    pub(crate) trust: crate::trust::TrustCheck,
}

/// A client's resumption state for one server: a TLS 1.3 ticket or a TLS 1.2
/// session, bound to the [`ClientContext`](crate::ClientContext) that
/// verified the server and to the server name it was made for.
///
/// Take it with [`Session::take_resumption`](crate::Session::take_resumption)
/// and offer it with
/// [`ClientContext::connect_resuming`](crate::ClientContext::connect_resuming),
/// for example to keep resumption per upstream in a connection pool. It is
/// not `Clone`: a TLS 1.3 ticket is used once (RFC 8446 §C.4).
///
/// The state holds the session's secrets. [`to_bytes`](Self::to_bytes)
/// writes them out: protect saved state like a private key, because whoever
/// can replace it can make the client accept a server it never verified.
pub struct ResumptionState {
    pub(crate) origin: Arc<Origin>,
    pub(crate) server_name: String,
    pub(crate) blob: SessionBlob,
    /// The earliest notAfter of the server's chain (Unix seconds): past it
    /// the state is never offered.
    pub(crate) not_after: Option<i64>,
}

impl fmt::Debug for ResumptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumptionState")
            .field("backend", &self.origin.backend)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

const MAGIC: &[u8] = b"polytls resumption v2\n";

pub(crate) fn not_exportable(backend: &'static str) -> Error {
    Error::unsupported(
        backend,
        Capability::ResumptionExport,
        "the library keeps resumption state opaque; it can be offered in this \
         process but not saved",
    )
}

impl ResumptionState {
    /// The server name it was made for.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// When the server certificate chain it was made with expires: the
    /// state is never offered after that (a connect offering it makes a
    /// full handshake). `None` when unknown.
    pub fn not_after(&self) -> Option<std::time::SystemTime> {
        let secs = u64::try_from(self.not_after?).ok()?;
        std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))
    }

    /// The state as bytes, to be restored with
    /// [`ClientContext::resumption_from_bytes`](crate::ClientContext::resumption_from_bytes)
    /// in this process or a later one. Where the library keeps the state
    /// opaque (rustls) this is [`Error::Unsupported`] for
    /// [`Capability::ResumptionExport`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let SessionBlob::Der(der) = &self.blob else {
            return Err(not_exportable(self.origin.backend));
        };
        let mut out = Vec::with_capacity(MAGIC.len() + 64 + self.server_name.len() + der.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.origin.fingerprint);
        out.extend_from_slice(&self.not_after.unwrap_or(i64::MAX).to_be_bytes());
        let name = self.server_name.as_bytes();
        out.extend_from_slice(&(name.len() as u16).to_be_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&(der.len() as u32).to_be_bytes());
        out.extend_from_slice(der);
        Ok(out)
    }

    /// Parses saved state for the context `origin`.
    pub(crate) fn decode(bytes: &[u8], origin: &Arc<Origin>) -> Result<Self> {
        let malformed = |what: &str| {
            Error::config(
                ConfigErrorKind::Malformed,
                format!("saved resumption state: {what}"),
            )
        };
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| malformed("not polytls resumption state"))?;
        let (fingerprint, rest) = split(rest, 32).ok_or_else(|| malformed("truncated"))?;
        let (not_after, rest) = split(rest, 8).ok_or_else(|| malformed("truncated"))?;
        let not_after =
            i64::from_be_bytes(not_after.try_into().map_err(|_| malformed("truncated"))?);
        let (len, rest) = split(rest, 2).ok_or_else(|| malformed("truncated"))?;
        let (name, rest) = split(rest, usize::from(u16::from_be_bytes([len[0], len[1]])))
            .ok_or_else(|| malformed("truncated server name"))?;
        let (len, rest) = split(rest, 4).ok_or_else(|| malformed("truncated"))?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if rest.len() != len || len == 0 {
            return Err(malformed("bad session length"));
        }
        let server_name = std::str::from_utf8(name)
            .map_err(|_| malformed("server name is not UTF-8"))?
            .to_owned();
        crate::check_server_name(&server_name).map_err(|_| malformed("bad server name"))?;
        if fingerprint != origin.fingerprint {
            return Err(Error::misuse(
                MisuseKind::ForeignResumption,
                "saved resumption state belongs to a context with another backend or other \
                 verification settings",
            ));
        }
        Ok(Self {
            origin: origin.clone(),
            server_name,
            blob: SessionBlob::Der(rest.to_vec()),
            not_after: Some(not_after).filter(|t| *t != i64::MAX),
        })
    }
}

fn split(b: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (b.len() >= n).then(|| b.split_at(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(fp: u8) -> Arc<Origin> {
        Arc::new(Origin {
            backend: "test",
            context: 7,
            fingerprint: [fp; 32],
            trust: Default::default(),
        })
    }

    #[test]
    fn bytes_round_trip_and_refusals() {
        let o = origin(1);
        let state = ResumptionState {
            origin: o.clone(),
            server_name: "example.com".into(),
            blob: SessionBlob::Der(vec![0x30, 1, 2, 3]),
            not_after: Some(1_900_000_000),
        };
        let bytes = state.to_bytes().expect("DER exports");
        let back = ResumptionState::decode(&bytes, &o).expect("decodes");
        assert_eq!(back.server_name(), "example.com");
        assert_eq!(back.not_after, Some(1_900_000_000));
        assert!(matches!(back.blob, SessionBlob::Der(ref d) if d == &[0x30, 1, 2, 3]));
        assert!(matches!(
            ResumptionState::decode(&bytes, &origin(2)),
            Err(Error::Misuse(m)) if m.kind() == MisuseKind::ForeignResumption
        ));
        for cut in 0..bytes.len() {
            assert!(matches!(
                ResumptionState::decode(&bytes[..cut], &o),
                Err(Error::InvalidConfig(c)) if c.kind() == ConfigErrorKind::Malformed
            ));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ResumptionState::decode(&longer, &o).is_err());
        let opaque = ResumptionState {
            origin: o,
            server_name: "example.com".into(),
            blob: SessionBlob::Opaque(Box::new(())),
            not_after: None,
        };
        assert!(matches!(
            opaque.to_bytes(),
            Err(Error::Unsupported(u)) if u.capability == Some(Capability::ResumptionExport)
        ));
    }
}
