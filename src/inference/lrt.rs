//! Likelihood-ratio tests of nested models fitted by maximum likelihood.
//!
//! Models are given in order of increasing complexity; each row compares a
//! model with the one before it: χ² = deviance(previous) − deviance(this), on
//! dof(this) − dof(previous) degrees of freedom.

use crate::error::{Error, Result};
use crate::stats::chisq_upper;

/// One row of a likelihood-ratio test table.
#[derive(Debug, Clone, PartialEq)]
pub struct LrtRow {
    /// Degrees of freedom (number of parameters) of the model.
    pub dof: usize,
    /// Deviance (−2 log-likelihood).
    pub deviance: f64,
    /// χ² statistic against the previous model (None for the first).
    pub chisq: Option<f64>,
    /// Difference in degrees of freedom (None for the first).
    pub chisq_dof: Option<usize>,
    /// Upper-tail χ² probability (None for the first).
    pub p: Option<f64>,
}

/// Likelihood-ratio tests for models given as (deviance, dof, nobs), simplest first.
pub fn likelihood_ratio_test(models: &[(f64, usize, usize)]) -> Result<Vec<LrtRow>> {
    if models.len() < 2 {
        return Err(Error::argument(
            "models",
            "a likelihood-ratio test needs at least two models",
        ));
    }
    let nobs = models[0].2;
    let mut rows = Vec::with_capacity(models.len());
    for (i, &(deviance, dof, n)) in models.iter().enumerate() {
        if !deviance.is_finite() {
            return Err(Error::argument(
                "models",
                format!("model {} has a non-finite deviance", i + 1),
            ));
        }
        if n != nobs {
            return Err(Error::argument("models", format!(
                "model {} was fitted to {n} observations, model 1 to {nobs}: the models must use the same data",
                i + 1
            )));
        }
        if i == 0 {
            rows.push(LrtRow {
                dof,
                deviance,
                chisq: None,
                chisq_dof: None,
                p: None,
            });
            continue;
        }
        let (prev_dev, prev_dof, _) = models[i - 1];
        if dof <= prev_dof {
            return Err(Error::argument("models", format!(
                "model {} has {dof} parameters, no more than model {} ({prev_dof}): give the models simplest first",
                i + 1,
                i
            )));
        }
        let chisq = prev_dev - deviance;
        let k = dof - prev_dof;
        rows.push(LrtRow {
            dof,
            deviance,
            chisq: Some(chisq),
            chisq_dof: Some(k),
            p: Some(chisq_upper(chisq.max(0.0), k as f64)),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleepstudy_without_and_with_days() {
        // MixedModels.jl reference L12: dof 5 vs 6, −2 log L 1775.4759 vs 1751.9393,
        // χ² 23.5365 on 1 dof, p < 1e-5.
        let rows = likelihood_ratio_test(&[(1775.4759, 5, 180), (1751.9393, 6, 180)]).unwrap();
        let r = &rows[1];
        assert!((r.chisq.unwrap() - 23.5366).abs() < 1e-9);
        assert_eq!(r.chisq_dof, Some(1));
        let p = r.p.unwrap();
        assert!(p < 1e-5 && p > 1e-7, "{p}");
        assert!((p - chisq_upper(23.5366, 1.0)).abs() < 1e-18);
    }

    #[test]
    fn refuses_unordered_or_mismatched_models() {
        assert!(likelihood_ratio_test(&[(10.0, 3, 10)]).is_err());
        assert!(likelihood_ratio_test(&[(10.0, 3, 10), (9.0, 3, 10)]).is_err());
        let e = likelihood_ratio_test(&[(10.0, 3, 10), (9.0, 4, 11)]).unwrap_err();
        assert!(e.to_string().contains("same data"));
    }
}
