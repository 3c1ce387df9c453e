//! # polytls-bench — one harness, every backend, with direct baselines
//!
//! Each bench binary (`benches/rustls.rs`, `rustls-ring.rs`, `openssl.rs`,
//! `boring.rs`, `aws-lc.rs`) is one [`bench_main!`]: its backend, a factory
//! for the same connections made with the library directly (no polytls) and
//! the libraries whose primitives make its crypto floor. Everything is in memory on one thread;
//! the client's and the server's work are timed separately
//! (`iter_custom`), and setup stays outside the timed region.
//!
//! Group names are stable: `handshake/<case>/<column>` and
//! `throughput/<case>/<column>`, where the column is the backend's name (see
//! [`column()`]); functions are `polytls-client`,
//! `polytls-server`, `direct-client`, `direct-server`. Key exchange is pinned
//! to X25519 and every backend uses the same certificates.

#![forbid(unsafe_code)]

// OpenSSL and BoringSSL export the same C symbols: one binary holds one.
#[cfg(all(feature = "openssl", feature = "boring"))]
compile_error!("enable one of the `openssl` and `boring` features, not both");

// The `openssl` crate links one library per build (Cargo unifies features).
#[cfg(all(feature = "aws-lc", any(feature = "openssl", feature = "boring")))]
compile_error!("enable one of the `openssl`, `boring` and `aws-lc` features");

use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput};
use polytls_api::driver::{ClientDriver, ServerDriver, SessionDriver};
use polytls_api::{
    Backend, CipherSuite, ClientAuth, ClientConfig, ClientContext, NamedGroup, ProtocolVersion,
    ReadOutcome, ServerConfig, ServerContext, Session,
};
use polytls_conformance::pki::{pki, KeyType, Leaf};

#[doc(hidden)]
pub use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

pub mod count;
#[cfg(feature = "boring")]
pub mod direct_boring;
/// The `openssl` crate directly: over OpenSSL, or over AWS-LC.
#[cfg(any(feature = "openssl", feature = "aws-lc"))]
pub mod direct_openssl;
pub mod direct_rustls;
pub mod floor;
pub mod scale;
pub mod tokio_loopback;

/// The column a backend's results carry (`<kind>/<case>/<column>/…`,
/// `memory-<column>.json`): its registry name, except the OpenSSL backend
/// built with the `openssl-vendored` feature, which links the OpenSSL that
/// `openssl-src` vendors (3.6) and is its own column beside the system
/// OpenSSL's (`openssl`).
pub fn column<B: Backend>(backend: &B) -> &'static str {
    match backend.name() {
        "openssl" if cfg!(feature = "openssl-vendored") => "openssl-vendored",
        name => name,
    }
}

/// A bench binary: the global allocator that counts idle-session memory,
/// and a `main` that runs [`main`] with the backend, its direct factory and
/// the libraries of its crypto floor (the cheaper per operation counts).
///
/// ```ignore
/// polytls_bench::bench_main!(
///     polytls_rustls::Rustls,
///     direct,
///     floor: ["aws-lc-rs" => polytls_bench::floor::AwsLc],
/// );
/// ```
#[macro_export]
macro_rules! bench_main {
    ($backend:expr, $direct:expr, floor: [$($lib:literal => $primitives:expr),+ $(,)?] $(,)?) => {
        #[global_allocator]
        static GLOBAL: &$crate::StatsAlloc<::std::alloc::System> = &$crate::INSTRUMENTED_SYSTEM;

        fn main() {
            $crate::main(&$backend, $direct, &[$(($lib, &$primitives)),+], GLOBAL);
        }
    };
}

