//! Degrees of freedom and F tests for the Python package: the coefficient
//! table with t tests on df, tests of hypothesis matrices and the analysis of
//! variance, for either native model; the tables rendered by
//! [`crate::present`]. Everything numeric lives in [`crate::inference::ddf`].

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::{data_from_dict, to_pyerr};
use super::glmm::PyGeneralizedLinearMixedModel;
use super::lmm::PyLinearMixedModel;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::inference::ddf::{
    anova, coeftable_ddf, contrast_test, dist, matrix_from_rows, wald_anova, wald_test, AnovaRow,
    AnovaType, CoefDfRow, DdfMethod, FTest,
};
use crate::model::MixedModel;
use crate::present::{anova_document, coef_df_table, f_test_document, Format, WALD_NOTE};

/// A test as (num_df, den_df, F, p).
type TestTuple = (usize, f64, f64, f64);

fn tuple(t: &FTest) -> TestTuple {
    (t.num_df, t.den_df, t.f, t.p)
}

fn test_of(t: TestTuple) -> FTest {
    FTest {
        num_df: t.0,
        den_df: t.1,
        f: t.2,
        p: t.3,
    }
}

/// The method named `ddf` (None: large-sample tests).
fn method(ddf: Option<&str>) -> Result<Option<DdfMethod>> {
    ddf.map(DdfMethod::from_name).transpose()
}

/// The error for a df method asked of a generalized linear mixed model.
fn glmm_ddf_error(ddf: &str) -> Error {
    Error::argument(
        "ddf",
        format!(
            "`ddf={ddf:?}` applies to linear mixed models; a generalized linear mixed model \
             has large-sample z and Wald χ² tests only (leave ddf=None)"
        ),
    )
}

/// The coefficient table with t tests on `ddf`'s degrees of freedom:
/// (names, estimates, standard errors, df, t, p).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn lmm_coeftable_ddf(
    py: Python<'_>,
    model: PyRef<'_, PyLinearMixedModel>,
    ddf: &str,
) -> PyResult<(
    Vec<String>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
)> {
    let model: &PyLinearMixedModel = &model;
    super::shared::require_rows(&*model.m(), "degrees of freedom")?;
    let rows = py
        .detach(|| -> Result<Vec<CoefDfRow>> {
            let method = DdfMethod::from_name(ddf)?;
            coeftable_ddf(&mut model.m(), method)
        })
        .map_err(to_pyerr)?;
    let col = |f: fn(&CoefDfRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    Ok((
        rows.iter().map(|r| r.name.clone()).collect(),
        col(|r| r.estimate),
        col(|r| r.stderror),
        col(|r| r.df),
        col(|r| r.t),
        col(|r| r.p),
    ))
}

/// The coefficient table with t tests on `ddf`'s df, rendered in `format`.
#[pyfunction]
#[pyo3(signature = (model, ddf, format="text"))]
pub fn lmm_coeftable_ddf_render(
    py: Python<'_>,
    model: PyRef<'_, PyLinearMixedModel>,
    ddf: &str,
    format: &str,
) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    let model: &PyLinearMixedModel = &model;
    py.detach(|| -> Result<String> {
        let method = DdfMethod::from_name(ddf)?;
        let rows = coeftable_ddf(&mut model.m(), method)?;
        Ok(coef_df_table(&rows, method.label()).render(format))
    })
    .map_err(to_pyerr)
}

/// The test of Lβ = rhs (rows of `l`) for either model: with `ddf`'s df for a
/// linear mixed model, the large-sample Wald test when `ddf` is None.
#[pyfunction]
#[pyo3(signature = (model, l, rhs=None, ddf=None))]
pub fn contrast_test_of(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    l: Vec<Vec<f64>>,
    rhs: Option<Vec<f64>>,
    ddf: Option<&str>,
) -> PyResult<TestTuple> {
    let rhs = rhs.unwrap_or_else(|| vec![0.0; l.len()]);
    if let Ok(lmm) = model.cast::<PyLinearMixedModel>() {
        let lmm = lmm.borrow();
        let lmm: &PyLinearMixedModel = &lmm;
        super::shared::require_rows(&*lmm.m(), "degrees of freedom")?;
        return py
            .detach(|| -> Result<TestTuple> {
                let mut m = lmm.m();
                let lm = matrix_from_rows(&l, m.rank())?;
                Ok(tuple(&contrast_test(&mut m, &lm, &rhs, method(ddf)?)?))
            })
            .map_err(to_pyerr);
    }
    let glmm = model.cast::<PyGeneralizedLinearMixedModel>()?.borrow();
    if let Some(name) = ddf {
        return Err(to_pyerr(glmm_ddf_error(name)));
    }
    let m = glmm.m();
    (|| -> Result<TestTuple> {
        crate::inference::ddf::check_fitted(&*m)?;
        let lm = matrix_from_rows(&l, m.terms().fixed.rank())?;
        Ok(tuple(&wald_test(&*m, &lm, &rhs)?))
    })()
    .map_err(to_pyerr)
}

