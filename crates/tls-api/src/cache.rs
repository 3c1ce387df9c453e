//! The client-side resumption cache every backend uses: per server name, the
//! newest few states, each with an id so the connection that stored it can
//! take it out or forget it again.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::trust::unix_now;

/// When the peer chain behind cached states stops being valid: the earliest
/// notAfter of the server's chain, in Unix seconds. One connection's states
/// share it; the core sets it once the connection's handshake completes
/// (TLS 1.2 sessions are stored a moment before), and the cache never
/// offers a state past it ([`trust`](crate::trust), rule 2).
#[derive(Debug, Clone)]
pub struct PeerExpiry(Arc<AtomicI64>);

impl Default for PeerExpiry {
    fn default() -> Self {
        Self(Arc::new(AtomicI64::new(i64::MAX)))
    }
}

impl PeerExpiry {
    /// Not known yet (never passed until [`set`](Self::set)).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the chain's notAfter (Unix seconds).
    pub fn set(&self, not_after: i64) {
        self.0.store(not_after, Ordering::Relaxed);
    }

    /// The recorded notAfter, if any.
    pub fn get(&self) -> Option<i64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|t| *t != i64::MAX)
    }

    fn passed(&self, now: i64) -> bool {
        self.0.load(Ordering::Relaxed) < now
    }
}

/// States kept per server name at most. A TLS 1.3 ticket is used once, so
/// this is how many concurrent handshakes to one server can resume: a
/// connection pool or a tunnel opens dozens at once (with 8, as many
/// clients keep, a tunnel under 50 concurrent connections made a third of
/// its handshakes in full). Servers usually send two tickets per connection,
/// so the pool refills while it is used.
const PER_NAME: usize = 64;

/// A bounded map from server name to resumption states, oldest name evicted
/// first. Shared by every connection of one client context.
#[derive(Debug)]
pub struct SessionCache<V> {
    capacity: usize,
    inner: Mutex<Inner<V>>,
}

/// Ids are unique across every cache of the process, so a backend may keep
/// several caches and still find an entry by id alone.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Debug)]
struct Inner<V> {
    by_name: HashMap<String, VecDeque<(u64, V, PeerExpiry)>>,
    order: VecDeque<String>,
}

