//! The harness on OpenSSL, through polytls and directly, plus memory per
//! idle session (counted by the instrumented allocator). Built with the
//! `openssl-vendored` feature, it links the OpenSSL that `openssl-src`
//! vendors and reports as the `openssl-vendored` column.

/// The library used directly. Resumed cases have none: a direct client
/// resumes only through `SSL_set_session`, which the binding offers only as
/// `unsafe` — polytls' audited module is the one place that calls it.
fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_openssl::DirectFactory> {
    (!p.resumption).then(|| polytls_bench::direct_openssl::DirectFactory::new(p))
}

// The floor: the cheaper of aws-lc-rs and OpenSSL, per operation.
polytls_bench::bench_main!(
    polytls_openssl::OpenSsl,
    direct,
    floor: [
        "aws-lc-rs" => polytls_bench::floor::AwsLc,
        "openssl" => polytls_bench::floor::OpenSsl,
    ],
);
