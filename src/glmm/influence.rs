//! [`Influence`] for GLMMs: lme4's hat values (factors at the working
//! weights of the mode, rows weighted by the prior weights) and Pearson
//! residuals.

use super::{GeneralizedLinearMixedModel, ResidualKind};
use crate::model::Influence;

impl Influence for GeneralizedLinearMixedModel {
    /// lme4's `hatvalues` of a glmer fit. The engine's leverage is
    /// ‖L⁻¹[Λᵀzᵢ; xᵢ]·√wᵢ‖² with wᵢ = pᵢ (dμ/dη)² / V(μᵢ) the working weight;
    /// lme4 scales the same row by √pᵢ instead, so its value is the engine's
    /// times pᵢ / wᵢ (NaN where the working weight is 0).
    fn hatvalues(&self) -> Vec<f64> {
        let engine = &self.engine;
        let lev = engine.leverage();
        let prior = self.prior_weights();
        match engine.sqrtw() {
            Some(sw) => lev
                .iter()
                .zip(sw)
                .zip(prior)
                .map(|((h, s), p)| {
                    let w = s * s;
                    if w > 0.0 {
                        h * p / w
                    } else {
                        f64::NAN
                    }
                })
                .collect(),
            None => lev,
        }
    }

    fn sqrt_residual_weights(&self) -> Vec<f64> {
        let prior = self.prior_weights();
        self.mu
            .iter()
            .zip(prior)
            .map(|(&mu, p)| (p / self.family.variance_phi(mu, self.phi)).sqrt())
            .collect()
    }

    fn sqrt_working_weights(&self) -> Vec<f64> {
        self.sqrt_residual_weights()
            .iter()
            .zip(&self.eta)
            .map(|(s, &eta)| s * self.link.mu_eta(eta))
            .collect()
    }

    fn pearson_residuals(&self) -> Vec<f64> {
        self.residuals(ResidualKind::Pearson)
    }
}
