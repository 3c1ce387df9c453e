//! The `openssl` crate's calls over AWS-LC behind the family's context
//! policy (`polytls_ossl_common::context`): what AWS-LC does its own way;
//! the rest is the family's shared rust-openssl forwarding.

use openssl::ssl::{SslContextBuilder, SslMethod, SslOptions};
use openssl::x509::X509VerifyResult;
use polytls_api::{Result, SignatureScheme, TicketKeys};
use polytls_ossl_common::context::{scheme_codes, Gaps, Role};

use crate::{AwsLcDriver, AwsLcLibrary, NAME};

/// Why AWS-LC takes no early data through polytls.
const NO_EARLY_DATA: &str = "the openssl crate binds early data for OpenSSL only, not for AWS-LC";

polytls_ossl_common::rust_openssl_binding! {
    binding: openssl,
    library: AwsLcLibrary,
    pin_error: X509VerifyResult::APPLICATION_VERIFICATION,
    // AWS-LC has no compression to switch off.
    extra_options: [],
    new_driver: AwsLcDriver::start,
    attach_session: crate::ffi::attach_session,
    context: {
        const NAME: &'static str = NAME;
        const GAPS: Gaps = Gaps {
            tls13_suites: None,
            resumption_lifetime: Some(
                "the openssl crate cannot set the session timeout; AWS-LC's own apply \
                 (2 hours for TLS 1.2, 2 days for TLS 1.3 tickets)",
            ),
            ticket_key_rotation: Some(
                "AWS-LC takes one ticket key through the bindings \
                 (SSL_CTX_set_tlsext_ticket_keys); the rotating callback needs raw pointers \
                 to the library's cipher and HMAC contexts, which the openssl crate does not \
                 wrap. To rotate with one key: put the new key alone in the file and reload \
                 every server of the fleet together",
            ),
            client_early_data: Some(NO_EARLY_DATA),
            server_early_data: Some(NO_EARLY_DATA),
        };

        fn builder(_: Role) -> std::result::Result<SslContextBuilder, String> {
            // One method for both roles: the connection's state picks the side.
            SslContextBuilder::new(SslMethod::tls()).map_err(|e| e.to_string())
        }

        fn set_tls13_suites(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
            crate::ffi::set_tls13_suites(b, list)
        }

        fn set_sigalgs(
            b: &mut SslContextBuilder,
            _: Role,
            signing: &[SignatureScheme],
            verify: &[SignatureScheme],
        ) -> std::result::Result<(), String> {
            crate::ffi::set_sigalg_prefs(b, &scheme_codes(signing), &scheme_codes(verify))
        }

        polytls_ossl_common::openssl_crate_context_items!();

        fn disable_all_tickets(b: &mut SslContextBuilder) -> std::result::Result<(), String> {
            // As in BoringSSL, SSL_OP_NO_TICKET covers TLS 1.3 tickets too.
            b.set_options(SslOptions::NO_TICKET);
            Ok(())
        }

        fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
            crate::ffi::set_ticket_keys(b, keys)
        }

        fn set_max_early_data(_: &mut SslContextBuilder, _: u32) -> std::result::Result<(), String> {
            Err(NO_EARLY_DATA.into())
        }
    },
    binding_items: {
        type Driver = AwsLcDriver;

        fn library_version() -> String {
            // "OpenSSL 1.1.1 (compatible; AWS-LC 1.x)": the second half names it.
            let text = openssl::version::version();
            text.split_once("compatible; ")
                .map_or(text, |(_, rest)| rest.trim_end_matches(')'))
                .to_owned()
        }
    },
}
