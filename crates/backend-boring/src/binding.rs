//! The `boring` crate's calls behind the family's context policy
//! (`polytls_ossl_common::context`): what BoringSSL does its own way; the
//! rest is the family's shared rust-openssl forwarding.

use boring::ssl::{
    Ssl, SslContextBuilder, SslMethod, SslOptions, SslSessionCacheMode, SslSignatureAlgorithm,
};
use boring::x509::X509VerifyError;
use polytls_api::{Result, SignatureScheme, TicketKeys};
use polytls_ossl_common::context::{scheme_codes, scheme_names, Gaps, Role};
use polytls_ossl_common::crl::CrlFlags;

use crate::{BoringDriver, BoringLibrary, NAME};

fn new_driver(ssl: Ssl, role: Role) -> Result<BoringDriver> {
    Ok(BoringDriver::new(ssl, role == Role::Server))
}

polytls_ossl_common::rust_openssl_binding! {
    binding: boring,
    library: BoringLibrary,
    pin_error: Err(X509VerifyError::APPLICATION_VERIFICATION),
    extra_options: [NO_COMPRESSION],
    new_driver: new_driver,
    attach_session: crate::ffi::attach_session,
    context: {
        const NAME: &'static str = NAME;
        const GAPS: Gaps = Gaps {
            tls13_suites: Some(
                "the boring backend cannot restrict TLS 1.3 cipher suites (BoringSSL fixes them: \
                 AES-GCM and ChaCha20, ordered by hardware support)",
            ),
            resumption_lifetime: Some(
                "the boring crate cannot set the session timeout; BoringSSL's own apply \
                 (2 hours for TLS 1.2, 2 days for TLS 1.3 tickets)",
            ),
            ticket_key_rotation: None,
            client_early_data: Some("the boring crate binds no early data API"),
            server_early_data: Some("the boring crate binds no early data API"),
        };

        fn builder(_: Role) -> std::result::Result<SslContextBuilder, String> {
            // One method for both roles: the connection's state picks the side.
            SslContextBuilder::new(SslMethod::tls()).map_err(|e| e.to_string())
        }

        fn set_tls13_suites(_: &mut SslContextBuilder, _: &str) -> std::result::Result<(), String> {
            Err("BoringSSL fixes its TLS 1.3 suites".into())
        }

        fn set_groups(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
            b.set_curves_list(list).map_err(|e| e.to_string())
        }

        fn set_sigalgs(
            b: &mut SslContextBuilder,
            _: Role,
            signing: &[SignatureScheme],
            verify: &[SignatureScheme],
        ) -> std::result::Result<(), String> {
            // The list sets both preferences; the verify ones are then
            // replaced.
            b.set_sigalgs_list(&scheme_names(signing))
                .map_err(|e| e.to_string())?;
            let verify: Vec<SslSignatureAlgorithm> =
                scheme_codes(verify).into_iter().map(SslSignatureAlgorithm::from).collect();
            b.set_verify_algorithm_prefs(&verify).map_err(|e| e.to_string())
        }

        fn set_crl_flags(b: &mut SslContextBuilder, flags: CrlFlags) -> std::result::Result<(), String> {
            b.cert_store_mut().set_flags(crl_flags(flags));
            Ok(())
        }

        fn set_server_cache(b: &mut SslContextBuilder, size: usize) {
            b.set_session_cache_mode(SslSessionCacheMode::SERVER);
            b.set_session_cache_size(u32::try_from(size).unwrap_or(u32::MAX));
        }

        fn disable_all_tickets(b: &mut SslContextBuilder) -> std::result::Result<(), String> {
            // BoringSSL's SSL_OP_NO_TICKET covers TLS 1.3 tickets too.
            b.set_options(SslOptions::NO_TICKET);
            Ok(())
        }

        fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
            crate::ffi::set_ticket_keys(b, keys);
            Ok(())
        }

        fn set_max_early_data(_: &mut SslContextBuilder, _: u32) -> std::result::Result<(), String> {
            Err("the boring crate binds no early data API".into())
        }
    },
    binding_items: {
        type Driver = BoringDriver;

        fn library_version() -> String {
            // BoringSSL has no release numbers: its API version is what names
            // the source it was built from (`version()` only says "BoringSSL").
            format!(
                "{} (API version {})",
                boring::version::version(),
                boring_sys::BORINGSSL_API_VERSION
            )
        }
    },
}
