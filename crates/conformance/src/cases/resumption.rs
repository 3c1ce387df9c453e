//! Resumption: the context caches (client and server), resumption state as
//! a value, ticket keys shared between contexts, the server's settings.

use polytls_api::driver::SessionDriver;
use polytls_api::{
    Backend, Capability, ClientConfig, ConfigErrorKind, Error, MisuseKind, NamedGroup,
    ProtocolVersion, ServerConfig, Session, TicketKey, TicketKeys, Tls12Resumption,
};

use super::{client_config, server_config, BackendPair, ClientCtx, ServerCtx};
use crate::pair::{Pair, Side};
use crate::pki::pki;
use crate::wire::{handshake_messages, ClientHello};

pub(crate) const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::Tls12, ProtocolVersion::Tls13];

pub(crate) fn client(v: ProtocolVersion) -> ClientConfig {
    let mut c = client_config();
    c.common.min_version = v;
    c.common.max_version = v;
    c
}

/// A connection that exchanges data both ways, so post-handshake tickets
/// are processed on every backend, and is left open.
pub(crate) fn open<B: Backend>(cc: &ClientCtx<B>, sc: &ServerCtx<B>) -> BackendPair<B> {
    let mut p = Pair::new(cc.connect("localhost").expect("c"), sc.accept().expect("s"));
    p.handshake().expect_ok();
    p.transfer(Side::Server, b"ticket please")
        .expect("transfer");
    p.transfer(Side::Client, b"thanks").expect("transfer");
    p
}

/// Closes both ends cleanly (close_notify each way): OpenSSL servers drop
/// cached sessions of connections that did not end this way.
pub(crate) fn close<C: SessionDriver, S: SessionDriver>(p: &mut Pair<C, S>) {
    p.client.send_close_notify();
    p.server.send_close_notify();
    p.pump().expect("pump");
    assert!(p.read_all(Side::Client).expect("read").1, "clean end");
    assert!(p.read_all(Side::Server).expect("read").1, "clean end");
}

/// A connection like [`open`], closed cleanly.
pub(crate) fn connect<B: Backend>(cc: &ClientCtx<B>, sc: &ServerCtx<B>) -> BackendPair<B> {
    let mut p = open::<B>(cc, sc);
    close(&mut p);
    p
}

/// Whether a pair's handshake resumed, as (client, server).
pub(crate) fn resumed<C: SessionDriver, S: SessionDriver>(p: &Pair<C, S>) -> (bool, bool) {
    (p.client.info().resumed, p.server.info().resumed)
}

/// Two connections from one client context to one server context; returns
/// whether the second resumed, as (client, server).
fn second_resumes<B: Backend>(b: &B, c: &ClientConfig, s: &ServerConfig) -> (bool, bool) {
    let cc = b.client_context(c).expect("client context");
    let sc = b.server_context(s).expect("server context");
    let first = connect::<B>(&cc, &sc);
    assert_eq!(resumed(&first), (false, false));
    resumed(&connect::<B>(&cc, &sc))
}

/// TLS 1.3 resumption with tickets: the second connection is resumed on both
/// ends.
pub fn resumption_tls13<B: Backend>(b: &B) {
    let got = second_resumes(
        b,
        &client(ProtocolVersion::Tls13),
        &server_config(pki().server()),
    );
    assert_eq!(got, (true, true));
}

/// TLS 1.2 resumption: the second connection is resumed on both ends.
pub fn resumption_tls12<B: Backend>(b: &B) {
    let got = second_resumes(
        b,
        &client(ProtocolVersion::Tls12),
        &server_config(pki().server()),
    );
    assert_eq!(got, (true, true));
}

/// A resumption reports the group of its own key exchange: none on
/// TLS 1.2, which exchanges no keys (whatever the first handshake used),
/// the new one on TLS 1.3.
pub fn resumed_group_is_this_handshakes<B: Backend>(b: &B) {
    for (v, want) in [
        (ProtocolVersion::Tls12, None),
        (ProtocolVersion::Tls13, Some(NamedGroup::SECP256R1)),
    ] {
        let mut c = client(v);
        c.common.groups = Some(vec![NamedGroup::SECP256R1]);
        let cc = b.client_context(&c).expect("client context");
        let sc = b
            .server_context(&server_config(pki().server()))
            .expect("server context");
        let first = connect::<B>(&cc, &sc);
        assert_eq!(
            first.client.info().group,
            Some(NamedGroup::SECP256R1),
            "{v}"
        );
        let second = connect::<B>(&cc, &sc);
        assert_eq!(resumed(&second), (true, true), "{v}");
        assert_eq!(
            (second.client.info().group, second.server.info().group),
            (want, want),
            "{v}"
        );
    }
}

