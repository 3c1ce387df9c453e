//! Contexts (≈ `SSL_CTX`): built once from a configuration, shared by every
//! connection, holding the resumption state.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::config::{ClientConfig, ServerConfig};
use crate::driver::{ClientDriver, Offer, ServerDriver};
use crate::resumption::{Origin, ResumptionState};
use crate::session::Session;
use crate::trust::{unix_now, TrustCheck};
use crate::{check_server_name, Error, MisuseKind, Result};

/// Makes client sessions; holds the client's resumption cache. Cloning is
/// cheap and shares everything.
pub struct ClientContext<D> {
    driver: Arc<D>,
    origin: Arc<Origin>,
}

impl<D> Clone for ClientContext<D> {
    fn clone(&self) -> Self {
        Self {
            driver: self.driver.clone(),
            origin: self.origin.clone(),
        }
    }
}

impl<D> fmt::Debug for ClientContext<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientContext")
            .field("backend", &self.origin.backend)
            .finish_non_exhaustive()
    }
}

/// What binds resumption state to its configuration across processes: the
/// backend and the trust digest.
fn fingerprint(backend: &str, config: &ClientConfig) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((backend.len() as u64).to_be_bytes());
    h.update(backend.as_bytes());
    h.update(config.trust_digest());
    h.finalize().into()
}

impl<D: ClientDriver> ClientContext<D> {
    pub(crate) fn new(backend: &'static str, driver: D, config: &ClientConfig) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            driver: Arc::new(driver),
            origin: Arc::new(Origin {
                backend,
                context: NEXT.fetch_add(1, Ordering::Relaxed),
                fingerprint: fingerprint(backend, config),
                trust: TrustCheck::client(config),
            }),
        }
    }

    /// Starts a session to `server_name` (a DNS name or an IP address), used
    /// for SNI and for verifying the server's certificate; the context's
    /// cache offers resumption when it holds state for that name. The
    /// ClientHello is ready to be written at once.
    pub fn connect(&self, server_name: &str) -> Result<Session<D::Session>> {
        check_server_name(server_name)?;
        let driver = self.driver.connect(server_name, Offer::Cache)?;
        Ok(Session::client(driver, self.origin.clone(), server_name))
    }

    /// Starts a session to `server_name` offering `state`, taken earlier from
    /// a session of this context with
    /// [`Session::take_resumption`](crate::Session::take_resumption) (or
    /// restored with [`resumption_from_bytes`](Self::resumption_from_bytes)).
    /// State from another context, or for another server name, is
    /// [`Error::Misuse`] and is never offered; state past the notAfter of
    /// the server chain it was made with is not offered either (a full
    /// handshake).
    pub fn connect_resuming(
        &self,
        server_name: &str,
        state: ResumptionState,
    ) -> Result<Session<D::Session>> {
        check_server_name(server_name)?;
        if state.origin.context != self.origin.context {
            return Err(Error::misuse(
                MisuseKind::ForeignResumption,
                "resumption state from another context is never offered",
            ));
        }
        if !state.server_name.eq_ignore_ascii_case(server_name) {
            return Err(Error::misuse(
                MisuseKind::ForeignResumption,
                format!(
                    "resumption state for {:?} is never offered to {server_name:?}",
                    state.server_name
                ),
            ));
        }
        // Never offered past the server chain's notAfter (trust rule 2).
        let offer = match state.not_after {
            Some(t) if t < unix_now() => Offer::Nothing,
            _ => Offer::State(state.blob),
        };
        let driver = self.driver.connect(server_name, offer)?;
        Ok(Session::client(driver, self.origin.clone(), server_name))
    }

    /// Restores resumption state saved with
    /// [`ResumptionState::to_bytes`] — by this process or an earlier one —
    /// into this context. It must have been saved by a context of the same
    /// backend and the same trust ([`ClientConfig::trust_digest`]: roots,
    /// CRLs, pins, client identity, versions, ...); otherwise it is
    /// [`Error::Misuse`]. Bytes that
    /// are not saved state are [`Error::InvalidConfig`].
    pub fn resumption_from_bytes(&self, bytes: &[u8]) -> Result<ResumptionState> {
        if !self.driver.exports_resumption() {
            return Err(crate::resumption::not_exportable(self.origin.backend));
        }
        ResumptionState::decode(bytes, &self.origin)
    }

    /// The backend's own context, outside the portable guarantee.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// The backend's name.
    pub fn backend(&self) -> &'static str {
        self.origin.backend
    }
}

/// Makes server sessions; holds the ticket keys and the session cache.
/// Cloning is cheap and shares everything.
pub struct ServerContext<D> {
    driver: Arc<D>,
    backend: &'static str,
    trust: Arc<TrustCheck>,
}

impl<D> Clone for ServerContext<D> {
    fn clone(&self) -> Self {
        Self {
            driver: self.driver.clone(),
            backend: self.backend,
            trust: self.trust.clone(),
        }
    }
}

impl<D> fmt::Debug for ServerContext<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerContext")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl<D: ServerDriver> ServerContext<D> {
    pub(crate) fn new(backend: &'static str, driver: D, config: &ServerConfig) -> Self {
        Self {
            driver: Arc::new(driver),
            backend,
            trust: Arc::new(TrustCheck::server(config)),
        }
    }

    /// Starts a session waiting for a ClientHello.
    pub fn accept(&self) -> Result<Session<D::Session>> {
        Ok(Session::server(self.driver.accept()?, self.trust.clone()))
    }

    /// The backend's own context, outside the portable guarantee.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// The backend's name.
    pub fn backend(&self) -> &'static str {
        self.backend
    }
}
