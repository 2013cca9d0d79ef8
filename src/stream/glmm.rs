//! Generalized linear mixed models from streamed data: PIRLS with one pass
//! over the chunks per iteration, so that no row is held.
//!
//! The fit is lme4's `nAGQ = 0` (`fast`): β and the conditional modes u are
//! found together by PIRLS at each θ, and θ minimises the Laplace objective
//! there, Σ dᵢ + ‖u‖² + log det(ΛᵀZᵀWZΛ + I), by BOBYQA. One PIRLS iteration
//! is one pass: each chunk's rows are coded as new data are for prediction
//! (the model's levels), η = offset + Xβ + ZΛu is formed, and the chunk adds
//! its deviance and its weighted √W[Z X z] — the working weights
//! w = μ′²/V(μ) and response z = η − offset + (y − μ)/μ′ — to the sums of A
//! ([`ModelBuilder`]). The penalised least-squares solution of those sums at θ
//! is the next (β, u); the iteration stops when the penalised deviance
//! changes by less than [`PIRLS_TOL`] relative, halving a step that raised
//! it. (Stopping one pass earlier, when the decrease the quadratic model
//! predicts for the next step is that small, leaves the mode ~√(decrease)
//! away, which log det sees linearly: 2e-9 relative in the objective.) The first pass starts from μ = the family's start (lme4's mustart).
//! Each θ starts from the last (β, u).
//!
//! The families without a dispersion parameter with a 0/1 or count response
//! (Bernoulli, Poisson) are supported, without prior weights; the data are
//! read once per PIRLS iteration (about three per evaluation of the
//! objective from a warm start). Memory: the sums of A plus one chunk.

use std::time::Instant;

use super::fitted::complete_rows;
use super::ModelBuilder;
use super::Working;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::family::{Family, Link};
use crate::interrupt::Interrupt;
use crate::lmm::{LinearMixedModel, LmmOptions};
use crate::model::driver::{run_stage, theta_optimizer};
use crate::model::{refuse_new_levels, rows_eta, MixedModel, NewLevels, Stage};
use crate::optim::ReturnCode;
use crate::terms::{MissingPolicy, ModelFrame, NewRows, Variable};

/// PIRLS stops when the penalised deviance changes by less than this,
/// relative to max(|value|, 1).
pub const PIRLS_TOL: f64 = 1e-10;
/// Most PIRLS iterations (passes) at one θ.
const PIRLS_MAX_ITER: usize = 100;
/// Most halvings of one PIRLS step.
const PIRLS_MAX_HALVINGS: usize = 10;

/// Chunks of rows read again on every pass.
pub trait ChunkSource {
    /// Call `f` on every chunk of the data, in the same order on every
    /// call (one pass).
    fn pass(&mut self, f: &mut dyn FnMut(&Data) -> Result<()>) -> Result<()>;
}

impl ChunkSource for Vec<Data> {
    fn pass(&mut self, f: &mut dyn FnMut(&Data) -> Result<()>) -> Result<()> {
        self.iter().try_for_each(f)
    }
}

/// The estimates of a streamed GLMM fit.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedGlmmFit {
    /// θ (the unscaled Cholesky factor, as for the other GLMMs).
    pub theta: Vec<f64>,
    /// Names of θ's components (`sd_(Intercept)|g`, …).
    pub theta_names: Vec<String>,
    /// The fixed effects.
    pub beta: Vec<f64>,
    /// Their names.
    pub beta_names: Vec<String>,
    /// Their standard errors, from R_X at the final weights.
    pub stderror: Vec<f64>,
    /// The objective at the optimum (−2 log L of the Laplace approximation,
    /// β from PIRLS).
    pub objective: f64,
    /// Σ dᵢ, the deviance of the conditional means.
    pub deviance: f64,
    /// Observations used.
    pub nobs: usize,
    /// Values of the objective.
    pub evaluations: usize,
    /// Passes over the data (PIRLS iterations), the building pass included.
    pub passes: usize,
    /// Did the optimizer converge?
    pub converged: bool,
    /// Why it stopped.
    pub return_code: String,
    /// Seconds of the fit.
    pub seconds: f64,
}