impl<V> SessionCache<V> {
    /// A cache holding states for at most `capacity` server names.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                by_name: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        // A panic while holding the lock cannot leave the maps inconsistent
        // (every operation is a single insert or remove), so a poisoned lock
        // is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `value` as the newest state for `name`, usable until
    /// `expiry`; returns its id.
    pub fn insert(&self, name: &str, value: V, expiry: &PeerExpiry) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        if !inner.by_name.contains_key(name) {
            while inner.order.len() >= self.capacity {
                match inner.order.pop_front() {
                    Some(old) => {
                        inner.by_name.remove(&old);
                    }
                    None => break,
                }
            }
            inner.order.push_back(name.to_owned());
        }
        let states = inner.by_name.entry(name.to_owned()).or_default();
        if states.len() >= PER_NAME {
            states.pop_front();
        }
        states.push_back((id, value, expiry.clone()));
        id
    }

    /// The states of `name` without those past their peer's notAfter
    /// (dropped: they are never offered again).
    fn current<'a>(
        inner: &'a mut Inner<V>,
        name: &str,
    ) -> Option<&'a mut VecDeque<(u64, V, PeerExpiry)>> {
        let now = unix_now();
        let states = inner.by_name.get_mut(name)?;
        states.retain(|(_, _, e)| !e.passed(now));
        if states.is_empty() {
            inner.by_name.remove(name);
            inner.order.retain(|n| n != name);
            return None;
        }
        inner.by_name.get_mut(name)
    }

    /// Removes and returns the newest state for `name` with its id and
    /// expiry; states past their peer's notAfter are dropped, never
    /// returned.
    pub fn take_newest(&self, name: &str) -> Option<(u64, V, PeerExpiry)> {
        let mut inner = self.lock();
        let states = Self::current(&mut inner, name)?;
        let newest = states.pop_back();
        if states.is_empty() {
            inner.by_name.remove(name);
            inner.order.retain(|n| n != name);
        }
        newest
    }

    /// Applies `f` to the newest current state for `name`, leaving it in
    /// place.
    pub fn with_newest<R>(
        &self,
        name: &str,
        f: impl FnOnce(u64, &V, &PeerExpiry) -> R,
    ) -> Option<R> {
        let mut inner = self.lock();
        let (id, v, e) = Self::current(&mut inner, name)?.back()?;
        Some(f(*id, v, e))
    }

    /// Removes the state with `id`, wherever it is.
    pub fn remove(&self, id: u64) -> Option<V> {
        let mut inner = self.lock();
        let name = inner
            .by_name
            .iter()
            .find(|(_, states)| states.iter().any(|(i, _, _)| *i == id))
            .map(|(n, _)| n.clone())?;
        let states = inner.by_name.get_mut(&name)?;
        let at = states.iter().position(|(i, _, _)| *i == id)?;
        let (_, v, _) = states.remove(at)?;
        if states.is_empty() {
            inner.by_name.remove(&name);
            inner.order.retain(|n| *n != name);
        }
        Some(v)
    }

    /// Removes every state for `name`.
    pub fn remove_name(&self, name: &str) {
        let mut inner = self.lock();
        if inner.by_name.remove(name).is_some() {
            inner.order.retain(|n| n != name);
        }
    }

    /// How many states the cache holds.
    pub fn len(&self) -> usize {
        self.lock().by_name.values().map(VecDeque::len).sum()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take<V>(c: &SessionCache<V>, name: &str) -> Option<(u64, V)> {
        c.take_newest(name).map(|(id, v, _)| (id, v))
    }

    #[test]
    fn newest_first_single_use_and_bounded() {
        let e = PeerExpiry::new();
        let c = SessionCache::new(2);
        let a1 = c.insert("a", 1, &e);
        c.insert("a", 2, &e);
        assert_eq!(c.with_newest("a", |_, v, _| *v), Some(2));
        assert_eq!(take(&c, "a").map(|(_, v)| v), Some(2));
        assert_eq!(take(&c, "a"), Some((a1, 1)));
        assert_eq!(take(&c, "a"), None);
        c.insert("a", 1, &e);
        c.insert("b", 2, &e);
        c.insert("c", 3, &e);
        assert!(take(&c, "a").is_none(), "oldest name evicted");
        assert_eq!(c.len(), 2);
        for i in 0..PER_NAME + 20 {
            c.insert("b", i, &e);
        }
        assert_eq!(c.len(), PER_NAME + 1);
    }

    #[test]
    fn remove_by_id() {
        let e = PeerExpiry::new();
        let c = SessionCache::new(8);
        let x = c.insert("a", "x", &e);
        let y = c.insert("b", "y", &e);
        assert_eq!(c.remove(x), Some("x"));
        assert_eq!(c.remove(x), None);
        assert_eq!(take(&c, "b"), Some((y, "y")));
        assert!(c.is_empty());
    }

    #[test]
    fn never_past_the_peers_not_after() {
        let c = SessionCache::new(8);
        let (old, fresh) = (PeerExpiry::new(), PeerExpiry::new());
        c.insert("a", "stored before the handshake completed", &old);
        c.insert("a", "fresh", &fresh);
        c.insert("a", "newest, expired", &old);
        old.set(unix_now() - 1);
        fresh.set(unix_now() + 3600);
        assert_eq!(c.with_newest("a", |_, v, _| *v), Some("fresh"));
        assert_eq!(take(&c, "a").map(|(_, v)| v), Some("fresh"));
        assert_eq!(take(&c, "a"), None, "expired states are dropped");
        assert!(c.is_empty());
    }
}
