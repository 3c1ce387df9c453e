//! The generic cases. Each is a function `fn(&B)` for any [`Backend`] that
//! panics on failure; the [`conformance_tests!`](crate::conformance_tests)
//! macro stamps each into a `#[test]`, once per path (static and dyn).

use polytls_api::{
    Backend, Capability, ClientConfig, ClientContext, Identity, ServerConfig, ServerContext,
};

use crate::pair::{Outcome, Pair};
use crate::pki::pki;

pub mod adapters;
pub mod data;
pub mod handshake;
pub mod negotiation;
pub mod verify;

/// The client session type of a backend.
pub type ClientSession<B> = <<B as Backend>::ClientContext as ClientContext>::Session;
/// The server session type of a backend.
pub type ServerSession<B> = <<B as Backend>::ServerContext as ServerContext>::Session;
/// An in-memory pair of a backend's sessions.
pub type BackendPair<B> = Pair<ClientSession<B>, ServerSession<B>>;

/// A client trusting the test root.
pub fn client_config() -> ClientConfig {
    ClientConfig::new(pki().roots())
}

/// A server presenting `identity`.
pub fn server_config(identity: Identity) -> ServerConfig {
    ServerConfig::new(identity)
}

/// Builds both contexts and one session each, connecting to `name`.
#[track_caller]
pub fn pair<B: Backend>(b: &B, c: &ClientConfig, s: &ServerConfig, name: &str) -> BackendPair<B> {
    let cc = b.client_context(c).expect("client context");
    let sc = b.server_context(s).expect("server context");
    Pair::new(
        cc.connect(name).expect("connect"),
        sc.accept().expect("accept"),
    )
}

/// Runs a handshake to `localhost` and returns the pair and its outcome.
#[track_caller]
pub fn run<B: Backend>(b: &B, c: &ClientConfig, s: &ServerConfig) -> (BackendPair<B>, Outcome) {
    let mut p = pair(b, c, s, "localhost");
    let o = p.handshake();
    (p, o)
}

/// Runs a handshake that must succeed.
#[track_caller]
pub fn connect_ok<B: Backend>(b: &B, c: &ClientConfig, s: &ServerConfig) -> BackendPair<B> {
    let (p, o) = run(b, c, s);
    o.expect_ok();
    p
}

/// Whether to skip a case because `b` lacks `cap`; says why on stderr.
pub fn skip_unless<B: Backend>(b: &B, cap: Capability, why: &str) -> bool {
    if b.supports(cap) {
        false
    } else {
        eprintln!("SKIPPED on {}: {why}", b.name());
        true
    }
}
