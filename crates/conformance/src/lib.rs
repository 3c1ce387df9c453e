//! # polytls-conformance — the behaviour every backend must share
//!
//! Generic test cases (`fn(&B)` for any [`Backend`]), an in-memory [`Pair`]
//! driver and an in-process test [`pki`]. A backend's conformance test is a
//! test target with `harness = false` whose `main` is one call:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     polytls_conformance::run(polytls_rustls::Rustls, &polytls_conformance::Expectations::NONE)
//! }
//! ```
//!
//! which runs every case twice: `static_path::*` on the backend type itself
//! and `dyn_path::*` through [`DynBackend`], with
//! libtest's command line and output.
//!
//! ## Expected differences are data
//!
//! As in BoringSSL's BoGo runner, what a backend does differently is a table
//! the backend passes in ([`Expectations`]), never `if name == ..` in a
//! case: `skips` lists cases known to fail on it, each with the reason —
//! they are reported as ignored, and each is also run as
//! `stale_skip::<case>`, which fails once the case passes (remove the entry
//! then); `quirks` lists documented behaviours that cases check instead of
//! the common one. A case that needs a [`Capability`] the backend lacks
//! (asked with [`Backend::supports`]) is ignored too, and listed with the
//! reason before the run.

pub mod cases;
pub mod external;
pub mod interop;
pub mod pair;
pub mod pki;
pub mod wire;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;

pub use pair::{Outcome, Pair, Side};
#[doc(hidden)]
pub use polytls_api;
use polytls_api::{Backend, Capability, DynBackend};

/// A documented behaviour in which a backend differs from the others; cases
/// that meet it check the backend's own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// Reads the first entry of a server_name list and ignores trailing
    /// bytes (rustls) where the others refuse the ClientHello.
    LenientServerNameList,
    /// Refuses any non-handshake record before the ClientHello as
    /// `PeerMisbehaved` (OpenSSL), where the others report the early end.
    RecordBeforeClientHelloMisbehaves,
    /// Ignores TLS 1.3 session tickets that arrive after the client sent its
    /// close_notify (BoringSSL), where the others keep them: a client that
    /// half-closes before reading the reply does not resume next time.
    TicketsIgnoredAfterCloseNotify,
    /// Ends a TLS 1.2 handshake without an alert when its key can sign with
    /// none of the schemes the client accepts (rustls: the server reports
    /// `NoSharedSignatureScheme`, the client only sees the connection end),
    /// where the others send `handshake_failure`.
    NoAlertWithoutSharedSignatureScheme,
    /// Chooses a TLS 1.2 cipher suite only where it can sign with a scheme
    /// the client accepts (BoringSSL), so a server without a shared scheme
    /// reports `NoSharedCipherSuite` where the others report
    /// `NoSharedSignatureScheme`.
    Tls12SuiteNeedsSignatureScheme,
    /// Fails the handshake (`NoSharedSignatureScheme`) when a client's key
    /// can make none of the schemes the server's CertificateRequest
    /// allows (BoringSSL, AWS-LC), where the others send no certificate
    /// and leave the server to decide.
    ClientFailsWithoutSharedSignatureScheme,
}

/// What one backend is known to do differently (see the crate docs).
#[derive(Debug, Clone, Copy)]
pub struct Expectations {
    /// Cases known to fail, with the reason: `("module::case", "why")`.
    pub skips: &'static [(&'static str, &'static str)],
    /// Behaviours the cases accept from this backend instead of the common
    /// one.
    pub quirks: &'static [Quirk],
}

impl Expectations {
    /// No known differences.
    pub const NONE: Expectations = Expectations {
        skips: &[],
        quirks: &[],
    };
}

thread_local! {
    static QUIRKS: Cell<&'static [Quirk]> = const { Cell::new(&[]) };
    /// The message of the last panic on this thread (the harness prints it
    /// with the failure instead of the default hook printing it at once).
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Whether the backend under test has `quirk` (set by [`run`] for each case).
pub fn quirk(quirk: Quirk) -> bool {
    QUIRKS.with(|q| q.get().contains(&quirk))
}

/// One case of the suite.
pub struct Case<B> {
    /// `module::case`.
    pub name: &'static str,
    /// The capability the case needs, if any.
    pub needs: Option<Capability>,
    /// The case.
    pub run: fn(&B),
}

/// Runs `f` with `quirks` in force; `Err` carries the panic message.
fn attempt(quirks: &'static [Quirk], f: impl FnOnce()) -> Result<(), String> {
    QUIRKS.with(|q| q.set(quirks));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIRKS.with(|q| q.set(&[]));
    r.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "the case panicked".into())
    })
}

