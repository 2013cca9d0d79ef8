//! The model frame: the data restricted to the variables a formula uses, with
//! rows holding a missing value dropped and each variable resolved to numeric
//! values or a coded factor.

use std::collections::HashMap;

use crate::contrasts::Coding;
use crate::data::{Column, Data};
use crate::error::{Error, Result};
use crate::formula::{Atom, CbindSpec, ModelSpec, NumExpr, ResponseSpec};

/// What to do with rows that have a missing value in a used column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingPolicy {
    /// Drop them and report the count per column (lme4's `na.omit`).
    #[default]
    Drop,
    /// Refuse the data, naming the column.
    Raise,
}

/// A variable of the model frame after resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Variable {
    /// Numeric values, one per retained row.
    Numeric(Vec<f64>),
    /// A factor: codes per retained row, level labels, and the coding to use.
    Factor {
        /// One level code per retained row (an index into `levels`).
        codes: Vec<u32>,
        /// The level labels in level order.
        levels: Vec<String>,
        /// How the levels become model-matrix columns.
        coding: Coding,
    },
}

/// The two columns of a `cbind(successes, failures)` response, one value per
/// retained row, as evaluated (finite, but not yet checked to be counts).
#[derive(Debug, Clone, PartialEq)]
pub struct BinomialCounts {
    /// Numbers of successes.
    pub successes: Vec<f64>,
    /// Numbers of failures.
    pub failures: Vec<f64>,
    /// The first argument of `cbind` as written (whitespace removed).
    pub successes_label: String,
    /// The second argument of `cbind` as written (whitespace removed).
    pub failures_label: String,
}

impl BinomialCounts {
    /// Numbers of trials, successes + failures (glmer's prior weights).
    pub fn trials(&self) -> Vec<f64> {
        self.successes
            .iter()
            .zip(&self.failures)
            .map(|(s, f)| s + f)
            .collect()
    }

    /// Proportions of successes, successes / trials; 0 for a row without
    /// trials (R's `binomial()$initialize`).
    pub fn proportions(&self) -> Vec<f64> {
        self.successes
            .iter()
            .zip(&self.failures)
            .map(|(s, f)| if s + f == 0.0 { 0.0 } else { s / (s + f) })
            .collect()
    }
}

/// The data of one model: used columns only, complete rows only.
#[derive(Debug, Clone)]
pub struct ModelFrame {
    /// The retained rows as indices into the original data.
    pub rows: Vec<usize>,
    /// Rows dropped because of a missing value, per used column.
    pub missing: Vec<(String, usize)>,
    data: Data,
    contrasts: HashMap<String, Coding>,
    original_nrows: usize,
}

impl ModelFrame {
    /// Select the variables of `spec`, drop incomplete rows (or refuse them)
    /// and check what remains is usable.
    pub fn new(
        spec: &ModelSpec,
        data: &Data,
        contrasts: &HashMap<String, Coding>,
        missing: MissingPolicy,
    ) -> Result<Self> {
        let vars = spec.variables();
        for v in &vars {
            data.column(v)?;
        }
        if data.nrows() == 0 {
            return Err(Error::Data("the data have no rows".into()));
        }
        for name in contrasts.keys() {
            if !vars.contains(name) {
                return Err(Error::Column {
                    column: name.clone(),
                    message: "has a contrast but is not used in the formula".into(),
                });
            }
        }
        let (reduced, counts) = data.complete_cases(&vars)?;
        if missing == MissingPolicy::Raise {
            if let Some((col, k)) = counts.iter().find(|(_, k)| *k > 0) {
                return Err(Error::Column {
                    column: col.clone(),
                    message: format!("has {k} missing values (missing=\"raise\")"),
                });
            }
        }
        if reduced.nrows() == 0 {
            let detail: Vec<String> = counts
                .iter()
                .filter(|(_, k)| *k > 0)
                .map(|(c, k)| format!("`{c}`: {k}"))
                .collect();
            return Err(Error::Data(format!(
                "no rows left after dropping rows with missing values (missing per column: {})",
                detail.join(", ")
            )));
        }
        let rows = keep_indices(data, &vars)?;
        for v in &vars {
            if let Column::Numeric { values, .. } = reduced.column(v)? {
                if let Some(i) = values.iter().position(|x| x.is_infinite()) {
                    return Err(Error::Row {
                        column: v.clone(),
                        row: rows[i],
                        message: format!("holds an infinite value ({})", values[i]),
                    });
                }
            }
        }
        Ok(ModelFrame {
            rows,
            missing: counts,
            data: reduced,
            contrasts: contrasts.clone(),
            original_nrows: data.nrows(),
        })
    }

    /// A frame over data already restricted to complete rows (`rows`: their
    /// indices in data of `original_nrows` rows), as new data for prediction.
    pub(crate) fn from_rows(
        data: Data,
        rows: Vec<usize>,
        contrasts: &HashMap<String, Coding>,
        original_nrows: usize,
    ) -> Self {
        ModelFrame {
            rows,
            missing: Vec::new(),
            data,
            contrasts: contrasts.clone(),
            original_nrows,
        }
    }

