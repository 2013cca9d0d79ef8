//! The profiled objective: set θ, refactor L, read off log-determinants and
//! the penalised residual sum of squares (Bates et al. 2015, eqs. 34 and 41).

use super::LinearMixedModel;
use crate::error::{Error, Result};

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

impl LinearMixedModel {
    /// Lower bounds of θ (0 on λ diagonals, −∞ elsewhere).
    pub fn lower_bounds(&self) -> Vec<f64> {
        self.layout.lower()
    }

    /// Install θ and refactor L. Fails when θ has the wrong length, holds a
    /// non-finite value or violates a lower bound, or L is not positive definite.
    pub fn set_theta(&mut self, theta: &[f64]) -> Result<()> {
        self.layout
            .check(theta)
            .map_err(|m| Error::argument("theta", m))?;
        self.engine.install_theta(&self.layout, theta);
        self.engine.refactor()
    }

    /// Install θ and refactor L without enforcing θ's lower bounds (length
    /// and finiteness are still checked): for derivatives by differences
    /// across a bound, where the objective is smooth (a λ column of either
    /// sign gives the same ΛΛᵀ). Restore a feasible θ afterwards.
    pub(crate) fn set_theta_unbounded(&mut self, theta: &[f64]) -> Result<()> {
        if theta.len() != self.layout.len() || theta.iter().any(|v| !v.is_finite()) {
            return Err(Error::argument(
                "theta",
                format!("needs {} finite values", self.layout.len()),
            ));
        }
        self.engine.install_theta(&self.layout, theta);
        self.engine.refactor()
    }

    /// Evaluate the objective (−2 log-likelihood, or the REML criterion) at θ
    /// without changing the fitted state's optimum record.
    pub fn objective_at(&mut self, theta: &[f64]) -> Result<f64> {
        self.set_theta(theta)?;
        Ok(self.objective_value())
    }

    /// Evaluate for the optimizer. Where L cannot be factored the value is +∞,
    /// which BOBYQA replaces in its model by a finite penalty above every value
    /// seen (a fixed huge number would wreck the quadratic model); never a panic.
    pub(crate) fn objective_for_optimizer(&mut self, theta: &[f64]) -> f64 {
        self.engine.install_theta(&self.layout, theta);
        match self.engine.refactor() {
            Ok(()) => {
                let f = self.objective_value();
                if f.is_nan() {
                    f64::INFINITY
                } else {
                    f
                }
            }
            Err(_) => f64::INFINITY,
        }
    }

    /// Penalised, weighted residual sum of squares r² at the current θ.
    pub fn pwrss(&self) -> f64 {
        self.engine.pwrss()
    }

    /// log |L_Z|² = log det(Λᵀ Zᵀ W Z Λ + I) at the current θ.
    pub fn logdet_z(&self) -> f64 {
        self.engine.logdet_z()
    }

    /// log |R_X|², the fixed-effects part of the log-determinant.
    pub fn logdet_x(&self) -> f64 {
        self.engine.logdet_x()
    }

    /// log-determinant as MixedModels.jl's `logdet`: log|L_Z|², plus log|R_X|² for REML.
    pub fn logdet(&self) -> f64 {
        self.logdet_z() + if self.reml { self.logdet_x() } else { 0.0 }
    }

    /// The objective at the current θ: −2ℓ (ML) or −2ℓ_R (REML), with the
    /// −Σ log wᵢ term for case weights and σ fixed when requested.
    pub(crate) fn objective_value(&self) -> f64 {
        let n = self.nobs_used() as f64;
        let denom = if self.reml { n - self.rank() as f64 } else { n };
        let pwrss = self.pwrss();
        let ld = self.logdet();
        let core = match self.sigma_fixed {
            None => denom * (1.0 + LN_2PI + (pwrss / denom).ln()),
            Some(s) => denom * (LN_2PI + 2.0 * s.ln()) + pwrss / (s * s),
        };
        ld + core - self.log_weights
    }

    /// Observations used (the engine's count).
    pub(crate) fn nobs_used(&self) -> usize {
        self.engine.nobs()
    }
}
