//! This machine's crypto floor: what a handshake or a record costs at least.
//! Each bench binary measures the operations with aws-lc-rs and with its
//! backend's own library (OpenSSL's EVP, BoringSSL's EVP_AEAD and EVP_PKEY),
//! and `cargo xtask compare` runs it right before the cases it divides and
//! takes the cheaper per operation. With aws-lc-rs alone, OpenSSL's ChaCha20
//! (faster on this machine) read 150 % of its "floor".
//!
//! The operations are the ones the harness' cases need: AEAD sealing of a
//! 16 KiB record with a 13-byte AAD, X25519 key generation plus agreement,
//! ECDSA P-256 and RSA-2048 (PSS, SHA-256) signing and verifying.

use criterion::{Criterion, Throughput};
use std::hint::black_box;

/// The AEADs of the bulk cases, by the names the cases use.
pub const AEADS: [&str; 3] = ["aes128gcm", "aes256gcm", "chacha20"];

/// The public-key operations of the handshake floor.
pub const OPS: [&str; 5] = [
    "x25519-keygen-agree",
    "ecdsa-p256-sign",
    "ecdsa-p256-verify",
    "rsa2048-sign",
    "rsa2048-verify",
];

/// Seals one record in place.
pub type Sealer<'a> = Box<dyn FnMut(&mut [u8]) + 'a>;

/// One library's primitives for the floor.
pub trait Primitives {
    /// Seals `record` in place (a fresh nonce each call is not needed for a
    /// cost measurement) with the AEAD called `aead` (one of [`AEADS`]).
    fn sealer(&self, aead: &str) -> Sealer<'_>;
    /// One public-key operation (one of [`OPS`]), ready to repeat.
    fn op(&self, op: &str) -> Box<dyn FnMut() + '_>;
}

/// Registers `floor/aead/<suite>/<library>` and `floor/crypto/<op>/<library>`
/// for each of `libs` (aws-lc-rs and the backend's own library):
/// `cargo xtask compare` takes the cheaper of the libraries per operation,
/// so the floor is the least this machine can pay for the work and a case
/// can at most reach it.
pub fn register(c: &mut Criterion, libs: &[(&str, &dyn Primitives)]) {
    for aead in AEADS {
        let mut g = c.benchmark_group(format!("floor/aead/{aead}"));
        g.throughput(Throughput::Bytes(16 * 1024));
        for (name, p) in libs {
            // Keys are made only when the filter selects the benchmark.
            g.bench_function(*name, |b| {
                let mut seal = p.sealer(aead);
                let mut record = vec![0u8; 16 * 1024];
                b.iter(|| seal(black_box(&mut record)))
            });
        }
        g.finish();
    }
    // Not crypto, but part of any buffered TLS API's bulk cost: how close
    // bulk can come to the AEAD rate depends on how often a record is copied.
    let mut g = c.benchmark_group("floor/aead/memcpy");
    g.throughput(Throughput::Bytes(16 * 1024));
    g.bench_function("copy", |b| {
        let src = vec![0x5a_u8; 16 * 1024];
        let mut dst = vec![0u8; 16 * 1024];
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        })
    });
    g.finish();
    for op in OPS {
        let mut g = c.benchmark_group(format!("floor/crypto/{op}"));
        for (name, p) in libs {
            g.bench_function(*name, |b| {
                let mut f = p.op(op);
                b.iter(&mut f)
            });
        }
        g.finish();
    }
}

/// The message a handshake signs is about this long (TLS 1.3's
/// CertificateVerify input is 130 bytes for SHA-256).
const MSG: [u8; 130] = [0x42; 130];
const AAD: [u8; 13] = [0; 13];

/// aws-lc-rs: the library rustls uses here.
#[derive(Debug, Default)]
pub struct AwsLc;

