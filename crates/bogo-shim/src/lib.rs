//! # polytls-bogo-shim — BoringSSL's BoGo runner against polytls
//!
//! A shim is what the BoGo runner launches for each test: it connects back
//! to the runner, runs one or more TLS connections as told by its flags,
//! and reports. This one translates the runner's flags into the polytls
//! public API and nothing else: there is no backend-specific path. The
//! backend is chosen at run time by `POLYTLS_BOGO_BACKEND` (`rustls`,
//! `openssl`, `boring`); each binary holds rustls and one OpenSSL-family
//! library.
//!
//! - A flag the API cannot express exits 89 ("unimplemented"), prints
//!   `unimplemented: <flag>` and, with `POLYTLS_BOGO_GAPS=<file>`, appends
//!   the flag to that file: the list, ranked by tests, is the API's gap
//!   list.
//! - A failure prints polytls' error category and detail as `:TOKENS:` on
//!   stderr and exits 1; the shim config's `ErrorMap` maps the runner's
//!   expected errors onto them. On success stderr stays empty.
//! - Verification is off, as in BoringSSL's own shim (the runner's
//!   certificates are made up per run): polytls'
//!   `danger_accept_invalid_certs` on clients and
//!   `ClientAuth::DangerAcceptAny` on servers, which still check handshake
//!   signatures.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use polytls::backend::driver::SessionDriver;
use polytls::blocking::Stream;
use polytls::{
    Backend, ClientAuth, ClientConfig, DynBackend, Error, Identity, ProtocolVersion, Roots,
    ServerConfig, Session, SessionInfo,
};

mod flags;

use flags::{protocol, Expect, Flags, Refusal};

/// Exit code for a test the shim cannot run.
const UNIMPLEMENTED: u8 = 89;

/// Runs the shim on this process's arguments.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .first()
        .is_some_and(|a| a == "-is-handshaker-supported")
    {
        println!("No");
        return ExitCode::SUCCESS;
    }
    println!("options: {args:?}");
    let flags = match flags::parse(&args) {
        Ok(f) => f,
        Err(Refusal::Unimplemented(flag)) => return unimplemented(&flag),
        Err(Refusal::Bad(why)) => return fail(&format!(":SHIM_ARGUMENTS: {why}")),
    };
    let name = std::env::var("POLYTLS_BOGO_BACKEND").unwrap_or_else(|_| "rustls".into());
    let backend = match polytls::backend_by_name(&name) {
        Ok(b) => b,
        Err(e) => return fail(&format!(":SHIM_BACKEND: {e}")),
    };
    match run(&backend, &flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Unimplemented(what)) => unimplemented(&what.replace(' ', "")),
        Err(Failure::Tls(e)) => fail(&format!("{} {e}", tokens(&e))),
        Err(Failure::Shim(why)) => fail(&why),
    }
}

/// Exit 89, recording the flags (space-separated) for the gap list.
fn unimplemented(flags: &str) -> ExitCode {
    println!("unimplemented: {flags}");
    let name = flags;
    if let Some(path) = std::env::var_os("POLYTLS_BOGO_GAPS") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            // One short write per line: appends from parallel shims stay whole.
            let _ = f.write_all(format!("{name}\n").as_bytes());
        }
    }
    ExitCode::from(UNIMPLEMENTED)
}

fn fail(why: &str) -> ExitCode {
    eprintln!("{why}");
    ExitCode::FAILURE
}

/// How a run ended badly.
#[derive(Debug)]
enum Failure {
    /// The API cannot do what the test needs (exit 89).
    Unimplemented(String),
    /// The TLS connection failed.
    Tls(Error),
    /// An expectation or the shim's own IO failed.
    Shim(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Unsupported(u) => Failure::Unimplemented(match u.capability {
                Some(c) => format!("Unsupported({c:?})"),
                None => "Unsupported".into(),
            }),
            e => Failure::Tls(e),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        match Error::from_io(&e) {
            Some(tls) => Failure::from(tls.clone()),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Failure::Tls(Error::UnexpectedEof)
            }
            None => Failure::Shim(format!(":SHIM_IO: {e}")),
        }
    }
}

/// polytls' error as `:TOKENS:` for the runner: the category, then the
/// detail (certificate reason, what was incompatible, the alert).
fn tokens(e: &Error) -> String {
    let detail = match e {
        Error::InvalidCertificate(r) => format!(":{}:", screaming(&format!("{r:?}"))),
        Error::PeerIncompatible(i) => format!(":{}:", screaming(&format!("{i:?}"))),
        Error::AlertReceived(a) => format!(":ALERT_{}:", a.0),
        _ => String::new(),
    };
    format!(":{}:{detail}", e.category().to_ascii_uppercase())
}

/// `UnknownIssuer` → `UNKNOWN_ISSUER`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The versions the flags allow: polytls offers TLS 1.2 and 1.3 only, so a
/// lower minimum is raised to TLS 1.2 (polytls refuses older versions by
/// design; tests that need them are listed in the config).
fn versions(flags: &Flags) -> (ProtocolVersion, ProtocolVersion) {
    let min = flags
        .min_version
        .and_then(protocol)
        .unwrap_or(ProtocolVersion::Tls12);
    let max = flags
        .max_version
        .and_then(protocol)
        .unwrap_or(ProtocolVersion::Tls13);
    (min, max)
}

