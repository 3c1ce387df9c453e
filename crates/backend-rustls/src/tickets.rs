//! Tickets under application-given keys ([`TicketKeys`]): AES-256-GCM with
//! the current key, any listed key decrypts, so servers sharing a key file
//! resume each other's sessions and keys can rotate.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use polytls_api::TicketKeys;
use rustls::server::ProducesTickets;

/// Encrypts tickets as `key name (16) | nonce (12) | ciphertext | tag`,
/// with the key name and the server's trust digest as associated data: a
/// server whose trust changed (another CA or CRL set) cannot open tickets
/// made before, even under a shared key, and makes a full handshake
/// (`polytls_api::trust`, rule 3).
pub(crate) struct KeyedTicketer {
    keys: Vec<([u8; 16], LessSafeKey)>,
    trust: [u8; 32],
    lifetime: u32,
    rng: SystemRandom,
}

/// The associated data of a ticket: key name, then trust digest.
fn aad(name: &[u8], trust: &[u8; 32]) -> [u8; 48] {
    let mut a = [0u8; 48];
    a[..16].copy_from_slice(name);
    a[16..].copy_from_slice(trust);
    a
}

impl std::fmt::Debug for KeyedTicketer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedTicketer")
            .field("keys", &self.keys.len())
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl KeyedTicketer {
    pub(crate) fn new(
        keys: &TicketKeys,
        trust: [u8; 32],
        lifetime: u32,
    ) -> polytls_api::Result<Self> {
        let keys = keys
            .keys()
            .iter()
            .map(|k| {
                let key = UnboundKey::new(&AES_256_GCM, &k.aes).map_err(|_| {
                    polytls_api::Error::config(
                        polytls_api::ConfigErrorKind::Rejected,
                        "rustls: ticket key rejected by AES-256-GCM",
                    )
                })?;
                Ok((k.name, LessSafeKey::new(key)))
            })
            .collect::<polytls_api::Result<_>>()?;
        Ok(Self {
            keys,
            trust,
            lifetime,
            rng: SystemRandom::new(),
        })
    }
}

impl ProducesTickets for KeyedTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.lifetime
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let (name, key) = self.keys.first()?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(16 + NONCE_LEN + plain.len() + 16);
        out.extend_from_slice(name);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(name, &self.trust)),
            &mut body,
        )
        .ok()?;
        out.extend_from_slice(&body);
        Some(out)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        let name = cipher.get(..16)?;
        let nonce: [u8; NONCE_LEN] = cipher.get(16..16 + NONCE_LEN)?.try_into().ok()?;
        let (_, key) = self.keys.iter().find(|(n, _)| n == name)?;
        let mut body = cipher.get(16 + NONCE_LEN..)?.to_vec();
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(name, &self.trust)),
                &mut body,
            )
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polytls_api::TicketKey;

    fn keys(names: &[u8]) -> TicketKeys {
        TicketKeys::new(
            names
                .iter()
                .map(|&b| TicketKey {
                    name: [b; 16],
                    hmac: [b; 32],
                    aes: [b.wrapping_mul(3); 32],
                })
                .collect(),
        )
        .expect("keys")
    }

    #[test]
    fn rotation_and_tampering() {
        let old = KeyedTicketer::new(&keys(&[1]), [0; 32], 60).expect("ticketer");
        let rotated = KeyedTicketer::new(&keys(&[2, 1]), [0; 32], 60).expect("ticketer");
        let other = KeyedTicketer::new(&keys(&[3]), [0; 32], 60).expect("ticketer");
        let other_trust = KeyedTicketer::new(&keys(&[2, 1]), [9; 32], 60).expect("ticketer");
        let t = old.encrypt(b"state").expect("encrypts");
        assert_eq!(
            rotated.decrypt(&t).as_deref(),
            Some(&b"state"[..]),
            "old key decrypts"
        );
        assert!(other.decrypt(&t).is_none(), "unknown key name");
        assert!(
            other_trust.decrypt(&t).is_none(),
            "same key, other trust: the ticket does not open"
        );
        let new = rotated.encrypt(b"state").expect("encrypts");
        assert_eq!(&new[..16], &[2; 16], "the first key encrypts");
        assert!(
            old.decrypt(&new).is_none(),
            "a retired server cannot read new tickets"
        );
        let mut bad = t.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(rotated.decrypt(&bad).is_none(), "tag checked");
        for cut in 0..t.len() {
            assert!(rotated.decrypt(&t[..cut]).is_none());
        }
    }
}
