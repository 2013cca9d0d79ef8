//! Is one model nested in another? Checked where it can be: the column space
//! of the fixed effects, and the random-effects terms level by level.
//!
//! A column x lies in the span of columns Q when the residual of projecting
//! it on them is small: ‖x − P x‖ ≤ [`NESTED_TOL`] · ‖x‖. The projection uses
//! an orthonormal basis built by modified Gram–Schmidt with one
//! re-orthogonalisation pass (the same construction as X's rank decision).

use crate::terms::{FeTerm, ReTerm};

/// Relative tolerance of the nesting checks: a column is in a span when its
/// residual after projection is at most this fraction of its norm.
pub const NESTED_TOL: f64 = 1e-8;

/// An orthonormal basis of the span of `columns`; a column whose residual
/// is at most [`NESTED_TOL`] times its norm adds nothing.
fn orthonormal_basis<C: AsRef<[f64]>>(columns: &[C]) -> Vec<Vec<f64>> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for c in columns {
        let (r, norm0) = residual(&basis, c.as_ref());
        let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm0 > 0.0 && norm > NESTED_TOL * norm0 {
            basis.push(r.into_iter().map(|v| v / norm).collect());
        }
    }
    basis
}

/// x minus its projection on `basis` (orthonormal), and ‖x‖.
fn residual(basis: &[Vec<f64>], x: &[f64]) -> (Vec<f64>, f64) {
    let norm0 = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut r = x.to_vec();
    for _pass in 0..2 {
        for q in basis {
            let d: f64 = q.iter().zip(&r).map(|(a, b)| a * b).sum();
            r.iter_mut().zip(q).for_each(|(ri, qi)| *ri -= d * qi);
        }
    }
    (r, norm0)
}

/// ‖x − P x‖ / ‖x‖ for the projection P on `basis` (0 for x = 0).
fn relative_residual(basis: &[Vec<f64>], x: &[f64]) -> f64 {
    let (r, norm0) = residual(basis, x);
    if norm0 == 0.0 {
        return 0.0;
    }
    r.iter().map(|v| v * v).sum::<f64>().sqrt() / norm0
}

/// The first column of `small`'s X (its name and relative residual) that is
/// not in the column space of `large`'s X, or None when X_small ⊆ span X_large.
pub fn fixed_not_nested(small: &FeTerm, large: &FeTerm) -> Option<(String, f64)> {
    let cols: Vec<&[f64]> = (0..large.rank()).map(|j| large.column(j)).collect();
    let basis = orthonormal_basis(&cols);
    let names = small.coef_names();
    (0..small.rank()).find_map(|j| {
        let r = relative_residual(&basis, small.column(j));
        (r > NESTED_TOL).then(|| (names[j].clone(), r))
    })
}

/// Do two grouping factors split the rows into the same groups (the same
/// factor, whatever its levels are called)?
fn same_groups(a: &ReTerm, b: &ReTerm) -> bool {
    if a.refs.len() != b.refs.len() || a.nlevels() != b.nlevels() {
        return false;
    }
    let mut map = vec![u32::MAX; a.nlevels()];
    for (&ra, &rb) in a.refs.iter().zip(&b.refs) {
        let m = &mut map[ra as usize];
        if *m == u32::MAX {
            *m = rb;
        } else if *m != rb {
            return false;
        }
    }
    true
}

/// Rows of each level of `term`.
fn rows_by_level(term: &ReTerm) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); term.nlevels()];
    for (i, &r) in term.refs.iter().enumerate() {
        out[r as usize].push(i);
    }
    out
}

/// Column `c` of `term`'s z on `rows`.
fn z_column(term: &ReTerm, c: usize, rows: &[usize]) -> Vec<f64> {
    let v = term.ncols();
    rows.iter().map(|&i| term.z[i * v + c]).collect()
}

/// Is every column of `small`'s z, within each group, in the span of
/// `large`'s columns on the same rows (the groups being the same)?
fn columns_nested(small: &ReTerm, large: &ReTerm) -> bool {
    rows_by_level(small).iter().all(|rows| {
        let cols: Vec<Vec<f64>> = (0..large.ncols())
            .map(|c| z_column(large, c, rows))
            .collect();
        let basis = orthonormal_basis(&cols);
        (0..small.ncols())
            .all(|c| relative_residual(&basis, &z_column(small, c, rows)) <= NESTED_TOL)
    })
}

