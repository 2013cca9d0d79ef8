//! Linear mixed-effects models: y = Xβ + Zb + ε, b = Λθ u, u ~ N(0, σ²I),
//! ε ~ N(0, σ²W⁻¹), fitted by minimising the profiled deviance (ML) or the
//! REML criterion over θ (Bates et al. 2015).

mod extract;
mod fit;
mod gradient;
mod influence;
pub mod many;
pub mod memory;
mod objective;
mod restore;
mod start;
mod streamed;
mod summary;
mod variance;

pub use crate::model::{CoefRow, FitLogEntry, FitRecord, VarCorr, VarCorrTerm};

use std::collections::HashMap;
use std::sync::Arc;

use crate::blocks::{Block, Structure};
use crate::checks::{CheckAction, ModelWarning};
use crate::contrasts::Coding;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::MixedModel;
use crate::pls::PlsEngine;
use crate::terms::{MissingPolicy, ModelTerms, TermOptions, ThetaLayout, Variable};

/// Options of a linear mixed model.
#[derive(Debug, Clone, Default)]
pub struct LmmOptions {
    /// Coding per column (a numeric column given a coding becomes categorical).
    pub contrasts: HashMap<String, Coding>,
    /// Drop or refuse rows with missing values.
    pub missing: MissingPolicy,
    /// Case (prior) weights, one per row of the input data.
    pub weights: Option<Vec<f64>>,
    /// Fix the residual standard deviation σ instead of estimating it.
    pub sigma: Option<f64>,
    /// Threads for the dense kernels (None: all available).
    pub threads: Option<usize>,
    /// Grouping factors whose terms are made uncorrelated (`zerocorr!`).
    pub zerocorr: Vec<String>,
    /// An offset, one per row of the input data (added to any `offset(...)`
    /// terms of the formula): the model is fitted to y − offset and the
    /// fitted values include it, as lme4's `lmer(..., offset = )`.
    pub offset: Option<Vec<f64>>,
    /// What to do when a grouping factor has too many levels, or a term too
    /// many random effects, for the observations (see [`crate::checks::check_nobs`]).
    pub check_nobs: CheckAction,
}

/// A linear mixed-effects model: its terms, the θ layout, the penalised
/// least-squares engine and, once fitted, the fit record. A clone is an
/// independent model (the terms are shared) that shares the original's
/// interrupt flag until given its own by [`set_interrupt`](Self::set_interrupt).
#[derive(Clone)]
pub struct LinearMixedModel {
    /// Terms built from the formula and data.
    pub terms: Arc<ModelTerms>,
    layout: ThetaLayout,
    engine: PlsEngine,
    reml: bool,
    sigma_fixed: Option<f64>,
    /// Σ log wᵢ (0 without weights).
    log_weights: f64,
    threads: Option<usize>,
    interrupt: Interrupt,
    record: Option<FitRecord>,
    /// The response as given (the engine holds y − offset).
    response: Vec<f64>,
    /// The offset of the rows used, if any.
    offset: Option<Vec<f64>>,
    /// Warnings found while building the model.
    warnings: Vec<ModelWarning>,
}

