//! The harness on rustls over *ring*, through polytls and directly, plus
//! memory per idle session (counted by the instrumented allocator).

/// rustls with *ring* directly; *ring* has no X25519MLKEM768, so that case
/// has no direct baseline (and polytls reports it unsupported).
fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_rustls::DirectFactory> {
    (p.group != Some(polytls_api::NamedGroup::X25519MLKEM768))
        .then(|| polytls_bench::direct_rustls::DirectFactory::ring(p))
}

// No *ring* floor yet: ring's cases read against aws-lc-rs' primitives.
polytls_bench::bench_main!(
    polytls_rustls::RustlsRing,
    direct,
    floor: ["aws-lc-rs" => polytls_bench::floor::AwsLc],
);
