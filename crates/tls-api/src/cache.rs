//! The client-side resumption cache every backend uses: per server name, the
//! newest few states, each with an id so the connection that stored it can
//! take it out or forget it again.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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
    by_name: HashMap<String, VecDeque<(u64, V)>>,
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

    /// Stores `value` as the newest state for `name`; returns its id.
    pub fn insert(&self, name: &str, value: V) -> u64 {
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
        states.push_back((id, value));
        id
    }

    /// Removes and returns the newest state for `name` with its id.
    pub fn take_newest(&self, name: &str) -> Option<(u64, V)> {
        let mut inner = self.lock();
        let states = inner.by_name.get_mut(name)?;
        let newest = states.pop_back();
        if states.is_empty() {
            inner.by_name.remove(name);
            inner.order.retain(|n| n != name);
        }
        newest
    }

    /// Applies `f` to the newest state for `name`, leaving it in place.
    pub fn with_newest<R>(&self, name: &str, f: impl FnOnce(u64, &V) -> R) -> Option<R> {
        let inner = self.lock();
        let (id, v) = inner.by_name.get(name)?.back()?;
        Some(f(*id, v))
    }

    /// Removes the state with `id`, wherever it is.
    pub fn remove(&self, id: u64) -> Option<V> {
        let mut inner = self.lock();
        let name = inner
            .by_name
            .iter()
            .find(|(_, states)| states.iter().any(|(i, _)| *i == id))
            .map(|(n, _)| n.clone())?;
        let states = inner.by_name.get_mut(&name)?;
        let at = states.iter().position(|(i, _)| *i == id)?;
        let (_, v) = states.remove(at)?;
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

    #[test]
    fn newest_first_single_use_and_bounded() {
        let c = SessionCache::new(2);
        let a1 = c.insert("a", 1);
        c.insert("a", 2);
        assert_eq!(c.with_newest("a", |_, v| *v), Some(2));
        assert_eq!(c.take_newest("a").map(|(_, v)| v), Some(2));
        assert_eq!(c.take_newest("a"), Some((a1, 1)));
        assert_eq!(c.take_newest("a"), None);
        c.insert("a", 1);
        c.insert("b", 2);
        c.insert("c", 3);
        assert!(c.take_newest("a").is_none(), "oldest name evicted");
        assert_eq!(c.len(), 2);
        for i in 0..PER_NAME + 20 {
            c.insert("b", i);
        }
        assert_eq!(c.len(), PER_NAME + 1);
    }

    #[test]
    fn remove_by_id() {
        let c = SessionCache::new(8);
        let x = c.insert("a", "x");
        let y = c.insert("b", "y");
        assert_eq!(c.remove(x), Some("x"));
        assert_eq!(c.remove(x), None);
        assert_eq!(c.take_newest("b"), Some((y, "y")));
        assert!(c.is_empty());
    }
}
