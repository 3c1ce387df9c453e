//! Certificate verification, pins and client authentication.

use polytls_api::{
    Alert, Backend, CertificateError as CE, ClientAuth, Error, ProtocolVersion, SpkiPin,
};

use super::{client_config, connect_ok, pair, run, server_config};
use crate::pki::{pki, Leaf};

#[track_caller]
fn client_rejects<B: Backend>(b: &B, leaf: Leaf, name: &str, reason: CE) {
    let s = server_config(pki().identity(leaf));
    let mut p = pair(b, &client_config(), &s, name);
    let o = p.handshake();
    assert!(
        matches!(o.client_err(), Error::InvalidCertificate(r) if *r == reason),
        "expected {reason:?}: {o:?}"
    );
    assert!(
        matches!(o.server_err(), Error::AlertReceived(_)),
        "server hears an alert: {o:?}"
    );
}

/// A certificate for another name is `NotValidForName`.
pub fn wrong_hostname<B: Backend>(b: &B) {
    client_rejects(b, Leaf::WrongName, "localhost", CE::NotValidForName);
}

/// A chain to an unknown root is `UnknownIssuer`.
pub fn unknown_issuer<B: Backend>(b: &B) {
    client_rejects(b, Leaf::Untrusted, "localhost", CE::UnknownIssuer);
}

/// An expired leaf is `Expired`.
pub fn expired_leaf<B: Backend>(b: &B) {
    client_rejects(b, Leaf::Expired, "localhost", CE::Expired);
}

/// A leaf not valid yet is `NotValidYet`.
pub fn not_yet_valid_leaf<B: Backend>(b: &B) {
    client_rejects(b, Leaf::NotYetValid, "localhost", CE::NotValidYet);
}

/// A client-only certificate (EKU clientAuth) presented by a server is
/// `InvalidPurpose`.
pub fn wrong_purpose_leaf<B: Backend>(b: &B) {
    client_rejects(b, Leaf::WrongPurpose, "localhost", CE::InvalidPurpose);
}

/// A wildcard SAN matches one label and the IP SAN matches the address.
pub fn wildcard_and_ip_names<B: Backend>(b: &B) {
    let s = server_config(pki().server());
    for name in ["a.wild.test", "127.0.0.1", "LOCALHOST"] {
        let mut p = pair(b, &client_config(), &s, name);
        p.handshake().expect_ok();
    }
    let mut p = pair(b, &client_config(), &s, "a.b.wild.test");
    let o = p.handshake();
    assert!(
        matches!(
            o.client_err(),
            Error::InvalidCertificate(CE::NotValidForName)
        ),
        "{o:?}"
    );
}

/// `danger_accept_invalid_certs` accepts an untrusted, misnamed chain.
pub fn danger_accept_invalid_certs<B: Backend>(b: &B) {
    let mut c = client_config();
    c.danger_accept_invalid_certs = true;
    let s = server_config(pki().identity(Leaf::Untrusted));
    let mut p = pair(b, &c, &s, "nothing.matches");
    p.handshake().expect_ok();
}

/// `danger_accept_invalid_hostnames` accepts a misnamed but trusted chain and
/// still rejects an untrusted one.
pub fn danger_accept_invalid_hostnames<B: Backend>(b: &B) {
    let mut c = client_config();
    c.danger_accept_invalid_hostnames = true;
    let mut p = pair(
        b,
        &c,
        &server_config(pki().identity(Leaf::WrongName)),
        "localhost",
    );
    p.handshake().expect_ok();
    let mut p = pair(
        b,
        &c,
        &server_config(pki().identity(Leaf::Untrusted)),
        "localhost",
    );
    let o = p.handshake();
    assert!(
        matches!(o.client_err(), Error::InvalidCertificate(CE::UnknownIssuer)),
        "{o:?}"
    );
}

/// A pin on the leaf's key passes.
pub fn pin_leaf_matches<B: Backend>(b: &B) {
    let id = pki().server();
    let mut c = client_config();
    c.pins = vec![SpkiPin::of_certificate(&id.chain()[0]).expect("pin")];
    connect_ok(b, &c, &server_config(id));
}

/// A pin on the intermediate's key passes.
pub fn pin_intermediate_matches<B: Backend>(b: &B) {
    let mut c = client_config();
    c.pins = vec![SpkiPin::of_certificate(&pki().intermediate()).expect("pin")];
    connect_ok(b, &c, &server_config(pki().server()));
}

