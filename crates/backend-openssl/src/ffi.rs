//! The one module of `polytls-openssl` that uses `unsafe`, for what the
//! bindings offer only that way (DESIGN.md, "the audited exception"):
//!
//! - attaching a client session (`SSL_set_session`, which the `openssl`
//!   crate marks `unsafe`: rust-openssl#1041);
//! - setting the server's ticket key (`SSL_CTX_set_tlsext_ticket_keys`, a C
//!   macro over `SSL_CTX_ctrl`, which only `openssl-sys` binds;
//!   rust-openssl#1828);
//! - the signature schemes of client authentication
//!   (`SSL_CTX_set1_client_sigalgs_list`, a C macro over `SSL_CTX_ctrl`,
//!   bound by neither crate);
//! - reading the peer's signature scheme (`SSL_get_peer_signature_type_nid`
//!   and the `SSL_get_peer_signature_nid` macro over `SSL_ctrl`, bound by
//!   neither crate);
//! - reading the negotiated group (`SSL_get_negotiated_group`, a C macro
//!   over `SSL_ctrl`, bound by neither crate): the ephemeral keys the
//!   `openssl` crate can read name no hybrid group such as X25519MLKEM768.
//!
//! Each block states the binding's contract and why it holds; the tests
//! named in each comment fail if it is broken.

use foreign_types::ForeignTypeRef;
use openssl::ssl::{SslContextBuilder, SslRef, SslSession};
use polytls_api::{Error, Result, TicketKeys};
use polytls_ossl_common::{not_a_session, ticket_key_refused};

use crate::NAME;

/// Attaches a session, serialized by this client context, to `ssl`.
///
/// Soundness rests only on the session being decoded here from DER, so it
/// belongs to no context (the SAFETY comment below). Where the DER comes
/// from is a matter of correctness, not of memory safety: through
/// `ClientDriver::connect` (the family's `OsslClientContext`) it comes only
/// from this context's cache, or from a `ResumptionState` that
/// `polytls-api` checked belongs to this context (same context in this
/// process; same backend and verification settings when restored from
/// bytes) and to this server name. A caller of `Binding::client` that
/// passes other bytes can only offer a session the server will not resume.
pub(crate) fn attach_session(ssl: &mut SslRef, der: &[u8]) -> Result<()> {
    let session = SslSession::from_der(der).map_err(|e| not_a_session(NAME, e))?;
    // SAFETY: `set_session` requires that the session be "associated with
    // the same SslContext as this Ssl". `session` was just decoded from DER
    // (`d2i_SSL_SESSION`), so it carries no link to any SSL_CTX: it is in no
    // context's session cache, has no ex_data and no owner (the links
    // `SSL_set_session(3)` warns about). The only context it can meet is
    // `ssl`'s own, and the DER was produced by a session of that same
    // context (see above), so the session matches the context's
    // verification settings and session id context. `SSL_set_session` takes
    // its own reference, so dropping `session` afterwards is sound.
    // Tests: `resumption_state_round_trip` (resumes through this path) and
    // `resumption_state_from_another_context_refused` (a foreign value never
    // gets here) in the conformance suite.
    unsafe { ssl.set_session(&session) }
        .map_err(|e| Error::other(format!("{NAME}: SSL_set_session"), e))
}

/// `SSL_CTRL_SET_TLSEXT_TICKET_KEYS` (`ssl.h`).
const SSL_CTRL_SET_TLSEXT_TICKET_KEYS: std::os::raw::c_int = 59;

