//! Configuration and identity loading: PEM, DER and PKCS#12 bytes, pins and
//! parameter names; whatever parses is then handed to every backend.

use std::str::FromStr;

use polytls_api::identity::{certs_from_pem, private_key_from_pem};
use polytls_api::{
    Backend, CipherSuite, ClientConfig, Identity, NamedGroup, ProtocolVersion, Roots, ServerConfig,
    SpkiPin,
};

use crate::fixtures::backends;

/// Layout: byte 0 picks the loader; the rest is split at the first `0xff`
/// into two parts (certificate and key, or archive and password).
pub fn load(data: &[u8]) {
    let [which, rest @ ..] = data else {
        return;
    };
    let (a, b) = match rest.iter().position(|&x| x == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[..0]),
    };
    let identity = match which % 6 {
        0 => Identity::from_pem(a, b).ok(),
        1 => Identity::from_der(vec![a.to_vec()], b.to_vec()).ok(),
        2 => Identity::from_pkcs12(a, &String::from_utf8_lossy(b)).ok(),
        3 => {
            let _ = certs_from_pem(a);
            let _ = private_key_from_pem(b);
            if let Ok(roots) = Roots::from_pem(a) {
                for backend in backends() {
                    let _ = backend.client_context(&ClientConfig::new(roots.clone()));
                }
            }
            None
        }
        4 => {
            let s = String::from_utf8_lossy(rest);
            let _ = SpkiPin::parse(&s);
            let _ = CipherSuite::from_str(&s);
            let _ = NamedGroup::from_str(&s);
            let _ = ProtocolVersion::from_str(&s);
            let _ = polytls_api::check_server_name(&s);
            None
        }
        _ => {
            // A valid chain with arbitrary key bytes, and the reverse.
            let pki = polytls_conformance::pki::pki();
            let id = pki.server();
            let key = id.key().secret_der().to_vec();
            let _ = Identity::from_der(vec![rest.to_vec()], key);
            Identity::from_der(
                id.chain().iter().map(|c| c.to_vec()).collect(),
                rest.to_vec(),
            )
            .ok()
        }
    };
    if let Some(id) = identity {
        for backend in backends() {
            let _ = backend.server_context(&ServerConfig::new(id.clone()));
        }
    }
}