impl StreamedGlmmFit {
    /// The fixed-effects table (estimates, standard errors, z and two-sided
    /// normal p-values), as every model reports it.
    pub fn coeftable(&self) -> Vec<crate::model::CoefRow> {
        crate::model::CoefRow::table(self.beta_names.clone(), &self.beta, &self.stderror)
    }
}

/// (β, u) of a PIRLS iterate.
#[derive(Debug, Clone)]
struct State {
    beta: Vec<f64>,
    u: Vec<Vec<f64>>,
}

impl State {
    /// The same linear predictor at another θ: u′ = Λ(θ′)⁻¹Λ(θ)u per level
    /// (so that b = Λu, and η, are kept), or u itself where a diagonal of
    /// λ(θ′) is 0.
    fn moved(&self, terms: &[crate::terms::ReTerm], from: &[Vec<f64>], to: &[Vec<f64>]) -> State {
        let u = self
            .u
            .iter()
            .zip(terms)
            .zip(from.iter().zip(to))
            .map(|((u, t), (old, new))| {
                let v = t.ncols();
                if (0..v).any(|r| new[r * v + r] == 0.0) {
                    return u.clone();
                }
                let b = t.b_from_u(old, u);
                let mut out = vec![0.0; u.len()];
                for l in 0..t.nlevels() {
                    for r in 0..v {
                        let below: f64 = (0..r).map(|c| new[c * v + r] * out[l * v + c]).sum();
                        out[l * v + r] = (b[l * v + r] - below) / new[r * v + r];
                    }
                }
                out
            })
            .collect();
        State {
            beta: self.beta.clone(),
            u,
        }
    }
}

/// A GLMM fitted from chunks (see the module documentation).
///
/// # Example
/// ```
/// use mixedmodels::data::{Column, Data};
/// use mixedmodels::family::{Family, Link};
/// use mixedmodels::lmm::LmmOptions;
/// use mixedmodels::stream::StreamedGlmm;
///
/// let chunk = |k: usize| {
///     let y: Vec<f64> = (0..40).map(|i| ((i * 7 + k * 3) % 5 < 2) as u8 as f64).collect();
///     let g: Vec<String> = (0..40).map(|i| format!("g{}", i % 8)).collect();
///     let g: Vec<&str> = g.iter().map(String::as_str).collect();
///     Data::new()
///         .with_column("y", Column::numeric(y)).unwrap()
///         .with_column("g", Column::from_strings(&g)).unwrap()
/// };
/// let mut source = vec![chunk(0), chunk(1), chunk(2)];
/// let options = LmmOptions::default();
/// let mut m = StreamedGlmm::new("y ~ 1 + (1 | g)", Family::Bernoulli, Link::Logit, &options, &mut source).unwrap();
/// let fit = m.fit(&mut source, 1000).unwrap();
/// assert_eq!(fit.nobs, 120);
/// assert!(fit.converged);
/// ```
pub struct StreamedGlmm {
    spec: PassSpec,
    /// The model of the last pass's weighted sums: levels, coding, layout,
    /// and its factor at the last θ.
    model: LinearMixedModel,
    /// The last PIRLS iterate (None before the first solve) and its θ.
    state: Option<State>,
    theta: Vec<f64>,
    /// Σ dᵢ at the last iterate.
    deviance: f64,
    passes: usize,
    interrupt: Interrupt,
    /// Warnings found while building the model (`check_nobs` = warn).
    warnings: Vec<crate::checks::ModelWarning>,
}

