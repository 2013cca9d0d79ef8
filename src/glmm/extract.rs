//! Quantities read off a GLMM at its current state (after a fit, the
//! optimum): parameters, conditional modes, likelihood-based statistics,
//! R_X-based standard errors, variance components, fitted values, residuals.

use super::GeneralizedLinearMixedModel;
use crate::lmm::{CoefRow, VarCorr};

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

impl GeneralizedLinearMixedModel {
    /// Fixed-effects estimates β (for the columns of X kept).
    pub fn beta(&self) -> &[f64] {
        &self.beta
    }

    /// Names of β's coefficients.
    pub fn coef_names(&self) -> Vec<String> {
        self.lmm.coef_names()
    }

    /// Relative covariance parameters θ (for GLMMs without dispersion the
    /// random-effects standard deviations of scalar terms).
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// Lower bounds of θ.
    pub fn lower_bounds(&self) -> Vec<f64> {
        self.lmm.lower_bounds()
    }

    /// Spherical conditional modes û per term (column-major v × ℓ).
    pub fn u(&self) -> Vec<Vec<f64>> {
        let off = self.u_offsets();
        (0..off.len() - 1)
            .map(|k| self.u[off[k]..off[k + 1]].to_vec())
            .collect()
    }

    /// Conditional modes of the random effects b = Λθ û per term
    /// (column-major v × ℓ; lme4's `ranef`).
    pub fn b(&self) -> Vec<Vec<f64>> {
        self.u()
            .into_iter()
            .zip(&self.lambdas)
            .zip(&self.lmm.terms.random)
            .map(|((u, lam), t)| t.b_from_u(lam, &u))
            .collect()
    }

    /// The objective at the current state: the Laplace approximation
    /// Σ dᵢ + ‖û‖² + log|L_Z|² (MixedModels.jl's `deviance`, the seed manual's
    /// "Deviance") or its nAGQ-point adaptive Gauss–Hermite version. It is −2ℓ
    /// relative to the saturated model; see [`loglikelihood`](Self::loglikelihood).
    pub fn objective(&self) -> f64 {
        self.current_objective(self.nagq).unwrap_or(f64::NAN)
    }

    /// Σ dᵢ(yᵢ, μ̂ᵢ), the sum of the unit deviances at the conditional modes:
    /// lme4's `deviance(m)` for a GLMM (not the objective).
    pub fn deviance(&self) -> f64 {
        self.devres.iter().sum()
    }

    /// ‖û‖², the penalty at the conditional modes (lme4's `ussq`).
    pub fn sum_u_squared(&self) -> f64 {
        self.u.iter().map(|v| v * v).sum()
    }

    /// log|L_Z|² at the conditional modes (lme4's `ldL2`, MixedModels.jl's `logdet`).
    pub fn logdet(&self) -> f64 {
        self.active_lmm().logdet_z()
    }

    /// −2 log-likelihood of the saturated model (μ = y) with the binomial
    /// coefficients and log y! terms (0 for Bernoulli responses).
    pub fn minus2loglik_saturated(&self) -> f64 {
        self.resp
            .y
            .iter()
            .zip(&self.resp.wt)
            .map(|(&y, &w)| self.family.saturated_m2loglik(y, w))
            .sum()
    }

    /// Log-likelihood as lme4 defines it for nAGQ = 1:
    /// −½ (objective + saturated −2ℓ), i.e. with the full density
    /// including binomial coefficients / log y!. For nAGQ > 1 it is on the same
    /// scale (lme4 1.1's value for nAGQ > 1 omits the saturated term; add it back
    /// to compare: `minus2loglik_corrected` in the reference records).
    pub fn loglikelihood(&self) -> f64 {
        -0.5 * (self.objective() + self.minus2loglik_saturated())
    }

    /// Number of parameters: #β + #θ (no dispersion parameter).
    pub fn dof(&self) -> usize {
        self.beta.len() + self.theta.len()
    }

    /// Number of observations used.
    pub fn nobs(&self) -> usize {
        self.eta.len()
    }

    /// Akaike's information criterion −2ℓ + 2·dof (ℓ as [`loglikelihood`](Self::loglikelihood)).
    pub fn aic(&self) -> f64 {
        -2.0 * self.loglikelihood() + 2.0 * self.dof() as f64
    }

    /// Schwarz's criterion −2ℓ + dof·log n.
    pub fn bic(&self) -> f64 {
        -2.0 * self.loglikelihood() + self.dof() as f64 * (self.nobs() as f64).ln()
    }

    /// Covariance of β̂ from R_X at the conditional modes, (R_XᵀR_X)⁻¹
    /// (MixedModels.jl's `vcov`, lme4's `vcov(m, use.hessian = FALSE)`), row-major p × p.
    pub fn vcov(&self) -> Vec<f64> {
        self.lmm.vcov()
    }

    /// Standard errors of β̂ from R_X (see [`vcov`](Self::vcov)).
    pub fn stderror(&self) -> Vec<f64> {
        self.lmm.stderror()
    }

    /// The fixed-effects table: estimate, standard error, z and p (normal).
    pub fn coeftable(&self) -> Vec<CoefRow> {
        CoefRow::table(self.coef_names(), &self.beta, &self.stderror())
    }

    /// Variance components λλᵀ of each term (no residual term: the families
    /// here have no dispersion parameter).
    pub fn varcorr(&self) -> VarCorr {
        let mut vc = self.active_lmm().varcorr();
        vc.residual_sd = None;
        vc
    }

    /// Conditional covariance of b per level of each term, Λ(L_Z L_Zᵀ)⁻¹Λᵀ's
    /// diagonal blocks at the conditional modes (lme4's `condVar`): per term,
    /// ℓ column-major v × v blocks.
    pub fn condvar(&self) -> Vec<Vec<f64>> {
        self.active_lmm().condvar()
    }

    /// Fitted means μ̂ (response scale).
    pub fn fitted(&self) -> &[f64] {
        &self.mu
    }

    /// Linear predictor η̂ = offset + Xβ̂ + Zb̂ (link scale).
    pub fn linear_predictor(&self) -> &[f64] {
        &self.eta
    }

    /// Residuals of the given kind at the conditional modes.
    pub fn residuals(&self, kind: ResidualKind) -> Vec<f64> {
        let (y, wt) = (&self.resp.y, &self.resp.wt);
        (0..self.nobs())
            .map(|i| {
                let r = y[i] - self.mu[i];
                match kind {
                    ResidualKind::Response => r,
                    ResidualKind::Deviance => r.signum() * self.devres[i].max(0.0).sqrt(),
                    ResidualKind::Pearson => {
                        r * wt[i].sqrt() / self.family.variance(self.mu[i]).sqrt()
                    }
                    ResidualKind::Working => r / self.link.mu_eta(self.eta[i]),
                }
            })
            .collect()
    }

    /// Is the fit singular (some λ diagonal entry at its bound of zero)?
    pub fn is_singular(&self) -> bool {
        self.theta
            .iter()
            .zip(self.lmm.lower_bounds())
            .any(|(t, lb)| lb.is_finite() && (t - lb).abs() < 1e-8)
    }
}
