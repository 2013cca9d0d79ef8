//! [`DistributionVariance`] of a GLMM: the variance of the family's latent
//! (link-scale) residual, as insight 0.19 defines it.

use std::f64::consts::PI;

use super::{Family, GeneralizedLinearMixedModel, Link};
use crate::error::{Error, Result};
use crate::model::DistributionVariance;

impl DistributionVariance for GeneralizedLinearMixedModel {
    fn needs_null_mean(&self) -> bool {
        self.family == Family::Poisson && self.link == Link::Log
    }

    /// π²/3, 1 and π²/6 for Bernoulli and Binomial models with the logit,
    /// probit and cloglog links (the variances of the standard logistic,
    /// normal and Gumbel distributions); for Poisson models the lognormal
    /// approximation log(1 + 1/λ) with λ = exp(β₀) of the null model (log
    /// link) and 0.25 (sqrt link).
    fn distribution_variance(&self, null_mean: Option<f64>) -> Result<f64> {
        match (self.family, self.link) {
            (Family::Bernoulli | Family::Binomial, Link::Logit) => Ok(PI * PI / 3.0),
            (Family::Bernoulli | Family::Binomial, Link::Probit) => Ok(1.0),
            (Family::Bernoulli | Family::Binomial, Link::Cloglog) => Ok(PI * PI / 6.0),
            (Family::Poisson, Link::Sqrt) => Ok(0.25),
            (Family::Poisson, Link::Log) => match null_mean {
                Some(mu) if mu > 0.0 && mu.is_finite() => Ok((1.0 / mu).ln_1p()),
                other => Err(Error::argument(
                    "null_mean",
                    format!(
                        "the log-link Poisson variance needs the null model's mean λ > 0, got \
                         {other:?}"
                    ),
                )),
            },
            (family, link) => Err(Error::argument(
                "model",
                format!(
                    "no distribution-specific variance for the {} family with the {} link: R² \
                     and the ICC support Bernoulli and Binomial with the logit, probit or \
                     cloglog link and Poisson with the log or sqrt link",
                    family.name(),
                    link.name()
                ),
            )),
        }
    }

    /// Observation-level terms are dispersion (insight's rule for GLMMs).
    fn observation_level_dispersion(&self) -> bool {
        true
    }
}
