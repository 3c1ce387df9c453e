#![no_main]
//! `handshake_mutation`: see `polytls_fuzz_targets::handshake::mutated_handshake`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| polytls_fuzz_targets::handshake::mutated_handshake(data));
