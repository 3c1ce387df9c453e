//! The async adapters beyond the basics: the futures-io front (over hostile
//! IO and over smol's TCP), the two halves of a tokio stream used from two
//! tasks at once, and vectored writes.

use std::time::Duration;

use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
use polytls_api::futures_io;
use polytls_api::tokio_io::{TlsAcceptor, TlsConnector};
use polytls_api::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

use super::adapters::{payload, runtime, upper, Hostile};
use super::{client_config, server_config};
use crate::pki::pki;

const LIMIT: Duration = Duration::from_secs(30);

/// The futures-io stream over hostile IO (pending every other call, one
/// byte at a time) on both ends: handshake, echo, clean close.
pub fn futures_io_hostile_io<B: Backend>(b: &B) {
    let sc = b.server_context(&server_config(pki().server())).expect("s");
    let cc = b.client_context(&client_config()).expect("c");
    runtime().block_on(async move {
        let (a, z) = tokio::io::duplex(64);
        let server = tokio::spawn(async move {
            let mut tls = futures_io::accept(&sc, Hostile::new(z).compat())
                .await
                .expect("server");
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.expect("read");
            tls.write_all(&upper(&got)).await.expect("write");
            tls.close().await.expect("close");
        });
        let mut tls = futures_io::connect(&cc, "localhost", Hostile::new(a).compat())
            .await
            .expect("client");
        let data = &payload()[..3000];
        tls.write_all(data).await.expect("write");
        tls.close().await.expect("close_notify");
        let mut reply = Vec::new();
        tokio::time::timeout(LIMIT, tls.read_to_end(&mut reply))
            .await
            .expect("no hang")
            .expect("read");
        assert_eq!(reply, upper(data));
        server.await.expect("server task");
    });
}

/// The futures-io stream over smol's TCP, on smol's executor.
pub fn futures_io_over_smol<B: Backend>(b: &B) {
    let sc = b.server_context(&server_config(pki().server())).expect("s");
    let cc = b.client_context(&client_config()).expect("c");
    smol::block_on(async move {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = smol::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut tls = futures_io::accept(&sc, tcp).await.expect("server");
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.expect("read");
            tls.write_all(&upper(&got)).await.expect("write");
            tls.close().await.expect("close");
            got.len()
        });
        let tcp = smol::net::TcpStream::connect(addr).await.expect("connect");
        let mut tls = futures_io::connect(&cc, "localhost", tcp)
            .await
            .expect("client");
        assert!(tls.session().info().version.is_some());
        let data = payload();
        tls.write_all(&data).await.expect("write");
        tls.close().await.expect("close_notify");
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await.expect("read");
        assert_eq!(reply, upper(&data));
        assert_eq!(server.await, data.len());
    });
}

const MESSAGES: u32 = 5000;

/// Writes `MESSAGES` numbered messages, then closes.
async fn write_messages(mut w: impl tokio::io::AsyncWrite + Unpin, tag: u8) {
    for i in 0..MESSAGES {
        let mut m = [tag; 16];
        m[..4].copy_from_slice(&i.to_be_bytes());
        w.write_all(&m).await.expect("write");
    }
    w.shutdown().await.expect("close_notify");
}

/// Reads messages until the clean end; checks count, order and tag.
async fn read_messages(mut r: impl tokio::io::AsyncRead + Unpin, tag: u8) {
    let mut all = Vec::new();
    r.read_to_end(&mut all)
        .await
        .expect("read to the clean end");
    assert_eq!(all.len(), MESSAGES as usize * 16, "nothing lost");
    for (i, m) in all.chunks(16).enumerate() {
        assert_eq!(&m[..4], &(i as u32).to_be_bytes(), "in order");
        assert!(m[4..].iter().all(|b| *b == tag));
    }
}

/// Both ends split their stream (`tokio::io::split`) and run a reader task
/// and a writer task at once, thousands of messages each way: nothing is
/// lost, nothing deadlocks.
pub fn tokio_split_halves<B: Backend>(b: &B) {
    let acceptor = TlsAcceptor::new(b.server_context(&server_config(pki().server())).expect("s"));
    let connector = TlsConnector::new(b.client_context(&client_config()).expect("c"));
    runtime().block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let tls = acceptor.accept(tcp).await.expect("server handshake");
            let (r, w) = tokio::io::split(tls);
            let reader = tokio::spawn(read_messages(r, b'c'));
            let writer = tokio::spawn(write_messages(w, b's'));
            reader.await.expect("server reader");
            writer.await.expect("server writer");
        });
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let tls = connector
            .connect("localhost", tcp)
            .await
            .expect("client handshake");
        let (r, w) = tokio::io::split(tls);
        let reader = tokio::spawn(read_messages(r, b's'));
        let writer = tokio::spawn(write_messages(w, b'c'));
        tokio::time::timeout(LIMIT, async {
            reader.await.expect("client reader");
            writer.await.expect("client writer");
            server.await.expect("server");
        })
        .await
        .expect("no deadlock");
    });
}

/// `write_vectored` takes several buffers in one call, in order.
pub fn tokio_write_vectored<B: Backend>(b: &B) {
    let acceptor = TlsAcceptor::new(b.server_context(&server_config(pki().server())).expect("s"));
    let connector = TlsConnector::new(b.client_context(&client_config()).expect("c"));
    runtime().block_on(async move {
        let (a, z) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(async move {
            let mut tls = acceptor.accept(z).await.expect("server");
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.expect("read");
            got
        });
        let mut tls = connector.connect("localhost", a).await.expect("client");
        assert!(tokio::io::AsyncWrite::is_write_vectored(&tls));
        let parts: [&[u8]; 3] = [b"one,", b"", b"two,three"];
        let mut sent = 0;
        while sent < 13 {
            let mut bufs = Vec::new();
            let mut skip = sent;
            for p in parts {
                if skip >= p.len() {
                    skip -= p.len();
                } else {
                    bufs.push(std::io::IoSlice::new(&p[skip..]));
                    skip = 0;
                }
            }
            sent += tls.write_vectored(&bufs).await.expect("write_vectored");
        }
        tls.shutdown().await.expect("close");
        assert_eq!(server.await.expect("server"), b"one,two,three");
    });
}
