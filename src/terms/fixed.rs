//! The fixed-effects term: the model matrix X with rank detection.
//!
//! Columns are examined in model order; a column whose component orthogonal
//! to the columns already kept is smaller than `RANK_TOL` times its own norm is
//! linearly dependent on them and is dropped. This keeps the intercept and the
//! earlier of two dependent columns, as R's `qr` (used by lme4) does.

use super::columns::Columns;

/// Relative tolerance of the rank decision (R's `qr` default).
pub const RANK_TOL: f64 = 1e-7;

/// The fixed-effects model matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct FeTerm {
    /// Names of all generated columns, kept or not.
    pub names: Vec<String>,
    /// Indices into `names` of the columns kept (X's columns, in order).
    pub kept: Vec<usize>,
    /// Indices into `names` of the columns dropped as linearly dependent.
    pub dropped: Vec<usize>,
    /// X (kept columns only), column-major, `nrows × kept.len()`.
    pub x: Vec<f64>,
    /// Number of rows.
    pub nrows: usize,
    /// For each of `names`, the index of the formula's fixed-effects term it
    /// came from (into `ModelSpec::fixed.terms`; `None` for the intercept):
    /// R's `assign` attribute of the model matrix, 0-based.
    pub term_of: Vec<Option<usize>>,
}

impl FeTerm {
    /// Build X from generated columns, dropping linearly dependent ones.
    pub fn new(columns: Columns, nrows: usize) -> Self {
        let (kept, dropped) = independent_columns(&columns.values, nrows);
        let mut x = Vec::with_capacity(nrows * kept.len());
        for &j in &kept {
            x.extend_from_slice(&columns.values[j]);
        }
        FeTerm {
            names: columns.names,
            kept,
            dropped,
            x,
            nrows,
            term_of: columns.term_of,
        }
    }

    /// Rank of X (number of kept columns).
    pub fn rank(&self) -> usize {
        self.kept.len()
    }

    /// Names of the kept columns (the coefficients of β).
    pub fn coef_names(&self) -> Vec<String> {
        self.kept.iter().map(|&j| self.names[j].clone()).collect()
    }

    /// Names of the dropped columns.
    pub fn dropped_names(&self) -> Vec<String> {
        self.dropped
            .iter()
            .map(|&j| self.names[j].clone())
            .collect()
    }

    /// The term index (see [`FeTerm::term_of`]) of each kept column of X.
    pub fn kept_term_of(&self) -> Vec<Option<usize>> {
        self.kept.iter().map(|&j| self.term_of[j]).collect()
    }

    /// Column `j` of X.
    pub fn column(&self, j: usize) -> &[f64] {
        &self.x[j * self.nrows..(j + 1) * self.nrows]
    }
}

/// Split column indices into (independent, dependent) by modified
/// Gram–Schmidt with one re-orthogonalisation pass.
fn independent_columns(cols: &[Vec<f64>], n: usize) -> (Vec<usize>, Vec<usize>) {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for (j, c) in cols.iter().enumerate() {
        let norm0 = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm0 == 0.0 {
            dropped.push(j);
            continue;
        }
        let mut r: Vec<f64> = c.iter().map(|v| v / norm0).collect();
        for _pass in 0..2 {
            for q in &basis {
                let d: f64 = q.iter().zip(&r).map(|(a, b)| a * b).sum();
                r.iter_mut().zip(q).for_each(|(ri, qi)| *ri -= d * qi);
            }
        }
        let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm < RANK_TOL {
            dropped.push(j);
        } else {
            r.iter_mut().for_each(|v| *v /= norm);
            basis.push(r);
            kept.push(j);
        }
        debug_assert_eq!(c.len(), n);
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_later_of_two_dependent_columns() {
        let n = 6;
        let one = vec![1.0; n];
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let x2: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        let z: Vec<f64> = (0..n).map(|i| ((i * i) % 5) as f64).collect();
        let cols = Columns {
            names: vec!["(Intercept)".into(), "x".into(), "x2".into(), "z".into()],
            values: vec![one, x, x2, z],
            term_of: vec![None, Some(0), Some(1), Some(2)],
        };
        let fe = FeTerm::new(cols, n);
        assert_eq!(fe.kept, vec![0, 1, 3]);
        assert_eq!(fe.dropped_names(), vec!["x2"]);
        assert_eq!(fe.column(2), &[0.0, 1.0, 4.0, 4.0, 1.0, 0.0]);
    }
}