impl LinearMixedModel {
    /// Build (but do not fit) the model `formula` on `data`.
    ///
    /// # Errors
    ///
    /// [`Error`](crate::Error) variants for a formula that does not parse or has no
    /// random-effects term, a column that is missing or of the wrong type, missing
    /// values with `MissingPolicy::Raise`, too few observations for a grouping
    /// factor (`options.check_nobs`), or bad weights, offset or `sigma`.
    ///
    /// # Examples
    ///
    /// The Dyestuff data (Davies 1947), fitted by ML and by REML:
    ///
    /// ```
    /// use mixedmodels::{data::{Column, Data}, LinearMixedModel, LmmOptions, MixedModel};
    /// # fn main() -> mixedmodels::Result<()> {
    /// let batch = ["A", "B", "C", "D", "E", "F"].map(|b| [b; 5]).concat();
    /// let data = Data::new()
    ///     .with_column("Yield", Column::numeric(vec![
    ///         1545.0, 1440.0, 1440.0, 1520.0, 1580.0, 1540.0, 1555.0, 1490.0, 1560.0, 1495.0,
    ///         1595.0, 1550.0, 1605.0, 1510.0, 1560.0, 1445.0, 1440.0, 1595.0, 1465.0, 1545.0,
    ///         1595.0, 1630.0, 1515.0, 1635.0, 1625.0, 1520.0, 1455.0, 1450.0, 1480.0, 1445.0,
    ///     ]))?
    ///     .with_column("Batch", Column::from_strings(&batch))?;
    /// let mut m = LinearMixedModel::new("Yield ~ 1 + (1 | Batch)", &data, &LmmOptions::default())?;
    /// assert!(!m.is_fitted());
    /// m.fit(false)?;
    /// // lme4: deviance(lmer(Yield ~ 1 + (1 | Batch), Dyestuff, REML = FALSE)) = 327.3271
    /// assert!((m.objective() - 327.327_06).abs() < 1e-4);
    /// assert!((m.beta()[0] - 1527.5).abs() < 1e-6);
    /// m.fit(true)?; // REML criterion 319.6543
    /// assert!((m.objective() - 319.654_3).abs() < 1e-4);
    /// # Ok(()) }
    /// ```
    pub fn new(formula: &str, data: &Data, options: &LmmOptions) -> Result<Self> {
        let term_options = TermOptions {
            contrasts: options.contrasts.clone(),
            missing: options.missing,
            zerocorr: options.zerocorr.clone(),
        };
        let terms = ModelTerms::new(formula, data, &term_options)?;
        let per_row = |v: &Option<Vec<f64>>, what: &str| terms.rows_used(v.as_deref(), what);
        let weights = per_row(&options.weights, "weights")?;
        let offset = per_row(&options.offset, "offset")?;
        Self::from_terms(terms, weights, offset, options)
    }