/// A pin matching nothing fails with `PinMismatch`, even though the chain is
/// otherwise valid.
pub fn pin_mismatch<B: Backend>(b: &B) {
    let mut c = client_config();
    c.pins = vec![SpkiPin([0xab; 32])];
    let (_, o) = run(b, &c, &server_config(pki().server()));
    assert!(
        matches!(o.client_err(), Error::InvalidCertificate(CE::PinMismatch)),
        "{o:?}"
    );
}

/// Pins given as text are parsed without panicking whatever the text, and a
/// pin parsed back from its own text form verifies like the original.
/// (Found by the `config_load` fuzz target: 64 bytes of non-ASCII text used to
/// panic the hex parser.)
pub fn pin_text_round_trip_and_hostile_text<B: Backend>(b: &B) {
    for text in [
        format!("0{}{}", "\u{e9}", "0".repeat(61)),
        "\u{1F512}".repeat(16),
        "sha256//\u{e9}\u{e9}".into(),
        String::new(),
    ] {
        assert!(
            matches!(SpkiPin::parse(&text), Err(Error::InvalidConfig(_))),
            "{text:?}"
        );
    }
    let server = pki().server();
    let pin = SpkiPin::of_certificate(&server.chain()[0]).expect("pin");
    let mut c = client_config();
    c.pins = vec![SpkiPin::parse(&pin.to_string()).expect("round trip")];
    connect_ok(b, &c, &server_config(pki().server()));
}

fn mtls<B: Backend>(
    b: &B,
    auth: ClientAuth,
    client: Option<Leaf>,
    version: ProtocolVersion,
) -> crate::pair::Outcome {
    let mut s = server_config(pki().server());
    s.client_auth = auth;
    s.common.max_version = version;
    s.common.min_version = version;
    let mut c = client_config();
    c.identity = client.map(|l| pki().identity(l));
    let (p, o) = run(b, &c, &s);
    if o.client.is_ok() && o.server.is_ok() {
        let chain = p.server.info().peer_chain;
        match client {
            Some(l) => assert_eq!(
                chain.first(),
                pki().identity(l).chain().first(),
                "server sees the client leaf"
            ),
            None => assert!(chain.is_empty()),
        }
    }
    o
}

/// Required client auth with a good certificate succeeds (both versions).
pub fn client_auth_required_with_cert<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        mtls(
            b,
            ClientAuth::Required(pki().roots()),
            Some(Leaf::Client),
            v,
        )
        .expect_ok();
    }
}

/// Required client auth without a certificate: the server reports
/// `ClientCertificateRequired`; the client hears an alert.
pub fn client_auth_required_without_cert<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let o = mtls(b, ClientAuth::Required(pki().roots()), None, v);
        assert!(
            matches!(o.server_err(), Error::ClientCertificateRequired),
            "{v}: {o:?}"
        );
        assert!(
            matches!(o.client_err(), Error::AlertReceived(_)),
            "{v}: {o:?}"
        );
    }
}

/// Optional client auth without a certificate succeeds, with no peer chain.
pub fn client_auth_optional_without_cert<B: Backend>(b: &B) {
    let mut s = server_config(pki().server());
    s.client_auth = ClientAuth::Optional(pki().roots());
    let p = connect_ok(b, &client_config(), &s);
    assert!(p.server.info().peer_chain.is_empty());
}

/// Optional client auth with a certificate: the server sees it.
pub fn client_auth_optional_with_cert<B: Backend>(b: &B) {
    let o = mtls(
        b,
        ClientAuth::Optional(pki().roots()),
        Some(Leaf::Client),
        ProtocolVersion::Tls13,
    );
    o.expect_ok();
}

/// A client certificate from an untrusted CA is `UnknownIssuer` on the server.
pub fn client_auth_untrusted_cert<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let o = mtls(
            b,
            ClientAuth::Required(pki().roots()),
            Some(Leaf::ClientUntrusted),
            v,
        );
        assert!(
            matches!(o.server_err(), Error::InvalidCertificate(CE::UnknownIssuer)),
            "{v}: {o:?}"
        );
        assert!(
            matches!(o.client_err(), Error::AlertReceived(_)),
            "{v}: {o:?}"
        );
    }
}

