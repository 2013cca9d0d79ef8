//! What both Python model classes expose, written once: the conversions of
//! [`MixedModel`] answers to numpy arrays, lists and dicts, and
//! [`mixed_model_methods!`], which puts the shared methods into a class's
//! `#[pymethods]` block beside the class's own.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::to_pyerr;
use crate::error::Error;
use crate::model::{
    Certificate, CertificateScope, MixedModel, NewLevels, Predict, PredictOptions, PredictScale,
    Stage,
};

/// Columns of the fixed-effects table: names, estimates, standard errors, z, p.
pub type CoefColumns = (Vec<String>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
/// The fit log: θ rows, β rows (none for LMMs), objectives, joint-stage flags.
pub type FitLog<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<bool>,
);

pub use super::arrays::{colmajor, rowmajor};

/// (names, estimates, standard errors, z, p) of the fixed effects.
/// Lock a model's mutex without holding the GIL while waiting for it.
///
/// A model's methods lock it and then release the GIL for long work (fits,
/// bootstraps), re-taking the GIL now and then to poll for Ctrl-C and to move
/// a progress bar. A second Python thread that waited for the lock while
/// holding the GIL would block that first thread's poll: a deadlock. So a
/// lock that is taken is waited for with the GIL released.
pub fn lock_model<T: Send>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    use std::sync::TryLockError;
    loop {
        match mutex.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(e)) => return e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                Python::attach(|py| py.detach(|| drop(mutex.lock())));
            }
        }
    }
}

pub fn coeftable(m: &impl MixedModel) -> CoefColumns {
    coef_columns(&m.coeftable())
}

/// A fixed-effects table as columns (names, estimates, standard errors, z, p).
pub fn coef_columns(rows: &[crate::model::CoefRow]) -> CoefColumns {
    (
        rows.iter().map(|r| r.name.clone()).collect(),
        rows.iter().map(|r| r.estimate).collect(),
        rows.iter().map(|r| r.stderror).collect(),
        rows.iter().map(|r| r.z).collect(),
        rows.iter().map(|r| r.p).collect(),
    )
}

/// Per term a dict (group, columns, covariance v × v, sd, correlation v × v
/// with NaN where structurally zero); and the residual sd (None for GLMMs).
pub fn varcorr<'py>(
    py: Python<'py>,
    m: &impl MixedModel,
) -> PyResult<(Bound<'py, PyList>, Option<f64>)> {
    let vc = m.varcorr();
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

/// Per term a (levels × columns) array of b (or u when `uscale`).
pub fn ranef<'py>(
    py: Python<'py>,
    m: &impl MixedModel,
    uscale: bool,
) -> Vec<Bound<'py, PyArray2<f64>>> {
    let vals = if uscale { m.u() } else { m.b() };
    m.terms()
        .random
        .iter()
        .zip(vals)
        .map(|(t, b)| rowmajor(py, t.nlevels(), t.ncols(), b))
        .collect()
}

/// Per term a (levels × v × v) array of conditional covariances (computed
/// with the GIL released).
pub fn condvar<'py, M: MixedModel + Sync>(
    py: Python<'py>,
    m: &M,
) -> PyResult<Vec<Bound<'py, PyArray3<f64>>>> {
    let cv = py.detach(|| m.condvar());
    m.terms()
        .random
        .iter()
        .zip(cv)
        .map(|(t, c)| {
            let v = t.ncols();
            // Each block is column-major v × v and symmetric: it reads the same row-major.
            let arr = ndarray::Array3::from_shape_vec((t.nlevels(), v, v), c)
                .map_err(|e| to_pyerr(Error::Data(e.to_string())))?;
            Ok(arr.into_pyarray(py))
        })
        .collect()
}

/// Relative covariance factors λ per term (v × v, lower triangular).
pub fn lambdas<'py>(py: Python<'py>, m: &impl MixedModel) -> Vec<Bound<'py, PyArray2<f64>>> {
    m.lambdas()
        .iter()
        .zip(&m.terms().random)
        .map(|(l, t)| colmajor(py, t.ncols(), t.ncols(), l.clone()))
        .collect()
}

