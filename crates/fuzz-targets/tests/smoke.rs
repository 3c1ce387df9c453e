//! The fuzz targets without libFuzzer: each target runs its generated seeds
//! and deterministic mutations of them (bit flips, byte sets, cuts,
//! duplications), bounded per target; plus any saved regression inputs in
//! `regressions/<target>/`. A panic is a failure, as under the fuzzer.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use polytls_fuzz_targets::{differential, seeds, TARGETS};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            v.push(rng.next() as u8);
            continue;
        }
        let i = rng.below(v.len());
        match rng.below(5) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v[i] = [0, 0xff, 0x7f, 0x80, 1][rng.below(5)],
            2 => v.truncate(i),
            3 => {
                let j = (i + 1 + rng.below(16)).min(v.len());
                let piece = v[i..j].to_vec();
                v.splice(i..i, piece);
            }
            _ => v[i] = rng.next() as u8,
        }
    }
    v
}

fn corpus(dir: &Path, target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in [
        dir.join(target),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("regressions")
            .join(target),
    ] {
        if let Ok(entries) = std::fs::read_dir(&d) {
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            out.extend(files.iter().map(|f| std::fs::read(f).unwrap()));
        }
    }
    out
}

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    let tmp = std::env::temp_dir().join(format!("polytls-fuzz-smoke-{}", std::process::id()));
    let written = seeds::write(&tmp).unwrap();
    assert!(written > 50, "only {written} seeds");
    let budget = Duration::from_secs(
        std::env::var("POLYTLS_FUZZ_SMOKE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4),
    );
    for (name, target) in TARGETS {
        let seeds = corpus(&tmp, name);
        assert!(!seeds.is_empty(), "no seeds for {name}");
        let start = Instant::now();
        let mut rng = Rng(0x5eed ^ name.len() as u64);
        let mut runs = 0;
        for s in &seeds {
            target(s);
            runs += 1;
        }
        while start.elapsed() < budget {
            let s = &seeds[rng.below(seeds.len())];
            let input = mutate(s, &mut rng);
            if std::env::var_os("POLYTLS_FUZZ_TRACE").is_some() {
                eprintln!("{name} {input:?}");
            }
            target(&input);
            runs += 1;
        }
        eprintln!(
            "{name}: {runs} inputs in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn real_handshakes_classify_the_same_on_every_backend() {
    // The unmutated ClientHellos of every client backend: no divergence at all,
    // allow-list or not.
    for (name, c2s, _) in seeds::transcripts() {
        let first_flight = first_record_flight(&c2s);
        if let Some((r, o, other)) = differential::classes(first_flight) {
            assert_eq!(r, o, "{name}: rustls {r:?} vs {other} {o:?}");
        }
    }
}

/// The ClientHello record(s) at the start of a client's bytes.
fn first_record_flight(c2s: &[u8]) -> &[u8] {
    if c2s.len() < 5 {
        return c2s;
    }
    let len = usize::from(u16::from_be_bytes([c2s[3], c2s[4]]));
    &c2s[..(5 + len).min(c2s.len())]
}

#[test]
fn allow_list_entries_each_have_a_reason_and_are_distinct() {
    for (i, (r, o, why)) in differential::ALLOWED.iter().enumerate() {
        assert_ne!(r, o, "entry {i} is not a divergence");
        assert!(why.len() > 20, "entry {i} needs a real reason");
        assert!(
            !differential::ALLOWED[..i]
                .iter()
                .any(|(r2, o2, _)| r2 == r && o2 == o),
            "entry {i} is a duplicate"
        );
    }
}

#[test]
fn close_notify_before_the_hello_is_classified() {
    // A bare warning close_notify as the client's first record: rustls ignores
    // the unauthenticated alert and waits; BoringSSL ends the session as
    // unexpected_eof; OpenSSL rejects a first record that is not a handshake.
    let close_notify = [0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00];
    let (r, o, other) = differential::classes(&close_notify).unwrap();
    assert_eq!(r, polytls_fuzz_targets::Class::Handshaking);
    let expected = match other {
        "openssl" => "peer_misbehaved",
        _ => "unexpected_eof",
    };
    assert_eq!(o, polytls_fuzz_targets::Class::Error(expected), "{other}");
    assert!(differential::allowed(r, o).is_some());
}

#[test]
fn the_first_decision_is_compared() {
    use polytls_fuzz_targets::Class;
    // A bare close_notify, then a fatal alert: OpenSSL and BoringSSL decide at
    // the first record; rustls, still handshaking there, would report the
    // alert had the whole flight been compared.
    let flight = [
        0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00, 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28,
    ];
    assert_eq!(differential::records(&flight).len(), 2);
    let (r, o, _) = differential::classes(&flight).unwrap();
    assert_eq!(r, Class::Handshaking);
    assert_ne!(o, Class::Handshaking);
}

#[test]
fn records_split_at_announced_lengths() {
    let data = [0x16, 3, 1, 0, 2, 9, 9, 0x15, 3, 1, 0, 9, 1];
    let r = differential::records(&data);
    assert_eq!(r, vec![&data[..7], &data[7..]]);
    assert_eq!(differential::records(&[1, 2]), vec![&[1u8, 2][..]]);
    assert!(differential::records(&[]).is_empty());
}

#[test]
fn an_alert_inside_a_split_handshake_message_is_classified() {
    use polytls_fuzz_targets::Class;
    // A record holding the first 37 bytes of a 45-byte handshake message,
    // then a fatal alert before the rest.
    let mut flight = vec![0x16, 0x03, 0x01, 0x00, 0x29, 0x01, 0x00, 0x00, 0x2d];
    flight.extend_from_slice(&[0x03; 37]);
    flight.extend_from_slice(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);
    let (r, o, other) = differential::classes(&flight).unwrap();
    // rustls and OpenSSL reject the interleaving; BoringSSL and AWS-LC read
    // the alert.
    assert_eq!(r, Class::Error("peer_misbehaved"));
    let expected = match other {
        "boring" | "aws-lc" => "alert_received",
        _ => "peer_misbehaved",
    };
    assert_eq!(o, Class::Error(expected), "{other}");
    assert!(r == o || differential::allowed(r, o).is_some());
}

#[test]
fn a_close_notify_after_four_warnings_is_classified() {
    use polytls_fuzz_targets::Class;
    let mut flight = Vec::new();
    for description in [42u8, 41, 40, 40, 0] {
        flight.extend_from_slice(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x01, description]);
    }
    let (r, o, other) = differential::classes(&flight).unwrap();
    if other == "openssl" {
        // OpenSSL refuses the first record already: no handshake record yet.
        assert_eq!(
            (r, o),
            (Class::Handshaking, Class::Error("peer_misbehaved"))
        );
    } else {
        // rustls: the fifth warning alert is one too many; BoringSSL ends at
        // the close_notify.
        assert_eq!(r, Class::Error("peer_misbehaved"));
        assert_eq!(o, Class::Error("unexpected_eof"), "{other}");
    }
    assert!(differential::allowed(r, o).is_some(), "{other} {o:?}");
}
