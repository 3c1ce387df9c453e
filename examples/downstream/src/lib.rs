//! Compiles, as doctests, every Rust example a user copies from the
//! README and from the crate docs of the integrations — unchanged, in a
//! crate that depends on `polytls` and the integrations only, as a user's
//! crate does. An example that imports `polytls_api::…` fails here.
#![doc = include_str!("../../../README.md")]

/// The crate example of `polytls-hyper`.
#[doc = include_str!("../../../crates/hyper/src/example.md")]
pub mod hyper_example {}

/// The crate example of `polytls-listener`.
#[doc = include_str!("../../../crates/listener/src/example.md")]
pub mod listener_example {}

/// The crate example of `polytls-postgres`.
#[doc = include_str!("../../../crates/postgres/src/example.md")]
pub mod postgres_example {}