/// The body of every bench binary (see [`bench_main!`]): counts one
/// benchmark's instructions when `POLYTLS_BENCH_COUNT` asks for it;
/// otherwise writes the memory per idle session, then registers the crypto
/// floor, every in-memory case and the tokio loopback cases with criterion.
pub fn main<B: Backend, D: Factory + tokio_loopback::TokioTls>(
    backend: &B,
    direct: fn(&Params) -> Option<D>,
    floors: &[(&str, &dyn floor::Primitives)],
    alloc: &'static StatsAlloc<std::alloc::System>,
) {
    if count::from_env(backend, direct) {
        return;
    }
    let region = stats_alloc::Region::new(alloc);
    let net = || {
        let s = region.change();
        s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
    };
    report_memory(backend, direct, &net);
    let mut c = Criterion::default().configure_from_args();
    // The floor is measured in this process, right beside the cases.
    floor::register(&mut c, floors);
    run(&mut c, backend, direct);
    // The tokio cases (TLS 1.3 and 1.2, ECDSA, full) have a direct
    // baseline on every library.
    tokio_loopback::run(&mut c, backend, |p| {
        direct(p).expect("every tokio case has a direct baseline")
    });
    c.final_summary();
}

/// One side of a connection, as the harness drives it.
pub trait Endpoint {
    /// Takes ciphertext; returns how much was consumed (less when buffers
    /// are full and plaintext must be read first).
    fn feed(&mut self, data: &[u8]) -> usize;
    /// [`feed`](Self::feed) when plaintext is read right after (a receive
    /// loop): polytls processes with `process_for_read`.
    fn feed_for_read(&mut self, data: &[u8]) -> usize {
        self.feed(data)
    }
    /// Appends pending ciphertext to `out`.
    fn emit(&mut self, out: &mut Vec<u8>);
    /// Takes plaintext; returns how much was accepted.
    fn send(&mut self, data: &[u8]) -> usize;
    /// Reads plaintext; 0 when none is available.
    fn recv(&mut self, buf: &mut [u8]) -> usize;
    /// Whether the handshake is still running.
    fn handshaking(&self) -> bool;
    /// The negotiated cipher suite in OpenSSL's naming, once established.
    fn suite(&self) -> Option<String>;
}

/// Makes connected-to-be endpoint pairs.
pub trait Factory {
    /// The client endpoint.
    type Client: Endpoint;
    /// The server endpoint.
    type Server: Endpoint;
    /// A new client session.
    fn client(&self) -> Self::Client;
    /// A new server session.
    fn server(&self) -> Self::Server;
}

/// What a benchmark case asks of both ends.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Pinned protocol version.
    pub version: ProtocolVersion,
    /// Server key type.
    pub key: KeyType,
    /// Require a client certificate.
    pub mutual: bool,
    /// Resumption on (client cache and server tickets).
    pub resumption: bool,
    /// Pinned cipher suite, if any.
    pub suite: Option<CipherSuite>,
    /// The one key-exchange group, if not the default X25519 (with P-256
    /// listed for TLS 1.2 ECDSA).
    pub group: Option<NamedGroup>,
}

impl Params {
    fn server_identity(&self) -> polytls_api::Identity {
        pki().identity(Leaf::Server(self.key))
    }

    /// The polytls configurations for this case.
    pub fn configs(&self) -> (ClientConfig, ServerConfig) {
        let mut c = ClientConfig::new(pki().roots());
        let mut s = ServerConfig::new(self.server_identity());
        for common in [&mut c.common, &mut s.common] {
            common.min_version = self.version;
            common.max_version = self.version;
            // X25519 first, so it is what both ends use; P-256 listed too
            // because in TLS 1.2 the group list also names the curves an
            // ECDSA certificate may use (RFC 8422).
            common.groups = Some(match self.group {
                Some(g) => vec![g],
                None => vec![NamedGroup::X25519, NamedGroup::SECP256R1],
            });
            common.resumption = self.resumption;
            common.cipher_suites = self.suite.map(|s| vec![s]);
        }
        if self.mutual {
            s.client_auth = ClientAuth::Required(pki().roots());
            c.identity = Some(pki().client());
        }
        (c, s)
    }
}

/// A polytls session as an endpoint.
#[derive(Debug)]
pub struct Api<S>(pub Session<S>);

