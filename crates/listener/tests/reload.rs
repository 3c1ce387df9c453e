//! The listener at axum-server's level, on every backend of the build: the
//! certificate reloads without dropping a connection (by call and by file
//! watch), failed handshakes reach the failure hook with their category and
//! the peer's address, and `from_config` offers h2 and http/1.1 by default.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polytls::tokio_io::TlsConnector;
use polytls::{Backend, ClientConfig, DynBackend, Identity, ServerConfig};
use polytls_conformance::pki::{pki, to_pem, KeyType, Leaf};
use polytls_listener::{HandshakeFailure, TlsListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn write_identity(dir: &Path, id: &Identity) {
    let chain: String = id
        .chain()
        .iter()
        .map(|c| to_pem("CERTIFICATE", c))
        .collect();
    std::fs::write(dir.join("server.pem"), chain).unwrap();
    std::fs::write(
        dir.join("server-key.pem"),
        to_pem("PRIVATE KEY", id.key().secret_der()),
    )
    .unwrap();
}

/// Serves `listener`: each connection echoes what it reads.
fn echo_server(mut listener: TlsListener<polytls::backend::DynServerDriver>) {
    tokio::spawn(async move {
        while let Ok(mut conn) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = conn.shutdown().await;
            });
        }
    });
}

type Client = polytls::tokio_io::DynTlsStream<tokio::net::TcpStream>;

async fn connect(addr: SocketAddr, alpn: &[&[u8]]) -> Client {
    let mut config = ClientConfig::new(pki().roots());
    config.common.alpn = alpn.iter().map(|p| p.to_vec()).collect();
    let ctx = DynBackend::new(polytls::backends::Rustls)
        .client_context(&config)
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    TlsConnector::new(ctx)
        .connect("localhost", tcp)
        .await
        .unwrap()
}

fn leaf(c: &Client) -> Vec<u8> {
    c.session().peer_leaf().unwrap().as_ref().to_vec()
}

async fn echo(c: &mut Client, msg: &[u8]) {
    c.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    c.read_exact(&mut back).await.unwrap();
    assert_eq!(back, msg);
}

#[test]
fn certificate_reloads_without_dropping_connections() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in polytls::available_backends() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let backend = polytls::backend_by_name(name).unwrap();
        let first = pki().server();
        let second = pki().identity(Leaf::Server(KeyType::EcdsaP384));
        let third = pki().identity(Leaf::Server(KeyType::Rsa2048));
        let config = ServerConfig::new(first.clone());
        rt.block_on(async {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let listener = TlsListener::from_config(tcp, &backend, &config).unwrap();
            let addr = listener.local_addr().unwrap();
            let reloader = listener.reloader();
            echo_server(listener);

            let mut old = connect(addr, &[]).await;
            assert_eq!(leaf(&old), first.chain()[0].as_ref(), "{name}");
            echo(&mut old, b"before").await;

            // By call: a missing file keeps the running certificate.
            write_identity(dir, &second);
            assert!(reloader
                .reload_from_pem_files(
                    &backend,
                    &config,
                    dir.join("nope.pem"),
                    dir.join("server-key.pem")
                )
                .is_err());
            assert_eq!(leaf(&connect(addr, &[]).await), first.chain()[0].as_ref());
            reloader
                .reload_from_pem_files(
                    &backend,
                    &config,
                    dir.join("server.pem"),
                    dir.join("server-key.pem"),
                )
                .unwrap();
            assert_eq!(
                leaf(&connect(addr, &[]).await),
                second.chain()[0].as_ref(),
                "{name}"
            );
            echo(&mut old, b"still up after a reload").await;

            // By watching the files.
            reloader.clone().watch_pem_files(
                backend.clone(),
                config.clone(),
                dir.join("server.pem"),
                dir.join("server-key.pem"),
                Duration::from_millis(20),
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            write_identity(dir, &third);
            let deadline = Instant::now() + Duration::from_secs(20);
            while leaf(&connect(addr, &[]).await) != third.chain()[0].as_ref() {
                assert!(
                    Instant::now() < deadline,
                    "{name}: the watcher never reloaded"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            echo(&mut old, b"and after the watcher's").await;
        });
    }
}

/// What the hook heard: the peer, the category, whether an error came.
type Heard = (SocketAddr, &'static str, bool);

#[test]
fn failed_handshakes_reach_the_hook() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in polytls::available_backends() {
        let backend = polytls::backend_by_name(name).unwrap();
        let heard: Arc<Mutex<Vec<Heard>>> = Arc::default();
        let (garbage_addr, silent_addr) = rt.block_on(async {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let sink = heard.clone();
            let listener =
                TlsListener::from_config(tcp, &backend, &ServerConfig::new(pki().server()))
                    .unwrap()
                    .handshake_timeout(Duration::from_millis(300))
                    .on_handshake_failure(move |f: &HandshakeFailure| {
                        sink.lock()
                            .unwrap()
                            .push((f.peer, f.category, f.error.is_some()));
                    });
            let addr = listener.local_addr().unwrap();
            echo_server(listener);

            // Garbage instead of a ClientHello.
            let mut garbage = tokio::net::TcpStream::connect(addr).await.unwrap();
            let garbage_addr = garbage.local_addr().unwrap();
            garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
            // A client that says nothing.
            let silent = tokio::net::TcpStream::connect(addr).await.unwrap();
            let silent_addr = silent.local_addr().unwrap();
            // A good client still gets through.
            let mut good = connect(addr, &[]).await;
            echo(&mut good, b"hello").await;

            let deadline = Instant::now() + Duration::from_secs(20);
            while heard.lock().unwrap().len() < 2 {
                assert!(
                    Instant::now() < deadline,
                    "{name}: {:?}",
                    heard.lock().unwrap()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            drop(silent);
            (garbage_addr, silent_addr)
        });
        let heard = heard.lock().unwrap();
        assert!(
            heard.contains(&(garbage_addr, "peer_misbehaved", true)),
            "{name}: the garbage client, by its address: {heard:?}"
        );
        assert!(
            heard.contains(&(silent_addr, "handshake_timeout", false)),
            "{name}: the silent client, by its address: {heard:?}"
        );
        assert_eq!(
            heard.len(),
            2,
            "{name}: only the two bad clients: {heard:?}"
        );
    }
}

#[test]
fn from_config_offers_h2_and_http11_by_default() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in polytls::available_backends() {
        let backend = polytls::backend_by_name(name).unwrap();
        rt.block_on(async {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let listener =
                TlsListener::from_config(tcp, &backend, &ServerConfig::new(pki().server()))
                    .unwrap();
            let addr = listener.local_addr().unwrap();
            echo_server(listener);
            let h2 = connect(addr, &[b"h2", b"http/1.1"]).await;
            assert_eq!(h2.session().alpn(), Some(&b"h2"[..]), "{name}");
            let h1 = connect(addr, &[b"http/1.1"]).await;
            assert_eq!(h1.session().alpn(), Some(&b"http/1.1"[..]), "{name}");

            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut own = ServerConfig::new(pki().server());
            own.common.alpn = vec![b"http/1.1".to_vec()];
            let listener = TlsListener::from_config(tcp, &backend, &own).unwrap();
            let addr = listener.local_addr().unwrap();
            echo_server(listener);
            let c = connect(addr, &[b"h2", b"http/1.1"]).await;
            assert_eq!(
                c.session().alpn(),
                Some(&b"http/1.1"[..]),
                "{name}: the config's own list"
            );
        });
    }
}
