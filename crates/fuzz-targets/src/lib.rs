//! The bodies of the polytls fuzz targets. `fuzz/` (cargo-fuzz, its own
//! workspace) calls them from libFuzzer; `tests/smoke.rs` replays seeds and
//! deterministic mutations through them in every `cargo xtask test`.
//!
//! Every target runs against each backend of the build: rustls and the one
//! OpenSSL-family backend chosen by feature (`openssl` or `boring`; never
//! both). A target "fails" by panicking: a panic in polytls or a backend, a
//! broken invariant (a handshake that both ends accept after tampering but
//! whose keys disagree; adapter output that differs from its input), or, in
//! the differential target, a divergence not in [`differential::ALLOWED`].

#![forbid(unsafe_code)]

// OpenSSL and BoringSSL export the same C symbols: one binary holds one.
#[cfg(all(feature = "openssl", feature = "boring"))]
compile_error!("enable one of the `openssl` and `boring` features, not both");

// The `openssl` crate links one library per build (Cargo unifies features).
#[cfg(all(feature = "aws-lc", any(feature = "openssl", feature = "boring")))]
compile_error!("enable one of the `openssl`, `boring` and `aws-lc` features");

pub mod adapters;
pub mod config;
pub mod differential;
pub mod drive;
pub mod fixtures;
pub mod handshake;
pub mod seeds;

pub use drive::Class;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target: name and body.
pub const TARGETS: &[(&str, Target)] = &[
    ("server_session", drive::server_session),
    ("client_session", drive::client_session),
    ("handshake_mutation", handshake::mutated_handshake),
    ("config_load", config::load),
    ("adapters", adapters::run),
    ("differential", differential::run),
];
