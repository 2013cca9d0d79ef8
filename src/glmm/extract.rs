//! Quantities read off a GLMM at its current state (after a fit, the
//! optimum): parameters, conditional modes, likelihood-based statistics,
//! R_X-based standard errors, variance components, fitted values, residuals.

use super::{Family, GeneralizedLinearMixedModel};
use crate::error::{Error, Result};
use crate::model::{check_new_response, FitRecord, MixedModel, Predict, Simulate};
use crate::terms::{ModelTerms, ThetaLayout};

/// Kinds of residuals of a GLMM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidualKind {
    /// sign(y − μ) √dᵢ (dᵢ the unit deviance times the prior weight).
    Deviance,
    /// (y − μ) √pᵢ / √V(μ).
    Pearson,
    /// y − μ.
    Response,
    /// (y − μ) / (dμ/dη), the working residual.
    Working,
}

impl MixedModel for GeneralizedLinearMixedModel {
    fn terms(&self) -> &ModelTerms {
        &self.terms
    }

    fn layout(&self) -> &ThetaLayout {
        &self.layout
    }

    /// Relative covariance parameters θ (for GLMMs without dispersion the
    /// random-effects standard deviations of scalar terms).
    fn theta(&self) -> &[f64] {
        self.engine.theta()
    }

    fn lambdas(&self) -> &[Vec<f64>] {
        self.engine.lambdas()
    }

    fn beta(&self) -> Vec<f64> {
        self.beta.clone()
    }

    /// 1: the families here have no dispersion parameter.
    fn scale(&self) -> f64 {
        1.0
    }

    fn residual_sd(&self) -> Option<f64> {
        None
    }

    fn dispersion_parameter(&self) -> Option<f64> {
        self.dispersion()
    }

    /// (R_XᵀR_X)⁻¹ at the conditional modes (MixedModels.jl's `vcov`, lme4's
    /// `vcov(m, use.hessian = FALSE)`).
    fn unscaled_vcov(&self) -> Vec<f64> {
        self.engine.unscaled_vcov()
    }

    fn u(&self) -> Vec<Vec<f64>> {
        let off = self.u_offsets();
        (0..off.len() - 1)
            .map(|k| self.u[off[k]..off[k + 1]].to_vec())
            .collect()
    }

    /// Λ(L_Z L_Zᵀ)⁻¹Λᵀ's diagonal blocks at the conditional modes (lme4's
    /// `condVar`), from the engine of the last PIRLS step.
    fn unscaled_condvar(&self) -> Vec<Vec<f64>> {
        self.active_engine().unscaled_condvar()
    }

    /// Fitted means μ̂ (response scale).
    fn fitted(&self) -> Vec<f64> {
        self.mu.clone()
    }

    /// The Laplace approximation Σ dᵢ + ‖û‖² + log|L_Z|² (MixedModels.jl's
    /// `deviance`, the seed manual's "Deviance") or its nAGQ-point adaptive
    /// Gauss–Hermite version. It is −2ℓ relative to the saturated model;
    /// see [`loglikelihood`](MixedModel::loglikelihood).
    fn objective(&self) -> f64 {
        self.current_objective().unwrap_or(f64::NAN)
    }

    /// Log-likelihood as lme4 defines it for nAGQ = 1:
    /// −½ (objective + saturated −2ℓ), i.e. with the full density
    /// including binomial coefficients / log y!. For nAGQ > 1 it is on the same
    /// scale (lme4 1.1's value for nAGQ > 1 omits the saturated term; add it back
    /// to compare: `minus2loglik_corrected` in the reference records).
    fn loglikelihood(&self) -> Result<f64> {
        Ok(-0.5 * (self.objective() + self.minus2loglik_saturated()))
    }

    /// Number of parameters: #β + #θ, plus one for a dispersion parameter.
    fn dof(&self) -> usize {
        self.beta.len() + self.layout.len() + usize::from(self.family.has_dispersion())
    }

    fn fit_record(&self) -> Option<&FitRecord> {
        self.record.as_ref()
    }

