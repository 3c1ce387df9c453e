//! The shared conformance suite on BoringSSL, static and dyn paths.

use polytls_conformance::{Expectations, Quirk};

/// What BoringSSL does differently from the other backends.
static EXPECTED: Expectations = Expectations {
    skips: &[],
    quirks: &[
        Quirk::TicketsIgnoredAfterCloseNotify,
        Quirk::Tls12SuiteNeedsSignatureScheme,
        Quirk::ClientFailsWithoutSharedSignatureScheme,
    ],
};

fn main() -> std::process::ExitCode {
    polytls_conformance::run(polytls_boring::Boring, &EXPECTED)
}
