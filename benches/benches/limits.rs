//! This machine's crypto floor, measured in the same run as the backends:
//! AEAD sealing per suite (16 KiB records' worth) and the public-key
//! operations a handshake needs, on aws-lc-rs.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use criterion::{Criterion, Throughput};
use std::hint::black_box;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rng = SystemRandom::new();
    let mut g = c.benchmark_group("limits/aead");
    g.throughput(Throughput::Bytes(16 * 1024));
    for (name, alg) in [
        ("aes128gcm", &aead::AES_128_GCM),
        ("aes256gcm", &aead::AES_256_GCM),
        ("chacha20", &aead::CHACHA20_POLY1305),
    ] {
        let key = LessSafeKey::new(UnboundKey::new(alg, &vec![7u8; alg.key_len()]).expect("key"));
        let mut buf = vec![0u8; 16 * 1024];
        g.bench_function(name, |b| {
            b.iter(|| {
                let nonce = Nonce::assume_unique_for_key([1u8; 12]);
                black_box(key.seal_in_place_separate_tag(nonce, Aad::from([0u8; 13]), &mut buf))
            })
        });
    }
    // Not crypto, but part of any buffered TLS API's bulk cost: each side
    // copies each record twice (plaintext in and ciphertext out, or the
    // reverse), so this bounds how close bulk can come to the AEAD rate.
    let src = vec![0x5a_u8; 16 * 1024];
    let mut dst = vec![0u8; 16 * 1024];
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("limits/crypto");
    g.bench_function("x25519-keygen-agree", |b| {
        let peer = EphemeralPrivateKey::generate(&agreement::X25519, &rng).expect("key");
        let peer_pub = peer.compute_public_key().expect("pub");
        b.iter(|| {
            let k = EphemeralPrivateKey::generate(&agreement::X25519, &rng).expect("key");
            let _ = k.compute_public_key().expect("pub");
            agreement::agree_ephemeral(
                k,
                UnparsedPublicKey::new(&agreement::X25519, peer_pub.as_ref()),
                (),
                |s| Ok(black_box(s.len())),
            )
        })
    });
    let ecdsa_pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("ecdsa key");
    let ecdsa = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        ecdsa_pkcs8.as_ref(),
    )
    .expect("ecdsa");
    let msg = [0x42u8; 130];
    let ecdsa_sig = ecdsa.sign(&rng, &msg).expect("sign");
    g.bench_function("ecdsa-p256-sign", |b| {
        b.iter(|| black_box(ecdsa.sign(&rng, &msg)))
    });
    g.bench_function("ecdsa-p256-verify", |b| {
        let pk = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_ASN1,
            ecdsa.public_key().as_ref(),
        );
        b.iter(|| black_box(pk.verify(&msg, ecdsa_sig.as_ref())))
    });
    let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("rsa");
    let mut rsa_sig = vec![0u8; rsa.public_modulus_len()];
    rsa.sign(&signature::RSA_PSS_SHA256, &rng, &msg, &mut rsa_sig)
        .expect("rsa sign");
    g.bench_function("rsa2048-sign", |b| {
        let mut sig = vec![0u8; rsa.public_modulus_len()];
        b.iter(|| black_box(rsa.sign(&signature::RSA_PSS_SHA256, &rng, &msg, &mut sig)))
    });
    g.bench_function("rsa2048-verify", |b| {
        let pk = signature::UnparsedPublicKey::new(
            &signature::RSA_PSS_2048_8192_SHA256,
            rsa.public_key().as_ref(),
        );
        b.iter(|| black_box(pk.verify(&msg, &rsa_sig)))
    });
    g.finish();
    c.final_summary();
}