impl StreamedGlmm {
    /// Read `source` once (the start of PIRLS) and set the model up. The
    /// family must be Bernoulli or Poisson, with any of their links;
    /// `options` as for a streamed linear mixed model (contrasts, missing
    /// values, zerocorr; no per-row weights or offsets: `offset(...)` in
    /// the formula; `check_nobs` as for an in-memory GLMM, which allows as
    /// many levels as observations).
    pub fn new(
        formula: &str,
        family: Family,
        link: Link,
        options: &LmmOptions,
        source: &mut dyn ChunkSource,
    ) -> Result<Self> {
        if !matches!(family, Family::Bernoulli | Family::Poisson) {
            return Err(Error::argument(
                "family",
                format!(
                    "a GLMM from streamed data is available for the Bernoulli and Poisson \
                     families, not {}",
                    family.name()
                ),
            ));
        }
        // The builder of each pass does not check the numbers of levels:
        // they are checked once, below, as for an in-memory GLMM (a level
        // per observation allowed: an observation-level random effect).
        let check_nobs = options.check_nobs;
        let options = LmmOptions {
            check_nobs: crate::checks::CheckAction::Ignore,
            ..options.clone()
        };
        let parsed = crate::formula::parse_formula(formula)?;
        let spec = PassSpec {
            formula: formula.to_string(),
            vars: parsed.variables(),
            spec: parsed,
            options,
            family,
            link,
        };
        let interrupt = Interrupt::new();
        let (model, deviance) = spec.pass(source, None, &interrupt)?;
        let warnings =
            crate::checks::check_nobs(&model.terms.random, model.nobs(), check_nobs, true)?;
        Ok(StreamedGlmm {
            spec,
            model,
            state: None,
            theta: Vec::new(),
            deviance,
            passes: 1,
            interrupt,
            warnings,
        })
    }

    /// Rows with a missing value dropped, per column (as a model's `missing`).
    pub fn missing(&self) -> &[(String, usize)] {
        &self.model.terms.missing
    }

    /// Rows in the data (before dropping rows with missing values).
    pub fn input_rows(&self) -> usize {
        self.model.terms.input_rows
    }

    /// Observations used.
    pub fn nobs(&self) -> usize {
        self.model.nobs()
    }

    /// Warnings found while building the model (too many levels or random
    /// effects for the observations, with `check_nobs` = warn).
    pub fn warnings(&self) -> &[crate::checks::ModelWarning] {
        &self.warnings
    }

    /// The model's interrupt (set its flag to stop a fit at the next value
    /// of the objective).
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// PIRLS at θ from the last iterate (see the module documentation):
    /// the objective Σ dᵢ + ‖u‖² + log det(ΛᵀZᵀWZΛ + I) at its end.
    fn pirls(&mut self, source: &mut dyn ChunkSource, theta: &[f64]) -> Result<f64> {
        let lambdas = self.model.layout().lambdas(theta);
        // From the last iterate's linear predictor: a jump in θ would
        // scale b = Λu with it, far from the new mode.
        let mut state = self.state.as_ref().map(|s| {
            let from = self.model.layout().lambdas(&self.theta);
            s.moved(&self.model.terms.random, &from, &lambdas)
        });
        // The iterate whose step led to `state`, with its penalised
        // deviance (+∞ for the family's start, which has no (β, u)).
        let mut previous: Option<(State, f64)> = None;
        let mut halvings = 0;
        for _ in 0..PIRLS_MAX_ITER {
            let at = state.as_ref().map(|s| (&self.model, s, &lambdas[..]));
            let (mut model, deviance) = self.spec.pass(source, at, &self.interrupt)?;
            self.passes += 1;
            let pdev = deviance + state.as_ref().map_or(0.0, |s| sum_sq(&s.u));
            if let (Some((prev, prev_pdev)), Some(cur)) = (&previous, &state) {
                if pdev > *prev_pdev * (1.0 + 1e-12) && halvings < PIRLS_MAX_HALVINGS {
                    state = Some(midpoint(prev, cur));
                    halvings += 1;
                    continue;
                }
            }
            halvings = 0;
            model.objective_at(theta)?;
            let converged = previous
                .as_ref()
                .is_some_and(|(_, prev)| (prev - pdev).abs() <= PIRLS_TOL * pdev.abs().max(1.0));
            let next = State {
                beta: model.beta(),
                u: model.u(),
            };
            let logdet = model.logdet_z();
            self.model = model;
            self.deviance = deviance;
            if converged {
                self.state = state;
                self.theta = theta.to_vec();
                return Ok(pdev + logdet);
            }
            previous = Some(match state {
                Some(s) => (s, pdev),
                None => (next.clone(), f64::INFINITY),
            });
            state = Some(next);
        }
        Err(Error::Convergence {
            message: format!(
                "PIRLS over the streamed data did not converge in {PIRLS_MAX_ITER} passes at \
                 θ = {theta:?}"
            ),
        })
    }

