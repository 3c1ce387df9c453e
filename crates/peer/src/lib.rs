//! # polytls-peer — one end of a cross-process interop run
//!
//! OpenSSL, BoringSSL and AWS-LC cannot share a process, so the interop
//! matrix runs each pair across processes: `polytls-peer-openssl` holds
//! rustls and OpenSSL, `polytls-peer-boring` rustls and BoringSSL,
//! `polytls-peer-aws-lc` rustls and AWS-LC. Commands:
//!
//! - `pki DIR`: writes the test PKI as PEM files into DIR.
//! - `caps BACKEND`: prints `capability=true|false` lines, asked of the
//!   backend itself.
//! - `serve DIR BACKEND VERSION KEY MODE`: listens on 127.0.0.1 (port 0),
//!   prints `PORT <n>`, serves the connections (echo until close_notify),
//!   then prints `INFO <summary>`.
//! - `connect DIR BACKEND PORT VERSION KEY MODE`: connects, sends 64 KiB,
//!   reads the echo, closes, prints `INFO <summary>`.
//!
//! MODE is `none`, `mtls` (client certificate required) or `resume` (two
//! connections; the summary is the second's). The summary names version,
//! suite, ALPN, whether the session resumed and 32 exporter bytes, so the
//! runner can check that both ends agree.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use polytls_api::blocking::Stream;
use polytls_api::driver::SessionDriver;
use polytls_api::{
    Backend, ClientAuth, ClientConfig, DynBackend, Identity, ProtocolVersion, Roots, ServerConfig,
    Session,
};
use polytls_conformance::pki::{pki, to_pem, KeyType, Leaf};

const TIMEOUT: Duration = Duration::from_secs(20);
const PAYLOAD: usize = 64 * 1024;

type Res<T> = Result<T, String>;

fn write_identity(dir: &Path, name: &str, id: &Identity) -> Res<()> {
    let chain: String = id
        .chain()
        .iter()
        .map(|c| to_pem("CERTIFICATE", c))
        .collect();
    std::fs::write(dir.join(format!("{name}.crt")), chain).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join(format!("{name}.key")),
        to_pem("PRIVATE KEY", id.key().secret_der()),
    )
    .map_err(|e| e.to_string())
}

fn identity(dir: &Path, name: &str) -> Res<Identity> {
    Identity::from_pem_files(
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    )
    .map_err(|e| e.to_string())
}

fn roots(dir: &Path) -> Res<Roots> {
    let pem = std::fs::read(dir.join("root.crt")).map_err(|e| e.to_string())?;
    Roots::from_pem(&pem).map_err(|e| e.to_string())
}

/// Writes the test PKI into `dir`.
pub fn write_pki(dir: &Path) -> Res<()> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("root.crt"), pki().root_pem()).map_err(|e| e.to_string())?;
    write_identity(
        dir,
        "server-ecdsa",
        &pki().identity(Leaf::Server(KeyType::EcdsaP256)),
    )?;
    write_identity(
        dir,
        "server-rsa",
        &pki().identity(Leaf::Server(KeyType::Rsa2048)),
    )?;
    write_identity(dir, "client", &pki().client())
}

struct Scenario {
    version: ProtocolVersion,
    key: String,
    mutual: bool,
    /// Two connections; the summary is the second's.
    resume: bool,
}

fn scenario(version: &str, key: &str, mtls: &str) -> Res<Scenario> {
    Ok(Scenario {
        version: version
            .parse()
            .map_err(|e: polytls_api::Error| e.to_string())?,
        key: match key {
            "ecdsa" | "rsa" => key.to_owned(),
            _ => return Err(format!("unknown key type {key:?}")),
        },
        mutual: mtls == "mtls",
        resume: mtls == "resume",
    })
}

fn summary(s: &Session<Box<dyn SessionDriver>>) -> Res<String> {
    let info = s.info();
    let mut ekm = [0u8; 32];
    s.export_keying_material(&mut ekm, b"EXPORTER-polytls-matrix", Some(b"ctx"))
        .map_err(|e| e.to_string())?;
    let hex: String = ekm.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "version={} suite={} alpn={} resumed={} exporter={hex}",
        info.version.map(|v| v.to_string()).unwrap_or_default(),
        info.cipher_suite.map(|c| c.to_string()).unwrap_or_default(),
        String::from_utf8_lossy(info.alpn.as_deref().unwrap_or_default()),
        info.resumed,
    ))
}

fn payload() -> Vec<u8> {
    (0..PAYLOAD).map(|i| (i % 253) as u8).collect()
}

