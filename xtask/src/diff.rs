//! `cargo xtask compare --diff A.json B.json`: how far the figures of the
//! same rows moved between two runs (two machines, two versions, or the same
//! run twice to see the noise).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::report::SCHEMA_VERSION;

/// A row's identity: kind, case, backend, side.
type Key = (String, String, String, String);

/// One run's figures per row: polytls median, direct median, polytls
/// instructions.
type Figures = (Option<f64>, Option<f64>, Option<f64>);

fn load(path: &str) -> Result<(Value, BTreeMap<Key, Figures>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{path}: not a results.json: {e}"))?;
    // The first layout had no version; its rows read the same.
    let version = v["schema_version"].as_u64().unwrap_or(1);
    if version > SCHEMA_VERSION {
        return Err(format!(
            "{path}: schema version {version} is newer than this xtask reads ({SCHEMA_VERSION})"
        ));
    }
    let rows = v["rows"]
        .as_array()
        .ok_or_else(|| format!("{path}: no \"rows\" array"))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        out.insert(
            (s("kind"), s("case"), s("backend"), s("side")),
            (
                r["polytls_median_ns"].as_f64(),
                r["direct_median_ns"].as_f64(),
                r["polytls_instructions"].as_f64(),
            ),
        );
    }
    Ok((v, out))
}

/// Percent change from `a` to `b`.
fn change(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    let (a, b) = (a?, b?);
    (a > 0.0).then(|| (b / a - 1.0) * 100.0)
}

fn describe(v: &Value) -> String {
    let run = &v["run"];
    if run.is_null() {
        return "schema 1 (no run description)".into();
    }
    format!(
        "{} run, commit {}, {} cores ({}), {} s",
        run["mode"].as_str().unwrap_or("?"),
        run["commit"].as_str().unwrap_or("?"),
        run["machine"]["cores"],
        run["machine"]["cpu"].as_str().unwrap_or("?"),
        run["run_seconds"]
    )
}

/// The median and the largest of absolute changes, and how many exceed 5 %.
fn spread(changes: &[f64]) -> Option<(f64, f64, usize)> {
    let mut abs: Vec<f64> = changes.iter().map(|c| c.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let median = *abs.get(abs.len() / 2)?;
    let max = *abs.last()?;
    Some((median, max, abs.iter().filter(|c| **c > 5.0).count()))
}

/// Compares two `results.json` files and prints the moved rows and the
/// spread, or the reason it cannot.
pub(crate) fn run(a: &str, b: &str) -> Result<(), String> {
    let (va, ra) = load(a)?;
    let (vb, rb) = load(b)?;
    println!("A: {a}: {}\nB: {b}: {}\n", describe(&va), describe(&vb));
    println!(
        "{:<16} {:<26} {:<9} {:<8} {:>10} {:>10} {:>10}",
        "kind", "case", "side", "backend", "polytls", "direct", "instr"
    );
    let (mut p_all, mut d_all, mut i_all) = (Vec::new(), Vec::new(), Vec::new());
    let fmt = |c: Option<f64>| c.map_or("-".to_owned(), |c| format!("{c:+.1}%"));
    for (key, fa) in &ra {
        let Some(fb) = rb.get(key) else { continue };
        let (p, d, i) = (change(fa.0, fb.0), change(fa.1, fb.1), change(fa.2, fb.2));
        p_all.extend(p);
        d_all.extend(d);
        i_all.extend(i);
        println!(
            "{:<16} {:<26} {:<9} {:<8} {:>10} {:>10} {:>10}",
            key.0,
            key.1,
            key.3,
            key.2,
            fmt(p),
            fmt(d),
            fmt(i)
        );
    }
    let only_a: Vec<_> = ra.keys().filter(|k| !rb.contains_key(*k)).collect();
    let only_b: Vec<_> = rb.keys().filter(|k| !ra.contains_key(*k)).collect();
    println!(
        "\n{} rows in both; {} only in A; {} only in B",
        p_all.len(),
        only_a.len(),
        only_b.len()
    );
    for (what, c) in [
        ("polytls medians", &p_all),
        ("direct medians", &d_all),
        ("instruction counts", &i_all),
    ] {
        match spread(c) {
            Some((median, max, over)) => println!(
                "{what:<19} moved by {median:.1}% (median of |change|), at most {max:.1}%; {over} of {} rows by more than 5%",
                c.len()
            ),
            None => println!("{what:<19} not in both runs"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_absolute_changes() {
        assert_eq!(spread(&[-10.0, 1.0, 2.0]), Some((2.0, 10.0, 1)));
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn change_needs_both_figures() {
        assert_eq!(change(Some(100.0), Some(110.0)).map(f64::round), Some(10.0));
        assert_eq!(change(None, Some(1.0)), None);
        assert_eq!(change(Some(0.0), Some(1.0)), None);
    }

    #[test]
    fn reads_both_schema_versions_and_refuses_newer() {
        let dir = std::env::temp_dir().join(format!("polytls-diff-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let write = |name: &str, text: String| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write");
            p.to_string_lossy().into_owned()
        };
        let row = r#"{"kind":"handshake","case":"c","backend":"rustls","side":"client","polytls_median_ns":10.0,"direct_median_ns":9.0,"polytls_instructions":null}"#;
        let v1 = write("v1.json", format!(r#"{{"rows":[{row}]}}"#));
        assert_eq!(load(&v1).map(|(_, rows)| rows.len()), Ok(1));
        let v9 = write(
            "v9.json",
            format!(r#"{{"schema_version":9,"rows":[{row}]}}"#),
        );
        assert!(load(&v9).is_err_and(|e| e.contains("newer")));
        let bad = write("bad.json", "not json".into());
        assert!(load(&bad).is_err_and(|e| e.contains("not a results.json")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
