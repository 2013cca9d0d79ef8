//! Coverage intervals from a sample of bootstrap estimates.
//!
//! *Shortest*: the shortest interval between two sample values that holds
//! ⌈level·n⌉ of the n values (MixedModels.jl's `shortestcovint`; the
//! first such interval when several are equally short). *Percentile*: the
//! (1 − level)/2 and (1 + level)/2 sample quantiles, interpolated linearly
//! between order statistics (R's quantile type 7, numpy's default).
//! Values that are not finite (failed fits, undefined correlations) are
//! left out; with none left both ends are NaN.

use crate::error::{Error, Result};

/// How a coverage interval is formed from the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalMethod {
    /// The shortest interval holding the level's share of the values.
    Shortest,
    /// Equal-tailed sample quantiles.
    Percentile,
}

impl IntervalMethod {
    /// The method of a name (`shortest`, `percentile`).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "shortest" => Ok(IntervalMethod::Shortest),
            "percentile" => Ok(IntervalMethod::Percentile),
            other => Err(Error::argument(
                "method",
                format!("the interval method must be 'shortest' or 'percentile', got {other:?}"),
            )),
        }
    }

    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            IntervalMethod::Shortest => "shortest",
            IntervalMethod::Percentile => "percentile",
        }
    }
}

/// The coverage interval at `level` (0 < level < 1) of the finite `values`.
pub fn coverage_interval(values: &[f64], level: f64, method: IntervalMethod) -> Result<(f64, f64)> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::argument(
            "level",
            format!("the coverage level must be between 0 and 1 (exclusive), got {level}"),
        ));
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Ok((f64::NAN, f64::NAN));
    }
    v.sort_by(f64::total_cmp);
    Ok(match method {
        IntervalMethod::Shortest => shortest(&v, level),
        IntervalMethod::Percentile => (
            quantile(&v, (1.0 - level) / 2.0),
            quantile(&v, (1.0 + level) / 2.0),
        ),
    })
}

/// The shortest window of ⌈level·n⌉ consecutive sorted values.
fn shortest(sorted: &[f64], level: f64) -> (f64, f64) {
    let n = sorted.len();
    let k = ((level * n as f64).ceil() as usize).clamp(1, n);
    let mut best = 0;
    for i in 1..=n - k {
        if sorted[i + k - 1] - sorted[i] < sorted[best + k - 1] - sorted[best] {
            best = i;
        }
    }
    (sorted[best], sorted[best + k - 1])
}

/// The sample quantile at p of sorted values (type 7).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_window_holds_the_level_share() {
        // 10 values, level 0.5: windows of 5; the tightest is 3..=7 (width 0.4).
        let v = [0.0, 1.0, 2.0, 3.0, 3.1, 3.2, 3.3, 3.4, 8.0, 9.0];
        let (lo, hi) = coverage_interval(&v, 0.5, IntervalMethod::Shortest).unwrap();
        assert_eq!((lo, hi), (3.0, 3.4));
        // Order does not matter; non-finite values are left out.
        let mut w = v.to_vec();
        w.reverse();
        w.push(f64::NAN);
        let r = coverage_interval(&w, 0.5, IntervalMethod::Shortest).unwrap();
        assert_eq!(r, (3.0, 3.4));
        // Ties: the first window.
        let (lo, hi) = coverage_interval(&[1.0, 2.0, 3.0], 0.5, IntervalMethod::Shortest).unwrap();
        assert_eq!((lo, hi), (1.0, 2.0));
    }

    #[test]
    fn percentile_matches_type_7_quantiles() {
        // numpy.quantile(range(11), [0.025, 0.975]) = [0.25, 9.75].
        let v: Vec<f64> = (0..=10).map(f64::from).collect();
        let (lo, hi) = coverage_interval(&v, 0.95, IntervalMethod::Percentile).unwrap();
        assert!((lo - 0.25).abs() < 1e-12 && (hi - 9.75).abs() < 1e-12);
        let r = coverage_interval(&[5.0], 0.9, IntervalMethod::Percentile).unwrap();
        assert_eq!(r, (5.0, 5.0));
    }

    #[test]
    fn bad_level_or_method_is_refused_and_empty_samples_give_nan() {
        for level in [0.0, 1.0, -0.5, f64::NAN] {
            let e = coverage_interval(&[1.0], level, IntervalMethod::Shortest).unwrap_err();
            assert!(matches!(e, Error::Argument { ref parameter, .. } if parameter == "level"));
        }
        let e = IntervalMethod::from_name("bca").unwrap_err();
        assert!(matches!(e, Error::Argument { ref parameter, .. } if parameter == "method"));
        let (lo, hi) = coverage_interval(&[f64::NAN], 0.9, IntervalMethod::Percentile).unwrap();
        assert!(lo.is_nan() && hi.is_nan());
    }
}
