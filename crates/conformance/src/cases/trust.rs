//! Trust on resumption (`polytls_api::trust`), on both ends, TLS 1.2 and
//! 1.3: a resumed session meets today's checks, nothing resumes past the
//! peer certificate's notAfter, and every trust input binds resumption
//! state. Found from outside: a revoked or expired client resumed its way
//! back in on every backend; these cases hold the whole class.

use std::time::{Duration, Instant, SystemTime};

use polytls_api::driver::{chain_not_after, SessionDriver};
use polytls_api::{
    Backend, Capability, CertificateError as CE, ClientAuth, Error, Identity, MisuseKind,
    ProtocolVersion, ReadOutcome, ResumptionState, Revocation, ServerConfig, Session, SpkiPin,
};

use super::resumption::{client, connect, keys, resumed, VERSIONS};
use super::{server_config, ClientCtx, ServerCtx};
use crate::pair::{Outcome, Pair};
use crate::pki::{pki, Crls, KeyType, Leaf};

/// How long the short-lived certificates of the expiry cases live, in
/// seconds: long enough for the first handshakes on a loaded machine.
const LIFETIME: i64 = 4;

/// Sleeps until a certificate made at `born` with [`LIFETIME`] has expired
/// (its notAfter is whole seconds; one more second for the clock).
fn sleep_past_expiry(born: Instant) {
    let until = born + Duration::from_secs(LIFETIME as u64 + 2);
    if let Some(left) = until.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

/// Writes a client's first flight and says whether it offers resumption (a
/// TLS 1.3 PSK or a TLS 1.2 ticket or session ID of its own).
fn offers<D: SessionDriver>(c: &mut Session<D>) -> (bool, Vec<u8>) {
    let mut bytes = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut bytes).expect("hello");
    }
    let hello = crate::wire::ClientHello::parse(&bytes).expect("a ClientHello");
    let offered = hello.psk_identity().is_some() || hello.session_ticket().is_some();
    (offered, bytes)
}

/// A handshake of `c` against `sc` whose ClientHello has been written
/// already as `hello`.
fn finish<B: Backend>(
    c: Session<super::ClientSession<B>>,
    sc: &ServerCtx<B>,
    hello: &[u8],
) -> (super::BackendPair<B>, Outcome) {
    let mut p = Pair::new(c, sc.accept().expect("s"));
    p.client_to_server_bytes().extend_from_slice(hello);
    let o = p.handshake();
    (p, o)
}

#[track_caller]
fn expect_cert_error(e: &Error, reason: CE, what: &str) {
    assert!(
        matches!(e, Error::InvalidCertificate(r) if *r == reason),
        "{what}: expected {reason:?}, got {e:?}"
    );
}

/// After a refused resumption nothing passes: the client's data never
/// reaches the server, and the client sees no clean end.
fn nothing_passes<B: Backend>(p: &mut super::BackendPair<B>, v: ProtocolVersion) {
    let _ = p.client.write(b"request after the refusal");
    let _ = p.pump();
    let mut buf = [0u8; 64];
    assert!(
        p.server.read(&mut buf).is_err(),
        "{v}: the failed server reads nothing"
    );
    let end = p.eof_to(crate::pair::Side::Client);
    assert!(
        !matches!(end, Ok(ReadOutcome::Data(_)) | Ok(ReadOutcome::Closed)),
        "{v}: the client gets neither data nor a clean end: {end:?}"
    );
}

fn mutual(v: ProtocolVersion) -> ServerConfig {
    let mut s = server_config(pki().server());
    s.client_auth = ClientAuth::Required(pki().roots());
    s.common.min_version = v;
    s.common.max_version = v;
    s
}

/// A client whose certificate expired after its session was made does not
/// get back in by resuming it: the server's resumed session fails with
/// `Expired`, as a full handshake would, and no application data passes.
/// While the certificate is valid it resumes (the check does not refuse
/// good sessions).
pub fn resumption_refused_after_client_cert_expires<B: Backend>(b: &B) {
    let born = Instant::now();
    let id = pki().short_lived(Leaf::Client, LIFETIME);
    let mut made = Vec::new();
    for v in VERSIONS {
        let mut c = client(v);
        c.identity = Some(id.clone());
        let cc = b.client_context(&c).expect("client context");
        let sc = b.server_context(&mutual(v)).expect("server context");
        connect::<B>(&cc, &sc);
        assert_eq!(
            resumed(&connect::<B>(&cc, &sc)),
            (true, true),
            "{v}: resumes while the certificate is valid"
        );
        made.push((v, cc, sc));
    }
    sleep_past_expiry(born);
    for (v, cc, sc) in made {
        let mut c = cc.connect("localhost").expect("c");
        let (offered, hello) = offers(&mut c);
        assert!(
            offered,
            "{v}: the client offers its session (the server's certificate is valid)"
        );
        let (mut p, o) = finish::<B>(c, &sc, &hello);
        expect_cert_error(o.server_err(), CE::Expired, &format!("{v}: server"));
        nothing_passes::<B>(&mut p, v);
    }
}

