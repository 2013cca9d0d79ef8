//! Quantities read off a linear mixed model at its current θ: the
//! [`MixedModel`] answers (β, σ, the conditional modes, covariances, fitted
//! values, likelihood) and the LMM's own (σ̂, leverage, residual dof).

use super::LinearMixedModel;
use crate::error::{Error, Result};
use crate::model::{check_new_response, FitRecord, MixedModel, Predict, Simulate};
use crate::terms::{ModelTerms, ThetaLayout};

impl MixedModel for LinearMixedModel {
    fn terms(&self) -> &ModelTerms {
        &self.terms
    }

    fn layout(&self) -> &ThetaLayout {
        &self.layout
    }

    fn theta(&self) -> &[f64] {
        self.engine.theta()
    }

    fn lambdas(&self) -> &[Vec<f64>] {
        self.engine.lambdas()
    }

    fn beta(&self) -> Vec<f64> {
        self.engine.beta()
    }

    fn scale(&self) -> f64 {
        self.sigma()
    }

    fn residual_sd(&self) -> Option<f64> {
        Some(self.sigma())
    }

    fn unscaled_vcov(&self) -> Vec<f64> {
        self.engine.unscaled_vcov()
    }

    fn u(&self) -> Vec<Vec<f64>> {
        self.engine.u_given_beta(&self.engine.beta())
    }

    fn unscaled_condvar(&self) -> Vec<Vec<f64>> {
        self.engine.unscaled_condvar()
    }

    fn has_rows(&self) -> bool {
        self.engine.has_rows()
    }

    /// Fitted values offset + Xβ̂ + Zb̂ (lme4's `fitted`); empty for a model
    /// that keeps no rows (built from streamed data: Python's `fitted()`
    /// computes them by another pass over the source).
    fn fitted(&self) -> Vec<f64> {
        if !self.has_rows() {
            return Vec::new();
        }
        let mut f = self
            .offset
            .clone()
            .unwrap_or_else(|| vec![0.0; self.nobs()]);
        self.terms.add_x_beta(&self.beta(), &mut f);
        self.terms.add_z_b(&self.b(), &mut f);
        f
    }

    fn objective(&self) -> f64 {
        self.objective_value()
    }

    /// Log-likelihood (ML fits only).
    fn loglikelihood(&self) -> Result<f64> {
        self.refuse_reml("the log-likelihood")?;
        Ok(-0.5 * self.objective_value())
    }

    /// Number of parameters: β, θ, and σ unless fixed.
    fn dof(&self) -> usize {
        self.rank() + self.layout.len() + usize::from(self.sigma_fixed.is_none())
    }

    fn fit_record(&self) -> Option<&FitRecord> {
        self.record.as_ref()
    }

    /// Replace the response (same length) and refill A, keeping all symbolic
    /// work; the model becomes unfitted.
    fn set_response(&mut self, y: &[f64]) -> Result<()> {
        if !self.has_rows() {
            return Err(Error::RowsNotStored {
                what: "set_response".into(),
            });
        }
        check_new_response(y, self.nobs())?;
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::argument(
                "y",
                format!("new response holds a non-finite value in row {i}"),
            ));
        }
        self.engine
            .set_response(&super::subtract_offset(y, self.offset.as_deref()));
        self.response = y.to_vec();
        self.record = None;
        let theta = self.engine.theta().to_vec();
        self.set_theta(&theta)
    }
}

impl LinearMixedModel {
    /// Coefficients for every generated column of X; NaN for dropped columns.
    pub fn coef_full(&self) -> Vec<f64> {
        let beta = self.beta();
        let mut full = vec![f64::NAN; self.terms.fixed.names.len()];
        for (b, &j) in beta.iter().zip(&self.terms.fixed.kept) {
            full[j] = *b;
        }
        full
    }

    /// Residual standard deviation σ̂ (or the fixed σ).
    pub fn sigma(&self) -> f64 {
        if let Some(s) = self.sigma_fixed {
            return s;
        }
        let n = self.nobs() as f64;
        let denom = if self.reml { n - self.rank() as f64 } else { n };
        (self.pwrss() / denom).sqrt()
    }

    /// σ̂², the residual variance.
    pub fn varest(&self) -> f64 {
        self.sigma().powi(2)
    }

    /// Conditional modes u for a given β (not necessarily β̂), per term:
    /// the solution of L_Zᵀ u = c_y − L_XZᵀ β.
    pub fn u_given_beta(&self, beta: &[f64]) -> Vec<Vec<f64>> {
        self.engine.u_given_beta(beta)
    }

    /// Response residuals y − fitted (empty without rows, as
    /// [`fitted`](MixedModel::fitted)).
    pub fn residuals(&self) -> Vec<f64> {
        self.y()
            .iter()
            .zip(self.fitted())
            .map(|(y, f)| y - f)
            .collect()
    }

    /// Diagonal of the hat matrix (leverage of each observation); empty for
    /// a model built from streamed chunks, which keeps no rows
    /// ([`has_rows`](Self::has_rows)).
    pub fn leverage(&self) -> Vec<f64> {
        self.engine.leverage()
    }

    /// Residual degrees of freedom, n − Σ leverage (as MixedModels.jl), the
    /// sum read off the factor (the trace of the hat matrix), so that a
    /// streamed model has it too.
    pub fn dof_residual(&self) -> f64 {
        self.nobs() as f64 - self.engine.leverage_sum()
    }

    fn refuse_reml(&self, what: &str) -> Result<()> {
        if self.reml {
            Err(Error::argument(
                "reml",
                format!(
                    "{what} is not defined for a model fitted by REML; refit with reml=False \
                     (the REML criterion is `objective`)"
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// Deviance, −2 log-likelihood (ML fits only).
    pub fn deviance(&self) -> Result<f64> {
        self.refuse_reml("the deviance")?;
        Ok(self.objective_value())
    }
}

impl Predict for LinearMixedModel {
    fn prediction_link(&self) -> crate::family::Link {
        crate::family::Link::Identity
    }

    fn fitted_offset(&self) -> Option<&[f64]> {
        self.offset()
    }
}

impl Simulate for LinearMixedModel {
    fn linear_offset(&self) -> Option<&[f64]> {
        self.offset()
    }

    fn response_distribution(&self) -> crate::model::ResponseDistribution {
        crate::model::ResponseDistribution::Gaussian {
            weights: self.weights(),
        }
    }
}
