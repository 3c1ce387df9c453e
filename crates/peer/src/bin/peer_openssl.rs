//! The interop peer holding rustls (on aws-lc-rs, and on *ring* when built
//! with it) and OpenSSL.
fn main() -> std::process::ExitCode {
    polytls_peer::main_with(&[
        polytls_api::DynBackend::new(polytls_rustls::Rustls),
        #[cfg(feature = "rustls-ring")]
        polytls_api::DynBackend::new(polytls_rustls::RustlsRing),
        polytls_api::DynBackend::new(polytls_openssl::OpenSsl),
    ])
}
