//! Who may connect, beyond "signed by the CA": allow rules on the client
//! certificate's subject (CN, OU) and subject alternative names (DNS, URI —
//! exact, or a URI prefix for a SPIFFE trust domain), per tunnel and per SNI
//! route.
//!
//! A client passes when its verified leaf matches any one entry of the
//! rules that apply: a route's own rules when it has some, else the
//! tunnel's. A tunnel with no rules lets in every client the CA (and CRLs,
//! and pins) let in. Rules need `client_auth = "required"`. Matching is
//! exact and case-sensitive, except DNS names (ASCII case-insensitive). A
//! URI prefix must name a scheme and a non-empty authority and end in `/`,
//! so `spiffe://example.org/` cannot match `spiffe://example.org.evil/...`
//! (and `spiffe://` or `/`, which would match everyone, are refused). A
//! certificate whose subject has more than one CN never matches a `cn`
//! rule: which one would the rule be about?

use serde::Deserialize;
use x509_parser::extensions::GeneralName;

/// Allow rules (in TOML, a `[tunnel.allow]` table, or `allow = {...}` in a
/// `[[tunnel.route]]`).
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowRules {
    /// Server mode: let in clients whose certificate subject has this common
    /// name (repeatable; any allow rule matching lets a client in).
    #[arg(long = "allow-cn")]
    #[serde(default)]
    pub cn: Vec<String>,
    /// Server mode: ... whose subject has this organizational unit.
    #[arg(long = "allow-ou")]
    #[serde(default)]
    pub ou: Vec<String>,
    /// Server mode: ... with this DNS subject alternative name.
    #[arg(long = "allow-dns")]
    #[serde(default)]
    pub dns: Vec<String>,
    /// Server mode: ... with this URI subject alternative name (a SPIFFE ID,
    /// say).
    #[arg(long = "allow-uri")]
    #[serde(default)]
    pub uri: Vec<String>,
    /// Server mode: ... with a URI subject alternative name under this
    /// prefix, which must end in `/` (a SPIFFE trust domain:
    /// `spiffe://example.org/`).
    #[arg(long = "allow-uri-prefix")]
    #[serde(default)]
    pub uri_prefix: Vec<String>,
}

/// What a client certificate says about who it is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Names {
    /// Subject common names.
    pub cn: Vec<String>,
    /// Subject organizational units.
    pub ou: Vec<String>,
    /// DNS subject alternative names.
    pub dns: Vec<String>,
    /// URI subject alternative names.
    pub uri: Vec<String>,
}

impl Names {
    /// The names of a DER certificate (empty if it does not parse; it was
    /// verified by the TLS library already).
    pub fn of(der: &[u8]) -> Self {
        let mut n = Names::default();
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            return n;
        };
        let text =
            |a: &x509_parser::x509::AttributeTypeAndValue<'_>| a.as_str().ok().map(str::to_owned);
        n.cn = cert.subject().iter_common_name().filter_map(text).collect();
        n.ou = cert
            .subject()
            .iter_organizational_unit()
            .filter_map(text)
            .collect();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for g in &san.value.general_names {
                match g {
                    GeneralName::DNSName(d) => n.dns.push((*d).to_owned()),
                    GeneralName::URI(u) => n.uri.push((*u).to_owned()),
                    _ => {}
                }
            }
        }
        n
    }
}

impl std::fmt::Display for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CN={:?} OU={:?} DNS={:?} URI={:?}",
            self.cn, self.ou, self.dns, self.uri
        )
    }
}

impl AllowRules {
    /// Whether no rule is set (everyone the CA lets in passes).
    pub fn is_empty(&self) -> bool {
        self.cn.is_empty()
            && self.ou.is_empty()
            && self.dns.is_empty()
            && self.uri.is_empty()
            && self.uri_prefix.is_empty()
    }

    /// Checks the rules themselves.
    pub fn check(&self) -> Result<(), String> {
        let all = self
            .cn
            .iter()
            .chain(&self.ou)
            .chain(&self.dns)
            .chain(&self.uri)
            .chain(&self.uri_prefix);
        if all.clone().any(|v| v.is_empty()) {
            return Err("an allow rule is empty".into());
        }
        if let Some(p) = self.uri_prefix.iter().find(|p| !p.ends_with('/')) {
            return Err(format!(
                "allow uri_prefix {p:?} must end in '/' (or it would also match \
                 {p}.other/...)"
            ));
        }
        for p in &self.uri_prefix {
            let authority = p.split_once("://").and_then(|(scheme, rest)| {
                let scheme_ok = scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
                scheme_ok.then(|| rest.split('/').next().unwrap_or_default())
            });
            if authority.is_none_or(str::is_empty) {
                return Err(format!(
                    "allow uri_prefix {p:?} must name a scheme and an authority, as in \
                     spiffe://example.org/ (a bare scheme or path would match everyone)"
                ));
            }
        }
        Ok(())
    }

