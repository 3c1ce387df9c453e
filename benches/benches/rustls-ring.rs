//! The harness on rustls over *ring*, through polytls and directly, plus
//! memory per idle session (counted by the instrumented allocator).

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// rustls on *ring* directly. The X25519MLKEM768 case has none: *ring* has
/// no ML-KEM (polytls answers it `Unsupported` too).
fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_rustls::DirectFactory> {
    (p.group != Some(polytls_api::NamedGroup::X25519MLKEM768))
        .then(|| polytls_bench::direct_rustls::DirectFactory::ring(p))
}

fn main() {
    let backend = polytls_rustls::RustlsRing;
    if polytls_bench::count::from_env(&backend, direct) {
        return;
    }
    let region = Region::new(GLOBAL);
    let net = || {
        let s = region.change();
        s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
    };
    polytls_bench::report_memory(&backend, direct, &net);
    let mut c = criterion::Criterion::default().configure_from_args();
    // The crypto floor, measured in this process: aws-lc-rs' (no *ring*
    // floor yet, so ring's cases read against aws-lc-rs' primitives).
    polytls_bench::floor::register(&mut c, &[("aws-lc-rs", &polytls_bench::floor::AwsLc)]);
    polytls_bench::run(&mut c, &backend, direct);
    polytls_bench::tokio_loopback::run(&mut c, &backend, |p| direct(p).expect("a direct baseline"));
    c.final_summary();
}
