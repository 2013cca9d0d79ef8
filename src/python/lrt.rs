//! The checks before a likelihood-ratio test, for the Python package. Each
//! model arrives as its formula, data columns and term options, from which
//! its terms (X, the random-effects terms, the rows used) are rebuilt as its
//! constructor built them, with its response, weights, family and parameter
//! count as the model holds them now.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::{contrasts_from_dict, data_from_dict, missing_policy, to_pyerr};
use crate::inference::{check_models, ComparedModel};
use crate::terms::{ModelTerms, TermOptions};

/// One model as `_inference.py` describes it (a dict with these keys).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct ModelDescription<'py> {
    formula: String,
    columns: Bound<'py, PyDict>,
    contrasts: Option<Bound<'py, PyDict>>,
    missing: String,
    zerocorr: Option<Vec<String>>,
    family: Option<(String, String)>,
    y: Vec<f64>,
    weights: Option<Vec<f64>>,
    dof: usize,
}

/// Refuse models a likelihood-ratio test cannot compare (typed errors, see
/// [`check_models`]); returns whether all have the same fixed effects.
#[pyfunction]
#[pyo3(signature = (models, check_nested=true))]
pub fn likelihood_ratio_check(
    py: Python<'_>,
    models: Vec<ModelDescription<'_>>,
    check_nested: bool,
) -> PyResult<bool> {
    let mut inputs = Vec::with_capacity(models.len());
    for m in &models {
        let options = TermOptions {
            contrasts: contrasts_from_dict(m.contrasts.as_ref())?,
            missing: missing_policy(&m.missing)?,
            zerocorr: m.zerocorr.clone().unwrap_or_default(),
        };
        inputs.push((m.formula.clone(), data_from_dict(&m.columns)?, options));
    }
    let rest: Vec<_> = models
        .into_iter()
        .map(|m| (m.family, m.y, m.weights, m.dof))
        .collect();
    py.detach(|| {
        let terms = inputs
            .iter()
            .zip(&rest)
            .map(|((formula, data, options), (family, ..))| match family {
                Some(_) => ModelTerms::new_glm(formula, data, options),
                None => ModelTerms::new(formula, data, options),
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let compared: Vec<ComparedModel<'_>> = terms
            .iter()
            .zip(&rest)
            .map(|(terms, (family, y, weights, dof))| ComparedModel {
                terms,
                response: y,
                weights: weights.clone(),
                family: family.clone(),
                dof: *dof,
            })
            .collect();
        check_models(&compared, check_nested).map(|c| c.same_fixed_effects)
    })
    .map_err(to_pyerr)
}