fn trials<B: Backend + Clone>(
    path: &str,
    backend: B,
    expected: &'static Expectations,
    skipped: &mut Vec<String>,
) -> Vec<libtest_mimic::Trial> {
    let mut out = Vec::new();
    for case in cases::all::<B>() {
        let name = format!("{path}::{}", case.name);
        let listed = expected.skips.iter().find(|(n, _)| *n == case.name);
        let missing = case.needs.filter(|c| !backend.supports(*c));
        let reason = match (listed, missing) {
            (Some((_, why)), _) => Some(why.to_string()),
            (None, Some(cap)) => Some(format!("{} lacks {cap:?}", backend.name())),
            (None, None) => None,
        };
        if let Some(why) = &reason {
            skipped.push(format!("{name}: {why}"));
        }
        let b = backend.clone();
        let run = case.run;
        let quirks = expected.quirks;
        out.push(
            libtest_mimic::Trial::test(name, move || {
                attempt(quirks, || run(&b)).map_err(libtest_mimic::Failed::from)
            })
            .with_ignored_flag(reason.is_some()),
        );
    }
    out
}

/// Runs the suite on `backend` with libtest's command line and output;
/// `expected` is the backend's table of known differences.
pub fn run<B: Backend + Clone>(backend: B, expected: &'static Expectations) -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    // Keep each panic's message and place for the failure report (libtest
    // would capture them; this harness reports them with the failure).
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<String>() {
            Some(s) => s.clone(),
            None => info
                .payload()
                .downcast_ref::<&str>()
                .map_or_else(|| "the case panicked".into(), |s| s.to_string()),
        };
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
    }));
    let mut skipped = Vec::new();
    let mut all = trials("static_path", backend.clone(), expected, &mut skipped);
    all.extend(trials(
        "dyn_path",
        DynBackend::new(backend.clone()),
        expected,
        &mut skipped,
    ));
    let known: Vec<&str> = cases::all::<B>().iter().map(|c| c.name).collect();
    for &(name, why) in expected.skips {
        let case = cases::all::<B>().into_iter().find(|c| c.name == name);
        let b = backend.clone();
        let quirks = expected.quirks;
        let listed = known.contains(&name);
        all.push(libtest_mimic::Trial::test(
            format!("stale_skip::{name}"),
            move || {
                let Some(case) = case.filter(|_| listed) else {
                    return Err(format!("the skip list names {name:?}, which is no case").into());
                };
                match attempt(quirks, || (case.run)(&b)) {
                    Err(_) => Ok(()),
                    Ok(()) => Err(format!(
                        "{name} now passes on {}: remove its skip ({why})",
                        b.name()
                    )
                    .into()),
                }
            },
        ));
    }
    if !skipped.is_empty() && !args.list {
        println!("skipped on {} ({}):", backend.name(), skipped.len());
        for s in &skipped {
            println!("  {s}");
        }
    }
    match libtest_mimic::run(&args, all).has_failed() {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    }
}

