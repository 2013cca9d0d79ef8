//! Random-effects terms: one per grouping factor.
//!
//! A term holds the level of each observation (`refs`), the per-observation
//! model-matrix rows `z` of its `v` columns, and the pattern of its relative
//! covariance factor λ (`v × v`, lower triangular). Formula terms with the
//! same grouping factor are amalgamated: `(1|g) + (0+x|g)` is one term whose λ
//! is block diagonal (here diagonal). θ lists the structurally non-zero
//! entries of λ's lower triangle column by column.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::formula::RandomSpec;

use super::columns::build_columns;
use super::frame::ModelFrame;

/// A random-effects term: grouping factor, columns and λ pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct ReTerm {
    /// Name of the grouping factor (`Subject`, or `batch & cask` for an interaction).
    pub grouping: String,
    /// Labels of the levels that occur, in level order.
    pub levels: Vec<String>,
    /// Level index of each observation.
    pub refs: Vec<u32>,
    /// Names of the random-effects columns (`(Intercept)`, `Days`, …).
    pub column_names: Vec<String>,
    /// Row-major `n × v` values: `z[i * v + j]` is column `j` at observation `i`.
    pub z: Vec<f64>,
    /// `(row, col)` of each θ entry in λ, column by column of the lower triangle.
    pub theta_index: Vec<(usize, usize)>,
}

impl ReTerm {
    /// Number of levels ℓ of the grouping factor.
    pub fn nlevels(&self) -> usize {
        self.levels.len()
    }

    /// Number of columns v (random effects per level).
    pub fn ncols(&self) -> usize {
        self.column_names.len()
    }

    /// Number of random effects q = ℓ·v.
    pub fn nranef(&self) -> usize {
        self.nlevels() * self.ncols()
    }

    /// Number of θ parameters of this term.
    pub fn ntheta(&self) -> usize {
        self.theta_index.len()
    }

    /// Is λ diagonal (no correlation parameters)?
    pub fn is_diagonal(&self) -> bool {
        self.theta_index.iter().all(|(r, c)| r == c)
    }

    /// Sizes of the diagonal blocks of λ (columns that share θ entries form
    /// one block; a term amalgamated from several formula terms has several).
    pub fn block_sizes(&self) -> Vec<usize> {
        let v = self.ncols();
        let mut sizes = Vec::new();
        let mut start = 0;
        while start < v {
            // A block ends where no θ entry links a column at or after `end` to one before it.
            let mut end = start + 1;
            while end < v && self.theta_index.iter().any(|&(r, c)| c < end && r >= end) {
                end += 1;
            }
            sizes.push(end - start);
            start = end;
        }
        sizes
    }

    /// Lower bounds of θ: 0 on λ's diagonal, −∞ elsewhere.
    pub fn lower_bounds(&self) -> Vec<f64> {
        self.theta_index
            .iter()
            .map(|(r, c)| if r == c { 0.0 } else { f64::NEG_INFINITY })
            .collect()
    }

    /// Starting θ: 1 on the diagonal, 0 off it.
    pub fn initial_theta(&self) -> Vec<f64> {
        self.theta_index
            .iter()
            .map(|(r, c)| if r == c { 1.0 } else { 0.0 })
            .collect()
    }

    /// λ (column-major `v × v`, lower triangular) for this term's part of θ.
    pub fn lambda(&self, theta: &[f64]) -> Vec<f64> {
        let mut l = vec![0.0; self.ncols() * self.ncols()];
        self.lambda_into(theta, &mut l);
        l
    }

    /// Write λ for this term's part of θ into `out` (column-major `v × v`).
    pub fn lambda_into(&self, theta: &[f64], out: &mut [f64]) {
        let v = self.ncols();
        out.iter_mut().for_each(|x| *x = 0.0);
        for (&(r, c), &t) in self.theta_index.iter().zip(theta) {
            out[c * v + r] = t;
        }
    }

    /// The random effects b = Λu of this term from its spherical effects `u`,
    /// level by level (`u` and the result column-major `v × ℓ`, `lam`
    /// lower triangular column-major `v × v`).
    pub fn b_from_u(&self, lam: &[f64], u: &[f64]) -> Vec<f64> {
        let v = self.ncols();
        let mut b = vec![0.0; u.len()];
        for l in 0..self.nlevels() {
            for r in 0..v {
                b[l * v + r] = (0..=r).map(|c| lam[c * v + r] * u[l * v + c]).sum();
            }
        }
        b
    }
}

/// One formula term before amalgamation: its columns' names and values.
pub(crate) struct Piece {
    names: Vec<String>,
    values: Vec<Vec<f64>>,
    zerocorr: bool,
}

/// The columns of a term after amalgamation: names, row-major `n × v`
/// values, and the `(row, col)` of each θ entry in λ.
pub(crate) type TermColumns = (Vec<String>, Vec<f64>, Vec<(usize, usize)>);

/// Build the random-effects terms of a model, amalgamated by grouping factor
/// and ordered by decreasing number of random effects.
pub fn build_random(specs: &[RandomSpec], frame: &ModelFrame) -> Result<Vec<ReTerm>> {
    let mut terms = Vec::new();
    for (key, pieces) in random_pieces(specs, frame)? {
        terms.push(amalgamate(&key, pieces, frame)?);
    }
    // Stable sort: ties keep formula order.
    terms.sort_by_key(|t| std::cmp::Reverse(t.nranef()));
    Ok(terms)
}

