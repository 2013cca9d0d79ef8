//! One design, many responses: fit the right-hand side of a formula to each
//! of many response vectors, building the terms, the factor layout and the
//! X/Z blocks of A once.
//!
//! [`design`] builds the model once with a placeholder response (the row
//! index, so that no response decides which rows are used: the rows are
//! those complete in the right-hand side's columns, dropped or refused by
//! [`LmmOptions::missing`] as for any model). [`fit_many`] then clones it
//! once per worker thread and, for each response, installs the response on
//! the rows used ([`MixedModel::set_response`]: only y's products with X and
//! Z change) and fits from its own start with the same settings as a single fit, so a
//! response's row equals the fit of a model built for that response alone
//! and does not depend on the number of threads or on the order in which
//! the workers take the responses.
//!
//! A response with a missing (non-finite) value in a row the design uses is
//! refused before any fit with an [`Error::Row`] naming the response and the
//! row (dropping the row would change the design for that response only).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{LinearMixedModel, LmmOptions};
use crate::data::{Column, Data};
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::model::{FitEstimates, FitSettings, MixedModel, OptimizerChoice};
use crate::parallel::run_on_copies;

/// The name of the placeholder response column of [`design`].
pub const PLACEHOLDER_RESPONSE: &str = "mixedmodels_many_response_placeholder";

/// How to fit each response (default: ML, `auto` optimizer, all threads).
#[derive(Debug, Clone)]
pub struct ManyOptions {
    /// REML criterion (else ML).
    pub reml: bool,
    /// The optimizer of θ (as for a single fit).
    pub optimizer: OptimizerChoice,
    /// Worker threads (None: the size of rayon's global pool).
    pub threads: Option<usize>,
}

impl Default for ManyOptions {
    fn default() -> Self {
        ManyOptions {
            reml: false,
            optimizer: OptimizerChoice::Auto,
            threads: None,
        }
    }
}

/// A response to fit: its name and one value per row of the input data.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The name reported in errors and results.
    pub name: &'a str,
    /// One value per input row (NaN: missing).
    pub values: &'a [f64],
}

/// The fit of one response: the estimates (NaN when the fit failed), whether
/// it converged and why not, and the objective evaluations used.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseFit {
    /// Objective, σ, β, θ, variance components, convergence and warning.
    pub estimates: FitEstimates,
    /// Objective evaluations of the fit (0 when it failed).
    pub evaluations: usize,
}

/// The fits of [`fit_many`], in the order of the responses, with the names
/// of their columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ManyFits {
    /// The responses' names.
    pub responses: Vec<String>,
    /// Names of β's coefficients.
    pub coef_names: Vec<String>,
    /// lme4's names of θ.
    pub theta_names: Vec<String>,
    /// One fit per response.
    pub fits: Vec<ResponseFit>,
}

/// Build the design of `formula`'s right-hand side on `data`: the model with
/// the row index as a placeholder response (the formula's left-hand side,
/// if any, is not read). Errors: those of [`LinearMixedModel::new`], and an
/// [`Error::Column`] if `data` has a column called [`PLACEHOLDER_RESPONSE`].
pub fn design(formula: &str, data: &Data, options: &LmmOptions) -> Result<LinearMixedModel> {
    let rhs = formula.split_once('~').map_or(formula, |(_, rhs)| rhs);
    if data.get(PLACEHOLDER_RESPONSE).is_some() {
        return Err(Error::Column {
            column: PLACEHOLDER_RESPONSE.into(),
            message: "this name is reserved for the placeholder response of a many-response \
                      design"
                .into(),
        });
    }
    let mut data = data.clone();
    let index = (0..data.nrows()).map(|i| i as f64).collect();
    data.add_column(PLACEHOLDER_RESPONSE, Column::numeric(index))?;
    LinearMixedModel::new(&format!("{PLACEHOLDER_RESPONSE} ~ {rhs}"), &data, options)
}

