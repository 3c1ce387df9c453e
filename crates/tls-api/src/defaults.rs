//! The portable defaults: one list of key-exchange groups, cipher suites and
//! signature schemes, applied by every backend when the configuration leaves
//! them unset. A backend that cannot offer an entry leaves it out, and
//! [`Backend::supports`](crate::Backend::supports) says so.
//!
//! The lists follow Mozilla's "intermediate" server profile (2025), with the
//! post-quantum hybrid X25519MLKEM768 first where the library has it: no
//! X448, no P-521, AEAD suites with forward secrecy only.

use crate::params::{CipherSuite, NamedGroup, SignatureScheme};

/// Key-exchange groups, in preference order.
pub const GROUPS: &[NamedGroup] = &[
    NamedGroup::X25519MLKEM768,
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

/// Cipher suites, in preference order (TLS 1.3 first; each version uses its
/// own).
pub const CIPHER_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS_AES_128_GCM_SHA256,
    CipherSuite::TLS_AES_256_GCM_SHA384,
    CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// Signature schemes accepted from peers and used for signing, in
/// preference order.
pub const SIGNATURE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ecdsa_secp256r1_sha256,
    SignatureScheme::ed25519,
    SignatureScheme::rsa_pss_rsae_sha256,
    SignatureScheme::rsa_pkcs1_sha256,
    SignatureScheme::ecdsa_secp384r1_sha384,
    SignatureScheme::rsa_pss_rsae_sha384,
    SignatureScheme::rsa_pkcs1_sha384,
    SignatureScheme::rsa_pss_rsae_sha512,
    SignatureScheme::rsa_pkcs1_sha512,
];
