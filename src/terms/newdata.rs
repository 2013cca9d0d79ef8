//! Model-matrix rows for new data, coded as the training data were.
//!
//! A factor keeps the training model's levels and contrasts: a label of new
//! data is looked up among the training levels (a numeric value among the
//! training values of a numeric column used as a factor), and an unseen label
//! of a factor in a fixed- or random-effects column is an [`Error::Level`].
//! Grouping factors are looked up in each random-effects term's levels; an
//! unseen level is reported per row (`None`) for the caller to decide. Rows
//! with a missing value in a used column are left out (their indices are not
//! in [`NewRows::rows`]); nothing else is dropped.

use std::collections::HashMap;

use crate::contrasts::Coding;
use crate::data::{abbreviate, Column, Data, MISSING_CODE};
use crate::error::{Error, Result};
use crate::formula::{Atom, ModelSpec, TermsSpec};

use super::columns::build_columns;
use super::frame::ModelFrame;
use super::ModelTerms;

/// How a variable was represented in the training data.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingColumn {
    /// Numbers; `factor_values` holds the distinct values (the levels) when the
    /// column entered a term as a factor (through a contrast or `fulldummy`).
    Numeric {
        /// Did the source column hold integers (how its levels are labelled)?
        integer: bool,
        /// The levels of a numeric column used as a factor, increasing.
        factor_values: Option<Vec<f64>>,
    },
    /// Level labels in level order.
    Categorical {
        /// The labels.
        levels: Vec<String>,
    },
}

/// The coding of the training data that new data must follow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingCoding {
    /// The contrasts the model was built with.
    pub contrasts: HashMap<String, Coding>,
    /// Each variable the formula uses and how it was represented.
    pub columns: Vec<(String, TrainingColumn)>,
}

impl TrainingCoding {
    /// Record the representation of every variable of `spec` in `frame`.
    pub(crate) fn from_frame(
        spec: &ModelSpec,
        frame: &ModelFrame,
        contrasts: &HashMap<String, Coding>,
    ) -> Result<Self> {
        let fulldummy = fulldummy_names(spec);
        let mut columns = Vec::new();
        for name in spec.variables() {
            let info = match frame.column(&name)? {
                Column::Categorical { levels, .. } => TrainingColumn::Categorical {
                    levels: levels.clone(),
                },
                Column::Numeric { values, integer } => {
                    let factor = contrasts.contains_key(&name) || fulldummy.contains(&name);
                    let factor_values = factor.then(|| {
                        let mut d = values.clone();
                        d.sort_by(|a, b| a.total_cmp(b));
                        d.dedup();
                        d
                    });
                    TrainingColumn::Numeric {
                        integer: *integer,
                        factor_values,
                    }
                }
            };
            columns.push((name, info));
        }
        Ok(TrainingCoding {
            contrasts: contrasts.clone(),
            columns,
        })
    }