/// The analysis of variance of either model: per term (label, test or None).
/// `columns` are the model's data (encoded as for the constructor), needed
/// for type 3; `ddf` as in [`contrast_test_of`].
#[pyfunction]
#[pyo3(signature = (model, columns, kind, ddf=None))]
#[allow(clippy::type_complexity)]
pub fn anova_of(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    columns: Option<&Bound<'_, PyDict>>,
    kind: i64,
    ddf: Option<&str>,
) -> PyResult<Vec<(String, Option<TestTuple>)>> {
    let kind = AnovaType::from_number(kind).map_err(to_pyerr)?;
    let data: Option<Data> = columns.map(data_from_dict).transpose()?;
    let rows: Vec<AnovaRow> = if let Ok(lmm) = model.cast::<PyLinearMixedModel>() {
        let lmm = lmm.borrow();
        let lmm: &PyLinearMixedModel = &lmm;
        super::shared::require_rows(&*lmm.m(), "degrees of freedom")?;
        py.detach(|| -> Result<Vec<AnovaRow>> {
            anova(&mut lmm.m(), kind, method(ddf)?, data.as_ref())
        })
        .map_err(to_pyerr)?
    } else {
        let glmm = model.cast::<PyGeneralizedLinearMixedModel>()?.borrow();
        if let Some(name) = ddf {
            return Err(to_pyerr(glmm_ddf_error(name)));
        }
        let m = glmm.m();
        wald_anova(&*m, kind, data.as_ref()).map_err(to_pyerr)?
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.term, r.test.as_ref().map(tuple)))
        .collect())
}

/// An analysis-of-variance table (rows as [`anova_of`] returns them) of type
/// `kind` with the df method named `method` (None: Wald tests), in `format`.
#[pyfunction]
#[pyo3(signature = (rows, kind, method=None, format="text"))]
pub fn anova_render(
    rows: Vec<(String, Option<TestTuple>)>,
    kind: u8,
    method: Option<&str>,
    format: &str,
) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    let label = method
        .map(DdfMethod::from_name)
        .transpose()
        .map_err(to_pyerr)?
        .map(DdfMethod::label);
    let rows: Vec<AnovaRow> = rows
        .into_iter()
        .map(|(term, t)| AnovaRow {
            term,
            test: t.map(test_of),
        })
        .collect();
    Ok(anova_document(&rows, kind, label).render(format))
}

/// One F test (as [`contrast_test_of`] returns it) as a table with caption
/// `caption`, in `format`; a Wald test (den_df = ∞) gets its note.
#[pyfunction]
#[pyo3(signature = (label, test, caption, format="text"))]
pub fn f_test_render(
    label: String,
    test: TestTuple,
    caption: &str,
    format: &str,
) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    let t = test_of(test);
    let note = t.den_df.is_infinite().then_some(WALD_NOTE);
    Ok(f_test_document(caption, &[label], &[Some(t)], note).render(format))
}

/// The `p` quantile of Student's t with `df` degrees of freedom (`df = inf`:
/// the normal quantile); NaN outside 0 < p < 1 or for df ≤ 0.
#[pyfunction]
pub fn t_quantile(p: f64, df: f64) -> f64 {
    dist::t_quantile(p, df)
}

/// Register the functions in the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lmm_coeftable_ddf, m)?)?;
    m.add_function(wrap_pyfunction!(lmm_coeftable_ddf_render, m)?)?;
    m.add_function(wrap_pyfunction!(contrast_test_of, m)?)?;
    m.add_function(wrap_pyfunction!(anova_of, m)?)?;
    m.add_function(wrap_pyfunction!(anova_render, m)?)?;
    m.add_function(wrap_pyfunction!(f_test_render, m)?)?;
    m.add_function(wrap_pyfunction!(t_quantile, m)?)?;
    Ok(())
}
