//! `polytls certs`: an in-process development PKI, like mkcert.
//!
//! The first run in a directory creates a CA (`ca.pem`, `ca-key.pem`); later
//! runs reuse it, so server and client certificates issued at different times
//! chain to the same root. Keys are written with mode 0600, certificates 0644,
//! each through a temporary file and a rename so a reader never sees half a
//! file. Nothing here needs the `openssl` binary.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, RsaKeySize,
};
use time::{Duration, OffsetDateTime};

use crate::error::{CliError, Context, Result};
use crate::values::Count;

/// The key algorithm of generated certificates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum KeyAlg {
    /// ECDSA P-256 with SHA-256 (default): small and fast.
    #[default]
    Ecdsa,
    /// RSA-2048 with SHA-256, for old peers.
    Rsa,
}

/// What `polytls certs` should issue.
#[derive(clap::Args, Debug, Clone)]
pub struct CertsArgs {
    /// Directory for the PEM files (created 0700 if missing).
    #[arg(long, default_value = "polytls-certs")]
    pub dir: PathBuf,
    /// Issue a server certificate for these DNS names and IP addresses
    /// (comma-separated), written to `<server-file>.pem` and `<server-file>-key.pem`.
    #[arg(long, value_delimiter = ',')]
    pub server: Vec<String>,
    /// File stem of the server certificate.
    #[arg(long, default_value = "server")]
    pub server_file: String,
    /// Issue a client certificate with this common name, written to
    /// `<name>.pem` and `<name>-key.pem`; may be repeated.
    #[arg(long)]
    pub client: Vec<String>,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = KeyAlg::Ecdsa)]
    pub key: KeyAlg,
    /// Validity of issued certificates, in days (1 to 36500).
    #[arg(long, default_value = "825")]
    pub days: Count<1, 36_500>,
    /// Overwrite existing leaf files (the CA is always reused if present).
    #[arg(long)]
    pub force: bool,
    /// Revoke the certificate `<name>.pem` of this directory (issued by its
    /// CA): its serial number joins the CA's CRL, `crl.pem`, which is then
    /// rewritten; may be repeated. Servers load it with `--crl crl.pem`.
    #[arg(long)]
    pub revoke: Vec<String>,
    /// Rewrite `crl.pem` (with the revocations so far) even if nothing new
    /// is revoked: a fresh `nextUpdate` before the old one passes.
    #[arg(long)]
    pub crl: bool,
    /// Validity of the CRL, in days (1 to 3650): servers refuse the
    /// certificates it covers once it is older.
    #[arg(long, default_value = "30")]
    pub crl_days: Count<1, 3650>,
}

/// Files written by one run.
#[derive(Debug, Default)]
pub struct Issued {
    /// Whether a new CA was created (else the existing one was reused).
    pub new_ca: bool,
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
}

/// Runs `polytls certs`.
pub fn run(args: &CertsArgs) -> Result<Issued> {
    let names = |stem: &str| {
        (
            args.dir.join(format!("{stem}.pem")),
            args.dir.join(format!("{stem}-key.pem")),
        )
    };
    for stem in args
        .client
        .iter()
        .chain(&args.revoke)
        .chain(std::iter::once(&args.server_file))
    {
        if stem.is_empty() || stem.contains('/') || stem == "ca" {
            return Err(CliError::Config(format!(
                "{stem:?} cannot name a certificate file"
            )));
        }
    }
    let mut out = Issued::default();
    if !args.dir.exists() {
        fs::create_dir_all(&args.dir).context(format!("creating {}", args.dir.display()))?;
        fs::set_permissions(&args.dir, fs::Permissions::from_mode(0o700))
            .context(format!("securing {}", args.dir.display()))?;
    }
    let (ca_cert, ca_key) = names("ca");
    let issuer = if ca_cert.exists() && ca_key.exists() {
        let pem = fs::read_to_string(&ca_cert).context(format!("reading {}", ca_cert.display()))?;
        let key_pem =
            fs::read_to_string(&ca_key).context(format!("reading {}", ca_key.display()))?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| CliError::Config(format!("{}: {e}", ca_key.display())))?;
        Issuer::from_ca_cert_pem(&pem, key)
            .map_err(|e| CliError::Config(format!("{}: {e}", ca_cert.display())))?
    } else {
        let key = generate(args.key)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(&format!("polytls development CA ({})", user()));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut params, 3650);
        let cert = params.self_signed(&key).map_err(rcgen_err)?;
        write_file(&ca_key, key.serialize_pem().as_bytes(), 0o600, true)?;
        write_file(&ca_cert, cert.pem().as_bytes(), 0o644, true)?;
        out.new_ca = true;
        out.files.extend([ca_cert.clone(), ca_key.clone()]);
        Issuer::new(params, key)
    };

    if !args.server.is_empty() {
        let mut params = CertificateParams::new(args.server.clone())
            .map_err(|e| CliError::Config(format!("--server: {e}")))?;
        params.distinguished_name = dn(&args.server[0]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let (cert, key) = names(&args.server_file);
        issue(args, params, &issuer, &cert, &key)?;
        out.files.extend([cert, key]);
    }
    for name in &args.client {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let (cert, key) = names(name);
        issue(args, params, &issuer, &cert, &key)?;
        out.files.extend([cert, key]);
    }
    if args.crl || !args.revoke.is_empty() {
        let crl = args.dir.join("crl.pem");
        write_crl(args, &issuer, &crl)?;
        out.files.push(crl);
    }
    Ok(out)
}

