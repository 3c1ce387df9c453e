//! The shared conformance suite on rustls, static and dyn paths.

use polytls_conformance::{Expectations, Quirk};

/// What rustls does differently from the OpenSSL family.
static EXPECTED: Expectations = Expectations {
    skips: &[],
    quirks: &[
        Quirk::LenientServerNameList,
        Quirk::NoAlertWithoutSharedSignatureScheme,
    ],
};

fn main() -> std::process::ExitCode {
    polytls_conformance::run(polytls_rustls::Rustls, &EXPECTED)
}
