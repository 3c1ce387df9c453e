#![no_main]
//! `server_session`: see `polytls_fuzz_targets::drive::server_session`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| polytls_fuzz_targets::drive::server_session(data));
