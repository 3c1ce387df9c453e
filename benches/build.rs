//! Nothing to build. This script exists for its build-dependency (see
//! `Cargo.toml`): it makes `itertools` on the build host carry the same
//! features in `cargo doc` as in `cargo test`, where a test-only proc-macro
//! (prost-derive, through tonic-health) turns on its `use_std`. Without it,
//! `cargo xtask test` rebuilt bindgen and BoringSSL for the docs of the
//! BoringSSL world (about 130 s of CI).

fn main() {}
