//! Generalized linear mixed-effects models (Bates et al. 2015; MixedModels.jl's
//! `GeneralizedLinearMixedModel`): the response y given the spherical random
//! effects u has a distribution from an exponential [`Family`] with mean
//! μ = g⁻¹(η), η = offset + Xβ + ZΛθ u, u ~ N(0, I).
//!
//! For given (β, θ), penalised iteratively reweighted least squares (PIRLS)
//! finds the conditional mode û by repeatedly solving the penalised weighted
//! least-squares problem of a [`PlsEngine`](crate::pls::PlsEngine) whose
//! response and weights are the working response and working weights. The objective is
//! the Laplace approximation to the deviance,
//! Σ dᵢ(yᵢ, μ̂ᵢ) + ‖û‖² + log|L_Z|² (MixedModels.jl's `deviance!`), or for
//! `nAGQ > 1` and a single scalar random-effects term, its adaptive
//! Gauss–Hermite refinement.
//!
//! A Poisson model of counts in six groups, fitted with 9-point adaptive
//! Gauss–Hermite quadrature:
//!
//! ```
//! use mixedmodels::data::{Column, Data};
//! use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
//! use mixedmodels::MixedModel;
//! # fn main() -> mixedmodels::Result<()> {
//! let y = [2., 3., 6., 7., 1., 2., 4., 5., 4., 6., 9., 12., 0., 1., 3., 3., 3., 5., 5., 9.,
//!          1., 3., 4., 8.];
//! let data = Data::new()
//!     .with_column("y", Column::numeric(y.to_vec()))?
//!     .with_column("x", Column::numeric((0..24).map(|i| (i % 4) as f64).collect()))?
//!     .with_column("g", Column::from_strings(&["a", "b", "c", "d", "e", "f"].map(|l| [l; 4]).concat()))?;
//! let mut m = GeneralizedLinearMixedModel::new(
//!     "y ~ 1 + x + (1 | g)", &data, Family::Poisson, None, &GlmmOptions::default())?;
//! m.fit(false, 9)?;
//! println!("{m}");
//! // lme4: glmer(y ~ 1 + x + (1 | g), family = poisson, nAGQ = 9):
//! // fixef 0.6472175, 0.4371605, theta 0.3679316
//! let (beta, theta) = (m.beta(), m.theta().to_vec());
//! assert!((beta[0] - 0.647_217_5).abs() < 1e-4 && (beta[1] - 0.437_160_5).abs() < 1e-4);
//! assert!((theta[0] - 0.367_931_6).abs() < 1e-4);
//! # Ok(()) }
//! ```

mod agq;
mod agq_gradient;
mod certify;
mod dispersion;
mod dispersion_quasi_newton;
mod dispersion_stderror;
mod extract;
mod fit;
mod gradient;
mod influence;
mod observations;
mod pirls;
mod quasi_newton;
mod response;
mod restore;
mod separation;
mod summary;
mod variance;

pub use crate::family::{normal_cdf, normal_quantile, Family, Link};
pub use agq::gauss_hermite_normal;
pub use extract::ResidualKind;
pub use separation::Separation;

use std::collections::HashMap;

use crate::contrasts::Coding;
use crate::data::Data;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::FitRecord;
use crate::pls::PlsEngine;
use crate::terms::{MissingPolicy, ModelTerms, TermOptions, ThetaLayout};
use response::Response;

/// Options of a generalized linear mixed model.
#[derive(Debug, Clone, Default)]
pub struct GlmmOptions {
    /// Coding per column (a numeric column given a coding becomes categorical).
    pub contrasts: HashMap<String, Coding>,
    /// Drop or refuse rows with missing values.
    pub missing: MissingPolicy,
    /// Prior weights, one per row of the input data. For the Binomial family
    /// with a proportion as the response these are the numbers of trials;
    /// with a `cbind(successes, failures)` response they must be None (the
    /// trials come from the counts).
    pub weights: Option<Vec<f64>>,
    /// An offset added to the linear predictor, one per row of the input data
    /// (added to any `offset(...)` terms of the formula).
    pub offset: Option<Vec<f64>>,
    /// Threads for the dense kernels (None: all available).
    pub threads: Option<usize>,
    /// Grouping factors whose terms are made uncorrelated (`zerocorr!`).
    pub zerocorr: Vec<String>,
    /// What to do when a grouping factor has more levels, or a term more
    /// random effects, than there are observations (glmer's rule: as many
    /// are allowed; see [`crate::checks::check_nobs`]).
    pub check_nobs: crate::checks::CheckAction,
}

