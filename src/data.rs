//! The columnar input of a model: numeric and categorical columns of equal length.
//!
//! A categorical column holds `u32` codes into a list of level labels; the code
//! [`MISSING_CODE`] marks a missing value. A numeric column marks missing values
//! with NaN. [`Data::complete_cases`] drops the rows with a missing value in any
//! of the named columns and reports how many each column caused.

use crate::error::{Error, Result};

/// Code of a missing value in a categorical column.
pub const MISSING_CODE: u32 = u32::MAX;

/// One column of the input data.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; NaN marks a missing value. `integer` records that the source
    /// column held integers (it decides how levels are labelled when the column
    /// is used as a grouping factor or given a contrast).
    Numeric {
        /// One value per row (NaN: missing).
        values: Vec<f64>,
        /// The source column held integers.
        integer: bool,
    },
    /// Level codes (`0..levels.len()`, or [`MISSING_CODE`]) and level labels in
    /// level order; the first level is the reference level of treatment contrasts.
    Categorical {
        /// One level code per row (an index into `levels`, or [`MISSING_CODE`]).
        codes: Vec<u32>,
        /// The level labels in level order.
        levels: Vec<String>,
    },
}

impl Column {
    /// A numeric column of floating-point values.
    pub fn numeric(values: Vec<f64>) -> Self {
        Column::Numeric {
            values,
            integer: false,
        }
    }

    /// A categorical column from codes and labels.
    pub fn categorical(codes: Vec<u32>, levels: Vec<String>) -> Self {
        Column::Categorical { codes, levels }
    }

    /// A categorical column from string values; levels are the distinct
    /// values in sorted order.
    pub fn from_strings<S: AsRef<str>>(values: &[S]) -> Self {
        let mut levels: Vec<String> = values.iter().map(|s| s.as_ref().to_string()).collect();
        levels.sort();
        levels.dedup();
        let codes = values
            .iter()
            .map(|s| {
                levels
                    .binary_search_by(|l| l.as_str().cmp(s.as_ref()))
                    .unwrap() as u32
            })
            .collect();
        Column::Categorical { codes, levels }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric { values, .. } => values.len(),
            Column::Categorical { codes, .. } => codes.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Is row `i` missing?
    pub(crate) fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Numeric { values, .. } => values[i].is_nan(),
            Column::Categorical { codes, .. } => codes[i] == MISSING_CODE,
        }
    }

    /// The column restricted to the rows in `keep` (sorted row indices).
    fn take(&self, keep: &[usize]) -> Column {
        match self {
            Column::Numeric { values, integer } => Column::Numeric {
                values: keep.iter().map(|&i| values[i]).collect(),
                integer: *integer,
            },
            Column::Categorical { codes, levels } => Column::Categorical {
                codes: keep.iter().map(|&i| codes[i]).collect(),
                levels: levels.clone(),
            },
        }
    }

    /// The column as categorical: a categorical column unchanged; a numeric one
    /// with its distinct values as levels in increasing numeric order, labelled
    /// `3` for integers and `3.0` / `0.5` for floating-point values.
    pub fn to_categorical(&self, name: &str) -> Result<(Vec<u32>, Vec<String>)> {
        match self {
            Column::Categorical { codes, levels } => Ok((codes.clone(), levels.clone())),
            Column::Numeric { values, integer } => {
                if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                    return Err(Error::Column {
                        column: name.to_string(),
                        message: format!("cannot use the value {v} as a level"),
                    });
                }
                let mut distinct = values.clone();
                distinct.sort_by(|a, b| a.partial_cmp(b).unwrap());
                distinct.dedup();
                let codes = values
                    .iter()
                    .map(|v| distinct.partition_point(|d| d < v) as u32)
                    .collect();
                let levels = distinct
                    .iter()
                    .map(|&v| {
                        if *integer {
                            format!("{}", v as i64)
                        } else {
                            format!("{v:?}")
                        }
                    })
                    .collect();
                Ok((codes, levels))
            }
        }
    }
}

/// A table of named columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Data {
    names: Vec<String>,
    columns: Vec<Column>,
    nrows: usize,
}

impl Data {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a column; its length must equal that of the columns already present.
    pub fn with_column(mut self, name: impl Into<String>, column: Column) -> Result<Self> {
        self.add_column(name, column)?;
        Ok(self)
    }

