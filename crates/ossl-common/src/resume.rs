//! Client resumption for the OpenSSL family, written once: sessions kept as
//! DER in polytls' [`SessionCache`], per client context and server name, so
//! a session is never bound to any `SSL_CTX` until it is decoded for the
//! connection that offers it.
//!
//! The rules (RFC 8446 §C.4, and OpenSSL's own for bad sessions):
//! - a TLS 1.3 ticket is offered once: taking it removes it from the cache;
//! - a TLS 1.2 session stays and may be offered again;
//! - a connection that fails or ends without close_notify forgets what it
//!   stored and the TLS 1.2 session it offered.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use polytls_api::driver::{PeerExpiry, SessionCache};

/// One client session as the library serialized it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// `i2d_SSL_SESSION`.
    pub der: Vec<u8>,
    /// Whether it is a TLS 1.3 ticket (single-use).
    pub tls13: bool,
}

/// A client context's cache.
pub type Cache = SessionCache<Stored>;

/// One client connection's link to its context's cache: the backend keeps
/// it in the `SSL`'s ex_data, where the new-session callback finds it.
#[derive(Debug)]
pub struct Slot {
    cache: Arc<Cache>,
    key: String,
    state: Mutex<SlotState>,
    /// The server chain's notAfter, shared by every session this connection
    /// stores: the cache never offers them past it.
    expiry: PeerExpiry,
}

#[derive(Debug, Default)]
struct SlotState {
    /// Ids of the sessions this connection stored, oldest first.
    stored: Vec<u64>,
    /// The cached TLS 1.2 session it offered.
    offered: Option<u64>,
}

impl Slot {
    /// A link for a connection to `server_name`.
    pub fn new(cache: Arc<Cache>, server_name: &str) -> Arc<Self> {
        Arc::new(Self {
            cache,
            key: server_name.to_ascii_lowercase(),
            state: Mutex::new(SlotState::default()),
            expiry: PeerExpiry::new(),
        })
    }

    /// The server chain's notAfter, once the handshake completed.
    pub fn set_peer_not_after(&self, not_after: i64) {
        self.expiry.set(not_after);
    }

    fn state(&self) -> MutexGuard<'_, SlotState> {
        // Each critical section is one push or assignment: a poisoned lock
        // still holds consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session to offer from the cache, if any: the newest for this
    /// server name. A TLS 1.3 ticket is taken out (single use).
    pub fn from_cache(&self) -> Option<Vec<u8>> {
        let (id, tls13, der) = self
            .cache
            .with_newest(&self.key, |id, s, _| (id, s.tls13, s.der.clone()))?;
        if tls13 {
            self.cache.remove(id);
        } else {
            self.state().offered = Some(id);
        }
        Some(der)
    }

    /// Stores a session the server issued on this connection (called from
    /// the new-session callback).
    pub fn store(&self, der: Vec<u8>, tls13: bool) {
        let id = self
            .cache
            .insert(&self.key, Stored { der, tls13 }, &self.expiry);
        self.state().stored.push(id);
    }

    /// Takes the newest session this connection stored out of the cache.
    pub fn take_newest(&self) -> Option<Vec<u8>> {
        let mut state = self.state();
        while let Some(id) = state.stored.pop() {
            if let Some(s) = self.cache.remove(id) {
                return Some(s.der);
            }
        }
        None
    }

    /// Takes the cached TLS 1.2 session this connection offered out of the
    /// cache (its state is being taken as a value).
    pub fn take_offered(&self) {
        if let Some(id) = self.state().offered.take() {
            self.cache.remove(id);
        }
    }

    /// The connection failed or was truncated: nothing it stored or offered
    /// is offered again.
    pub fn forget(&self) {
        let mut state = self.state();
        let offered = state.offered.take();
        for id in state.stored.drain(..).chain(offered) {
            self.cache.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_once_sessions_again_forget_on_failure() {
        let cache = Arc::new(Cache::new(16));
        let first = Slot::new(cache.clone(), "Example.COM");
        first.store(vec![1], true);
        first.store(vec![2], true);
        let second = Slot::new(cache.clone(), "example.com");
        assert_eq!(second.from_cache(), Some(vec![2]), "newest ticket");
        assert_eq!(second.from_cache(), Some(vec![1]));
        assert_eq!(second.from_cache(), None, "each ticket once");

        let tls12 = Slot::new(cache.clone(), "example.com");
        tls12.store(vec![12], false);
        let again = Slot::new(cache.clone(), "example.com");
        assert_eq!(again.from_cache(), Some(vec![12]));
        assert_eq!(again.from_cache(), Some(vec![12]), "TLS 1.2 sessions stay");
        again.forget();
        assert_eq!(again.from_cache(), None, "a bad connection's session goes");

        let taker = Slot::new(cache.clone(), "example.com");
        taker.store(vec![7], true);
        assert_eq!(taker.take_newest(), Some(vec![7]));
        assert!(cache.is_empty(), "taken out of the cache");
        taker.store(vec![8], true);
        taker.forget();
        assert!(cache.is_empty());

        let expired = Slot::new(cache.clone(), "example.com");
        expired.store(vec![9], false);
        expired.set_peer_not_after(1);
        assert_eq!(
            Slot::new(cache.clone(), "example.com").from_cache(),
            None,
            "never offered past the server chain's notAfter"
        );
        assert!(cache.is_empty());
    }
}