/// Writes the CA's CRL: the serials already in `crl.pem` plus those of the
/// certificates named by `--revoke`.
fn write_crl(args: &CertsArgs, issuer: &Issuer<'_, KeyPair>, path: &Path) -> Result<()> {
    use x509_parser::pem::parse_x509_pem;
    let now = OffsetDateTime::now_utc();
    // (serial, revocation time), the earlier revocations kept as they were.
    let mut serials: Vec<(Vec<u8>, OffsetDateTime)> = Vec::new();
    if path.exists() {
        let pem = fs::read(path).context(format!("reading {}", path.display()))?;
        let bad = |e: String| CliError::Config(format!("{}: {e}", path.display()));
        let (_, block) = parse_x509_pem(&pem).map_err(|e| bad(e.to_string()))?;
        let (_, crl) =
            x509_parser::parse_x509_crl(&block.contents).map_err(|e| bad(e.to_string()))?;
        serials.extend(
            crl.iter_revoked_certificates()
                .map(|r| (r.raw_serial().to_vec(), r.revocation_date.to_datetime())),
        );
    }
    for name in &args.revoke {
        let cert_path = args.dir.join(format!("{name}.pem"));
        let pem = fs::read(&cert_path).context(format!("reading {}", cert_path.display()))?;
        let bad = |e: String| CliError::Config(format!("{}: {e}", cert_path.display()));
        let (_, block) = parse_x509_pem(&pem).map_err(|e| bad(e.to_string()))?;
        let cert = block.parse_x509().map_err(|e| bad(e.to_string()))?;
        let serial = cert.raw_serial().to_vec();
        if !serials.iter().any(|(s, _)| *s == serial) {
            serials.push((serial, now));
        }
    }
    let days = i64::try_from(args.crl_days.get()).unwrap_or(3650);
    let params = rcgen::CertificateRevocationListParams {
        this_update: now - Duration::minutes(5),
        next_update: now + Duration::days(days),
        // Increases with each rewrite.
        crl_number: rcgen::SerialNumber::from(u64::try_from(now.unix_timestamp()).unwrap_or(1)),
        issuing_distribution_point: None,
        revoked_certs: serials
            .into_iter()
            .map(|(serial, revoked_at)| rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from(serial),
                revocation_time: revoked_at,
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(issuer).map_err(rcgen_err)?;
    let pem = crl.pem().map_err(rcgen_err)?;
    write_file(path, pem.as_bytes(), 0o644, true)
}

fn issue(
    args: &CertsArgs,
    mut params: CertificateParams,
    issuer: &Issuer<'_, KeyPair>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<()> {
    if !args.force && (cert_path.exists() || key_path.exists()) {
        return Err(CliError::Config(format!(
            "{} exists; pass --force to replace it",
            cert_path.display()
        )));
    }
    let key = generate(args.key)?;
    params.key_usages = match args.key {
        KeyAlg::Ecdsa => vec![KeyUsagePurpose::DigitalSignature],
        KeyAlg::Rsa => vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
    };
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, args.days.get());
    let cert = params.signed_by(&key, issuer).map_err(rcgen_err)?;
    write_file(key_path, key.serialize_pem().as_bytes(), 0o600, args.force)?;
    write_file(cert_path, cert.pem().as_bytes(), 0o644, args.force)?;
    Ok(())
}

fn generate(alg: KeyAlg) -> Result<KeyPair> {
    match alg {
        KeyAlg::Ecdsa => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlg::Rsa => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048),
    }
    .map_err(rcgen_err)
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "polytls development");
    dn
}

fn validity(params: &mut CertificateParams, days: u64) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    // At most 36,500 days (checked when parsed): no overflow.
    params.not_after = now + Duration::days(i64::try_from(days).unwrap_or(36_500));
}

fn user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "user".into())
}

fn rcgen_err(e: rcgen::Error) -> CliError {
    CliError::Config(format!("certificate generation failed: {e}"))
}

/// Writes `data` to `path` with `mode`, through a temporary file in the same
/// directory and a rename. Without `replace` an existing file is an error.
fn write_file(path: &Path, data: &[u8], mode: u32, replace: bool) -> Result<()> {
    if !replace && path.exists() {
        return Err(CliError::Config(format!("{} exists", path.display())));
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .context(format!("creating {}", tmp.display()))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .context(format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).context(format!("renaming to {}", path.display()))?;
    Ok(())
}