/// A generalized linear mixed-effects model: terms, θ layout, family and
/// link, the penalised least-squares engines PIRLS works in, and the current
/// state (β, θ, u, η, μ). A clone is an independent model (the terms are
/// shared) that shares the original's interrupt flag until given its own by
/// [`set_interrupt`](Self::set_interrupt).
#[derive(Clone)]
pub struct GeneralizedLinearMixedModel {
    pub(crate) terms: Arc<ModelTerms>,
    pub(crate) layout: ThetaLayout,
    /// The engine with X: PIRLS with β varying, β̂ and R_X.
    pub(crate) engine: PlsEngine,
    /// The engine without X, for PIRLS at fixed β (built on first use):
    /// only L_Z and Λᵀ Zᵀ W (z − Xβ) are needed there, so A and L shrink to
    /// the random-effects blocks plus one response column.
    pub(crate) engine_u: Option<PlsEngine>,
    /// Was the last reweight done in `engine_u`?
    pub(crate) reduced_active: bool,
    pub(crate) family: Family,
    pub(crate) link: Link,
    /// Dispersion φ of the families that have one (Gamma: 1/shape, inverse
    /// Gaussian: φ, Gaussian: σ², NB2: 1/k; see [`crate::family`]); 1 otherwise.
    pub(crate) phi: f64,
    /// Did the last reweight install the observed information (Newton
    /// weights), as the Laplace approximation of the dispersion families
    /// needs? False when some observed weight was not positive.
    pub(crate) observed_weights: bool,
    /// Standard error of log φ at the fit (from the Hessian), computed on
    /// first request ([`dispersion_log_stderror`](Self::dispersion_log_stderror)).
    pub(crate) phi_log_se: std::sync::OnceLock<Option<f64>>,
    pub(crate) resp: Response,
    /// Offset of the linear predictor (zeros when none).
    pub(crate) offset: Vec<f64>,
    pub(crate) has_offset: bool,
    pub(crate) beta: Vec<f64>,
    /// Spherical random effects, stacked term by term (per term column-major v × ℓ).
    pub(crate) u: Vec<f64>,
    pub(crate) eta: Vec<f64>,
    pub(crate) mu: Vec<f64>,
    /// Unit deviances (times prior weights) at μ.
    pub(crate) devres: Vec<f64>,
    /// Do β and u hold a PIRLS solution (else PIRLS starts from the family's μ start)?
    pub(crate) started: bool,
    /// Quadrature points of the objective (1: Laplace).
    pub(crate) nagq: usize,
    pub(crate) fast: bool,
    pub(crate) record: Option<FitRecord>,
    /// PIRLS iterations of the last evaluation.
    pub(crate) last_pirls_iterations: usize,
    /// Refactorizations of L (working weights installed) since the counter was reset.
    pub(crate) factorizations: usize,
    /// o + Xβ.
    pub(crate) xb: Vec<f64>,
    /// Threads for the dense kernels of the engines.
    pub(crate) threads: Option<usize>,
    pub(crate) interrupt: Interrupt,
    /// Warnings found while building the model.
    pub(crate) warnings: Vec<crate::checks::ModelWarning>,
}

