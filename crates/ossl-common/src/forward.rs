//! The forwarding for bindings with rust-openssl's API, written once.
//!
//! The `openssl` crate (over OpenSSL, or over AWS-LC with its `aws-lc`
//! feature) and the `boring` crate (a fork of it) name the same calls the
//! same way: a library crate of the family writes only what differs and
//! invokes these macros with its binding's crate name.
//!
//! - [`rust_openssl_binding!`](crate::rust_openssl_binding) implements
//!   [`ContextDriver`](crate::ContextDriver) and [`Binding`](crate::Binding)
//!   for the library type, from the items given plus the shared ones.
//! - [`rust_openssl_accessors!`](crate::rust_openssl_accessors), inside an
//!   `impl SslDriver`, adds the calls that only read the connection's
//!   `SslRef` (through the driver's `fn ssl_ref(&self) -> Option<&SslRef>`).
//! - [`rust_openssl_stream_driver!`](crate::rust_openssl_stream_driver)
//!   writes a whole driver over the binding's `SslStream` (the `openssl`
//!   crate, over OpenSSL or AWS-LC), and
//!   [`openssl_crate_context_items!`](crate::openssl_crate_context_items)
//!   the context calls that crate spells alike over both libraries.

/// Implements [`ContextDriver`](crate::ContextDriver) and
/// [`Binding`](crate::Binding) for a library with rust-openssl's API.
///
/// ```text
/// rust_openssl_binding! {
///     binding: openssl,                    // the binding crate
///     library: OpenSslLibrary,             // the type to implement on
///     pin_error: <expr>,                   // X509_V_ERR_APPLICATION_VERIFICATION as `set_error` takes it
///     extra_options: [NO_COMPRESSION],     // SslOptions beyond no renegotiation and server preference
///     new_driver: new_driver,              // fn(Ssl, Role) -> Result<Driver>
///     attach_session: crate::ffi::attach_session, // the audited fn(&mut SslRef, &[u8]) -> Result<()>
///     context: { NAME, GAPS, builder, set_tls13_suites, set_groups, set_sigalgs,
///                set_crl_flags, set_server_cache, disable_all_tickets, set_ticket_keys, set_max_early_data },
///     binding_items: { type Driver; library_version },
/// }
/// ```
///
/// `$k` is the binding crate's name as the invoking crate depends on it.
#[macro_export]
macro_rules! rust_openssl_binding {
    (
        binding: $k:ident,
        library: $lib:ty,
        pin_error: $pin:expr,
        extra_options: [$($opt:ident),* $(,)?],
        new_driver: $new_driver:path,
        attach_session: $attach:path,
        context: { $($context:tt)* },
        binding_items: { $($binding:tt)* } $(,)?
    ) => {
        /// Where a client connection's resumption slot lives in its `SSL`.
        fn slot_index() -> ::std::result::Result<
            $k::ex_data::Index<$k::ssl::Ssl, ::std::sync::Arc<$crate::resume::Slot>>,
            String,
        > {
            type Index = $k::ex_data::Index<$k::ssl::Ssl, ::std::sync::Arc<$crate::resume::Slot>>;
            static INDEX: ::std::sync::OnceLock<::std::result::Result<Index, String>> =
                ::std::sync::OnceLock::new();
            INDEX
                .get_or_init(|| $k::ssl::Ssl::new_ex_index().map_err(|e| e.to_string()))
                .clone()
        }

        /// The store flags of a CRL policy.
        fn crl_flags(flags: $crate::crl::CrlFlags) -> $k::x509::verify::X509VerifyFlags {
            use $k::x509::verify::X509VerifyFlags as Flags;
            let mut set = Flags::empty();
            set.set(Flags::CRL_CHECK, flags.check);
            set.set(Flags::CRL_CHECK_ALL, flags.check_all);
            set
        }

        impl $crate::ContextDriver for $lib {
            type Builder = $k::ssl::SslContextBuilder;
            type Context = $k::ssl::SslContext;

            $($context)*

            fn build(b: Self::Builder) -> Self::Context {
                b.build()
            }

            fn set_versions(
                b: &mut Self::Builder,
                min: $crate::__api::ProtocolVersion,
                max: $crate::__api::ProtocolVersion,
            ) -> ::std::result::Result<(), String> {
                let version = |v| match v {
                    $crate::__api::ProtocolVersion::Tls12 => $k::ssl::SslVersion::TLS1_2,
                    _ => $k::ssl::SslVersion::TLS1_3,
                };
                b.set_min_proto_version(Some(version(min)))
                    .and_then(|()| b.set_max_proto_version(Some(version(max))))
                    .map_err(|e| e.to_string())
            }

            fn set_base_options(b: &mut Self::Builder) {
                use $k::ssl::SslOptions;
                // Server preference also makes OpenSSL sign with the first
                // of its own signature schemes (both roles), not the peer's
                // first: `Common::signing_schemes` relies on it.
                b.set_options(
                    SslOptions::NO_RENEGOTIATION
                        | SslOptions::CIPHER_SERVER_PREFERENCE
                        $(| SslOptions::$opt)*,
                );
            }

            fn set_cipher_list(b: &mut Self::Builder, list: &str) -> ::std::result::Result<(), String> {
                b.set_cipher_list(list).map_err(|e| e.to_string())
            }

            fn set_key_log(b: &mut Self::Builder, log: ::std::sync::Arc<dyn $crate::__api::KeyLog>) {
                b.set_keylog_callback(move |_, line| log.log_line(line));
            }

            fn set_identity(
                b: &mut Self::Builder,
                chain: &[$crate::__api::CertificateDer<'static>],
                key: &[u8],
            ) -> ::std::result::Result<(), $crate::context::IdentityError> {
                use $crate::context::IdentityError;
                let rejected =
                    |what| move |e: $k::error::ErrorStack| IdentityError::Rejected(what, e.to_string());
                let mut certs = chain.iter().map(|c| $k::x509::X509::from_der(c));
                let leaf = certs
                    .next()
                    .transpose()
                    .map_err(rejected("certificate"))?
                    .ok_or(IdentityError::Rejected("certificate", "none".into()))?;
                b.set_certificate(&leaf).map_err(rejected("certificate"))?;
                for extra in certs {
                    let extra = extra.map_err(rejected("chain certificate"))?;
                    b.add_extra_chain_cert(extra)
                        .map_err(rejected("chain certificate"))?;
                }
                let key = $k::pkey::PKey::private_key_from_der(key).map_err(rejected("private key"))?;
                if !leaf.public_key().is_ok_and(|public| public.public_eq(&key)) {
                    return Err(IdentityError::KeyMismatch);
                }
                b.set_private_key(&key).map_err(rejected("private key"))?;
                b.check_private_key().map_err(|_| IdentityError::KeyMismatch)
            }

            fn add_root(b: &mut Self::Builder, der: &[u8]) -> ::std::result::Result<(), String> {
                let cert = $k::x509::X509::from_der(der).map_err(|e| e.to_string())?;
                b.cert_store_mut().add_cert(cert).map_err(|e| e.to_string())
            }

            fn load_verify_file(
                b: &mut Self::Builder,
                path: &::std::path::Path,
            ) -> ::std::result::Result<(), String> {
                b.load_verify_locations(Some(path), None).map_err(|e| e.to_string())
            }

            fn set_session_id_context(
                b: &mut Self::Builder,
                context: &[u8],
            ) -> ::std::result::Result<(), String> {
                b.set_session_id_context(context).map_err(|e| e.to_string())
            }

            fn set_client_verify(b: &mut Self::Builder, verify: $crate::context::ClientVerify) {
                use $crate::context::ClientVerify;
                use $k::ssl::SslVerifyMode;
                let peer = SslVerifyMode::PEER;
                let required = SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT;
                match verify {
                    ClientVerify::None => b.set_verify(SslVerifyMode::NONE),
                    ClientVerify::Optional => b.set_verify(peer),
                    ClientVerify::Required => b.set_verify(required),
                    ClientVerify::AcceptAny { required: r } => {
                        b.set_verify_callback(if r { required } else { peer }, |_, _| true);
                    }
                }
            }

            fn set_alpn_select(b: &mut Self::Builder, prefs: Vec<Vec<u8>>) {
                b.set_alpn_select_callback(move |_, client| {
                    $crate::select_alpn(&prefs, client).ok_or($k::ssl::AlpnError::ALERT_FATAL)
                });
            }

            fn disable_session_cache(b: &mut Self::Builder) {
                b.set_session_cache_mode($k::ssl::SslSessionCacheMode::OFF);
            }

            fn disable_tickets(b: &mut Self::Builder) {
                b.set_options($k::ssl::SslOptions::NO_TICKET);
            }

            fn set_sni(
                b: &mut Self::Builder,
                selector: $crate::__api::SniSelector,
                contexts: Vec<Self::Context>,
            ) {
                b.set_servername_callback(move |ssl, _| {
                    let index = selector.select(ssl.servername($k::ssl::NameType::HOST_NAME));
                    match index.checked_sub(1).and_then(|i| contexts.get(i)) {
                        Some(ctx) => ssl
                            .set_ssl_context(ctx)
                            .map_err(|_| $k::ssl::SniError::ALERT_FATAL),
                        None => Ok(()),
                    }
                });
            }

            fn set_alpn_protos(b: &mut Self::Builder, wire: &[u8]) -> ::std::result::Result<(), String> {
                b.set_alpn_protos(wire).map_err(|e| e.to_string())
            }

            fn keep_sessions(b: &mut Self::Builder) -> ::std::result::Result<(), String> {
                use $k::ssl::SslSessionCacheMode as Mode;
                b.set_session_cache_mode(Mode::CLIENT | Mode::NO_INTERNAL);
                let index = slot_index()?;
                b.set_new_session_callback(move |ssl, session| {
                    if let (Some(slot), Ok(der)) = (ssl.ex_data(index), session.to_der()) {
                        let tls13 = ssl.version2() == Some($k::ssl::SslVersion::TLS1_3);
                        slot.store(der, tls13);
                    }
                });
                Ok(())
            }

            fn set_server_check(b: &mut Self::Builder, check: $crate::context::ServerCheck) {
                use $crate::context::Verdict;
                b.set_verify_callback($k::ssl::SslVerifyMode::PEER, move |ok, ctx| {
                    let chain = |ctx: &$k::x509::X509StoreContextRef| {
                        ctx.chain()
                            .map(|c| c.iter().filter_map(|x| x.to_der().ok()).map(Into::into).collect())
                            .unwrap_or_default()
                    };
                    match check.verdict(ok, ctx.error_depth(), || chain(ctx)) {
                        Verdict::Accept => true,
                        Verdict::Refuse => false,
                        Verdict::PinMismatch => {
                            ctx.set_error($pin);
                            false
                        }
                    }
                });
            }
        }

        impl $crate::Binding for $lib {
            $($binding)*

            fn client(
                ctx: &Self::Context,
                target: $crate::context::Target<'_>,
                slot: Option<::std::sync::Arc<$crate::resume::Slot>>,
                session: Option<&[u8]>,
            ) -> $crate::__api::Result<Self::Driver> {
                use $crate::context::Check;
                let name = <Self as $crate::ContextDriver>::NAME;
                let fail = |what: &'static str| {
                    move |e: $k::error::ErrorStack| {
                        $crate::__api::Error::config(
                            $crate::__api::ConfigErrorKind::Rejected,
                            format!("{name}: {what}: {e}"),
                        )
                    }
                };
                let mut ssl = $k::ssl::Ssl::new(ctx).map_err(fail("session"))?;
                if let Some(sni) = target.sni {
                    ssl.set_hostname(sni).map_err(fail("SNI"))?;
                }
                if let Some(check) = target.check {
                    let param = ssl.param_mut();
                    param.set_hostflags($k::x509::verify::X509CheckFlags::NO_PARTIAL_WILDCARDS);
                    match check {
                        Check::Ip(ip) => param.set_ip(ip).map_err(fail("IP check"))?,
                        Check::Host(host) => param.set_host(host).map_err(fail("host check"))?,
                    }
                }
                if let Some(slot) = slot {
                    let index = slot_index().map_err(|e| {
                        $crate::__api::Error::other(
                            format!("{name}: no ex_data index"),
                            ::std::io::Error::other(e),
                        )
                    })?;
                    ssl.set_ex_data(index, slot);
                }
                if let Some(der) = session {
                    $attach(&mut ssl, der)?;
                }
                $new_driver(ssl, $crate::context::Role::Client)
            }

            fn server(ctx: &Self::Context) -> $crate::__api::Result<Self::Driver> {
                let ssl = $k::ssl::Ssl::new(ctx).map_err(|e| {
                    let name = <Self as $crate::ContextDriver>::NAME;
                    $crate::__api::Error::other(format!("{name}: SSL_new"), e)
                })?;
                $new_driver(ssl, $crate::context::Role::Server)
            }
        }
    };
}

