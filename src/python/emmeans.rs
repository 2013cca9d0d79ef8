//! Estimated marginal means for the Python package: the reference grid and
//! marginal means of either model, contrasts among them, adjusted tests and
//! intervals, the response scale, and the studentized range distribution.
//! Everything numeric lives in [`crate::inference::emmeans`].

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::{data_from_dict, to_pyerr};
use super::glmm::PyGeneralizedLinearMixedModel;
use super::lmm::PyLinearMixedModel;
use crate::error::{Error, Result};
use crate::family::Link;
use crate::inference::ddf::studentized_range;
use crate::inference::emmeans::{
    combine, contrast_coefficients, infer, marginal_means, reference_grid, response_scale, Adjust,
    AtValues, ContrastMethod, EmmDf, Estimates, Estimator, InferParts,
};
use crate::model::MixedModel;
use crate::present::{emmeans_document, EmmColumn, Format};
use crate::terms::ModelTerms;

/// One `at` entry: (column, level labels or None, numbers or None).
type AtItem = (String, Option<Vec<String>>, Option<Vec<f64>>);

/// Run `f` with the model's terms and its estimator for `ddf`; a generalized
/// linear mixed model only has the asymptotic one.
fn with_estimator<R>(
    model: &Bound<'_, PyAny>,
    ddf: &str,
    f: impl FnOnce(&ModelTerms, &Estimator) -> Result<R>,
) -> PyResult<R> {
    let df = EmmDf::from_name(ddf).map_err(to_pyerr)?;
    if let Ok(lmm) = model.cast::<PyLinearMixedModel>() {
        let lmm = lmm.borrow();
        let mut m = lmm.m();
        let est = Estimator::for_lmm(&mut m, df).map_err(to_pyerr)?;
        return f(m.terms(), &est).map_err(to_pyerr);
    }
    let glmm = model.cast::<PyGeneralizedLinearMixedModel>()?.borrow();
    if df != EmmDf::Asymptotic {
        return Err(to_pyerr(Error::argument(
            "ddf",
            format!(
                "`ddf={ddf:?}` applies to linear mixed models; a generalized linear mixed \
                 model has asymptotic (z) inference only (ddf=\"asymptotic\")"
            ),
        )));
    }
    let m = glmm.m();
    let est = Estimator::wald(&*m).map_err(to_pyerr)?;
    f(m.terms(), &est).map_err(to_pyerr)
}

/// The marginal means of `specs` (split by `by`) over the reference grid of
/// `model` (`columns`: the model's data encoded as for the constructor;
/// `at`: values of predictors), with `ddf`'s SEs and df. A dict with
/// `variables` (per spec and `by` predictor: name, is-factor, labels,
/// values), `grid_factors` (the grid's factors), `cells`, `group`, `l`, `offset`, `estimate`, `se`, `df`.
#[pyfunction]
pub fn emmeans_means<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    columns: &Bound<'py, PyDict>,
    at: Vec<AtItem>,
    specs: Vec<String>,
    by: Vec<String>,
    ddf: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let data = data_from_dict(columns)?;
    let at: Vec<(String, AtValues)> = at
        .into_iter()
        .map(|(name, levels, values)| {
            let v = match (levels, values) {
                (Some(l), _) => AtValues::Levels(l),
                (None, Some(v)) => AtValues::Values(v),
                (None, None) => AtValues::Values(Vec::new()),
            };
            (name, v)
        })
        .collect();
    let (means, vars, est) = with_estimator(model, ddf, |terms, estimator| {
        let grid = reference_grid(terms, &data, &at)?;
        let means = marginal_means(&grid, &specs, &by)?;
        let vars: Vec<_> = means
            .variables
            .iter()
            .map(|&k| grid.variables[k].clone())
            .collect();
        let est = estimator.estimates(&means.l, &means.offset)?;
        let factors: Vec<String> = grid
            .variables
            .iter()
            .filter(|v| v.factor)
            .map(|v| v.name.clone())
            .collect();
        Ok((means, (vars, factors), est))
    })?;
    let d = PyDict::new(py);
    let (vars, factors) = vars;
    d.set_item("grid_factors", factors)?;
    let variables: Vec<(String, bool, Vec<String>, Vec<f64>)> = vars
        .into_iter()
        .map(|v| (v.name, v.factor, v.labels, v.values))
        .collect();
    d.set_item("variables", variables)?;
    d.set_item("cells", means.cells)?;
    d.set_item("group", means.group)?;
    d.set_item("l", means.l)?;
    d.set_item("offset", means.offset)?;
    d.set_item("estimate", est.estimate)?;
    d.set_item("se", est.se)?;
    d.set_item("df", est.df)?;
    Ok(d)
}