/// Resumption off on the client: never resumed (the server would).
pub fn resumption_disabled_client<B: Backend>(b: &B) {
    for v in VERSIONS {
        let mut c = client(v);
        c.common.resumption = false;
        let got = second_resumes(b, &c, &server_config(pki().server()));
        assert_eq!(got, (false, false), "{v}");
    }
}

/// Resumption off on the server: never resumed (the client would try).
pub fn resumption_disabled_server<B: Backend>(b: &B) {
    for v in VERSIONS {
        let mut s = server_config(pki().server());
        s.common.resumption = false;
        assert_eq!(second_resumes(b, &client(v), &s), (false, false), "{v}");
    }
}

/// Connects like [`connect`], and also says whether the client offered
/// resumption (a TLS 1.3 PSK or a TLS 1.2 ticket) in its ClientHello.
pub(crate) fn connect_offering<B: Backend>(
    cc: &ClientCtx<B>,
    sc: &ServerCtx<B>,
) -> (bool, BackendPair<B>) {
    let mut c = cc.connect("localhost").expect("c");
    let mut bytes = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut bytes).expect("hello");
    }
    let hello = ClientHello::parse(&bytes).expect("a ClientHello");
    let offered = hello.psk_identity().is_some() || hello.session_ticket().is_some();
    let mut p = Pair::new(c, sc.accept().expect("s"));
    p.client_to_server_bytes().extend_from_slice(&bytes);
    p.handshake().expect_ok();
    p.transfer(Side::Server, b"ticket please")
        .expect("transfer");
    close(&mut p);
    (offered, p)
}

/// A session from one server context does not resume on another: each
/// context has ticket keys (and a session cache) of its own — although the
/// client offers it.
pub fn resumption_not_across_server_contexts<B: Backend>(b: &B) {
    for v in VERSIONS {
        let s = server_config(pki().server());
        let cc = b.client_context(&client(v)).expect("client context");
        let sc1 = b.server_context(&s).expect("server context");
        let sc2 = b.server_context(&s).expect("server context");
        connect::<B>(&cc, &sc1);
        let (offered, p) = connect_offering::<B>(&cc, &sc2);
        assert!(offered, "{v}: the client offers its session");
        assert_eq!(resumed(&p), (false, false), "{v}");
    }
}

/// Resumption state taken from one connection is offered on a later one and
/// resumes; where the backend can serialize it, it survives a "restart" (a
/// new context from the same configuration); where not, saying so is
/// `Unsupported`.
pub fn resumption_state_round_trip<B: Backend>(b: &B) {
    for v in VERSIONS {
        let c = client(v);
        let cc = b.client_context(&c).expect("client context");
        let sc = b
            .server_context(&server_config(pki().server()))
            .expect("server context");
        let mut first = connect::<B>(&cc, &sc);
        let state = first
            .client
            .take_resumption()
            .expect("a client after its handshake")
            .expect("the server issued a session");
        assert_eq!(state.server_name(), "localhost");
        let mut second = Pair::new(
            cc.connect_resuming("localhost", state).expect("offer"),
            sc.accept().expect("s"),
        );
        second.handshake().expect_ok();
        second.transfer(Side::Server, b"more").expect("transfer");
        assert_eq!(resumed(&second), (true, true), "{v}: offered state");

        let state = second
            .client
            .take_resumption()
            .expect("ok")
            .expect("a new session");
        let saved = state.to_bytes();
        if !b.supports(Capability::ResumptionExport) {
            assert!(
                matches!(&saved, Err(Error::Unsupported(u))
                    if u.capability == Some(Capability::ResumptionExport)),
                "{saved:?}"
            );
            continue;
        }
        let saved = saved.expect("exportable");
        let restarted = b.client_context(&c).expect("client context");
        let restored = restarted
            .resumption_from_bytes(&saved)
            .expect("same configuration");
        let mut third = Pair::new(
            restarted
                .connect_resuming("localhost", restored)
                .expect("offer"),
            sc.accept().expect("s"),
        );
        third.handshake().expect_ok();
        third.transfer(Side::Client, b"back").expect("transfer");
        assert_eq!(resumed(&third), (true, true), "{v}: restored state");
    }
}

