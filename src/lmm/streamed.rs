//! A linear mixed model built from A accumulated in chunks ([`crate::stream`]):
//! the checks of [`LinearMixedModel::from_terms`] that the sums allow, and
//! the model without rows.

use std::sync::Arc;

use super::{LinearMixedModel, LmmOptions};
use crate::blocks::{Block, Structure};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::pls::PlsEngine;
use crate::terms::{ModelTerms, ThetaLayout};

impl LinearMixedModel {
    /// The model of `terms` (which hold no rows) with A given in
    /// `structure`'s layout; `y_stats` is (Σ y, min y, max y) of the response
    /// as fitted. Per-row weights and offsets are not supported.
    pub(crate) fn from_streamed(
        terms: ModelTerms,
        structure: Structure,
        a: Vec<Block>,
        y_stats: (f64, f64, f64),
        options: &LmmOptions,
    ) -> Result<Self> {
        let n = terms.nobs();
        let (sum, lo, hi) = y_stats;
        let mean = sum / n as f64;
        let tol = 1e-12 * mean.abs().max(1.0);
        if (hi - mean).abs() <= tol && (lo - mean).abs() <= tol {
            return Err(Error::Term {
                term: terms.response_name.clone(),
                message: format!("the response has zero variance (every value is {mean})"),
            });
        }
        if let Some(s) = options.sigma {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::argument(
                    "sigma",
                    format!("a fixed sigma must be positive and finite, got {s}"),
                ));
            }
        }
        let warnings = crate::checks::build_checks(&terms, options.check_nobs, false)?;
        let terms = Arc::new(terms);
        let layout = ThetaLayout::new(&terms.random);
        let engine = PlsEngine::from_blocks(terms.clone(), structure, a, options.threads);
        let mut m = LinearMixedModel {
            terms,
            layout,
            engine,
            reml: false,
            sigma_fixed: options.sigma,
            log_weights: 0.0,
            threads: options.threads,
            interrupt: Interrupt::new(),
            record: None,
            response: Vec::new(),
            offset: None,
            warnings,
        };
        let theta0 = m.layout.initial();
        m.set_theta(&theta0)?;
        Ok(m)
    }
}
