//! Contrast codings of categorical variables.
//!
//! A coding turns a factor with `k` levels into a `k × m` matrix whose row `i`
//! holds the model-matrix entries of an observation at level `i`. With an
//! intercept in the model `m = k - 1` (a contrast coding); without one the
//! factor gets all `k` indicator columns (full dummy coding), as in R and
//! StatsModels.jl.

use crate::error::{Error, Result};

/// How to code a categorical variable in a model matrix.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Coding {
    /// Treatment coding: one indicator per level except the base level
    /// (the first level unless `base` names another).
    #[default]
    Dummy,
    /// Treatment coding with an explicit base (reference) level.
    DummyBase(String),
    /// Effects (sum-to-zero) coding: the base level (first unless given) is -1 in every column.
    Effects(Option<String>),
    /// Helmert coding: level `j+1` against the mean of the levels before it.
    Helmert,
    /// Sequential differences: coefficient `j` is the difference between levels `j+1` and `j`.
    SeqDiff,
    /// Hypothesis coding: rows of `hypotheses` (`(k-1) × k`, row-major) are
    /// the contrasts to estimate; the coding is its pseudo-inverse. `labels`
    /// name the columns (defaults: `H1`, `H2`, …).
    Hypothesis {
        /// The `k - 1` hypothesis rows, each of length `k` (one entry per level).
        hypotheses: Vec<Vec<f64>>,
        /// Names of the coded columns (None: `H1`, `H2`, …).
        labels: Option<Vec<String>>,
    },
    /// Indicator columns for every level.
    FullDummy,
}

/// A contrast matrix with the labels of its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ContrastMatrix {
    /// Number of levels (rows).
    pub nlevels: usize,
    /// Column-major `nlevels × labels.len()` values.
    pub values: Vec<f64>,
    /// One label per column (a level name or a hypothesis label).
    pub labels: Vec<String>,
}

impl ContrastMatrix {
    /// Entry at (level, column).
    pub fn get(&self, level: usize, column: usize) -> f64 {
        self.values[column * self.nlevels + level]
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.labels.len()
    }
}

impl Coding {
    /// The contrast matrix of this coding for a factor `var` with `levels`.
    ///
    /// `full` asks for the full indicator coding (the factor appears in a term
    /// whose margin is absent from the model, e.g. a model without intercept).
    pub fn matrix(&self, var: &str, levels: &[String], full: bool) -> Result<ContrastMatrix> {
        let k = levels.len();
        if full || matches!(self, Coding::FullDummy) {
            return Ok(indicators(levels, (0..k).collect()));
        }
        if k < 2 {
            return Err(Error::Column {
                column: var.to_string(),
                message: format!(
                    "has a single level ({:?}); a contrast needs two or more",
                    levels.first().map(String::as_str).unwrap_or("")
                ),
            });
        }
        let base_index = |base: &Option<String>| -> Result<usize> {
            match base {
                None => Ok(0),
                Some(b) => levels
                    .iter()
                    .position(|l| l == b)
                    .ok_or_else(|| Error::Level {
                        column: var.to_string(),
                        level: b.clone(),
                        message: "is not among its levels, so it cannot be the base level".into(),
                    }),
            }
        };
        match self {
            Coding::Dummy => Ok(indicators(levels, (1..k).collect())),
            Coding::DummyBase(b) => {
                let base = base_index(&Some(b.clone()))?;
                Ok(indicators(levels, (0..k).filter(|&i| i != base).collect()))
            }
            Coding::Effects(b) => {
                let base = base_index(b)?;
                let kept: Vec<usize> = (0..k).filter(|&i| i != base).collect();
                let mut m = indicators(levels, kept);
                for j in 0..m.ncols() {
                    m.values[j * k + base] = -1.0;
                }
                Ok(m)
            }
            Coding::Helmert => {
                let mut values = vec![0.0; k * (k - 1)];
                for j in 0..k - 1 {
                    for i in 0..=j {
                        values[j * k + i] = -1.0;
                    }
                    values[j * k + j + 1] = (j + 1) as f64;
                }
                Ok(ContrastMatrix {
                    nlevels: k,
                    values,
                    labels: levels[1..].to_vec(),
                })
            }
            Coding::SeqDiff => {
                let kf = k as f64;
                let mut values = vec![0.0; k * (k - 1)];
                for j in 0..k - 1 {
                    let c = (j + 1) as f64;
                    for i in 0..k {
                        values[j * k + i] = if i <= j { -(kf - c) / kf } else { c / kf };
                    }
                }
                Ok(ContrastMatrix {
                    nlevels: k,
                    values,
                    labels: levels[1..].to_vec(),
                })
            }
            Coding::Hypothesis { hypotheses, labels } => {
                hypothesis_matrix(var, levels, hypotheses, labels)
            }
            Coding::FullDummy => unreachable!("handled above"),
        }
    }
}