    /// The objective at θ (PIRLS over `source` from the last iterate); the
    /// model is left there.
    pub fn objective_at(&mut self, source: &mut dyn ChunkSource, theta: &[f64]) -> Result<f64> {
        self.model
            .layout()
            .check(theta)
            .map_err(|why| Error::argument("theta", why))?;
        self.pirls(source, theta)
    }

    /// Fit: θ by BOBYQA from θ₀ (1 on λ's diagonal), each value of the
    /// objective by PIRLS over `source` (the same data as at
    /// construction), at most `max_evaluations` values.
    pub fn fit(
        &mut self,
        source: &mut dyn ChunkSource,
        max_evaluations: usize,
    ) -> Result<StreamedGlmmFit> {
        let timer = Instant::now();
        let layout = self.model.layout().clone();
        let (lower, upper) = (layout.lower(), layout.upper());
        let start = layout.initial();
        let bobyqa = theta_optimizer(&layout, 0.75, 1e-6, max_evaluations, &self.interrupt);
        let mut error = None;
        let interrupt = self.interrupt.clone();
        let (result, _) = {
            let mut f = |theta: &[f64]| match self.pirls(source, theta) {
                Ok(v) => v,
                Err(e) => {
                    if matches!(e, Error::Interrupted) || error.is_none() {
                        error = Some(e);
                    }
                    f64::INFINITY
                }
            };
            run_stage(
                Stage::Theta,
                &bobyqa,
                &mut f,
                &start,
                &lower,
                &upper,
                &interrupt,
            )?
        };
        if let Some(Error::Interrupted) = error {
            return Err(Error::Interrupted);
        }
        if !result.fmin.is_finite() {
            return Err(error.unwrap_or(Error::Convergence {
                message: "the objective was not finite at any θ tried".into(),
            }));
        }
        // Leave the state at the optimum.
        let objective = self.pirls(source, &result.x)?;
        let vcov = self.model.unscaled_vcov();
        let p = self.model.beta().len();
        let stderror = (0..p).map(|i| vcov[i * p + i].sqrt()).collect();
        Ok(StreamedGlmmFit {
            theta: result.x.clone(),
            theta_names: layout.component_names().to_vec(),
            beta: self
                .state
                .as_ref()
                .map_or_else(|| self.model.beta(), |s| s.beta.clone()),
            beta_names: self.model.coef_names(),
            stderror,
            objective,
            deviance: self.deviance,
            nobs: self.model.nobs(),
            evaluations: result.evaluations,
            passes: self.passes,
            converged: matches!(result.code, ReturnCode::Converged | ReturnCode::FtolReached),
            return_code: crate::model::return_code_text(&result.code),
            seconds: timer.elapsed().as_secs_f64(),
        })
    }
}

/// The response of a chunk's complete rows, checked for the family (0/1 for
/// Bernoulli, non-negative counts for Poisson); `rows` are the complete
/// rows' indices in the data as given (for the row named in an error).
fn response_values(
    frame: &ModelFrame,
    spec: &crate::formula::ModelSpec,
    family: Family,
    rows: &[usize],
) -> Result<Vec<f64>> {
    let y = match frame.response(&spec.response)?.0 {
        Variable::Numeric(v) => v,
        Variable::Factor { .. } => {
            return Err(Error::Data(
                "the response of a GLMM from streamed data must be numeric (0/1 or counts)".into(),
            ))
        }
    };
    for (i, &v) in y.iter().enumerate() {
        let ok = match family {
            Family::Bernoulli => v == 0.0 || v == 1.0,
            _ => v >= 0.0 && v.fract() == 0.0 && v.is_finite(),
        };
        if !ok {
            let column = match &spec.response {
                crate::formula::ResponseSpec::Single(atom) => {
                    crate::terms::atom_key(atom).to_string()
                }
                crate::formula::ResponseSpec::Cbind(c) => c.label.clone(),
            };
            return Err(Error::Row {
                column,
                row: rows[i],
                message: format!(
                    "the response {v} is not {} (among the chunk's complete rows)",
                    if family == Family::Bernoulli {
                        "0 or 1"
                    } else {
                        "a non-negative count"
                    }
                ),
            });
        }
    }
    Ok(y)
}

