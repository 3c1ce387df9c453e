#![no_main]
//! `client_session`: see `polytls_fuzz_targets::drive::client_session`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| polytls_fuzz_targets::drive::client_session(data));
