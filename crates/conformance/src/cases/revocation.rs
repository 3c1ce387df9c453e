//! Certificate revocation lists: the one policy of
//! `polytls_api::revocation` on both ends, on every backend.

use polytls_api::{
    Backend, CertificateError as CE, ClientAuth, ConfigErrorKind, Error, ProtocolVersion,
    Revocation, RevocationScope,
};

use super::{client_config, connect_ok, run, server_config};
use crate::pki::{pki, Crls, Leaf};

/// A client checking the server's chain against `crls` (with `scope`),
/// against a server presenting `leaf`: the client's outcome.
fn client_checks<B: Backend>(
    b: &B,
    leaf: Leaf,
    crls: Crls,
    scope: RevocationScope,
) -> crate::pair::Outcome {
    let mut c = client_config();
    c.revocation = pki().revocation(crls);
    c.revocation.scope = scope;
    run(b, &c, &server_config(pki().identity(leaf))).1
}

#[track_caller]
fn expect_client_refuses(o: &crate::pair::Outcome, reason: CE) {
    assert!(
        matches!(o.client_err(), Error::InvalidCertificate(r) if *r == reason),
        "expected {reason:?}: {o:?}"
    );
    assert!(
        matches!(o.server_err(), Error::AlertReceived(_)),
        "server hears an alert: {o:?}"
    );
}

/// A server requiring client certificates checked against `crls`, with a
/// client presenting `leaf`, over `version`.
fn server_checks<B: Backend>(
    b: &B,
    leaf: Leaf,
    crls: Crls,
    version: ProtocolVersion,
) -> crate::pair::Outcome {
    let mut s = server_config(pki().server());
    s.client_auth = ClientAuth::Required(pki().roots());
    s.client_revocation = pki().revocation(crls);
    s.common.min_version = version;
    s.common.max_version = version;
    let mut c = client_config();
    c.identity = Some(pki().identity(leaf));
    run(b, &c, &s).1
}

/// With current CRLs from every CA, good chains pass (depth 2 and 3) on
/// both ends.
pub fn good_chains_pass<B: Backend>(b: &B) {
    for leaf in [
        Leaf::Server(crate::pki::KeyType::EcdsaP256),
        Leaf::DeepChain,
    ] {
        client_checks(b, leaf, Crls::Current, RevocationScope::Chain).expect_ok();
    }
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        server_checks(b, Leaf::Client, Crls::Current, v).expect_ok();
    }
}

/// A revoked server leaf is `Revoked` on the client, whatever the scope.
pub fn revoked_server_leaf<B: Backend>(b: &B) {
    for scope in [RevocationScope::Chain, RevocationScope::EndEntity] {
        let o = client_checks(b, Leaf::Revoked, Crls::Current, scope);
        expect_client_refuses(&o, CE::Revoked);
    }
}

/// A revoked client leaf is `Revoked` on the server (both versions); the
/// client hears an alert.
pub fn revoked_client_leaf<B: Backend>(b: &B) {
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let o = server_checks(b, Leaf::ClientRevoked, Crls::Current, v);
        assert!(
            matches!(o.server_err(), Error::InvalidCertificate(CE::Revoked)),
            "{v}: {o:?}"
        );
        assert!(
            matches!(o.client_err(), Error::AlertReceived(_)),
            "{v}: {o:?}"
        );
    }
}

/// A revoked intermediate refuses the chain under the default scope
/// (`Chain`); under `EndEntity` it is not checked and the chain passes.
pub fn revoked_intermediate<B: Backend>(b: &B) {
    let o = client_checks(
        b,
        Leaf::UnderRevokedIntermediate,
        Crls::Current,
        RevocationScope::Chain,
    );
    expect_client_refuses(&o, CE::Revoked);
    client_checks(
        b,
        Leaf::UnderRevokedIntermediate,
        Crls::Current,
        RevocationScope::EndEntity,
    )
    .expect_ok();
}