/// A client never offers a session past the notAfter of the server chain it
/// was made with — neither from its context's cache nor as a
/// `ResumptionState` value (which says when it expires): the connection
/// makes a full handshake, which refuses the expired server.
pub fn resumption_not_offered_after_server_cert_expires<B: Backend>(b: &B) {
    let born = Instant::now();
    let id = pki().short_lived(Leaf::Server(KeyType::EcdsaP256), LIFETIME);
    let mut made = Vec::new();
    for v in VERSIONS {
        let (cc, sc, state) = first_session(b, v, &id);
        let expires = state
            .not_after()
            .expect("the state knows its server's notAfter");
        let limit = SystemTime::now() + Duration::from_secs(LIFETIME as u64 + 1);
        assert!(expires <= limit, "{v}: not after the certificate");
        connect::<B>(&cc, &sc); // leaves a session in the cache
        made.push((v, cc, sc, state));
    }
    sleep_past_expiry(born);
    for (v, cc, sc, state) in made {
        let mut c = cc.connect("localhost").expect("c");
        let (offered, hello) = offers(&mut c);
        assert!(!offered, "{v}: the cache offers nothing past the notAfter");
        let (_, o) = finish::<B>(c, &sc, &hello);
        expect_cert_error(o.client_err(), CE::Expired, &format!("{v}: cache"));

        let mut c = cc.connect_resuming("localhost", state).expect("connect");
        let (offered, hello) = offers(&mut c);
        assert!(!offered, "{v}: a state past its notAfter is not offered");
        let (_, o) = finish::<B>(c, &sc, &hello);
        expect_cert_error(o.client_err(), CE::Expired, &format!("{v}: value"));
    }
}

/// A full handshake teaches the client its server chain's expiry exactly:
/// the earliest notAfter of the chain (the leaf's, or an intermediate's
/// that expires first), to the second, as the resumption state reports
/// it. The OpenSSL family reads it from the library's parsed certificates,
/// rustls from the DER; both must agree with the certificate.
pub fn resumption_state_expires_with_the_chain<B: Backend>(b: &B) {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
        + 10 * 86_400
        + 7;
    let until = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).expect("a date"))
        .expect("a date");
    let id = pki().valid_until(Leaf::Server(KeyType::EcdsaP256), until);
    for v in VERSIONS {
        let (_, _, state) = first_session(b, v, &id);
        assert_eq!(
            state.not_after(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            "{v}: the leaf's notAfter, to the second"
        );
    }
    // A leaf that outlives its intermediate (path validation checks each
    // certificate against today only): the intermediate's date is the
    // chain's.
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(400);
    let id = pki().valid_until(Leaf::Server(KeyType::EcdsaP256), until);
    let intermediate = chain_not_after(&[pki().intermediate()]).expect("a date");
    let want = SystemTime::UNIX_EPOCH + Duration::from_secs(intermediate.unsigned_abs());
    for v in VERSIONS {
        let (_, _, state) = first_session(b, v, &id);
        assert_eq!(
            state.not_after(),
            Some(want),
            "{v}: the intermediate's notAfter"
        );
    }
}

/// Contexts of version `v`, the server's with `id`, and the resumption
/// state the client takes from a first connection between them.
fn first_session<B: Backend>(
    b: &B,
    v: ProtocolVersion,
    id: &Identity,
) -> (ClientCtx<B>, ServerCtx<B>, ResumptionState) {
    let cc = b.client_context(&client(v)).expect("client context");
    let sc = b
        .server_context(&server_config(id.clone()))
        .expect("server context");
    let state = connect::<B>(&cc, &sc)
        .client
        .take_resumption()
        .expect("after the handshake")
        .expect("a session");
    (cc, sc, state)
}

fn keyed_mutual<B: Backend>(b: &B, v: ProtocolVersion, crls: &Revocation) -> ServerCtx<B> {
    let mut s = mutual(v);
    s.client_revocation = crls.clone();
    s.resumption.ticket_keys = Some(keys(&[7]));
    b.server_context(&s).expect("server context")
}

