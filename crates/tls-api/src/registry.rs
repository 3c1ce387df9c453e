//! The one list of backends: names, aliases, cargo features, packages and
//! which of them can never be built together. The facade, the CLI and the
//! project's tooling read it; what each backend can do is asked of the
//! backend itself ([`Backend::supports`](crate::Backend::supports)).

/// One backend polytls knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendEntry {
    /// The canonical name (`Backend::name`).
    pub name: &'static str,
    /// Other names accepted for it (case-insensitive).
    pub aliases: &'static [&'static str],
    /// The `polytls` cargo feature that compiles it in.
    pub feature: &'static str,
    /// The crate that implements it.
    pub package: &'static str,
    /// Backends it can never share a build with: OpenSSL, BoringSSL and
    /// AWS-LC's libssl export the same C symbols, and the `openssl` crate
    /// links either the system OpenSSL or AWS-LC for a whole build (Cargo
    /// unifies features).
    pub excludes: &'static [&'static str],
}

/// Every backend, in default precedence order (memory-safe first).
pub const BACKENDS: &[BackendEntry] = &[
    BackendEntry {
        name: "rustls",
        aliases: &[],
        feature: "rustls",
        package: "polytls-rustls",
        excludes: &[],
    },
    BackendEntry {
        name: "rustls-ring",
        aliases: &["ring"],
        feature: "rustls-ring",
        package: "polytls-rustls",
        excludes: &[],
    },
    BackendEntry {
        name: "openssl",
        aliases: &[],
        feature: "openssl",
        package: "polytls-openssl",
        excludes: &["boring", "aws-lc"],
    },
    BackendEntry {
        name: "boring",
        aliases: &["boringssl"],
        feature: "boring",
        package: "polytls-boring",
        excludes: &["openssl", "aws-lc"],
    },
    BackendEntry {
        name: "aws-lc",
        aliases: &["awslc", "aws_lc"],
        feature: "aws-lc",
        package: "polytls-aws-lc",
        excludes: &["openssl", "boring"],
    },
];

/// The entry for `name` or one of its aliases (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static BackendEntry> {
    BACKENDS.iter().find(|b| {
        b.name.eq_ignore_ascii_case(name) || b.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The names of every backend, for messages.
pub fn names() -> Vec<&'static str> {
    BACKENDS.iter().map(|b| b.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_name_and_alias() {
        assert_eq!(lookup("RUSTLS").map(|b| b.name), Some("rustls"));
        assert_eq!(lookup("BoringSSL").map(|b| b.name), Some("boring"));
        assert_eq!(lookup("AWSLC").map(|b| b.name), Some("aws-lc"));
        assert_eq!(lookup("ring").map(|b| b.name), Some("rustls-ring"));
        assert!(lookup("schannel").is_none());
        for b in BACKENDS {
            for other in b.excludes {
                assert!(
                    lookup(other).is_some_and(|o| o.excludes.contains(&b.name)),
                    "{} and {other} exclude each other",
                    b.name
                );
            }
        }
    }
}