/// Serves one connection; prints `PORT` first and `INFO` at the end.
pub fn serve(dir: &Path, backend: &DynBackend, sc: &str, key: &str, mtls: &str) -> Res<()> {
    let s = scenario(sc, key, mtls)?;
    let mut cfg = ServerConfig::new(identity(dir, &format!("server-{}", s.key))?);
    cfg.common.min_version = s.version;
    cfg.common.max_version = s.version;
    cfg.common.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    if s.mutual {
        cfg.client_auth = ClientAuth::Required(roots(dir)?);
    }
    let ctx = backend.server_context(&cfg).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    println!(
        "PORT {}",
        listener.local_addr().map_err(|e| e.to_string())?.port()
    );
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut last = String::new();
    for _ in 0..if s.resume { 2 } else { 1 } {
        let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut tls = Stream::new(sock, ctx.accept().map_err(|e| e.to_string())?);
        // Echo as it arrives, until the client's close_notify.
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = tls
                .read(&mut buf)
                .map_err(|e| format!("server read: {e}"))?;
            if n == 0 {
                break;
            }
            tls.write_all(&buf[..n])
                .map_err(|e| format!("server write: {e}"))?;
        }
        tls.shutdown()
            .map_err(|e| format!("server shutdown: {e}"))?;
        if s.mutual && tls.get_ref().1.info().peer_chain.is_empty() {
            return Err("no client certificate seen".into());
        }
        last = summary(tls.get_ref().1)?;
    }
    println!("INFO {last}");
    Ok(())
}

/// Connects, exchanges data, prints `INFO`.
pub fn connect(
    dir: &Path,
    backend: &DynBackend,
    port: &str,
    sc: &str,
    key: &str,
    mtls: &str,
) -> Res<()> {
    let s = scenario(sc, key, mtls)?;
    let mut cfg = ClientConfig::new(roots(dir)?);
    cfg.common.min_version = s.version;
    cfg.common.max_version = s.version;
    cfg.common.alpn = vec![b"http/1.1".to_vec(), b"h2".to_vec()];
    if s.mutual {
        cfg.identity = Some(identity(dir, "client")?);
    }
    let ctx = backend.client_context(&cfg).map_err(|e| e.to_string())?;
    let mut last = String::new();
    for _ in 0..if s.resume { 2 } else { 1 } {
        let sock = TcpStream::connect(format!("127.0.0.1:{port}")).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(TIMEOUT))
            .map_err(|e| e.to_string())?;
        let mut tls = Stream::new(sock, ctx.connect("localhost").map_err(|e| e.to_string())?);
        let data = payload();
        // Request, then the whole response, then close: the usual order,
        // in which TLS 1.3 tickets arrive before the client's close_notify
        // (BoringSSL ignores tickets that arrive after it).
        tls.write_all(&data)
            .map_err(|e| format!("client write: {e}"))?;
        let mut echo = vec![0u8; data.len()];
        tls.read_exact(&mut echo)
            .map_err(|e| format!("client read: {e}"))?;
        tls.shutdown()
            .map_err(|e| format!("client shutdown: {e}"))?;
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest)
            .map_err(|e| format!("client read to the end: {e}"))?;
        echo.extend_from_slice(&rest);
        if echo != data {
            return Err(format!(
                "echo differs ({} of {} bytes)",
                echo.len(),
                data.len()
            ));
        }
        last = summary(tls.get_ref().1)?;
    }
    println!("INFO {last}");
    Ok(())
}

/// The capabilities `caps` reports, by the name the matrix reads.
const CAPABILITIES: &[(&str, polytls_api::Capability)] = &[
    (
        "client_resumption",
        polytls_api::Capability::ClientResumption,
    ),
    ("resumption", polytls_api::Capability::Resumption),
];

/// The command line of a peer binary holding `backends`.
pub fn main_with(backends: &[DynBackend]) -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pick = |name: &str| {
        backends
            .iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| format!("backend {name:?} is not in this binary"))
    };
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let r = match a(0) {
        "pki" => write_pki(Path::new(a(1))),
        "caps" => pick(a(1)).map(|b| {
            for (name, cap) in CAPABILITIES {
                println!("{name}={}", b.supports(*cap));
            }
        }),
        "serve" => pick(a(2)).and_then(|b| serve(Path::new(a(1)), b, a(3), a(4), a(5))),
        "connect" => pick(a(2)).and_then(|b| connect(Path::new(a(1)), b, a(3), a(4), a(5), a(6))),
        _ => Err("usage: pki DIR | caps BACKEND | serve DIR BACKEND VERSION KEY MTLS | connect DIR BACKEND PORT VERSION KEY MTLS".into()),
    };
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polytls-peer: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
