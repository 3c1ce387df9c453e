//! No code: `cargo xtask test` builds this package beside the downstream
//! example, in each of its one-backend builds, for its dependencies' features
//! alone (see `Cargo.toml` and `build.rs`). The example's own dependency
//! graph is unchanged: it holds polytls with exactly one backend.
