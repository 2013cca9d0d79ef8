//! The Python class wrapping [`ChunkFitter`]: fitted values and residuals
//! of a model built from chunks, one chunk of its data at a time (native
//! part of `mixedmodels._stream_fitted`).

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::{data_from_dict, missing_policy, to_pyerr};
use super::lmm::PyLinearMixedModel;
use crate::stream::ChunkFitter;

/// Fitted values and residuals per chunk of a linear mixed model's data, at
/// the model's estimates when the fitter was made.
#[pyclass(name = "ChunkFitter", module = "mixedmodels._core", frozen)]
pub struct PyChunkFitter {
    inner: ChunkFitter,
}

#[pymethods]
impl PyChunkFitter {
    /// A fitter for `model` (at its current θ) built with the missing-value
    /// rule `missing` ("drop" or "raise"); without `random_effects`, the
    /// population values offset + Xβ̂.
    #[new]
    #[pyo3(signature = (model, missing="drop", random_effects=true))]
    fn new(
        py: Python<'_>,
        model: &PyLinearMixedModel,
        missing: &str,
        random_effects: bool,
    ) -> PyResult<Self> {
        let missing = missing_policy(missing)?;
        let m = model.m();
        let fitter = py.detach(|| ChunkFitter::new(&m, missing));
        let inner = if random_effects {
            fitter
        } else {
            fitter.population()
        };
        Ok(PyChunkFitter { inner })
    }

    /// (rows used: indices into the chunk, fitted values, residuals) of one
    /// chunk given as a dict of encoded columns, computed with the GIL released.
    #[allow(clippy::type_complexity)]
    fn chunk<'py>(
        &self,
        py: Python<'py>,
        columns: &Bound<'py, PyDict>,
    ) -> PyResult<(
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let data = data_from_dict(columns)?;
        let part = py.detach(|| self.inner.chunk(&data)).map_err(to_pyerr)?;
        let rows = part.rows.iter().map(|&i| i as i64).collect();
        Ok((
            PyArray1::from_vec(py, rows),
            PyArray1::from_vec(py, part.fitted),
            PyArray1::from_vec(py, part.residuals),
        ))
    }
}
