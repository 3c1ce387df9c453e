//! The interop peer holding rustls and AWS-LC.
fn main() -> std::process::ExitCode {
    polytls_peer::main_with(&[
        polytls_api::DynBackend::new(polytls_rustls::Rustls),
        polytls_api::DynBackend::new(polytls_aws_lc::AwsLc),
    ])
}
