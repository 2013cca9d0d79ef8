//! The memory estimate of a linear mixed model for Python (see
//! `mixedmodels::lmm::memory`).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::lmm::PyLinearMixedModel;

/// The bytes `model` and its fit need, by part: `a`, `l`, `rows`, `fit`
/// and `total`.
#[pyfunction]
pub fn memory_estimate<'py>(
    py: Python<'py>,
    model: PyRef<'_, PyLinearMixedModel>,
) -> PyResult<Bound<'py, PyDict>> {
    let e = model.m().memory_estimate();
    let d = PyDict::new(py);
    d.set_item("a", e.a)?;
    d.set_item("l", e.l)?;
    d.set_item("rows", e.rows)?;
    d.set_item("fit", e.fit)?;
    d.set_item("total", e.total)?;
    Ok(d)
}