    /// The column `name` of the retained rows, as given.
    pub(crate) fn column(&self, name: &str) -> Result<&Column> {
        self.data.column(name)
    }

    /// Number of retained rows.
    pub fn nrows(&self) -> usize {
        self.data.nrows()
    }

    /// Number of rows of the data before dropping incomplete ones.
    pub fn original_nrows(&self) -> usize {
        self.original_nrows
    }

    /// Total number of rows dropped for missing values.
    pub fn ndropped(&self) -> usize {
        self.original_nrows - self.nrows()
    }

    /// The variable `name` as it enters a fixed- or random-effects term: a
    /// factor when the column is categorical or has a contrast, else numeric.
    pub fn variable(&self, name: &str) -> Result<Variable> {
        let col = self.data.column(name)?;
        let coding = self.contrasts.get(name).cloned();
        match (col, coding) {
            (Column::Numeric { values, .. }, None) => Ok(Variable::Numeric(values.clone())),
            (c, coding) => {
                let (codes, levels) = c.to_categorical(name)?;
                Ok(Variable::Factor {
                    codes,
                    levels,
                    coding: coding.unwrap_or_default(),
                })
            }
        }
    }

    /// The grouping factor `name`: always categorical, unused levels kept for
    /// now (the random-effects term drops them).
    pub fn grouping(&self, name: &str) -> Result<(Vec<u32>, Vec<String>)> {
        self.data.column(name)?.to_categorical(name)
    }

    /// Evaluate a numeric expression row by row; every column it names must be numeric.
    pub fn eval(&self, expr: &NumExpr, label: &str) -> Result<Vec<f64>> {
        let cols = expr.columns();
        let mut numeric: HashMap<String, &[f64]> = HashMap::new();
        for c in &cols {
            match self.data.column(c)? {
                Column::Numeric { values, .. } if !self.contrasts.contains_key(c) => {
                    numeric.insert(c.clone(), values.as_slice());
                }
                _ => {
                    return Err(Error::wrong_type(
                        label,
                        c,
                        format!(
                            "`{c}` is categorical; functions such as `{label}` apply to numeric columns only"
                        ),
                    ))
                }
            }
        }
        let lookup = |name: &str| numeric.get(name).copied();
        let values = expr.eval(&lookup, self.nrows()).map_err(|m| Error::Term {
            term: label.to_string(),
            message: m,
        })?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::Term {
                term: label.to_string(),
                message: format!(
                    "evaluates to {} in row {} of the data",
                    values[i], self.rows[i]
                ),
            });
        }
        Ok(values)
    }

    /// The values of the response: numeric values or the codes and levels of
    /// a categorical column; for `cbind(successes, failures)` the proportions
    /// (see [`BinomialCounts::proportions`]) and the two columns.
    pub fn response(&self, response: &ResponseSpec) -> Result<(Variable, Option<BinomialCounts>)> {
        match response {
            ResponseSpec::Single(Atom::Variable(name)) => Ok((self.variable(name)?, None)),
            ResponseSpec::Single(Atom::Function { expr, label }) => {
                Ok((Variable::Numeric(self.eval(expr, label)?), None))
            }
            ResponseSpec::Single(Atom::FullDummy(name)) => Err(Error::Term {
                term: format!("fulldummy({name})"),
                message: "cannot be a response".into(),
            }),
            ResponseSpec::Cbind(c) => {
                let counts = self.counts(c)?;
                Ok((Variable::Numeric(counts.proportions()), Some(counts)))
            }
        }
    }

    /// Evaluates the two arguments of `cbind(successes, failures)`.
    fn counts(&self, c: &CbindSpec) -> Result<BinomialCounts> {
        for (expr, what) in [(&c.successes, "successes"), (&c.failures, "failures")] {
            for col in expr.columns() {
                let numeric = matches!(self.data.column(&col)?, Column::Numeric { .. })
                    && !self.contrasts.contains_key(&col);
                if !numeric {
                    return Err(Error::wrong_type(
                        &c.label,
                        &col,
                        format!(
                            "`{col}` is categorical; the {what} of `cbind(successes, failures)` \
                             must be numeric counts"
                        ),
                    ));
                }
            }
        }
        Ok(BinomialCounts {
            successes: self.eval(&c.successes, &c.successes_label)?,
            failures: self.eval(&c.failures, &c.failures_label)?,
            successes_label: c.successes_label.clone(),
            failures_label: c.failures_label.clone(),
        })
    }
}

/// Indices of the rows with no missing value in `vars`.
fn keep_indices(data: &Data, vars: &[String]) -> Result<Vec<usize>> {
    let mut keep = vec![true; data.nrows()];
    for v in vars {
        match data.column(v)? {
            Column::Numeric { values, .. } => {
                for (k, x) in keep.iter_mut().zip(values) {
                    *k &= !x.is_nan();
                }
            }
            Column::Categorical { codes, .. } => {
                for (k, c) in keep.iter_mut().zip(codes) {
                    *k &= *c != crate::data::MISSING_CODE;
                }
            }
        }
    }
    Ok((0..keep.len()).filter(|&i| keep[i]).collect())
}
