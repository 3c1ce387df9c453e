//! Nothing to build. This script exists for its build-dependency (see
//! `Cargo.toml`): built beside the downstream example, it makes `itertools`
//! on the build host carry the features it has in the test worlds, where a
//! test-only proc-macro (prost-derive, through tonic-health) and
//! `polytls-bench`'s build script turn on its `use_std`. bindgen depends on
//! itertools, and BoringSSL's and AWS-LC's build scripts on bindgen: without
//! this, each one-backend build of the example built BoringSSL or AWS-LC
//! from source a second time.

fn main() {}
