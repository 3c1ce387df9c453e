//! The runner's flags, as far as the polytls API can express them. A flag
//! it cannot express makes the shim exit 89 ("unimplemented") naming the
//! flag: that list is the API's gap list, never faked.

use std::path::PathBuf;

use polytls::{NamedGroup, ProtocolVersion, SignatureScheme};

/// Which connections a flag applies to (`-on-initial-`, `-on-resume-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Always,
    Initial,
    Resume,
}

impl When {
    pub(crate) fn applies(self, connection: usize) -> bool {
        match self {
            When::Always => true,
            When::Initial => connection == 0,
            When::Resume => connection > 0,
        }
    }
}

/// A check made after each handshake it applies to.
#[derive(Debug, Clone)]
pub(crate) enum Expect {
    Version(u16),
    CurveId(u16),
    Alpn(Vec<u8>),
    NoAlpn,
    ServerName(String),
    SessionMiss,
    PeerCertFile(PathBuf),
    PeerSignature(SignatureScheme),
}

/// What the runner asked for.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    pub(crate) port: u16,
    pub(crate) shim_id: u64,
    pub(crate) ipv6: bool,
    pub(crate) server: bool,
    pub(crate) cert_file: Option<PathBuf>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) resume_count: usize,
    pub(crate) min_version: Option<u16>,
    pub(crate) max_version: Option<u16>,
    pub(crate) curves: Vec<NamedGroup>,
    pub(crate) signing_prefs: Vec<SignatureScheme>,
    pub(crate) verify_prefs: Vec<SignatureScheme>,
    pub(crate) advertise_alpn: Vec<Vec<u8>>,
    pub(crate) select_alpn: Option<Vec<u8>>,
    pub(crate) host_name: Option<String>,
    /// Server: ask for a client certificate (`Some(required)`), accepting
    /// any, as BoringSSL's shim does unless -verify-fail.
    pub(crate) client_auth: Option<bool>,
    pub(crate) shim_writes_first: bool,
    pub(crate) shim_shuts_down: bool,
    pub(crate) check_close_notify: bool,
    pub(crate) read_size: usize,
    pub(crate) export: Option<Export>,
    pub(crate) expects: Vec<(When, Expect)>,
}

/// `-export-keying-material N` and its label and context.
#[derive(Debug, Default, Clone)]
pub(crate) struct Export {
    pub(crate) len: usize,
    pub(crate) label: Vec<u8>,
    pub(crate) context: Vec<u8>,
    pub(crate) use_context: bool,
}

/// Why the flags cannot be run.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The API cannot express this flag (exit 89), named for the gap list.
    Unimplemented(String),
    /// The runner sent something malformed.
    Bad(String),
}

/// Flags that change nothing a polytls session does, with the reason.
const WITHOUT_EFFECT: &[(&str, &str)] = &[
    // BoringSSL's shim ignores it too: verification is off unless
    // -verify-fail; the runner passes it on every client test.
    ("-trust-cert", "value"),
    // BoringSSL's own non-blocking IO tests; polytls sessions are
    // non-blocking by construction and the blocking adapter drives them.
    ("-async", "bool"),
    // The handshake runs on the first read or write either way.
    ("-implicit-handshake", "bool"),
];

/// Flags without effect on a client only: BoringSSL's shim verifies with a
/// callback that accepts every chain unless -verify-fail, which polytls'
/// danger_accept_invalid_certs already does.
const CLIENT_WITHOUT_EFFECT: &[&str] = &["-verify-peer"];

fn version(v: &str) -> Result<u16, Refusal> {
    v.parse::<u16>()
        .map_err(|_| Refusal::Bad(format!("bad version {v:?}")))
}

/// The polytls version for a wire code, if polytls offers it.
pub(crate) fn protocol(code: u16) -> Option<ProtocolVersion> {
    match code {
        0x0303 => Some(ProtocolVersion::Tls12),
        0x0304 => Some(ProtocolVersion::Tls13),
        _ => None,
    }
}

