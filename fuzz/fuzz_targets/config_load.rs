#![no_main]
//! `config_load`: see `polytls_fuzz_targets::config::load`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| polytls_fuzz_targets::config::load(data));