/// Sets the context's ticket key: key name, HMAC-SHA256 key and AES-256
/// key, as nginx does with `ssl_session_ticket_key`. OpenSSL keeps one key
/// this way, so it encrypts and decrypts; a list of several (rotation) was
/// refused before (`Gaps::ticket_key_rotation`).
pub(crate) fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
    let k = keys.current();
    let mut raw = [0u8; 80];
    raw[..16].copy_from_slice(&k.name);
    raw[16..48].copy_from_slice(&k.hmac);
    raw[48..].copy_from_slice(&k.aes);
    // SAFETY: `SSL_CTX_set_tlsext_ticket_keys(ctx, keys, keylen)` is
    // `SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS, keylen, keys)`.
    // OpenSSL 3 (`ssl3_ctx_ctrl`) requires `keylen` to be exactly 80 — name
    // (16), HMAC key (32), AES key (32), in that order — and otherwise
    // returns 0 without reading; with 80 it copies the bytes into the
    // context and keeps no pointer to them. `b.as_ptr()` is the builder's
    // live SSL_CTX, `raw` is 80 readable bytes alive for the call, and the
    // builder is borrowed mutably, so nothing else uses the context
    // meanwhile. Test: `ticket_key_name_leads_each_ticket` checks that
    // TLS 1.2 tickets start with the configured name (the layout), and
    // `shared_ticket_keys_resume_across_contexts` that the keys are used.
    let set = unsafe {
        openssl_sys::SSL_CTX_ctrl(
            b.as_ptr(),
            SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
            80,
            raw.as_mut_ptr().cast(),
        )
    };
    zeroize::Zeroize::zeroize(&mut raw);
    match set {
        1 => Ok(()),
        _ => Err(ticket_key_refused(NAME, openssl::error::ErrorStack::get())),
    }
}

/// `SSL_CTRL_SET_CLIENT_SIGALGS_LIST` (`ssl.h`).
const SSL_CTRL_SET_CLIENT_SIGALGS_LIST: std::os::raw::c_int = 102;

/// `SSL_CTX_set1_client_sigalgs_list`: the signature schemes of client
/// authentication, `:`-joined — those a server accepts from clients (its
/// CertificateRequest), those a client signs with.
pub(crate) fn set_client_sigalgs(
    b: &mut SslContextBuilder,
    list: &str,
) -> std::result::Result<(), String> {
    let list = std::ffi::CString::new(list).map_err(|e| e.to_string())?;
    // SAFETY: `SSL_CTX_set1_client_sigalgs_list(ctx, s)` is
    // `SSL_CTX_ctrl(ctx, SSL_CTRL_SET_CLIENT_SIGALGS_LIST, 0, (char *)s)`.
    // OpenSSL 3 (`ssl3_ctx_ctrl`, s3_lib.c) passes the string to
    // `tls1_set_sigalgs_list`, which parses the NUL-terminated string during
    // the call into an array the context owns, keeps no pointer to it, never
    // writes through it (the `char *` cast is the macro's), and returns 1
    // on success, 0 for a name it does not know. `b.as_ptr()` is the
    // builder's live SSL_CTX, borrowed mutably for the call; `list` is a
    // CString alive until the call returns. Tests: `client_sigalgs_set`
    // below (a known name is taken, an unknown one refused), and conformance
    // `signatures::client_auth_signing_schemes` (the list is what a client
    // signs with and what a server accepts).
    let set = unsafe {
        openssl_sys::SSL_CTX_ctrl(
            b.as_ptr(),
            SSL_CTRL_SET_CLIENT_SIGALGS_LIST,
            0,
            list.as_ptr() as *mut std::os::raw::c_void,
        )
    };
    if set == 1 {
        Ok(())
    } else {
        Err(openssl::error::ErrorStack::get().to_string())
    }
}

extern "C" {
    /// `ssl.h`, OpenSSL 1.1.1 and later.
    fn SSL_get_peer_signature_type_nid(
        s: *const openssl_sys::SSL,
        pnid: *mut std::os::raw::c_int,
    ) -> std::os::raw::c_int;
}

/// `SSL_CTRL_GET_PEER_SIGNATURE_NID` (`ssl.h`).
const SSL_CTRL_GET_PEER_SIGNATURE_NID: std::os::raw::c_int = 108;