/// Fit `design` to each of `responses` (see the [module](self) description).
/// `progress` is called on this thread with the number of responses done,
/// about every [`POLL_INTERVAL`](crate::interrupt::POLL_INTERVAL) and once at the end; `interrupt` is polled
/// as often and, once set, stops the workers within a fit.
///
/// Errors, before any fit: [`Error::Column`] for a response whose length is
/// not the number of input rows; [`Error::Row`] for a missing or non-finite
/// value in a row the design uses; [`Error::Argument`] for no responses or
/// `threads` = 0. [`Error::Interrupted`] when stopped. A fit that fails is a
/// row of NaN estimates with the reason in its warning.
pub fn fit_many(
    design: &LinearMixedModel,
    responses: &[Response<'_>],
    options: &ManyOptions,
    interrupt: &Interrupt,
    progress: &mut dyn FnMut(usize),
) -> Result<ManyFits> {
    if responses.is_empty() {
        return Err(Error::argument("responses", "no responses to fit"));
    }
    if options.threads == Some(0) {
        return Err(Error::argument("threads", "threads must be at least 1"));
    }
    for r in responses {
        check_response(design, r)?;
    }
    let n = responses.len();
    let threads = options
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .min(n);
    let settings = FitSettings {
        reml: options.reml,
        optimizer: options.optimizer,
        threads: Some(1),
        ..FitSettings::default()
    };
    if options.reml && design.rank() == 0 {
        return Err(Error::argument(
            "reml",
            "REML needs at least one fixed-effects coefficient; the design has none",
        ));
    }
    let workers: Vec<(LinearMixedModel, Interrupt)> = (0..threads)
        .map(|_| {
            let mut w = design.clone();
            let flag = Interrupt::new();
            w.set_interrupt(flag.clone());
            w.set_threads(Some(1));
            (w, flag)
        })
        .collect();
    interrupt.reset();
    let job = Job {
        responses,
        settings: &settings,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: interrupt,
    };
    let fits = run_on_copies("many", workers, interrupt, &job.done, n, progress, &|m| {
        job.work(m)
    })?;
    Ok(ManyFits {
        responses: responses.iter().map(|r| r.name.to_string()).collect(),
        coef_names: design.coef_names(),
        theta_names: design.layout().names().to_vec(),
        fits,
    })
}

/// Refuse a response of the wrong length or with a missing value in a row
/// the design uses.
fn check_response(design: &LinearMixedModel, r: &Response<'_>) -> Result<()> {
    let expected = design.terms.input_rows;
    if r.values.len() != expected {
        return Err(Error::Column {
            column: r.name.to_string(),
            message: format!(
                "the response has {} values, the data {expected} rows",
                r.values.len()
            ),
        });
    }
    if let Some(&row) = design
        .terms
        .rows
        .iter()
        .find(|&&i| !r.values[i].is_finite())
    {
        return Err(Error::Row {
            column: r.name.to_string(),
            row,
            message: format!(
                "the response is missing or not finite ({}) in a row the design uses; fit it \
                 on its own, or on data without that row",
                r.values[row]
            ),
        });
    }
    Ok(())
}

/// What every worker shares.
struct Job<'a> {
    responses: &'a [Response<'a>],
    settings: &'a FitSettings,
    /// The next response index to take.
    next: AtomicUsize,
    /// Responses finished.
    done: AtomicUsize,
    /// The caller's flag: set, no new fit is started.
    stop: &'a Interrupt,
}

impl Job<'_> {
    /// Fit `model` to responses taken from the counter until none is left
    /// or the caller stops; the fits done, with their indices.
    fn work(&self, mut model: LinearMixedModel) -> Result<Vec<(usize, ResponseFit)>> {
        let rows = model.terms.rows.clone();
        let mut y = vec![0.0; rows.len()];
        let mut out = Vec::new();
        loop {
            if self.stop.is_triggered() {
                return Err(Error::Interrupted);
            }
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.responses.len() {
                return Ok(out);
            }
            let values = self.responses[k].values;
            y.iter_mut().zip(&rows).for_each(|(v, &i)| *v = values[i]);
            let fitted = model
                .set_response(&y)
                .and_then(|()| model.fit_with(self.settings, None).map(|r| r.evaluations));
            let fit = match fitted {
                Ok(evaluations) => ResponseFit {
                    estimates: FitEstimates::of_fit(&model),
                    evaluations,
                },
                Err(Error::Interrupted) => return Err(Error::Interrupted),
                Err(e) => ResponseFit {
                    estimates: FitEstimates::failed(&model, &e),
                    evaluations: 0,
                },
            };
            out.push((k, fit));
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}