    /// Add (or replace) a column; its length must equal that of the others.
    pub fn add_column(&mut self, name: impl Into<String>, column: Column) -> Result<()> {
        let name = name.into();
        if let Column::Categorical { codes, levels } = &column {
            if let Some(&c) = codes
                .iter()
                .find(|&&c| c != MISSING_CODE && c as usize >= levels.len())
            {
                return Err(Error::Column {
                    column: name,
                    message: format!("code {c} is out of range for {} levels", levels.len()),
                });
            }
        }
        if self.columns.is_empty() {
            self.nrows = column.len();
        } else if column.len() != self.nrows {
            return Err(Error::Column {
                column: name,
                message: format!(
                    "has {} rows, the other columns {}",
                    column.len(),
                    self.nrows
                ),
            });
        }
        match self.names.iter().position(|n| *n == name) {
            Some(i) => self.columns[i] = column,
            None => {
                self.names.push(name);
                self.columns.push(column);
            }
        }
        Ok(())
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Column names in insertion order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    /// The column called `name`, or an error naming it.
    pub fn column(&self, name: &str) -> Result<&Column> {
        self.get(name).ok_or_else(|| Error::Column {
            column: name.to_string(),
            message: format!(
                "not found in the data (columns: {})",
                abbreviate(&self.names, 12)
            ),
        })
    }

    /// Keep only the rows with no missing value in any of `columns`.
    ///
    /// Returns the reduced table (holding all columns) and, per named column,
    /// the number of rows that were missing in it (a row missing in two columns
    /// counts for both). Columns not named never cause a row to be dropped.
    pub fn complete_cases(&self, columns: &[String]) -> Result<(Data, Vec<(String, usize)>)> {
        let used: Vec<&Column> = columns
            .iter()
            .map(|c| self.column(c))
            .collect::<Result<_>>()?;
        let counts: Vec<(String, usize)> = columns
            .iter()
            .zip(&used)
            .map(|(name, col)| {
                let k = (0..self.nrows).filter(|&i| col.is_missing(i)).count();
                (name.clone(), k)
            })
            .collect();
        if counts.iter().all(|(_, k)| *k == 0) {
            return Ok((self.clone(), counts));
        }
        let keep: Vec<usize> = (0..self.nrows)
            .filter(|&i| used.iter().all(|c| !c.is_missing(i)))
            .collect();
        let reduced = Data {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(&keep)).collect(),
            nrows: keep.len(),
        };
        Ok((reduced, counts))
    }
}

/// `a, b, c, … (N more)` for error messages about long name lists.
pub(crate) fn abbreviate(names: &[String], max: usize) -> String {
    let shown: Vec<&str> = names.iter().take(max).map(|s| s.as_str()).collect();
    let mut s = shown.join(", ");
    if names.len() > max {
        s.push_str(&format!(", … ({} more)", names.len() - max));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Data {
        Data::new()
            .with_column("x", Column::numeric(vec![1.0, f64::NAN, 3.0, 4.0]))
            .unwrap()
            .with_column(
                "g",
                Column::categorical(vec![0, 1, MISSING_CODE, 1], vec!["a".into(), "b".into()]),
            )
            .unwrap()
            .with_column("unused", Column::numeric(vec![f64::NAN; 4]))
            .unwrap()
    }

    #[test]
    fn complete_cases_counts_per_column_and_ignores_unused() {
        let d = sample();
        let (r, counts) = d.complete_cases(&["x".into(), "g".into()]).unwrap();
        assert_eq!(r.nrows(), 2);
        assert_eq!(counts, vec![("x".into(), 1), ("g".into(), 1)]);
        match r.column("x").unwrap() {
            Column::Numeric { values, .. } => assert_eq!(values, &vec![1.0, 4.0]),
            _ => panic!("x must stay numeric"),
        }
    }

    #[test]
    fn length_mismatch_and_bad_codes_are_errors_naming_the_column() {
        let e = Data::new()
            .with_column("a", Column::numeric(vec![1.0]))
            .unwrap()
            .with_column("b", Column::numeric(vec![1.0, 2.0]))
            .unwrap_err();
        assert!(e.to_string().contains("`b`"));
        let e = Data::new()
            .with_column("f", Column::categorical(vec![2], vec!["a".into()]))
            .unwrap_err();
        assert!(e.to_string().contains("`f`"));
    }

    #[test]
    fn numeric_levels_sort_numerically() {
        let c = Column::numeric(vec![10.0, 2.0, 2.0, 0.5]);
        let (codes, levels) = c.to_categorical("u").unwrap();
        assert_eq!(levels, vec!["0.5", "2.0", "10.0"]);
        assert_eq!(codes, vec![2, 1, 1, 0]);
        let c = Column::Numeric {
            values: vec![3.0, 1.0],
            integer: true,
        };
        assert_eq!(c.to_categorical("u").unwrap().1, vec!["1", "3"]);
    }

    #[test]
    fn unknown_column_lists_available_names() {
        let e = sample().column("nope").unwrap_err().to_string();
        assert!(e.contains("`nope`") && e.contains("x, g, unused"));
    }
}
