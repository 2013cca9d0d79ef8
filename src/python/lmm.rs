//! The Python class wrapping [`LinearMixedModel`]: construction from
//! columns, fitting with the GIL released, and the LMM's own extractors;
//! the extractors every model has come from [`shared`].

use std::sync::{Mutex, MutexGuard};

use numpy::{PyArray1, PyArray2, PyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::{check_action, contrasts_from_dict, data_from_dict, missing_policy, to_pyerr};
use super::progress::{watched, PyProgress};
use super::{present, shared};
use crate::lmm::{LinearMixedModel, LmmOptions};
use crate::model::{FitSettings, MixedModel, OptimizerChoice};

/// The optimizer choice named `name` (`auto`, `bfgs`, `bobyqa`); an
/// argument error naming `optimizer` otherwise.
pub(super) fn optimizer_choice(name: &str) -> PyResult<OptimizerChoice> {
    match name {
        "auto" | "bfgs" | "bobyqa" => OptimizerChoice::from_name(name),
        _ => None,
    }
    .ok_or_else(|| {
        to_pyerr(crate::error::Error::argument(
            "optimizer",
            format!("must be one of 'auto', 'bfgs', 'bobyqa', got {name:?}"),
        ))
    })
}

/// A linear mixed-effects model (native part of `mixedmodels.LinearMixedModel`).
#[pyclass(name = "LinearMixedModel", module = "mixedmodels._core")]
pub struct PyLinearMixedModel {
    inner: Mutex<LinearMixedModel>,
}

impl PyLinearMixedModel {
    /// Wrap a built model (interrupted by Ctrl-C).
    pub(super) fn from_model(mut model: LinearMixedModel) -> Self {
        model.set_interrupt(super::ctrl_c_interrupt());
        PyLinearMixedModel {
            inner: Mutex::new(model),
        }
    }

    pub(super) fn m(&self) -> MutexGuard<'_, LinearMixedModel> {
        shared::lock_model(&self.inner)
    }
}

