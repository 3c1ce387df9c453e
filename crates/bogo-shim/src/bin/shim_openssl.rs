//! The BoGo shim holding rustls and OpenSSL.
fn main() -> std::process::ExitCode {
    polytls_bogo_shim::main()
}