    /// Build the model from already constructed terms, with the weights and
    /// offset of the rows used (the offset is added to the formula's
    /// `offset(...)` terms); σ, threads and the check action come from `options`.
    pub fn from_terms(
        terms: ModelTerms,
        weights: Option<Vec<f64>>,
        offset: Option<Vec<f64>>,
        options: &LmmOptions,
    ) -> Result<Self> {
        let (sigma, threads) = (options.sigma, options.threads);
        if terms.counts.is_some() {
            return Err(Error::Term {
                term: terms.response_name.clone(),
                message: "`cbind(successes, failures)` is the response of a binomial model; a \
                          linear mixed model needs a single numeric response"
                    .into(),
            });
        }
        if terms.random.is_empty() {
            return Err(Error::NoRandomEffects {
                formula: terms.spec.source.clone(),
            });
        }
        let n = terms.nobs();
        let response = match &terms.response {
            Variable::Numeric(v) => v.clone(),
            Variable::Factor { .. } => {
                let name = &terms.response_name;
                let message = "the response is categorical; a linear mixed model needs a numeric \
                               response (use a generalized linear mixed model for a binary response)";
                return Err(Error::wrong_type(name, name, message));
            }
        };
        let offset = combine_offsets(&terms, offset)?;
        let y = subtract_offset(&response, offset.as_deref());
        let mean = y.iter().sum::<f64>() / n as f64;
        if y.iter()
            .all(|v| (v - mean).abs() <= 1e-12 * mean.abs().max(1.0))
        {
            return Err(Error::Term {
                term: terms.response_name.clone(),
                message: format!(
                    "the response{} has zero variance (every value is {mean})",
                    if offset.is_some() {
                        " minus the offset"
                    } else {
                        ""
                    }
                ),
            });
        }
        if let Some(w) = &weights {
            if let Some(i) = w.iter().position(|v| !v.is_finite() || *v <= 0.0) {
                return Err(Error::Row {
                    column: "weights".into(),
                    row: terms.rows[i],
                    message: format!("weights must be positive and finite, got {}", w[i]),
                });
            }
        }
        if let Some(s) = sigma {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::argument(
                    "sigma",
                    format!("a fixed sigma must be positive and finite, got {s}"),
                ));
            }
        }
        let warnings = crate::checks::build_checks(&terms, options.check_nobs, false)?;
        let sqrtw: Option<Vec<f64>> = weights
            .as_ref()
            .map(|w| w.iter().map(|v| v.sqrt()).collect());
        let log_weights = weights
            .as_ref()
            .map_or(0.0, |w| w.iter().map(|v| v.ln()).sum());
        let terms = Arc::new(terms);
        let layout = ThetaLayout::new(&terms.random);
        let engine = PlsEngine::new(terms.clone(), true, y, sqrtw, threads);
        let mut m = LinearMixedModel {
            terms,
            layout,
            engine,
            reml: false,
            sigma_fixed: sigma,
            log_weights,
            threads,
            interrupt: Interrupt::new(),
            record: None,
            response,
            offset,
            warnings,
        };
        let theta0 = m.layout.initial();
        m.set_theta(&theta0)?;
        Ok(m)
    }

    /// The θ layout: names, bounds, starting values, λ's pattern.
    pub fn layout(&self) -> &ThetaLayout {
        &self.layout
    }

    /// The penalised least-squares engine.
    pub fn engine(&self) -> &PlsEngine {
        &self.engine
    }

    /// The block structure of A and L.
    pub fn structure(&self) -> &Structure {
        self.engine.structure()
    }

    /// Rank of X (number of fixed-effects coefficients estimated).
    pub fn rank(&self) -> usize {
        self.engine.p()
    }

    /// Is the criterion REML (else ML)?
    pub fn is_reml(&self) -> bool {
        self.reml
    }

    /// Choose ML (false) or REML (true) for the next evaluation or fit.
    pub fn set_reml(&mut self, reml: bool) -> Result<()> {
        if reml && self.rank() == 0 {
            return Err(Error::argument(
                "reml",
                "REML needs at least one fixed-effects coefficient; the model has none",
            ));
        }
        self.reml = reml;
        Ok(())
    }

    /// The fixed residual standard deviation, if σ is not estimated.
    pub fn sigma_fixed(&self) -> Option<f64> {
        self.sigma_fixed
    }

    /// Threads for the dense kernels (None: all available).
    pub fn threads(&self) -> Option<usize> {
        self.threads
    }

    /// Use `threads` for the dense kernels of later fits (None: all).
    pub fn set_threads(&mut self, threads: Option<usize>) {
        self.threads = threads;
        self.engine.set_threads(threads);
    }

    /// The response vector (as given: the offset is not subtracted).
    pub fn y(&self) -> &[f64] {
        &self.response
    }

    /// The offset of the rows used (the formula's `offset(...)` terms plus
    /// the `offset` option), if any.
    pub fn offset(&self) -> Option<&[f64]> {
        self.offset.as_deref()
    }

    /// The model's warnings: those found while building it (reversed terms,
    /// too few observations with `check_nobs` = warn) and, once fitted, the
    /// checks of the fit (see [`crate::checks::residual_checks`]).
    pub fn warnings(&self) -> Vec<ModelWarning> {
        let mut out = self.warnings.clone();
        if self.is_fitted() && self.sigma_fixed.is_none() && self.has_rows() {
            out.extend(crate::checks::residual_checks(
                &self.terms.random,
                self.engine.y(),
                self.sigma(),
            ));
        }
        out
    }

    /// The case weights of the rows used, if any.
    pub fn weights(&self) -> Option<Vec<f64>> {
        self.engine
            .sqrtw()
            .map(|s| s.iter().map(|v| v * v).collect())
    }

    /// The flag that interrupts this model's fits (share it with whoever
    /// may press Ctrl-C; see [`crate::interrupt`]).
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Use `interrupt` for this model's fits.
    pub fn set_interrupt(&mut self, interrupt: Interrupt) {
        self.interrupt = interrupt;
    }

    /// Blocks of L (for inspection and the extractors).
    pub fn l_blocks(&self) -> &[Block] {
        self.engine.l_blocks()
    }

    /// Blocks of A.
    pub fn a_blocks(&self) -> &[Block] {
        self.engine.a_blocks()
    }

    /// A one-line description per block row of L: the kind of each block.
    pub fn block_description(&self) -> Vec<Vec<&'static str>> {
        self.engine.block_description()
    }
}

/// The formula's offsets plus the `offset` option (rows used), checked finite.
fn combine_offsets(terms: &ModelTerms, extra: Option<Vec<f64>>) -> Result<Option<Vec<f64>>> {
    if let Some(o) = &extra {
        if let Some(i) = o.iter().position(|v| !v.is_finite()) {
            return Err(Error::Row {
                column: "offset".into(),
                row: terms.rows[i],
                message: format!("the offset must be finite, got {}", o[i]),
            });
        }
    }
    Ok(match (terms.offset.clone(), extra) {
        (None, o) | (o, None) => o,
        (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| x + y).collect()),
    })
}

/// y − offset (y itself without an offset).
pub(crate) fn subtract_offset(y: &[f64], offset: Option<&[f64]>) -> Vec<f64> {
    match offset {
        None => y.to_vec(),
        Some(o) => y.iter().zip(o).map(|(y, o)| y - o).collect(),
    }
}
