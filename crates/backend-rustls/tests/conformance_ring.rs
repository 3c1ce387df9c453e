//! The shared conformance suite on rustls over *ring*, static and dyn paths.

use polytls_conformance::{Expectations, Quirk};

/// What rustls does differently from the OpenSSL family (the provider
/// changes nothing here).
static EXPECTED: Expectations = Expectations {
    skips: &[],
    quirks: &[
        Quirk::LenientServerNameList,
        Quirk::NoAlertWithoutSharedSignatureScheme,
    ],
};

fn main() -> std::process::ExitCode {
    polytls_conformance::run(polytls_rustls::RustlsRing, &EXPECTED)
}
