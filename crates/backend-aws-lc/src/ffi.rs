//! The one module of `polytls-aws-lc` that uses `unsafe`, for the calls the
//! `openssl` crate offers over AWS-LC only as raw `openssl-sys` functions
//! (DESIGN.md, "the audited exception"):
//!
//! - attaching a client session (`SSL_set_session`, which the `openssl`
//!   crate marks `unsafe`: rust-openssl#1041);
//! - the server's ticket key (`SSL_CTX_set_tlsext_ticket_keys`);
//! - the signature-scheme preferences and TLS 1.3 suites
//!   (`SSL_CTX_set_signing_algorithm_prefs`,
//!   `SSL_CTX_set_verify_algorithm_prefs`, `SSL_CTX_set_ciphersuites`),
//!   which the crate binds for OpenSSL only: without them AWS-LC's defaults
//!   would differ from every other backend's;
//! - the negotiated group (`SSL_get_group_id`) and the peer's signature
//!   scheme (`SSL_get_peer_signature_algorithm`), which it does not bind.
//!
//! Each block states the binding's contract and why it holds; the tests
//! named in each comment fail if it is broken.

use std::ffi::{c_int, CString};

use foreign_types::ForeignTypeRef;
use openssl::ssl::{SslContextBuilder, SslRef, SslSession};
use openssl_sys::SSL_CTX;
use polytls_api::{Error, Result, TicketKeys};
use polytls_ossl_common::{not_a_session, ticket_key_refused};

use crate::NAME;

/// Attaches a session, serialized by this client context, to `ssl`.
///
/// Soundness rests only on the session being decoded here from DER, so it
/// belongs to no context. Where the DER comes from is a matter of
/// correctness: through `ClientDriver::connect` it comes only from this
/// context's cache, or from a `ResumptionState` that `polytls-api` checked
/// belongs to this context and server name.
pub(crate) fn attach_session(ssl: &mut SslRef, der: &[u8]) -> Result<()> {
    let session = SslSession::from_der(der).map_err(|e| not_a_session(NAME, e))?;
    // SAFETY: `set_session` requires that the session be "associated with
    // the same SslContext as this Ssl". AWS-LC's `d2i_SSL_SESSION`
    // (`SSL_SESSION_parse`) makes a fresh session that is in no context's
    // cache and has no ex_data, so the only context it meets is `ssl`'s own,
    // whose cache produced the DER. AWS-LC aborts the process if a session
    // is set after the handshake has started: the family attaches it only to
    // a fresh `Ssl`, before any handshake step (`rust_openssl_binding!`'s
    // `Binding::client`). `SSL_set_session` takes its own reference, so
    // dropping `session` afterwards is sound. Tests:
    // `resumption_state_round_trip` and
    // `resumption_state_from_another_context_refused` (conformance).
    unsafe { ssl.set_session(&session) }
        .map_err(|e| Error::other(format!("{NAME}: SSL_set_session"), e))
}

/// Sets the context's ticket key. AWS-LC's format is 48 bytes: the 16-byte
/// name, then 16 bytes of HMAC-SHA256 key and 16 of AES-128-CBC key; the
/// first halves of polytls' 32-byte keys are used. AWS-LC keeps this one
/// key (its automatic rotation is switched off by the call).
pub(crate) fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
    let k = keys.current();
    let mut raw = [0u8; 48];
    raw[..16].copy_from_slice(&k.name);
    raw[16..32].copy_from_slice(&k.hmac[..16]);
    raw[32..].copy_from_slice(&k.aes[..16]);
    // SAFETY: `SSL_CTX_set_tlsext_ticket_keys(ctx, in, len)` (AWS-LC
    // `ssl_lib.cc`) returns 0 unless `len` is 48, and otherwise copies the
    // 48 bytes at `in` into a new key owned by the context, keeping no
    // pointer to them. `b.as_ptr()` is the builder's live SSL_CTX, borrowed
    // mutably for the call; `raw` is 48 readable bytes. Tests:
    // `ticket_key_name_leads_each_ticket` (the layout: tickets start with
    // the name) and `shared_ticket_keys_resume_across_contexts`.
    let set =
        unsafe { openssl_sys::SSL_CTX_set_tlsext_ticket_keys(b.as_ptr(), raw.as_ptr().cast(), 48) };
    zeroize::Zeroize::zeroize(&mut raw);
    match set {
        1 => Ok(()),
        _ => Err(ticket_key_refused(NAME, openssl::error::ErrorStack::get())),
    }
}

