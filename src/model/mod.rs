//! What every mixed model answers, and the machinery every fit shares.
//!
//! [`MixedModel`] is implemented by [`LinearMixedModel`](crate::LinearMixedModel)
//! and [`GeneralizedLinearMixedModel`](crate::GeneralizedLinearMixedModel):
//! θ, β, the scale, covariances, conditional modes and variances, fitted
//! values, likelihood and information criteria, counts and the fit record.
//! The default methods build the tables (coefficients, variance components)
//! once for both. [`FitRecord`] is the one record of a fit's settings and
//! results; `driver` runs the optimizer stages and the zero trials for both
//! models and watches for interruption; `scaling` runs them on θ in the
//! units of its random-effects columns.

pub mod certificate;
pub mod collinearity;
pub(crate) mod driver;
mod estimates;
mod influence;
pub mod persist;
mod predict;
mod record;
pub mod repca;
pub mod scaling;
pub mod simulate;
pub(crate) mod start;
mod tables;
pub mod variance;

pub use certificate::{Certificate, CertificateScope, CertificateStatus, CERTIFICATE_TOL};
pub use collinearity::{collinearity, Collinearity, VifRow};
pub use estimates::{variance_components, FitEstimates};
pub use influence::Influence;
pub(crate) use predict::{refuse_new_levels, rows_eta};
pub use predict::{NewLevels, Predict, PredictOptions, PredictScale};
pub use record::{
    return_code_text, FitLogEntry, FitRecord, FitSettings, OptimizerChoice, Stage, StageOptimizer,
    StageRecord, PIRLS_TOL,
};
pub use repca::{re_pca, RePca};
pub use simulate::{simulate, ResponseDistribution, Simulate, SimulateOptions, Simulator};
pub use tables::{CoefRow, VarCorr, VarCorrTerm};
pub use variance::{DistributionVariance, VarianceDecomposition};

use crate::error::Result;
use crate::terms::{ModelTerms, ThetaLayout};

/// θ entries on λ's diagonal closer to 0 than this times their unit
/// ([`ThetaLayout::units`]; 1 for random-effects columns of ordinary size)
/// count as at their bound.
pub const SINGULAR_TOL: f64 = 1e-8;

/// What every fitted mixed model answers.
///
/// Quantities are those at the model's current state: after a fit, the
/// optimum; before it, the starting values (use
/// [`is_fitted`](Self::is_fitted) to tell).
///
/// # Examples
///
/// The extractors of a fitted linear mixed model (the trait must be in scope):
///
/// ```
/// use mixedmodels::{data::{Column, Data}, LinearMixedModel, LmmOptions, MixedModel};
/// # fn main() -> mixedmodels::Result<()> {
/// let data = Data::new()
///     .with_column("y", Column::numeric(vec![1.0, 2.0, 2.5, 4.0, 3.0, 3.5]))?
///     .with_column("g", Column::from_strings(&["a", "a", "b", "b", "c", "c"]))?;
/// let mut m = LinearMixedModel::new("y ~ 1 + (1 | g)", &data, &LmmOptions::default())?;
/// m.fit(false)?;
/// // lme4 (lmer(y ~ 1 + (1 | g), REML = FALSE)): se 0.4762897, sigma 0.7637626,
/// // sd of g 0.6236096, AIC 22.33518, logLik -8.167588, ranef -2/3, 1/3, 1/3
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-5;
/// let table = m.coeftable();
/// assert_eq!(table[0].name, "(Intercept)");
/// assert!(close(table[0].stderror, 0.476_289_7));
/// assert!(close(m.residual_sd().unwrap(), 0.763_762_6));
/// assert!(close(m.varcorr().terms[0].sd[0], 0.623_609_6));
/// assert!(close(m.aic()?, 22.335_18) && close(m.loglikelihood()?, -8.167_588));
/// let b = &m.b()[0]; // conditional modes of the first term, level by level
/// assert!(close(b[0], -2.0 / 3.0) && close(b[1], 1.0 / 3.0));
/// assert_eq!((m.nobs(), m.dof(), m.is_singular()), (6, 3, false));
/// # Ok(()) }
/// ```
pub trait MixedModel {
    /// The model's terms (formula, X, random-effects terms, rows used).
    fn terms(&self) -> &ModelTerms;

    /// The layout of θ.
    fn layout(&self) -> &ThetaLayout;

    /// The current θ.
    fn theta(&self) -> &[f64];

    /// Each term's λ at the current θ (column-major v × v).
    fn lambdas(&self) -> &[Vec<f64>];

    /// Fixed-effects estimates β̂ (for the columns of X kept).
    fn beta(&self) -> Vec<f64>;

    /// The scale of the random effects and residuals: σ̂ for a linear mixed
    /// model, 1 for families without a dispersion parameter.
    fn scale(&self) -> f64;

    /// The residual standard deviation reported with the variance
    /// components (None for families without one).
    fn residual_sd(&self) -> Option<f64>;

    /// The dispersion parameter φ of a GLMM family that has one (Gamma,
    /// inverse Gaussian, NB2, Gaussian with a link); None otherwise (the
    /// default, and every linear mixed model: its σ is `residual_sd`).
    fn dispersion_parameter(&self) -> Option<f64> {
        None
    }

