//! The example library against a polytls echo server, on whichever backend
//! this build enabled (`cargo xtask test` builds it once per feature).

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use polytls::Backend;
use polytls_conformance::pki::pki;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn echoes_over_the_enabled_backend() {
    let backends = polytls::available_backends();
    assert_eq!(
        backends.len(),
        1,
        "one backend per feature build: {backends:?}"
    );
    let backend = polytls::default_backend().unwrap();
    let server = backend
        .server_context(&polytls::ServerConfig::new(pki().server()))
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let echo = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = polytls::tokio_io::TlsAcceptor::new(server)
            .accept(tcp)
            .await
            .unwrap();
        let mut lines = BufReader::new(tls);
        let mut line = String::new();
        while lines.read_line(&mut line).await.unwrap() > 0 {
            lines.get_mut().write_all(line.as_bytes()).await.unwrap();
            line.clear();
        }
        lines.get_mut().shutdown().await.unwrap();
    });
    let mut client = echo_client::EchoClient::connect(&addr, "localhost", pki().roots())
        .await
        .unwrap();
    assert_eq!(client.echo("hello").await.unwrap(), "hello");
    assert_eq!(client.echo(backends[0]).await.unwrap(), backends[0]);
    client.close().await.unwrap();
    echo.await.unwrap();
}