/// The first random-effects term of `small` (its grouping factor's name) that
/// has no counterpart in `large`: a term of `large` grouping the rows the same
/// way whose columns span `small`'s within every group and which has at least
/// as many covariance parameters. None when every term has one.
pub fn random_not_nested(small: &[ReTerm], large: &[ReTerm]) -> Option<String> {
    small
        .iter()
        .find(|s| {
            !large
                .iter()
                .any(|l| same_groups(s, l) && l.ntheta() >= s.ntheta() && columns_nested(s, l))
        })
        .map(|s| s.grouping.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(names: &[&str], cols: &[Vec<f64>]) -> FeTerm {
        FeTerm {
            names: names.iter().map(|s| s.to_string()).collect(),
            kept: (0..cols.len()).collect(),
            dropped: vec![],
            x: cols.concat(),
            nrows: cols[0].len(),
            term_of: vec![None; cols.len()],
        }
    }

    fn re(grouping: &str, refs: &[u32], names: &[&str], z: Vec<f64>, ntheta: usize) -> ReTerm {
        let nlev = *refs.iter().max().unwrap() as usize + 1;
        ReTerm {
            grouping: grouping.into(),
            levels: (0..nlev).map(|l| l.to_string()).collect(),
            refs: refs.to_vec(),
            column_names: names.iter().map(|s| s.to_string()).collect(),
            z,
            theta_index: (0..ntheta).map(|k| (k, 0)).collect(),
        }
    }

    #[test]
    fn fixed_effects_nesting_is_by_column_space() {
        let one = vec![1.0; 6];
        let x: Vec<f64> = (0..6).map(f64::from).collect();
        let sq: Vec<f64> = x.iter().map(|v| v * v).collect();
        // 1 + x inside 1 + x + x²; reparametrised (x − 2, 3 + 2x) spans the same space.
        let small = fe(&["(Intercept)", "x"], &[one.clone(), x.clone()]);
        let large = fe(
            &["(Intercept)", "x", "x^2"],
            &[one.clone(), x.clone(), sq.clone()],
        );
        assert_eq!(fixed_not_nested(&small, &large), None);
        let shifted: Vec<f64> = x.iter().map(|v| v - 2.0).collect();
        let other: Vec<f64> = x.iter().map(|v| 3.0 + 2.0 * v).collect();
        let repar = fe(&["a", "b"], &[shifted, other]);
        assert_eq!(fixed_not_nested(&small, &repar), None);
        assert_eq!(fixed_not_nested(&repar, &small), None);
        // 1 + x² is not inside 1 + x: the residual of x² names it.
        let quad = fe(&["(Intercept)", "x^2"], &[one, sq]);
        let (name, r) = fixed_not_nested(&quad, &small).unwrap();
        assert_eq!(name, "x^2");
        assert!(r > 0.1, "{r}");
        // The tolerance is relative: perturbing x[0] by δ leaves a relative residual
        // of about 0.093 δ, so δ = 1e-6 (≈ 9e-8) is detected and δ = 1e-8 (≈ 9e-10) is not.
        let mut nearly = x.clone();
        nearly[0] += 1e-6;
        assert!(fixed_not_nested(&fe(&["x"], &[nearly]), &small).is_some());
        let mut within = x;
        within[0] += 1e-8;
        assert_eq!(fixed_not_nested(&fe(&["x"], &[within]), &small), None);
    }

    /// Is the one term `small` nested in the one term `large`?
    fn nested(small: &ReTerm, large: &ReTerm) -> bool {
        random_not_nested(std::slice::from_ref(small), std::slice::from_ref(large)).is_none()
    }

    #[test]
    fn random_effects_nesting_needs_the_groups_columns_and_parameters() {
        let refs = [0, 0, 0, 1, 1, 1, 2, 2, 2];
        let days: Vec<f64> = (0..9).map(|i| f64::from(i % 3)).collect();
        let ones = vec![1.0; 9];
        let slope: Vec<f64> = ones.iter().zip(&days).flat_map(|(&a, &b)| [a, b]).collect();
        let intercept = re("S", &refs, &["(Intercept)"], ones.clone(), 1);
        let full = re("S", &refs, &["(Intercept)", "Days"], slope.clone(), 3);
        let diag = re("S", &refs, &["(Intercept)", "Days"], slope, 2);
        assert!(nested(&intercept, &full));
        assert!(nested(&diag, &full));
        // More covariance parameters than the larger term: not nested.
        assert!(!nested(&full, &diag));
        // Columns not spanned: (0 + Days | S) is not inside (1 | S).
        let only_days = re("S", &refs, &["Days"], days, 1);
        assert!(!nested(&only_days, &intercept));
        // A factor grouping the rows differently is not a counterpart, whatever its name.
        let other = re(
            "S",
            &[0, 1, 2, 0, 1, 2, 0, 1, 2],
            &["(Intercept)"],
            ones.clone(),
            1,
        );
        assert!(!nested(&intercept, &other));
        // The same groups under another name (levels relabelled) are.
        let renamed = re("T", &[2, 2, 2, 0, 0, 0, 1, 1, 1], &["(Intercept)"], ones, 1);
        assert!(nested(&intercept, &renamed));
        // The first term without a counterpart is named.
        let terms = [intercept, only_days];
        assert_eq!(random_not_nested(&terms, &[renamed]), Some("S".into()));
        assert_eq!(random_not_nested(&terms[..1], &[]), Some("S".into()));
    }
}