    /// Replace the response (coded for the family, same rows; prior weights
    /// kept); the model becomes unfitted and PIRLS restarts from the data.
    fn set_response(&mut self, y: &[f64]) -> Result<()> {
        check_new_response(y, self.nobs())?;
        let fits = |v: f64, w: f64| match self.family {
            Family::Bernoulli => v == 0.0 || v == 1.0,
            Family::Binomial => (0.0..=1.0).contains(&v) && ((v * w).round() - v * w).abs() < 1e-8,
            Family::Poisson | Family::NegativeBinomial => v >= 0.0 && v.fract() == 0.0,
            Family::Gamma | Family::InverseGaussian => v > 0.0,
            Family::Gaussian => true,
        };
        if let Some(i) = (0..y.len()).find(|&i| !(y[i].is_finite() && fits(y[i], self.resp.wt[i])))
        {
            return Err(Error::argument(
                "y",
                format!(
                    "new response value {} in row {i} is not a {} response",
                    y[i],
                    self.family.name()
                ),
            ));
        }
        self.resp.y.copy_from_slice(y);
        self.record = None;
        self.phi_log_se = std::sync::OnceLock::new();
        self.started = false;
        Ok(())
    }
}

impl GeneralizedLinearMixedModel {
    /// Σ dᵢ(yᵢ, μ̂ᵢ), the sum of the unit deviances at the conditional modes:
    /// lme4's `deviance(m)` for a GLMM (not the objective). For the families
    /// with a dispersion parameter the unit deviances are not scaled by φ
    /// (NB2's are at its fitted k), as R's `deviance()` of a GLM.
    pub fn deviance(&self) -> f64 {
        if self.family.has_dispersion() {
            return self.unit_deviances().iter().sum();
        }
        self.devres.iter().sum()
    }

    /// The unit deviances dᵢ(yᵢ, μ̂ᵢ) times the prior weights (for the
    /// dispersion families computed at φ; see [`deviance`](Self::deviance)).
    fn unit_deviances(&self) -> Vec<f64> {
        if !self.family.has_dispersion() {
            return self.devres.clone();
        }
        (0..self.nobs())
            .map(|i| {
                self.family
                    .unit_deviance_phi(self.resp.y[i], self.mu[i], self.resp.wt[i], self.phi)
            })
            .collect()
    }

    /// ‖û‖², the penalty at the conditional modes (lme4's `ussq`).
    pub fn sum_u_squared(&self) -> f64 {
        self.u.iter().map(|v| v * v).sum()
    }

    /// log|L_Z|² at the conditional modes (lme4's `ldL2`, MixedModels.jl's `logdet`).
    pub fn logdet(&self) -> f64 {
        self.active_engine().logdet_z()
    }

    /// −2 log-likelihood of the saturated model (μ = y) with the binomial
    /// coefficients and log y! terms (0 for Bernoulli responses, and for the
    /// families with a dispersion parameter, whose objective is the full
    /// −2 log L).
    pub fn minus2loglik_saturated(&self) -> f64 {
        self.resp
            .y
            .iter()
            .zip(&self.resp.wt)
            .map(|(&y, &w)| self.family.saturated_m2loglik(y, w))
            .sum()
    }

    /// Linear predictor η̂ = offset + Xβ̂ + Zb̂ (link scale).
    pub fn linear_predictor(&self) -> &[f64] {
        &self.eta
    }

    /// Residuals of the given kind at the conditional modes.
    pub fn residuals(&self, kind: ResidualKind) -> Vec<f64> {
        let (y, wt) = (&self.resp.y, &self.resp.wt);
        let dev = self.unit_deviances();
        (0..self.nobs())
            .map(|i| {
                let r = y[i] - self.mu[i];
                match kind {
                    ResidualKind::Response => r,
                    ResidualKind::Deviance => r.signum() * dev[i].max(0.0).sqrt(),
                    ResidualKind::Pearson => {
                        r * wt[i].sqrt() / self.family.variance_phi(self.mu[i], self.phi).sqrt()
                    }
                    ResidualKind::Working => r / self.link.mu_eta(self.eta[i]),
                }
            })
            .collect()
    }
}

impl Predict for GeneralizedLinearMixedModel {
    fn prediction_link(&self) -> super::Link {
        self.link()
    }

    fn fitted_offset(&self) -> Option<&[f64]> {
        self.offset()
    }
}

impl Simulate for GeneralizedLinearMixedModel {
    fn linear_offset(&self) -> Option<&[f64]> {
        self.offset()
    }

    fn response_distribution(&self) -> crate::model::ResponseDistribution {
        crate::model::ResponseDistribution::Family {
            family: self.family(),
            link: self.link(),
            dispersion: self.phi,
            weights: self.prior_weights().to_vec(),
        }
    }
}
