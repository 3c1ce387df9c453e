//! Handshakes across versions and key types, and what `SessionInfo` reports.

use polytls_api::{Backend, Capability, CipherSuite, Error, NamedGroup, ProtocolVersion};

use super::{client_config, connect_ok, server_config};
use crate::pki::{pki, KeyType, Leaf};

fn handshake<B: Backend>(b: &B, version: ProtocolVersion, key: KeyType) {
    let id = pki().identity(Leaf::Server(key));
    let mut s = server_config(id.clone());
    s.common.min_version = version;
    s.common.max_version = version;
    let c = client_config();
    let p = connect_ok(b, &c, &s);
    let (ci, si) = (p.client.info(), p.server.info());
    assert_eq!(ci.version, Some(version));
    assert_eq!(si.version, Some(version));
    assert!(ci.cipher_suite.is_some(), "suite reported: {ci:?}");
    assert_eq!(ci.cipher_suite, si.cipher_suite);
    assert_eq!(ci.cipher_suite.map(CipherSuite::version), Some(version));
    assert_eq!(
        ci.peer_chain.first(),
        id.chain().first(),
        "client sees the server leaf"
    );
    assert!(si.peer_chain.is_empty(), "no client certificate was sent");
    assert!(!ci.resumed && !si.resumed);
    assert!(!p.client.is_handshaking() && !p.server.is_handshaking());
}

macro_rules! handshake_cases {
    ($($name:ident => $v:ident, $k:ident;)*) => {$(
        #[doc = concat!("Full handshake, ", stringify!($v), " with a ", stringify!($k), " server key.")]
        pub fn $name<B: Backend>(b: &B) {
            handshake(b, ProtocolVersion::$v, KeyType::$k);
        }
    )*};
}

handshake_cases! {
    handshake_tls13_ecdsa_p256 => Tls13, EcdsaP256;
    handshake_tls12_ecdsa_p256 => Tls12, EcdsaP256;
    handshake_tls13_ecdsa_p384 => Tls13, EcdsaP384;
    handshake_tls12_ecdsa_p384 => Tls12, EcdsaP384;
    handshake_tls13_rsa2048 => Tls13, Rsa2048;
    handshake_tls12_rsa2048 => Tls12, Rsa2048;
    handshake_tls13_rsa4096 => Tls13, Rsa4096;
    handshake_tls13_ed25519 => Tls13, Ed25519;
    handshake_tls12_ed25519 => Tls12, Ed25519;
}

/// Defaults negotiate TLS 1.3 and report suite, group and SNI on both ends.
pub fn info_reports_negotiated_parameters<B: Backend>(b: &B) {
    let p = connect_ok(b, &client_config(), &server_config(pki().server()));
    let (ci, si) = (p.client.info(), p.server.info());
    assert_eq!(ci.version, Some(ProtocolVersion::Tls13));
    assert_eq!(ci.cipher_suite, si.cipher_suite);
    assert!(ci.group.is_some(), "client knows the group: {ci:?}");
    assert_eq!(ci.group, si.group);
    assert_eq!(ci.sni.as_deref(), Some("localhost"));
    assert_eq!(si.sni.as_deref(), Some("localhost"));
    assert_eq!(ci.alpn, None);
}

/// A pinned TLS 1.3 suite is the one negotiated.
pub fn cipher_suite_restriction_tls13<B: Backend>(b: &B) {
    for suite in [
        CipherSuite::TLS_AES_128_GCM_SHA256,
        CipherSuite::TLS_AES_256_GCM_SHA384,
        CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
    ] {
        let mut c = client_config();
        c.common.cipher_suites = Some(vec![suite]);
        c.common.min_version = ProtocolVersion::Tls13;
        let p = connect_ok(b, &c, &server_config(pki().server()));
        assert_eq!(p.client.info().cipher_suite, Some(suite));
        assert_eq!(p.server.info().cipher_suite, Some(suite));
    }
}

/// A pinned TLS 1.2 suite is the one negotiated.
pub fn cipher_suite_restriction_tls12<B: Backend>(b: &B) {
    for suite in [
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        let mut s = server_config(pki().server());
        s.common.cipher_suites = Some(vec![suite]);
        s.common.max_version = ProtocolVersion::Tls12;
        let p = connect_ok(b, &client_config(), &s);
        assert_eq!(p.client.info().cipher_suite, Some(suite));
        assert_eq!(p.client.info().version, Some(ProtocolVersion::Tls12));
    }
}