impl Primitives for AwsLc {
    fn sealer(&self, aead: &str) -> Sealer<'_> {
        use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
        let alg = match aead {
            "aes128gcm" => &aead::AES_128_GCM,
            "aes256gcm" => &aead::AES_256_GCM,
            _ => &aead::CHACHA20_POLY1305,
        };
        let key = LessSafeKey::new(UnboundKey::new(alg, &vec![7u8; alg.key_len()]).expect("key"));
        Box::new(move |record| {
            let nonce = Nonce::assume_unique_for_key([1u8; 12]);
            let tag = key
                .seal_in_place_separate_tag(nonce, Aad::from(AAD), record)
                .expect("seal");
            black_box(tag.as_ref());
        })
    }

    fn op(&self, op: &str) -> Box<dyn FnMut() + '_> {
        use aws_lc_rs::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
        let rng = SystemRandom::new();
        let ecdsa = || {
            let alg = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("ecdsa key");
            EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref()).expect("ecdsa")
        };
        let rsa = || RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("rsa");
        match op {
            "x25519-keygen-agree" => {
                let peer = EphemeralPrivateKey::generate(&agreement::X25519, &rng).expect("key");
                let peer_pub = peer.compute_public_key().expect("pub");
                Box::new(move || {
                    let k = EphemeralPrivateKey::generate(&agreement::X25519, &rng).expect("key");
                    black_box(k.compute_public_key().expect("pub"));
                    let peer = UnparsedPublicKey::new(&agreement::X25519, peer_pub.as_ref());
                    agreement::agree_ephemeral(k, peer, (), |s| Ok(black_box(s.len())))
                        .expect("agree");
                })
            }
            "ecdsa-p256-sign" => {
                let k = ecdsa();
                Box::new(move || {
                    black_box(k.sign(&rng, &MSG).expect("sign"));
                })
            }
            "ecdsa-p256-verify" => {
                let k = ecdsa();
                let sig = k.sign(&rng, &MSG).expect("sign");
                let pk = signature::UnparsedPublicKey::new(
                    &signature::ECDSA_P256_SHA256_ASN1,
                    k.public_key().as_ref().to_vec(),
                );
                Box::new(move || pk.verify(&MSG, sig.as_ref()).expect("verify"))
            }
            "rsa2048-sign" => {
                let k = rsa();
                let mut sig = vec![0u8; k.public_modulus_len()];
                Box::new(move || {
                    k.sign(&signature::RSA_PSS_SHA256, &rng, &MSG, &mut sig)
                        .expect("sign");
                    black_box(&sig);
                })
            }
            _ => {
                let k = rsa();
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&signature::RSA_PSS_SHA256, &rng, &MSG, &mut sig)
                    .expect("sign");
                let pk = signature::UnparsedPublicKey::new(
                    &signature::RSA_PSS_2048_8192_SHA256,
                    k.public_key().as_ref().to_vec(),
                );
                Box::new(move || pk.verify(&MSG, &sig).expect("verify"))
            }
        }
    }
}

/// The public-key operations on an OpenSSL-API binding (`openssl` or
/// `boring`: the same calls under each crate's name), given how that crate
/// generates an X25519 key.
#[cfg(any(feature = "openssl", feature = "boring", feature = "aws-lc"))]
macro_rules! ossl_ops {
    ($lib:ident, $x25519:expr, $op:expr) => {{
        use $lib::derive::Deriver;
        use $lib::ec::{EcGroup, EcKey};
        use $lib::hash::MessageDigest;
        use $lib::nid::Nid;
        use $lib::pkey::PKey;
        use $lib::rsa::{Padding, Rsa};
        use $lib::sign::{RsaPssSaltlen, Signer, Verifier};
        let ecdsa = || {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
            PKey::from_ec_key(EcKey::generate(&group).expect("ec key")).expect("pkey")
        };
        let rsa = || PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey");
        // RSA-PSS with SHA-256, as TLS 1.3 signs.
        macro_rules! pss {
            ($s:expr) => {{
                $s.set_rsa_padding(Padding::PKCS1_PSS).expect("pss");
                $s.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
                    .expect("salt");
                $s.set_rsa_mgf1_md(MessageDigest::sha256()).expect("mgf1");
            }};
        }
        let f: Box<dyn FnMut()> = match $op {
            "x25519-keygen-agree" => {
                let peer = $x25519();
                Box::new(move || {
                    let k = $x25519();
                    let mut d = Deriver::new(&k).expect("deriver");
                    d.set_peer(&peer).expect("peer");
                    black_box(d.derive_to_vec().expect("derive"));
                })
            }
            "ecdsa-p256-sign" => {
                let k = ecdsa();
                Box::new(move || {
                    let mut s = Signer::new(MessageDigest::sha256(), &k).expect("signer");
                    black_box(s.sign_oneshot_to_vec(&MSG).expect("sign"));
                })
            }
            "ecdsa-p256-verify" => {
                let k = ecdsa();
                let sig = {
                    let mut s = Signer::new(MessageDigest::sha256(), &k).expect("signer");
                    s.sign_oneshot_to_vec(&MSG).expect("sign")
                };
                Box::new(move || {
                    let mut v = Verifier::new(MessageDigest::sha256(), &k).expect("verifier");
                    assert!(v.verify_oneshot(&sig, &MSG).expect("verify"));
                })
            }
            "rsa2048-sign" => {
                let k = rsa();
                Box::new(move || {
                    let mut s = Signer::new(MessageDigest::sha256(), &k).expect("signer");
                    pss!(s);
                    black_box(s.sign_oneshot_to_vec(&MSG).expect("sign"));
                })
            }
            _ => {
                let k = rsa();
                let sig = {
                    let mut s = Signer::new(MessageDigest::sha256(), &k).expect("signer");
                    pss!(s);
                    s.sign_oneshot_to_vec(&MSG).expect("sign")
                };
                Box::new(move || {
                    let mut v = Verifier::new(MessageDigest::sha256(), &k).expect("verifier");
                    pss!(v);
                    assert!(v.verify_oneshot(&sig, &MSG).expect("verify"));
                })
            }
        };
        f
    }};
}