/// Contrasts among the means (`l`, `offset`, `group` as from
/// [`emmeans_means`]; `labels` of the means of one group, the same in every
/// group): `method` by name, or `custom` (name, weights) pairs. Returns
/// (labels, group, l, estimate, se, df, pairwise).
#[pyfunction]
#[pyo3(signature = (model, l, offset, group, labels, ddf, method=None, custom=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn emmeans_contrast(
    model: &Bound<'_, PyAny>,
    l: Vec<Vec<f64>>,
    offset: Vec<f64>,
    group: Vec<usize>,
    labels: Vec<String>,
    ddf: &str,
    method: Option<&str>,
    custom: Option<Vec<(String, Vec<f64>)>>,
) -> PyResult<(
    Vec<String>,
    Vec<usize>,
    Vec<Vec<f64>>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    bool,
)> {
    let method = match (method, custom) {
        (_, Some(c)) => ContrastMethod::Custom(c),
        (Some(name), None) => ContrastMethod::from_name(name).map_err(to_pyerr)?,
        (None, None) => ContrastMethod::Pairwise,
    };
    if l.len() != group.len() || offset.len() != group.len() {
        return Err(to_pyerr(Error::argument(
            "group",
            "needs one value per mean",
        )));
    }
    let coefs = contrast_coefficients(&method, &labels).map_err(to_pyerr)?;
    let ngroups = group.iter().max().map_or(0, |g| g + 1);
    let (mut names, mut groups, mut rows, mut offsets) = (vec![], vec![], vec![], vec![]);
    for g in 0..ngroups {
        let members: Vec<usize> = (0..group.len()).filter(|&i| group[i] == g).collect();
        if members.len() != labels.len() {
            return Err(to_pyerr(Error::argument(
                "labels",
                "needs one label per mean of each group",
            )));
        }
        let ls: Vec<&Vec<f64>> = members.iter().map(|&i| &l[i]).collect();
        for (name, w) in &coefs {
            names.push(name.clone());
            groups.push(g);
            rows.push(combine(w, &ls));
            offsets.push(w.iter().zip(&members).map(|(c, &i)| c * offset[i]).sum());
        }
    }
    let est: Estimates = with_estimator(model, ddf, |terms, estimator| {
        let p = terms.fixed.rank();
        if rows.iter().any(|r| r.len() != p) {
            return Err(Error::argument(
                "l",
                format!("each mean needs {p} coefficients of the fixed effects"),
            ));
        }
        estimator.estimates(&rows, &offsets)
    })?;
    Ok((
        names,
        groups,
        rows,
        est.estimate,
        est.se,
        est.df,
        method.is_pairwise(),
    ))
}

/// The adjustment used when `adjust` is asked for a family that is (or is
/// not) `pairwise` (Tukey becomes Šidák for other families).
#[pyfunction]
pub fn emmeans_adjustment(adjust: &str, pairwise: bool) -> PyResult<&'static str> {
    Ok(Adjust::from_name(adjust)
        .map_err(to_pyerr)?
        .for_family(pairwise)
        .name())
}