/// Per random-effects term: dict(name, levels, columns, refs (uint32),
/// z (n × v), theta_index).
pub fn reterms<'py>(py: Python<'py>, m: &impl MixedModel) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for t in &m.terms().random {
        let d = PyDict::new(py);
        d.set_item("name", &t.grouping)?;
        d.set_item("levels", &t.levels)?;
        d.set_item("columns", &t.column_names)?;
        d.set_item("refs", PyArray1::from_slice(py, &t.refs))?;
        // A model built from chunks keeps no rows (refs empty; z holds only
        // the columns' sizes): its z has no rows either.
        let z = if t.z.len() == t.refs.len() * t.ncols() {
            t.z.clone()
        } else {
            Vec::new()
        };
        d.set_item("z", rowmajor(py, t.refs.len(), t.ncols(), z))?;
        d.set_item("theta_index", t.theta_index.clone())?;
        list.append(d)?;
    }
    Ok(list)
}

/// The convergence certificate as a dict: status, scope, method, tolerance,
/// the gradient with its parameter names, the failing components (indices,
/// names and gradient values), the largest scaled violation, the restart
/// flag, its own evaluations and seconds.
fn certificate<'py>(
    py: Python<'py>,
    m: &impl MixedModel,
    c: &Certificate,
) -> PyResult<Bound<'py, PyDict>> {
    let theta_names = m.layout().names().to_vec();
    let names: Vec<String> = match c.scope {
        CertificateScope::Theta => theta_names,
        CertificateScope::BetaTheta => m.coef_names().into_iter().chain(theta_names).collect(),
    };
    let d = PyDict::new(py);
    d.set_item("status", c.status.name())?;
    d.set_item("scope", c.scope.name())?;
    d.set_item("method", &c.method)?;
    d.set_item("tolerance", c.tolerance)?;
    d.set_item("gradient", &c.gradient)?;
    d.set_item("names", &names)?;
    d.set_item("failing", &c.failing)?;
    let components: Vec<String> = c
        .failing
        .iter()
        .map(|&i| names.get(i).cloned().unwrap_or_else(|| i.to_string()))
        .collect();
    d.set_item("components", components)?;
    d.set_item("failing_gradient", c.failing_gradient())?;
    d.set_item("max_scaled", c.max_scaled)?;
    d.set_item("restarted", c.restarted)?;
    d.set_item("evaluations", c.evaluations)?;
    d.set_item("seconds", c.seconds)?;
    Ok(d)
}

/// The fit record as a dict (None before a fit): settings, optimum, counts,
/// return code and timing, with per-stage entries.
pub fn optsum<'py>(py: Python<'py>, m: &impl MixedModel) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(o) = m.fit_record() else {
        return Ok(None);
    };
    let s = &o.settings;
    let d = PyDict::new(py);
    d.set_item("optimizer", s.optimizer.name())?;
    d.set_item("reml", s.reml)?;
    d.set_item("fast", s.fast)?;
    d.set_item("nagq", s.nagq)?;
    d.set_item("max_evaluations", s.max_evaluations)?;
    d.set_item("pirls_tol", s.pirls_tol)?;
    d.set_item("threads", s.threads)?;
    d.set_item("initial", &o.initial)?;
    d.set_item("finitial", o.finitial)?;
    d.set_item("lower", &o.lower)?;
    d.set_item("final", &o.final_theta)?;
    d.set_item("final_beta", &o.final_beta)?;
    d.set_item("fmin", o.fmin)?;
    d.set_item("evaluations", o.evaluations)?;
    d.set_item("gradient_evaluations", o.gradient_evaluations)?;
    d.set_item("factorizations", o.factorizations)?;
    d.set_item("return_code", o.return_code_text())?;
    d.set_item("converged", o.converged())?;
    d.set_item("rho_begin", o.last_stage().rho_begin)?;
    d.set_item("rho_end", o.last_stage().rho_end)?;
    d.set_item("zeroed", &o.zeroed)?;
    d.set_item("seconds", o.seconds)?;
    d.set_item("certificate", certificate(py, m, &o.certificate)?)?;
    // The θ-only stages (none in a GLMM's quasi-Newton joint fit).
    let theta_stages = || o.stages.iter().filter(|s| s.stage == Stage::Theta);
    let evaluations: usize = theta_stages().map(|s| s.evaluations).sum();
    let seconds: f64 = theta_stages().map(|s| s.seconds).sum();
    let factorizations: usize = theta_stages().map(|s| s.factorizations).sum();
    d.set_item("evaluations_fast_stage", evaluations)?;
    d.set_item("seconds_fast_stage", seconds)?;
    d.set_item("factorizations_fast_stage", factorizations)?;
    let stages = PyList::empty(py);
    for st in &o.stages {
        let sd = PyDict::new(py);
        sd.set_item("stage", st.stage.name())?;
        sd.set_item("optimizer", st.optimizer.name())?;
        sd.set_item("evaluations", st.evaluations)?;
        sd.set_item("gradient_evaluations", st.gradient_evaluations)?;
        sd.set_item("factorizations", st.factorizations)?;
        sd.set_item("seconds", st.seconds)?;
        sd.set_item("rho_begin", st.rho_begin)?;
        sd.set_item("rho_end", st.rho_end)?;
        sd.set_item(
            "return_code",
            crate::model::return_code_text(&st.return_code),
        )?;
        stages.append(sd)?;
    }
    d.set_item("stages", stages)?;
    Ok(Some(d))
}

