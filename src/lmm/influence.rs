//! [`Influence`] for linear mixed models: the hat matrix of the PLS system
//! (weighted by the case weights, as lme4's) and weighted residuals.

use super::LinearMixedModel;
use crate::model::{Influence, MixedModel};

impl Influence for LinearMixedModel {
    /// The leverages ‖L⁻¹[Λᵀzᵢ; xᵢ]√wᵢ‖² (equal to lme4's `hatvalues`).
    fn hatvalues(&self) -> Vec<f64> {
        self.leverage()
    }

    /// √wᵢ (1 without weights).
    fn sqrt_residual_weights(&self) -> Vec<f64> {
        match self.weights() {
            Some(w) => w.iter().map(|w| w.sqrt()).collect(),
            None => vec![1.0; self.nobs()],
        }
    }

    /// √wᵢ, as [`sqrt_residual_weights`](Influence::sqrt_residual_weights).
    fn sqrt_working_weights(&self) -> Vec<f64> {
        self.sqrt_residual_weights()
    }

    /// √wᵢ (yᵢ − μ̂ᵢ) (lme4's `residuals(m, type = "pearson")` of an lmer fit).
    fn pearson_residuals(&self) -> Vec<f64> {
        let r = self.residuals();
        match self.weights() {
            Some(w) => r.iter().zip(&w).map(|(r, w)| r * w.sqrt()).collect(),
            None => r,
        }
    }
}
