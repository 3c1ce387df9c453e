//! The harness on BoringSSL, through polytls and directly, plus memory per
//! idle session (counted by the instrumented allocator).

/// The library used directly. Resumed cases have none: a direct client
/// resumes only through `SSL_set_session`, which the binding offers only as
/// `unsafe` — polytls' audited module is the one place that calls it.
fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_boring::DirectFactory> {
    (!p.resumption).then(|| polytls_bench::direct_boring::DirectFactory::new(p))
}

// The floor: the cheaper of aws-lc-rs and BoringSSL, per operation.
polytls_bench::bench_main!(
    polytls_boring::Boring,
    direct,
    floor: [
        "aws-lc-rs" => polytls_bench::floor::AwsLc,
        "boring" => polytls_bench::floor::Boring,
    ],
);
