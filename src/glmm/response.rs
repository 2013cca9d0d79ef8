//! Checking and coding the response of a GLMM for its family: a 0/1 vector
//! for Bernoulli, proportions with trials as prior weights for Binomial
//! (given as `weights`, or as `cbind(successes, failures)` in the formula),
//! counts for Poisson. Errors name the column and the offending rows.

use super::Family;
use crate::error::{Error, Result};
use crate::terms::{BinomialCounts, Variable};

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

/// The values of `v` in the rows `bad`, for a message.
fn list_values(bad: &[usize], v: &[f64]) -> String {
    let shown: Vec<String> = bad.iter().take(LIST).map(|&i| v[i].to_string()).collect();
    shown.join(", ")
}

/// Check the response `var` (column `name`) and the prior weights of the
/// rows used (`rows`: indices into the input data) against `family`. With
/// `counts` (a `cbind(successes, failures)` response, `name` its label) the
/// response is checked by [`prepare_counts`] instead.
pub(crate) fn prepare(
    family: Family,
    name: &str,
    var: &Variable,
    counts: Option<&BinomialCounts>,
    weights: Option<Vec<f64>>,
    rows: &[usize],
) -> Result<Response> {
    if let Some(counts) = counts {
        return prepare_counts(family, name, counts, weights.is_some(), rows);
    }
    let col_err = |message: String| Error::Column {
        column: name.to_string(),
        message,
    };
    if let Some(w) = &weights {
        let bad: Vec<usize> = (0..w.len())
            .filter(|&i| !(w[i].is_finite() && w[i] > 0.0))
            .collect();
        if !bad.is_empty() {
            return Err(Error::argument(
                "weights",
                format!(
                    "prior weights must be positive and finite; {} of the data {} not",
                    list_rows(&bad, rows),
                    if bad.len() == 1 { "is" } else { "are" }
                ),
            ));
        }
    }
    let (y, levels) = match var {
        Variable::Factor { codes, levels, .. } => {
            if !matches!(family, Family::Bernoulli | Family::Binomial) {
                return Err(Error::wrong_type(
                    name,
                    name,
                    format!(
                        "`{name}` is categorical; a {} response must be numeric",
                        family.name()
                    ),
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
                     the weights (`weights=` the trials column) or write the response as \
                     `cbind(successes, failures)` (or use a 0/1 response with family Bernoulli)"
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
        Family::Gamma | Family::InverseGaussian | Family::Gaussian | Family::NegativeBinomial => {
            check_dispersion_response(family, name, &y, rows)?;
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

/// Check the response of a family with a dispersion parameter: positive for
/// Gamma and the inverse Gaussian, non-negative whole numbers for NB2,
/// finite for Gaussian. The error is [`Error::Row`] at the first offending
/// row (its index in the input data), the message listing up to five.
fn check_dispersion_response(family: Family, name: &str, y: &[f64], rows: &[usize]) -> Result<()> {
    let (ok, what): (fn(f64) -> bool, &str) = match family {
        Family::Gamma | Family::InverseGaussian => (|v| v > 0.0 && v.is_finite(), "positive"),
        Family::NegativeBinomial => (
            |v| v >= 0.0 && v.fract() == 0.0 && v.is_finite(),
            "a non-negative whole number (a count)",
        ),
        _ => (f64::is_finite, "finite"),
    };
    let bad: Vec<usize> = (0..y.len()).filter(|&i| !ok(y[i])).collect();
    if let Some(&first) = bad.first() {
        return Err(Error::Row {
            column: name.to_string(),
            row: rows[first],
            message: format!(
                "a {} response must be {what}; {} of the data {} not ({})",
                family.name(),
                list_rows(&bad, rows),
                if bad.len() == 1 { "is" } else { "are" },
                list_values(&bad, y)
            ),
        });
    }
    Ok(())
}

/// Check a `cbind(successes, failures)` response (`name`: its label) as
/// glmer reads it: family Binomial only, y = successes / trials with the
/// trials (successes + failures) as prior weights. The counts must be
/// non-negative whole numbers and every row needs at least one trial; other
/// prior weights are refused.
fn prepare_counts(
    family: Family,
    name: &str,
    counts: &BinomialCounts,
    has_weights: bool,
    rows: &[usize],
) -> Result<Response> {
    let term_err = |message: String| Error::Term {
        term: name.to_string(),
        message,
    };
    match family {
        Family::Binomial => {}
        Family::Bernoulli => {
            return Err(term_err(
                "`cbind(successes, failures)` is the two-column response of a binomial model; \
                 use family binomial (family Bernoulli needs one 0/1 or two-level column)"
                    .into(),
            ))
        }
        other => {
            return Err(term_err(format!(
                "`cbind(successes, failures)` is the two-column response of a binomial model; \
                 family {} needs one numeric column",
                other.name()
            )))
        }
    }
    if has_weights {
        // glm and glmer multiply the weights w into the trials and count each
        // row's binomial log-likelihood w times; with our saturated constants
        // the estimates would match glmer's but the log-likelihood would not.
        return Err(Error::argument(
            "weights",
            format!(
                "prior weights cannot be combined with the response `{name}`: its trials \
             (successes + failures) are the prior weights; to weight row i by w, scale its \
             counts, `cbind(w * successes, w * failures)` (glmer's estimates with weights w)"
            ),
        ));
    }
    for (v, label, what) in [
        (&counts.successes, &counts.successes_label, "successes"),
        (&counts.failures, &counts.failures_label, "failures"),
    ] {
        let bad: Vec<usize> = (0..v.len())
            .filter(|&i| v[i] < 0.0 || (v[i] - v[i].round()).abs() > 1e-8 * v[i].abs().max(1.0))
            .collect();
        if !bad.is_empty() {
            return Err(term_err(format!(
                "the {what} `{label}` must be non-negative whole numbers (counts); {} of the \
                 data {} not ({})",
                list_rows(&bad, rows),
                if bad.len() == 1 { "is" } else { "are" },
                list_values(&bad, v)
            )));
        }
    }
    let wt = counts.trials();
    let bad: Vec<usize> = (0..wt.len()).filter(|&i| wt[i] == 0.0).collect();
    if !bad.is_empty() {
        return Err(term_err(format!(
            "{} of the data {} no trials (successes + failures = 0); glmer keeps such rows with \
             prior weight 0, where they add nothing to the likelihood: drop them from the data",
            list_rows(&bad, rows),
            if bad.len() == 1 { "has" } else { "have" }
        )));
    }
    Ok(Response {
        y: counts.proportions(),
        wt,
        has_weights: true,
        levels: None,
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    fn counts(successes: Vec<f64>, failures: Vec<f64>) -> BinomialCounts {
        BinomialCounts {
            successes,
            failures,
            successes_label: "k".into(),
            failures_label: "n-k".into(),
        }
    }

    fn prep(family: Family, c: &BinomialCounts, w: Option<Vec<f64>>) -> Result<Response> {
        let rows: Vec<usize> = (0..c.successes.len()).map(|i| 10 + i).collect();
        let y = Variable::Numeric(c.proportions());
        prepare(family, "cbind(k,n-k)", &y, Some(c), w, &rows)
    }

    #[test]
    fn counts_give_proportions_and_trials() {
        let r = prep(
            Family::Binomial,
            &counts(vec![1.0, 0.0, 3.0], vec![3.0, 2.0, 0.0]),
            None,
        )
        .unwrap();
        assert_eq!(r.y, vec![0.25, 0.0, 1.0]);
        assert_eq!(r.wt, vec![4.0, 2.0, 3.0]);
        assert!(r.has_weights && r.levels.is_none());
    }

    #[test]
    fn bad_counts_name_the_rows() {
        let msg = |c: BinomialCounts, family, w| prep(family, &c, w).unwrap_err().to_string();
        let m = msg(
            counts(vec![1.0, 2.0], vec![3.0, -1.0]),
            Family::Binomial,
            None,
        );
        assert!(
            m.contains("failures `n-k`") && m.contains("row 11") && m.contains("(-1)"),
            "{m}"
        );
        let m = msg(
            counts(vec![1.5, 2.0], vec![3.0, 1.0]),
            Family::Binomial,
            None,
        );
        assert!(m.contains("successes `k`") && m.contains("row 10 "), "{m}");
        let m = msg(
            counts(vec![1.0, 0.0, 0.0], vec![3.0, 0.0, 0.0]),
            Family::Binomial,
            None,
        );
        assert!(m.contains("rows 11, 12") && m.contains("no trials"), "{m}");
        let m = msg(counts(vec![1.0], vec![3.0]), Family::Bernoulli, None);
        assert!(m.contains("use family binomial"), "{m}");
        let m = msg(counts(vec![1.0], vec![3.0]), Family::Poisson, None);
        assert!(m.contains("two-column response of a binomial model"), "{m}");
        let m = msg(
            counts(vec![1.0], vec![3.0]),
            Family::Binomial,
            Some(vec![2.0]),
        );
        assert!(m.contains("prior weights cannot be combined"), "{m}");
    }

    #[test]
    fn proportions_without_trials_name_both_fixes() {
        let y = Variable::Numeric(vec![0.5, 0.25]);
        let e = prepare(Family::Binomial, "p", &y, None, None, &[0, 1]).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("`weights=`") && m.contains("cbind(successes, failures)"),
            "{m}"
        );
    }
}
