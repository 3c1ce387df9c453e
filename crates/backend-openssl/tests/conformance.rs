//! The shared conformance suite on OpenSSL, static and dyn paths.

use polytls_conformance::{Expectations, Quirk};

/// What OpenSSL does differently from the other backends.
static EXPECTED: Expectations = Expectations {
    skips: &[],
    quirks: &[Quirk::RecordBeforeClientHelloMisbehaves],
};

fn main() -> std::process::ExitCode {
    polytls_conformance::run(polytls_openssl::OpenSsl, &EXPECTED)
}