impl<S: SessionDriver> Api<S> {
    fn take(&mut self, data: &[u8], for_read: bool) -> usize {
        let mut rd = data;
        while !rd.is_empty() {
            match self.0.read_tls(&mut rd) {
                Ok(0) | Err(_) => break,
                Ok(_) if for_read => self.0.process_for_read().expect("process"),
                Ok(_) => self.0.process_new_packets().expect("process"),
            }
        }
        data.len() - rd.len()
    }
}

impl<S: SessionDriver> Endpoint for Api<S> {
    fn feed(&mut self, data: &[u8]) -> usize {
        self.take(data, false)
    }
    /// As a receive loop does: `recv` reads next.
    fn feed_for_read(&mut self, data: &[u8]) -> usize {
        self.take(data, true)
    }
    fn emit(&mut self, out: &mut Vec<u8>) {
        while self.0.wants_write() {
            self.0.write_tls(out).expect("write_tls");
        }
    }
    fn send(&mut self, data: &[u8]) -> usize {
        self.0.write(data).expect("write")
    }
    fn recv(&mut self, buf: &mut [u8]) -> usize {
        match self.0.read(buf).expect("read") {
            ReadOutcome::Data(n) => n,
            _ => 0,
        }
    }
    fn handshaking(&self) -> bool {
        self.0.is_handshaking()
    }
    fn suite(&self) -> Option<String> {
        Some(self.0.info().cipher_suite?.openssl_name().to_owned())
    }
}

/// polytls contexts of one backend as a factory.
pub struct PolytlsFactory<B: Backend> {
    client: ClientContext<B::ClientDriver>,
    server: ServerContext<B::ServerDriver>,
}

impl<B: Backend> PolytlsFactory<B> {
    /// Contexts for `params` on `backend`.
    pub fn new(backend: &B, params: &Params) -> Self {
        let (c, s) = params.configs();
        Self {
            client: backend.client_context(&c).expect("client context"),
            server: backend.server_context(&s).expect("server context"),
        }
    }
}

impl<B: Backend> Factory for PolytlsFactory<B> {
    type Client = Api<<B::ClientDriver as ClientDriver>::Session>;
    type Server = Api<<B::ServerDriver as ServerDriver>::Session>;
    fn client(&self) -> Self::Client {
        Api(self.client.connect("localhost").expect("connect"))
    }
    fn server(&self) -> Self::Server {
        Api(self.server.accept().expect("accept"))
    }
}

/// Time spent on each side.
#[derive(Debug, Default, Clone, Copy)]
pub struct Times {
    /// Client-side time.
    pub client: Duration,
    /// Server-side time.
    pub server: Duration,
}

/// Whose work a timed region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The client, in a handshake.
    Client = 1,
    /// The server, in a handshake.
    Server = 2,
    /// The sending end of a transfer.
    Sender = 3,
    /// The receiving end of a transfer.
    Receiver = 4,
}

fn timed<T>(acc: &mut Duration, role: Role, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = if count::counted(role) {
        count::polytls_counted_region(f)
    } else {
        f()
    };
    *acc += start.elapsed();
    r
}

/// Runs one complete handshake (including session creation), timing each
/// side; returns the established pair.
pub fn handshake<F: Factory>(f: &F, t: &mut Times) -> (F::Client, F::Server) {
    let mut c = timed(&mut t.client, Role::Client, || f.client());
    let mut s = timed(&mut t.server, Role::Server, || f.server());
    let mut wire = Vec::with_capacity(16 * 1024);
    for _ in 0..100 {
        timed(&mut t.client, Role::Client, || c.emit(&mut wire));
        let c2s = !wire.is_empty();
        if c2s {
            let n = timed(&mut t.server, Role::Server, || s.feed(&wire));
            assert_eq!(n, wire.len(), "server took the whole flight");
            wire.clear();
        }
        timed(&mut t.server, Role::Server, || s.emit(&mut wire));
        let s2c = !wire.is_empty();
        if s2c {
            let n = timed(&mut t.client, Role::Client, || c.feed(&wire));
            assert_eq!(n, wire.len(), "client took the whole flight");
            wire.clear();
        }
        if !c2s && !s2c && !c.handshaking() && !s.handshaking() {
            return (c, s);
        }
    }
    panic!("handshake did not complete");
}