/// Parses the runner's argv (without the program name).
pub(crate) fn parse(args: &[String]) -> Result<Flags, Refusal> {
    let mut f = Flags {
        read_size: 512,
        ..Flags::default()
    };
    // Every flag the API cannot express, not only the first: a test is
    // unlocked once all of its flags are.
    let mut missing: Vec<String> = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        match parse_one(&mut f, arg, &mut it) {
            Ok(()) => {}
            Err(Refusal::Unimplemented(flag)) => {
                // Skip the unknown flag's value, if it has one.
                if it.peek().is_some_and(|next| !next.starts_with('-')) {
                    it.next();
                }
                missing.push(flag);
            }
            Err(bad) => return Err(bad),
        }
    }
    if let Some(max) = f.max_version {
        if protocol(max).is_none() && max < 0x0303 {
            // Only versions polytls refuses by design (TLS 1.1 and older).
            missing.push(format!("-max-version={max}"));
        }
    }
    if missing.is_empty() {
        Ok(f)
    } else {
        Err(Refusal::Unimplemented(missing.join(" ")))
    }
}

/// Parses one flag (and its value) into `f`.
fn parse_one<'a>(
    f: &mut Flags,
    arg: &str,
    it: &mut impl Iterator<Item = &'a String>,
) -> Result<(), Refusal> {
    {
        let (when, flag) = if let Some(rest) = arg.strip_prefix("-on-initial-") {
            (When::Initial, format!("-{rest}"))
        } else if let Some(rest) = arg.strip_prefix("-on-resume-") {
            (When::Resume, format!("-{rest}"))
        } else if let Some(rest) = arg.strip_prefix("-on-shim-") {
            (When::Always, format!("-{rest}"))
        } else if arg.starts_with("-on-retry-") || arg.starts_with("-on-handshaker-") {
            // Retries follow rejected early data, which the shim never
            // sends; handshaker flags are for split handshakes (not
            // supported, and -is-handshaker-supported says so).
            return Err(Refusal::Unimplemented(arg.to_owned()));
        } else {
            (When::Always, arg.to_owned())
        };
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| Refusal::Bad(format!("{flag} needs a value")))
        };
        let number = |v: String| {
            v.parse::<usize>()
                .map_err(|_| Refusal::Bad(format!("{flag}: bad number {v:?}")))
        };
        // Flags that configure the whole run may not be prefixed.
        let whole_run = |when: When| {
            if when == When::Always {
                Ok(())
            } else {
                Err(Refusal::Unimplemented(arg.to_owned()))
            }
        };
        match flag.as_str() {
            "-port" => {
                f.port = value()?
                    .parse()
                    .map_err(|_| Refusal::Bad("bad port".into()))?
            }
            "-shim-id" => {
                f.shim_id = value()?
                    .parse()
                    .map_err(|_| Refusal::Bad("bad shim id".into()))?
            }
            "-ipv6" => f.ipv6 = true,
            "-server" => f.server = true,
            "-cert-file" => {
                whole_run(when)?;
                f.cert_file = Some(value()?.into());
            }
            "-key-file" => {
                whole_run(when)?;
                f.key_file = Some(value()?.into());
            }
            "-resume-count" => f.resume_count = number(value()?)?,
            "-min-version" => {
                whole_run(when)?;
                f.min_version = Some(version(&value()?)?);
            }
            "-max-version" => {
                whole_run(when)?;
                f.max_version = Some(version(&value()?)?);
            }
            "-expect-version" => f.expects.push((when, Expect::Version(version(&value()?)?))),
            "-curves" => {
                whole_run(when)?;
                f.curves.push(named(
                    &flag,
                    code_point(&flag, &value()?)?,
                    NamedGroup::from_code,
                )?);
            }
            "-expect-peer-signature-algorithm" => {
                let scheme = named(
                    &flag,
                    code_point(&flag, &value()?)?,
                    SignatureScheme::from_code,
                )?;
                f.expects.push((when, Expect::PeerSignature(scheme)));
            }
            "-signing-prefs" | "-verify-prefs" => {
                whole_run(when)?;
                let scheme = named(
                    &flag,
                    code_point(&flag, &value()?)?,
                    SignatureScheme::from_code,
                )?;
                match flag.as_str() {
                    "-signing-prefs" => f.signing_prefs.push(scheme),
                    _ => f.verify_prefs.push(scheme),
                }
            }
            "-expect-curve-id" => {
                let code = code_point(&flag, &value()?)?;
                f.expects.push((when, Expect::CurveId(code)));
            }
            "-advertise-alpn" => {
                whole_run(when)?;
                f.advertise_alpn = alpn_list(value()?.as_bytes())?;
            }
            "-select-alpn" => {
                whole_run(when)?;
                f.select_alpn = Some(value()?.into_bytes());
            }
            "-expect-alpn" => f.expects.push((when, Expect::Alpn(value()?.into_bytes()))),
            "-expect-no-alpn" => f.expects.push((when, Expect::NoAlpn)),
            "-host-name" => {
                whole_run(when)?;
                f.host_name = Some(value()?);
            }
            "-expect-server-name" => f.expects.push((when, Expect::ServerName(value()?))),
            "-expect-session-miss" => f.expects.push((When::Resume, Expect::SessionMiss)),
            "-expect-peer-cert-file" => f
                .expects
                .push((when, Expect::PeerCertFile(value()?.into()))),
            "-shim-writes-first" => f.shim_writes_first = true,
            "-shim-shuts-down" => f.shim_shuts_down = true,
            "-check-close-notify" => f.check_close_notify = true,
            "-read-size" => f.read_size = number(value()?)?.clamp(1, 16384),
            "-export-keying-material" => {
                f.export.get_or_insert_with(Export::default).len = number(value()?)?
            }
            "-export-label" => {
                f.export.get_or_insert_with(Export::default).label = value()?.into_bytes()
            }
            "-export-context" => {
                f.export.get_or_insert_with(Export::default).context = value()?.into_bytes()
            }
            "-use-export-context" => {
                f.export.get_or_insert_with(Export::default).use_context = true
            }
            other if !f.server && CLIENT_WITHOUT_EFFECT.contains(&other) => {}
            "-verify-peer" if f.server => {
                whole_run(when)?;
                f.client_auth.get_or_insert(false);
            }
            "-require-any-client-certificate" if f.server => {
                whole_run(when)?;
                f.client_auth = Some(true);
            }
            other => match WITHOUT_EFFECT.iter().find(|(n, _)| *n == other) {
                Some((_, "value")) => {
                    value()?;
                }
                Some(_) => {}
                None => return Err(Refusal::Unimplemented(arg.to_owned())),
            },
        }
    }
    Ok(())
}

