//! Protocol versions, cipher suites and key-exchange groups, by IANA name.
//!
//! These are the portable names every backend understands. A name that is not
//! in these tables is rejected when parsed; a name that is known but that a
//! backend cannot do is rejected by that backend with
//! [`Error::Unsupported`] naming both.

use std::fmt;
use std::str::FromStr;

use crate::{ConfigErrorKind, Error, Result};

/// A TLS protocol version. Versions before TLS 1.2 are not offered by polytls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl ProtocolVersion {
    /// The wire code point (0x0303, 0x0304).
    pub fn code(self) -> u16 {
        match self {
            ProtocolVersion::Tls12 => 0x0303,
            ProtocolVersion::Tls13 => 0x0304,
        }
    }

    /// The conventional name, `"TLSv1.2"` or `"TLSv1.3"`.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolVersion::Tls12 => "TLSv1.2",
            ProtocolVersion::Tls13 => "TLSv1.3",
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProtocolVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['v', '_', ' '], "").as_str() {
            "tls1.2" | "1.2" | "tls12" => Ok(ProtocolVersion::Tls12),
            "tls1.3" | "1.3" | "tls13" => Ok(ProtocolVersion::Tls13),
            "tls1.0" | "tls1.1" | "1.0" | "1.1" | "ssl3" | "ssl3.0" => Err(Error::config(
                ConfigErrorKind::Obsolete,
                format!("protocol version {s:?} is obsolete and not supported by polytls"),
            )),
            _ => Err(Error::config(
                ConfigErrorKind::UnknownName,
                format!("unknown protocol version {s:?}"),
            )),
        }
    }
}

macro_rules! iana_table {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = ($code:expr, $iana:expr $(, $extra:expr)*) ),+ $(,)? }
        $all:ident
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[allow(non_camel_case_types, reason = "variants are spelled as their IANA names")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value polytls knows, in preference order.
            pub const $all: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The IANA code point.
            pub fn code(self) -> u16 {
                match self { $( $name::$variant => $code, )+ }
            }

            /// The IANA name.
            pub fn iana_name(self) -> &'static str {
                match self { $( $name::$variant => $iana, )+ }
            }

            /// Looks a value up by its IANA code point.
            pub fn from_code(code: u16) -> Option<Self> {
                match code { $( c if c == $code => Some($name::$variant), )+ _ => None }
            }

            fn aliases(self) -> &'static [&'static str] {
                match self { $( $name::$variant => &[$( $extra, )*], )+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.iana_name())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            /// Parses an IANA name (case-insensitive) or a common alias.
            fn from_str(s: &str) -> Result<Self> {
                $name::$all
                    .iter()
                    .copied()
                    .find(|v| v.iana_name().eq_ignore_ascii_case(s)
                        || v.aliases().iter().any(|a| a.eq_ignore_ascii_case(s)))
                    .ok_or_else(|| Error::config(ConfigErrorKind::UnknownName, format!(
                        concat!("unknown ", stringify!($name), " {:?}"), s
                    )))
            }
        }
    };
}

iana_table! {
    /// A cipher suite, named as in the IANA TLS registry.
    CipherSuite {
        /// TLS 1.3 AES-128-GCM.
        TLS_AES_128_GCM_SHA256 = (0x1301, "TLS_AES_128_GCM_SHA256"),
        /// TLS 1.3 AES-256-GCM.
        TLS_AES_256_GCM_SHA384 = (0x1302, "TLS_AES_256_GCM_SHA384"),
        /// TLS 1.3 ChaCha20-Poly1305.
        TLS_CHACHA20_POLY1305_SHA256 = (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
        /// TLS 1.2 ECDHE-ECDSA AES-128-GCM.
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        /// TLS 1.2 ECDHE-ECDSA AES-256-GCM.
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        /// TLS 1.2 ECDHE-ECDSA ChaCha20-Poly1305.
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
        /// TLS 1.2 ECDHE-RSA AES-128-GCM.
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
        /// TLS 1.2 ECDHE-RSA AES-256-GCM.
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"),
        /// TLS 1.2 ECDHE-RSA ChaCha20-Poly1305.
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"),
    }
    ALL
}

impl CipherSuite {
    /// The protocol version this suite belongs to.
    pub fn version(self) -> ProtocolVersion {
        if self.code() >> 8 == 0x13 {
            ProtocolVersion::Tls13
        } else {
            ProtocolVersion::Tls12
        }
    }

    /// The OpenSSL name of a TLS 1.2 suite (TLS 1.3 suites use the IANA name).
    pub fn openssl_name(self) -> &'static str {
        self.aliases().first().copied().unwrap_or(self.iana_name())
    }
}

