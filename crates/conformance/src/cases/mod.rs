//! The generic cases. Each is a function `fn(&B)` for any [`Backend`] that
//! panics on failure; [`run`](crate::run) makes each a test, once per path
//! (static and dyn). [`all`] lists them.

use polytls_api::driver::{ClientDriver, ServerDriver};
use polytls_api::{Backend, ClientConfig, ClientContext, Identity, ServerConfig, ServerContext};

use crate::pair::{Outcome, Pair};
use crate::pki::pki;

pub mod adapters;
pub mod async_adapters;
pub mod data;
pub mod defaults;
pub mod early_data;
pub mod handshake;
pub mod negotiation;
pub mod resumption;
pub mod revocation;
pub mod signatures;
pub mod trust;
pub mod verify;

crate::__with_cases!(__define_registry!());

/// The client session driver of a backend.
pub type ClientSession<B> = <<B as Backend>::ClientDriver as ClientDriver>::Session;
/// The server session driver of a backend.
pub type ServerSession<B> = <<B as Backend>::ServerDriver as ServerDriver>::Session;
/// A backend's client context.
pub type ClientCtx<B> = ClientContext<<B as Backend>::ClientDriver>;
/// A backend's server context.
pub type ServerCtx<B> = ServerContext<<B as Backend>::ServerDriver>;
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
