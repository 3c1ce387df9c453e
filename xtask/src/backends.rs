//! The backends as the xtask builds and runs them, in one list: each one's
//! name and feature come from polytls' registry; this adds the world (the
//! cargo invocation) that builds it, and so the binaries that hold it.

use crate::{World, WORLDS};

/// One backend the xtask runs.
pub(crate) struct XBackend {
    /// The registry name (`Backend::name`).
    pub(crate) name: &'static str,
    /// The index in [`WORLDS`] of the world that builds it.
    world: usize,
}

/// Every backend, in the order tables show them.
pub(crate) const BACKENDS: &[XBackend] = &[
    XBackend {
        name: "rustls",
        world: 0,
    },
    XBackend {
        name: "rustls-ring",
        world: 0,
    },
    XBackend {
        name: "openssl",
        world: 0,
    },
    XBackend {
        name: "boring",
        world: 1,
    },
    XBackend {
        name: "aws-lc",
        world: 2,
    },
];

impl XBackend {
    /// The world whose binaries hold this backend.
    pub(crate) fn world(&self) -> &'static World {
        &WORLDS[self.world]
    }

    /// The `polytls` cargo feature that compiles it in (registry).
    pub(crate) fn feature(&self) -> &'static str {
        polytls_api::registry::lookup(self.name).map_or(self.name, |e| e.feature)
    }
}

/// The names, in table order.
pub(crate) fn names() -> Vec<&'static str> {
    BACKENDS.iter().map(|b| b.name).collect()
}

/// The backend called `name` (or an alias the registry knows).
pub(crate) fn get(name: &str) -> Result<&'static XBackend, String> {
    let canonical = polytls_api::registry::lookup(name).map_or(name, |e| e.name);
    BACKENDS
        .iter()
        .find(|b| b.name == canonical)
        .ok_or_else(|| format!("unknown backend {name:?}: {}", names().join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_backend_is_listed_once_and_worlds_respect_excludes() {
        for entry in polytls_api::registry::BACKENDS {
            assert_eq!(
                BACKENDS.iter().filter(|b| b.name == entry.name).count(),
                1,
                "{}",
                entry.name
            );
        }
        assert_eq!(BACKENDS.len(), polytls_api::registry::BACKENDS.len());
        for a in BACKENDS {
            for b in BACKENDS {
                let excluded = polytls_api::registry::lookup(a.name)
                    .is_some_and(|e| e.excludes.contains(&b.name));
                assert!(
                    !(excluded && a.world == b.world),
                    "{} and {} cannot share a world",
                    a.name,
                    b.name
                );
            }
        }
        assert_eq!(get("BoringSSL").map(|b| b.name), Ok("boring"));
    }
}
