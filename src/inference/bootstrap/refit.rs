//! What the bootstrap asks of a model: refitting a copy of it to a new
//! response, and reading the estimates of a replicate off the refitted copy.

use super::Replicate;
use crate::error::{Error, Result};
use crate::glmm::GeneralizedLinearMixedModel;
use crate::interrupt::Interrupt;
use crate::lmm::LinearMixedModel;
use crate::model::{CertificateStatus, FitSettings, MixedModel, Simulate, VarCorr};
use crate::terms::ThetaLayout;

/// A model the parametric bootstrap can refit: cloned once per worker, given
/// its own interrupt flag and one thread, then refitted to each replicate's
/// response ([`MixedModel::set_response`] keeps all symbolic work).
pub trait Refit: Simulate + Clone + Send + Sync {
    /// Refit to the response installed, with `settings` (the original fit's,
    /// on one thread), starting where it makes sense from `start` (the
    /// original θ̂): a linear mixed model starts its θ search there; a
    /// generalized one starts, as every GLMM fit does, from θ₀ with PIRLS
    /// from the family's starting means (its fit has no start argument).
    fn refit(&mut self, settings: &FitSettings, start: &[f64]) -> Result<()>;

    /// Use `interrupt` for this model's fits.
    fn use_interrupt(&mut self, interrupt: Interrupt);

    /// Use `threads` for this model's fits.
    fn use_threads(&mut self, threads: Option<usize>);
}

impl Refit for LinearMixedModel {
    fn refit(&mut self, settings: &FitSettings, start: &[f64]) -> Result<()> {
        self.fit_with(settings, Some(start)).map(|_| ())
    }

    fn use_interrupt(&mut self, interrupt: Interrupt) {
        self.set_interrupt(interrupt);
    }

    fn use_threads(&mut self, threads: Option<usize>) {
        self.set_threads(threads);
    }
}

impl Refit for GeneralizedLinearMixedModel {
    fn refit(&mut self, settings: &FitSettings, _start: &[f64]) -> Result<()> {
        self.fit_with(settings).map(|_| ())
    }

    fn use_interrupt(&mut self, interrupt: Interrupt) {
        self.set_interrupt(interrupt);
    }

    fn use_threads(&mut self, threads: Option<usize>) {
        self.set_threads(threads);
    }
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

impl Replicate {
    /// The estimates of a freshly refitted model.
    pub(crate) fn of_fit(m: &impl MixedModel) -> Replicate {
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
        Replicate {
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
    pub(crate) fn failed(m: &impl MixedModel, error: &Error) -> Replicate {
        let nan = |k: usize| vec![f64::NAN; k];
        Replicate {
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
