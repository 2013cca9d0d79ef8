//! The estimates of one fit as a row of numbers (objective, σ, φ, β, θ and
//! θ as variance components, whether it converged): what a parametric
//! bootstrap keeps of each replicate and a many-response fit of each
//! response.

use crate::error::Error;
use crate::model::{CertificateStatus, MixedModel, VarCorr};
use crate::terms::ThetaLayout;

/// The estimates of one fit (NaN everywhere for a fit that failed): a row
/// of a parametric bootstrap or of a many-response fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitEstimates {
    /// The objective at the optimum (−2ℓ, REML criterion or the GLMM's deviance).
    pub objective: f64,
    /// The residual standard deviation (None for models without one).
    pub sigma: Option<f64>,
    /// The dispersion φ̂ of a GLMM family that has one (None otherwise).
    pub dispersion: Option<f64>,
    /// Fixed effects β̂.
    pub beta: Vec<f64>,
    /// Covariance parameters θ̂.
    pub theta: Vec<f64>,
    /// θ̂ as variance components, one per θ entry (see [`variance_components`]).
    pub components: Vec<f64>,
    /// Did the optimizer converge and the convergence certificate not fail?
    pub converged: bool,
    /// Why the fit failed or did not converge, if it did not.
    pub warning: Option<String>,
}

/// θ's entries as variance components, in θ's order (the order of
/// [`ThetaLayout::component_names`]): the standard deviation of the
/// column for an entry on λ's diagonal, the correlation of its row and
/// column off it (NaN when one of the two standard deviations is zero).
pub fn variance_components(layout: &ThetaLayout, vc: &VarCorr) -> Vec<f64> {
    layout
        .entries()
        .iter()
        .map(|e| {
            let t = &vc.terms[e.term];
            let v = t.sd.len();
            if e.is_diagonal() {
                t.sd[e.row]
            } else {
                t.correlation[e.col * v + e.row].unwrap_or(f64::NAN)
            }
        })
        .collect()
}

impl FitEstimates {
    /// The estimates of a freshly fitted model.
    pub(crate) fn of_fit(m: &impl MixedModel) -> FitEstimates {
        let (converged, warning) = match m.fit_record() {
            None => (false, Some("the model is not fitted".to_string())),
            Some(r) if !r.converged() => (false, Some(r.return_code_text())),
            Some(r) if r.certificate.status == CertificateStatus::Failed => (
                false,
                Some(format!(
                    "the convergence certificate failed (largest scaled gradient component {:.3e})",
                    r.certificate.max_scaled
                )),
            ),
            Some(_) => (true, None),
        };
        FitEstimates {
            objective: m.objective(),
            sigma: m.residual_sd(),
            dispersion: m.dispersion_parameter(),
            beta: m.beta(),
            theta: m.theta().to_vec(),
            components: variance_components(m.layout(), &m.varcorr()),
            converged,
            warning,
        }
    }

    /// The row of a fit that failed with `error`: NaN estimates.
    pub(crate) fn failed(m: &impl MixedModel, error: &Error) -> FitEstimates {
        let nan = |k: usize| vec![f64::NAN; k];
        FitEstimates {
            objective: f64::NAN,
            sigma: m.residual_sd().map(|_| f64::NAN),
            dispersion: m.dispersion_parameter().map(|_| f64::NAN),
            beta: nan(m.terms().fixed.rank()),
            theta: nan(m.layout().len()),
            components: nan(m.layout().len()),
            converged: false,
            warning: Some(error.to_string()),
        }
    }
}
