//! The shared conformance suite on AWS-LC, static and dyn paths.

use polytls_conformance::{Expectations, Quirk};

/// What AWS-LC does differently from the other backends.
static EXPECTED: Expectations = Expectations {
    skips: &[],
    quirks: &[
        Quirk::TicketsIgnoredAfterCloseNotify,
        Quirk::ClientFailsWithoutSharedSignatureScheme,
    ],
};

fn main() -> std::process::ExitCode {
    polytls_conformance::run(polytls_aws_lc::AwsLc, &EXPECTED)
}
