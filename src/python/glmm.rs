//! The Python class wrapping [`GeneralizedLinearMixedModel`]: construction
//! from columns, fitting with the GIL released, and the GLMM's own
//! extractors; the extractors every model has come from [`shared`].
//! Register it with [`register`].

use std::sync::{Mutex, MutexGuard};

use numpy::{PyArray1, PyArray2, PyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::{check_action, contrasts_from_dict, data_from_dict, missing_policy, to_pyerr};
use super::progress::{watched, PyProgress};
use super::{present, shared};
use crate::error::Error;
use crate::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions, Link, ResidualKind};
use crate::model::{FitSettings, MixedModel};

/// Add the GLMM class to the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGeneralizedLinearMixedModel>()
}

/// A generalized linear mixed-effects model (native part of
/// `mixedmodels.GeneralizedLinearMixedModel`).
#[pyclass(name = "GeneralizedLinearMixedModel", module = "mixedmodels._core")]
pub struct PyGeneralizedLinearMixedModel {
    inner: Mutex<GeneralizedLinearMixedModel>,
}

impl PyGeneralizedLinearMixedModel {
    pub(super) fn m(&self) -> MutexGuard<'_, GeneralizedLinearMixedModel> {
        shared::lock_model(&self.inner)
    }
}

shared::mixed_model_methods!(PyGeneralizedLinearMixedModel, {
    /// Build an unfitted model from a formula, a dict of columns, a family
    /// name and an optional link name.
    #[new]
    #[allow(clippy::too_many_arguments)] // mirrors the Python constructor's keyword arguments
    #[pyo3(signature = (formula, columns, family, link=None, contrasts=None, weights=None, offset=None, missing="drop", threads=None, check_nobs="error"))]
    fn new(
        py: Python<'_>,
        formula: &str,
        columns: &Bound<'_, PyDict>,
        family: &str,
        link: Option<&str>,
        contrasts: Option<&Bound<'_, PyDict>>,
        weights: Option<Vec<f64>>,
        offset: Option<Vec<f64>>,
        missing: &str,
        threads: Option<usize>,
        check_nobs: &str,
    ) -> PyResult<Self> {
        let data = data_from_dict(columns)?;
        let family = Family::from_name(family).map_err(to_pyerr)?;
        let link = link.map(Link::from_name).transpose().map_err(to_pyerr)?;
        let options = GlmmOptions {
            contrasts: contrasts_from_dict(contrasts)?,
            missing: missing_policy(missing)?,
            weights,
            offset,
            threads,
            zerocorr: vec![],
            check_nobs: check_action(check_nobs)?,
        };
        let formula = formula.to_string();
        let model = py
            .detach(move || {
                GeneralizedLinearMixedModel::new(&formula, &data, family, link, &options)
            })
            .map_err(to_pyerr)?;
        let mut model = model;
        model.set_interrupt(super::ctrl_c_interrupt());
        Ok(PyGeneralizedLinearMixedModel {
            inner: Mutex::new(model),
        })
    }

    /// Fit (the GIL is released while fitting): `fast` optimises θ only;
    /// `nagq` > 1 uses adaptive Gauss–Hermite quadrature; `optimizer` is
    /// `auto`, `bfgs` (the quasi-Newton method with the Laplace gradient)
    /// or `bobyqa`; `progress` (a `Progress`) is shown the evaluations
    /// while fitting.
    #[pyo3(signature = (fast=false, nagq=1, optimizer="auto", progress=None))]
    fn fit(
        &self,
        py: Python<'_>,
        fast: bool,
        nagq: usize,
        optimizer: &str,
        progress: Option<PyRef<'_, PyProgress>>,
    ) -> PyResult<()> {
        let settings = FitSettings {
            fast,
            nagq,
            optimizer: super::lmm::optimizer_choice(optimizer)?,
            threads: self.m().threads,
            ..FitSettings::default()
        };
        watched(py, &mut *self.m(), progress.as_deref(), |m| {
            m.fit_with(&settings).map(|_| ())
        })
    }

    /// Objective at θ with β fixed (or from PIRLS when None); installs both.
    #[pyo3(signature = (theta, beta=None, nagq=1))]
    fn evaluate(
        &self,
        py: Python<'_>,
        theta: Vec<f64>,
        beta: Option<Vec<f64>>,
        nagq: usize,
    ) -> PyResult<f64> {
        py.detach(|| self.m().evaluate(&theta, beta.as_deref(), nagq))
            .map_err(to_pyerr)
    }
    #[getter]
    fn family(&self) -> &'static str {
        self.m().family().name()
    }
    #[getter]
    fn link(&self) -> &'static str {
        self.m().link().name()
    }
    /// The dispersion φ of a family that has one (else None).
    #[getter]
    fn dispersion(&self) -> Option<f64> {
        self.m().dispersion()
    }
    /// The standard error of log φ from the Hessian (None if not computed).
    #[getter]
    fn dispersion_log_stderror(&self) -> Option<f64> {
        self.m().dispersion_log_stderror()
    }
    #[getter]
    fn nagq(&self) -> usize {
        self.m().nagq()
    }
    #[getter]
    fn is_fast(&self) -> bool {
        self.m().is_fast()
    }
    #[getter]
    fn deviance(&self) -> f64 {
        self.m().deviance()
    }
    #[getter]
    fn logdet(&self) -> f64 {
        self.m().logdet()
    }
    #[getter]
    fn sum_u_squared(&self) -> f64 {
        self.m().sum_u_squared()
    }
    #[getter]
    fn minus2loglik_saturated(&self) -> f64 {
        self.m().minus2loglik_saturated()
    }
    /// The summary in `format`: "text" (as printed), "markdown", "html" or "latex".
    #[pyo3(signature = (format="text"))]
    fn summary(&self, format: &str) -> PyResult<String> {
        present::render_document(crate::present::glmm_summary(&self.m()), format)
    }
    /// Fitted means (`response`) or the linear predictor (`link`).
    #[pyo3(signature = (scale="response"))]
    fn fitted<'py>(&self, py: Python<'py>, scale: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.m();
        match scale {
            "response" => Ok(PyArray1::from_vec(py, m.fitted())),
            "link" => Ok(PyArray1::from_slice(py, m.linear_predictor())),
            other => Err(to_pyerr(Error::argument(
                "scale",
                format!("must be \"response\" or \"link\", got {other:?}"),
            ))),
        }
    }
    /// Residuals of a kind: deviance, pearson, response or working.
    #[pyo3(signature = (kind="deviance"))]
    fn residuals<'py>(&self, py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let kind = match kind {
            "deviance" => ResidualKind::Deviance,
            "pearson" => ResidualKind::Pearson,
            "response" => ResidualKind::Response,
            "working" => ResidualKind::Working,
            other => {
                return Err(to_pyerr(Error::argument(
                    "kind",
                    format!("must be deviance, pearson, response or working, got {other:?}"),
                )))
            }
        };
        Ok(PyArray1::from_vec(py, self.m().residuals(kind)))
    }
    #[getter]
    fn prior_weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.m().prior_weights())
    }
});