/// State from another context, for another name, or bytes saved under
/// other verification settings are `Misuse` and never offered; bytes that
/// are not state are `InvalidConfig`; servers hold no client state.
pub fn resumption_state_from_another_context_refused<B: Backend>(b: &B) {
    let c = client(ProtocolVersion::Tls13);
    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("server context");
    let cc = b.client_context(&c).expect("client context");
    let other = b.client_context(&c).expect("client context");
    let foreign = |r: Result<Session<_>, Error>| matches!(r, Err(Error::Misuse(m)) if m.kind() == MisuseKind::ForeignResumption);

    let mut fresh = cc.connect("localhost").expect("c");
    assert!(matches!(
        fresh.take_resumption(),
        Err(Error::Misuse(m)) if m.kind() == MisuseKind::HandshakeIncomplete
    ));
    let mut first = connect::<B>(&cc, &sc);
    assert!(matches!(
        first.server.take_resumption(),
        Err(Error::Misuse(m)) if m.kind() == MisuseKind::WrongRole
    ));
    let take = |p: &mut BackendPair<B>| p.client.take_resumption().expect("ok").expect("state");
    assert!(foreign(
        other.connect_resuming("localhost", take(&mut first))
    ));
    let first = &mut connect::<B>(&cc, &sc);
    assert!(foreign(cc.connect_resuming("example.com", take(first))));

    if b.supports(Capability::ResumptionExport) {
        let saved = take(&mut connect::<B>(&cc, &sc)).to_bytes().expect("bytes");
        let mut pinned = c.clone();
        pinned.pins = vec![polytls_api::SpkiPin([7; 32])];
        let stricter = b.client_context(&pinned).expect("client context");
        assert!(matches!(
            stricter.resumption_from_bytes(&saved),
            Err(Error::Misuse(m)) if m.kind() == MisuseKind::ForeignResumption
        ));
        assert!(matches!(
            cc.resumption_from_bytes(b"not saved state"),
            Err(Error::InvalidConfig(e)) if e.kind() == ConfigErrorKind::Malformed
        ));
    } else {
        assert!(matches!(
            cc.resumption_from_bytes(b"anything"),
            Err(Error::Unsupported(u)) if u.capability == Some(Capability::ResumptionExport)
        ));
    }
}

/// The ClientHello `session` would send.
fn hello<D: SessionDriver>(session: &mut Session<D>) -> ClientHello {
    let mut bytes = Vec::new();
    while session.wants_write() {
        session.write_tls(&mut bytes).expect("hello");
    }
    ClientHello::parse(&bytes).expect("a ClientHello")
}

/// A TLS 1.3 ticket is offered once (RFC 8446 §C.4): two connections made
/// at once after one full handshake never offer the same ticket.
pub fn tls13_ticket_used_once<B: Backend>(b: &B) {
    let cc = b
        .client_context(&client(ProtocolVersion::Tls13))
        .expect("client context");
    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("server context");
    connect::<B>(&cc, &sc);
    let first = hello(&mut cc.connect("localhost").expect("c"))
        .psk_identity()
        .expect("the first connection offers a ticket");
    for _ in 0..3 {
        let next = hello(&mut cc.connect("localhost").expect("c")).psk_identity();
        assert_ne!(next.as_deref(), Some(&first[..]), "a ticket offered twice");
    }
}

/// A connection that ends without close_notify (or fails) leaves nothing to
/// resume: its sessions are forgotten. After a clean close they resume.
pub fn no_resumption_after_truncation<B: Backend>(b: &B) {
    for v in VERSIONS {
        let cc = b.client_context(&client(v)).expect("client context");
        let sc = b
            .server_context(&server_config(pki().server()))
            .expect("server context");
        let mut cut = open::<B>(&cc, &sc);
        let end = cut.eof_to(Side::Client);
        assert!(matches!(end, Err(Error::UnexpectedEof)), "{v}: {end:?}");
        let after = resumed(&connect::<B>(&cc, &sc));
        assert!(!after.0, "{v}: resumed after a truncation");
        let clean = resumed(&connect::<B>(&cc, &sc));
        assert_eq!(clean, (true, true), "{v}: after a clean close");
    }
}