/// Indicator columns for the levels in `kept`.
fn indicators(levels: &[String], kept: Vec<usize>) -> ContrastMatrix {
    let k = levels.len();
    let mut values = vec![0.0; k * kept.len()];
    for (j, &i) in kept.iter().enumerate() {
        values[j * k + i] = 1.0;
    }
    ContrastMatrix {
        nlevels: k,
        values,
        labels: kept.iter().map(|&i| levels[i].clone()).collect(),
    }
}

/// The pseudo-inverse `H'(HH')⁻¹` of a full-row-rank hypothesis matrix `H`.
fn hypothesis_matrix(
    var: &str,
    levels: &[String],
    hypotheses: &[Vec<f64>],
    labels: &Option<Vec<String>>,
) -> Result<ContrastMatrix> {
    let k = levels.len();
    let m = hypotheses.len();
    let bad = |message: String| Error::Column {
        column: var.to_string(),
        message,
    };
    if m != k - 1 || hypotheses.iter().any(|r| r.len() != k) {
        return Err(bad(format!(
            "hypothesis matrix must be {} × {} (levels: {}), got {} rows",
            k - 1,
            k,
            k,
            m
        )));
    }
    if let Some(l) = labels {
        if l.len() != m {
            return Err(bad(format!(
                "{} hypothesis labels for {} hypotheses",
                l.len(),
                m
            )));
        }
    }
    // G = H H' (m × m), then solve G Y = H for Y (m × k); the coding is Y'.
    let mut g = vec![0.0; m * m];
    for a in 0..m {
        for b in 0..m {
            g[a * m + b] = (0..k).map(|i| hypotheses[a][i] * hypotheses[b][i]).sum();
        }
    }
    let mut y: Vec<Vec<f64>> = hypotheses.to_vec();
    gauss_jordan(&mut g, &mut y, m)
        .map_err(|_| bad("hypothesis matrix is not of full row rank".into()))?;
    let mut values = vec![0.0; k * m];
    for j in 0..m {
        for i in 0..k {
            values[j * k + i] = y[j][i];
        }
    }
    let labels = labels
        .clone()
        .unwrap_or_else(|| (1..=m).map(|j| format!("H{j}")).collect());
    Ok(ContrastMatrix {
        nlevels: k,
        values,
        labels,
    })
}

