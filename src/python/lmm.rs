//! The Python class wrapping [`LinearMixedModel`]: construction from
//! columns, fitting with the GIL released, and every extractor as numpy
//! arrays or plain Python values.

use std::sync::{Mutex, MutexGuard};

use ndarray::{Array2, ShapeBuilder};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::{check_action, contrasts_from_dict, data_from_dict, missing_policy, to_pyerr};
use super::present;
use crate::lmm::{LinearMixedModel, LmmOptions};
use crate::model::{FitSettings, MixedModel};

/// Columns of the fixed-effects table: names, estimates, standard errors, z, p.
type CoefColumns = (Vec<String>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
/// The fit log: θ per evaluation (rows) and the objective values.
type FitLog<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>);

/// A linear mixed-effects model (native part of `mixedmodels.LinearMixedModel`).
#[pyclass(name = "LinearMixedModel", module = "mixedmodels._core")]
pub struct PyLinearMixedModel {
    inner: Mutex<LinearMixedModel>,
}

impl PyLinearMixedModel {
    fn m(&self) -> MutexGuard<'_, LinearMixedModel> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn colmajor<'py>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    data: Vec<f64>,
) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_vec((rows, cols).f(), data)
        .expect("shape matches data")
        .into_pyarray(py)
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
impl PyLinearMixedModel {
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

    /// Fit by ML or REML (the GIL is released while fitting).
    #[pyo3(signature = (reml=false))]
    fn fit(&self, py: Python<'_>, reml: bool) -> PyResult<()> {
        py.detach(|| self.m().fit(reml).map(|_| ()))
            .map_err(to_pyerr)
    }