/// The columns of every formula term, grouped by grouping factor in the
/// order the grouping factors first appear in the formula.
pub(crate) fn random_pieces(
    specs: &[RandomSpec],
    frame: &ModelFrame,
) -> Result<Vec<(Vec<String>, Vec<Piece>)>> {
    // Keyed by grouping variables; BTreeMap only for determinism, order kept in `order`.
    let mut pieces: BTreeMap<Vec<String>, Vec<Piece>> = BTreeMap::new();
    let mut order: Vec<Vec<String>> = Vec::new();
    for spec in specs {
        let cols = build_columns(&spec.effects, frame)?;
        if cols.names.is_empty() {
            return Err(Error::Term {
                term: spec.label.clone(),
                message: "has no random-effects columns".into(),
            });
        }
        let key = spec.grouping.clone();
        if !pieces.contains_key(&key) {
            order.push(key.clone());
        }
        pieces.entry(key).or_default().push(Piece {
            names: cols.names,
            values: cols.values,
            zerocorr: spec.zerocorr,
        });
    }
    Ok(order
        .into_iter()
        .map(|key| {
            let p = pieces.remove(&key).unwrap();
            (key, p)
        })
        .collect())
}

/// Join the pieces sharing one grouping factor into a single term.
fn amalgamate(grouping: &[String], pieces: Vec<Piece>, frame: &ModelFrame) -> Result<ReTerm> {
    let label = grouping.join(" & ");
    let (refs, levels) = grouping_factor(grouping, frame)?;
    if levels.len() < 2 {
        return Err(Error::Term {
            term: label.clone(),
            message: format!(
                "grouping factor has {} level{} in the data used; it needs at least two",
                levels.len(),
                if levels.len() == 1 { "" } else { "s" }
            ),
        });
    }
    let (column_names, z, theta_index) = amalgamate_columns(&label, &pieces, refs.len())?;
    Ok(ReTerm {
        grouping: label,
        levels,
        refs,
        column_names,
        z,
        theta_index,
    })
}

/// The columns of the pieces sharing the grouping factor `label` (n rows)
/// side by side, with λ's pattern (block diagonal over the pieces, diagonal
/// within a `zerocorr` piece).
pub(crate) fn amalgamate_columns(label: &str, pieces: &[Piece], n: usize) -> Result<TermColumns> {
    let v: usize = pieces.iter().map(|p| p.names.len()).sum();
    let mut column_names = Vec::with_capacity(v);
    let mut z = vec![0.0; n * v];
    let mut theta_index = Vec::new();
    let mut offset = 0;
    for p in pieces {
        let w = p.names.len();
        for (j, name) in p.names.iter().enumerate() {
            if column_names.contains(name) {
                return Err(Error::Term {
                    term: label.to_string(),
                    message: format!(
                        "random-effects column `{name}` appears twice for this grouping factor"
                    ),
                });
            }
            column_names.push(name.clone());
            for (i, val) in p.values[j].iter().enumerate() {
                z[i * v + offset + j] = *val;
            }
        }
        // θ order is column by column over the whole λ; collect and sort below.
        for c in 0..w {
            for r in c..w {
                if r == c || !p.zerocorr {
                    theta_index.push((offset + r, offset + c));
                }
            }
        }
        offset += w;
    }
    theta_index.sort_by_key(|&(r, c)| (c, r));
    Ok((column_names, z, theta_index))
}

/// Level index per row and level labels of a (possibly interaction) grouping
/// factor, keeping only levels that occur. Interaction levels are ordered
/// with the first factor varying slowest and labelled `a:b` (as R's `a:b`).
fn grouping_factor(vars: &[String], frame: &ModelFrame) -> Result<(Vec<u32>, Vec<String>)> {
    let factors: Vec<(Vec<u32>, Vec<String>)> = vars
        .iter()
        .map(|v| frame.grouping(v))
        .collect::<Result<_>>()?;
    let n = frame.nrows();
    if let [(codes, labels)] = factors.as_slice() {
        // One factor: renumber the levels that occur, keeping their order.
        let mut new_code = vec![u32::MAX; labels.len()];
        for &c in codes {
            new_code[c as usize] = 0;
        }
        let mut levels = Vec::new();
        for (old, slot) in new_code.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = levels.len() as u32;
                levels.push(labels[old].clone());
            }
        }
        let refs = codes.iter().map(|&c| new_code[c as usize]).collect();
        return Ok((refs, levels));
    }
    // Combined key per row, lexicographic in the factors' codes.
    let keys: Vec<Vec<u32>> = (0..n)
        .map(|i| factors.iter().map(|(c, _)| c[i]).collect())
        .collect();
    let mut used: Vec<&Vec<u32>> = keys.iter().collect();
    used.sort();
    used.dedup();
    let index: BTreeMap<&Vec<u32>, u32> = used
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    let refs = keys.iter().map(|k| index[k]).collect();
    let levels = used
        .iter()
        .map(|k| {
            k.iter()
                .zip(&factors)
                .map(|(&c, (_, lv))| lv[c as usize].as_str())
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect();
    Ok((refs, levels))
}