/// TLS 1.3 tickets that reach the client after it sent close_notify (it
/// half-closed before the server's tickets came) are kept — except on
/// BoringSSL, which ignores them (a documented quirk).
pub fn tickets_after_close_notify<B: Backend>(b: &B) {
    let cc = b
        .client_context(&client(ProtocolVersion::Tls13))
        .expect("client context");
    let sc = b
        .server_context(&server_config(pki().server()))
        .expect("server context");
    let mut c = cc.connect("localhost").expect("c");
    let mut s = sc.accept().expect("s");
    move_bytes(&mut c, &mut s); // ClientHello
    move_bytes(&mut s, &mut c); // the server's flight: the client is done
    assert!(!c.is_handshaking());
    c.send_close_notify();
    move_bytes(&mut c, &mut s); // Finished and close_notify; tickets follow
    move_bytes(&mut s, &mut c);
    let mut p = open::<B>(&cc, &sc);
    let kept = resumed(&p).0;
    close(&mut p);
    assert_eq!(
        kept,
        !crate::quirk(crate::Quirk::TicketsIgnoredAfterCloseNotify),
        "tickets after close_notify kept"
    );
}

/// Moves what `from` has written into `to`, and processes it.
fn move_bytes<F: SessionDriver, T: SessionDriver>(from: &mut Session<F>, to: &mut Session<T>) {
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).expect("write");
    }
    let mut rd = &bytes[..];
    while !rd.is_empty() && to.read_tls(&mut rd).expect("read") > 0 {}
    to.process_new_packets().expect("process");
}

pub(crate) fn keys(names: &[u8]) -> TicketKeys {
    TicketKeys::new(
        names
            .iter()
            .map(|&n| TicketKey {
                name: [n; 16],
                hmac: [n.wrapping_add(1); 32],
                aes: [n.wrapping_add(2); 32],
            })
            .collect(),
    )
    .expect("keys")
}

fn keyed<B: Backend>(b: &B, names: &[u8]) -> ServerCtx<B> {
    let mut s = server_config(pki().server());
    s.resumption.ticket_keys = Some(keys(names));
    b.server_context(&s)
        .expect("server context with ticket keys")
}

/// Two server contexts given the same ticket keys resume each other's
/// sessions, as a fleet sharing a key file does.
pub fn shared_ticket_keys_resume_across_contexts<B: Backend>(b: &B) {
    for v in VERSIONS {
        let cc = b.client_context(&client(v)).expect("client context");
        let (one, two) = (keyed(b, &[1]), keyed(b, &[1]));
        connect::<B>(&cc, &one);
        assert_eq!(resumed(&connect::<B>(&cc, &two)), (true, true), "{v}");
    }
}

/// Different ticket keys: no resumption across the contexts.
pub fn different_ticket_keys_do_not_resume<B: Backend>(b: &B) {
    for v in VERSIONS {
        let cc = b.client_context(&client(v)).expect("client context");
        let (one, two) = (keyed(b, &[1]), keyed(b, &[2]));
        connect::<B>(&cc, &one);
        assert!(!resumed(&connect::<B>(&cc, &two)).1, "{v}");
    }
}

/// Rotation: with keys `[new, old]` a ticket under the old key still
/// resumes, and new tickets are under the new key (a server that knows only
/// the new key resumes them).
pub fn ticket_key_rotation<B: Backend>(b: &B) {
    let cc = b
        .client_context(&client(ProtocolVersion::Tls13))
        .expect("client context");
    connect::<B>(&cc, &keyed(b, &[1]));
    let rotated = keyed(b, &[2, 1]);
    assert_eq!(
        resumed(&connect::<B>(&cc, &rotated)),
        (true, true),
        "old key decrypts"
    );
    assert_eq!(
        resumed(&connect::<B>(&cc, &keyed(b, &[2]))),
        (true, true),
        "the new key encrypts"
    );
}

