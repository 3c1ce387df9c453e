//! The harness on AWS-LC, through polytls and directly, plus memory per
//! idle session (counted by the instrumented allocator).

/// The library used directly. Resumed cases have none: a direct client
/// resumes only through `SSL_set_session`, which the binding offers only as
/// `unsafe` — polytls' audited module is the one place that calls it. Nor
/// have Ed25519 cases: AWS-LC does not verify Ed25519 by default, and the
/// `openssl` crate binds the signature-algorithm list for OpenSSL only.
fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_openssl::DirectFactory> {
    (!p.resumption && p.key != polytls_conformance::pki::KeyType::Ed25519)
        .then(|| polytls_bench::direct_openssl::DirectFactory::new(p))
}

// The floor: the cheaper of aws-lc-rs and AWS-LC, per operation.
polytls_bench::bench_main!(
    polytls_aws_lc::AwsLc,
    direct,
    floor: [
        "aws-lc-rs" => polytls_bench::floor::AwsLc,
        "aws-lc" => polytls_bench::floor::OpenSsl,
    ],
);
