//! The one module of `polytls-boring` that uses `unsafe`, for the two
//! things the `boring` crate offers only that way (DESIGN.md, "the audited
//! exception"):
//!
//! - attaching a client session (`SslRef::set_session`);
//! - the server's ticket-key callback (`set_ticket_key_callback`), which
//!   makes [`TicketKeys`] rotate: the first key encrypts, every key decrypts.
//!
//! Each block states the binding's contract and why it holds; the tests
//! named in each comment fail if it is broken.

use boring::hash::MessageDigest;
use boring::ssl::{SslContextBuilder, SslRef, SslSession, TicketKeyCallbackResult};
use boring::symm::Cipher;
use polytls_api::{Error, Result, TicketKeys};
use polytls_ossl_common::not_a_session;

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
    // (`SSL_SESSION_from_bytes`), so it belongs to no SSL_CTX: it is in no
    // context's cache and carries no ex_data. The only context it meets is
    // `ssl`'s own, and the DER was produced by a session of that same
    // context (see above), so it matches the context's verification
    // settings and session id context. `SSL_set_session` takes its own
    // reference, so dropping `session` afterwards is sound.
    // Tests: `resumption_state_round_trip` and
    // `resumption_state_from_another_context_refused` in the conformance
    // suite.
    unsafe { ssl.set_session(&session) }
        .map_err(|e| Error::other(format!("{NAME}: SSL_set_session"), e))
}

/// Makes the context encrypt tickets with the first of `keys` and decrypt
/// them with any: AES-256-CBC and HMAC-SHA256 under the key's two parts,
/// the key's 16-byte name in each ticket (RFC 5077's recommended format,
/// as nginx and HAProxy use).
pub(crate) fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) {
    let keys = keys.clone();
    let callback = move |_: &SslRef,
                         name: &mut [u8; 16],
                         iv: &mut [u8; 16],
                         cipher: &mut boring::symm::CipherCtxRef,
                         hmac: &mut boring::hmac::HmacCtxRef,
                         encrypt: bool| {
        let key = if encrypt {
            let key = keys.current();
            *name = key.name;
            if boring::rand::rand_bytes(iv).is_err() {
                return TicketKeyCallbackResult::Error;
            }
            key
        } else {
            match keys.find(name) {
                Some(key) => key,
                // Not ours (or retired): a full handshake.
                None => return TicketKeyCallbackResult::Noop,
            }
        };
        let aes = Cipher::aes_256_cbc();
        let ready = if encrypt {
            cipher.init_encrypt(&aes, &key.aes, iv)
        } else {
            cipher.init_decrypt(&aes, &key.aes, iv)
        }
        .and_then(|()| hmac.init(&key.hmac, &MessageDigest::sha256()));
        match ready {
            Err(_) => TicketKeyCallbackResult::Error,
            Ok(()) if !encrypt && key.name != keys.current().name => {
                // Decrypted with an older key: resume, and issue a ticket
                // under the current one.
                TicketKeyCallbackResult::DecryptSuccessRenew
            }
            Ok(()) => TicketKeyCallbackResult::Success,
        }
    };
    // SAFETY: the contract is that the callback correctly sets the key
    // name, IV, cipher context and HMAC context (see
    // `SSL_CTX_set_tlsext_ticket_key_cb`). On encryption it writes the
    // current key's 16-byte name, fills the 16-byte IV from the CSPRNG
    // (AES-256-CBC's IV length, which BoringSSL reads back), and initialises
    // the cipher context for AES-256-CBC encryption and the HMAC context for
    // SHA-256, both with that key; any failure returns `Error`, which aborts
    // the ticket. On decryption it finds the key by the name BoringSSL read
    // from the ticket, initialises both contexts for decryption with it and
    // the ticket's IV, and answers `Noop` (full handshake) for unknown names.
    // The callback owns its keys (no borrow of the builder) and is `Send +
    // Sync`, as the binding requires; the binding finds it through the
    // context's ex_data, which is why every SNI context gets it too.
    // Tests: `shared_ticket_keys_resume_across_contexts`,
    // `ticket_key_rotation` and `different_ticket_keys_do_not_resume`.
    unsafe { b.set_ticket_key_callback(callback) };
}
