//! Many responses for Python: `lmm::many::fit_many` on a design model with
//! the GIL released, progress reported to a Python callable and Ctrl-C
//! watched from the calling thread, the fits returned as numpy arrays.

use numpy::{PyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::rowmajor;
use super::convert::to_pyerr;
use super::lmm::{optimizer_choice, PyLinearMixedModel};
use crate::error::Error;
use crate::lmm::many::{fit_many as fit, ManyOptions, Response};

/// Fit the design `model` to each row of `responses` (k × input rows, row j
/// named `names[j]`). `progress` (if any) is called with the responses
/// done; if it raises, the fits stop and its exception propagates. Returns
/// a dict: `objective`, `sigma` (k), `beta` (k × p), `theta` (k × t),
/// `converged`, `evaluations`, `warning` and the names `coef_names`,
/// `theta_names`.
#[pyfunction]
#[pyo3(signature = (model, names, responses, reml=false, optimizer="auto", threads=None, progress=None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python function's keyword arguments
pub fn fit_many<'py>(
    py: Python<'py>,
    model: PyRef<'_, PyLinearMixedModel>,
    names: Vec<String>,
    responses: PyReadonlyArray2<'_, f64>,
    reml: bool,
    optimizer: &str,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let shape = responses.shape().to_vec();
    if shape[0] != names.len() {
        return Err(to_pyerr(Error::argument(
            "responses",
            format!("{} names for {} responses", names.len(), shape[0]),
        )));
    }
    let values: Vec<f64> = responses.as_array().iter().copied().collect();
    let options = ManyOptions {
        reml,
        optimizer: optimizer_choice(optimizer)?,
        threads,
    };
    let design = model.m().clone();
    let interrupt = super::ctrl_c_interrupt();
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        let width = shape[1];
        let rs: Vec<Response> = names
            .iter()
            .enumerate()
            .map(|(j, name)| Response {
                name,
                values: &values[j * width..(j + 1) * width],
            })
            .collect();
        let mut report = |done: usize| {
            if let (Some(callback), None) = (&progress, &raised) {
                if let Err(e) = Python::attach(|py| callback.call1(py, (done,)).map(|_| ())) {
                    raised = Some(e);
                    interrupt.trigger();
                }
            }
        };
        fit(&design, &rs, &options, &interrupt, &mut report)
    });
    if let Some(e) = raised {
        return Err(e);
    }
    let f = result.map_err(to_pyerr)?;
    let k = f.fits.len();
    let (p, t) = (f.coef_names.len(), f.theta_names.len());
    let d = PyDict::new(py);
    let column = |g: &dyn Fn(&crate::lmm::many::ResponseFit) -> f64| {
        PyArray1::from_vec(py, f.fits.iter().map(g).collect())
    };
    d.set_item("objective", column(&|r| r.estimates.objective))?;
    d.set_item("sigma", column(&|r| r.estimates.sigma.unwrap_or(f64::NAN)))?;
    let beta = f.fits.iter().flat_map(|r| r.estimates.beta.clone());
    d.set_item("beta", rowmajor(py, k, p, beta.collect()))?;
    let theta = f.fits.iter().flat_map(|r| r.estimates.theta.clone());
    d.set_item("theta", rowmajor(py, k, t, theta.collect()))?;
    let converged: Vec<bool> = f.fits.iter().map(|r| r.estimates.converged).collect();
    d.set_item("converged", converged)?;
    let evaluations: Vec<usize> = f.fits.iter().map(|r| r.evaluations).collect();
    d.set_item("evaluations", evaluations)?;
    let warning: Vec<Option<String>> = f.fits.iter().map(|r| r.estimates.warning.clone()).collect();
    d.set_item("warning", warning)?;
    d.set_item("coef_names", &f.coef_names)?;
    d.set_item("theta_names", &f.theta_names)?;
    Ok(d)
}