    /// Why `names` matches no rule, beyond "none of them": the one trap
    /// the rules hold (several CNs).
    pub fn why_not(&self, names: &Names) -> Option<&'static str> {
        (!self.cn.is_empty() && names.cn.len() > 1)
            .then_some("a certificate with more than one subject CN never matches a cn rule")
    }

    /// The rule `names` matches, if any (for the log).
    pub fn matching(&self, names: &Names) -> Option<String> {
        let hit = |rules: &[String], values: &[String], kind: &str| {
            rules
                .iter()
                .find(|r| values.contains(r))
                .map(|r| format!("{kind}={r}"))
        };
        // Several CNs: no cn rule applies (see the module docs).
        let cn: &[String] = if names.cn.len() == 1 { &names.cn } else { &[] };
        hit(&self.cn, cn, "cn")
            .or_else(|| hit(&self.ou, &names.ou, "ou"))
            .or_else(|| {
                self.dns
                    .iter()
                    .find(|r| names.dns.iter().any(|d| d.eq_ignore_ascii_case(r)))
                    .map(|r| format!("dns={r}"))
            })
            .or_else(|| hit(&self.uri, &names.uri, "uri"))
            .or_else(|| {
                self.uri_prefix
                    .iter()
                    .find(|p| names.uri.iter().any(|u| u.starts_with(p.as_str())))
                    .map(|p| format!("uri_prefix={p}"))
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            cn: vec!["alice".into()],
            ou: vec!["ops".into()],
            dns: vec!["Alice.Example".into()],
            uri: vec!["spiffe://example.org/db/client".into()],
        }
    }

    #[test]
    fn any_rule_matches_and_says_which() {
        let n = names();
        let rules = |f: fn(&mut AllowRules)| {
            let mut r = AllowRules::default();
            f(&mut r);
            r.matching(&n)
        };
        assert_eq!(
            rules(|r| r.cn = vec!["alice".into()]),
            Some("cn=alice".into())
        );
        assert_eq!(rules(|r| r.cn = vec!["Alice".into()]), None, "CN is exact");
        assert_eq!(rules(|r| r.ou = vec!["ops".into()]), Some("ou=ops".into()));
        assert_eq!(
            rules(|r| r.dns = vec!["alice.example".into()]),
            Some("dns=alice.example".into())
        );
        assert_eq!(
            rules(|r| r.uri = vec!["spiffe://example.org/db/client".into()]),
            Some("uri=spiffe://example.org/db/client".into())
        );
        assert_eq!(
            rules(|r| r.uri_prefix = vec!["spiffe://example.org/".into()]),
            Some("uri_prefix=spiffe://example.org/".into())
        );
        assert_eq!(
            rules(|r| r.uri_prefix = vec!["spiffe://other.org/".into()]),
            None
        );
        assert_eq!(rules(|r| r.cn = vec!["bob".into()]), None);
    }

    #[test]
    fn prefixes_end_in_a_slash_and_rules_are_not_empty() {
        let mut r = AllowRules {
            uri_prefix: vec!["spiffe://example.org".into()],
            ..AllowRules::default()
        };
        assert!(r.check().unwrap_err().contains("must end in '/'"));
        r.uri_prefix = vec!["spiffe://example.org/".into()];
        assert!(r.check().is_ok());
        for everyone in ["spiffe://", "/", "spiffe:///", "://x/", "1a://x/"] {
            r.uri_prefix = vec![everyone.into()];
            assert!(
                r.check().unwrap_err().contains("scheme and an authority"),
                "{everyone}"
            );
        }
        r.uri_prefix = vec![];
        r.cn = vec![String::new()];
        assert!(r.check().is_err());
    }

    #[test]
    fn several_cns_never_match_a_cn_rule() {
        let n = Names {
            cn: vec!["alice".into(), "admin".into()],
            ..Names::default()
        };
        let r = AllowRules {
            cn: vec!["admin".into()],
            ..AllowRules::default()
        };
        assert_eq!(r.matching(&n), None);
        assert!(r.why_not(&n).unwrap().contains("more than one subject CN"));
        let one = Names {
            cn: vec!["admin".into()],
            ..Names::default()
        };
        assert_eq!(r.matching(&one), Some("cn=admin".into()));
        assert_eq!(r.why_not(&one), None);
    }
}
