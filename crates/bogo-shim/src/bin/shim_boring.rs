//! The BoGo shim holding rustls and BoringSSL.
fn main() -> std::process::ExitCode {
    polytls_bogo_shim::main()
}
