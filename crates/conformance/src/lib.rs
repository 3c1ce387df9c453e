//! # polytls-conformance — the behaviour every backend must share
//!
//! Generic test cases (`fn(&B)` for any [`Backend`](polytls_api::Backend)),
//! an in-memory [`Pair`] driver and an in-process test [`pki`]. A backend
//! crate stamps the whole suite into its test binary with one line:
//!
//! ```ignore
//! polytls_conformance::conformance_tests!(polytls_rustls::Rustls);
//! ```
//!
//! which generates every case twice: `static_path::*` on the backend type
//! itself and `dyn_path::*` through [`DynBackend`](polytls_api::DynBackend).

pub mod cases;
pub mod external;
pub mod interop;
pub mod pair;
pub mod pki;

pub use pair::{Outcome, Pair, Side};
#[doc(hidden)]
pub use polytls_api;

/// Invokes `$m!` with the list of every case name (so the list lives once).
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cases {
    ($m:ident ! ($($args:tt)*)) => {
        $crate::$m! { ($($args)*)
            handshake::handshake_tls13_ecdsa_p256,
            handshake::handshake_tls12_ecdsa_p256,
            handshake::handshake_tls13_ecdsa_p384,
            handshake::handshake_tls12_ecdsa_p384,
            handshake::handshake_tls13_rsa2048,
            handshake::handshake_tls12_rsa2048,
            handshake::handshake_tls13_rsa4096,
            handshake::handshake_tls13_ed25519,
            handshake::handshake_tls12_ed25519,
            handshake::info_reports_negotiated_parameters,
            handshake::cipher_suite_restriction_tls13,
            handshake::cipher_suite_restriction_tls12,
            handshake::group_restriction,
            handshake::no_shared_cipher_suite,
            handshake::no_shared_group,
            handshake::version_mismatch,
            handshake::pkcs12_identity,
            handshake::mismatched_key_is_invalid_config,
            handshake::unsupported_group_is_invalid_config,
            verify::wrong_hostname,
            verify::unknown_issuer,
            verify::expired_leaf,
            verify::not_yet_valid_leaf,
            verify::wrong_purpose_leaf,
            verify::wildcard_and_ip_names,
            verify::danger_accept_invalid_certs,
            verify::danger_accept_invalid_hostnames,
            verify::pin_leaf_matches,
            verify::pin_intermediate_matches,
            verify::pin_mismatch,
            verify::pin_text_round_trip_and_hostile_text,
            verify::client_auth_required_with_cert,
            verify::client_auth_required_without_cert,
            verify::client_auth_optional_without_cert,
            verify::client_auth_optional_with_cert,
            verify::client_auth_untrusted_cert,
            verify::client_auth_none_sends_nothing,
            verify::client_hears_certificate_alert,
            verify::chain_depth_one,
            verify::chain_depth_three,
            verify::missing_intermediate,
            verify::expired_intermediate,
            verify::not_yet_valid_intermediate,
            verify::idn_names,
            negotiation::alpn_server_preference,
            negotiation::alpn_no_overlap,
            negotiation::alpn_client_sends_none,
            negotiation::sni_selects_identity,
            negotiation::sni_unknown_name_uses_default,
            negotiation::sni_absent_uses_default,
            negotiation::resumption_tls13,
            negotiation::resumption_tls12,
            negotiation::resumption_disabled_client,
            negotiation::resumption_disabled_server,
            negotiation::resumption_not_across_server_contexts,
            data::transfer_one_byte,
            data::transfer_one_mib,
            data::transfer_record_boundaries,
            data::zero_length_write,
            data::write_before_handshake_completes,
            data::close_notify_is_clean_eof,
            data::truncation_is_unexpected_eof,
            data::half_close,
            data::write_after_close_is_misuse,
            data::eof_during_handshake,
            data::exporter_agrees,
            data::key_log_lines,
            data::key_log_off_by_default,
            data::garbage_to_server,
            data::client_hello_with_garbage_extensions,
            data::truncated_record_mid_stream,
            data::tampered_record_is_rejected,
            data::peer_sends_fatal_alert,
            data::close_notify_during_handshake,
            data::client_hello_with_trailing_byte_in_server_name,
            data::read_after_close_is_stable,
            data::random_fragmentation,
            adapters::blocking_over_tcp,
            adapters::blocking_truncation_is_error,
            adapters::tokio_over_tcp,
            adapters::tokio_hostile_io,
            adapters::tokio_early_eof,
            adapters::adapter_interleavings_tokio,
            adapters::adapter_interleavings_blocking,
            adapters::shutdown_before_first_use,
        }
    };
}

/// Stamps one `#[test]` per case, calling it with the backend `$make` builds.
#[doc(hidden)]
#[macro_export]
macro_rules! __stamp_cases {
    (($make:expr) $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let backend = $make;
                $crate::cases::$module::$case(&backend);
            }
        )*
    };
}

/// Stamps the whole conformance suite into the calling test crate, once on
/// the static path (`static_path::*`) and once through `DynBackend`
/// (`dyn_path::*`). `$backend` is an expression building the backend.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:expr) => {
        mod static_path {
            $crate::__with_cases!(__stamp_cases!($backend));
        }
        mod dyn_path {
            $crate::__with_cases!(__stamp_cases!($crate::polytls_api::DynBackend::new(
                $backend
            )));
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __define_names {
    (($($x:tt)*) $($m:ident :: $c:ident),* $(,)?) => {
        /// Every case name, `module::case`, in stamping order.
        pub const CASE_NAMES: &[&str] = &[$(concat!(stringify!($m), "::", stringify!($c))),*];
    };
}
__with_cases!(__define_names!());
