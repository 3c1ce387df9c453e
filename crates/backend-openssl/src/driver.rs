//! OpenSSL's `SSL` over memory, as the shared session drives it.

use openssl::nid::Nid;
use polytls_api::{CipherSuite, NamedGroup};

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