shared::mixed_model_methods!(PyLinearMixedModel, {
    /// Build an unfitted model from a formula and a dict of columns.
    #[new]
    #[allow(clippy::too_many_arguments)] // mirrors the Python constructor's keyword arguments
    #[pyo3(signature = (formula, columns, contrasts=None, weights=None, sigma=None, missing="drop", threads=None, zerocorr=None, offset=None, check_nobs="error"))]
    fn new(
        py: Python<'_>,
        formula: &str,
        columns: &Bound<'_, PyDict>,
        contrasts: Option<&Bound<'_, PyDict>>,
        weights: Option<Vec<f64>>,
        sigma: Option<f64>,
        missing: &str,
        threads: Option<usize>,
        zerocorr: Option<Vec<String>>,
        offset: Option<Vec<f64>>,
        check_nobs: &str,
    ) -> PyResult<Self> {
        let data = data_from_dict(columns)?;
        let options = LmmOptions {
            contrasts: contrasts_from_dict(contrasts)?,
            missing: missing_policy(missing)?,
            weights,
            sigma,
            threads,
            zerocorr: zerocorr.unwrap_or_default(),
            offset,
            check_nobs: check_action(check_nobs)?,
        };
        let formula = formula.to_string();
        let model = py
            .detach(move || LinearMixedModel::new(&formula, &data, &options))
            .map_err(to_pyerr)?;
        let mut model = model;
        model.set_interrupt(super::ctrl_c_interrupt());
        Ok(PyLinearMixedModel {
            inner: Mutex::new(model),
        })
    }

    /// Fit by ML or REML with `optimizer` (`auto`, `bfgs` or `bobyqa`; the
    /// GIL is released while fitting).
    /// `progress` (a `Progress`) is shown the evaluations while fitting.
    #[pyo3(signature = (reml=false, optimizer="auto", progress=None))]
    fn fit(
        &self,
        py: Python<'_>,
        reml: bool,
        optimizer: &str,
        progress: Option<PyRef<'_, PyProgress>>,
    ) -> PyResult<()> {
        let settings = FitSettings {
            reml,
            optimizer: optimizer_choice(optimizer)?,
            threads: self.m().threads(),
            ..FitSettings::default()
        };
        watched(py, &mut *self.m(), progress.as_deref(), |m| {
            m.fit_with(&settings, None).map(|_| ())
        })
    }

    /// Fit from a given θ with BOBYQA's settings (`rho_begin`, `rho_end`:
    /// its radii; `max_evaluations` caps the objective evaluations of each
    /// stage; `certificate_restart = False` keeps a failed convergence
    /// certificate without restarting); `optimizer` as for `fit`, BOBYQA
    /// unless given.
    #[pyo3(signature = (reml, start, rho_begin=None, rho_end=None, max_evaluations=None, certificate_restart=None, optimizer="bobyqa"))]
    #[allow(clippy::too_many_arguments)] // mirrors the keyword arguments of the settings
    fn fit_from(
        &self,
        py: Python<'_>,
        reml: bool,
        start: Vec<f64>,
        rho_begin: Option<f64>,
        rho_end: Option<f64>,
        max_evaluations: Option<usize>,
        certificate_restart: Option<bool>,
        optimizer: &str,
    ) -> PyResult<()> {
        let mut settings = FitSettings {
            reml,
            optimizer: optimizer_choice(optimizer)?,
            threads: self.m().threads(),
            ..FitSettings::default()
        };
        if let Some(k) = max_evaluations {
            settings.max_evaluations = k;
        }
        if let Some(r) = rho_begin {
            settings.rho_begin = r;
        }
        if let Some(r) = rho_end {
            settings.rho_end = r;
        }
        if let Some(r) = certificate_restart {
            settings.certificate_restart = r;
        }
        py.detach(|| self.m().fit_with(&settings, Some(&start)).map(|_| ()))
            .map_err(to_pyerr)
    }

    /// Objective at θ (sets θ).
    fn objective_at(&self, py: Python<'_>, theta: Vec<f64>) -> PyResult<f64> {
        py.detach(|| self.m().objective_at(&theta))
            .map_err(to_pyerr)
    }

    /// Choose the criterion for later evaluations.
    fn set_reml(&self, reml: bool) -> PyResult<()> {
        self.m().set_reml(reml).map_err(to_pyerr)
    }

    /// Replace the response vector, keeping all symbolic work.
    fn set_response(&self, py: Python<'_>, y: Vec<f64>) -> PyResult<()> {
        py.detach(|| self.m().set_response(&y)).map_err(to_pyerr)
    }
    #[getter]
    fn is_reml(&self) -> bool {
        self.m().is_reml()
    }
    #[getter]
    fn coef_full<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().coef_full())
    }
    #[getter]
    fn sigma(&self) -> f64 {
        self.m().sigma()
    }
    #[getter]
    fn pwrss(&self) -> f64 {
        self.m().pwrss()
    }
    #[getter]
    fn logdet(&self) -> f64 {
        self.m().logdet()
    }
    #[getter]
    fn dof_residual(&self) -> f64 {
        self.m().dof_residual()
    }
    #[getter]
    fn varest(&self) -> f64 {
        self.m().varest()
    }
    fn deviance(&self) -> PyResult<f64> {
        self.m().deviance().map_err(to_pyerr)
    }
    /// The summary in `format`: "text" (as printed), "markdown", "html" or "latex".
    #[pyo3(signature = (format="text"))]
    fn summary(&self, format: &str) -> PyResult<String> {
        present::render_document(crate::present::lmm_summary(&self.m()), format)
    }
    /// Does the model keep the rows of its data (false when built from chunks)?
    #[getter]
    fn rows_stored(&self) -> bool {
        self.m().has_rows()
    }
    #[getter]
    fn fitted<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        shared::require_rows(&*self.m(), "fitted")?;
        Ok(PyArray1::from_vec(py, self.m().fitted()))
    }
    #[getter]
    fn residuals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        shared::require_rows(&*self.m(), "residuals")?;
        Ok(PyArray1::from_vec(py, self.m().residuals()))
    }
    fn leverage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.m();
        shared::require_rows(&*m, "leverage")?;
        let lev = py.detach(|| m.leverage());
        Ok(PyArray1::from_vec(py, lev))
    }
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.m().weights().map(|w| PyArray1::from_vec(py, w))
    }
    /// Kind of each block of L, by block row.
    fn block_description(&self) -> Vec<Vec<&'static str>> {
        self.m().block_description()
    }
});
