//! Linear mixed-effects models: y = Xβ + Zb + ε, b = Λθ u, u ~ N(0, σ²I),
//! ε ~ N(0, σ²W⁻¹), fitted by minimising the profiled deviance (ML) or the
//! REML criterion over θ (Bates et al. 2015).

mod extract;
mod fit;
mod glmm_hooks;
mod objective;
mod summary;

pub use extract::{CoefRow, VarCorr, VarCorrTerm};
pub use fit::{FitLogEntry, OptSummary};

use faer::{Mat, Par};

use crate::blocks::{allocate_l, Block, Structure, Workspace};
use crate::contrasts::Coding;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::terms::{MissingPolicy, ModelTerms, TermOptions, Variable};
use std::collections::HashMap;

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

/// A linear mixed-effects model: its terms, the blocked system and, once
/// fitted, the optimum.
pub struct LinearMixedModel {
    /// Terms built from the formula and data.
    pub terms: ModelTerms,
    /// Block structure of A and L.
    pub structure: Structure,
    a: Vec<Block>,
    l: Vec<Block>,
    ws: Workspace,
    /// √w-weighted [X y], n × (p + 1).
    xy: Mat<f64>,
    sqrtw: Option<Vec<f64>>,
    y: Vec<f64>,
    theta: Vec<f64>,
    lambdas: Vec<Vec<f64>>,
    reml: bool,
    sigma_fixed: Option<f64>,
    /// Σ log wᵢ (0 without weights).
    log_weights: f64,
    optsum: Option<OptSummary>,
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
        let p = terms.fixed.rank();
        let sqrtw: Option<Vec<f64>> = weights
            .as_ref()
            .map(|w| w.iter().map(|v| v.sqrt()).collect());
        let log_weights = weights
            .as_ref()
            .map_or(0.0, |w| w.iter().map(|v| v.ln()).sum());
        let xy = weighted_xy(&terms, &y, sqrtw.as_deref());
        let structure = Structure::new(&terms.random, p, n);
        let mut a = structure.zeros_a();
        structure.fill_a(&mut a, &terms.random, &xy, sqrtw.as_deref());
        let l = allocate_l(&a, &structure);
        let par = match threads {
            Some(1) => Par::Seq,
            Some(t) => Par::rayon(t),
            None => Par::rayon(0),
        };
        let ws = Workspace::new(&l, par);
        let theta: Vec<f64> = terms
            .random
            .iter()
            .flat_map(|t| t.initial_theta())
            .collect();
        let lambdas = terms
            .random
            .iter()
            .map(|t| vec![0.0; t.ncols() * t.ncols()])
            .collect();
        let mut m = LinearMixedModel {
            terms,
            structure,
            a,
            l,
            ws,
            xy,
            sqrtw,
            y,
            theta: theta.clone(),
            lambdas,
            reml: false,
            sigma_fixed: sigma,
            log_weights,
            optsum: None,
        };
        m.set_theta(&theta)?;
        Ok(m)
    }

    /// Number of observations.
    pub fn nobs(&self) -> usize {
        self.structure.n
    }

    /// Rank of X (number of fixed-effects coefficients estimated).
    pub fn rank(&self) -> usize {
        self.structure.p
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

    /// The response vector.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// The case weights of the rows used, if any.
    pub fn weights(&self) -> Option<Vec<f64>> {
        self.sqrtw
            .as_ref()
            .map(|s| s.iter().map(|v| v * v).collect())
    }

    /// Replace the response (same length) and refill A, keeping all symbolic work.
    pub fn set_response(&mut self, y: &[f64]) -> Result<()> {
        if y.len() != self.nobs() {
            return Err(Error::argument(
                "y",
                format!(
                    "new response has length {}, the model has {} observations",
                    y.len(),
                    self.nobs()
                ),
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::argument(
                "y",
                format!("new response holds a non-finite value in row {i}"),
            ));
        }
        self.y.copy_from_slice(y);
        self.refill_a();
        let theta = self.theta.clone();
        self.set_theta(&theta)
    }

    /// Install a working response and working weights (√w per observation) and
    /// refill A, keeping all symbolic work: the inner step of PIRLS for GLMMs.
    /// Does not refactor L; call [`set_theta`](Self::set_theta) afterwards.
    pub fn set_working(&mut self, y: &[f64], sqrtw: &[f64]) -> Result<()> {
        let n = self.nobs();
        if y.len() != n || sqrtw.len() != n {
            return Err(Error::argument(
                "y",
                format!(
                    "working response and weights must have length {n}, got {} and {}",
                    y.len(),
                    sqrtw.len()
                ),
            ));
        }
        self.set_working_with(|yw, sw| {
            yw.copy_from_slice(y);
            sw.copy_from_slice(sqrtw);
        });
        Ok(())
    }

    /// As [`set_working`](Self::set_working), with `fill` writing the working
    /// response and √w straight into the model's buffers (length n each).
    pub fn set_working_with(&mut self, fill: impl FnOnce(&mut [f64], &mut [f64])) {
        let n = self.nobs();
        let sqrtw = self.sqrtw.get_or_insert_with(|| vec![0.0; n]);
        fill(&mut self.y, sqrtw);
        self.log_weights = 0.0;
        self.refill_a();
    }

    /// Recompute the weighted [X y] and A from the current response and
    /// weights (the pattern and L's layout are kept); the last fit is forgotten.
    fn refill_a(&mut self) {
        fill_weighted_xy(&mut self.xy, &self.terms, &self.y, self.sqrtw.as_deref());
        self.structure.fill_a(
            &mut self.a,
            &self.terms.random,
            &self.xy,
            self.sqrtw.as_deref(),
        );
        self.optsum = None;
    }

    /// Blocks of L (for inspection and the extractors).
    pub fn l_blocks(&self) -> &[Block] {
        &self.l
    }

    /// Blocks of A.
    pub fn a_blocks(&self) -> &[Block] {
        &self.a
    }

    /// A one-line description per block row of L: the kind of each block.
    pub fn block_description(&self) -> Vec<Vec<&'static str>> {
        let k = self.structure.nterms;
        (0..=k)
            .map(|i| {
                (0..=i)
                    .map(|j| self.l[crate::blocks::tri(i, j)].kind_name())
                    .collect()
            })
            .collect()
    }
}

/// [X y] with each row multiplied by √wᵢ.
fn weighted_xy(terms: &ModelTerms, y: &[f64], sqrtw: Option<&[f64]>) -> Mat<f64> {
    let mut xy = Mat::zeros(terms.nobs(), terms.fixed.rank() + 1);
    fill_weighted_xy(&mut xy, terms, y, sqrtw);
    xy
}

/// Write [X y] with each row multiplied by √wᵢ into `xy`, column by column.
fn fill_weighted_xy(xy: &mut Mat<f64>, terms: &ModelTerms, y: &[f64], sqrtw: Option<&[f64]>) {
    let n = terms.nobs();
    let p = terms.fixed.rank();
    for j in 0..=p {
        let src = if j < p {
            &terms.fixed.x[j * n..(j + 1) * n]
        } else {
            y
        };
        let col = xy.col_mut(j).try_as_col_major_mut().unwrap().as_slice_mut();
        match sqrtw {
            Some(w) => col
                .iter_mut()
                .zip(src.iter().zip(w))
                .for_each(|(c, (v, w))| *c = v * w),
            None => col.copy_from_slice(src),
        }
    }
}
