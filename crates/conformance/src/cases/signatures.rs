//! Signature-scheme preferences (`Common::signing_schemes`,
//! `Common::verify_schemes`): what is advertised, what each side signs
//! with, and what happens when nothing is shared. TLS 1.2 signatures travel
//! in the clear (ServerKeyExchange, CertificateVerify), so the cases read
//! the scheme off the wire.

use polytls_api::{
    Backend, Capability, ClientAuth, ConfigErrorKind, Error, Incompatibility, ProtocolVersion,
    SignatureScheme as S,
};

use super::{client_config, pair, run, server_config};
use crate::pair::Side;
use crate::pki::{pki, KeyType, Leaf};
use crate::wire::{handshake_messages, ClientHello};

/// The scheme of the first handshake message of type `kind` that `side`
/// sent in the clear: ServerKeyExchange (12, ECDHE: curve type, group, key,
/// then the scheme) or CertificateVerify (15, the scheme first).
fn scheme_sent(sent: &[u8], kind: u8) -> Option<u16> {
    let (_, body) = handshake_messages(sent)
        .into_iter()
        .find(|(t, _)| *t == kind)?;
    let at = match kind {
        12 => 4 + usize::from(*body.get(3)?),
        _ => 0,
    };
    Some(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]))
}

fn tls12_rsa_server() -> polytls_api::ServerConfig {
    let mut s = server_config(pki().identity(Leaf::Server(KeyType::Rsa2048)));
    s.common.max_version = ProtocolVersion::Tls12;
    s
}

/// A client advertises its verify schemes exactly, in the configured order.
pub fn verify_schemes_offered_in_order<B: Backend>(b: &B) {
    let want = [
        S::rsa_pss_rsae_sha384,
        S::ecdsa_secp256r1_sha256,
        S::rsa_pkcs1_sha256,
    ];
    let mut c = client_config();
    c.common.verify_schemes = Some(want.to_vec());
    let cc = b.client_context(&c).expect("client context");
    let mut session = cc.connect("localhost").expect("connect");
    let mut hello = Vec::new();
    while session.wants_write() {
        session.write_tls(&mut hello).expect("hello");
    }
    let hello = ClientHello::parse(&hello).expect("a well-formed ClientHello");
    let offered: Vec<u16> = hello
        .extension(0x000d)
        .and_then(|e| e.get(2..))
        .unwrap_or(&[])
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let want: Vec<u16> = want.iter().map(|s| s.code()).collect();
    assert_eq!(offered, want);
}

/// A server signs with the first of its schemes the client accepts: its
/// own order, not the client's, and not the key's.
pub fn server_signs_with_its_first_preference<B: Backend>(b: &B) {
    for (signing, verify, want) in [
        (
            vec![S::rsa_pkcs1_sha384, S::rsa_pss_rsae_sha256],
            None,
            S::rsa_pkcs1_sha384,
        ),
        (
            vec![S::rsa_pss_rsae_sha512, S::rsa_pkcs1_sha384],
            Some(vec![S::rsa_pkcs1_sha384, S::rsa_pss_rsae_sha512]),
            S::rsa_pss_rsae_sha512,
        ),
        // The first preference the client does not accept is passed over.
        (
            vec![S::rsa_pss_rsae_sha512, S::rsa_pkcs1_sha256],
            Some(vec![S::rsa_pkcs1_sha256]),
            S::rsa_pkcs1_sha256,
        ),
    ] {
        let mut s = tls12_rsa_server();
        s.common.signing_schemes = Some(signing.clone());
        let mut c = client_config();
        c.common.verify_schemes = verify;
        let mut p = pair(b, &c, &s, "localhost");
        p.handshake().expect_ok();
        assert_eq!(
            scheme_sent(p.sent(Side::Server), 12),
            Some(want.code()),
            "signing {signing:?}: ServerKeyExchange signed with {want}"
        );
    }
}

