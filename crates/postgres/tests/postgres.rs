//! The connector against a real PostgreSQL 15 (a data directory made here
//! with initdb, started with pg_ctl on a free port with `ssl = on` and
//! `hostssl ... scram-sha-256 clientcert=verify-full`, stopped at the end):
//! every client backend connects with `channel_binding=require`; a wrong CA
//! or a missing client certificate is refused.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use polytls::{Backend, ClientConfig, Roots};
use polytls_conformance::pki::{pki, to_pem};
use tokio_postgres::config::{ChannelBinding, SslMode};

/// The user: the client certificate's CN (verify-full checks it).
const USER: &str = "client.test";

fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is required (/usr/lib/postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("an initdb under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool as the `postgres` user when we are root
/// (PostgreSQL refuses to run as root), else as ourselves.
fn pg(tool: &str, args: &[&str]) {
    let bin = pg_bin().join(tool);
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&bin)
            .args(args)
            .output()
    } else {
        Command::new(&bin).args(args).output()
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running cluster, stopped (by its own pid file) when dropped.
struct Cluster {
    data: PathBuf,
    port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ =
            std::panic::catch_unwind(|| pg("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]));
    }
}

fn cluster(dir: &Path) -> Cluster {
    if is_root() {
        let d = dir.display().to_string();
        assert!(Command::new("chown")
            .args(["-R", "postgres", &d])
            .status()
            .unwrap()
            .success());
    }
    let write = |name: &str, text: String, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        if is_root() {
            Command::new("chown")
                .args(["postgres", &p.display().to_string()])
                .status()
                .unwrap();
        }
    };
    let server = pki().server();
    write(
        "server.crt",
        server
            .chain()
            .iter()
            .map(|c| to_pem("CERTIFICATE", c))
            .collect(),
        0o644,
    );
    write(
        "server.key",
        to_pem("PRIVATE KEY", server.key().secret_der()),
        0o600,
    );
    write("root.crt", pki().root_pem(), 0o644);
    write("pw", "secret\n".into(), 0o600);
    let data = dir.join("data");
    let d = data.display().to_string();
    let pw = dir.join("pw").display().to_string();
    pg(
        "initdb",
        &[
            "-D",
            &d,
            "-U",
            USER,
            "--auth=scram-sha-256",
            "--pwfile",
            &pw,
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dd = dir.display();
    let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
    conf.push_str(&format!(
        "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{dd}'\n\
         ssl = on\nssl_cert_file = '{dd}/server.crt'\nssl_key_file = '{dd}/server.key'\n\
         ssl_ca_file = '{dd}/root.crt'\npassword_encryption = 'scram-sha-256'\n"
    ));
    std::fs::write(data.join("postgresql.conf"), conf).unwrap();
    std::fs::write(
        data.join("pg_hba.conf"),
        "hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n",
    )
    .unwrap();
    let log = dir.join("log").display().to_string();
    pg("pg_ctl", &["-D", &d, "-l", &log, "-w", "start"]);
    Cluster { data, port }
}

async fn query(backend: &str, port: u16, roots: Roots, with_cert: bool) -> Result<bool, String> {
    let backend = polytls::backend_by_name(backend).unwrap();
    let mut config = ClientConfig::new(roots);
    if with_cert {
        config.identity = Some(pki().client());
    }
    let tls = polytls_postgres::MakeTlsConnector::new(backend.client_context(&config).unwrap());
    let (client, connection) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user(USER)
        .password("secret")
        .dbname("postgres")
        .ssl_mode(SslMode::Require)
        .channel_binding(ChannelBinding::Require)
        .connect(tls)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let task = tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    drop(client);
    let _ = task.await;
    Ok(row.get(0))
}

#[test]
fn channel_binding_through_every_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let db = cluster(tmp.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    for backend in polytls::available_backends() {
        rt.block_on(async {
            assert_eq!(
                query(backend, db.port, pki().roots(), true).await,
                Ok(true),
                "{backend}: TLS with channel binding"
            );
            let wrong_ca = query(backend, db.port, pki().other_roots(), true).await;
            assert!(
                wrong_ca
                    .as_ref()
                    .is_err_and(|e| e.contains("UnknownIssuer")),
                "{backend}: a server from an unknown CA is refused: {wrong_ca:?}"
            );
            let no_cert = query(backend, db.port, pki().roots(), false).await;
            assert!(
                no_cert.as_ref().is_err_and(|e| e.contains("certificate")),
                "{backend}: the server requires a client certificate: {no_cert:?}"
            );
        });
    }
}

#[test]
fn end_point_hash_follows_the_signature_algorithm() {
    // The test PKI signs with ECDSA P-256 and SHA-256.
    let leaf = pki().server().chain()[0].clone();
    let hash = polytls_postgres::tls_server_end_point(&leaf).unwrap();
    use sha2::Digest;
    assert_eq!(hash, sha2::Sha256::digest(leaf.as_ref()).to_vec());
    assert_eq!(
        polytls_postgres::tls_server_end_point(&b"junk"[..].into()),
        None
    );
}