impl GeneralizedLinearMixedModel {
    /// Build (but do not fit) the model `formula` on `data` with the response
    /// distribution `family` and `link` (None: the family's canonical link).
    ///
    /// The response may be a two-level factor (Bernoulli: the second level
    /// present is the success, coded 1), numeric 0/1 (Bernoulli), proportions
    /// with the number of trials as `options.weights` (Binomial) or counts
    /// (Poisson); it may be an arithmetic expression of columns
    /// (`incidence / size`). For Binomial it may also be lme4's two-column
    /// `cbind(successes, failures)` (each an arithmetic expression of numeric
    /// columns): y = successes / trials with the trials (successes +
    /// failures) as prior weights. The counts must be non-negative whole
    /// numbers, rows without trials are refused (glmer keeps them with
    /// weight 0), and `options.weights` cannot be combined with `cbind`
    /// (glmer would multiply them into the trials).
    pub fn new(
        formula: &str,
        data: &Data,
        family: Family,
        link: Option<Link>,
        options: &GlmmOptions,
    ) -> Result<Self> {
        let link = link.unwrap_or(family.canonical_link());
        check_link(family, link)?;
        let term_options = TermOptions {
            contrasts: options.contrasts.clone(),
            missing: options.missing,
            zerocorr: options.zerocorr.clone(),
        };
        let mut terms = ModelTerms::new_glm(formula, data, &term_options)?;
        if terms.random.is_empty() {
            return Err(Error::NoRandomEffects {
                formula: terms.spec.source.clone(),
            });
        }
        let warnings = crate::checks::build_checks(&terms, options.check_nobs, true)?;
        let per_row = |v: &Option<Vec<f64>>, what: &str| terms.rows_used(v.as_deref(), what);
        let weights = per_row(&options.weights, "weights")?;
        let extra_offset = per_row(&options.offset, "offset")?;
        if let Some(o) = &extra_offset {
            if let Some(i) = o.iter().position(|v| !v.is_finite()) {
                return Err(Error::Row {
                    column: "offset".into(),
                    row: terms.rows[i],
                    message: format!("the offset must be finite, got {}", o[i]),
                });
            }
        }
        let resp = response::prepare(
            family,
            &terms.response_name,
            &terms.response,
            terms.counts.as_ref(),
            weights,
            &terms.rows,
        )?;
        let n = terms.nobs();
        let has_offset = terms.offset.is_some() || extra_offset.is_some();
        let mut offset = terms.offset.clone().unwrap_or_else(|| vec![0.0; n]);
        if let Some(o) = extra_offset {
            offset.iter_mut().zip(o).for_each(|(a, b)| *a += b);
        }
        // cbind's counts are now y and the prior weights.
        terms.counts = None;
        let terms = Arc::new(terms);
        let layout = ThetaLayout::new(&terms.random);
        // The working response is installed by PIRLS before any factorization.
        let engine = PlsEngine::new(terms.clone(), true, vec![0.0; n], None, options.threads);
        let p = engine.p();
        let q: usize = terms.random.iter().map(|t| t.nranef()).sum();
        Ok(GeneralizedLinearMixedModel {
            terms,
            layout,
            engine,
            engine_u: None,
            reduced_active: false,
            family,
            link,
            phi: 1.0,
            observed_weights: true,
            phi_log_se: std::sync::OnceLock::new(),
            resp,
            offset,
            has_offset,
            beta: vec![0.0; p],
            u: vec![0.0; q],
            eta: vec![0.0; n],
            mu: vec![0.0; n],
            devres: vec![0.0; n],
            started: false,
            nagq: 1,
            fast: false,
            record: None,
            last_pirls_iterations: 0,
            factorizations: 0,
            xb: vec![0.0; n],
            threads: options.threads,
            interrupt: Interrupt::new(),
            warnings,
        })
    }

    /// The θ layout: names, bounds, starting values, λ's pattern.
    pub fn layout(&self) -> &ThetaLayout {
        &self.layout
    }

    /// The penalised least-squares engine with X (factored at the working
    /// weights of the last PIRLS step that varied β, or of the last
    /// evaluation that refactored it).
    pub fn engine(&self) -> &PlsEngine {
        &self.engine
    }

    /// The engine factored by the last PIRLS step (the one without X when β
    /// was fixed): log|L_Z|² and the conditional variances are read from it.
    pub(crate) fn active_engine(&self) -> &PlsEngine {
        match (&self.engine_u, self.reduced_active) {
            (Some(e), true) => e,
            _ => &self.engine,
        }
    }

    /// The flag that interrupts this model's fits (see [`crate::interrupt`]).
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Use `interrupt` for this model's fits.
    pub fn set_interrupt(&mut self, interrupt: Interrupt) {
        self.interrupt = interrupt;
    }

    /// Use `threads` for the dense kernels and the per-observation loops of
    /// later fits (None: all).
    pub fn set_threads(&mut self, threads: Option<usize>) {
        self.threads = threads;
        self.engine.set_threads(threads);
        if let Some(e) = &mut self.engine_u {
            e.set_threads(threads);
        }
    }

