//! The harness on Rustls, through polytls and directly, plus memory per idle
//! session (counted by the instrumented allocator).

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_rustls::DirectFactory> {
    Some(polytls_bench::direct_rustls::DirectFactory::new(p))
}

fn main() {
    if polytls_bench::count::from_env(&polytls_rustls::Rustls, direct) {
        return;
    }
    let region = Region::new(GLOBAL);
    let net = || {
        let s = region.change();
        s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
    };
    polytls_bench::report_memory(&polytls_rustls::Rustls, direct, &net);
    let mut c = criterion::Criterion::default().configure_from_args();
    // The crypto floor, measured in this process (rustls uses aws-lc-rs).
    polytls_bench::floor::register(&mut c, &[("aws-lc-rs", &polytls_bench::floor::AwsLc)]);
    polytls_bench::run(&mut c, &polytls_rustls::Rustls, direct);
    polytls_bench::tokio_loopback::run(&mut c, &polytls_rustls::Rustls, |p| {
        direct(p).expect("a direct baseline")
    });
    c.final_summary();
}
