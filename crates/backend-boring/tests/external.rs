//! Boring against peers nobody here wrote (the `openssl` command line tool).

#[test]
fn renegotiation_is_refused() {
    polytls_conformance::external::renegotiation_refused(&polytls_boring::Boring);
}