/// Tests of estimate = 0 (with `tests`) and intervals at `level` (with
/// `intervals`), adjusted with the adjustment named `adjust` within each
/// group (Tukey among `nmeans` means; replaced by Šidák unless `pairwise`).
/// Returns (ratio, p, lower, upper); parts not asked for are NaN.
#[pyfunction]
#[pyo3(signature = (estimate, se, df, group, adjust, level, nmeans, pairwise, tests=true, intervals=true))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn emmeans_infer(
    estimate: Vec<f64>,
    se: Vec<f64>,
    df: Vec<f64>,
    group: Vec<usize>,
    adjust: &str,
    level: f64,
    nmeans: usize,
    pairwise: bool,
    tests: bool,
    intervals: bool,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    let adjust = Adjust::from_name(adjust)
        .map_err(to_pyerr)?
        .for_family(pairwise);
    let est = Estimates { estimate, se, df };
    let parts = InferParts { tests, intervals };
    let inf = infer(&est, &group, adjust, level, nmeans, parts).map_err(to_pyerr)?;
    Ok((inf.ratio, inf.p, inf.lower, inf.upper))
}

/// Link-scale values mapped to the response scale by the link named `link`
/// (`ratio`: contrasts exponentiated). Returns (estimate, se, lower, upper).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn emmeans_response(
    link: &str,
    ratio: bool,
    estimate: Vec<f64>,
    se: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    let link = Link::from_name(link).map_err(to_pyerr)?;
    let r = response_scale(link, ratio, &estimate, &se, &lower, &upper);
    Ok((r.estimate, r.se, r.lower, r.upper))
}

/// P(Q ≤ q) (or P(Q > q) with `lower_tail=False`) of the studentized range
/// of `nmeans` means with `df` degrees of freedom (R's `ptukey`).
#[pyfunction]
#[pyo3(signature = (q, nmeans, df, lower_tail=true))]
pub fn ptukey(q: f64, nmeans: usize, df: f64, lower_tail: bool) -> f64 {
    if lower_tail {
        studentized_range::ptukey(q, nmeans, df)
    } else {
        studentized_range::ptukey_upper(q, nmeans, df)
    }
}

/// The `p` quantile of the studentized range (R's `qtukey`).
#[pyfunction]
pub fn qtukey(p: f64, nmeans: usize, df: f64) -> f64 {
    studentized_range::qtukey(p, nmeans, df)
}

/// An emmeans table rendered in `format`: `columns` as (kind, header,
/// labels, numbers) with kind `"labels"`, `"values"`, `"df"`, `"ratio"` or
/// `"p"`; `notes` below it.
#[pyfunction]
#[pyo3(signature = (caption, columns, notes, format="text"))]
pub fn emmeans_render(
    caption: &str,
    columns: Vec<(String, String, Vec<String>, Vec<f64>)>,
    notes: Vec<String>,
    format: &str,
) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    let columns: Vec<EmmColumn> = columns
        .into_iter()
        .map(|(kind, header, labels, values)| match kind.as_str() {
            "labels" => Ok(EmmColumn::Labels(header, labels)),
            "values" => Ok(EmmColumn::Values(header, values)),
            "df" => Ok(EmmColumn::Df(header, values)),
            "ratio" => Ok(EmmColumn::Ratio(header, values)),
            "p" => Ok(EmmColumn::PValue(header, values)),
            other => Err(to_pyerr(Error::argument(
                "columns",
                format!("unknown column kind {other:?}"),
            ))),
        })
        .collect::<PyResult<_>>()?;
    Ok(emmeans_document(caption, &columns, &notes).render(format))
}

/// Register the functions in the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(emmeans_means, m)?)?;
    m.add_function(wrap_pyfunction!(emmeans_contrast, m)?)?;
    m.add_function(wrap_pyfunction!(emmeans_infer, m)?)?;
    m.add_function(wrap_pyfunction!(emmeans_adjustment, m)?)?;
    m.add_function(wrap_pyfunction!(emmeans_response, m)?)?;
    m.add_function(wrap_pyfunction!(emmeans_render, m)?)?;
    m.add_function(wrap_pyfunction!(ptukey, m)?)?;
    m.add_function(wrap_pyfunction!(qtukey, m)?)?;
    Ok(())
}
