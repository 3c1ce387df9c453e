//! The BoGo shim holding rustls and AWS-LC.
fn main() -> std::process::ExitCode {
    polytls_bogo_shim::main()
}