fn client_with<B: Backend>(b: &B, v: ProtocolVersion, leaf: Leaf) -> ClientCtx<B> {
    let mut c = client(v);
    c.identity = Some(pki().identity(leaf));
    b.client_context(&c).expect("client context")
}

/// A fleet sharing ticket keys, reloaded with a CRL that now lists a
/// client: the client's ticket does not resume (the server's trust digest
/// changed), so it makes a full handshake and is refused with `Revoked` and
/// an alert. Servers with the same trust still resume each other's tickets;
/// a CRL change that does not list a client lets it in (in full: the trust
/// changed).
pub fn resumption_refused_after_client_revoked<B: Backend>(b: &B) {
    let before = pki().revocation(Crls::NoneRevoked);
    let after = pki().revocation(Crls::Current);
    let unrelated = pki().revocation(Crls::CurrentPlusOtherCa);
    for v in VERSIONS {
        let old = keyed_mutual(b, v, &before);
        let twin = keyed_mutual(b, v, &before);
        let reloaded = keyed_mutual(b, v, &after);

        let cc = client_with(b, v, Leaf::ClientRevoked);
        connect::<B>(&cc, &old);
        assert_eq!(
            resumed(&connect::<B>(&cc, &twin)),
            (true, true),
            "{v}: same trust, shared keys: resumes across the fleet"
        );
        let mut c = cc.connect("localhost").expect("c");
        let (offered, hello) = offers(&mut c);
        assert!(offered, "{v}: the client offers its ticket");
        let (_, o) = finish::<B>(c, &reloaded, &hello);
        expect_cert_error(o.server_err(), CE::Revoked, &format!("{v}: server"));
        assert!(
            matches!(o.client_err(), Error::AlertReceived(_)),
            "{v}: the client hears the refusal: {o:?}"
        );

        let good = client_with(b, v, Leaf::Client);
        connect::<B>(&good, &old);
        let changed = keyed_mutual(b, v, &unrelated);
        let p = connect::<B>(&good, &changed);
        assert_eq!(
            resumed(&p),
            (false, false),
            "{v}: another CRL set is other trust: a full handshake, which lets the client in"
        );
    }
}

/// Resumption state is bound to the client's trust: a state made before the
/// client loaded a CRL revoking the server, or before its pins changed, is
/// never offered by a context with the new trust (`Misuse`, as value and as
/// bytes), and that context's full handshake refuses the server.
pub fn resumption_state_bound_to_client_trust<B: Backend>(b: &B) {
    let other_pin = SpkiPin::of_certificate(&pki().other_roots().certs()[0]).expect("pin");
    for v in VERSIONS {
        let mut before = client(v);
        before.revocation = pki().revocation(Crls::NoneRevoked);
        let cc = b.client_context(&before).expect("client context");
        let sc = b
            .server_context(&server_config(pki().identity(Leaf::Revoked)))
            .expect("server context");
        let mut first = connect::<B>(&cc, &sc);
        let take = |p: &mut super::BackendPair<B>| {
            p.client
                .take_resumption()
                .expect("after the handshake")
                .expect("a session")
        };
        let state = take(&mut first);
        let saved = state.to_bytes();

        let mut revoking = before.clone();
        revoking.revocation = pki().revocation(Crls::Current);
        let mut pinned = client(v);
        pinned.pins = vec![other_pin];
        for (what, config, reason) in [
            ("CRL", revoking, CE::Revoked),
            ("pins", pinned, CE::PinMismatch),
        ] {
            let now = b.client_context(&config).expect("client context");
            if let Ok(bytes) = &saved {
                assert!(
                    matches!(now.resumption_from_bytes(bytes),
                        Err(Error::Misuse(m)) if m.kind() == MisuseKind::ForeignResumption),
                    "{v}, {what}: saved state under other trust is refused"
                );
            } else {
                assert!(!b.supports(Capability::ResumptionExport));
            }
            let state = take(&mut connect::<B>(&cc, &sc));
            assert!(
                matches!(now.connect_resuming("localhost", state),
                    Err(Error::Misuse(m)) if m.kind() == MisuseKind::ForeignResumption),
                "{v}, {what}: a state from the old context is refused"
            );
            let mut c = now.connect("localhost").expect("c");
            let (offered, hello) = offers(&mut c);
            assert!(
                !offered,
                "{v}, {what}: nothing to offer under the new trust"
            );
            let (_, o) = finish::<B>(c, &sc, &hello);
            expect_cert_error(o.client_err(), reason, &format!("{v}, {what}"));
        }
    }
}