fn common(flags: &Flags, c: &mut polytls::Common) {
    (c.min_version, c.max_version) = versions(flags);
    if !flags.curves.is_empty() {
        c.groups = Some(flags.curves.clone());
    }
    if !flags.signing_prefs.is_empty() {
        c.signing_schemes = Some(flags.signing_prefs.clone());
    }
    if !flags.verify_prefs.is_empty() {
        c.verify_schemes = Some(flags.verify_prefs.clone());
    }
}

/// Either end's contexts, made once so later connections resume.
enum Role {
    Client {
        ctx: polytls::DynClientContext,
        name: String,
    },
    Server(polytls::DynServerContext),
}

/// The runner's certificate and key; a key polytls cannot load (ML-DSA,
/// say) is a capability it lacks, not a failure.
fn identity(cert: &std::path::Path, key: &std::path::Path) -> Result<Identity, Failure> {
    Identity::from_pem_files(cert, key).map_err(|e| match e {
        Error::InvalidConfig(c) => Failure::Unimplemented(format!("key-type({:?})", c.kind())),
        other => Failure::from(other),
    })
}

/// A configuration made from valid runner input that the backend's library
/// refuses (a key type it lacks, say) is a capability it lacks.
fn rejected(e: Error) -> Failure {
    match e {
        Error::InvalidConfig(c) => {
            Failure::Unimplemented(format!("library-rejects({:?})", c.kind()))
        }
        other => Failure::from(other),
    }
}

fn role(backend: &DynBackend, flags: &Flags) -> Result<Role, Failure> {
    if flags.server {
        let (Some(cert), Some(key)) = (&flags.cert_file, &flags.key_file) else {
            return Err(Failure::Unimplemented(
                "a server without -cert-file/-key-file".into(),
            ));
        };
        let mut config = ServerConfig::new(identity(cert, key)?);
        common(flags, &mut config.common);
        if let Some(p) = &flags.select_alpn {
            config.common.alpn = vec![p.clone()];
        }
        if let Some(required) = flags.client_auth {
            config.client_auth = ClientAuth::DangerAcceptAny { required };
        }
        Ok(Role::Server(
            backend.server_context(&config).map_err(rejected)?,
        ))
    } else {
        let mut config = ClientConfig::new(Roots::default());
        config.danger_accept_invalid_certs = true;
        if let (Some(cert), Some(key)) = (&flags.cert_file, &flags.key_file) {
            config.identity = Some(identity(cert, key)?);
        }
        config.send_sni = flags.host_name.is_some();
        config.common.alpn = flags.advertise_alpn.clone();
        common(flags, &mut config.common);
        Ok(Role::Client {
            ctx: backend.client_context(&config).map_err(rejected)?,
            name: flags.host_name.clone().unwrap_or_else(|| "test".into()),
        })
    }
}

fn run(backend: &DynBackend, flags: &Flags) -> Result<(), Failure> {
    let role = role(backend, flags)?;
    for connection in 0..=flags.resume_count {
        let session = match &role {
            Role::Client { ctx, name } => ctx.connect(name)?.boxed(),
            Role::Server(ctx) => ctx.accept()?.boxed(),
        };
        one_connection(flags, connection, session)?;
    }
    Ok(())
}

fn one_connection(
    flags: &Flags,
    connection: usize,
    session: Session<Box<dyn SessionDriver>>,
) -> Result<(), Failure> {
    let addr = if flags.ipv6 {
        SocketAddr::from((Ipv6Addr::LOCALHOST, flags.port))
    } else {
        SocketAddr::from((Ipv4Addr::LOCALHOST, flags.port))
    };
    let mut tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    let _ = tcp.set_nodelay(true);
    tcp.write_all(&flags.shim_id.to_le_bytes())?;
    let mut tls = Stream::new(tcp, session);
    let result = exchange(flags, connection, &mut tls);
    if result.is_err() {
        linger(&mut tls);
    }
    result
}

