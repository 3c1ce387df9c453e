//! Refuses a build in which the `openssl` crate does not link OpenSSL 3:
//!
//! - AWS-LC instead of OpenSSL: Cargo unifies features across a build, so a
//!   crate that turns on the `openssl` crate's `aws-lc` feature (such as
//!   `polytls-aws-lc`) would silently make this backend AWS-LC too;
//! - LibreSSL, or an OpenSSL older than 3.0: the audited `ffi` module's
//!   contracts are proved against OpenSSL 3 only.

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
    println!("cargo:rerun-if-env-changed=DEP_OPENSSL_LIBRESSL_VERSION_NUMBER");
    if std::env::var_os("DEP_OPENSSL_LIBRESSL_VERSION_NUMBER").is_some() {
        panic!(
            "polytls-openssl: the `openssl` crate in this build links LibreSSL; it needs OpenSSL 3"
        );
    }
    println!("cargo:rerun-if-env-changed=DEP_OPENSSL_VERSION_NUMBER");
    // Hexadecimal, as openssl-sys prints it (`0x30000000` is 3.0.0).
    if let Ok(v) = std::env::var("DEP_OPENSSL_VERSION_NUMBER") {
        match u64::from_str_radix(&v, 16) {
            Ok(n) if n >= 0x3000_0000 => {}
            _ => panic!("polytls-openssl: the `openssl` crate in this build links OpenSSL {v:?} (hex); it needs OpenSSL 3.0 or later"),
        }
    }
}
