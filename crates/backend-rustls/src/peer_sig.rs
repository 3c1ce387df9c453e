//! The scheme the peer signed its handshake with, which rustls does not
//! report. rustls checks the signature inside `process_new_packets`,
//! through the configuration's verifier, which every connection of a
//! context shares. So the verifier notes the scheme of a signature that
//! verified in a slot of the current thread, and the session clears the
//! slot before each `process_new_packets` of its handshake and takes it
//! right after, on the same thread: it never sees another connection's
//! scheme. (A callback that drives another session on this thread from
//! inside the call, a key log say, would take the note first: the
//! session then reports none, never a wrong one.)

use std::cell::Cell;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::DigitallySignedStruct;

thread_local! {
    static VERIFIED: Cell<Option<rustls::SignatureScheme>> = const { Cell::new(None) };
}

/// Notes `dss`'s scheme if `result` says the signature verified; returns
/// `result`.
pub(crate) fn note(
    result: Result<HandshakeSignatureValid, rustls::Error>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    if result.is_ok() {
        VERIFIED.set(Some(dss.scheme));
    }
    result
}

/// Takes the scheme noted on this thread since the last call, if any.
pub(crate) fn take() -> Option<rustls::SignatureScheme> {
    VERIFIED.take()
}