/// A server whose schemes the client accepts none of fails the handshake
/// as incompatible; the client hears an alert. Both versions (and see
/// [`Quirk::NoAlertWithoutSharedSignatureScheme`](crate::Quirk::NoAlertWithoutSharedSignatureScheme),
/// [`Quirk::Tls12SuiteNeedsSignatureScheme`](crate::Quirk::Tls12SuiteNeedsSignatureScheme)).
pub fn no_shared_signature_scheme<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut s = server_config(pki().identity(Leaf::Server(KeyType::Rsa2048)));
        s.common.signing_schemes = Some(vec![S::rsa_pss_rsae_sha256]);
        s.common.max_version = v;
        s.common.min_version = v;
        let mut c = client_config();
        c.common.verify_schemes = Some(vec![S::rsa_pss_rsae_sha384, S::ecdsa_secp256r1_sha256]);
        let (_, o) = run(b, &c, &s);
        let want = if v == ProtocolVersion::Tls12
            && crate::quirk(crate::Quirk::Tls12SuiteNeedsSignatureScheme)
        {
            Incompatibility::NoSharedCipherSuite
        } else {
            Incompatibility::NoSharedSignatureScheme
        };
        assert!(
            matches!(o.server_err(), Error::PeerIncompatible(i) if *i == want),
            "{v}: {o:?}"
        );
        let silent = v == ProtocolVersion::Tls12
            && crate::quirk(crate::Quirk::NoAlertWithoutSharedSignatureScheme);
        if silent {
            assert!(o.client.is_err(), "{v}: {o:?}");
        } else {
            assert!(
                matches!(o.client_err(), Error::AlertReceived(_)),
                "{v}: {o:?}"
            );
        }
    }
}

/// A client signs its CertificateVerify with its first scheme that the
/// server's CertificateRequest allows, and a server allows only its verify
/// schemes.
pub fn client_auth_signing_schemes<B: Backend>(b: &B) {
    for (verify, want) in [
        (None, S::rsa_pkcs1_sha512),
        (Some(vec![S::rsa_pss_rsae_sha256]), S::rsa_pss_rsae_sha256),
    ] {
        // Any certificate: the client presents an RSA leaf, whose signature
        // the server still verifies.
        let mut s = server_config(pki().server());
        s.client_auth = ClientAuth::DangerAcceptAny { required: true };
        s.common.max_version = ProtocolVersion::Tls12;
        s.common.verify_schemes = verify.clone();
        let mut c = client_config();
        c.identity = Some(pki().identity(Leaf::Server(KeyType::Rsa2048)));
        c.common.signing_schemes = Some(vec![S::rsa_pkcs1_sha512, S::rsa_pss_rsae_sha256]);
        let mut p = pair(b, &c, &s, "localhost");
        p.handshake().expect_ok();
        assert_eq!(
            scheme_sent(p.sent(Side::Client), 15),
            Some(want.code()),
            "server verify {verify:?}: CertificateVerify signed with {want}"
        );
    }
}

/// `supports(SignatureScheme)` says what a context accepts: a scheme the
/// backend lacks is `Unsupported` naming it, in either list; the others
/// build. Empty and repeated lists are contradictions everywhere.
pub fn signature_scheme_capability_matches_contexts<B: Backend>(b: &B) {
    for s in S::ALL {
        for signing in [true, false] {
            let mut c = client_config();
            let list = Some(vec![*s]);
            if signing {
                c.common.signing_schemes = list;
            } else {
                c.common.verify_schemes = list;
            }
            match b.client_context(&c) {
                Ok(_) => assert!(b.supports(Capability::SignatureScheme(*s)), "{s}"),
                Err(Error::Unsupported(u)) => {
                    assert!(!b.supports(Capability::SignatureScheme(*s)), "{s}");
                    assert_eq!(u.capability, Some(Capability::SignatureScheme(*s)));
                }
                Err(e) => panic!("{s}: {e:?}"),
            }
        }
    }
    for list in [vec![], vec![S::ed25519, S::rsa_pkcs1_sha256, S::ed25519]] {
        let mut c = client_config();
        c.common.verify_schemes = Some(list.clone());
        match b.client_context(&c) {
            Err(Error::InvalidConfig(e)) => {
                assert_eq!(e.kind(), ConfigErrorKind::Contradiction, "{list:?}")
            }
            other => panic!("{list:?}: {:?}", other.err()),
        }
    }
}

