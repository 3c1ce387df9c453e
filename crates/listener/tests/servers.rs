//! The listener under real clients: an axum app over every backend, called
//! by curl (HTTP/2 by ALPN, a client certificate), while a silent client
//! holds a connection open; and gRPC (tonic) between different backends,
//! with the client certificate visible to the server.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use axum::extract::ConnectInfo;
use polytls::{Backend, ClientAuth, ClientConfig, ServerConfig};
use polytls_conformance::pki::{pki, to_pem};
use polytls_listener::{TlsConnectInfo, TlsListener};

fn server_config() -> ServerConfig {
    let mut config = ServerConfig::new(pki().server());
    config.client_auth = ClientAuth::Required(pki().roots());
    config.common.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

#[test]
fn axum_with_curl_over_http2_and_a_silent_client() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let client = pki().client();
    let chain: String = client
        .chain()
        .iter()
        .map(|c| to_pem("CERTIFICATE", c))
        .collect();
    std::fs::write(dir.join("client.crt"), chain).unwrap();
    std::fs::write(
        dir.join("client.key"),
        to_pem("PRIVATE KEY", client.key().secret_der()),
    )
    .unwrap();
    std::fs::write(dir.join("root.crt"), pki().root_pem()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for backend in polytls::available_backends() {
        let b = polytls::backend_by_name(backend).unwrap();
        let ctx = b.server_context(&server_config()).unwrap();
        let (addr, server) = rt.block_on(async {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let listener = TlsListener::new(tcp, ctx).handshake_timeout(Duration::from_secs(2));
            let addr = listener.local_addr().unwrap();
            let app = axum::Router::new().route(
                "/",
                axum::routing::get(
                    |ConnectInfo(info): ConnectInfo<TlsConnectInfo>| async move {
                        format!("client-certificate={}", !info.peer_certificates.is_empty())
                    },
                ),
            );
            let server = tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<TlsConnectInfo>(),
                )
                .await
            });
            (addr, server)
        });
        // A client that connects and says nothing: it must not hold up curl,
        // and the handshake timeout closes it.
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        let out = Command::new("curl")
            .args(["--silent", "--show-error", "--http2", "--max-time", "20"])
            .args([
                "--cacert",
                "root.crt",
                "--cert",
                "client.crt",
                "--key",
                "client.key",
            ])
            .args(["--write-out", " http=%{http_version}"])
            .arg(format!("https://localhost:{}/", addr.port()))
            .current_dir(dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{backend}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("client-certificate=true http=2"),
            "{backend}: {text}"
        );
        silent
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = [0u8; 1];
        let closed = matches!(silent.read(&mut buf), Ok(0) | Err(_));
        assert!(
            closed,
            "{backend}: the silent client is closed by the handshake timeout"
        );
        server.abort();
    }
}

/// gRPC health checks from a client of one backend to a server of another
/// (every pair of the build), h2 by ALPN, mutual TLS; the server sees the
/// client's certificate in the connect info.
#[test]
fn tonic_between_backends() {
    use tonic::service::interceptor::InterceptedService;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let names = polytls::available_backends();
    for server_backend in &names {
        for client_backend in &names {
            let sb = polytls::backend_by_name(server_backend).unwrap();
            let ctx = sb.server_context(&server_config()).unwrap();
            rt.block_on(async {
                let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let listener = TlsListener::new(tcp, ctx);
                let port = listener.local_addr().unwrap().port();
                let (_reporter, health) = tonic_health::server::health_reporter();
                let checked = InterceptedService::new(health, |req: tonic::Request<()>| match req
                    .extensions()
                    .get::<TlsConnectInfo>()
                {
                    Some(info) if !info.peer_certificates.is_empty() => Ok(req),
                    _ => Err(tonic::Status::unauthenticated("no client certificate")),
                });
                let server = tokio::spawn(
                    tonic::transport::Server::builder()
                        .add_service(checked)
                        .serve_with_incoming(listener.into_stream()),
                );
                let cb = polytls::backend_by_name(client_backend).unwrap();
                let mut config = ClientConfig::new(pki().roots());
                config.identity = Some(pki().client());
                let https = polytls_hyper::HttpsConnector::builder(&cb, config)
                    .https_only()
                    .enable_http2()
                    .build()
                    .unwrap();
                let channel =
                    tonic::transport::Endpoint::from_shared(format!("https://localhost:{port}"))
                        .unwrap()
                        .connect_with_connector(https)
                        .await
                        .unwrap();
                let reply = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .unwrap();
                assert_eq!(
                    reply.into_inner().status(),
                    ServingStatus::Serving,
                    "{client_backend} client, {server_backend} server"
                );
                server.abort();
            });
        }
    }
}