/// OpenSSL's EVP (or AWS-LC's, through the same crate): the AEAD on one
/// cipher context re-keyed only by its IV per record, as libssl does.
#[cfg(any(feature = "openssl", feature = "aws-lc"))]
#[derive(Debug, Default)]
pub struct OpenSsl;

#[cfg(any(feature = "openssl", feature = "aws-lc"))]
impl Primitives for OpenSsl {
    fn sealer(&self, aead: &str) -> Sealer<'_> {
        use openssl::cipher::Cipher;
        use openssl::cipher_ctx::CipherCtx;
        let cipher = match aead {
            "aes128gcm" => Cipher::aes_128_gcm(),
            "aes256gcm" => Cipher::aes_256_gcm(),
            _ => Cipher::chacha20_poly1305(),
        };
        let mut ctx = CipherCtx::new().expect("cipher context");
        ctx.encrypt_init(Some(cipher), Some(&vec![7u8; cipher.key_length()]), None)
            .expect("key");
        let mut tag = [0u8; 16];
        Box::new(move |record| {
            ctx.encrypt_init(None, None, Some(&[1u8; 12])).expect("iv");
            ctx.cipher_update(&AAD, None).expect("aad");
            let n = record.len();
            ctx.cipher_update_inplace(record, n).expect("seal");
            ctx.cipher_final(&mut []).expect("final");
            ctx.tag(&mut tag).expect("tag");
            black_box(&tag);
        })
    }

    fn op(&self, op: &str) -> Box<dyn FnMut() + '_> {
        ossl_ops!(
            openssl,
            || openssl::pkey::PKey::generate_x25519().expect("x25519"),
            op
        )
    }
}

/// BoringSSL's `EVP_AEAD`, the interface its TLS stack seals records with.
#[cfg(feature = "boring")]
#[derive(Debug, Default)]
pub struct Boring;

#[cfg(feature = "boring")]
impl Primitives for Boring {
    fn sealer(&self, aead: &str) -> Sealer<'_> {
        use boring::aead::{AeadCtx, Algorithm};
        let alg = match aead {
            "aes128gcm" => Algorithm::aes_128_gcm(),
            "aes256gcm" => Algorithm::aes_256_gcm(),
            _ => Algorithm::chacha20_poly1305(),
        };
        let mut ctx =
            AeadCtx::new_default_tag(&alg, &vec![7u8; alg.key_length()]).expect("aead context");
        let mut tag = vec![0u8; alg.max_overhead()];
        Box::new(move |record| {
            black_box(
                ctx.seal_in_place_mut(&[1u8; 12], record, &mut tag, &AAD)
                    .expect("seal"),
            );
        })
    }

    fn op(&self, op: &str) -> Box<dyn FnMut() + '_> {
        ossl_ops!(
            boring,
            || boring::pkey::PKey::generate(boring::pkey::Id::X25519).expect("x25519"),
            op
        )
    }
}
