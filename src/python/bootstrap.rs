//! The parametric bootstrap for Python: run with the GIL released, progress
//! shown to a `Progress` and Ctrl-C watched from the calling thread,
//! the replicates returned as numpy arrays.

use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::rowmajor;
use super::convert::to_pyerr;
use super::progress::PyProgress;
use crate::inference::bootstrap::{
    coverage_interval as interval, parametric_bootstrap, BootstrapOptions, IntervalMethod, Refit,
};

/// Run the bootstrap of `m`. `progress` (if any) is shown the number of
/// replicates done (see `python::progress`); if its callable raises, the
/// bootstrap stops and the exception propagates. Returns a dict: `objective`, `sigma` and
/// `dispersion` (None without one),
/// `beta`, `theta`, `components` (n × p, n × k, n × k arrays), `converged`,
/// `warning`, the names (`coef_names`, `theta_names`, `component_names`)
/// and `generating` (the values drawn from, same keys).
pub fn run<'py, M: Refit>(
    py: Python<'py>,
    m: &M,
    options: BootstrapOptions,
    progress: Option<&PyProgress>,
) -> PyResult<Bound<'py, PyDict>> {
    let interrupt = progress.map_or_else(super::ctrl_c_interrupt, PyProgress::interrupt);
    let result = py.detach(|| parametric_bootstrap(m, &options, &interrupt, &mut |_| {}));
    let b = match (result, progress) {
        (Ok(b), _) => b,
        (Err(e), Some(p)) => return Err(p.error(e)),
        (Err(e), None) => return Err(to_pyerr(e)),
    };
    let n = b.replicates.len();
    let (p, k) = (b.coef_names.len(), b.theta_names.len());
    let rows = |f: &dyn Fn(&crate::inference::bootstrap::Replicate) -> &[f64], width: usize| {
        rowmajor(
            py,
            n,
            width,
            b.replicates.iter().flat_map(|r| f(r).to_vec()).collect(),
        )
    };
    let d = PyDict::new(py);
    d.set_item("seed", b.seed)?;
    let objective = b.replicates.iter().map(|r| r.objective).collect();
    d.set_item("objective", PyArray1::from_vec(py, objective))?;
    let sigma: Option<Vec<f64>> = b.replicates.iter().map(|r| r.sigma).collect();
    d.set_item("sigma", sigma.map(|s| PyArray1::from_vec(py, s)))?;
    let dispersion: Option<Vec<f64>> = b.replicates.iter().map(|r| r.dispersion).collect();
    d.set_item("dispersion", dispersion.map(|s| PyArray1::from_vec(py, s)))?;
    d.set_item("beta", rows(&|r| &r.beta, p))?;
    d.set_item("theta", rows(&|r| &r.theta, k))?;
    d.set_item("components", rows(&|r| &r.components, k))?;
    let converged: Vec<bool> = b.replicates.iter().map(|r| r.converged).collect();
    d.set_item("converged", converged)?;
    let warning: Vec<Option<String>> = b.replicates.iter().map(|r| r.warning.clone()).collect();
    d.set_item("warning", warning)?;
    d.set_item("coef_names", &b.coef_names)?;
    d.set_item("theta_names", &b.theta_names)?;
    d.set_item("component_names", &b.component_names)?;
    let g = PyDict::new(py);
    g.set_item("objective", b.generating.objective)?;
    g.set_item("sigma", b.generating.sigma)?;
    g.set_item("dispersion", b.generating.dispersion)?;
    g.set_item("beta", &b.generating.beta)?;
    g.set_item("theta", &b.generating.theta)?;
    g.set_item("components", &b.generating.components)?;
    d.set_item("generating", g)?;
    Ok(d)
}

/// The coverage interval at `level` of the finite `values` by `method`
/// (`shortest` or `percentile`; see `mixedmodels::inference::bootstrap::intervals`).
#[pyfunction]
pub fn coverage_interval(values: Vec<f64>, level: f64, method: &str) -> PyResult<(f64, f64)> {
    let method = IntervalMethod::from_name(method).map_err(to_pyerr)?;
    interval(&values, level, method).map_err(to_pyerr)
}
