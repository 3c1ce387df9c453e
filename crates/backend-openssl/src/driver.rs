//! OpenSSL's `SSL` over memory, as the shared session drives it.

use openssl::nid::Nid;
use openssl::pkey::Id;
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

        /// The group of the ephemeral key OpenSSL holds: the peer's, else ours.
        /// OpenSSL 3.0 has no accessor for the negotiated group in the
        /// `openssl` crate; hybrid groups (OpenSSL 3.5) are not named here.
        fn group(&self) -> Option<NamedGroup> {
            let ssl = self.stream.ssl();
            let (id, curve) = ssl
                .peer_tmp_key()
                .map(|k| {
                    (
                        k.id(),
                        k.ec_key().ok().and_then(|ec| ec.group().curve_name()),
                    )
                })
                .or_else(|_| {
                    ssl.tmp_key().map(|k| {
                        (
                            k.id(),
                            k.ec_key().ok().and_then(|ec| ec.group().curve_name()),
                        )
                    })
                })
                .ok()?;
            match (id, curve) {
                (Id::X25519, _) => Some(NamedGroup::X25519),
                (Id::X448, _) => Some(NamedGroup::X448),
                (Id::EC, Some(Nid::X9_62_PRIME256V1)) => Some(NamedGroup::SECP256R1),
                (Id::EC, Some(Nid::SECP384R1)) => Some(NamedGroup::SECP384R1),
                (Id::EC, Some(Nid::SECP521R1)) => Some(NamedGroup::SECP521R1),
                _ => None,
            }
        }
    },
}