/// The fit log (None before a fit).
pub fn fitlog<'py>(py: Python<'py>, m: &impl MixedModel) -> Option<FitLog<'py>> {
    let o = m.fit_record()?;
    let n = o.fitlog.len();
    let k = o.initial.len();
    // β is logged for GLMMs only (an LMM's is profiled out).
    let p = o.fitlog.first().map_or(0, |e| e.beta.len());
    let thetas = o.fitlog.iter().flat_map(|e| e.theta.clone()).collect();
    let betas = o.fitlog.iter().flat_map(|e| e.beta.clone()).collect();
    Some((
        rowmajor(py, n, k, thetas),
        rowmajor(py, n, p, betas),
        PyArray1::from_vec(py, o.fitlog.iter().map(|e| e.objective).collect()),
        o.fitlog.iter().map(|e| e.joint).collect(),
    ))
}

/// Does a model keep the rows of its data? A linear mixed model built from
/// data streamed in chunks does not (see `mixedmodels::stream`).
pub trait RowsStored {
    /// True when the rows are kept.
    fn rows_stored(&self) -> bool;
}

impl RowsStored for crate::lmm::LinearMixedModel {
    fn rows_stored(&self) -> bool {
        self.has_rows()
    }
}

impl RowsStored for crate::glmm::GeneralizedLinearMixedModel {
    fn rows_stored(&self) -> bool {
        true
    }
}

/// A `RowsNotStoredError` naming `what` when `m` keeps no rows.
pub fn require_rows<M: RowsStored>(m: &M, what: &str) -> PyResult<()> {
    if m.rows_stored() {
        Ok(())
    } else {
        Err(to_pyerr(Error::RowsNotStored { what: what.into() }))
    }
}

/// Predictions for the fitted rows (`columns` None) or for new data given
/// as encoded columns (see [`Predict`]), computed with the GIL released.
pub fn predict<'py, M: Predict + Sync>(
    py: Python<'py>,
    m: &M,
    columns: Option<&Bound<'py, PyDict>>,
    options: (bool, &str, &str, Option<Vec<f64>>),
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (random_effects, new_levels, scale, offset) = options;
    let options = PredictOptions {
        random_effects,
        new_levels: NewLevels::from_name(new_levels).map_err(to_pyerr)?,
        scale: PredictScale::from_name(scale).map_err(to_pyerr)?,
        offset,
    };
    let data = columns.map(super::convert::data_from_dict).transpose()?;
    let out = py
        .detach(|| m.predict(data.as_ref(), &options))
        .map_err(to_pyerr)?;
    Ok(PyArray1::from_vec(py, out))
}

