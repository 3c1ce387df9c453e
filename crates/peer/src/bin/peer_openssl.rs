//! The interop peer holding rustls and OpenSSL.
fn main() -> std::process::ExitCode {
    polytls_peer::main_with(&[
        polytls_api::DynBackend::new(polytls_rustls::Rustls),
        polytls_api::DynBackend::new(polytls_openssl::OpenSsl),
    ])
}
