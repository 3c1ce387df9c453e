//! The harness on rustls (aws-lc-rs), through polytls and directly, plus
//! memory per idle session (counted by the instrumented allocator).

fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_rustls::DirectFactory> {
    Some(polytls_bench::direct_rustls::DirectFactory::new(p))
}

// rustls' primitives are aws-lc-rs'.
polytls_bench::bench_main!(
    polytls_rustls::Rustls,
    direct,
    floor: ["aws-lc-rs" => polytls_bench::floor::AwsLc],
);
