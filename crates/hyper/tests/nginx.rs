//! The connector against a real nginx (started here on a free port with its
//! own configuration: TLS, HTTP/2, client certificates required), through
//! every client backend of the build: HTTP/2 and HTTP/1.1 chosen by ALPN,
//! with and without a client certificate.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use polytls::ClientConfig;
use polytls_conformance::pki::{pki, to_pem};

/// nginx on a free port, killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_identity(dir: &Path, name: &str, id: &polytls::Identity) {
    let chain: String = id
        .chain()
        .iter()
        .map(|c| to_pem("CERTIFICATE", c))
        .collect();
    std::fs::write(dir.join(format!("{name}.crt")), chain).unwrap();
    std::fs::write(
        dir.join(format!("{name}.key")),
        to_pem("PRIVATE KEY", id.key().secret_der()),
    )
    .unwrap();
}

fn nginx(dir: &Path) -> Nginx {
    assert!(
        Command::new("nginx").arg("-v").output().is_ok(),
        "nginx is required (cargo xtask test installs it)"
    );
    write_identity(dir, "server", &pki().server());
    std::fs::write(dir.join("root.crt"), pki().root_pem()).unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log info;\nevents {{ worker_connections 64; }}\nhttp {{\n  \
         access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  \
         fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n  \
         server {{\n    listen 127.0.0.1:{port} ssl http2;\n    server_name localhost;\n    \
         ssl_certificate {d}/server.crt;\n    ssl_certificate_key {d}/server.key;\n    \
         ssl_client_certificate {d}/root.crt;\n    ssl_verify_client on;\n    \
         location / {{ return 200 \"proto=$server_protocol client=$ssl_client_verify\\n\"; }}\n  \
         }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf"), "-e"])
        .arg(format!("{d}/error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let n = Nginx { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    n
}

/// GET / through a connector on `backend`; (status, body).
async fn get(backend: &str, port: u16, h2: bool, with_cert: bool) -> (u16, String) {
    let backend = polytls::backend_by_name(backend).unwrap();
    let mut config = ClientConfig::new(pki().roots());
    if with_cert {
        config.identity = Some(pki().client());
    }
    let mut builder = polytls_hyper::HttpsConnector::builder(&backend, config)
        .https_only()
        .enable_http1();
    if h2 {
        builder = builder.enable_http2();
    }
    let https = builder.build().unwrap();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let uri = format!("https://localhost:{port}/").parse().unwrap();
    let response = client.get(uri).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn http2_and_http1_by_alpn_with_and_without_client_certificates() {
    let tmp = tempfile_dir();
    let server = nginx(tmp.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    for backend in polytls::available_backends() {
        rt.block_on(async {
            let (status, body) = get(backend, server.port, true, true).await;
            assert_eq!(status, 200, "{backend}: {body}");
            assert!(body.contains("proto=HTTP/2.0"), "{backend} h2: {body}");
            assert!(body.contains("client=SUCCESS"), "{backend}: {body}");

            let (status, body) = get(backend, server.port, false, true).await;
            assert_eq!(status, 200, "{backend}: {body}");
            assert!(
                body.contains("proto=HTTP/1.1"),
                "{backend} http/1.1: {body}"
            );

            // nginx answers a client without a certificate at the HTTP level.
            let (status, body) = get(backend, server.port, true, false).await;
            assert_eq!(status, 400, "{backend}: {body}");
        });
    }
}

#[test]
fn https_only_refuses_plain_http() {
    let backend = polytls::default_backend().unwrap();
    let https = polytls_hyper::HttpsConnector::builder(&backend, ClientConfig::new(pki().roots()))
        .https_only()
        .build()
        .unwrap();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = rt.block_on(client.get("http://127.0.0.1:9/".parse().unwrap()));
    let e = r.expect_err("plain http refused");
    let text = format!("{e:?}");
    assert!(text.contains("https only"), "{text}");
}

/// A fresh temporary directory.
fn tempfile_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
