//! The reference grid of a fitted model as R's emmeans builds it: every
//! predictor of the fixed effects (and offsets) at a set of values — a factor
//! at all its levels, a numeric covariate at its mean over the rows used in
//! fitting — or at the values given for it; the grid is every combination of
//! them (the first variable varying fastest) and its model matrix is built by
//! [`NewRows`], as for predictions on new data.

use crate::data::{Column, Data};
use crate::error::{Error, Result};
use crate::terms::{predictor_variables, ModelTerms, NewRows, TrainingColumn};

/// Values given for one predictor (emmeans' `at`).
#[derive(Debug, Clone, PartialEq)]
pub enum AtValues {
    /// Level labels of a factor (a subset of its levels, in the given order).
    Levels(Vec<String>),
    /// Numbers: the values of a covariate, or levels of a numeric factor.
    Values(Vec<f64>),
}

/// The values one predictor takes in the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridVariable {
    /// The predictor's name.
    pub name: String,
    /// Is it a factor (levels) rather than a numeric covariate?
    pub factor: bool,
    /// Labels of its values (levels; covariate values printed by the caller).
    pub labels: Vec<String>,
    /// Numeric values (covariates, numeric factors); empty for labelled factors.
    pub values: Vec<f64>,
}

impl GridVariable {
    /// How many values the predictor takes.
    pub fn len(&self) -> usize {
        if self.values.is_empty() {
            self.labels.len()
        } else {
            self.values.len()
        }
    }

    /// Does it take no values?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The reference grid: its predictors, the value index of each predictor in
/// each row, and the rows of the model matrix (and offset) there.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceGrid {
    /// The predictors in the formula's order.
    pub variables: Vec<GridVariable>,
    /// Per grid row, the index of each predictor's value.
    pub cells: Vec<Vec<usize>>,
    /// Per grid row, the model-matrix row (the fitted model's kept columns).
    pub x: Vec<Vec<f64>>,
    /// Per grid row, the formula's offset (0 without one).
    pub offset: Vec<f64>,
}

/// Build the reference grid of the model with `terms`, whose training data
/// are `data` (needed for covariate means), with `at` overriding values.
pub fn reference_grid(
    terms: &ModelTerms,
    data: &Data,
    at: &[(String, AtValues)],
) -> Result<ReferenceGrid> {
    let names = predictor_variables(&terms.spec, false);
    if let Some((name, _)) = at.iter().find(|(n, _)| !names.contains(n)) {
        return Err(Error::Column {
            column: name.clone(),
            message: "is not a predictor of the model's fixed effects (`at`)".into(),
        });
    }
    let mut variables = Vec::with_capacity(names.len());
    for name in &names {
        let given = at.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        variables.push(grid_variable(terms, data, name, given)?);
    }
    let cells = combinations(&variables.iter().map(GridVariable::len).collect::<Vec<_>>());
    let mut grid_data = Data::new();
    for (k, (name, var)) in names.iter().zip(&variables).enumerate() {
        let column = match training_column(terms, name)? {
            TrainingColumn::Categorical { levels } => {
                let codes = cells
                    .iter()
                    .map(|c| {
                        let label = &var.labels[c[k]];
                        levels.iter().position(|l| l == label).unwrap_or(0) as u32
                    })
                    .collect();
                Column::Categorical {
                    codes,
                    levels: levels.clone(),
                }
            }
            TrainingColumn::Numeric { integer, .. } => Column::Numeric {
                values: cells.iter().map(|c| var.values[c[k]]).collect(),
                integer: *integer && var.factor,
            },
        };
        grid_data.add_column(name.clone(), column)?;
    }
    let n = cells.len();
    let rows = NewRows::new(terms, &grid_data, false)?;
    let p = terms.fixed.rank();
    let x = (0..n)
        .map(|i| (0..p).map(|j| rows.x[j * n + i]).collect())
        .collect();
    let offset = rows.offset.unwrap_or_else(|| vec![0.0; n]);
    Ok(ReferenceGrid {
        variables,
        cells,
        x,
        offset,
    })
}

fn training_column<'a>(terms: &'a ModelTerms, name: &str) -> Result<&'a TrainingColumn> {
    terms
        .coding
        .columns
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c)
        .ok_or_else(|| Error::Column {
            column: name.to_string(),
            message: "is not a variable of the fitted model".into(),
        })
}