/// Invokes `$m!` with the list of every case, each with the capability it
/// needs in brackets (so the list lives once).
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
            handshake::handshake_tls13_rsa4096 [Rsa4096],
            handshake::handshake_tls13_ed25519 [Ed25519],
            handshake::handshake_tls12_ed25519 [Ed25519],
            handshake::info_reports_negotiated_parameters,
            handshake::cipher_suite_restriction_tls13 [CipherSuite(CipherSuite::TLS_AES_256_GCM_SHA384)],
            handshake::cipher_suite_restriction_tls12,
            handshake::group_restriction,
            handshake::no_shared_cipher_suite,
            handshake::no_shared_group,
            handshake::version_mismatch,
            handshake::pkcs12_identity,
            handshake::mismatched_key_is_invalid_config,
            handshake::unsupported_group_is_unsupported,
            defaults::default_client_hello_offers_portable_lists,
            signatures::verify_schemes_offered_in_order,
            signatures::server_signs_with_its_first_preference,
            signatures::no_shared_signature_scheme,
            signatures::client_auth_signing_schemes,
            signatures::signature_scheme_capability_matches_contexts,
            signatures::peer_signature_scheme_reported,
            signatures::client_without_shared_scheme,
            signatures::identity_that_cannot_sign_is_refused,
            signatures::peer_signature_scheme_none_on_resumption [ClientResumption],
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
            verify::client_auth_danger_accept_any,
            negotiation::sni_acknowledged,
            revocation::good_chains_pass,
            revocation::revoked_server_leaf,
            revocation::revoked_client_leaf,
            revocation::revoked_intermediate,
            revocation::other_ca_crl_is_ignored,
            revocation::expired_crl_is_refused,
            revocation::future_dated_crl_is_refused,
            revocation::no_crls_no_checking,
            revocation::revocation_config_errors,
            resumption::resumption_tls13 [ClientResumption],
            resumption::resumption_tls12 [ClientResumption],
            resumption::resumed_group_is_this_handshakes [ClientResumption],
            resumption::resumption_disabled_client [ClientResumption],
            resumption::resumption_disabled_server [ClientResumption],
            resumption::resumption_not_across_server_contexts [ClientResumption],
            resumption::resumption_state_round_trip [ClientResumption],
            resumption::resumption_state_from_another_context_refused [ClientResumption],
            resumption::tls13_ticket_used_once [ClientResumption],
            resumption::no_resumption_after_truncation [ClientResumption],
            resumption::tickets_after_close_notify [ClientResumption],
            resumption::shared_ticket_keys_resume_across_contexts [TicketKeys],
            resumption::different_ticket_keys_do_not_resume [TicketKeys],
            resumption::ticket_key_rotation [TicketKeyRotation],
            resumption::ticket_key_name_leads_each_ticket [TicketKeys],
            resumption::tls12_session_ids_only [Tls12SessionIds],
            resumption::resumption_lifetime,
            trust::resumption_refused_after_client_cert_expires [ClientResumption],
            trust::resumption_not_offered_after_server_cert_expires [ClientResumption],
            trust::resumption_state_expires_with_the_chain [ClientResumption],
            trust::resumption_refused_after_client_revoked [TicketKeys],
            trust::resumption_state_bound_to_client_trust [ClientResumption],
            early_data::early_data_accepted [ClientEarlyData],
            early_data::early_data_rejected [ClientEarlyData],
            early_data::early_data_off [ClientEarlyData],
            data::transfer_one_byte,
            data::transfer_one_mib,
            data::transfer_record_boundaries,
            data::large_write_is_bounded,
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
            data::process_for_read_reports_what_records_hold,
            data::process_for_read_stores_tickets [ClientResumption],
            data::peer_sends_fatal_alert,
            data::close_notify_during_handshake,
            data::client_hello_with_trailing_byte_in_server_name,
            data::read_after_close_is_stable,
            data::random_fragmentation,
            adapters::blocking_over_tcp,
            adapters::blocking_truncation_is_error,
            adapters::blocking_read_error_sends_the_alert,
            adapters::tokio_over_tcp,
            adapters::tokio_hostile_io,
            adapters::tokio_early_eof,
            adapters::adapter_interleavings_tokio,
            adapters::adapter_interleavings_blocking,
            adapters::shutdown_before_first_use,
            async_adapters::futures_io_hostile_io,
            async_adapters::futures_io_over_smol,
            async_adapters::tokio_split_halves,
            async_adapters::tokio_write_vectored,
        }
    };
}

/// Defines `cases::all`, the registry of every case.
#[doc(hidden)]
#[macro_export]
macro_rules! __define_registry {
    (() $($m:ident :: $c:ident $([$cap:expr])?),* $(,)?) => {
        /// Every case, in order, for backend `B`.
        pub fn all<B: polytls_api::Backend>() -> Vec<$crate::Case<B>> {
            #[allow(unused_imports, reason = "capabilities are named in the case list")]
            use polytls_api::{Capability::*, CipherSuite};
            vec![$($crate::Case {
                name: concat!(stringify!($m), "::", stringify!($c)),
                needs: None $(.or(Some($cap)))?,
                run: $m::$c::<B>,
            }),*]
        }
    };
}