/// A pinned key-exchange group is the one negotiated, in both versions.
pub fn group_restriction<B: Backend>(b: &B) {
    for version in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        for group in [
            NamedGroup::X25519,
            NamedGroup::SECP256R1,
            NamedGroup::SECP384R1,
        ] {
            let mut c = client_config();
            c.common.groups = Some(vec![group]);
            c.common.min_version = version;
            c.common.max_version = version;
            // An RSA certificate: in TLS 1.2 the client's group list also
            // limits which ECDSA certificates it accepts (RFC 8422).
            let id = pki().identity(Leaf::Server(KeyType::Rsa2048));
            let p = connect_ok(b, &c, &server_config(id));
            assert_eq!(p.client.info().group, Some(group), "{version}");
            assert_eq!(p.server.info().group, Some(group), "{version}");
        }
    }
}

/// No common TLS 1.2 suite: the server reports no shared cipher suite.
pub fn no_shared_cipher_suite<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.max_version = ProtocolVersion::Tls12;
    c.common.cipher_suites = Some(vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]);
    let mut s = server_config(pki().server());
    s.common.cipher_suites = Some(vec![
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_AES_128_GCM_SHA256,
        CipherSuite::TLS_AES_256_GCM_SHA384,
        CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
    ]);
    let (_, o) = super::run(b, &c, &s);
    assert!(
        matches!(
            o.server_err(),
            Error::PeerIncompatible(polytls_api::Incompatibility::NoSharedCipherSuite)
        ),
        "{o:?}"
    );
    assert!(matches!(o.client_err(), Error::AlertReceived(_)), "{o:?}");
}

/// No common group: the handshake fails on the server as incompatible.
pub fn no_shared_group<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.groups = Some(vec![NamedGroup::SECP384R1]);
    let mut s = server_config(pki().server());
    s.common.groups = Some(vec![NamedGroup::X25519]);
    let (_, o) = super::run(b, &c, &s);
    assert!(
        matches!(o.server_err(), Error::PeerIncompatible(_)),
        "{o:?}"
    );
    assert!(matches!(o.client_err(), Error::AlertReceived(_)), "{o:?}");
}

/// A TLS 1.2-only client and a TLS 1.3-only server share no version.
pub fn version_mismatch<B: Backend>(b: &B) {
    let mut c = client_config();
    c.common.max_version = ProtocolVersion::Tls12;
    let mut s = server_config(pki().server());
    s.common.min_version = ProtocolVersion::Tls13;
    let (_, o) = super::run(b, &c, &s);
    assert!(
        matches!(
            o.server_err(),
            Error::PeerIncompatible(polytls_api::Incompatibility::NoSharedVersion)
        ),
        "{o:?}"
    );
    assert!(
        matches!(o.client_err(), Error::AlertReceived(a) if *a == polytls_api::Alert::PROTOCOL_VERSION),
        "{o:?}"
    );
}

/// A PKCS#12 identity loads and serves.
pub fn pkcs12_identity<B: Backend>(b: &B) {
    let id = pki().server();
    let p12 = pki().pkcs12(&id, "s3cret");
    assert!(matches!(
        polytls_api::Identity::from_pkcs12(&p12, "wrong"),
        Err(Error::InvalidConfig(_))
    ));
    let loaded = polytls_api::Identity::from_pkcs12(&p12, "s3cret").expect("pkcs12");
    assert_eq!(loaded.chain(), id.chain());
    let p = connect_ok(b, &client_config(), &server_config(loaded));
    assert_eq!(p.client.info().peer_chain.first(), id.chain().first());
}

/// A key that does not match its certificate is refused at context build.
pub fn mismatched_key_is_invalid_config<B: Backend>(b: &B) {
    let good = pki().server();
    let other = pki().identity(Leaf::Alt);
    let bad = polytls_api::Identity::new(good.chain().to_vec(), other.key().clone_key())
        .expect("identity shape");
    let r = b.server_context(&server_config(bad)).map(|_| ());
    assert!(
        matches!(&r, Err(Error::InvalidConfig(c)) if c.kind() == polytls_api::ConfigErrorKind::KeyMismatch),
        "{r:?}"
    );
}

/// A configured group the backend lacks is `Unsupported` naming the backend,
/// the group and the capability; `supports` answers what the library really
/// accepts, for every group polytls knows.
pub fn unsupported_group_is_unsupported<B: Backend>(b: &B) {
    let mut missing = None;
    for g in NamedGroup::ALL.iter().copied() {
        let mut c = client_config();
        c.common.groups = Some(vec![g]);
        let built = b.client_context(&c).map(|_| ());
        assert_eq!(
            built.is_ok(),
            b.supports(Capability::Group(g)),
            "{g}: supports() disagrees with the library: {built:?}"
        );
        if let Err(e) = built {
            missing = Some((g, e));
        }
    }
    // A library with every group (OpenSSL 3.6) has been checked above:
    // `supports` agrees with what it accepts; no refusal is left to check.
    let Some((group, err)) = missing else {
        return;
    };
    match err {
        Error::Unsupported(u) => {
            assert_eq!(u.backend, b.name());
            assert_eq!(u.capability, Some(Capability::Group(group)));
            assert!(u.reason.contains(group.iana_name()), "{u}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
