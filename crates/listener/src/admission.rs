//! Bounded, timed handshakes: what keeps clients that never finish their
//! handshake from crowding out those that do. [`TlsListener`](crate::TlsListener)
//! runs on it, and so does the `polytls tunnel`.
//!
//! - **One deadline** per connection, from the TCP accept to the end of the
//!   TLS handshake; whatever runs before TLS (a PROXY protocol header, say)
//!   spends from the same deadline.
//! - **Handshakes in flight are bounded** on their own, apart from
//!   established connections: a client still in its handshake holds a
//!   handshake slot, never a connection slot.
//! - **Per source address**, at most so many handshakes in flight: one host
//!   holding idle sockets cannot take every slot.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use polytls_api::driver::ServerDriver;
use polytls_api::tokio_io::{TlsAcceptor, TlsStream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How many handshakes may be in flight, in all and per source address.
#[derive(Debug)]
pub struct HandshakeLimits {
    slots: Arc<Semaphore>,
    per_source: usize,
    sources: Mutex<HashMap<IpAddr, usize>>,
}

/// A handshake slot, taken before accepting a connection; released when
/// dropped.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// Refused: the source address already has its share of handshakes in
/// flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerSourceLimit {
    /// The address.
    pub source: IpAddr,
    /// Its share.
    pub limit: usize,
}

impl std::fmt::Display for PerSourceLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} handshakes already in flight from {}",
            self.limit, self.source
        )
    }
}

impl std::error::Error for PerSourceLimit {}

/// A connection in its handshake: it holds its slot and its place in its
/// source's count until dropped, and knows its deadline.
#[derive(Debug)]
pub struct Handshaking {
    limits: Arc<HandshakeLimits>,
    _slot: Slot,
    source: Option<IpAddr>,
    deadline: Instant,
}

impl HandshakeLimits {
    /// At most `max` handshakes in flight (at least 1), and `per_source`
    /// from one address (0: no per-source limit).
    pub fn new(max: usize, per_source: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(max.max(1))),
            per_source,
            sources: Mutex::new(HashMap::new()),
        })
    }

    fn sources(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        // Each critical section is one increment or decrement.
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a handshake slot.
    pub async fn slot(&self) -> Slot {
        // The semaphore is never closed.
        match self.slots.clone().acquire_owned().await {
            Ok(p) => Slot { _permit: p },
            Err(_) => std::future::pending().await,
        }
    }

    /// A handshake slot, if one is free now.
    pub fn try_slot(&self) -> Option<Slot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| Slot { _permit: p })
    }

    /// Admits a connection just accepted from `source` (`None`: not
    /// counted per source, as for a trusted balancer every client shares),
    /// with `timeout` from now until its handshake must be done.
    pub fn admit(
        self: &Arc<Self>,
        slot: Slot,
        source: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<Handshaking, PerSourceLimit> {
        let source = source.filter(|_| self.per_source > 0);
        if let Some(ip) = source {
            let mut sources = self.sources();
            let n = sources.entry(ip).or_insert(0);
            if *n >= self.per_source {
                return Err(PerSourceLimit {
                    source: ip,
                    limit: self.per_source,
                });
            }
            *n += 1;
        }
        Ok(Handshaking {
            limits: self.clone(),
            _slot: slot,
            source,
            deadline: Instant::now() + timeout,
        })
    }

    /// Handshakes in flight from `ip` now.
    pub fn in_flight_from(&self, ip: IpAddr) -> usize {
        self.sources().get(&ip).copied().unwrap_or(0)
    }
}

impl Handshaking {
    /// When the handshake must be done.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Runs the TLS handshake on `io` under the deadline; a timeout is
    /// `io::ErrorKind::TimedOut`. The slot is held until `self` is dropped.
    pub async fn handshake<D: ServerDriver, IO>(
        &self,
        acceptor: &TlsAcceptor<D>,
        io: IO,
    ) -> io::Result<TlsStream<IO, D::Session>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        match tokio::time::timeout_at(self.deadline, acceptor.accept(io)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no TLS handshake within the handshake timeout",
            )),
        }
    }
}

impl Drop for Handshaking {
    fn drop(&mut self) {
        if let Some(ip) = self.source {
            let mut sources = self.limits.sources();
            if let Some(n) = sources.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    sources.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[tokio::test]
    async fn per_source_and_in_all() {
        let limits = HandshakeLimits::new(3, 2);
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let t = Duration::from_secs(1);
        let one = limits.admit(limits.slot().await, Some(a), t).unwrap();
        let two = limits.admit(limits.slot().await, Some(a), t).unwrap();
        let refused = limits.admit(limits.slot().await, Some(a), t).unwrap_err();
        assert_eq!(
            refused,
            PerSourceLimit {
                source: a,
                limit: 2
            }
        );
        assert_eq!(limits.in_flight_from(a), 2);
        let other = limits.admit(limits.slot().await, Some(b), t).unwrap();
        assert!(limits.try_slot().is_none(), "three in flight: no slot");
        drop(one);
        assert_eq!(limits.in_flight_from(a), 1);
        assert!(limits.try_slot().is_some(), "a slot is free again");
        drop((two, other));
        assert_eq!(limits.in_flight_from(a), 0);
        let unlimited = HandshakeLimits::new(8, 0);
        for _ in 0..5 {
            std::mem::forget(unlimited.admit(unlimited.slot().await, Some(a), t).unwrap());
        }
    }
}