/// A TLS 1.2 handshake, returning every byte the server sent (TLS 1.2
/// sends NewSessionTicket in the clear).
fn tls12_server_bytes<B: Backend>(cc: &ClientCtx<B>, sc: &ServerCtx<B>) -> Vec<u8> {
    let mut c = cc.connect("localhost").expect("c");
    let mut s = sc.accept().expect("s");
    let mut server_sent = Vec::new();
    for _ in 0..8 {
        let mut to_server = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut to_server).expect("write");
        }
        let mut rd = &to_server[..];
        while !rd.is_empty() && s.read_tls(&mut rd).expect("read") > 0 {}
        s.process_new_packets().expect("server");
        let mut to_client = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut to_client).expect("write");
        }
        server_sent.extend_from_slice(&to_client);
        let mut rd = &to_client[..];
        while !rd.is_empty() && c.read_tls(&mut rd).expect("read") > 0 {}
        c.process_new_packets().expect("client");
        if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() {
            break;
        }
    }
    assert!(!c.is_handshaking() && !s.is_handshaking(), "handshake done");
    server_sent
}

/// The ticket (NewSessionTicket, message type 4) a TLS 1.2 server sent, as
/// (lifetime hint, ticket).
fn tls12_ticket(server_sent: &[u8]) -> Option<(u32, Vec<u8>)> {
    let (_, body) = handshake_messages(server_sent)
        .into_iter()
        .find(|(t, _)| *t == 4)?;
    let hint = u32::from_be_bytes(body.get(..4)?.try_into().ok()?);
    let len = usize::from(u16::from_be_bytes([*body.get(4)?, *body.get(5)?]));
    Some((hint, body.get(6..6 + len)?.to_vec()))
}

/// Each ticket starts with the configured key's name (the layout nginx and
/// HAProxy use), so the right key is found again.
pub fn ticket_key_name_leads_each_ticket<B: Backend>(b: &B) {
    let cc = b
        .client_context(&client(ProtocolVersion::Tls12))
        .expect("client context");
    let sent = tls12_server_bytes::<B>(&cc, &keyed(b, &[9]));
    let (_, ticket) = tls12_ticket(&sent).expect("a TLS 1.2 ticket");
    assert_eq!(ticket.get(..16), Some(&[9u8; 16][..]));
}

/// TLS 1.2 by session IDs only: the server issues no ticket, and still
/// resumes (from its cache); with the default, it issues tickets.
pub fn tls12_session_ids_only<B: Backend>(b: &B) {
    let cc = b
        .client_context(&client(ProtocolVersion::Tls12))
        .expect("client context");
    let default = b
        .server_context(&server_config(pki().server()))
        .expect("server context");
    assert!(tls12_ticket(&tls12_server_bytes::<B>(&cc, &default)).is_some());
    let mut s = server_config(pki().server());
    s.resumption.tls12 = Tls12Resumption::SessionIds;
    let ids = b.server_context(&s).expect("server context");
    let cc = b
        .client_context(&client(ProtocolVersion::Tls12))
        .expect("client context");
    assert!(tls12_ticket(&tls12_server_bytes::<B>(&cc, &ids)).is_none());
    connect::<B>(&cc, &ids);
    assert_eq!(resumed(&connect::<B>(&cc, &ids)), (true, true));
}

/// A resumption lifetime is the ticket's lifetime hint where the backend
/// can set it, and `Unsupported` naming the capability where not.
pub fn resumption_lifetime<B: Backend>(b: &B) {
    let mut s = server_config(pki().server());
    s.resumption.lifetime = Some(std::time::Duration::from_secs(600));
    let built = b.server_context(&s);
    if !b.supports(Capability::ResumptionLifetime) {
        assert!(
            matches!(&built, Err(Error::Unsupported(u))
                if u.capability == Some(Capability::ResumptionLifetime)),
            "{built:?}"
        );
        return;
    }
    let sc = built.expect("server context");
    let cc = b
        .client_context(&client(ProtocolVersion::Tls12))
        .expect("client context");
    let (hint, _) = tls12_ticket(&tls12_server_bytes::<B>(&cc, &sc)).expect("a ticket");
    assert_eq!(hint, 600);
}
