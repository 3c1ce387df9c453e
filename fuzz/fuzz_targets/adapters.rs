#![no_main]
//! `adapters`: see `polytls_fuzz_targets::adapters::run`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| polytls_fuzz_targets::adapters::run(data));