    /// The response distribution.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The link function.
    pub fn link(&self) -> Link {
        self.link
    }

    /// The response as coded for the family (0/1, proportions or counts).
    pub fn y(&self) -> &[f64] {
        &self.resp.y
    }

    /// Prior weights (trials for Binomial; ones when none were given).
    pub fn prior_weights(&self) -> &[f64] {
        &self.resp.wt
    }

    /// Were prior weights given (else all are 1)?
    pub fn has_prior_weights(&self) -> bool {
        self.resp.has_weights
    }

    /// Warnings found while building the model (reversed terms, too many
    /// levels or random effects with `check_nobs` = warn).
    pub fn warnings(&self) -> Vec<crate::checks::ModelWarning> {
        self.warnings.clone()
    }

    /// The offset of the linear predictor, if one was given.
    pub fn offset(&self) -> Option<&[f64]> {
        self.has_offset.then_some(self.offset.as_slice())
    }

    /// For a factor response: the (failure, success) level labels.
    pub fn response_levels(&self) -> Option<(&str, &str)> {
        self.resp
            .levels
            .as_ref()
            .map(|(a, b)| (a.as_str(), b.as_str()))
    }

    /// Number of quadrature points of the objective (1: Laplace).
    pub fn nagq(&self) -> usize {
        self.nagq
    }

    /// Was the last fit `fast` (θ only, β from PIRLS)?
    pub fn is_fast(&self) -> bool {
        self.fast
    }

    /// Offsets of each term in the stacked random-effects vector (K + 1 entries).
    pub(crate) fn u_offsets(&self) -> Vec<usize> {
        let mut off = vec![0];
        for t in &self.terms.random {
            off.push(off.last().unwrap() + t.nranef());
        }
        off
    }

    /// Refuse an nAGQ this model cannot use: nAGQ = 0 is not an approximation
    /// of the likelihood, nAGQ > 1 needs a single scalar random-effects term.
    pub(crate) fn check_nagq(&self, nagq: usize) -> Result<()> {
        if nagq == 0 {
            return Err(Error::argument(
                "nagq",
                "nAGQ must be at least 1 (1: Laplace approximation; for lme4's nAGQ = 0 use fast = true)"
                    ,
            ));
        }
        if nagq > 1 {
            let re = &self.terms.random;
            if re.len() != 1 {
                return Err(Error::argument(
                    "nagq",
                    format!(
                    "nAGQ = {nagq} > 1 needs a single random-effects term, the model has {} ({}); \
                     adaptive Gauss-Hermite quadrature applies to one scalar term only",
                    re.len(),
                    re.iter()
                        .map(|t| t.grouping.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ));
            }
            if re[0].ncols() != 1 {
                return Err(Error::Term {
                    term: re[0].grouping.clone(),
                    message: format!(
                        "nAGQ = {nagq} > 1 needs a scalar random-effects term, this term has {} \
                         columns ({})",
                        re[0].ncols(),
                        re[0].column_names.join(", ")
                    ),
                });
            }
            if nagq > 100 {
                return Err(Error::argument(
                    "nagq",
                    format!("nAGQ = {nagq} is too large; use at most 100 quadrature points"),
                ));
            }
        }
        Ok(())
    }
}

/// Refuse links that cannot map η into the family's range of μ.
fn check_link(family: Family, link: Link) -> Result<()> {
    let ok = match family {
        Family::Bernoulli | Family::Binomial => {
            matches!(
                link,
                Link::Logit | Link::Probit | Link::Cloglog | Link::Log | Link::Identity
            )
        }
        Family::Poisson => matches!(link, Link::Log | Link::Identity | Link::Sqrt),
        Family::Gamma => matches!(link, Link::Log | Link::Inverse | Link::Identity),
        Family::InverseGaussian => matches!(
            link,
            Link::InverseSquare | Link::Log | Link::Inverse | Link::Identity
        ),
        Family::Gaussian => matches!(link, Link::Log | Link::Inverse | Link::Identity),
        Family::NegativeBinomial => matches!(link, Link::Log | Link::Identity | Link::Sqrt),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::argument(
            "link",
            format!(
                "the {} link is not available for the {} family",
                link.name(),
                family.name()
            ),
        ))
    }
}