iana_table! {
    /// A key-exchange group, named as in the IANA TLS registry.
    NamedGroup {
        /// X25519 (RFC 7748).
        X25519 = (0x001d, "x25519"),
        /// NIST P-256.
        SECP256R1 = (0x0017, "secp256r1", "P-256", "prime256v1"),
        /// NIST P-384.
        SECP384R1 = (0x0018, "secp384r1", "P-384"),
        /// NIST P-521.
        SECP521R1 = (0x0019, "secp521r1", "P-521"),
        /// X448 (RFC 7748).
        X448 = (0x001e, "x448"),
        /// Hybrid X25519 + ML-KEM-768 (post-quantum).
        X25519MLKEM768 = (0x11ec, "X25519MLKEM768"),
    }
    ALL
}

iana_table! {
    /// A TLS 1.3 signature scheme, named as in the IANA TLS registry.
    SignatureScheme {
        /// ECDSA on P-256 with SHA-256.
        ecdsa_secp256r1_sha256 = (0x0403, "ecdsa_secp256r1_sha256"),
        /// ECDSA on P-384 with SHA-384.
        ecdsa_secp384r1_sha384 = (0x0503, "ecdsa_secp384r1_sha384"),
        /// ECDSA on P-521 with SHA-512.
        ecdsa_secp521r1_sha512 = (0x0603, "ecdsa_secp521r1_sha512"),
        /// Ed25519.
        ed25519 = (0x0807, "ed25519"),
        /// RSASSA-PSS (rsaEncryption key) with SHA-256.
        rsa_pss_rsae_sha256 = (0x0804, "rsa_pss_rsae_sha256"),
        /// RSASSA-PSS (rsaEncryption key) with SHA-384.
        rsa_pss_rsae_sha384 = (0x0805, "rsa_pss_rsae_sha384"),
        /// RSASSA-PSS (rsaEncryption key) with SHA-512.
        rsa_pss_rsae_sha512 = (0x0806, "rsa_pss_rsae_sha512"),
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        rsa_pkcs1_sha256 = (0x0401, "rsa_pkcs1_sha256"),
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        rsa_pkcs1_sha384 = (0x0501, "rsa_pkcs1_sha384"),
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        rsa_pkcs1_sha512 = (0x0601, "rsa_pkcs1_sha512"),
    }
    ALL
}

impl NamedGroup {
    /// The name OpenSSL and BoringSSL use in group lists.
    pub fn openssl_name(self) -> &'static str {
        match self {
            NamedGroup::X25519 => "X25519",
            NamedGroup::SECP256R1 => "P-256",
            NamedGroup::SECP384R1 => "P-384",
            NamedGroup::SECP521R1 => "P-521",
            NamedGroup::X448 => "X448",
            NamedGroup::X25519MLKEM768 => "X25519MLKEM768",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in CipherSuite::ALL {
            assert_eq!(s.iana_name().parse::<CipherSuite>().ok(), Some(*s));
            assert_eq!(CipherSuite::from_code(s.code()), Some(*s));
        }
        for g in NamedGroup::ALL {
            assert_eq!(g.iana_name().parse::<NamedGroup>().ok(), Some(*g));
        }
        assert_eq!(
            "ECDHE-RSA-AES128-GCM-SHA256".parse::<CipherSuite>().ok(),
            Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
        );
        assert_eq!(
            "P-256".parse::<NamedGroup>().ok(),
            Some(NamedGroup::SECP256R1)
        );
    }

    #[test]
    fn unknown_names_are_invalid_config() {
        assert!(matches!(
            "TLS_RSA_WITH_NULL_MD5".parse::<CipherSuite>(),
            Err(Error::InvalidConfig(m)) if m.message().contains("TLS_RSA_WITH_NULL_MD5")
        ));
        assert!(matches!(
            "brainpool".parse::<NamedGroup>(),
            Err(Error::InvalidConfig(_))
        ));
        assert!(
            matches!("TLSv1.0".parse::<ProtocolVersion>(), Err(Error::InvalidConfig(m)) if m.kind() == ConfigErrorKind::Obsolete)
        );
        assert_eq!(
            "TLSv1.3".parse::<ProtocolVersion>().ok(),
            Some(ProtocolVersion::Tls13)
        );
        assert_eq!(
            CipherSuite::TLS_AES_128_GCM_SHA256.version(),
            ProtocolVersion::Tls13
        );
    }
}