/// Inside an `impl SslDriver`, the calls that only read the connection:
/// pending bytes, version, ALPN, SNI, peer certificates, resumption, the
/// session. The driver has `fn ssl_ref(&self) -> Option<&SslRef>`; the
/// binding's error type has rust-openssl's `code`, `io_error` and
/// `ssl_error`.
#[macro_export]
macro_rules! rust_openssl_accessors {
    ($k:ident, $reasons:expr) => {
        fn library() -> &'static $crate::Library {
            &$reasons
        }

        fn failure(e: &Self::Error) -> $crate::Failure {
            use $k::ssl::ErrorCode;
            let code = e.code();
            $crate::Failure {
                code: if code == ErrorCode::WANT_READ || code == ErrorCode::WANT_WRITE {
                    $crate::Code::WouldBlock
                } else if code == ErrorCode::ZERO_RETURN {
                    $crate::Code::ZeroReturn
                } else if code == ErrorCode::SYSCALL {
                    $crate::Code::Syscall
                } else if code == ErrorCode::SSL {
                    $crate::Code::Ssl
                } else {
                    $crate::Code::Other
                },
                io_error: e.io_error().is_some(),
                reasons: e
                    .ssl_error()
                    .map(|s| {
                        s.errors()
                            .iter()
                            .map(|x| (x.library_code(), x.reason_code()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        }

        fn pending(&self) -> usize {
            self.ssl_ref().map_or(0, |s| s.pending())
        }

        fn version(&self) -> Option<$crate::__api::ProtocolVersion> {
            match self.ssl_ref()?.version2()? {
                v if v == $k::ssl::SslVersion::TLS1_3 => {
                    Some($crate::__api::ProtocolVersion::Tls13)
                }
                v if v == $k::ssl::SslVersion::TLS1_2 => {
                    Some($crate::__api::ProtocolVersion::Tls12)
                }
                _ => None,
            }
        }

        fn alpn(&self) -> Option<&[u8]> {
            self.ssl_ref()?.selected_alpn_protocol()
        }

        fn sni(&self) -> Option<String> {
            self.ssl_ref()?
                .servername($k::ssl::NameType::HOST_NAME)
                .map(str::to_owned)
        }

        fn peer_certificate(&self) -> Option<$crate::__api::CertificateDer<'static>> {
            let cert = self.ssl_ref()?.peer_certificate()?;
            cert.to_der().ok().map(Into::into)
        }

        fn peer_cert_chain(&self) -> Vec<$crate::__api::CertificateDer<'static>> {
            self.ssl_ref()
                .and_then(|s| s.peer_cert_chain())
                .map(|c| {
                    c.iter()
                        .filter_map(|x| x.to_der().ok())
                        .map(Into::into)
                        .collect()
                })
                .unwrap_or_default()
        }

        fn peer_not_after(&self, with_leaf: bool) -> Option<i64> {
            // The epoch, made once: making it formats a date.
            static EPOCH: ::std::sync::OnceLock<Option<$k::asn1::Asn1Time>> =
                ::std::sync::OnceLock::new();
            let epoch = EPOCH
                .get_or_init(|| $k::asn1::Asn1Time::from_unix(0).ok())
                .as_ref()?;
            let ssl = self.ssl_ref()?;
            let chain = ssl.peer_cert_chain().filter(|c| !c.is_empty());
            let leaf = if with_leaf || chain.is_none() {
                ssl.peer_certificate()
            } else {
                None
            };
            // ASN1_TIME_diff from the epoch: the library's own reading of
            // each date, with no DER written and none parsed again.
            let mut earliest: Option<i64> = None;
            for x in leaf
                .as_deref()
                .into_iter()
                .chain(chain.into_iter().flatten())
            {
                let d = epoch.diff(x.not_after()).ok()?;
                let t = i64::from(d.days) * 86_400 + i64::from(d.secs);
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
            }
            earliest
        }

        fn resumed(&self) -> bool {
            self.ssl_ref().is_some_and(|s| s.session_reused())
        }

        fn session_der(&self) -> Option<Vec<u8>> {
            self.ssl_ref()?.session()?.to_der().ok()
        }

        fn export_keying_material(
            &self,
            out: &mut [u8],
            label: &[u8],
            context: Option<&[u8]>,
        ) -> $crate::__api::Result<()> {
            let name = <Self as $crate::SslDriver>::library().name;
            let label = ::std::str::from_utf8(label).map_err(|_| {
                $crate::__api::Error::unsupported(
                    name,
                    $crate::__api::Capability::KeyingMaterialExport,
                    format!("the {name} binding takes exporter labels as UTF-8 text"),
                )
            })?;
            let ssl = self.ssl_ref().ok_or_else(|| {
                $crate::__api::Error::other(
                    format!("{name}: exporter"),
                    ::std::io::Error::other("the connection is not ready"),
                )
            })?;
            ssl.export_keying_material(out, label, context)
                .map_err(|e| $crate::__api::Error::other(format!("{name}: exporter failed"), e))
        }
    };
}

/// A driver over the binding's `SslStream` on polytls' in-memory transport:
/// the struct, how it starts, and its [`SslDriver`](crate::SslDriver)
/// implementation, from the shared accessors plus the items given (the
/// reads that differ: `cipher_suite`, `group`, and `read_early_data` where
/// the binding has it).
///
/// ```text
/// rust_openssl_stream_driver! {
///     binding: openssl,
///     /// docs of the driver type
///     driver: OpenSslDriver,
///     reasons: crate::error::LIBRARY,
///     items: { fn cipher_suite(..); fn group(..); },
/// }
/// ```
///
/// The driver's `start(Ssl, Role)` is the `new_driver` of
/// [`rust_openssl_binding!`](crate::rust_openssl_binding).
#[macro_export]
macro_rules! rust_openssl_stream_driver {
    (
        binding: $k:ident,
        $(#[$meta:meta])*
        driver: $driver:ident,
        reasons: $reasons:expr,
        items: { $($items:tt)* } $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $driver {
            stream: $k::ssl::SslStream<$crate::__api::memio::MemIo>,
        }

        impl $driver {
            /// The `SSL` underneath (outside the portable guarantee).
            pub fn ssl(&self) -> &$k::ssl::SslRef {
                self.stream.ssl()
            }

            fn ssl_ref(&self) -> Option<&$k::ssl::SslRef> {
                Some(self.stream.ssl())
            }

            /// A connection on `ssl`, in the state of `role`.
            pub(crate) fn start(
                mut ssl: $k::ssl::Ssl,
                role: $crate::context::Role,
            ) -> $crate::__api::Result<Self> {
                match role {
                    $crate::context::Role::Client => ssl.set_connect_state(),
                    $crate::context::Role::Server => ssl.set_accept_state(),
                }
                let stream = $k::ssl::SslStream::new(ssl, $crate::__api::memio::MemIo::new())
                    .map_err(|e| {
                        let name = <Self as $crate::SslDriver>::library().name;
                        $crate::__api::Error::other(format!("{name}: cannot create a session"), e)
                    })?;
                Ok(Self { stream })
            }
        }

        impl $crate::SslDriver for $driver {
            type Error = $k::ssl::Error;

            $crate::rust_openssl_accessors!($k, $reasons);

            fn io(&self) -> &$crate::__api::memio::MemIo {
                self.stream.get_ref()
            }

            fn io_mut(&mut self) -> &mut $crate::__api::memio::MemIo {
                self.stream.get_mut()
            }

            fn handshake(&mut self) -> ::std::result::Result<(), Self::Error> {
                self.stream.do_handshake()
            }

            fn read(&mut self, buf: &mut [u8]) -> ::std::result::Result<Option<usize>, Self::Error> {
                use $k::ssl::ErrorCode;
                match self.stream.ssl_read(buf) {
                    Ok(n) => Ok(Some(n)),
                    Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => Ok(None),
                    Err(e) => Err(e),
                }
            }

            fn peek(&mut self, buf: &mut [u8]) -> Option<::std::result::Result<usize, Self::Error>> {
                Some(self.stream.ssl_peek(buf))
            }

            fn write(&mut self, data: &[u8]) -> ::std::result::Result<usize, Self::Error> {
                self.stream.ssl_write(data)
            }

            fn shutdown(&mut self) {
                // Queues close_notify in memory; the result only says whether
                // the peer's close_notify has arrived too.
                let _ = self.stream.shutdown();
            }

            fn verify_result(&self) -> i32 {
                self.stream.ssl().verify_result().as_raw()
            }

            $($items)*
        }
    };
}

/// Inside the `context: { ... }` of
/// [`rust_openssl_binding!`](crate::rust_openssl_binding), for a library
/// reached through the `openssl` crate (OpenSSL, AWS-LC): the context calls
/// that crate spells the same way over either library (the `boring` crate
/// types them differently): `set_groups`, `set_crl_flags` and
/// `set_server_cache`.
#[macro_export]
macro_rules! openssl_crate_context_items {
    () => {
        fn set_groups(
            b: &mut openssl::ssl::SslContextBuilder,
            list: &str,
        ) -> ::std::result::Result<(), String> {
            b.set_groups_list(list).map_err(|e| e.to_string())
        }

        fn set_crl_flags(
            b: &mut openssl::ssl::SslContextBuilder,
            flags: $crate::crl::CrlFlags,
        ) -> ::std::result::Result<(), String> {
            b.cert_store_mut()
                .set_flags(crl_flags(flags))
                .map_err(|e| e.to_string())
        }

        fn set_server_cache(b: &mut openssl::ssl::SslContextBuilder, size: usize) {
            b.set_session_cache_mode(openssl::ssl::SslSessionCacheMode::SERVER);
            b.set_session_cache_size(i32::try_from(size).unwrap_or(i32::MAX));
        }
    };
}