/// `SSL_CTX_set_signing_algorithm_prefs` and
/// `SSL_CTX_set_verify_algorithm_prefs`: the schemes this side signs with
/// and those it accepts, as IANA codes in preference order.
pub(crate) fn set_sigalg_prefs(
    b: &mut SslContextBuilder,
    signing: &[u16],
    verify: &[u16],
) -> std::result::Result<(), String> {
    for (setter, prefs) in [
        (
            openssl_sys::SSL_CTX_set_signing_algorithm_prefs as PrefsSetter,
            signing,
        ),
        (openssl_sys::SSL_CTX_set_verify_algorithm_prefs, verify),
    ] {
        // SAFETY: both setters (AWS-LC `ssl_privkey.cc`) take a live SSL_CTX
        // and `num_prefs` readable `uint16_t`s at `prefs`, copy them during
        // the call into an array the context owns (after refusing
        // duplicates and codes AWS-LC does not know), keep no pointer to
        // them and return 1 on success. `b.as_ptr()` is the builder's live
        // context, borrowed mutably; `prefs` is a live slice and its length
        // is passed with it. Tests: `unknown_sigalg_rejected` below (a
        // refusal is reported, not ignored), conformance
        // `defaults::default_client_hello_offers_portable_lists` and the
        // `signatures` cases (the lists are what is offered, signed with and
        // accepted).
        if unsafe { setter(b.as_ptr(), prefs.as_ptr(), prefs.len()) } != 1 {
            return Err(openssl::error::ErrorStack::get().to_string());
        }
    }
    Ok(())
}

type PrefsSetter = unsafe extern "C" fn(*mut SSL_CTX, *const u16, usize) -> c_int;

/// `SSL_CTX_set_ciphersuites`: the TLS 1.3 suites.
pub(crate) fn set_tls13_suites(
    b: &mut SslContextBuilder,
    list: &str,
) -> std::result::Result<(), String> {
    let list = CString::new(list).map_err(|e| e.to_string())?;
    // SAFETY: `SSL_CTX_set_ciphersuites` (AWS-LC `ssl_lib.cc`) takes a live
    // SSL_CTX and a NUL-terminated string, parses the string during the
    // call into an array the context owns, and keeps no pointer to it; it
    // returns 1 on success. `b.as_ptr()` is the builder's live context,
    // borrowed mutably; `list` is a CString alive for the call. Tests:
    // conformance `handshake::cipher_suite_restriction_tls13` (the
    // configured suites are what is offered and negotiated), and
    // `unknown_sigalg_rejected` below (a known suite is taken).
    if unsafe { openssl_sys::SSL_CTX_set_ciphersuites(b.as_ptr(), list.as_ptr()) } == 1 {
        Ok(())
    } else {
        Err(openssl::error::ErrorStack::get().to_string())
    }
}

/// `SSL_get_group_id`: the IANA code of the key-exchange group of the
/// connection's session (0 before the handshake, or if none).
pub(crate) fn group_id(ssl: &SslRef) -> u16 {
    // SAFETY: `SSL_get_group_id(const SSL *)` (AWS-LC `ssl_lib.cc`) only
    // reads the connection's current session, returning 0 when it has
    // none; `ssl.as_ptr()` is a live SSL borrowed for the call. Tests:
    // conformance `handshake::group_restriction` and
    // `handshake::info_reports_negotiated_parameters` (the group read is the
    // one configured).
    unsafe { openssl_sys::SSL_get_group_id(ssl.as_ptr()) }
}

/// `SSL_get_peer_signature_algorithm`: the IANA code of the scheme the
/// peer signed the handshake with (0 if none, or before the handshake).
pub(crate) fn peer_signature_algorithm(ssl: &SslRef) -> u16 {
    // SAFETY: `SSL_get_peer_signature_algorithm(const SSL *)` (AWS-LC
    // `ssl_lib.cc`) only reads the connection's current session, returning
    // 0 when it has none or no signature was made; `ssl.as_ptr()` is a live
    // SSL borrowed for the call. Test: conformance
    // `signatures::peer_signature_scheme_reported` (the scheme read is the
    // one the peer was configured to sign with).
    unsafe { openssl_sys::SSL_get_peer_signature_algorithm(ssl.as_ptr()) }
}

#[cfg(test)]
mod tests {
    use openssl::ssl::{SslContextBuilder, SslMethod};

    #[test]
    fn unknown_sigalg_rejected() {
        let mut b = SslContextBuilder::new(SslMethod::tls()).expect("context");
        assert!(super::set_sigalg_prefs(&mut b, &[0x0403], &[0x0804, 0x0403]).is_ok());
        // An unknown code, and a duplicate, in either list.
        assert!(super::set_sigalg_prefs(&mut b, &[0x0403, 0xfefe], &[0x0403]).is_err());
        assert!(super::set_sigalg_prefs(&mut b, &[0x0403], &[0x0403, 0x0403]).is_err());
        assert!(super::set_tls13_suites(&mut b, "TLS_AES_128_GCM_SHA256").is_ok());
    }
}
