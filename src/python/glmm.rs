//! The Python class wrapping [`GeneralizedLinearMixedModel`]: construction
//! from columns, fitting with the GIL released, and the extractors as numpy
//! arrays or plain Python values. Register it with [`register`].

use std::sync::{Mutex, MutexGuard};

use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::{check_action, contrasts_from_dict, data_from_dict, missing_policy, to_pyerr};
use super::present;
use crate::error::Error;
use crate::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions, Link, ResidualKind};
use crate::model::MixedModel;

/// Columns of the fixed-effects table: names, estimates, standard errors, z, p.
type CoefColumns = (Vec<String>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
/// The fit log: θ rows, β rows, objectives, joint-stage flags.
type FitLog<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<bool>,
);

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
    fn m(&self) -> MutexGuard<'_, GeneralizedLinearMixedModel> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn rowmajor<'py>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_vec((rows, cols), data)
        .expect("shape matches data")
        .into_pyarray(py)
}

#[pymethods]
impl PyGeneralizedLinearMixedModel {
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
    /// `nagq` > 1 uses adaptive Gauss–Hermite quadrature.
    #[pyo3(signature = (fast=false, nagq=1))]
    fn fit(&self, py: Python<'_>, fast: bool, nagq: usize) -> PyResult<()> {
        py.detach(|| self.m().fit(fast, nagq).map(|_| ()))
            .map_err(to_pyerr)
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
    fn formula(&self) -> String {
        self.m().terms().spec.source.clone()
    }
    #[getter]
    fn family(&self) -> &'static str {
        self.m().family().name()
    }
    #[getter]
    fn link(&self) -> &'static str {
        self.m().link().name()
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
    fn is_fitted(&self) -> bool {
        self.m().is_fitted()
    }
    #[getter]
    fn theta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.m().theta())
    }
    #[getter]
    fn lowerbd<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().layout().lower())
    }
    #[getter]
    fn beta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().beta())
    }
    #[getter]
    fn coef_names(&self) -> Vec<String> {
        self.m().coef_names()
    }
    #[getter]
    fn dropped_columns(&self) -> Vec<String> {
        self.m().terms().fixed.dropped_names()
    }
    #[getter]
    fn objective(&self) -> f64 {
        self.m().objective()
    }
    #[getter]
    fn deviance(&self) -> f64 {
        self.m().deviance()
    }
    #[getter]
    fn loglikelihood(&self) -> PyResult<f64> {
        self.m().loglikelihood().map_err(to_pyerr)
    }
    #[getter]
    fn aic(&self) -> PyResult<f64> {
        self.m().aic().map_err(to_pyerr)
    }
    #[getter]
    fn bic(&self) -> PyResult<f64> {
        self.m().bic().map_err(to_pyerr)
    }
    #[getter]
    fn dof(&self) -> usize {
        self.m().dof()
    }
    #[getter]
    fn nobs(&self) -> usize {
        self.m().nobs()
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
    #[getter]
    fn is_singular(&self) -> bool {
        self.m().is_singular()
    }
    #[getter]
    fn stderror<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().stderror())
    }
    #[getter]
    fn vcov<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let m = self.m();
        let p = m.beta().len();
        rowmajor(py, p, p, m.vcov())
    }
    /// (names, estimates, standard errors, z, p) of the fixed effects.
    fn coeftable(&self) -> CoefColumns {
        let rows = self.m().coeftable();
        (
            rows.iter().map(|r| r.name.clone()).collect(),
            rows.iter().map(|r| r.estimate).collect(),
            rows.iter().map(|r| r.stderror).collect(),
            rows.iter().map(|r| r.z).collect(),
            rows.iter().map(|r| r.p).collect(),
        )
    }
    /// Per term: dict(group, columns, covariance (v×v), sd, correlation (v×v, NaN where structural zero)).
    fn varcorr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let vc = self.m().varcorr();
        let list = PyList::empty(py);
        for t in vc.terms {
            let v = t.columns.len();
            let d = PyDict::new(py);
            d.set_item("group", t.group)?;
            d.set_item("columns", t.columns)?;
            // Column-major v × v: the transpose of the row-major reading, symmetric anyway.
            d.set_item("covariance", rowmajor(py, v, v, t.covariance))?;
            d.set_item("sd", PyArray1::from_vec(py, t.sd))?;
            let corr = t
                .correlation
                .iter()
                .map(|c| c.unwrap_or(f64::NAN))
                .collect();
            d.set_item("correlation", rowmajor(py, v, v, corr))?;
            list.append(d)?;
        }
        Ok(list)
    }
    /// The fit as versioned JSON (see `mixedmodels::model::persist`).
    fn save_fit(&self) -> PyResult<String> {
        self.m().save_fit().map_err(to_pyerr)
    }
    /// Restore a fit saved by `save_fit` without optimizing.
    fn restore_fit(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        py.detach(|| self.m().restore_fit(text)).map_err(to_pyerr)
    }
    /// lme4's names of θ (`Subject.(Intercept)`, `Subject.Days.(Intercept)`, …).
    #[getter]
    fn theta_names(&self) -> Vec<String> {
        self.m().layout().names().to_vec()
    }
    /// The summary in `format`: "text" (as printed), "markdown", "html" or "latex".
    #[pyo3(signature = (format="text"))]
    fn summary(&self, format: &str) -> PyResult<String> {
        present::render_document(crate::present::glmm_summary(&self.m()), format)
    }
    /// The variance components as a table in `format`.
    #[pyo3(signature = (format="text"))]
    fn varcorr_table(&self, format: &str) -> PyResult<String> {
        let m = self.m();
        let table = || crate::present::varcorr_table(&m.varcorr());
        present::render_table(m.is_fitted(), "the variance components", format, table)
    }
    /// The fixed-effects table in `format`.
    #[pyo3(signature = (format="text"))]
    fn coeftable_render(&self, format: &str) -> PyResult<String> {
        let m = self.m();
        let table = || crate::present::coef_table(&m.coeftable());
        present::render_table(m.is_fitted(), "the coefficient table", format, table)
    }
    /// Per term a (levels × columns) array of the conditional modes (b, or u when `uscale`).
    #[pyo3(signature = (uscale=false))]
    fn ranef<'py>(&self, py: Python<'py>, uscale: bool) -> Vec<Bound<'py, PyArray2<f64>>> {
        let m = self.m();
        let vals = if uscale { m.u() } else { m.b() };
        m.terms()
            .random
            .iter()
            .zip(vals)
            .map(|(t, b)| rowmajor(py, t.nlevels(), t.ncols(), b))
            .collect()
    }
    /// Per term a (levels × v × v) array of conditional covariances.
    fn condvar<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyArray3<f64>>>> {
        let m = self.m();
        let cv = py.detach(|| m.condvar());
        m.terms()
            .random
            .iter()
            .zip(cv)
            .map(|(t, c)| {
                let v = t.ncols();
                let arr = ndarray::Array3::from_shape_vec((t.nlevels(), v, v), c)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                Ok(arr.into_pyarray(py))
            })
            .collect()
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
    fn y<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.m().y())
    }
    #[getter]
    fn prior_weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.m().prior_weights())
    }
    /// Per random-effects term: (grouping name, levels, column names).
    fn reterms(&self) -> Vec<(String, Vec<String>, Vec<String>)> {
        self.m()
            .terms()
            .random
            .iter()
            .map(|t| (t.grouping.clone(), t.levels.clone(), t.column_names.clone()))
            .collect()
    }
    /// Indices of the input rows used.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        let m = self.m();
        PyArray1::from_vec(py, m.terms().rows.iter().map(|&r| r as u64).collect())
    }
    /// Rows dropped for missing values, per column used.
    #[getter]
    fn missing(&self) -> Vec<(String, usize)> {
        self.m().terms().missing.clone()
    }
    #[getter]
    fn input_rows(&self) -> usize {
        self.m().terms().input_rows
    }
    /// Optimizer summary as a dict.
    fn optsum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let m = self.m();
        let Some(o) = m.optsum() else { return Ok(None) };
        let d = PyDict::new(py);
        let theta_stage = &o.stages[0];
        d.set_item("optimizer", &o.settings.optimizer)?;
        d.set_item("fast", o.settings.fast)?;
        d.set_item("nagq", o.settings.nagq)?;
        d.set_item("initial", &o.initial)?;
        d.set_item("finitial", o.finitial)?;
        d.set_item("lower", &o.lower)?;
        d.set_item("final", &o.final_theta)?;
        d.set_item("final_beta", &o.final_beta)?;
        d.set_item("fmin", o.fmin)?;
        d.set_item("evaluations", o.evaluations)?;
        d.set_item("evaluations_fast_stage", theta_stage.evaluations)?;
        d.set_item("seconds_fast_stage", theta_stage.seconds)?;
        d.set_item("factorizations_fast_stage", theta_stage.factorizations)?;
        d.set_item("factorizations", o.factorizations)?;
        d.set_item("return_code", o.return_code_text())?;
        d.set_item("rho_begin", o.last_stage().rho_begin)?;
        d.set_item("rho_end", o.last_stage().rho_end)?;
        d.set_item("zeroed", &o.zeroed)?;
        d.set_item("seconds", o.seconds)?;
        Ok(Some(d))
    }
    /// The model's warnings as (kind, term, message).
    fn model_warnings(&self) -> Vec<(&'static str, Option<String>, String)> {
        super::convert::warning_tuples(self.m().warnings())
    }
    /// The fit log: (θ rows, β rows, objectives, joint-stage flags).
    fn fitlog<'py>(&self, py: Python<'py>) -> Option<FitLog<'py>> {
        let m = self.m();
        let o = m.optsum()?;
        let (k, p) = (o.initial.len(), o.final_beta.len());
        let n = o.fitlog.len();
        let thetas = o.fitlog.iter().flat_map(|e| e.theta.clone()).collect();
        let betas = o.fitlog.iter().flat_map(|e| e.beta.clone()).collect();
        Some((
            rowmajor(py, n, k, thetas),
            rowmajor(py, n, p, betas),
            PyArray1::from_vec(py, o.fitlog.iter().map(|e| e.objective).collect()),
            o.fitlog.iter().map(|e| e.joint).collect(),
        ))
    }
}