/// Plaintext offered to a sender per round of [`transfer`].
const ROUND: usize = 64 * 1024;

/// Moves `data` from `tx` to `rx`, timing the sender's and the receiver's
/// work separately (`tx_time`, `rx_time`).
pub fn transfer(
    tx: &mut dyn Endpoint,
    rx: &mut dyn Endpoint,
    data: &[u8],
    wire: &mut Vec<u8>,
    buf: &mut [u8],
    tx_time: &mut Duration,
    rx_time: &mut Duration,
) {
    let (mut sent, mut got) = (0, 0);
    while got < data.len() {
        if sent < data.len() {
            // At most one round's worth per round, on every endpoint: rustls
            // and polytls take 64 KiB of plaintext before their ciphertext
            // is sent, OpenSSL used directly takes any amount. Offered a
            // megabyte at once, a direct OpenSSL receiver then got it in one
            // round and polytls' in sixteen, each ending in a read that
            // finds no record: the rows compared delivery, not receiving.
            let round = data.len().min(sent + ROUND);
            timed(tx_time, Role::Sender, || {
                sent += tx.send(&data[sent..round]);
                tx.emit(wire);
            });
        }
        let mut off = 0;
        while off < wire.len() || got < sent {
            let before = (off, got);
            timed(rx_time, Role::Receiver, || {
                off += rx.feed_for_read(&wire[off..]);
                loop {
                    let n = rx.recv(buf);
                    if n == 0 {
                        break;
                    }
                    got += n;
                }
            });
            if (off, got) == before {
                break;
            }
        }
        wire.drain(..off);
    }
    assert_eq!(got, data.len());
}

/// polytls' default TLS 1.2 suites in OpenSSL's naming, in its order: what
/// the direct OpenSSL-family baselines offer, as polytls does (a shorter
/// list made their ClientHellos cheaper to build and hash).
pub fn default_tls12_suites() -> String {
    polytls_ossl_common::tls12_cipher_list(polytls_api::defaults::CIPHER_SUITES)
}

/// The handshake cases, by stable name.
pub fn handshake_cases() -> Vec<(&'static str, Params)> {
    let p = |version, key, mutual, resumption| Params {
        version,
        key,
        mutual,
        resumption,
        suite: None,
        group: None,
    };
    use KeyType::*;
    use ProtocolVersion::*;
    vec![
        ("tls13-ecdsa-full", p(Tls13, EcdsaP256, false, false)),
        ("tls12-ecdsa-full", p(Tls12, EcdsaP256, false, false)),
        ("tls13-rsa-full", p(Tls13, Rsa2048, false, false)),
        ("tls12-rsa-full", p(Tls12, Rsa2048, false, false)),
        ("tls13-p384-full", p(Tls13, EcdsaP384, false, false)),
        ("tls13-ed25519-full", p(Tls13, Ed25519, false, false)),
        ("tls13-rsa4096-full", p(Tls13, Rsa4096, false, false)),
        (
            "tls13-x25519mlkem768-full",
            Params {
                group: Some(NamedGroup::X25519MLKEM768),
                ..p(Tls13, EcdsaP256, false, false)
            },
        ),
        ("tls13-ecdsa-mtls", p(Tls13, EcdsaP256, true, false)),
        ("tls13-ecdsa-resumed", p(Tls13, EcdsaP256, false, true)),
        ("tls12-ecdsa-resumed", p(Tls12, EcdsaP256, false, true)),
    ]
}

