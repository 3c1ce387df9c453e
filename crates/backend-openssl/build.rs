//! Refuses a build in which the `openssl` crate links AWS-LC instead of the
//! system OpenSSL: Cargo unifies features across a build, so a crate that
//! turns on the `openssl` crate's `aws-lc` feature (such as
//! `polytls-aws-lc`) would silently make this backend AWS-LC too.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_OPENSSL_AWSLC");
    if std::env::var_os("DEP_OPENSSL_AWSLC").is_some() {
        panic!(
            "polytls-openssl: the `openssl` crate in this build links AWS-LC (its `aws-lc` \
             feature is on, e.g. through polytls-aws-lc). Cargo unifies features, so \
             polytls-openssl and polytls-aws-lc cannot be built together: build them in \
             separate cargo invocations (as `cargo xtask` does)."
        );
    }
}