/// VIF rows (term, vif, its interval, √vif, tolerance, its interval) and
/// whether X has an intercept.
pub type VifColumns = (Vec<(String, f64, f64, f64, f64, f64, f64, f64)>, bool);

/// Nakagawa's decomposition as a dict: fixed, random (None when singular),
/// distribution, dispersion, residual, intercept and slope (lists of
/// (name, variance)), not_in_x, singular (θ indices), r2 (marginal,
/// conditional), icc (adjusted, unadjusted), icc_by_group.
pub fn variance_decomposition<'py, M: crate::model::DistributionVariance>(
    py: Python<'py>,
    m: &M,
    null_mean: Option<f64>,
    tolerance: f64,
) -> PyResult<Bound<'py, PyDict>> {
    if !(tolerance >= 0.0 && tolerance.is_finite()) {
        return Err(to_pyerr(Error::argument(
            "tolerance",
            format!("must be finite and non-negative, got {tolerance}"),
        )));
    }
    let v = crate::model::VarianceDecomposition::new(m, null_mean, tolerance).map_err(to_pyerr)?;
    let d = PyDict::new(py);
    d.set_item("fixed", v.fixed)?;
    d.set_item("random", v.random)?;
    d.set_item("distribution", v.distribution)?;
    d.set_item("dispersion", v.dispersion)?;
    d.set_item("residual", v.residual)?;
    d.set_item("intercept", v.intercept.clone())?;
    d.set_item("slope", v.slope.clone())?;
    d.set_item("not_in_x", v.not_in_x.clone())?;
    d.set_item("singular", v.singular.clone())?;
    d.set_item("r2", v.r2())?;
    d.set_item("icc", v.icc())?;
    d.set_item("icc_by_group", v.icc_by_group())?;
    Ok(d)
}

/// The VIF table of a model (see `mixedmodels::model::collinearity`).
pub fn collinearity(m: &impl MixedModel, ci: Option<f64>) -> PyResult<VifColumns> {
    let c = crate::model::collinearity(m, ci).map_err(to_pyerr)?;
    let rows = c
        .rows
        .into_iter()
        .map(|r| {
            let (vl, vh) = r.vif_ci;
            let (tl, th) = r.tolerance_ci;
            (r.term, r.vif, vl, vh, r.se_factor, r.tolerance, tl, th)
        })
        .collect();
    Ok((rows, c.has_intercept))
}

/// lme4's rePCA as a list of dicts (rotation as a k × k array).
pub fn re_pca<'py>(py: Python<'py>, m: &impl MixedModel) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for p in crate::model::re_pca(m).map_err(to_pyerr)? {
        let k = p.sdev.len();
        let d = PyDict::new(py);
        d.set_item("group", p.group)?;
        d.set_item("columns", p.columns)?;
        d.set_item("sdev", PyArray1::from_vec(py, p.sdev))?;
        d.set_item("rotation", colmajor(py, k, k, p.rotation))?;
        d.set_item("proportion", PyArray1::from_vec(py, p.proportion))?;
        d.set_item("cumulative", PyArray1::from_vec(py, p.cumulative))?;
        list.append(d)?;
    }
    Ok(list)
}

