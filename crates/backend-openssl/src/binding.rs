//! The `openssl` crate's calls behind the family's context policy
//! (`polytls_ossl_common::context`): what OpenSSL does its own way; the
//! rest is the family's shared rust-openssl forwarding.

use openssl::ssl::{SslContextBuilder, SslMethod, SslOptions};
use openssl::x509::X509VerifyResult;
use polytls_api::{Result, SignatureScheme, TicketKeys};
use polytls_ossl_common::context::{scheme_names, Gaps, Role};

use crate::{OpenSslDriver, OpenSslLibrary, NAME};

polytls_ossl_common::rust_openssl_binding! {
    binding: openssl,
    library: OpenSslLibrary,
    pin_error: X509VerifyResult::APPLICATION_VERIFICATION,
    extra_options: [NO_COMPRESSION],
    new_driver: OpenSslDriver::start,
    attach_session: crate::ffi::attach_session,
    context: {
        const NAME: &'static str = NAME;
        const GAPS: Gaps = Gaps {
            tls13_suites: None,
            resumption_lifetime: Some(
                "the openssl crate cannot set the session timeout (SSL_CTX_set_timeout); \
                 OpenSSL's 2 hours apply",
            ),
            ticket_key_rotation: Some(
                "OpenSSL takes one ticket key through the bindings \
                 (SSL_CTX_set_tlsext_ticket_keys); the rotating callback is bound by neither the \
                 openssl crate (0.10.82) nor openssl-sys (0.9.118). To rotate with one key: put \
                 the new key alone in the file and reload every server of the fleet together; \
                 tickets under the old key then make full handshakes",
            ),
            client_early_data: Some(
                "neither the openssl crate nor openssl-sys binds SSL_get_early_data_status: a \
                 client could not tell whether the server took its early data",
            ),
            server_early_data: None,
        };

        fn builder(role: Role) -> std::result::Result<SslContextBuilder, String> {
            SslContextBuilder::new(match role {
                Role::Client => SslMethod::tls_client(),
                Role::Server => SslMethod::tls_server(),
            })
            .map_err(|e| e.to_string())
        }

        fn set_tls13_suites(b: &mut SslContextBuilder, list: &str) -> std::result::Result<(), String> {
            b.set_ciphersuites(list).map_err(|e| e.to_string())
        }

        fn set_sigalgs(
            b: &mut SslContextBuilder,
            role: Role,
            signing: &[SignatureScheme],
            verify: &[SignatureScheme],
        ) -> std::result::Result<(), String> {
            // OpenSSL keeps two lists: its `sigalgs` are what a server signs
            // with and what a client accepts; its `client_sigalgs` are those
            // of client authentication, what a server accepts (its
            // CertificateRequest) and what a client signs with.
            let (sigalgs, client_sigalgs) = match role {
                Role::Server => (signing, verify),
                Role::Client => (verify, signing),
            };
            b.set_sigalgs_list(&scheme_names(sigalgs))
                .map_err(|e| e.to_string())?;
            crate::ffi::set_client_sigalgs(b, &scheme_names(client_sigalgs))
        }

        polytls_ossl_common::openssl_crate_context_items!();

        fn disable_all_tickets(b: &mut SslContextBuilder) -> std::result::Result<(), String> {
            b.set_options(SslOptions::NO_TICKET);
            b.set_num_tickets(0).map_err(|e| e.to_string())
        }

        fn set_ticket_keys(b: &mut SslContextBuilder, keys: &TicketKeys) -> Result<()> {
            crate::ffi::set_ticket_keys(b, keys)
        }

        fn set_max_early_data(b: &mut SslContextBuilder, max: u32) -> std::result::Result<(), String> {
            b.set_max_early_data(max).map_err(|e| e.to_string())
        }
    },
    binding_items: {
        type Driver = OpenSslDriver;

        fn library_version() -> String {
            openssl::version::version().to_owned()
        }
    },
}
