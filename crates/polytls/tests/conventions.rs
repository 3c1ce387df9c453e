//! The conventions a library author relies on, held at compile time: a glob
//! import of polytls shadows nothing (the tokio crate stays `tokio`), both
//! adapters take `(io, session)`, sessions and streams are `Send + Sync`
//! (sqlx and redis-rs keep sockets behind `Send + Sync`).

#![cfg(all(feature = "rustls", feature = "tokio"))]

#[allow(
    unused_imports,
    reason = "the glob is the point: it must not shadow tokio"
)]
use polytls::*;

use polytls::backend::driver::SessionDriver;
use static_assertions::assert_impl_all;

assert_impl_all!(polytls::Session<Box<dyn SessionDriver>>: Send, Sync);
assert_impl_all!(polytls::tokio_io::TlsStream<tokio::net::TcpStream, Box<dyn SessionDriver>>: Send, Sync);
assert_impl_all!(polytls::blocking::Stream<std::net::TcpStream, Box<dyn SessionDriver>>: Send, Sync);
assert_impl_all!(polytls::DynClientContext: Send, Sync, Clone);
assert_impl_all!(polytls::DynServerContext: Send, Sync, Clone);
assert_impl_all!(polytls::Error: Send, Sync, std::error::Error);

#[test]
fn glob_import_keeps_the_tokio_crate() {
    // `tokio` here is the crate, not a polytls module.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async { tokio::task::yield_now().await });
}

#[test]
fn both_adapters_take_io_then_session() {
    let backend = polytls::default_backend().expect("a backend");
    let ctx = backend
        .client_context(&ClientConfig::new(polytls_conformance::pki::pki().roots()))
        .expect("context");
    let (a, _b) = std::os::unix::net::UnixStream::pair().expect("pair");
    let _blocking = polytls::blocking::Stream::new(a, ctx.connect("localhost").expect("c"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (c, _d) = tokio::io::duplex(64);
        let _tokio = polytls::tokio_io::TlsStream::new(c, ctx.connect("localhost").expect("c"));
    });
}
