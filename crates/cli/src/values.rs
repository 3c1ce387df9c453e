//! Numbers from flags and TOML keys, parsed once into their final types with
//! their ranges checked: a bad value is a clear error naming the allowed
//! range (clap and the TOML parser add the flag or key), never a panic later.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A duration given in seconds (`2.5` is 2.5 s), between `MIN_MS`
/// milliseconds and `MAX_S` seconds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds<const MIN_MS: u64, const MAX_S: u64>(Duration);

impl<const MIN_MS: u64, const MAX_S: u64> Seconds<MIN_MS, MAX_S> {
    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }

    /// `secs` whole seconds, for defaults: use it in a `const` item, where
    /// an out-of-range value fails the build.
    pub const fn whole(secs: u64) -> Self {
        assert!(secs * 1000 >= MIN_MS && secs <= MAX_S, "out of range");
        Self(Duration::from_secs(secs))
    }

    /// Checks `secs` against the range.
    pub fn new(secs: f64) -> Result<Self, String> {
        let range = || {
            format!(
                "must be a number of seconds from {} to {MAX_S}",
                MIN_MS as f64 / 1000.0
            )
        };
        if !secs.is_finite() || secs < MIN_MS as f64 / 1000.0 || secs > MAX_S as f64 {
            return Err(format!("{secs} is out of range: {}", range()));
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

impl<const MIN_MS: u64, const MAX_S: u64> FromStr for Seconds<MIN_MS, MAX_S> {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a number of seconds"))?;
        Self::new(v)
    }
}

impl<const MIN_MS: u64, const MAX_S: u64> fmt::Display for Seconds<MIN_MS, MAX_S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// Accepts TOML integers and floats alike.
struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
}

impl<'de, const MIN_MS: u64, const MAX_S: u64> Deserialize<'de> for Seconds<MIN_MS, MAX_S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(NumberVisitor)?;
        Self::new(v).map_err(de::Error::custom)
    }
}

/// A whole number from `MIN` to `MAX` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Count<MIN, MAX> {
    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// `v`, for defaults: use it in a `const` item, where an out-of-range
    /// value fails the build.
    pub const fn of(v: u64) -> Self {
        assert!(v >= MIN && v <= MAX, "out of range");
        Self(v)
    }

    /// The number as a `usize` (every range here fits).
    pub fn usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    fn check(v: u64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "{v} is out of range: must be a whole number from {MIN} to {MAX}"
            ))
        }
    }
}

impl<const MIN: u64, const MAX: u64> FromStr for Count<MIN, MAX> {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let v: u64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number from {MIN} to {MAX}"))?;
        Self::check(v)
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Count<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(NumberVisitor)?;
        if v.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&v) {
            return Err(de::Error::custom(format!(
                "{v} is not a whole number from {MIN} to {MAX}"
            )));
        }
        Self::check(v as u64).map_err(de::Error::custom)
    }
}

/// How often to check files for changes: `0` turns checking off (reload on
/// SIGHUP only); otherwise from 0.1 s to a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(Option<Duration>);

impl Interval {
    /// Every `secs` whole seconds (for defaults; 1 to 86400).
    pub const fn every(secs: u64) -> Self {
        assert!(secs >= 1 && secs <= 86_400, "out of range");
        Self(Some(Duration::from_secs(secs)))
    }

    /// The period, or `None` when off.
    pub fn get(self) -> Option<Duration> {
        self.0
    }

    fn new(secs: f64) -> Result<Self, String> {
        if secs == 0.0 {
            return Ok(Self(None));
        }
        Seconds::<100, 86_400>::new(secs)
            .map(|s| Self(Some(s.get())))
            .map_err(|e| format!("{e} (or 0 for never)"))
    }
}

impl FromStr for Interval {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a number of seconds"))?;
        Self::new(v)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(d.deserialize_any(NumberVisitor)?).map_err(de::Error::custom)
    }
}

/// A handshake (or connect) timeout: 1 ms to a day.
pub type HandshakeTimeout = Seconds<1, 86_400>;
/// An idle timeout: 1 ms to a week.
pub type IdleTimeout = Seconds<1, 604_800>;
/// A drain deadline after SIGTERM: 0 to a day.
pub type DrainTimeout = Seconds<0, 86_400>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_ranges() {
        assert_eq!(
            "2.5".parse::<HandshakeTimeout>().map(|s| s.get()),
            Ok(Duration::from_millis(2500))
        );
        for bad in [
            "0",
            "-1",
            "NaN",
            "inf",
            "1e20",
            "18446744073709551615",
            "x",
            "",
        ] {
            assert!(bad.parse::<HandshakeTimeout>().is_err(), "{bad}");
        }
        assert!("0".parse::<DrainTimeout>().is_ok());
        assert!("1e-12"
            .parse::<DrainTimeout>()
            .is_ok_and(|d| d.get() == Duration::ZERO));
    }

    #[test]
    fn counts_and_intervals() {
        type Conns = Count<1, 1_000_000>;
        assert_eq!("1024".parse::<Conns>().map(Count::get), Ok(1024));
        for bad in ["0", "-1", "NaN", "1e20", "18446744073709551615", "1.5"] {
            assert!(bad.parse::<Conns>().is_err(), "{bad}");
        }
        assert_eq!("0".parse::<Interval>().map(Interval::get), Ok(None));
        for bad in ["1e-12", "0.01", "-1", "NaN", "1e20"] {
            assert!(bad.parse::<Interval>().is_err(), "{bad}");
        }
    }

    #[test]
    fn toml_numbers() {
        #[derive(Deserialize)]
        struct T {
            a: HandshakeTimeout,
            b: Count<1, 10>,
        }
        let ok: T = toml::from_str("a = 3\nb = 2").expect("integers");
        assert_eq!((ok.a.get(), ok.b.get()), (Duration::from_secs(3), 2));
        for bad in [
            "a = 1e20\nb = 2",
            "a = nan\nb = 2",
            "a = -1\nb = 2",
            "a = 1\nb = 2.5",
            "a = 1\nb = 9223372036854775807",
            "a = 1\nb = -3",
        ] {
            assert!(toml::from_str::<T>(bad).is_err(), "{bad}");
        }
    }
}
