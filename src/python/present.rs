//! Rendered tables and summaries for the Python classes: format names, the
//! fitted-model check and the likelihood-ratio-test table. The tables come
//! from [`crate::present`]; nothing is formatted here.

use pyo3::prelude::*;

use super::convert::to_pyerr;
use crate::error::{Error, Result};
use crate::present::{lrt_table, Document, Format, Table};

/// `table()` rendered in the format named `format`; an error naming `what`
/// when the model is not fitted (the table is then not built).
pub fn render_table(
    fitted: bool,
    what: &str,
    format: &str,
    table: impl FnOnce() -> Table,
) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    if !fitted {
        return Err(to_pyerr(Error::not_fitted(what)));
    }
    Ok(table().render(format))
}

/// A summary document (or its error) rendered in the format named `format`.
pub fn render_document(doc: Result<Document>, format: &str) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    Ok(doc.map_err(to_pyerr)?.render(format))
}

/// Likelihood-ratio tests of models given as (deviance, dof, nobs), simplest
/// first, as a table labelled by `labels` in the format named `format`; with
/// `reml`, the criteria are REML criteria (models fitted by REML with the
/// same fixed effects) and their column is headed so.
#[pyfunction]
#[pyo3(signature = (labels, models, format="text", reml=false))]
pub fn likelihood_ratio_table(
    labels: Vec<String>,
    models: Vec<(f64, usize, usize)>,
    format: &str,
    reml: bool,
) -> PyResult<String> {
    let format = Format::from_name(format).map_err(to_pyerr)?;
    let rows = crate::inference::likelihood_ratio_test(&models).map_err(to_pyerr)?;
    let mut table = lrt_table(&labels, &rows);
    if reml {
        // Column 2 holds the criterion ("-2 logLik" for ML fits).
        table.columns[2].header = "REML crit.".into();
    }
    Ok(table.render(format))
}
