//! Early data (0-RTT) on resumption: accepted, rejected (sent again after
//! the handshake: read once, in order), and off by default.

use polytls_api::{Backend, Error, MisuseKind, ProtocolVersion, ServerConfig};

use super::{client_config, server_config, ClientCtx, ServerCtx};
use crate::pair::{Pair, Side};
use crate::pki::pki;

const EARLY: &[u8] = b"GET /idempotent";

fn server(max_early_data: u32) -> ServerConfig {
    let mut s = server_config(pki().server());
    s.max_early_data = max_early_data;
    s
}

fn client_ctx<B: Backend>(b: &B, early: bool) -> ClientCtx<B> {
    let mut c = client_config();
    c.common.min_version = ProtocolVersion::Tls13;
    c.early_data = early;
    b.client_context(&c).expect("client context")
}

/// A full connection, so the client holds a ticket from `sc`.
fn prime<B: Backend>(cc: &ClientCtx<B>, sc: &ServerCtx<B>) {
    let mut p = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
    p.handshake().expect_ok();
    p.transfer(Side::Server, b"ticket").expect("transfer");
    p.client.send_close_notify();
    p.server.send_close_notify();
    p.pump().expect("pump");
}

/// Connects sending `EARLY` as early data; returns the pair after the
/// handshake, how much was taken early, and everything the server read.
fn early_connection<B: Backend>(
    cc: &ClientCtx<B>,
    sc: &ServerCtx<B>,
) -> (super::BackendPair<B>, usize, Vec<u8>) {
    let mut c = cc.connect("localhost").expect("c");
    let taken = c.write_early_data(EARLY).expect("early data");
    if taken < EARLY.len() {
        c.write(&EARLY[taken..]).expect("the rest as ordinary data");
    }
    let mut p = Pair::new(c, sc.accept().expect("s"));
    p.handshake().expect_ok();
    p.pump().expect("pump");
    let (read, _) = p.read_all(Side::Server).expect("server read");
    (p, taken, read)
}

/// Then: a later message arrives after the early data, once.
fn then_in_order<C, S>(p: &mut Pair<C, S>)
where
    C: polytls_api::driver::SessionDriver,
    S: polytls_api::driver::SessionDriver,
{
    assert_eq!(
        p.transfer(Side::Client, b" and then").expect("transfer"),
        b" and then",
        "nothing duplicated before later data"
    );
}

/// The server allows early data: the client's first bytes go early, the
/// server reads them once, both ends say they were accepted.
pub fn early_data_accepted<B: Backend>(b: &B) {
    let cc = client_ctx(b, true);
    let sc = b
        .server_context(&server(16 * 1024))
        .expect("server context");
    prime::<B>(&cc, &sc);
    let (mut p, taken, read) = early_connection::<B>(&cc, &sc);
    assert_eq!(taken, EARLY.len(), "sent early");
    assert_eq!(read, EARLY, "read once");
    assert!(p.client.info().resumed && p.server.info().resumed);
    assert!(p.client.early_data_accepted() && p.server.early_data_accepted());
    then_in_order(&mut p);
}

/// The server does not take the early data (here: another server, which
/// cannot resume the ticket): the session sends it again after the
/// handshake, and the server reads it once, before later data.
pub fn early_data_rejected<B: Backend>(b: &B) {
    let cc = client_ctx(b, true);
    let issuer = b
        .server_context(&server(16 * 1024))
        .expect("server context");
    let other = b
        .server_context(&server(16 * 1024))
        .expect("server context");
    prime::<B>(&cc, &issuer);
    let (mut p, taken, read) = early_connection::<B>(&cc, &other);
    assert_eq!(taken, EARLY.len(), "offered early");
    assert!(!p.client.early_data_accepted() && !p.server.early_data_accepted());
    assert_eq!(read, EARLY, "sent again after the handshake, read once");
    then_in_order(&mut p);
}

/// Early data is off by default on both sides: a client without it sends
/// nothing early, and neither does a client whose server allows none; the
/// call is for clients before the handshake.
pub fn early_data_off<B: Backend>(b: &B) {
    let sc = b
        .server_context(&server(16 * 1024))
        .expect("server context");
    let off = client_ctx(b, false);
    prime::<B>(&off, &sc);
    let (p, taken, read) = early_connection::<B>(&off, &sc);
    assert_eq!((taken, read.as_slice()), (0, EARLY));
    assert!(p.client.info().resumed && !p.server.early_data_accepted());

    let cc = client_ctx(b, true);
    let strict = b.server_context(&server(0)).expect("server context");
    prime::<B>(&cc, &strict);
    let (mut p, taken, read) = early_connection::<B>(&cc, &strict);
    assert_eq!((taken, read.as_slice()), (0, EARLY));
    assert!(p.client.info().resumed);
    assert!(matches!(
        p.server.write_early_data(b"x"),
        Err(Error::Misuse(m)) if m.kind() == MisuseKind::WrongRole
    ));
    assert!(matches!(
        p.client.write_early_data(b"x"),
        Err(Error::Misuse(m)) if m.kind() == MisuseKind::HandshakeIncomplete
    ));
}
