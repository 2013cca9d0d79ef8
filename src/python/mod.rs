//! Python bindings (feature `python`): the private extension module
//! `mixedmodels._core`. It converts and forwards; all numerics live in the
//! rest of the crate.

mod arrays;
mod bootstrap;
mod convert;
mod ddf;
mod emmeans;
mod glmm;
mod lmm;
mod lrt;
mod many;
mod memory;
mod present;
mod profile;
mod progress;
mod shared;
mod stream;
mod stream_fitted;
mod stream_glmm;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::formula::parse_formula;
use crate::interrupt::Interrupt;

/// An interrupt whose poll hook runs the interpreter's signal handlers, so
/// that Ctrl-C during a fit (GIL released) stops it with `KeyboardInterrupt`.
/// The handlers run only on the main thread; elsewhere the hook is a no-op.
pub(crate) fn ctrl_c_interrupt() -> Interrupt {
    Interrupt::with_hook(std::sync::Arc::new(|| {
        Python::attach(|py| py.check_signals().is_err())
    }))
}

/// Parse a formula and describe it: response, variables, grouping variables.
#[pyfunction]
fn describe_formula<'py>(py: Python<'py>, formula: &str) -> PyResult<Bound<'py, PyDict>> {
    let spec = parse_formula(formula).map_err(|e| convert::to_pyerr(e.into()))?;
    let d = PyDict::new(py);
    d.set_item("variables", spec.variables())?;
    d.set_item("grouping", spec.grouping_variables())?;
    d.set_item("source", spec.source.clone())?;
    Ok(d)
}

/// Likelihood-ratio tests for models given as (deviance, dof, nobs), simplest
/// first: rows of (dof, deviance, χ², χ² dof, p).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn likelihood_ratio_test(
    models: Vec<(f64, usize, usize)>,
) -> PyResult<Vec<(usize, f64, Option<f64>, Option<usize>, Option<f64>)>> {
    let rows = crate::inference::likelihood_ratio_test(&models).map_err(convert::to_pyerr)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.dof, r.deviance, r.chisq, r.chisq_dof, r.p))
        .collect())
}

/// The native module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(describe_formula, m)?)?;
    m.add_function(wrap_pyfunction!(likelihood_ratio_test, m)?)?;
    m.add_function(wrap_pyfunction!(present::likelihood_ratio_table, m)?)?;
    m.add_function(wrap_pyfunction!(lrt::likelihood_ratio_check, m)?)?;
    m.add_function(wrap_pyfunction!(bootstrap::coverage_interval, m)?)?;
    m.add_class::<lmm::PyLinearMixedModel>()?;
    m.add_class::<stream::PyStreamBuilder>()?;
    m.add_class::<stream_fitted::PyChunkFitter>()?;
    m.add_class::<stream_glmm::PyStreamedGlmm>()?;
    m.add_function(wrap_pyfunction!(stream::merge_partial_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(many::fit_many, m)?)?;
    m.add_function(wrap_pyfunction!(memory::memory_estimate, m)?)?;
    glmm::register(m)?;
    ddf::register(m)?;
    emmeans::register(m)?;
    profile::register(m)?;
    progress::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