/// Why `backend` cannot run the case `p`, if it cannot (the report shows
/// the row as "n/a" with this reason, never leaves it out).
pub fn unsupported<B: Backend>(backend: &B, p: &Params) -> Option<String> {
    use polytls_api::Capability;
    let needs = [
        p.resumption.then_some(Capability::ClientResumption),
        p.group.map(Capability::Group),
        (p.key == KeyType::Ed25519).then_some(Capability::Ed25519),
        (p.key == KeyType::Rsa4096).then_some(Capability::Rsa4096),
    ];
    needs
        .into_iter()
        .flatten()
        .find(|c| !backend.supports(*c))
        .map(|c| format!("{} lacks {c:?}", column(backend)))
}

/// Records that `id` (a benchmark group) cannot run on this backend, for the
/// report: `target/polytls-report/unsupported.jsonl`, one line per case.
pub fn record_unsupported(id: &str, reason: &str) {
    eprintln!("n/a {id}: {reason}");
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        })
        .join("polytls-report");
    let line = serde_json::json!({ "id": id, "reason": reason }).to_string();
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("unsupported.jsonl"))
    {
        use std::io::Write as _;
        let _ = writeln!(f, "{line}");
    }
}

/// Bulk suites. TLS 1.2 suites so that every backend can pin them (BoringSSL
/// cannot restrict TLS 1.3 suites); the record protection is the same AEAD.
pub const BULK_SUITES: &[(&str, CipherSuite)] = &[
    (
        "aes128gcm",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "aes256gcm",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "chacha20",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// The bulk cases' parameters: TLS 1.2, ECDSA, `suite` pinned.
pub fn bulk_params(suite: CipherSuite) -> Params {
    Params {
        version: ProtocolVersion::Tls12,
        key: KeyType::EcdsaP256,
        mutual: false,
        resumption: false,
        suite: Some(suite),
        group: None,
    }
}

/// Bulk write sizes.
pub const BULK_SIZES: &[(&str, usize)] = &[("16k", 16 * 1024), ("1m", 1024 * 1024)];

fn bench_handshake<F: Factory>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    prefix: &str,
    f: &F,
) {
    // Warm caches (resumption) outside the measurement.
    let _ = handshake(f, &mut Times::default());
    for (side, is_client) in [("client", true), ("server", false)] {
        g.bench_function(format!("{prefix}-{side}"), |b| {
            b.iter_custom(|iters| {
                let mut t = Times::default();
                for _ in 0..iters {
                    drop(handshake(f, &mut t));
                }
                if is_client {
                    t.client
                } else {
                    t.server
                }
            })
        });
    }
}

fn bench_bulk<F: Factory>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    prefix: &str,
    f: &F,
    size: usize,
    client_sends: bool,
) {
    let data = vec![0x5a_u8; size];
    let (mut c, mut s) = handshake(f, &mut Times::default());
    let mut wire = Vec::with_capacity(size + size / 8 + 1024);
    let mut buf = vec![0u8; 64 * 1024];
    for (side, sender) in [("sender", true), ("receiver", false)] {
        g.bench_function(format!("{prefix}-{side}"), |b| {
            b.iter_custom(|iters| {
                let (mut tx_t, mut rx_t) = (Duration::ZERO, Duration::ZERO);
                for _ in 0..iters {
                    let (tx, rx): (&mut dyn Endpoint, &mut dyn Endpoint) = if client_sends {
                        (&mut c, &mut s)
                    } else {
                        (&mut s, &mut c)
                    };
                    transfer(tx, rx, &data, &mut wire, &mut buf, &mut tx_t, &mut rx_t);
                }
                if sender {
                    tx_t
                } else {
                    rx_t
                }
            })
        });
    }
}

/// Panics unless polytls and the direct baseline negotiate the same suite
/// for `case`: a baseline that negotiates another measures other work.
pub fn same_suite<P: Factory, D: Factory>(case: &str, poly: &P, direct: &D) {
    let (pc, ps) = handshake(poly, &mut Times::default());
    let (dc, ds) = handshake(direct, &mut Times::default());
    let ours = (pc.suite(), ps.suite());
    let theirs = (dc.suite(), ds.suite());
    assert!(
        ours.0.is_some() && ours == theirs,
        "{case}: polytls negotiated {ours:?}, the direct baseline {theirs:?}"
    );
}

