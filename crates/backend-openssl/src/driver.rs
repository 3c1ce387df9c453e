//! OpenSSL's `SSL` over memory, as the shared session drives it.

use openssl::nid::Nid;
use openssl::pkey::Id;
use polytls_api::{CipherSuite, NamedGroup, SignatureScheme};

polytls_ossl_common::rust_openssl_stream_driver! {
    binding: openssl,
    /// One OpenSSL connection: an `SslStream` over polytls' in-memory
    /// transport. Reach it through `Session::native::<OpenSslDriver>()` for
    /// what polytls does not model.
    driver: OpenSslDriver,
    reasons: crate::error::LIBRARY,
    items: {
        fn read_early_data(
            &mut self,
            buf: &mut [u8],
        ) -> Option<std::result::Result<usize, Self::Error>> {
            Some(self.stream.read_early_data(buf))
        }

        fn cipher_suite(&self) -> Option<CipherSuite> {
            let c = self.stream.ssl().current_cipher()?;
            CipherSuite::from_code(u16::from_be_bytes(c.protocol_id()))
        }

        /// From the signature type and digest OpenSSL reports. RSA-PSS is
        /// `rsa_pss_rsae_*` when the peer's key is an rsaEncryption key;
        /// the `rsa_pss_pss_*` schemes of RSA-PSS keys polytls does not name.
        fn peer_signature_scheme(&self) -> Option<SignatureScheme> {
            use SignatureScheme as S;
            let (kind, digest) = crate::ffi::peer_signature_nids(self.stream.ssl())?;
            let digest = Nid::from_raw(digest);
            let by_digest = |sha256, sha384, sha512| match digest {
                Nid::SHA256 => Some(sha256),
                Nid::SHA384 => Some(sha384),
                Nid::SHA512 => Some(sha512),
                _ => None,
            };
            match Id::from_raw(kind) {
                Id::RSA => by_digest(S::rsa_pkcs1_sha256, S::rsa_pkcs1_sha384, S::rsa_pkcs1_sha512),
                Id::RSA_PSS => {
                    let key = self.stream.ssl().peer_certificate()?.public_key().ok()?;
                    (key.id() == Id::RSA).then_some(())?;
                    by_digest(
                        S::rsa_pss_rsae_sha256,
                        S::rsa_pss_rsae_sha384,
                        S::rsa_pss_rsae_sha512,
                    )
                }
                Id::EC => by_digest(
                    S::ecdsa_secp256r1_sha256,
                    S::ecdsa_secp384r1_sha384,
                    S::ecdsa_secp521r1_sha512,
                ),
                Id::ED25519 => Some(S::ed25519),
                _ => None,
            }
        }

        /// From `SSL_get_negotiated_group`: a NID for the classic groups, the
        /// IANA code (under `TLSEXT_nid_unknown`) for those without one.
        fn group(&self) -> Option<NamedGroup> {
            /// `TLSEXT_nid_unknown` (`tls1.h`).
            const UNKNOWN: std::os::raw::c_long = 0x0100_0000;
            let v = crate::ffi::negotiated_group(self.stream.ssl())?;
            if v & UNKNOWN != 0 {
                return NamedGroup::from_code(u16::try_from(v & 0xffff).ok()?);
            }
            match Nid::from_raw(i32::try_from(v).ok()?) {
                n if n.as_raw() == openssl_sys::NID_X25519 => Some(NamedGroup::X25519),
                n if n.as_raw() == openssl_sys::NID_X448 => Some(NamedGroup::X448),
                Nid::X9_62_PRIME256V1 => Some(NamedGroup::SECP256R1),
                Nid::SECP384R1 => Some(NamedGroup::SECP384R1),
                Nid::SECP521R1 => Some(NamedGroup::SECP521R1),
                _ => None,
            }
        }
    },
}
