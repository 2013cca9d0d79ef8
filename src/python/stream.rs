//! The Python class wrapping [`ModelBuilder`]: a linear mixed model built
//! from chunks of rows, and partial sums as bytes for Dask workers.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::convert::{check_action, contrasts_from_dict, data_from_dict, missing_policy, to_pyerr};
use super::lmm::PyLinearMixedModel;
use crate::error::Error;
use crate::lmm::LmmOptions;
use crate::stream::{ModelBuilder, PartialA};

/// Builds a linear mixed model from chunks of rows (native part of
/// `mixedmodels._stream`).
#[pyclass(name = "StreamBuilder", module = "mixedmodels._core")]
pub struct PyStreamBuilder {
    inner: Option<ModelBuilder>,
}

impl PyStreamBuilder {
    fn builder(&mut self) -> PyResult<&mut ModelBuilder> {
        self.inner.as_mut().ok_or_else(|| {
            to_pyerr(Error::argument(
                "builder",
                "the model was already built from this builder",
            ))
        })
    }
}

#[pymethods]
impl PyStreamBuilder {
    /// A builder for `formula` (options as for the model's constructor).
    #[new]
    #[pyo3(signature = (formula, contrasts=None, sigma=None, missing="drop", threads=None, zerocorr=None, check_nobs="error"))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python constructor's keyword arguments
    fn new(
        formula: &str,
        contrasts: Option<&Bound<'_, PyDict>>,
        sigma: Option<f64>,
        missing: &str,
        threads: Option<usize>,
        zerocorr: Option<Vec<String>>,
        check_nobs: &str,
    ) -> PyResult<Self> {
        let options = LmmOptions {
            contrasts: contrasts_from_dict(contrasts)?,
            missing: missing_policy(missing)?,
            sigma,
            threads,
            zerocorr: zerocorr.unwrap_or_default(),
            check_nobs: check_action(check_nobs)?,
            ..LmmOptions::default()
        };
        let builder = ModelBuilder::new(formula, &options).map_err(to_pyerr)?;
        Ok(PyStreamBuilder {
            inner: Some(builder),
        })
    }

    /// Add the rows of one chunk (a dict of encoded columns), GIL released.
    fn add_chunk(&mut self, py: Python<'_>, columns: &Bound<'_, PyDict>) -> PyResult<()> {
        let data = data_from_dict(columns)?;
        let builder = self.builder()?;
        py.detach(|| builder.add_chunk(&data)).map_err(to_pyerr)
    }

    /// Learn the coding of the variables from a chunk without adding its rows.
    fn learn_coding(&mut self, columns: &Bound<'_, PyDict>) -> PyResult<()> {
        let data = data_from_dict(columns)?;
        self.builder()?.learn_coding(&data).map_err(to_pyerr)
    }

    /// The sums so far as bytes (the builder is left empty).
    fn take_bytes<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let partial = self.builder()?.take_partial();
        let bytes = py.detach(|| partial.to_bytes());
        Ok(PyBytes::new(py, &bytes))
    }

    /// Add sums given as bytes (from `take_bytes` of a builder of the same formula).
    fn merge_bytes(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        let builder = self.builder()?;
        py.detach(|| builder.merge(PartialA::from_bytes(data)?))
            .map_err(to_pyerr)
    }

    /// Number of observations summed so far.
    #[getter]
    fn nobs(&mut self) -> PyResult<u64> {
        Ok(self.builder()?.partial().nobs())
    }

    /// Build the (unfitted) model; the builder cannot be used afterwards.
    fn finish(&mut self, py: Python<'_>) -> PyResult<PyLinearMixedModel> {
        self.builder()?;
        let builder = self.inner.take().expect("checked above");
        let model = py.detach(|| builder.finish()).map_err(to_pyerr)?;
        Ok(PyLinearMixedModel::from_model(model))
    }
}

/// Sum two partials given as bytes (the tree reduction of a Dask backend).
#[pyfunction]
pub fn merge_partial_bytes<'py>(
    py: Python<'py>,
    a: &[u8],
    b: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let out = py
        .detach(|| {
            let mut pa = PartialA::from_bytes(a)?;
            pa.merge(PartialA::from_bytes(b)?)?;
            Ok::<_, Error>(pa.to_bytes())
        })
        .map_err(to_pyerr)?;
    Ok(PyBytes::new(py, &out))
}