    fn get(&self, name: &str) -> Option<&TrainingColumn> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// Names used in `fulldummy(...)` atoms anywhere in the formula.
fn fulldummy_names(spec: &ModelSpec) -> Vec<String> {
    let all = std::iter::once(&spec.fixed).chain(spec.random.iter().map(|r| &r.effects));
    all.flat_map(|t| &t.terms)
        .flat_map(|t| &t.atoms)
        .filter_map(|a| match a {
            Atom::FullDummy(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Columns read by the atoms of `spec`'s terms (not the grouping factors).
fn effect_columns(spec: &TermsSpec, out: &mut Vec<String>) {
    for term in &spec.terms {
        for c in term.columns() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
}

/// The variables a prediction reads: those of the fixed-effects terms and the
/// offsets and, with `random`, those of the random-effects terms and their
/// grouping factors (never the response, unless a term uses it).
pub fn predictor_variables(spec: &ModelSpec, random: bool) -> Vec<String> {
    let mut out = Vec::new();
    effect_columns(&spec.fixed, &mut out);
    for o in &spec.offsets {
        for c in o.columns() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    if random {
        for r in &spec.random {
            effect_columns(&r.effects, &mut out);
            for g in &r.grouping {
                if !out.contains(g) {
                    out.push(g.clone());
                }
            }
        }
    }
    out
}

/// The rows of one random-effects term for new data.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTermRows {
    /// The term's level of each complete row; `None` for a level not seen in fitting.
    pub refs: Vec<Option<u32>>,
    /// Row-major `n × v` values of the term's columns.
    pub z: Vec<f64>,
    /// The labels of the unseen levels, in order of first occurrence.
    pub new_levels: Vec<String>,
}

/// Model-matrix rows of new data, for the rows without missing values.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRows {
    /// Indices into the new data of the complete rows, to which every other field refers.
    pub rows: Vec<usize>,
    /// X (the training model's kept columns), column-major `rows.len() × p`.
    pub x: Vec<f64>,
    /// The sum of the formula's `offset(...)` terms, if any.
    pub offset: Option<Vec<f64>>,
    /// Per training random-effects term (same order); empty unless built with random effects.
    pub random: Vec<NewTermRows>,
}

impl NewRows {
    /// Build the rows of `data` for the model whose terms are `terms`; with
    /// `random`, also Z's rows and the level of each row in each term.
    pub fn new(terms: &ModelTerms, data: &Data, random: bool) -> Result<Self> {
        let spec = &terms.spec;
        let coding = &terms.coding;
        let vars = predictor_variables(spec, random);
        let mut effect_vars = Vec::new();
        effect_columns(&spec.fixed, &mut effect_vars);
        if random {
            spec.random
                .iter()
                .for_each(|r| effect_columns(&r.effects, &mut effect_vars));
        }
        let cols: Vec<&Column> = vars.iter().map(|v| data.column(v)).collect::<Result<_>>()?;
        let rows: Vec<usize> = (0..data.nrows())
            .filter(|&i| cols.iter().all(|c| !is_missing(c, i)))
            .collect();
        let mut reduced = Data::new();
        for (name, col) in vars.iter().zip(&cols) {
            let training = coding.get(name).ok_or_else(|| Error::Column {
                column: name.clone(),
                message: "is not a variable of the fitted model".into(),
            })?;
            let column = if effect_vars.contains(name) {
                recode(name, col, training, &rows)?
            } else {
                take(col, &rows)
            };
            reduced.add_column(name.clone(), column)?;
        }
        let frame = ModelFrame::from_rows(reduced, rows.clone(), &coding.contrasts, data.nrows());
        let fixed = build_columns(&spec.fixed, &frame)?;
        if fixed.names != terms.fixed.names {
            return Err(Error::Data(
                "the new data do not generate the fitted model's fixed-effects columns".into(),
            ));
        }
        let mut x = Vec::with_capacity(rows.len() * terms.fixed.rank());
        for &j in &terms.fixed.kept {
            x.extend_from_slice(&fixed.values[j]);
        }
        let mut offset: Option<Vec<f64>> = None;
        for (k, expr) in spec.offsets.iter().enumerate() {
            let v = frame.eval(expr, &format!("offset #{}", k + 1))?;
            offset = Some(match offset {
                None => v,
                Some(o) => o.iter().zip(&v).map(|(a, b)| a + b).collect(),
            });
        }
        let random = if random {
            terms
                .random
                .iter()
                .map(|t| term_rows(terms, t, &frame, data, &rows))
                .collect::<Result<_>>()?
        } else {
            Vec::new()
        };
        Ok(NewRows {
            rows,
            x,
            offset,
            random,
        })
    }
}

/// Z's rows and the levels of one training term.
fn term_rows(
    terms: &ModelTerms,
    term: &super::ReTerm,
    frame: &ModelFrame,
    data: &Data,
    rows: &[usize],
) -> Result<NewTermRows> {
    let specs: Vec<_> = terms
        .spec
        .random
        .iter()
        .filter(|r| r.grouping.join(" & ") == term.grouping)
        .collect();
    let mut names = Vec::new();
    let mut values = Vec::new();
    for s in &specs {
        let c = build_columns(&s.effects, frame)?;
        names.extend(c.names);
        values.extend(c.values);
    }
    if names != term.column_names {
        return Err(Error::Term {
            term: term.grouping.clone(),
            message: "the new data do not generate the fitted model's random-effects columns"
                .into(),
        });
    }
    let n = rows.len();
    let v = names.len();
    let mut z = vec![0.0; n * v];
    for (j, col) in values.iter().enumerate() {
        for (i, val) in col.iter().enumerate() {
            z[i * v + j] = *val;
        }
    }
    let index: HashMap<&str, u32> = term
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as u32))
        .collect();
    let grouping = &specs[0].grouping;
    let mut refs = Vec::with_capacity(n);
    let mut new_levels: Vec<String> = Vec::new();
    for &row in rows {
        let label = grouping
            .iter()
            .map(|g| {
                let training = terms.coding.get(g);
                Ok(label_of(data.column(g)?, row, training))
            })
            .collect::<Result<Vec<_>>>()?
            .join(":");
        let r = index.get(label.as_str()).copied();
        if r.is_none() && !new_levels.contains(&label) {
            new_levels.push(label);
        }
        refs.push(r);
    }
    Ok(NewTermRows {
        refs,
        z,
        new_levels,
    })
}

fn is_missing(c: &Column, i: usize) -> bool {
    match c {
        Column::Numeric { values, .. } => values[i].is_nan(),
        Column::Categorical { codes, .. } => codes[i] == MISSING_CODE,
    }
}

fn take(c: &Column, rows: &[usize]) -> Column {
    match c {
        Column::Numeric { values, integer } => Column::Numeric {
            values: rows.iter().map(|&i| values[i]).collect(),
            integer: *integer,
        },
        Column::Categorical { codes, levels } => Column::Categorical {
            codes: rows.iter().map(|&i| codes[i]).collect(),
            levels: levels.clone(),
        },
    }
}

/// A number as a level label: `3` for an integral value of an integer
/// column, else Rust's shortest round-trip form (`3.0`, `0.5`), as
/// [`Column::to_categorical`] labels them.
fn number_label(v: f64, integer: bool) -> String {
    if integer && v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// The label of row `i` of a (grouping) column, formatted as the training column's labels.
fn label_of(c: &Column, i: usize, training: Option<&TrainingColumn>) -> String {
    match c {
        Column::Categorical { codes, levels } => levels[codes[i] as usize].clone(),
        Column::Numeric { values, integer } => {
            let integer = match training {
                Some(TrainingColumn::Numeric { integer, .. }) => *integer,
                _ => *integer || values[i].fract() == 0.0,
            };
            number_label(values[i], integer)
        }
    }
}

/// The complete rows of a column in a fixed- or random-effects term, coded
/// against the training levels when it was a factor there.
fn recode(name: &str, c: &Column, training: &TrainingColumn, rows: &[usize]) -> Result<Column> {
    let (labels, codes): (Vec<String>, Vec<Option<u32>>) = match training {
        TrainingColumn::Numeric {
            factor_values: None,
            ..
        } => {
            return match c {
                Column::Numeric { .. } => Ok(take(c, rows)),
                Column::Categorical { .. } => Err(Error::wrong_type(
                    name,
                    name,
                    format!("`{name}` is categorical in the new data but was numeric in fitting"),
                )),
            }
        }
        TrainingColumn::Numeric {
            factor_values: Some(values),
            integer,
        } => {
            let labels: Vec<String> = values.iter().map(|&v| number_label(v, *integer)).collect();
            let codes = rows
                .iter()
                .map(|&i| {
                    let found = match c {
                        Column::Numeric { values: new, .. } => {
                            values.iter().position(|&v| v == new[i])
                        }
                        Column::Categorical { codes, levels } => {
                            let l = &levels[codes[i] as usize];
                            labels.iter().position(|t| t == l)
                        }
                    };
                    found.map(|p| p as u32)
                })
                .collect();
            (labels, codes)
        }
        TrainingColumn::Categorical { levels } => {
            let index: HashMap<&str, u32> = levels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.as_str(), i as u32))
                .collect();
            let codes = rows
                .iter()
                .map(|&i| index.get(label_of(c, i, None).as_str()).copied())
                .collect();
            (levels.clone(), codes)
        }
    };
    finish(name, c, rows, codes, labels)
}

/// The coded column, or an error naming the labels not among the training levels.
fn finish(
    name: &str,
    c: &Column,
    rows: &[usize],
    codes: Vec<Option<u32>>,
    levels: Vec<String>,
) -> Result<Column> {
    let mut unseen: Vec<String> = Vec::new();
    for (k, code) in codes.iter().enumerate() {
        let label = label_of(c, rows[k], None);
        if code.is_none() && !unseen.contains(&label) {
            unseen.push(label);
        }
    }
    if let Some(first) = unseen.first() {
        return Err(Error::Level {
            column: name.to_string(),
            level: first.clone(),
            message: format!(
                "not a level of the factor in the fitted model (new level{}: {}; the model's \
                 levels: {})",
                if unseen.len() == 1 { "" } else { "s" },
                abbreviate(&unseen, 12),
                abbreviate(&levels, 12)
            ),
        });
    }
    Ok(Column::Categorical {
        codes: codes.into_iter().map(|c| c.unwrap_or(0)).collect(),
        levels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terms::TermOptions;

    fn training() -> ModelTerms {
        let data = Data::new()
            .with_column("y", Column::numeric(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            .unwrap()
            .with_column("x", Column::numeric(vec![0.0, 1.0, 2.0, 1.0, 2.0, 0.0]))
            .unwrap()
            .with_column("f", Column::from_strings(&["a", "b", "c", "a", "b", "c"]))
            .unwrap()
            .with_column("g", Column::from_strings(&["p", "p", "p", "q", "q", "q"]))
            .unwrap();
        ModelTerms::new(
            "y ~ 1 + x + f + (1 + x | g)",
            &data,
            &TermOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn rows_are_coded_with_the_training_levels() {
        let terms = training();
        // New data list only two levels of `f`, in another order, and a new group `r`.
        let new = Data::new()
            .with_column("x", Column::numeric(vec![5.0, f64::NAN, 7.0]))
            .unwrap()
            .with_column(
                "f",
                Column::categorical(vec![0, 0, 1], vec!["c".into(), "a".into()]),
            )
            .unwrap()
            .with_column("g", Column::from_strings(&["q", "p", "r"]))
            .unwrap();
        let rows = NewRows::new(&terms, &new, true).unwrap();
        assert_eq!(rows.rows, vec![0, 2]);
        // Columns (Intercept), x, f: b, f: c.
        assert_eq!(rows.x, vec![1.0, 1.0, 5.0, 7.0, 0.0, 0.0, 1.0, 0.0]);
        let re = &rows.random[0];
        assert_eq!(re.refs, vec![Some(1), None]);
        assert_eq!(re.z, vec![1.0, 5.0, 1.0, 7.0]);
        assert_eq!(re.new_levels, vec!["r".to_string()]);
        // Without random effects `g` is not needed.
        let fixed_only = Data::new()
            .with_column("x", Column::numeric(vec![1.0]))
            .unwrap()
            .with_column("f", Column::from_strings(&["b"]))
            .unwrap();
        let rows = NewRows::new(&terms, &fixed_only, false).unwrap();
        assert_eq!(rows.x, vec![1.0, 1.0, 1.0, 0.0]);
        assert!(rows.random.is_empty());
    }

    #[test]
    fn a_new_level_of_a_fixed_factor_names_column_and_level() {
        let terms = training();
        let new = Data::new()
            .with_column("x", Column::numeric(vec![1.0, 2.0]))
            .unwrap()
            .with_column("f", Column::from_strings(&["a", "z"]))
            .unwrap()
            .with_column("g", Column::from_strings(&["p", "p"]))
            .unwrap();
        let e = NewRows::new(&terms, &new, true).unwrap_err();
        assert!(
            matches!(&e, Error::Level { column, level, .. } if column == "f" && level == "z"),
            "{e:?}"
        );
    }
}
