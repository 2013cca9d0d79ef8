//! Checking and coding the response of a GLMM for its family: a 0/1 vector
//! for Bernoulli, proportions with trials as prior weights for Binomial,
//! counts for Poisson. Errors name the column and the offending rows.

use super::Family;
use crate::error::{Error, Result};
use crate::terms::Variable;

/// The coded response: y and prior weights for the rows used.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// Response values (0/1, proportions or counts).
    pub y: Vec<f64>,
    /// Prior weights (trials for Binomial), 1 when none were given.
    pub wt: Vec<f64>,
    /// Were prior weights given?
    pub has_weights: bool,
    /// For a factor response: the (failure, success) level labels.
    pub levels: Option<(String, String)>,
}

/// At most this many offending rows are listed in an error message.
const LIST: usize = 5;

/// Describe rows (as 0-based indices into the input data) for a message.
fn list_rows(bad: &[usize], rows: &[usize]) -> String {
    let shown: Vec<String> = bad
        .iter()
        .take(LIST)
        .map(|&i| rows[i].to_string())
        .collect();
    let more = if bad.len() > LIST {
        format!(" and {} more", bad.len() - LIST)
    } else {
        String::new()
    };
    format!(
        "row{} {}{more}",
        if bad.len() == 1 { "" } else { "s" },
        shown.join(", ")
    )
}

/// Check the response `var` (column `name`) and the prior weights of the
/// rows used (`rows`: indices into the input data) against `family`.
pub(crate) fn prepare(
    family: Family,
    name: &str,
    var: &Variable,
    weights: Option<Vec<f64>>,
    rows: &[usize],
) -> Result<Response> {
    let col_err = |message: String| Error::Column {
        column: name.to_string(),
        message,
    };
    if let Some(w) = &weights {
        let bad: Vec<usize> = (0..w.len())
            .filter(|&i| !(w[i].is_finite() && w[i] > 0.0))
            .collect();
        if !bad.is_empty() {
            return Err(Error::Argument(format!(
                "prior weights must be positive and finite; {} of the data {} not",
                list_rows(&bad, rows),
                if bad.len() == 1 { "is" } else { "are" }
            )));
        }
    }
    let (y, levels) = match var {
        Variable::Factor { codes, levels, .. } => {
            if family == Family::Poisson {
                return Err(col_err(
                    "is categorical; a Poisson response must be numeric counts".into(),
                ));
            }
            let mut used = vec![false; levels.len()];
            for &c in codes {
                used[c as usize] = true;
            }
            let present: Vec<usize> = (0..levels.len()).filter(|&l| used[l]).collect();
            if present.len() != 2 {
                let names: Vec<&str> = present.iter().map(|&l| levels[l].as_str()).collect();
                return Err(col_err(format!(
                    "a binary response needs a factor with exactly two levels; it has {} level{} \
                     in the data used ({})",
                    present.len(),
                    if present.len() == 1 { "" } else { "s" },
                    names.join(", ")
                )));
            }
            let success = present[1] as u32;
            let y = codes
                .iter()
                .map(|&c| if c == success { 1.0 } else { 0.0 })
                .collect();
            (
                y,
                Some((levels[present[0]].clone(), levels[present[1]].clone())),
            )
        }
        Variable::Numeric(v) => (v.clone(), None),
    };
    let bad_rows = |pred: &dyn Fn(f64, f64) -> bool| -> Vec<usize> {
        (0..y.len())
            .filter(|&i| pred(y[i], weights.as_ref().map_or(1.0, |w| w[i])))
            .collect()
    };
    match family {
        Family::Bernoulli => {
            let bad = bad_rows(&|v, _| v != 0.0 && v != 1.0);
            if !bad.is_empty() {
                return Err(col_err(format!(
                    "a Bernoulli response must be 0 or 1 (or a two-level factor); {} of the data \
                     hold{} {}",
                    list_rows(&bad, rows),
                    if bad.len() == 1 { "s" } else { "" },
                    bad.iter()
                        .take(LIST)
                        .map(|&i| y[i].to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Family::Binomial => {
            let bad = bad_rows(&|v, _| !(0.0..=1.0).contains(&v));
            if !bad.is_empty() {
                return Err(col_err(format!(
                    "a Binomial response must be a proportion in [0, 1]; {} of the data {} outside",
                    list_rows(&bad, rows),
                    if bad.len() == 1 { "is" } else { "are" }
                )));
            }
            if weights.is_none() && y.iter().any(|&v| v != 0.0 && v != 1.0) {
                return Err(col_err(
                    "holds proportions but no number of trials was given; pass the trials as \
                     weights (or use a 0/1 response with family Bernoulli)"
                        .into(),
                ));
            }
            let bad = bad_rows(&|v, n| {
                let k = v * n;
                (k - k.round()).abs() > 1e-8 * n.max(1.0)
            });
            if !bad.is_empty() {
                return Err(col_err(format!(
                    "proportion × trials (the weights) must be a whole number of successes; \
                     it is not in {}",
                    list_rows(&bad, rows)
                )));
            }
        }
        Family::Poisson => {
            let bad = bad_rows(&|v, _| v < 0.0 || v.fract() != 0.0);
            if !bad.is_empty() {
                return Err(col_err(format!(
                    "a Poisson response must be a non-negative whole number (a count); {} of the \
                     data {} not ({})",
                    list_rows(&bad, rows),
                    if bad.len() == 1 { "is" } else { "are" },
                    bad.iter()
                        .take(LIST)
                        .map(|&i| y[i].to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    let has_weights = weights.is_some();
    let wt = weights.unwrap_or_else(|| vec![1.0; y.len()]);
    Ok(Response {
        y,
        wt,
        has_weights,
        levels,
    })
}
