//! The harness on AWS-LC, through polytls and directly, plus memory per idle
//! session (counted by the instrumented allocator).

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The library used directly. Resumed cases have none: a direct client
/// resumes only through `SSL_set_session`, which the binding offers only as
/// `unsafe` — polytls' audited module is the one place that calls it. Nor
/// have Ed25519 cases: AWS-LC does not verify Ed25519 by default, and the
/// `openssl` crate binds the signature-algorithm list for OpenSSL only.
fn direct(p: &polytls_bench::Params) -> Option<polytls_bench::direct_openssl::DirectFactory> {
    (!p.resumption && p.key != polytls_conformance::pki::KeyType::Ed25519)
        .then(|| polytls_bench::direct_openssl::DirectFactory::new(p))
}

fn main() {
    if polytls_bench::count::from_env(&polytls_aws_lc::AwsLc, direct) {
        return;
    }
    let region = Region::new(GLOBAL);
    let net = || {
        let s = region.change();
        s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
    };
    polytls_bench::report_memory(&polytls_aws_lc::AwsLc, direct, &net);
    let mut c = criterion::Criterion::default().configure_from_args();
    // The crypto floor, measured in this process: the cheaper of aws-lc-rs
    // and this backend's own library, per operation.
    use polytls_bench::floor;
    floor::register(
        &mut c,
        &[("aws-lc-rs", &floor::AwsLc), ("aws-lc", &floor::OpenSsl)],
    );
    polytls_bench::run(&mut c, &polytls_aws_lc::AwsLc, direct);
    polytls_bench::tokio_loopback::run(&mut c, &polytls_aws_lc::AwsLc, |p| {
        direct(p).expect("a direct baseline")
    });
    c.final_summary();
}
