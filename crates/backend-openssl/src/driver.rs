//! OpenSSL's `SSL` over memory, as the shared session drives it.

use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::ssl::{SslRef, SslStream};
use polytls_api::memio::MemIo;
use polytls_api::{CipherSuite, NamedGroup};
use polytls_ossl_common::SslDriver;

/// One OpenSSL connection: an `SslStream` over [`MemIo`]. Reach it through
/// `Session::native::<OpenSslDriver>()` for what polytls does not model.
#[derive(Debug)]
pub struct OpenSslDriver {
    pub(crate) stream: SslStream<MemIo>,
}

impl OpenSslDriver {
    /// The OpenSSL `SSL` underneath (outside the portable guarantee).
    pub fn ssl(&self) -> &SslRef {
        self.stream.ssl()
    }

    fn ssl_ref(&self) -> Option<&SslRef> {
        Some(self.stream.ssl())
    }
}

impl SslDriver for OpenSslDriver {
    type Error = openssl::ssl::Error;

    polytls_ossl_common::rust_openssl_accessors!(openssl, crate::error::LIBRARY);

    fn io(&self) -> &MemIo {
        self.stream.get_ref()
    }

    fn io_mut(&mut self) -> &mut MemIo {
        self.stream.get_mut()
    }

    fn handshake(&mut self) -> std::result::Result<(), Self::Error> {
        self.stream.do_handshake()
    }

    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Self::Error> {
        self.stream.ssl_read(buf)
    }

    fn peek(&mut self, buf: &mut [u8]) -> Option<std::result::Result<usize, Self::Error>> {
        Some(self.stream.ssl_peek(buf))
    }

    fn write(&mut self, data: &[u8]) -> std::result::Result<usize, Self::Error> {
        self.stream.ssl_write(data)
    }

    fn read_early_data(
        &mut self,
        buf: &mut [u8],
    ) -> Option<std::result::Result<usize, Self::Error>> {
        Some(self.stream.read_early_data(buf))
    }

    fn shutdown(&mut self) {
        // Queues close_notify in memory; the result only says whether the
        // peer's close_notify has arrived too.
        let _ = self.stream.shutdown();
    }

    fn verify_result(&self) -> i32 {
        self.stream.ssl().verify_result().as_raw()
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
}
