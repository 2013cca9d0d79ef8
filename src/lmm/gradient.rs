//! The analytic gradient of the LMM objective with respect to θ: the ML
//! profiled deviance and the REML criterion, with case weights and with σ
//! fixed, from the derivatives of the log-determinants and of r² that the
//! engine reads off its factor (`pls::gradient`).
//!
//! With d = n (ML) or n − p (REML) and ld = log|L_Z|² (ML) or
//! log|L_Z|² + log|R_X|² (REML):
//!
//! * σ estimated: f = ld + d(1 + log(2π r²/d)) − Σ log w, so
//!   ∂f/∂θ_k = ∂ld/∂θ_k + (d / r²) ∂r²/∂θ_k;
//! * σ fixed: f = ld + d log(2πσ²) + r²/σ² − Σ log w, so
//!   ∂f/∂θ_k = ∂ld/∂θ_k + ∂r²/∂θ_k / σ².
//!
//! The weights enter through W in A and in the residuals; Σ log w is constant.

use super::LinearMixedModel;
use crate::error::Result;

impl LinearMixedModel {
    /// Install θ, refactor L and return the gradient of the objective
    /// (−2 log-likelihood, or the REML criterion) with respect to θ, in the
    /// layout's order. Fails as [`set_theta`](Self::set_theta) does.
    ///
    /// The gradient is the two-sided derivative of the objective as a
    /// function of θ (which stays smooth across λ's zero diagonal); at a
    /// diagonal entry on its bound 0 it is the one-sided derivative into
    /// the feasible region.
    pub fn gradient_at(&mut self, theta: &[f64]) -> Result<Vec<f64>> {
        self.set_theta(theta)?;
        Ok(self.gradient())
    }

    /// Install θ, refactor L and return the objective and its gradient with
    /// respect to θ (see [`gradient_at`](Self::gradient_at)).
    pub fn objective_and_gradient(&mut self, theta: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.set_theta(theta)?;
        Ok((self.objective_value(), self.gradient()))
    }

    /// The gradient of the objective with respect to θ at the installed θ
    /// (the factor must be current, as after [`set_theta`](Self::set_theta)).
    pub fn gradient(&self) -> Vec<f64> {
        let n = self.nobs_used() as f64;
        let denom = if self.reml { n - self.rank() as f64 } else { n };
        let mut grad = self.engine.logdet_gradient(&self.layout, self.reml);
        let dr2 = self.engine.pwrss_gradient(&self.layout);
        let factor = match self.sigma_fixed {
            None => denom / self.pwrss(),
            Some(s) => 1.0 / (s * s),
        };
        grad.iter_mut()
            .zip(&dr2)
            .for_each(|(g, d)| *g += factor * d);
        grad
    }
}
