//! [`DistributionVariance`] of a linear mixed model: σ̂².

use super::LinearMixedModel;
use crate::error::Result;
use crate::model::DistributionVariance;

impl DistributionVariance for LinearMixedModel {
    fn needs_null_mean(&self) -> bool {
        false
    }

    /// σ̂², the residual variance.
    fn distribution_variance(&self, _null_mean: Option<f64>) -> Result<f64> {
        Ok(self.varest())
    }

    /// Observation-level terms are left out (insight's rule for linear models).
    fn observation_level_dispersion(&self) -> bool {
        false
    }
}