    /// Fit from a given θ with BOBYQA settings (`max_evaluations` caps the
    /// objective evaluations of the optimizer).
    #[pyo3(signature = (reml, start, rho_begin=None, rho_end=None, max_evaluations=None))]
    fn fit_from(
        &self,
        py: Python<'_>,
        reml: bool,
        start: Vec<f64>,
        rho_begin: Option<f64>,
        rho_end: Option<f64>,
        max_evaluations: Option<usize>,
    ) -> PyResult<()> {
        let mut settings = FitSettings {
            reml,
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
    fn formula(&self) -> String {
        self.m().terms.spec.source.clone()
    }
    #[getter]
    fn response_name(&self) -> String {
        self.m().terms.response_name.clone()
    }
    #[getter]
    fn is_reml(&self) -> bool {
        self.m().is_reml()
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
        PyArray1::from_vec(py, self.m().lower_bounds())
    }
    #[getter]
    fn beta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().beta())
    }
    #[getter]
    fn coef_full<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().coef_full())
    }
    #[getter]
    fn coef_names(&self) -> Vec<String> {
        self.m().coef_names()
    }
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.m().terms.fixed.names.clone()
    }
    #[getter]
    fn dropped_columns(&self) -> Vec<String> {
        self.m().terms.fixed.dropped_names()
    }
    #[getter]
    fn sigma(&self) -> f64 {
        self.m().sigma()
    }
    #[getter]
    fn objective(&self) -> f64 {
        self.m().objective()
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
    fn nobs(&self) -> usize {
        self.m().nobs()
    }
    #[getter]
    fn dof(&self) -> usize {
        self.m().dof()
    }
    #[getter]
    fn dof_residual(&self) -> f64 {
        self.m().dof_residual()
    }
    #[getter]
    fn varest(&self) -> f64 {
        self.m().varest()
    }
    #[getter]
    fn is_singular(&self) -> bool {
        self.m().is_singular()
    }
    fn loglikelihood(&self) -> PyResult<f64> {
        self.m().loglikelihood().map_err(to_pyerr)
    }
    fn deviance(&self) -> PyResult<f64> {
        self.m().deviance().map_err(to_pyerr)
    }
    fn aic(&self) -> PyResult<f64> {
        self.m().aic().map_err(to_pyerr)
    }
    fn aicc(&self) -> PyResult<f64> {
        self.m().aicc().map_err(to_pyerr)
    }
    fn bic(&self) -> PyResult<f64> {
        self.m().bic().map_err(to_pyerr)
    }
    #[getter]
    fn stderror<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().stderror())
    }
    #[getter]
    fn vcov<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let m = self.m();
        let p = m.rank();
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
    /// Per term: dict(group, columns, covariance (v×v), sd, correlation (v×v, NaN where structural zero)); and σ.
    fn varcorr<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyList>, Option<f64>)> {
        let vc = self.m().varcorr();
        let list = PyList::empty(py);
        for t in vc.terms {
            let v = t.columns.len();
            let d = PyDict::new(py);
            d.set_item("group", t.group)?;
            d.set_item("columns", t.columns)?;
            d.set_item("covariance", colmajor(py, v, v, t.covariance))?;
            d.set_item("sd", PyArray1::from_vec(py, t.sd))?;
            let corr = t
                .correlation
                .iter()
                .map(|c| c.unwrap_or(f64::NAN))
                .collect();
            d.set_item("correlation", colmajor(py, v, v, corr))?;
            list.append(d)?;
        }
        Ok((list, vc.residual_sd))
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
        present::render_document(crate::present::lmm_summary(&self.m()), format)
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
        m.terms
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
        m.terms
            .random
            .iter()
            .zip(cv)
            .map(|(t, c)| {
                let v = t.ncols();
                // Each block is column-major v × v; a symmetric block reads the same row-major.
                let arr = ndarray::Array3::from_shape_vec((t.nlevels(), v, v), c)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                Ok(arr.into_pyarray(py))
            })
            .collect()
    }
    /// Relative covariance factors λ per term (v × v).
    #[getter]
    fn lambda_<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray2<f64>>> {
        let m = self.m();
        m.lambdas()
            .iter()
            .cloned()
            .zip(&m.terms.random)
            .map(|(l, t)| colmajor(py, t.ncols(), t.ncols(), l))
            .collect()
    }
    #[getter]
    fn fitted<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().fitted())
    }
    #[getter]
    fn residuals<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m().residuals())
    }
    fn leverage<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let m = self.m();
        let lev = py.detach(|| m.leverage());
        PyArray1::from_vec(py, lev)
    }
    #[getter]
    #[allow(non_snake_case)]
    fn X<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let m = self.m();
        colmajor(py, m.nobs(), m.rank(), m.terms.fixed.x.clone())
    }
    #[getter]
    fn y<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.m().y())
    }
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.m().weights().map(|w| PyArray1::from_vec(py, w))
    }
    /// Indices of the input rows used.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_vec(py, self.m().terms.rows.iter().map(|&r| r as u64).collect())
    }
    /// Rows dropped for missing values, per column used.
    #[getter]
    fn missing(&self) -> Vec<(String, usize)> {
        self.m().terms.missing.clone()
    }
    #[getter]
    fn input_rows(&self) -> usize {
        self.m().terms.input_rows
    }
    /// Per random-effects term: dict(name, levels, columns, refs (uint32), z (n × v)).
    fn reterms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let m = self.m();
        let list = PyList::empty(py);
        for t in &m.terms.random {
            let d = PyDict::new(py);
            d.set_item("name", &t.grouping)?;
            d.set_item("levels", &t.levels)?;
            d.set_item("columns", &t.column_names)?;
            d.set_item("refs", PyArray1::from_slice(py, &t.refs))?;
            d.set_item("z", rowmajor(py, t.refs.len(), t.ncols(), t.z.clone()))?;
            d.set_item("theta_index", t.theta_index.clone())?;
            list.append(d)?;
        }
        Ok(list)
    }
    /// Optimizer summary as a dict.
    fn optsum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let m = self.m();
        let Some(o) = m.optsum() else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("optimizer", &o.settings.optimizer)?;
        d.set_item("initial", &o.initial)?;
        d.set_item("finitial", o.finitial)?;
        d.set_item("lower", &o.lower)?;
        d.set_item("final", &o.final_theta)?;
        d.set_item("fmin", o.fmin)?;
        d.set_item("evaluations", o.evaluations)?;
        d.set_item("return_code", o.return_code_text())?;
        d.set_item("rho_begin", o.last_stage().rho_begin)?;
        d.set_item("rho_end", o.last_stage().rho_end)?;
        d.set_item("zeroed", &o.zeroed)?;
        d.set_item("reml", o.settings.reml)?;
        d.set_item("seconds", o.seconds)?;
        Ok(Some(d))
    }
    /// The fit log: (θ per evaluation as rows, objective per evaluation).
    fn fitlog<'py>(&self, py: Python<'py>) -> Option<FitLog<'py>> {
        let m = self.m();
        let o = m.optsum()?;
        let k = o.initial.len();
        let thetas: Vec<f64> = o.fitlog.iter().flat_map(|e| e.theta.clone()).collect();
        let objs: Vec<f64> = o.fitlog.iter().map(|e| e.objective).collect();
        Some((
            rowmajor(py, o.fitlog.len(), k, thetas),
            PyArray1::from_vec(py, objs),
        ))
    }
    /// The model's warnings as (kind, term, message).
    fn model_warnings(&self) -> Vec<(&'static str, Option<String>, String)> {
        super::convert::warning_tuples(self.m().warnings())
    }
    /// Kind of each block of L, by block row.
    fn block_description(&self) -> Vec<Vec<&'static str>> {
        self.m().block_description()
    }
}