    /// Unscaled covariance of β̂ ((R_XᵀR_X)⁻¹), row-major p × p.
    fn unscaled_vcov(&self) -> Vec<f64>;

    /// Spherical conditional modes û per term (column-major v × ℓ).
    fn u(&self) -> Vec<Vec<f64>>;

    /// Unscaled conditional covariance of b per level of each term (per
    /// term ℓ column-major v × v blocks of λ M λᵀ).
    fn unscaled_condvar(&self) -> Vec<Vec<f64>>;

    /// Fitted values on the response scale (empty for a model without its
    /// rows: [`has_rows`](Self::has_rows)).
    fn fitted(&self) -> Vec<f64>;

    /// Does the model hold the rows of its data? False for a linear mixed
    /// model built from chunks (`crate::stream::ModelBuilder`): its values
    /// per row (fitted values, residuals, leverage) are then empty, and
    /// simulations and predictions for the fitted rows are refused with
    /// [`Error::RowsNotStored`](crate::error::Error::RowsNotStored).
    fn has_rows(&self) -> bool {
        true
    }

    /// The objective the fit minimises (−2ℓ, the REML criterion, or the
    /// Laplace/quadrature deviance).
    fn objective(&self) -> f64;

    /// The log-likelihood (an error where it is not defined, e.g. REML).
    fn loglikelihood(&self) -> Result<f64>;

    /// Number of parameters counted by the information criteria.
    fn dof(&self) -> usize;

    /// The record of the last fit, if fitted.
    fn fit_record(&self) -> Option<&FitRecord>;

    /// Replace the response (same rows), keeping all symbolic work; the
    /// model becomes unfitted.
    fn set_response(&mut self, y: &[f64]) -> Result<()>;

    /// Number of observations used.
    fn nobs(&self) -> usize {
        self.terms().nobs()
    }

    /// Has the model been fitted (and not changed since)?
    fn is_fitted(&self) -> bool {
        self.fit_record().is_some()
    }

    /// Names of β's coefficients.
    fn coef_names(&self) -> Vec<String> {
        self.terms().fixed.coef_names()
    }

    /// Covariance matrix of β̂, row-major p × p.
    fn vcov(&self) -> Vec<f64> {
        let s2 = self.scale().powi(2);
        self.unscaled_vcov().into_iter().map(|v| v * s2).collect()
    }

    /// Standard errors of β̂.
    fn stderror(&self) -> Vec<f64> {
        let v = self.vcov();
        let p = self.terms().fixed.rank();
        (0..p).map(|i| v[i * p + i].sqrt()).collect()
    }

    /// The fixed-effects table: estimate, standard error, z and p.
    fn coeftable(&self) -> Vec<CoefRow> {
        CoefRow::table(self.coef_names(), &self.beta(), &self.stderror())
    }

    /// Conditional modes of the random effects b = Λû per term
    /// (column-major v × ℓ; lme4's `ranef`).
    fn b(&self) -> Vec<Vec<f64>> {
        self.u()
            .into_iter()
            .zip(self.lambdas())
            .zip(&self.terms().random)
            .map(|((u, lam), t)| t.b_from_u(lam, &u))
            .collect()
    }

    /// Conditional covariance of b per level of each term (lme4's
    /// `condVar`): per term, ℓ column-major v × v blocks.
    fn condvar(&self) -> Vec<Vec<f64>> {
        let s2 = self.scale().powi(2);
        let mut cv = self.unscaled_condvar();
        cv.iter_mut()
            .for_each(|blocks| blocks.iter_mut().for_each(|x| *x *= s2));
        cv
    }

    /// Variance components.
    fn varcorr(&self) -> VarCorr {
        VarCorr::new(
            &self.terms().random,
            self.lambdas(),
            self.scale(),
            self.residual_sd(),
        )
    }

    /// Akaike's information criterion −2ℓ + 2·dof.
    fn aic(&self) -> Result<f64> {
        Ok(-2.0 * self.loglikelihood()? + 2.0 * self.dof() as f64)
    }

    /// AIC with the small-sample correction.
    fn aicc(&self) -> Result<f64> {
        let k = self.dof() as f64;
        let n = self.nobs() as f64;
        Ok(self.aic()? + 2.0 * k * (k + 1.0) / (n - k - 1.0))
    }

    /// Schwarz's criterion −2ℓ + dof·log n.
    fn bic(&self) -> Result<f64> {
        Ok(-2.0 * self.loglikelihood()? + self.dof() as f64 * (self.nobs() as f64).ln())
    }

    /// Is some variance component estimated at its bound of zero?
    fn is_singular(&self) -> bool {
        !self
            .layout()
            .at_bound(self.theta(), SINGULAR_TOL)
            .is_empty()
    }
}

/// Check a new response for a model of `n` observations: its length (the
/// values are checked by the model, for its family).
pub(crate) fn check_new_response(y: &[f64], n: usize) -> Result<()> {
    if y.len() != n {
        return Err(crate::error::Error::argument(
            "y",
            format!(
                "new response has length {}, the model has {n} observations",
                y.len()
            ),
        ));
    }
    Ok(())
}
