//! The Python class wrapping [`StreamedGlmm`]: a GLMM fitted from data read
//! in chunks, the chunks coming from a Python callable on every pass.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::{
    check_action, contrasts_from_dict, data_from_dict, missing_policy, to_pyerr, warning_tuples,
};
use crate::data::Data;
use crate::error::{Error, Result};
use crate::family::{Family, Link};
use crate::lmm::LmmOptions;
use crate::stream::{ChunkSource, StreamedGlmm, StreamedGlmmFit};

/// A [`ChunkSource`] calling `make()` for an iterator of encoded chunks (dicts
/// of columns) on every pass. A Python exception raised while reading (or
/// Ctrl-C) stops the pass; it is kept to be raised in place of the error
/// the fit returns.
struct PySource<'py> {
    make: Bound<'py, PyAny>,
    raised: Option<PyErr>,
}

impl PySource<'_> {
    /// Keep `e` and turn it into the error that stops the fit.
    fn stop(&mut self, e: PyErr) -> Error {
        self.raised = Some(e);
        Error::Interrupted
    }

    /// The error to raise for `e`: the kept Python exception, if any.
    fn raise(&mut self, e: Error) -> PyErr {
        self.raised.take().unwrap_or_else(|| to_pyerr(e))
    }
}

impl ChunkSource for PySource<'_> {
    fn pass(&mut self, f: &mut dyn FnMut(&Data) -> Result<()>) -> Result<()> {
        let py = self.make.py();
        let iter = match self.make.call0().and_then(|it| it.try_iter()) {
            Ok(it) => it,
            Err(e) => return Err(self.stop(e)),
        };
        for item in iter {
            let data = match item.and_then(|d| {
                py.check_signals()?;
                data_from_dict(d.cast::<PyDict>()?)
            }) {
                Ok(d) => d,
                Err(e) => return Err(self.stop(e)),
            };
            f(&data)?;
        }
        Ok(())
    }
}

/// A GLMM fitted from chunks of rows (native part of
/// `mixedmodels._stream_glmm`).
#[pyclass(name = "StreamedGlmm", module = "mixedmodels._core", unsendable)]
pub struct PyStreamedGlmm {
    inner: StreamedGlmm,
    fit: Option<StreamedGlmmFit>,
}

#[pymethods]
impl PyStreamedGlmm {
    /// Read the chunks `source()` gives once and set the model up.
    #[new]
    #[pyo3(signature = (formula, family, link, source, contrasts=None, missing="drop", check_nobs="error"))]
    fn new(
        formula: &str,
        family: &str,
        link: Option<&str>,
        source: Bound<'_, PyAny>,
        contrasts: Option<&Bound<'_, PyDict>>,
        missing: &str,
        check_nobs: &str,
    ) -> PyResult<Self> {
        let family = Family::from_name(family).map_err(to_pyerr)?;
        let link = link
            .map(Link::from_name)
            .transpose()
            .map_err(to_pyerr)?
            .unwrap_or_else(|| family.canonical_link());
        let options = LmmOptions {
            contrasts: contrasts_from_dict(contrasts)?,
            missing: missing_policy(missing)?,
            check_nobs: check_action(check_nobs)?,
            ..LmmOptions::default()
        };
        let mut src = PySource {
            make: source,
            raised: None,
        };
        let inner = StreamedGlmm::new(formula, family, link, &options, &mut src)
            .map_err(|e| src.raise(e))?;
        Ok(PyStreamedGlmm { inner, fit: None })
    }

    /// Fit (BOBYQA over θ, PIRLS over the chunks `source()` gives for
    /// each value); returns the estimates as a dict.
    #[pyo3(signature = (source, max_evaluations=10_000))]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        source: Bound<'py, PyAny>,
        max_evaluations: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut src = PySource {
            make: source,
            raised: None,
        };
        let fit = self
            .inner
            .fit(&mut src, max_evaluations)
            .map_err(|e| src.raise(e))?;
        let out = fit_dict(py, &fit)?;
        self.fit = Some(fit);
        Ok(out)
    }

    /// Rows dropped for missing values, per column.
    #[getter]
    fn missing(&self) -> Vec<(String, usize)> {
        self.inner.missing().to_vec()
    }

    /// Rows in the data before dropping.
    #[getter]
    fn input_rows(&self) -> usize {
        self.inner.input_rows()
    }

    /// Observations used.
    #[getter]
    fn nobs(&self) -> usize {
        self.inner.nobs()
    }

    /// The model's warnings as (kind, term, message).
    fn model_warnings(&self) -> Vec<(&'static str, Option<String>, String)> {
        warning_tuples(self.inner.warnings().to_vec())
    }

    /// The fixed-effects table of the fit as columns (names, estimates,
    /// standard errors, z, p).
    fn coeftable(&self) -> PyResult<super::shared::CoefColumns> {
        let fit = self
            .fit
            .as_ref()
            .ok_or_else(|| to_pyerr(Error::not_fitted("coeftable")))?;
        Ok(super::shared::coef_columns(&fit.coeftable()))
    }

    /// The objective at θ (PIRLS over the chunks `source()` gives).
    fn objective_at(&mut self, source: Bound<'_, PyAny>, theta: Vec<f64>) -> PyResult<f64> {
        let mut src = PySource {
            make: source,
            raised: None,
        };
        self.inner
            .objective_at(&mut src, &theta)
            .map_err(|e| src.raise(e))
    }
}

/// The fit's estimates as a dict of Python values.
fn fit_dict<'py>(py: Python<'py>, fit: &StreamedGlmmFit) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("theta", PyList::new(py, &fit.theta)?)?;
    d.set_item("theta_names", PyList::new(py, &fit.theta_names)?)?;
    d.set_item("beta", PyList::new(py, &fit.beta)?)?;
    d.set_item("beta_names", PyList::new(py, &fit.beta_names)?)?;
    d.set_item("stderror", PyList::new(py, &fit.stderror)?)?;
    d.set_item("objective", fit.objective)?;
    d.set_item("deviance", fit.deviance)?;
    d.set_item("nobs", fit.nobs)?;
    d.set_item("evaluations", fit.evaluations)?;
    d.set_item("passes", fit.passes)?;
    d.set_item("converged", fit.converged)?;
    d.set_item("return_code", &fit.return_code)?;
    d.set_item("seconds", fit.seconds)?;
    Ok(d)
}