/// A CRL from another CA says nothing about a certificate, even when it
/// lists the same serial number: with the issuer's own CRL missing, the
/// status is unknown and the chain is refused (fail closed); with it
/// present, the other CA's CRL changes nothing.
pub fn other_ca_crl_is_ignored<B: Backend>(b: &B) {
    let good = Leaf::Server(crate::pki::KeyType::EcdsaP256);
    for scope in [RevocationScope::Chain, RevocationScope::EndEntity] {
        let o = client_checks(b, good, Crls::IntermediateMissingOtherCa, scope);
        expect_client_refuses(&o, CE::UnknownRevocationStatus);
        client_checks(b, good, Crls::CurrentPlusOtherCa, scope).expect_ok();
    }
    let o = server_checks(
        b,
        Leaf::Client,
        Crls::IntermediateMissingOtherCa,
        ProtocolVersion::Tls13,
    );
    assert!(
        matches!(
            o.server_err(),
            Error::InvalidCertificate(CE::UnknownRevocationStatus)
        ),
        "{o:?}"
    );
    server_checks(
        b,
        Leaf::Client,
        Crls::CurrentPlusOtherCa,
        ProtocolVersion::Tls13,
    )
    .expect_ok();
}

/// A CRL past its `nextUpdate` refuses the certificates it covers with
/// `ExpiredRevocationList` — even a good one — on both ends.
pub fn expired_crl_is_refused<B: Backend>(b: &B) {
    let good = Leaf::Server(crate::pki::KeyType::EcdsaP256);
    let o = client_checks(b, good, Crls::IntermediateExpired, RevocationScope::Chain);
    expect_client_refuses(&o, CE::ExpiredRevocationList);
    let o = server_checks(
        b,
        Leaf::Client,
        Crls::IntermediateExpired,
        ProtocolVersion::Tls13,
    );
    assert!(
        matches!(
            o.server_err(),
            Error::InvalidCertificate(CE::ExpiredRevocationList)
        ),
        "{o:?}"
    );
}

/// A CRL whose `thisUpdate` is in the future cannot vouch for anything
/// yet: the certificates it covers are refused with
/// `RevocationListNotYetValid` on both ends, over both versions (fail
/// closed; OpenSSL and BoringSSL refuse such a CRL themselves, rustls is
/// made to).
pub fn future_dated_crl_is_refused<B: Backend>(b: &B) {
    let good = Leaf::Server(crate::pki::KeyType::EcdsaP256);
    let o = client_checks(
        b,
        good,
        Crls::IntermediateFutureDated,
        RevocationScope::Chain,
    );
    expect_client_refuses(&o, CE::RevocationListNotYetValid);
    let o = client_checks(
        b,
        good,
        Crls::IntermediateFutureDated,
        RevocationScope::EndEntity,
    );
    expect_client_refuses(&o, CE::RevocationListNotYetValid);
    for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
        let o = server_checks(b, Leaf::Client, Crls::IntermediateFutureDated, v);
        assert!(
            matches!(
                o.server_err(),
                Error::InvalidCertificate(CE::RevocationListNotYetValid)
            ),
            "{v}: {o:?}"
        );
    }
}

/// Revocation makes no difference without CRLs: the default checks
/// nothing, and a revoked leaf passes (revocation is opt-in, as on every
/// TLS library).
pub fn no_crls_no_checking<B: Backend>(b: &B) {
    let s = server_config(pki().identity(Leaf::Revoked));
    connect_ok(b, &client_config(), &s);
}

/// Contradictions and malformed CRLs are `InvalidConfig` before any
/// backend sees them.
pub fn revocation_config_errors<B: Backend>(b: &B) {
    let mut s = server_config(pki().server());
    s.client_revocation = pki().revocation(Crls::Current);
    match b.server_context(&s) {
        Err(Error::InvalidConfig(c)) => assert_eq!(c.kind(), ConfigErrorKind::Contradiction),
        other => panic!("client_revocation without client auth: {other:?}"),
    }
    let mut c = client_config();
    c.revocation = pki().revocation(Crls::Current);
    c.danger_accept_invalid_certs = true;
    match b.client_context(&c) {
        Err(Error::InvalidConfig(e)) => assert_eq!(e.kind(), ConfigErrorKind::Contradiction),
        other => panic!("revocation with danger_accept_invalid_certs: {other:?}"),
    }
    let garbage = b"-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n";
    match Revocation::from_pem(garbage) {
        Err(Error::InvalidConfig(e)) => assert_eq!(e.kind(), ConfigErrorKind::Malformed),
        other => panic!("garbage CRL: {other:?}"),
    }
    // The same configuration still connects once the contradiction goes.
    c.danger_accept_invalid_certs = false;
    connect_ok(b, &c, &server_config(pki().server()));
}