fn sum_sq(u: &[Vec<f64>]) -> f64 {
    u.iter().flatten().map(|v| v * v).sum()
}

/// The iterate halfway between `a` and `b`.
fn midpoint(a: &State, b: &State) -> State {
    let mid = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(x, y)| 0.5 * (x + y)).collect();
    State {
        beta: mid(&a.beta, &b.beta),
        u: a.u.iter().zip(&b.u).map(|(x, y)| mid(x, y)).collect(),
    }
}

/// What a pass needs: the formula, options, family and link.
struct PassSpec {
    formula: String,
    /// The formula parsed, and the columns it reads.
    spec: crate::formula::ModelSpec,
    vars: Vec<String>,
    options: LmmOptions,
    family: Family,
    link: Link,
}

impl PassSpec {
    /// One pass over `source`: the deviance Σ dᵢ at `at` = (the model whose
    /// levels code the rows, the iterate, λ at θ), or at the family's start
    /// when None, and the model of the weighted sums there.
    fn pass(
        &self,
        source: &mut dyn ChunkSource,
        at: Option<(&LinearMixedModel, &State, &[Vec<f64>])>,
        interrupt: &Interrupt,
    ) -> Result<(LinearMixedModel, f64)> {
        if interrupt.poll() {
            return Err(Error::Interrupted);
        }
        let mut builder = ModelBuilder::new(&self.formula, &self.options)?;
        let (family, link) = (self.family, self.link);
        // b = Λu per term.
        let b: Option<Vec<Vec<f64>>> = at.map(|(model, state, lambdas)| {
            state
                .u
                .iter()
                .zip(lambdas)
                .zip(&model.terms.random)
                .map(|((u, lam), t)| t.b_from_u(lam, u))
                .collect()
        });
        let (spec, vars) = (&self.spec, &self.vars);
        let contrasts = &self.options.contrasts;
        let mut deviance = 0.0;
        let mut seen = 0usize;
        source.pass(&mut |data: &Data| {
            let (complete, _) = data.complete_cases(vars)?;
            if complete.nrows() == 0 {
                // Counts the chunk's rows and missing values.
                seen += data.nrows();
                return builder.add_chunk(data);
            }
            let frame = ModelFrame::new(spec, &complete, contrasts, MissingPolicy::Drop)?;
            let rows: Vec<usize> = complete_rows(data, vars)?
                .into_iter()
                .map(|i| seen + i)
                .collect();
            let y = response_values(&frame, spec, family, &rows)?;
            let eta: Vec<f64> = match (at, &b) {
                (Some((model, state, _)), Some(b)) => {
                    let terms = &model.terms;
                    let new = NewRows::new(terms, &complete, true)?;
                    refuse_new_levels(terms, &new)?;
                    rows_eta(terms, &new, &state.beta, b, true, NewLevels::Error)
                }
                _ => y
                    .iter()
                    .map(|&v| link.linkfun(family.mustart(v, 1.0)))
                    .collect(),
            };
            let n = y.len();
            let (mut z, mut sqrtw) = (vec![0.0; n], vec![0.0; n]);
            for i in 0..n {
                let mu = link.linkinv(eta[i]);
                deviance += family.unit_deviance(y[i], mu, 1.0);
                let me = link.mu_eta(eta[i]);
                sqrtw[i] = (me * me / family.variance(mu)).sqrt();
                z[i] = eta[i] + (y[i] - mu) / me;
            }
            seen += data.nrows();
            let working = Working {
                response: &z,
                sqrtw: &sqrtw,
            };
            builder.add_working_chunk(data, working)
        })?;
        Ok((builder.finish()?, deviance))
    }
}
