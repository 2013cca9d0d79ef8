//! Where an LMM fit starts: the moment start of θ and the quasi-Newton
//! method's B₀ there (`model::start`).

use super::LinearMixedModel;
use crate::model::start::{moment_start, start_curvature, StartScale};

impl LinearMixedModel {
    /// The θ a fit starts from when not given one: λ's diagonal from the
    /// method of moments on the fixed-effects residuals, 0 off it
    /// (`model::start`); lme4's θ₀ (the units on λ's diagonal) for an entry
    /// without an estimate.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use mixedmodels::{LinearMixedModel, LmmOptions, data::Data};
    /// # fn demo(data: &Data) -> mixedmodels::error::Result<()> {
    /// let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    /// let mut m = LinearMixedModel::new(formula, data, &LmmOptions::default())?;
    /// let start = m.moment_start(); // sleepstudy: [0.920, 0, 0.221]
    /// assert_eq!(m.fit(false)?.initial, start);
    /// # Ok(())
    /// # }
    /// ```
    pub fn moment_start(&self) -> Vec<f64> {
        let scale = match self.sigma_fixed {
            Some(sigma) => StartScale::Known(sigma * sigma),
            None => StartScale::Estimated,
        };
        moment_start(&self.engine, &self.layout, scale)
    }

    /// B₀ for the quasi-Newton method at `theta0` (row-major, diagonal, in
    /// θ̃ = θ/unit, the variables the method works on; `model::start`).
    pub(super) fn start_curvature(&self, theta0: &[f64]) -> Vec<f64> {
        start_curvature(&self.engine, &self.layout, theta0)
    }
}
