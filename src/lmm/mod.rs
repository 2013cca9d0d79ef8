//! Linear mixed-effects models: y = Xβ + Zb + ε, b = Λθ u, u ~ N(0, σ²I),
//! ε ~ N(0, σ²W⁻¹), fitted by minimising the profiled deviance (ML) or the
//! REML criterion over θ (Bates et al. 2015).

mod extract;
mod fit;
mod gradient;
mod objective;
mod restore;
mod summary;

pub use crate::model::{CoefRow, FitLogEntry, FitRecord, VarCorr, VarCorrTerm};

use std::collections::HashMap;
use std::sync::Arc;

use crate::blocks::{Block, Structure};
use crate::contrasts::Coding;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
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
}

/// A linear mixed-effects model: its terms, the θ layout, the penalised
/// least-squares engine and, once fitted, the fit record.
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
}

impl LinearMixedModel {
    /// Build (but do not fit) the model `formula` on `data`.
    pub fn new(formula: &str, data: &Data, options: &LmmOptions) -> Result<Self> {
        let term_options = TermOptions {
            contrasts: options.contrasts.clone(),
            missing: options.missing,
            zerocorr: options.zerocorr.clone(),
        };
        let terms = ModelTerms::new(formula, data, &term_options)?;
        if let Some(w) = &options.weights {
            if w.len() != data.nrows() {
                return Err(Error::argument(
                    "weights",
                    format!(
                        "weights has length {}, the data have {} rows",
                        w.len(),
                        data.nrows()
                    ),
                ));
            }
        }
        let weights = options
            .weights
            .as_ref()
            .map(|w| terms.rows.iter().map(|&i| w[i]).collect::<Vec<f64>>());
        Self::from_terms(terms, weights, options.sigma, options.threads)
    }

    /// Build the model from already constructed terms and weights for the
    /// rows used.
    pub fn from_terms(
        terms: ModelTerms,
        weights: Option<Vec<f64>>,
        sigma: Option<f64>,
        threads: Option<usize>,
    ) -> Result<Self> {
        if terms.counts.is_some() {
            return Err(Error::Term {
                term: terms.response_name.clone(),
                message: "`cbind(successes, failures)` is the response of a binomial model; a \
                          linear mixed model needs a single numeric response"
                    .into(),
            });
        }
        let n = terms.nobs();
        let y = match &terms.response {
            Variable::Numeric(v) => v.clone(),
            Variable::Factor { .. } => {
                let name = &terms.response_name;
                let message = "the response is categorical; a linear mixed model needs a numeric \
                               response (use a generalized linear mixed model for a binary response)";
                return Err(Error::wrong_type(name, name, message));
            }
        };
        let mean = y.iter().sum::<f64>() / n as f64;
        if y.iter()
            .all(|v| (v - mean).abs() <= 1e-12 * mean.abs().max(1.0))
        {
            return Err(Error::Term {
                term: terms.response_name.clone(),
                message: format!("the response has zero variance (every value is {mean})"),
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
        // As lme4's check.nobs.vs.nRE, per formula term (block of λ).
        for t in &terms.random {
            let widest = t.block_sizes().into_iter().max().unwrap_or(0);
            if t.nlevels() * widest > n {
                return Err(Error::Term {
                    term: t.grouping.clone(),
                    message: format!(
                        "has {} random effects ({} levels × {} columns) but there are only {} observations",
                        t.nlevels() * widest,
                        t.nlevels(),
                        widest,
                        n
                    ),
                });
            }
        }
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

    /// The response vector.
    pub fn y(&self) -> &[f64] {
        self.engine.y()
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
