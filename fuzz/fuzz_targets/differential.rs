#![no_main]
//! `differential`: see `polytls_fuzz_targets::differential::run`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| polytls_fuzz_targets::differential::run(data));