/// The signature type and digest NIDs of the peer's handshake signature
/// (`SSL_get_peer_signature_type_nid`, `SSL_get_peer_signature_nid`);
/// `None` when the peer signed nothing (yet).
pub(crate) fn peer_signature_nids(ssl: &SslRef) -> Option<(i32, i32)> {
    let (mut kind, mut digest): (std::os::raw::c_int, std::os::raw::c_int) = (0, 0);
    // SAFETY: `SSL_get_peer_signature_type_nid(s, pnid)` (t1_lib.c) and
    // `SSL_get_peer_signature_nid(s, pn)`, which is `SSL_ctrl(s,
    // SSL_CTRL_GET_PEER_SIGNATURE_NID, 0, pn)` (`ssl3_ctrl`, s3_lib.c), each
    // return 0 without writing when the connection has no peer signature
    // algorithm, and otherwise write one `int` through the pointer and
    // return 1; neither keeps the pointer. `ssl.as_ptr()` is the live SSL
    // this `SslRef` borrows for both calls, and `kind` and `digest` are
    // `int`s alive across them. Test: conformance
    // `signatures::peer_signature_scheme_reported` (the scheme read is the
    // one the peer was configured to sign with, and none on resumption).
    let read = unsafe {
        SSL_get_peer_signature_type_nid(ssl.as_ptr(), &mut kind) == 1
            && openssl_sys::SSL_ctrl(
                ssl.as_ptr(),
                SSL_CTRL_GET_PEER_SIGNATURE_NID,
                0,
                (&mut digest as *mut std::os::raw::c_int).cast(),
            ) == 1
    };
    read.then_some((kind, digest))
}

/// `SSL_CTRL_GET_NEGOTIATED_GROUP` (`ssl.h`, OpenSSL 3.0 and later).
const SSL_CTRL_GET_NEGOTIATED_GROUP: std::os::raw::c_int = 134;

/// `SSL_get_negotiated_group(ssl)`: the NID of the connection's key-exchange
/// group, or `TLSEXT_nid_unknown | id` for a group OpenSSL has no NID for
/// (the hybrid ML-KEM groups); `None` while the connection has no session.
pub(crate) fn negotiated_group(ssl: &SslRef) -> Option<std::os::raw::c_long> {
    // The contract below needs a session: OpenSSL 3.0 reads
    // `s->session->kex_group` without checking it (3.6 checks).
    ssl.session()?;
    // SAFETY: `SSL_get_negotiated_group(s)` is
    // `SSL_ctrl(s, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, NULL)`. OpenSSL 3
    // (`ssl3_ctrl`, s3_lib.c) reads the TLS 1.3 key exchange's group id, or
    // else the group id of the connection's session, which OpenSSL 3.0
    // dereferences unchecked — so the call is made only when the
    // connection has a session (checked just above, through the binding);
    // it returns the id through `tls1_group_id2nid(id, 1)`. `larg` and
    // `parg` are not used, nothing is written, and `ssl.as_ptr()` is the live
    // SSL this `SslRef` borrows for the call. Tests: conformance
    // `handshake::version_mismatch` (a server that refuses the version has
    // no session yet: without the check it crashes on OpenSSL 3.0),
    // `handshake::info_reports_negotiated_parameters` and the group cases
    // (the group read is the one configured, X25519MLKEM768 included on
    // OpenSSL 3.6: `cargo xtask openssl-current`).
    Some(unsafe {
        openssl_sys::SSL_ctrl(
            ssl.as_ptr(),
            SSL_CTRL_GET_NEGOTIATED_GROUP,
            0,
            std::ptr::null_mut(),
        )
    })
}

#[cfg(test)]
mod tests {
    use openssl::ssl::{SslContextBuilder, SslMethod};

    #[test]
    fn client_sigalgs_set() {
        let mut b = SslContextBuilder::new(SslMethod::tls()).expect("context");
        assert!(
            super::set_client_sigalgs(&mut b, "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256").is_ok()
        );
        assert!(super::set_client_sigalgs(&mut b, "no_such_scheme").is_err());
    }
}
