//! Client resumption state: one cache per context (polytls' shared
//! [`SessionCache`]), seen by each connection through its own store, so a
//! connection's state can be taken out as a value, forgotten when the
//! connection ends badly, and an offered value is used for that connection
//! only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use polytls_api::driver::{Offer, PeerExpiry, SessionBlob, SessionCache};
use polytls_api::{Error, MisuseKind, Result};
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::NamedGroup;

/// A state taken out of the cache.
#[derive(Debug)]
pub(crate) enum Value {
    Tls12(Tls12ClientSessionValue),
    Tls13(Tls13ClientSessionValue),
}

/// The context's cache.
#[derive(Debug)]
pub(crate) struct SharedStore {
    tls12: SessionCache<Tls12ClientSessionValue>,
    tls13: SessionCache<Tls13ClientSessionValue>,
    kx_hints: Mutex<HashMap<String, NamedGroup>>,
    capacity: usize,
}

impl SharedStore {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            tls12: SessionCache::new(capacity),
            tls13: SessionCache::new(capacity),
            kx_hints: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn remove(&self, id: u64) -> Option<Value> {
        self.tls13
            .remove(id)
            .map(Value::Tls13)
            .or_else(|| self.tls12.remove(id).map(Value::Tls12))
    }
}

fn key(name: &ServerName<'_>) -> String {
    name.to_str().into_owned()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a single assignment or push, so a poisoned
    // lock still holds consistent data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn resumption_off() -> Error {
    Error::misuse(
        MisuseKind::ForeignResumption,
        "resumption is off in this context",
    )
}

enum OfferKind {
    Nothing,
    Other,
}

#[derive(Debug, Default)]
struct ConnState {
    /// Offer nothing at all (not even from the cache).
    nothing: bool,
    /// The state the caller offered for this connection.
    offered: Option<Value>,
    /// Ids of the states this connection stored, oldest first.
    stored: Vec<u64>,
    /// The cached TLS 1.2 session this connection offered (they are reused).
    used_tls12: Option<u64>,
}

/// One connection's view of the context's cache.
#[derive(Debug)]
pub(crate) struct ConnStore {
    shared: Arc<SharedStore>,
    state: Mutex<ConnState>,
    /// The server chain's notAfter, shared by every state this connection
    /// stores: the cache never offers them past it.
    expiry: PeerExpiry,
}

impl ConnStore {
    pub(crate) fn new(shared: Arc<SharedStore>, offer: Offer) -> Result<Self> {
        let offer_kind = match offer {
            Offer::Nothing => OfferKind::Nothing,
            _ => OfferKind::Other,
        };
        let offered = match offer {
            Offer::Cache | Offer::Nothing => None,
            Offer::State(SessionBlob::Opaque(v)) => match v.downcast::<Value>() {
                Ok(v) => Some(*v),
                Err(_) => return Err(foreign()),
            },
            Offer::State(SessionBlob::Der(_)) => return Err(foreign()),
        };
        Ok(Self {
            shared,
            state: Mutex::new(ConnState {
                offered,
                nothing: matches!(offer_kind, OfferKind::Nothing),
                ..ConnState::default()
            }),
            expiry: PeerExpiry::new(),
        })
    }

    /// The server chain's notAfter, once the handshake completed.
    pub(crate) fn set_peer_not_after(&self, not_after: i64) {
        self.expiry.set(not_after);
    }

    /// Takes the newest state this connection stored out of the cache.
    pub(crate) fn take_stored(&self) -> Option<SessionBlob> {
        let mut state = lock(&self.state);
        while let Some(id) = state.stored.pop() {
            if let Some(v) = self.shared.remove(id) {
                return Some(SessionBlob::Opaque(Box::new(v)));
            }
        }
        None
    }

    /// Removes everything this connection stored or reused.
    pub(crate) fn forget(&self) {
        let mut state = lock(&self.state);
        let used = state.used_tls12.take();
        for id in state.stored.drain(..).chain(used) {
            self.shared.remove(id);
        }
    }
}

fn foreign() -> Error {
    Error::misuse(
        MisuseKind::ForeignResumption,
        "resumption state of another backend",
    )
}

impl ClientSessionStore for ConnStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        let mut hints = lock(&self.shared.kx_hints);
        if hints.len() >= self.shared.capacity {
            hints.clear();
        }
        hints.insert(key(&server_name), group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        lock(&self.shared.kx_hints).get(&key(server_name)).copied()
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        let id = self
            .shared
            .tls12
            .insert(&key(&server_name), value, &self.expiry);
        lock(&self.state).stored.push(id);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let mut state = lock(&self.state);
        match &state.offered {
            Some(Value::Tls12(v)) => return Some(v.clone()),
            Some(Value::Tls13(_)) => return None,
            None if state.nothing => return None,
            None => {}
        }
        let (id, v) = self
            .shared
            .tls12
            .with_newest(&key(server_name), |id, v, _| (id, v.clone()))?;
        state.used_tls12 = Some(id);
        Some(v)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.shared.tls12.remove_name(&key(server_name));
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        let id = self
            .shared
            .tls13
            .insert(&key(&server_name), value, &self.expiry);
        lock(&self.state).stored.push(id);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        let mut state = lock(&self.state);
        match state.offered.take() {
            Some(Value::Tls13(v)) => return Some(v),
            Some(other) => {
                state.offered = Some(other);
                return None;
            }
            None if state.nothing => return None,
            None => {}
        }
        self.shared
            .tls13
            .take_newest(&key(server_name))
            .map(|(_, v, _)| v)
    }
}
