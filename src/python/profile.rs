//! Likelihood profiles and confidence intervals for the Python package: the
//! native `Profile` class (the points of a [`Profile`] and its spline
//! intervals), and functions that profile a model, refine a profile's
//! intervals on the model, and give Wald intervals. Register them with
//! [`register`]. The GIL is released while models are fitted.

use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;

use super::arrays::rowmajor;
use super::convert::to_pyerr;
use super::glmm::PyGeneralizedLinearMixedModel;
use super::lmm::PyLinearMixedModel;
use super::progress::{watched, PyProgress};
use crate::error::Error;
use crate::inference::{
    confint_glmm, confint_lmm, profile_glmm, profile_lmm, wald_confint as wald, ConfintRow,
    Profile, ProfileSettings,
};

/// (parameter names, estimates, lower ends, upper ends); None where there is no end.
pub type ConfintColumns = (Vec<String>, Vec<f64>, Vec<Option<f64>>, Vec<Option<f64>>);

/// Add the profile class and functions to the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProfile>()?;
    m.add_function(wrap_pyfunction!(profile_model, m)?)?;
    m.add_function(wrap_pyfunction!(profile_confint, m)?)?;
    m.add_function(wrap_pyfunction!(wald_confint, m)?)?;
    Ok(())
}

/// The profile of every parameter of a model (native part of
/// `mixedmodels.ProfileResult`).
#[pyclass(name = "Profile", module = "mixedmodels._core", frozen)]
pub struct PyProfile {
    inner: Profile,
}

fn columns(rows: Vec<ConfintRow>) -> ConfintColumns {
    (
        rows.iter().map(|r| r.parameter.clone()).collect(),
        rows.iter().map(|r| r.estimate).collect(),
        rows.iter().map(|r| r.lower).collect(),
        rows.iter().map(|r| r.upper).collect(),
    )
}

#[pymethods]
impl PyProfile {
    /// Names of the parameters (lme4's `confint` names and order).
    #[getter]
    fn parameters(&self) -> Vec<String> {
        self.inner
            .parameters
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    /// The estimates (ζ = 0).
    #[getter]
    fn estimates(&self) -> Vec<f64> {
        self.inner.parameters.iter().map(|p| p.estimate).collect()
    }

    /// The deviance at the optimum.
    #[getter]
    fn deviance(&self) -> f64 {
        self.inner.deviance
    }

    /// |ζ| up to which each profile was followed.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.settings.threshold
    }

    /// Problems met while profiling (the profile went on).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }

    /// Is the profile that of the ML deviance of a model fitted by REML?
    #[getter]
    fn refitted_ml(&self) -> bool {
        self.inner.refitted_ml
    }

    /// Conditional fits computed for the profile.
    #[getter]
    fn conditional_fits(&self) -> usize {
        self.inner.conditional_fits
    }

    /// The points: for each row the index of the profiled parameter, ζ, and
    /// every parameter's value (rows × parameters).
    #[allow(clippy::type_complexity)]
    fn points<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Vec<usize>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray2<f64>>,
    ) {
        let np = self.inner.parameters.len();
        let mut which = Vec::new();
        let mut zeta = Vec::new();
        let mut values = Vec::new();
        for (i, curve) in self.inner.curves.iter().enumerate() {
            for point in curve {
                which.push(i);
                zeta.push(point.zeta);
                values.extend_from_slice(&point.values);
            }
        }
        let rows = which.len();
        (
            which,
            PyArray1::from_vec(py, zeta),
            rowmajor(py, rows, np, values),
        )
    }

    /// Intervals of `level` from the points alone (monotone spline of p(ζ)).
    fn confint(&self, level: f64) -> PyResult<ConfintColumns> {
        self.inner.confint(level).map(columns).map_err(to_pyerr)
    }
}

/// The model argument is neither model class.
fn not_a_model(model: &Bound<'_, PyAny>) -> PyErr {
    let kind = model
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    to_pyerr(Error::argument(
        "model",
        format!("expected a native linear or generalized linear mixed model, got {kind}"),
    ))
}

/// Profile every parameter of a fitted model, following each profile until
/// |ζ| exceeds `threshold`; `progress` (a `Progress`) is shown the
/// parameters done.
#[pyfunction]
#[pyo3(signature = (model, threshold=4.0, progress=None))]
fn profile_model(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    threshold: f64,
    progress: Option<PyRef<'_, PyProgress>>,
) -> PyResult<PyProfile> {
    let settings = ProfileSettings {
        threshold,
        ..ProfileSettings::default()
    };
    let progress = progress.as_deref();
    let inner = if let Ok(m) = model.cast::<PyLinearMixedModel>() {
        let m = m.borrow();
        let profile = watched(py, &mut *m.m(), progress, |m| profile_lmm(m, &settings))?;
        profile
    } else if let Ok(m) = model.cast::<PyGeneralizedLinearMixedModel>() {
        let m = m.borrow();
        let profile = watched(py, &mut *m.m(), progress, |m| profile_glmm(m, &settings))?;
        profile
    } else {
        return Err(not_a_model(model));
    };
    Ok(PyProfile { inner })
}

/// Profile intervals of `level` from `profile`, each end refined by root
/// finding on the exact profile of `model` (the model profiled).
#[pyfunction]
fn profile_confint(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    profile: &PyProfile,
    level: f64,
) -> PyResult<ConfintColumns> {
    let p = &profile.inner;
    let rows = if let Ok(m) = model.cast::<PyLinearMixedModel>() {
        let m = m.borrow();
        let m: &PyLinearMixedModel = &m;
        py.detach(|| confint_lmm(&mut m.m(), p, level))
    } else if let Ok(m) = model.cast::<PyGeneralizedLinearMixedModel>() {
        let m = m.borrow();
        let m: &PyGeneralizedLinearMixedModel = &m;
        py.detach(|| confint_glmm(&mut m.m(), p, level))
    } else {
        return Err(not_a_model(model));
    };
    rows.map(columns).map_err(to_pyerr)
}

/// Wald intervals of `level` at the model's current estimates (None for the
/// variance components, as lme4).
#[pyfunction]
fn wald_confint(model: &Bound<'_, PyAny>, level: f64) -> PyResult<ConfintColumns> {
    let rows = if let Ok(m) = model.cast::<PyLinearMixedModel>() {
        wald(&*m.borrow().m(), level)
    } else if let Ok(m) = model.cast::<PyGeneralizedLinearMixedModel>() {
        wald(&*m.borrow().m(), level)
    } else {
        return Err(not_a_model(model));
    };
    rows.map(columns).map_err(to_pyerr)
}