/// Registers every case for `backend`, through polytls and directly (the
/// factory `direct` makes for a case, or `None` where the library cannot do
/// it without polytls' help either).
pub fn run<B: Backend, D: Factory>(
    c: &mut Criterion,
    backend: &B,
    direct: impl Fn(&Params) -> Option<D>,
) {
    let name = column(backend);
    for (case, params) in handshake_cases() {
        if let Some(why) = unsupported(backend, &params) {
            record_unsupported(&format!("handshake/{case}/{name}"), &why);
            continue;
        }
        let mut g = c.benchmark_group(format!("handshake/{case}/{name}"));
        g.throughput(Throughput::Elements(1));
        let poly = PolytlsFactory::new(backend, &params);
        bench_handshake(&mut g, "polytls", &poly);
        if let Some(d) = direct(&params) {
            same_suite(case, &poly, &d);
            bench_handshake(&mut g, "direct", &d);
        }
        g.finish();
    }
    for (suite_name, suite) in BULK_SUITES {
        let params = bulk_params(*suite);
        for (size_name, size) in BULK_SIZES {
            for (dir, client_sends) in [("c2s", true), ("s2c", false)] {
                let mut g =
                    c.benchmark_group(format!("throughput/{suite_name}-{size_name}-{dir}/{name}"));
                g.throughput(Throughput::Bytes(*size as u64));
                bench_bulk(
                    &mut g,
                    "polytls",
                    &PolytlsFactory::new(backend, &params),
                    *size,
                    client_sends,
                );
                if let Some(d) = direct(&params) {
                    bench_bulk(&mut g, "direct", &d, *size, client_sends);
                }
                g.finish();
            }
        }
    }
}

/// Net heap bytes held by one established, idle session (the other side
/// dropped), averaged over `n` sessions; measured by `net_bytes`, which
/// reports the allocator's net bytes so far.
pub fn idle_session_bytes<F: Factory>(f: &F, n: usize, net_bytes: &dyn Fn() -> i64) -> (i64, i64) {
    let mut clients = Vec::with_capacity(n);
    let before = net_bytes();
    for _ in 0..n {
        let (c, s) = handshake(f, &mut Times::default());
        drop(s);
        clients.push(c);
    }
    let client = (net_bytes() - before) / n as i64;
    drop(clients);
    let mut servers = Vec::with_capacity(n);
    let before = net_bytes();
    for _ in 0..n {
        let (c, s) = handshake(f, &mut Times::default());
        drop(c);
        servers.push(s);
    }
    let server = (net_bytes() - before) / n as i64;
    drop(servers);
    (client, server)
}

/// Measures idle-session memory through polytls and directly for the
/// TLS 1.3 ECDSA case and writes `memory-<column>.json` (with the
/// library's name and version) into `target/polytls-report/` for
/// `cargo xtask compare`.
pub fn report_memory<B: Backend, D: Factory>(
    backend: &B,
    direct: impl Fn(&Params) -> Option<D>,
    net_bytes: &dyn Fn() -> i64,
) {
    let params = handshake_cases()[0].1;
    let (pc, ps) = idle_session_bytes(&PolytlsFactory::new(backend, &params), 50, net_bytes);
    let d = direct(&params).map(|d| idle_session_bytes(&d, 50, net_bytes));
    let json = serde_json::json!({
        "backend": column(backend),
        "library": backend.library_version(),
        "case": "tls13-ecdsa",
        "polytls_client": pc,
        "polytls_server": ps,
        "direct_client": d.map(|d| d.0),
        "direct_server": d.map(|d| d.1),
    })
    .to_string();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/polytls-report");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("memory-{}.json", column(backend))), &json);
    }
    eprintln!("memory per idle session: {json}");
}