/// After a failure: the alert the session queued goes out, then the shim
/// reads until the runner closes — exiting with unread input would reset
/// the connection, and the runner would see that instead of the alert.
fn linger(tls: &mut Stream<TcpStream, Box<dyn SessionDriver>>) {
    let (io, session) = tls.get_mut();
    while session.wants_write() {
        match session.write_tls(io) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = io.shutdown(std::net::Shutdown::Write);
    let _ = io.set_read_timeout(Some(Duration::from_secs(5)));
    let mut sink = [0u8; 4096];
    while matches!(io.read(&mut sink), Ok(n) if n > 0) {}
}

/// The handshake, the checks and the data of one connection.
fn exchange(
    flags: &Flags,
    connection: usize,
    tls: &mut Stream<TcpStream, Box<dyn SessionDriver>>,
) -> Result<(), Failure> {
    tls.handshake()?;
    let info = tls.session().info();
    for (when, expect) in &flags.expects {
        if when.applies(connection) {
            check(expect, &info, connection)?;
        }
    }
    if let Some(export) = &flags.export {
        if export.len > 0 {
            let mut out = vec![0u8; export.len];
            let context = export.use_context.then_some(export.context.as_slice());
            tls.session()
                .export_keying_material(&mut out, &export.label, context)?;
            tls.write_all(&out)?;
        }
    }
    if flags.shim_writes_first {
        tls.write_all(b"hello")?;
    }
    tls.flush()?;
    if flags.shim_shuts_down {
        tls.get_mut().1.send_close_notify();
        let _ = tls.flush();
        return drain(tls, flags);
    }
    let mut buf = vec![0u8; flags.read_size];
    loop {
        let n = match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let f = Failure::from(e);
                if matches!(f, Failure::Tls(Error::UnexpectedEof)) && !flags.check_close_notify {
                    break;
                }
                return Err(f);
            }
        };
        for b in &mut buf[..n] {
            *b ^= 0xff;
        }
        tls.write_all(&buf[..n])?;
        tls.flush()?;
    }
    // A clean end from our side too: OpenSSL servers forget the session of
    // a connection that did not send close_notify (it could not resume).
    // The runner may have closed its socket already: errors don't matter.
    tls.get_mut().1.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

/// After the shim's own close_notify: read to the end; with
/// `-check-close-notify` the peer's must come, and without it an unclean
/// end (EOF or a reset) is fine.
fn drain(
    tls: &mut Stream<TcpStream, Box<dyn SessionDriver>>,
    flags: &Flags,
) -> Result<(), Failure> {
    let mut buf = [0u8; 512];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            // The runner may close its socket while our close_notify is
            // still unread on its side, and its kernel then resets the
            // connection: an unclean end like any other, which only
            // `-check-close-notify` forbids.
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionReset && !flags.check_close_notify =>
            {
                return Ok(())
            }
            Err(e) => {
                return match Failure::from(e) {
                    Failure::Tls(Error::UnexpectedEof) if !flags.check_close_notify => Ok(()),
                    f => Err(f),
                }
            }
        }
    }
}

fn check(expect: &Expect, info: &SessionInfo, connection: usize) -> Result<(), Failure> {
    let bad = |what: String| {
        Err(Failure::Shim(format!(
            ":SHIM_EXPECTATION: connection {connection}: {what}"
        )))
    };
    match expect {
        Expect::Version(v) => {
            let got = info.version.map(ProtocolVersion::code);
            if got != Some(*v) {
                return bad(format!("version {got:?}, expected {v:#06x}"));
            }
        }
        Expect::CurveId(id) => {
            let got = info.group.map(|g| g.code());
            if got != Some(*id) {
                return bad(format!("group {got:?}, expected {id}"));
            }
        }
        Expect::Alpn(p) => {
            if info.alpn.as_deref() != Some(p.as_slice()) {
                return bad(format!("ALPN {:?}, expected {p:?}", info.alpn));
            }
        }
        Expect::NoAlpn => {
            if info.alpn.is_some() {
                return bad(format!("ALPN {:?}, expected none", info.alpn));
            }
        }
        Expect::ServerName(n) => {
            if info.sni.as_deref() != Some(n.as_str()) {
                return bad(format!("SNI {:?}, expected {n:?}", info.sni));
            }
        }
        // BoringSSL reports a resumed connection's scheme from the full
        // handshake that made the session; polytls reports none (nothing
        // was signed), so the expectation is checked where a peer signed.
        Expect::PeerSignature(scheme) if !info.resumed => {
            if info.peer_signature_scheme != Some(*scheme) {
                return bad(format!(
                    "peer signature {:?}, expected {scheme}",
                    info.peer_signature_scheme
                ));
            }
        }
        Expect::PeerSignature(_) => {}
        Expect::SessionMiss => {
            if info.resumed {
                return bad("resumed, expected a full handshake".into());
            }
        }
        Expect::PeerCertFile(path) => {
            let pem = std::fs::read(path).map_err(|e| Failure::Shim(format!(":SHIM_IO: {e}")))?;
            let want = polytls::identity::certs_from_pem(&pem)?;
            if info.peer_chain != want {
                return bad(format!(
                    "peer chain of {} certificates differs from {}",
                    info.peer_chain.len(),
                    path.display()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_tokens() {
        let e = Error::InvalidCertificate(polytls::CertificateError::UnknownIssuer);
        assert_eq!(tokens(&e), ":INVALID_CERTIFICATE::UNKNOWN_ISSUER:");
        assert_eq!(
            tokens(&Error::PeerIncompatible(
                polytls::Incompatibility::NoSharedCipherSuite
            )),
            ":PEER_INCOMPATIBLE::NO_SHARED_CIPHER_SUITE:"
        );
        assert_eq!(tokens(&Error::UnexpectedEof), ":UNEXPECTED_EOF:");
    }
}