/// The `#[pymethods]` block of a model class: the class's own methods
/// (`$own`) and the methods every model class shares. The class must have
/// `fn m(&self) -> MutexGuard<'_, Model>` with `Model: MixedModel` and the
/// inherent `save_fit`, `restore_fit`, `warnings`, `y` of both models.
macro_rules! mixed_model_methods {
    ($class:ty, { $($own:tt)* }) => {
        #[pymethods]
        impl $class {
            $($own)*

            #[getter]
            fn formula(&self) -> String {
                self.m().terms().spec.source.clone()
            }
            #[getter]
            fn response_name(&self) -> String {
                self.m().terms().response_name.clone()
            }
            #[getter]
            fn is_fitted(&self) -> bool {
                self.m().is_fitted()
            }
            #[getter]
            fn theta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
                PyArray1::from_slice(py, self.m().theta())
            }
            /// lme4's names of θ (`Subject.(Intercept)`, `Subject.Days.(Intercept)`, …).
            #[getter]
            fn theta_names(&self) -> Vec<String> {
                self.m().layout().names().to_vec()
            }
            /// The variance components of θ's entries, lme4's `confint` names
            /// (`sd_(Intercept)|Subject`, `cor_Days.(Intercept)|Subject`, …).
            #[getter]
            fn component_names(&self) -> Vec<String> {
                self.m().layout().component_names().to_vec()
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
            fn column_names(&self) -> Vec<String> {
                self.m().terms().fixed.names.clone()
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
            fn nobs(&self) -> usize {
                self.m().nobs()
            }
            #[getter]
            fn dof(&self) -> usize {
                self.m().dof()
            }
            #[getter]
            fn is_singular(&self) -> bool {
                self.m().is_singular()
            }
            /// Indices of the θ entries on their bound of zero (singular components).
            #[getter]
            fn at_bound(&self) -> Vec<usize> {
                let m = self.m();
                m.layout().at_bound(m.theta(), crate::model::SINGULAR_TOL)
            }
            fn loglikelihood(&self) -> PyResult<f64> {
                self.m().loglikelihood().map_err(to_pyerr)
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
                let p = m.terms().fixed.rank();
                shared::rowmajor(py, p, p, m.vcov())
            }
            /// (names, estimates, standard errors, z, p) of the fixed effects.
            fn coeftable(&self) -> shared::CoefColumns {
                shared::coeftable(&*self.m())
            }
            /// Per term: dict(group, columns, covariance, sd, correlation); and the residual sd.
            fn varcorr<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyList>, Option<f64>)> {
                shared::varcorr(py, &*self.m())
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
                shared::ranef(py, &*self.m(), uscale)
            }
            /// Per term a (levels × v × v) array of conditional covariances.
            fn condvar<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyArray3<f64>>>> {
                shared::condvar(py, &*self.m())
            }
            /// Relative covariance factors λ per term (v × v).
            #[getter]
            fn lambda_<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray2<f64>>> {
                shared::lambdas(py, &*self.m())
            }
            /// The fixed-effects model matrix (columns kept), n × p; a
            /// `RowsNotStoredError` for a model built from streamed chunks.
            #[getter]
            #[allow(non_snake_case)]
            fn X<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
                let m = self.m();
                shared::require_rows(&*m, "X")?;
                let t = m.terms();
                Ok(shared::colmajor(py, t.nobs(), t.fixed.rank(), t.fixed.x.clone()))
            }
            /// The response as the model uses it; a `RowsNotStoredError` for a
            /// model built from streamed chunks.
            #[getter]
            fn y<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let m = self.m();
                shared::require_rows(&*m, "y")?;
                Ok(PyArray1::from_slice(py, m.y()))
            }
            /// Indices of the input rows used.
            #[getter]
            fn rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
                let rows = self.m().terms().rows.iter().map(|&r| r as u64).collect();
                PyArray1::from_vec(py, rows)
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
            /// Per random-effects term: dict(name, levels, columns, refs, z, theta_index).
            fn reterms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
                shared::reterms(py, &*self.m())
            }
            /// The fit record as a dict (None before a fit).
            fn optsum<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
                shared::optsum(py, &*self.m())
            }
            /// The fit log: (θ rows, β rows, objectives, joint-stage flags).
            fn fitlog<'py>(&self, py: Python<'py>) -> Option<shared::FitLog<'py>> {
                shared::fitlog(py, &*self.m())
            }
            /// The fit as versioned JSON (see `mixedmodels::model::persist`).
            fn save_fit(&self) -> PyResult<String> {
                self.m().save_fit().map_err(to_pyerr)
            }
            /// Restore a fit saved by `save_fit` without optimizing.
            fn restore_fit(&self, py: Python<'_>, text: &str) -> PyResult<()> {
                py.detach(|| self.m().restore_fit(text)).map_err(to_pyerr)
            }
            /// The model's warnings as (kind, term, message).
            fn model_warnings(&self) -> Vec<(&'static str, Option<String>, String)> {
                super::convert::warning_tuples(self.m().warnings())
            }
            /// Responses drawn from the model: column-major nobs × n (see
            /// `mixedmodels::model::simulate`), drawn with the GIL released.
            #[pyo3(signature = (seed, n=1, theta=None, beta=None, sigma=None))]
            fn simulate<'py>(
                &self,
                py: Python<'py>,
                seed: u64,
                n: usize,
                theta: Option<Vec<f64>>,
                beta: Option<Vec<f64>>,
                sigma: Option<f64>,
            ) -> PyResult<Bound<'py, PyArray2<f64>>> {
                let guard = self.m();
                let m = &*guard;
                shared::require_rows(m, "simulate")?;
                let options = crate::model::SimulateOptions { n, theta, beta, sigma };
                let draws = py
                    .detach(|| crate::model::simulate(m, seed, &options))
                    .map_err(to_pyerr)?;
                Ok(shared::colmajor(py, m.nobs(), n, draws))
            }
            /// The parametric bootstrap (see `mixedmodels::inference::bootstrap`),
            /// run with the GIL released; `progress` (a `Progress`) is shown the replicates done.
            #[pyo3(signature = (n, seed, threads=None, theta=None, beta=None, sigma=None, progress=None))]
            #[allow(clippy::too_many_arguments)] // mirrors the Python function's keyword arguments
            fn parametric_bootstrap<'py>(
                &self,
                py: Python<'py>,
                n: usize,
                seed: u64,
                threads: Option<usize>,
                theta: Option<Vec<f64>>,
                beta: Option<Vec<f64>>,
                sigma: Option<f64>,
                progress: Option<PyRef<'_, super::progress::PyProgress>>,
            ) -> PyResult<Bound<'py, PyDict>> {
                shared::require_rows(&*self.m(), "parametric_bootstrap")?;
                let options = crate::inference::bootstrap::BootstrapOptions {
                    n, seed, theta, beta, sigma, threads, first: 0,
                };
                super::bootstrap::run(py, &*self.m(), options, progress.as_deref())
            }
            /// Replicates `first..first + n` of the parametric bootstrap (a
            /// block of it, for a worker of an executor), as `parametric_bootstrap`
            /// returns them (without progress).
            #[pyo3(signature = (first, n, seed, threads=None, theta=None, beta=None, sigma=None))]
            #[allow(clippy::too_many_arguments)] // mirrors the Python function's keyword arguments
            fn parametric_bootstrap_block<'py>(
                &self,
                py: Python<'py>,
                first: usize,
                n: usize,
                seed: u64,
                threads: Option<usize>,
                theta: Option<Vec<f64>>,
                beta: Option<Vec<f64>>,
                sigma: Option<f64>,
            ) -> PyResult<Bound<'py, PyDict>> {
                let options = crate::inference::bootstrap::BootstrapOptions {
                    n, seed, theta, beta, sigma, threads, first,
                };
                // A copy, so that the lock is not held while the GIL is released:
                // blocks of one model may run on several threads of an executor.
                let m = self.m().clone();
                super::bootstrap::run(py, &m, options, None)
            }
            /// Predictions: fitted rows (`columns` None) or new data (encoded columns).
            #[pyo3(signature = (columns, random_effects=true, new_levels="error", scale="response", offset=None))]
            fn predict<'py>(
                &self,
                py: Python<'py>,
                columns: Option<&Bound<'py, PyDict>>,
                random_effects: bool,
                new_levels: &str,
                scale: &str,
                offset: Option<Vec<f64>>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                if columns.is_none() {
                    shared::require_rows(&*self.m(), "predict")?;
                }
                let options = (random_effects, new_levels, scale, offset);
                shared::predict(py, &*self.m(), columns, options)
            }
            /// The columns a prediction reads from new data.
            #[pyo3(signature = (random_effects=true))]
            fn predictor_variables(&self, random_effects: bool) -> Vec<String> {
                crate::terms::predictor_variables(&self.m().terms().spec, random_effects)
            }
            /// Did the last fit's optimizer converge (None before a fit)?
            #[getter]
            fn converged(&self) -> Option<bool> {
                self.m().fit_record().map(|r| r.converged())
            }
            /// Did the last fit's convergence certificate not fail (None before a fit)?
            #[getter]
            fn certificate_ok(&self) -> Option<bool> {
                self.m().fit_record().map(|r| {
                    r.certificate.status != crate::model::CertificateStatus::Failed
                })
            }

            // ---- for the model summaries of python/mixedmodels/_performance.py and
            // _tidy.py (R², ICC, VIF, glance, augment): influence diagnostics, the
            // fixed-effects terms of X's columns, the random-effects terms' labels.

            /// lme4's hat values (`hatvalues.merMod`), computed with the GIL released.
            fn hatvalues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let m = self.m();
                shared::require_rows(&*m, "hatvalues")?;
                let h = py.detach(|| crate::model::Influence::hatvalues(&*m));
                Ok(PyArray1::from_vec(py, h))
            }
            /// Pearson residuals (lme4's `residuals(m, type = "pearson")`).
            fn pearson_residuals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
                shared::require_rows(&*self.m(), "pearson_residuals")?;
                Ok(PyArray1::from_vec(py, crate::model::Influence::pearson_residuals(&*self.m())))
            }
            /// Cook's distances (lme4's `cooks.distance.merMod`), GIL released.
            fn cooks_distance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let m = self.m();
                shared::require_rows(&*m, "cooks_distance")?;
                let d = py.detach(|| crate::model::Influence::cooks_distance(&*m));
                Ok(PyArray1::from_vec(py, d))
            }
            /// The offset of the fitted rows (formula terms and option), None without.
            #[getter]
            fn offset<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
                crate::model::Predict::fitted_offset(&*self.m())
                    .map(|o| PyArray1::from_slice(py, o))
            }
            /// Does the distribution-specific variance need the null model's mean?
            #[getter]
            fn needs_null_mean(&self) -> bool {
                crate::model::DistributionVariance::needs_null_mean(&*self.m())
            }
            /// Nakagawa's variance decomposition with R² and ICCs (see
            /// `mixedmodels::model::variance`).
            #[pyo3(signature = (null_mean=None, tolerance=1e-5))]
            fn variance_decomposition<'py>(
                &self,
                py: Python<'py>,
                null_mean: Option<f64>,
                tolerance: f64,
            ) -> PyResult<Bound<'py, PyDict>> {
                shared::require_rows(&*self.m(), "variance_decomposition")?;
                shared::variance_decomposition(py, &*self.m(), null_mean, tolerance)
            }
            /// Variance inflation factors: (rows of (term, vif, vif_ci_low,
            /// vif_ci_high, se_factor, tolerance, tolerance_ci_low, tolerance_ci_high),
            /// whether X has an intercept).
            #[pyo3(signature = (ci=Some(0.95)))]
            fn collinearity(&self, ci: Option<f64>) -> PyResult<shared::VifColumns> {
                shared::collinearity(&*self.m(), ci)
            }
            /// lme4's rePCA: per grouping factor a dict (group, columns, sdev,
            /// rotation, proportion, cumulative).
            fn re_pca<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
                shared::re_pca(py, &*self.m())
            }
            /// The formula of the null model of R²'s distribution-specific variance:
            /// the response, an intercept and the random-effects terms as written
            /// (`y ~ 1 + (1 + Days | Subject)`); no offset terms (pass `offset`).
            fn null_model_formula(&self) -> String {
                let m = self.m();
                let spec = &m.terms().spec;
                let random: Vec<String> = spec.random.iter().map(|r| r.label.clone()).collect();
                format!("{} ~ 1 + {}", spec.response.label(), random.join(" + "))
            }
            /// lme4's `sqrtrwt` (see `mixedmodels::model::Influence`).
            fn sqrt_residual_weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
                PyArray1::from_vec(py, crate::model::Influence::sqrt_residual_weights(&*self.m()))
            }
            /// lme4's `sqrtXwt` (see `mixedmodels::model::Influence`).
            fn sqrt_working_weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
                PyArray1::from_vec(py, crate::model::Influence::sqrt_working_weights(&*self.m()))
            }
        }
    };
}

pub(crate) use mixed_model_methods;
