//! Variance inflation factors of the fixed-effects terms, as R's
//! performance 0.10 (`check_collinearity`) computes them: for each term t,
//! det(R_tt) det(R_−t,−t) / det R, with R the correlation matrix of β̂
//! without the intercept (Fox and Monette's generalized VIF; the usual VIF
//! for a one-column term), and performance's interval for R² = 1 − 1/VIF (a
//! logit-scale normal interval with the standard error of a squared multiple
//! correlation).

use faer::Mat;

use super::MixedModel;
use crate::error::{Error, Result};
use crate::family::normal_quantile;

/// One term's collinearity measures.
#[derive(Debug, Clone, PartialEq)]
pub struct VifRow {
    /// The term's label (`recipe`, `recipe & temp`).
    pub term: String,
    /// The (generalized) variance inflation factor.
    pub vif: f64,
    /// Its confidence interval (NaN without a level).
    pub vif_ci: (f64, f64),
    /// √VIF, the factor by which the standard errors are inflated.
    pub se_factor: f64,
    /// 1 / VIF.
    pub tolerance: f64,
    /// Its confidence interval.
    pub tolerance_ci: (f64, f64),
}

/// The VIFs of a model's terms, and whether X had an intercept (without one
/// the VIFs are of uncentred columns and may not be sensible).
#[derive(Debug, Clone, PartialEq)]
pub struct Collinearity {
    /// One row per term with columns in X, in formula order.
    pub rows: Vec<VifRow>,
    /// Did X have an intercept (dropped before the correlations)?
    pub has_intercept: bool,
}

fn determinant(m: &[f64], idx: &[usize], p: usize) -> f64 {
    if idx.is_empty() {
        return 1.0;
    }
    let k = idx.len();
    Mat::<f64>::from_fn(k, k, |a, b| m[idx[a] * p + idx[b]])
        .as_ref()
        .determinant()
}

/// The interval (low, high) of R² = 1 − 1/VIF at level `ci` for n
/// observations and p fixed effects.
fn r2_interval(vif: f64, n: f64, p: f64, ci: f64) -> (f64, f64) {
    let r = 1.0 - 1.0 / vif;
    let z = normal_quantile((1.0 + ci) / 2.0);
    let logit = (r / (1.0 - r)).ln();
    let se = ((1.0 - r * r).powi(2) * (n - p - 1.0).powi(2) / ((n * n - 1.0) * (n + 3.0))).sqrt();
    let se_logit = se / (r * (1.0 - r));
    let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
    (
        logistic(logit - z * se_logit),
        logistic(logit + z * se_logit),
    )
}

/// The VIFs of `m`'s fixed-effects terms with intervals at level `ci`
/// (None: NaN intervals); an error names `ci` outside (0, 1). With a single
/// term its VIF is 1 (performance refuses fewer than two terms; the Python
/// face does too).
pub fn collinearity(m: &impl MixedModel, ci: Option<f64>) -> Result<Collinearity> {
    if let Some(c) = ci {
        if !(c > 0.0 && c < 1.0) {
            return Err(Error::argument("ci", format!("must be in (0, 1), got {c}")));
        }
    }
    let terms = m.terms();
    let labels: Vec<String> = terms.spec.fixed.terms.iter().map(|t| t.label()).collect();
    let term_of = terms.fixed.kept_term_of();
    let p = term_of.len();
    let keep: Vec<usize> = (0..p).filter(|&j| term_of[j].is_some()).collect();
    let has_intercept = keep.len() < p;
    let v = m.vcov();
    let k = keep.len();
    let mut corr = vec![0.0; k * k];
    for (a, &i) in keep.iter().enumerate() {
        for (b, &j) in keep.iter().enumerate() {
            corr[a * k + b] = v[i * p + j] / (v[i * p + i] * v[j * p + j]).sqrt();
        }
    }
    let all: Vec<usize> = (0..k).collect();
    let det_all = determinant(&corr, &all, k);
    let n = m.nobs() as f64;
    let nbeta = p as f64;
    let mut rows = Vec::new();
    for (t, label) in labels.iter().enumerate() {
        let (inside, rest): (Vec<usize>, Vec<usize>) =
            (0..k).partition(|&a| term_of[keep[a]] == Some(t));
        if inside.is_empty() {
            continue; // every column of the term was dropped (rank deficiency)
        }
        let vif = determinant(&corr, &inside, k) * determinant(&corr, &rest, k) / det_all;
        let (low, high) = ci.map_or((f64::NAN, f64::NAN), |c| r2_interval(vif, n, nbeta, c));
        rows.push(VifRow {
            term: label.clone(),
            vif,
            vif_ci: (1.0 / (1.0 - low), 1.0 / (1.0 - high)),
            se_factor: vif.sqrt(),
            tolerance: 1.0 / vif,
            tolerance_ci: (1.0 - high, 1.0 - low),
        });
    }
    Ok(Collinearity {
        rows,
        has_intercept,
    })
}