/// `SessionInfo::peer_signature_scheme` names the scheme the peer signed
/// with: the server's on a client, the client's on a server with client
/// authentication, none where the peer signed nothing.
pub fn peer_signature_scheme_reported<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        for scheme in [S::rsa_pss_rsae_sha384, S::rsa_pss_rsae_sha256] {
            let mut s = server_config(pki().identity(Leaf::Server(KeyType::Rsa2048)));
            s.common.signing_schemes = Some(vec![scheme]);
            s.common.max_version = v;
            s.common.min_version = v;
            s.client_auth = ClientAuth::Required(pki().roots());
            let mut c = client_config();
            c.identity = Some(pki().client());
            let p = super::connect_ok(b, &c, &s);
            assert_eq!(p.client.info().peer_signature_scheme, Some(scheme), "{v}");
            assert_eq!(
                p.server.info().peer_signature_scheme,
                Some(S::ecdsa_secp256r1_sha256),
                "{v}: the client's P-256 key"
            );
        }
        // No client authentication: the client signs nothing.
        let mut s = server_config(pki().server());
        s.common.max_version = v;
        let p = super::connect_ok(b, &client_config(), &s);
        assert_eq!(
            p.client.info().peer_signature_scheme,
            Some(S::ecdsa_secp256r1_sha256),
            "{v}"
        );
        assert_eq!(p.server.info().peer_signature_scheme, None, "{v}");
    }
}

/// A resumed handshake signs nothing, so it reports no scheme, though the
/// handshake that made the session did.
pub fn peer_signature_scheme_none_on_resumption<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut c = client_config();
        c.common.max_version = v;
        c.common.min_version = v;
        let cc = b.client_context(&c).expect("client context");
        let sc = b
            .server_context(&server_config(pki().server()))
            .expect("server context");
        let first = super::resumption::connect::<B>(&cc, &sc);
        assert_eq!(
            first.client.info().peer_signature_scheme,
            Some(S::ecdsa_secp256r1_sha256),
            "{v}"
        );
        let second = super::resumption::connect::<B>(&cc, &sc);
        let info = second.client.info();
        assert!(info.resumed, "{v}: resumed");
        assert_eq!(info.peer_signature_scheme, None, "{v}");
    }
}

/// A client whose key can make none of the schemes the server's
/// CertificateRequest allows sends no certificate, and the server, which
/// asked without requiring one, goes on unauthenticated (but see
/// [`Quirk::ClientFailsWithoutSharedSignatureScheme`](crate::Quirk::ClientFailsWithoutSharedSignatureScheme)).
pub fn client_without_shared_scheme<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let mut s = server_config(pki().server());
        s.client_auth = ClientAuth::DangerAcceptAny { required: false };
        s.common.verify_schemes = Some(vec![S::rsa_pss_rsae_sha256, S::ecdsa_secp256r1_sha256]);
        s.common.max_version = v;
        s.common.min_version = v;
        let mut c = client_config();
        c.identity = Some(pki().identity(Leaf::Server(KeyType::Rsa2048)));
        c.common.signing_schemes = Some(vec![S::rsa_pkcs1_sha256]);
        let (p, o) = run(b, &c, &s);
        if crate::quirk(crate::Quirk::ClientFailsWithoutSharedSignatureScheme) {
            assert!(
                matches!(
                    o.client_err(),
                    Error::PeerIncompatible(Incompatibility::NoSharedSignatureScheme)
                ),
                "{v}: {o:?}"
            );
        } else {
            o.expect_ok();
            assert!(p.server.info().peer_chain.is_empty(), "{v}: no certificate");
        }
    }
}

/// An identity whose key can make none of the signing schemes is a
/// contradiction on either side, named before any handshake; so is a key
/// no scheme polytls names fits (here a P-256 key limited to RSA schemes).
pub fn identity_that_cannot_sign_is_refused<B: Backend>(b: &B) {
    let mut s = server_config(pki().server());
    s.common.signing_schemes = Some(vec![S::rsa_pss_rsae_sha256]);
    let mut c = client_config();
    c.identity = Some(pki().client());
    c.common.signing_schemes = Some(vec![S::ecdsa_secp384r1_sha384]);
    for (what, err) in [
        ("server", b.server_context(&s).err()),
        ("client", b.client_context(&c).err()),
    ] {
        match err {
            Some(Error::InvalidConfig(e)) => {
                assert_eq!(e.kind(), ConfigErrorKind::Contradiction, "{what}: {e}");
                assert!(
                    e.message().contains("ecdsa_secp256r1_sha256"),
                    "{what}: {e}"
                );
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}
