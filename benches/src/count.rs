//! Instruction counting: one benchmark, one side, a fixed number of
//! iterations, with that side's work (the regions the wall-clock benchmarks
//! time, and for a handshake the side's teardown of its connection) run
//! inside [`polytls_counted_region`]. `cargo xtask
//! compare` runs a bench binary this way under
//! `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect=*polytls_counted_region*`, so the count covers that
//! side's work and nothing else. Instruction counts repeat to a fraction of a
//! percent where wall-clock medians on a shared machine do not, which is what
//! a 2 % overhead target needs.
//!
//! Selected by the environment: `POLYTLS_BENCH_COUNT` is a benchmark id
//! (`handshake/<case>/<backend>/<polytls|direct>-<client|server>` or
//! `throughput/<case>/<backend>/<polytls|direct>-<sender|receiver>`),
//! `POLYTLS_BENCH_COUNT_ITERS` the number of iterations (default 10).

use std::sync::atomic::{AtomicU8, Ordering};

use polytls_api::Backend;

use crate::{
    bulk_params, handshake, handshake_cases, transfer, Endpoint, Factory, PolytlsFactory, Role,
    Times, BULK_SIZES, BULK_SUITES,
};

static COUNTED: AtomicU8 = AtomicU8::new(0);

/// Whether `role`'s regions are being counted.
pub(crate) fn counted(role: Role) -> bool {
    COUNTED.load(Ordering::Relaxed) == role as u8
}

/// The counted region: callgrind collects only inside this function.
#[inline(never)]
pub fn polytls_counted_region<T>(f: impl FnOnce() -> T) -> T {
    std::hint::black_box(f())
}

/// The environment's request, if any.
fn request() -> Option<(String, u64)> {
    let id = std::env::var("POLYTLS_BENCH_COUNT").ok()?;
    let iters = std::env::var("POLYTLS_BENCH_COUNT_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    Some((id, iters))
}

/// Runs the benchmark `POLYTLS_BENCH_COUNT` names for counting and returns
/// true, or returns false when the variable is unset. Panics on an id this
/// binary does not have.
pub fn from_env<B: Backend, D: Factory>(
    backend: &B,
    direct: impl Fn(&crate::Params) -> Option<D>,
) -> bool {
    let Some((id, iters)) = request() else {
        return false;
    };
    let parts: Vec<&str> = id.split('/').collect();
    let [kind, case, name, func] = parts[..] else {
        panic!("POLYTLS_BENCH_COUNT={id}: expected kind/case/backend/function");
    };
    assert_eq!(
        name,
        crate::column(backend),
        "{id}: not this binary's backend"
    );
    let (imp, side) = func
        .split_once('-')
        .unwrap_or_else(|| panic!("{id}: function is <polytls|direct>-<side>"));
    let role = match side {
        "client" => Role::Client,
        "server" => Role::Server,
        "sender" => Role::Sender,
        "receiver" => Role::Receiver,
        _ => panic!("{id}: unknown side {side}"),
    };
    let params = match kind {
        "handshake" => {
            handshake_cases()
                .into_iter()
                .find(|(n, _)| *n == case)
                .unwrap_or_else(|| panic!("{id}: unknown case"))
                .1
        }
        "throughput" => {
            let suite = case.split('-').next().unwrap_or_default();
            let (_, suite) = BULK_SUITES
                .iter()
                .find(|(n, _)| *n == suite)
                .unwrap_or_else(|| panic!("{id}: unknown suite"));
            bulk_params(*suite)
        }
        _ => panic!("{id}: only handshake and throughput cases are counted"),
    };
    match imp {
        "polytls" => run(
            kind,
            case,
            role,
            iters,
            &PolytlsFactory::new(backend, &params),
        ),
        "direct" => run(
            kind,
            case,
            role,
            iters,
            &direct(&params).unwrap_or_else(|| panic!("{id}: no direct baseline")),
        ),
        _ => panic!("{id}: unknown implementation {imp}"),
    }
    eprintln!("counted {iters} iterations of {id}");
    true
}

fn run<F: Factory>(kind: &str, case: &str, role: Role, iters: u64, f: &F) {
    if kind == "handshake" {
        // Warm-up outside the count: lazy initialisation, resumption caches.
        drop(handshake(f, &mut Times::default()));
        COUNTED.store(role as u8, Ordering::Relaxed);
        for _ in 0..iters {
            let (c, s) = handshake(f, &mut Times::default());
            // The counted side's teardown is counted too: what freeing its
            // connection costs is that side's work (the peer's is not).
            if role == Role::Client {
                drop(s);
                polytls_counted_region(|| drop(c));
            } else {
                drop(c);
                polytls_counted_region(|| drop(s));
            }
        }
        COUNTED.store(0, Ordering::Relaxed);
        return;
    }
    let size = BULK_SIZES
        .iter()
        .find(|(n, _)| case.contains(&format!("-{n}-")))
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("{case}: unknown size"));
    let client_sends = case.ends_with("-c2s");
    let data = vec![0x5a_u8; size];
    let (mut c, mut s) = handshake(f, &mut Times::default());
    let mut wire = Vec::with_capacity(size + size / 8 + 1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut go = |c: &mut F::Client, s: &mut F::Server| {
        let (tx, rx): (&mut dyn Endpoint, &mut dyn Endpoint) =
            if client_sends { (c, s) } else { (s, c) };
        let (mut a, mut b) = Default::default();
        transfer(tx, rx, &data, &mut wire, &mut buf, &mut a, &mut b);
    };
    go(&mut c, &mut s);
    COUNTED.store(role as u8, Ordering::Relaxed);
    for _ in 0..iters {
        go(&mut c, &mut s);
    }
    COUNTED.store(0, Ordering::Relaxed);
}
