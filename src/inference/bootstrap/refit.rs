//! What the bootstrap asks of a model: refitting a copy of it to a new
//! response (the estimates are read off the copy by
//! [`FitEstimates::of_fit`](crate::model::FitEstimates::of_fit)).

use crate::error::Result;
use crate::glmm::GeneralizedLinearMixedModel;
use crate::interrupt::Interrupt;
use crate::lmm::LinearMixedModel;
use crate::model::{FitSettings, Simulate};

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