/// A flag's value as an IANA code point (a group or signature scheme).
fn code_point(flag: &str, v: &str) -> Result<u16, Refusal> {
    v.parse::<u16>()
        .map_err(|_| Refusal::Bad(format!("{flag}: bad code point {v:?}")))
}

/// The item polytls names for `code`; one it does not name (a SHA-1
/// scheme, an RSA-PSS key's, Ed448, a group it lacks) can be neither
/// configured nor reported, so the flag is unimplemented for it.
fn named<T>(flag: &str, code: u16, from_code: fn(u16) -> Option<T>) -> Result<T, Refusal> {
    from_code(code).ok_or_else(|| Refusal::Unimplemented(format!("{flag}={code}")))
}

/// An ALPN list in wire format (length-prefixed names).
fn alpn_list(mut wire: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = wire.split_first() {
        let len = usize::from(len);
        if len == 0 || rest.len() < len {
            return Err(Refusal::Bad("malformed ALPN list".into()));
        }
        out.push(rest[..len].to_vec());
        wire = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn basic_and_unimplemented() {
        let f = parse(&args(&[
            "-port",
            "4000",
            "-shim-id",
            "7",
            "-ipv6",
            "-server",
            "-resume-count",
            "1",
            "-on-resume-expect-curve-id",
            "29",
            "-trust-cert",
            "/x",
            "-signing-prefs",
            "2052",
            "-signing-prefs",
            "1027",
            "-verify-prefs",
            "2055",
        ]))
        .unwrap();
        assert_eq!(
            f.signing_prefs,
            [
                SignatureScheme::rsa_pss_rsae_sha256,
                SignatureScheme::ecdsa_secp256r1_sha256
            ]
        );
        assert_eq!(f.verify_prefs, [SignatureScheme::ed25519]);
        assert_eq!(
            (f.port, f.shim_id, f.ipv6, f.server, f.resume_count),
            (4000, 7, true, true, 1)
        );
        assert!(matches!(f.expects[0], (When::Resume, Expect::CurveId(29))));
        for unknown in [
            &["-dtls"][..],
            &["-quic"],
            &["-renegotiate-freely"],
            &["-on-retry-expect-alpn", "x"],
            &["-signing-prefs", "513"],
            &["-on-resume-verify-prefs", "2052"],
        ] {
            assert!(
                matches!(parse(&args(unknown)), Err(Refusal::Unimplemented(_))),
                "{unknown:?}"
            );
        }
        assert!(matches!(parse(&args(&["-port"])), Err(Refusal::Bad(_))));
        assert!(matches!(
            parse(&args(&["-max-version", "770"])),
            Err(Refusal::Unimplemented(_))
        ));
        assert_eq!(
            alpn_list(b"\x02h2\x08http/1.1").unwrap(),
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
