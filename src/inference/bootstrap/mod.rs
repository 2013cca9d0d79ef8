//! The parametric bootstrap (lme4's `bootMer`, MixedModels.jl's
//! `parametricbootstrap`): draw `n` responses from a fitted model, refit the
//! model to each and collect the estimates.
//!
//! Replicate k's response is [`simulate`](crate::model::simulate)'s column
//! k for the same seed (ChaCha8 on stream k, see
//! [`Simulator`](crate::model::Simulator)), so a replicate depends only on
//! (seed, k): the table is the same whatever the number of threads.
//! Replicates are refitted on a pool of `threads` rayon workers, each
//! holding one clone of the fitted model (its terms shared, its symbolic
//! work kept: only the response changes, see [`Refit`]); the calling thread
//! reports progress and watches for interruption. A fit that fails or
//! does not converge is kept as a row that says so, not dropped.
//!
//! [`intervals`] holds the coverage intervals computed from the replicates
//! (the shortest, MixedModels.jl's `shortestcovint`, and percentile ones).

pub mod intervals;
mod refit;
mod run;

pub use crate::model::{variance_components, FitEstimates};
pub use intervals::{coverage_interval, IntervalMethod};
pub use refit::Refit;
pub use run::{parametric_bootstrap, BootstrapOptions};

use crate::error::{Error, Result};

/// Are two sets of generating values equal, bit for bit (NaN equal to NaN)?
fn same_values(a: &GeneratingValues, b: &GeneratingValues) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    a.objective.to_bits() == b.objective.to_bits()
        && a.sigma.map(f64::to_bits) == b.sigma.map(f64::to_bits)
        && a.dispersion.map(f64::to_bits) == b.dispersion.map(f64::to_bits)
        && bits(&a.beta) == bits(&b.beta)
        && bits(&a.theta) == bits(&b.theta)
        && bits(&a.components) == bits(&b.components)
}

/// The estimates of one replicate: a refit's [`FitEstimates`].
pub type Replicate = FitEstimates;

/// The parameter values the responses were drawn from, in the shape of a
/// replicate's estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratingValues {
    /// The fitted model's objective.
    pub objective: f64,
    /// σ (None for models without one).
    pub sigma: Option<f64>,
    /// φ of a GLMM family with a dispersion parameter (None otherwise).
    pub dispersion: Option<f64>,
    /// β.
    pub beta: Vec<f64>,
    /// θ.
    pub theta: Vec<f64>,
    /// θ as variance components.
    pub components: Vec<f64>,
}

/// The replicates of a parametric bootstrap, in replicate order, with the
/// names of their columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ParametricBootstrap {
    /// The seed of the draws.
    pub seed: u64,
    /// The index of the first replicate (0 unless this is a block of a
    /// bootstrap run in parts, see [`merge`](Self::merge)).
    pub first: usize,
    /// Names of β's coefficients.
    pub coef_names: Vec<String>,
    /// lme4's names of θ (`Subject.(Intercept)`, …).
    pub theta_names: Vec<String>,
    /// lme4's names of the variance components (`sd_(Intercept)|Subject`, …).
    pub component_names: Vec<String>,
    /// The values the responses were drawn from.
    pub generating: GeneratingValues,
    /// One entry per replicate, replicate `first + k` at index k.
    pub replicates: Vec<Replicate>,
}

/// One row of [`ParametricBootstrap::confint`].
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    /// The parameter (lme4's `confint(oldNames = FALSE)` name).
    pub parameter: String,
    /// The value the responses were drawn from.
    pub estimate: f64,
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
}

impl ParametricBootstrap {
    /// Join blocks of one bootstrap (the same model, seed and generating
    /// values; see [`BootstrapOptions::first`]) into the bootstrap of all
    /// their replicates, in replicate order. The result equals the bootstrap
    /// run in one piece, bit for bit: replicate k depends only on (seed, k).
    ///
    /// Errors: [`Error::Argument`] (parameter `blocks`) for no blocks, blocks
    /// of different seeds, names or generating values, or blocks that leave
    /// a gap or overlap.
    pub fn merge(mut blocks: Vec<ParametricBootstrap>) -> Result<ParametricBootstrap> {
        let bad = |m: String| Error::argument("blocks", m);
        blocks.sort_by_key(|b| b.first);
        let mut iter = blocks.into_iter();
        let mut out = iter
            .next()
            .ok_or_else(|| bad("no blocks to merge".into()))?;
        for b in iter {
            let next = out.first + out.replicates.len();
            if b.first != next {
                return Err(bad(format!(
                    "a block starts at replicate {}, the blocks before it end at {next}",
                    b.first
                )));
            }
            let same = b.seed == out.seed
                && b.coef_names == out.coef_names
                && b.theta_names == out.theta_names
                && b.component_names == out.component_names
                && same_values(&b.generating, &out.generating);
            if !same {
                return Err(bad(format!(
                    "the block from replicate {} is of another bootstrap (seed, names or \
                     generating values differ)",
                    b.first
                )));
            }
            out.replicates.extend(b.replicates);
        }
        Ok(out)
    }

    /// Does the model have a residual standard deviation?
    pub fn has_sigma(&self) -> bool {
        self.generating.sigma.is_some()
    }

    /// The parameters of [`confint`](Self::confint) in lme4's
    /// `confint(oldNames = FALSE)` order: the variance components, `sigma`
    /// (if the model has one), then the fixed effects; with the value each
    /// was drawn from.
    pub fn parameters(&self) -> Vec<(String, f64)> {
        let g = &self.generating;
        let components = self
            .component_names
            .iter()
            .cloned()
            .zip(g.components.clone());
        let sigma = g.sigma.map(|s| ("sigma".to_string(), s));
        let beta = self.coef_names.iter().cloned().zip(g.beta.clone());
        components.chain(sigma).chain(beta).collect()
    }

    /// The replicates' values of parameter `i` of [`parameters`](Self::parameters).
    pub fn values(&self, i: usize) -> Vec<f64> {
        let k = self.component_names.len();
        let s = usize::from(self.has_sigma());
        self.replicates
            .iter()
            .map(|r| {
                if i < k {
                    r.components[i]
                } else if i < k + s {
                    r.sigma.unwrap_or(f64::NAN)
                } else {
                    r.beta[i - k - s]
                }
            })
            .collect()
    }

    /// Coverage intervals of every parameter at `level` by `method`, from
    /// the replicates with a finite value (see [`coverage_interval`]).
    pub fn confint(&self, level: f64, method: IntervalMethod) -> Result<Vec<IntervalRow>> {
        self.parameters()
            .into_iter()
            .enumerate()
            .map(|(i, (parameter, estimate))| {
                let (lower, upper) = coverage_interval(&self.values(i), level, method)?;
                Ok(IntervalRow {
                    parameter,
                    estimate,
                    lower,
                    upper,
                })
            })
            .collect()
    }
}