/// Solve `G Y = R` in place (`G` m × m row-major, `R` m rows) by Gauss–Jordan
/// elimination with partial pivoting.
fn gauss_jordan(g: &mut [f64], r: &mut [Vec<f64>], m: usize) -> std::result::Result<(), ()> {
    let scale = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for c in 0..m {
        let p = (c..m)
            .max_by(|&a, &b| g[a * m + c].abs().total_cmp(&g[b * m + c].abs()))
            .unwrap();
        if g[p * m + c].abs() <= 1e-12 * scale {
            return Err(());
        }
        for j in 0..m {
            g.swap(c * m + j, p * m + j);
        }
        r.swap(c, p);
        let piv = g[c * m + c];
        for row in 0..m {
            if row == c {
                continue;
            }
            let f = g[row * m + c] / piv;
            if f == 0.0 {
                continue;
            }
            for j in 0..m {
                g[row * m + j] -= f * g[c * m + j];
            }
            let (src, dst) = if row < c {
                let (a, b) = r.split_at_mut(c);
                (&b[0], &mut a[row])
            } else {
                let (a, b) = r.split_at_mut(row);
                (&a[c], &mut b[0])
            };
            for (d, s) in dst.iter_mut().zip(src) {
                *d -= f * s;
            }
        }
    }
    for c in 0..m {
        let piv = g[c * m + c];
        r[c].iter_mut().for_each(|v| *v /= piv);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("l{i}")).collect()
    }

    fn rows(m: &ContrastMatrix) -> Vec<Vec<f64>> {
        (0..m.nlevels)
            .map(|i| (0..m.ncols()).map(|j| m.get(i, j)).collect())
            .collect()
    }

    #[test]
    fn dummy_and_full() {
        let m = Coding::Dummy.matrix("f", &lv(3), false).unwrap();
        assert_eq!(rows(&m), vec![vec![0., 0.], vec![1., 0.], vec![0., 1.]]);
        assert_eq!(m.labels, vec!["l1", "l2"]);
        let m = Coding::DummyBase("l2".into())
            .matrix("f", &lv(3), false)
            .unwrap();
        assert_eq!(m.labels, vec!["l0", "l1"]);
        let m = Coding::Dummy.matrix("f", &lv(3), true).unwrap();
        assert_eq!(m.ncols(), 3);
    }

    #[test]
    fn effects_helmert_seqdiff() {
        let m = Coding::Effects(None).matrix("f", &lv(3), false).unwrap();
        assert_eq!(rows(&m), vec![vec![-1., -1.], vec![1., 0.], vec![0., 1.]]);
        let m = Coding::Helmert.matrix("f", &lv(3), false).unwrap();
        assert_eq!(rows(&m), vec![vec![-1., -1.], vec![1., -1.], vec![0., 2.]]);
        let m = Coding::SeqDiff.matrix("f", &lv(3), false).unwrap();
        let r = rows(&m);
        let expect = [
            [-2. / 3., -1. / 3.],
            [1. / 3., -1. / 3.],
            [1. / 3., 2. / 3.],
        ];
        for i in 0..3 {
            for j in 0..2 {
                assert!((r[i][j] - expect[i][j]).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn hypothesis_inverts_seqdiff() {
        // Hypotheses "l1 - l0" and "l2 - l1" give back the sequential-difference coding.
        let h = vec![vec![-1., 1., 0.], vec![0., -1., 1.]];
        let m = Coding::Hypothesis {
            hypotheses: h,
            labels: None,
        }
        .matrix("f", &lv(3), false)
        .unwrap();
        let s = Coding::SeqDiff.matrix("f", &lv(3), false).unwrap();
        for (a, b) in m.values.iter().zip(&s.values) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        assert_eq!(m.labels, vec!["H1", "H2"]);
    }

    #[test]
    fn errors_name_the_column() {
        let e = Coding::DummyBase("zz".into())
            .matrix("f", &lv(3), false)
            .unwrap_err();
        assert!(
            matches!(&e, Error::Level { column, level, .. } if column == "f" && level == "zz"),
            "{e:?}"
        );
        let e = Coding::Dummy.matrix("g", &lv(1), false).unwrap_err();
        assert!(e.to_string().contains("`g`"));
        let e = Coding::Hypothesis {
            hypotheses: vec![vec![1., -1., 0.], vec![2., -2., 0.]],
            labels: None,
        }
        .matrix("h", &lv(3), false)
        .unwrap_err();
        assert!(e.to_string().contains("rank"));
    }
}