/// The label of a number as a level (integers without a decimal point).
pub fn number_label(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn grid_variable(
    terms: &ModelTerms,
    data: &Data,
    name: &str,
    given: Option<&AtValues>,
) -> Result<GridVariable> {
    let level_error = |level: String, message: &str| Error::Level {
        column: name.to_string(),
        level,
        message: message.to_string(),
    };
    let empty = || Error::Column {
        column: name.to_string(),
        message: "`at` gives no values".into(),
    };
    let var = match training_column(terms, name)? {
        TrainingColumn::Categorical { levels } => {
            let labels = match given {
                None => levels.clone(),
                Some(AtValues::Levels(l)) => {
                    if let Some(bad) = l.iter().find(|v| !levels.contains(v)) {
                        return Err(level_error(
                            bad.clone(),
                            "is not a level of the factor (`at`)",
                        ));
                    }
                    l.clone()
                }
                Some(AtValues::Values(_)) => {
                    return Err(Error::Column {
                        column: name.to_string(),
                        message: "is a factor: `at` must give level labels".into(),
                    })
                }
            };
            GridVariable {
                name: name.to_string(),
                factor: true,
                labels,
                values: Vec::new(),
            }
        }
        TrainingColumn::Numeric {
            factor_values: Some(levels),
            ..
        } => {
            let values = match given {
                None => levels.clone(),
                Some(AtValues::Values(v)) => v.clone(),
                Some(AtValues::Levels(l)) => l
                    .iter()
                    .map(|s| {
                        s.parse::<f64>()
                            .map_err(|_| level_error(s.clone(), "is not a level of the factor"))
                    })
                    .collect::<Result<_>>()?,
            };
            if let Some(bad) = values.iter().find(|v| !levels.contains(v)) {
                return Err(level_error(
                    number_label(*bad),
                    "is not a level of the factor (`at`)",
                ));
            }
            GridVariable {
                name: name.to_string(),
                factor: true,
                labels: values.iter().map(|&v| number_label(v)).collect(),
                values,
            }
        }
        TrainingColumn::Numeric {
            factor_values: None,
            ..
        } => {
            let values = match given {
                Some(AtValues::Values(v)) => v.clone(),
                Some(AtValues::Levels(_)) => {
                    return Err(Error::Column {
                        column: name.to_string(),
                        message: "is a numeric covariate: `at` must give numbers".into(),
                    })
                }
                None => vec![covariate_mean(terms, data, name)?],
            };
            if values.iter().any(|v| !v.is_finite()) {
                return Err(Error::Column {
                    column: name.to_string(),
                    message: "`at` holds non-finite values".into(),
                });
            }
            GridVariable {
                name: name.to_string(),
                factor: false,
                labels: values.iter().map(|&v| number_label(v)).collect(),
                values,
            }
        }
    };
    if var.is_empty() {
        return Err(empty());
    }
    Ok(var)
}

/// The mean of a numeric covariate over the rows used in fitting.
fn covariate_mean(terms: &ModelTerms, data: &Data, name: &str) -> Result<f64> {
    if data.nrows() != terms.input_rows {
        return Err(Error::Data(format!(
            "the data have {} rows; the model was fitted to {}",
            data.nrows(),
            terms.input_rows
        )));
    }
    match data.column(name)? {
        Column::Numeric { values, .. } => {
            let sum: f64 = terms.rows.iter().map(|&i| values[i]).sum();
            Ok(sum / terms.rows.len() as f64)
        }
        Column::Categorical { .. } => Err(Error::Column {
            column: name.to_string(),
            message: "was numeric in fitting but is categorical in the data given".into(),
        }),
    }
}

/// Every combination of indices `0..sizes[k]`, the first varying fastest.
pub fn combinations(sizes: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = sizes.iter().product();
    (0..total)
        .map(|mut i| {
            sizes
                .iter()
                .map(|&s| {
                    let v = i % s;
                    i /= s;
                    v
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_vary_the_first_fastest() {
        assert_eq!(
            combinations(&[2, 3]),
            vec![
                vec![0, 0],
                vec![1, 0],
                vec![0, 1],
                vec![1, 1],
                vec![0, 2],
                vec![1, 2]
            ]
        );
        assert_eq!(number_label(175.0), "175");
        assert_eq!(number_label(2.5), "2.5");
    }
}