/// `ClientAuth::DangerAcceptAny`: an untrusted (or expired) client
/// certificate is accepted and visible to the server, which must then
/// decide itself; `required` refuses a client without one; CRLs with it
/// are a contradiction. (Key possession is still proved by the handshake
/// signature; a client cannot even be configured with a key that does not
/// match its certificate: `handshake::mismatched_key_is_invalid_config`.)
pub fn client_auth_danger_accept_any<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let required = ClientAuth::DangerAcceptAny { required: true };
        for leaf in [Leaf::ClientUntrusted, Leaf::Client, Leaf::Expired] {
            mtls(b, required.clone(), Some(leaf), v).expect_ok();
        }
        let o = mtls(b, required, None, v);
        assert!(
            matches!(o.server_err(), Error::ClientCertificateRequired),
            "{v}: {o:?}"
        );
        let optional = ClientAuth::DangerAcceptAny { required: false };
        mtls(b, optional.clone(), None, v).expect_ok();
        mtls(b, optional, Some(Leaf::ClientUntrusted), v).expect_ok();
    }
    let mut s = server_config(pki().server());
    s.client_auth = ClientAuth::DangerAcceptAny { required: true };
    s.client_revocation = pki().revocation(crate::pki::Crls::Current);
    assert!(matches!(
        b.server_context(&s),
        Err(Error::InvalidConfig(c)) if c.kind() == polytls_api::ConfigErrorKind::Contradiction
    ));
}

/// Without client auth, a configured client certificate is not sent.
pub fn client_auth_none_sends_nothing<B: Backend>(b: &B) {
    let mut c = client_config();
    c.identity = Some(pki().client());
    let p = connect_ok(b, &c, &server_config(pki().server()));
    assert!(p.server.info().peer_chain.is_empty());
}

/// A server rejecting the client certificate sends an alert the client can
/// name (unknown_ca or bad_certificate, backends differ on which).
pub fn client_hears_certificate_alert<B: Backend>(b: &B) {
    let o = mtls(
        b,
        ClientAuth::Required(pki().roots()),
        Some(Leaf::ClientUntrusted),
        ProtocolVersion::Tls13,
    );
    match o.client_err() {
        Error::AlertReceived(a) => assert!(
            [
                Alert::UNKNOWN_CA,
                Alert::BAD_CERTIFICATE,
                Alert::CERTIFICATE_UNKNOWN
            ]
            .contains(a),
            "{a}"
        ),
        other => panic!("expected an alert, got {other:?}"),
    }
}

/// A leaf issued by the root itself (chain depth 1) is accepted.
pub fn chain_depth_one<B: Backend>(b: &B) {
    let id = pki().identity(Leaf::FromRoot);
    assert_eq!(id.chain().len(), 1);
    let p = connect_ok(b, &client_config(), &server_config(id));
    assert_eq!(p.client.info().peer_chain.len(), 1);
}

/// A leaf under two intermediates (chain depth 3) is accepted, and the
/// client sees all three certificates the server sent.
pub fn chain_depth_three<B: Backend>(b: &B) {
    let id = pki().identity(Leaf::DeepChain);
    assert_eq!(id.chain().len(), 3);
    let p = connect_ok(b, &client_config(), &server_config(id.clone()));
    assert_eq!(p.client.info().peer_chain, id.chain());
}

/// A server that leaves out its intermediate cannot be verified:
/// `UnknownIssuer`.
pub fn missing_intermediate<B: Backend>(b: &B) {
    let full = pki().server();
    let leaf_only =
        polytls_api::Identity::new(vec![full.chain()[0].clone()], full.key().clone_key())
            .expect("identity");
    let (_, o) = run(b, &client_config(), &server_config(leaf_only));
    assert!(
        matches!(o.client_err(), Error::InvalidCertificate(CE::UnknownIssuer)),
        "{o:?}"
    );
}

/// An expired intermediate fails the chain with `Expired`.
pub fn expired_intermediate<B: Backend>(b: &B) {
    client_rejects(b, Leaf::ExpiredIntermediate, "localhost", CE::Expired);
}

/// An intermediate not valid yet fails the chain with `NotValidYet`.
pub fn not_yet_valid_intermediate<B: Backend>(b: &B) {
    client_rejects(
        b,
        Leaf::NotYetValidIntermediate,
        "localhost",
        CE::NotValidYet,
    );
}

/// IDNs: the A-label matches the certificate; a U-label is refused up front
/// as `InvalidConfig` (never converted silently).
pub fn idn_names<B: Backend>(b: &B) {
    let s = server_config(pki().identity(Leaf::Idn));
    let mut p = pair(b, &client_config(), &s, "xn--bcher-kva.example");
    p.handshake().expect_ok();
    assert_eq!(
        p.server.info().sni.as_deref(),
        Some("xn--bcher-kva.example")
    );
    let cc = b.client_context(&client_config()).expect("ctx");
    let r = cc.connect("bücher.example").map(|_| ());
    assert!(matches!(r, Err(Error::InvalidConfig(_))), "{r:?}");
}
