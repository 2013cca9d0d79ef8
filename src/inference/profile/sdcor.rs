//! The standard-deviation / correlation ("sdcor") coordinates of the
//! relative covariance Σ = λλᵀ of each random-effects term, one per θ entry:
//! a diagonal entry of λ corresponds to the standard deviation √Σ_rr of its
//! row, an off-diagonal entry (r, c) to the correlation Σ_rc / √(Σ_rr Σ_cc)
//! (lme4's `Cv_to_Sv` / `Sv_to_Cv` on the relative scale). Profiles fix one
//! of these coordinates and minimise over the others, as lme4's
//! `profile.merMod` does on its "sdcor" scale.
//!
//! The map back to θ is the Cholesky factor of Σ (positive diagonal). Every
//! λ the crate builds is block diagonal with full lower-triangular (or 1 × 1)
//! blocks, a pattern the Cholesky factor of such a Σ keeps, so the two maps
//! are inverse to each other up to the signs of λ's columns.

use crate::terms::ThetaLayout;

/// Relative tolerance below which a pivot of the Cholesky factor counts as
/// zero (a correlation of ±1, or a standard deviation of 0): a semidefinite
/// Σ is allowed, the entries below a zero pivot must then vanish too.
const PIVOT_TOL: f64 = 1e-10;

/// The size v of each term's λ (v × v), from the layout's entries (every
/// column of λ has its diagonal entry).
fn term_sizes(layout: &ThetaLayout) -> Vec<usize> {
    (0..layout.nterms())
        .map(|k| {
            layout.entries()[layout.term_range(k)]
                .iter()
                .map(|e| e.row + 1)
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The sdcor coordinates of θ: per θ entry the relative standard deviation
/// of its row (diagonal entry) or the correlation of its row and column
/// (off-diagonal entry; 0 where either standard deviation is 0).
pub fn sdcor_from_theta(layout: &ThetaLayout, theta: &[f64]) -> Vec<f64> {
    let sizes = term_sizes(layout);
    let lambdas = layout.lambdas(theta);
    layout
        .entries()
        .iter()
        .map(|e| {
            let (v, lam) = (sizes[e.term], &lambdas[e.term]);
            // Σ_rc = Σ_m λ_rm λ_cm with λ column-major (λ_rm at m·v + r).
            let sigma =
                |r: usize, c: usize| (0..v).map(|m| lam[m * v + r] * lam[m * v + c]).sum::<f64>();
            if e.is_diagonal() {
                sigma(e.row, e.row).sqrt()
            } else {
                let denom = (sigma(e.row, e.row) * sigma(e.col, e.col)).sqrt();
                if denom > 0.0 {
                    (sigma(e.row, e.col) / denom).clamp(-1.0, 1.0)
                } else {
                    0.0
                }
            }
        })
        .collect()
}

/// θ with the given sdcor coordinates (standard deviations ≥ 0, correlations
/// in [−1, 1]): the Cholesky factor of each term's Σ read at λ's entries.
/// None where the correlations of a term do not form a positive
/// semidefinite matrix (possible from three columns on).
pub fn theta_from_sdcor(layout: &ThetaLayout, sdcor: &[f64]) -> Option<Vec<f64>> {
    let sizes = term_sizes(layout);
    let mut theta = vec![0.0; layout.len()];
    for k in 0..layout.nterms() {
        let v = sizes[k];
        let range = layout.term_range(k);
        let entries = &layout.entries()[range.clone()];
        // Σ (row-major v × v, both triangles): sd_r sd_c cor_rc.
        let mut sd = vec![0.0; v];
        for (e, &x) in entries.iter().zip(&sdcor[range.clone()]) {
            if e.is_diagonal() {
                sd[e.row] = x;
            }
        }
        let mut s = vec![0.0; v * v];
        for r in 0..v {
            s[r * v + r] = sd[r] * sd[r];
        }
        for (e, &x) in entries.iter().zip(&sdcor[range.clone()]) {
            if !e.is_diagonal() {
                let value = sd[e.row] * sd[e.col] * x;
                s[e.row * v + e.col] = value;
                s[e.col * v + e.row] = value;
            }
        }
        let l = semidefinite_cholesky(&s, v)?;
        for (i, e) in range.zip(entries) {
            theta[i] = l[e.row * v + e.col];
        }
    }
    Some(theta)
}

/// The sdcor coordinates `others` (all but entry `k`, in θ order) made
/// consistent with entry `k` (a correlation) at `value`: where the
/// correlations of k's term do not form a covariance matrix, the term's other
/// correlations are shrunk toward 0 (by factors of 0.9) until they do. A
/// conditional fit at a correlation near ±1 may start from a neighbour's
/// optimum that is not a covariance any more.
pub fn feasible_others(layout: &ThetaLayout, k: usize, value: f64, others: &[f64]) -> Vec<f64> {
    let with_k = |x: &[f64]| {
        let mut full = x.to_vec();
        full.insert(k, value);
        full
    };
    if theta_from_sdcor(layout, &with_k(others)).is_some() {
        return others.to_vec();
    }
    let term = layout.entries()[k].term;
    // Indices into `others` of the term's other correlations.
    let shrink: Vec<usize> = layout
        .term_range(term)
        .filter(|&i| i != k && !layout.entries()[i].is_diagonal())
        .map(|i| if i > k { i - 1 } else { i })
        .collect();
    let mut x = others.to_vec();
    for _ in 0..200 {
        for &i in &shrink {
            x[i] *= 0.9;
        }
        if theta_from_sdcor(layout, &with_k(&x)).is_some() {
            return x;
        }
    }
    others.to_vec()
}

/// Lower Cholesky factor (row-major) of a symmetric positive semidefinite
/// v × v matrix; a zero pivot leaves its column below zero (and requires
/// the matching entries to vanish). None for an indefinite matrix.
fn semidefinite_cholesky(s: &[f64], v: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0f64; v * v];
    for j in 0..v {
        let scale = s[j * v + j].abs().max(f64::MIN_POSITIVE);
        let d = s[j * v + j] - (0..j).map(|m| l[j * v + m].powi(2)).sum::<f64>();
        if d < -PIVOT_TOL * scale {
            return None;
        }
        let pivot = d.max(0.0).sqrt();
        l[j * v + j] = pivot;
        for i in j + 1..v {
            let rest = s[i * v + j] - (0..j).map(|m| l[i * v + m] * l[j * v + m]).sum::<f64>();
            if pivot > PIVOT_TOL * scale.sqrt() {
                l[i * v + j] = rest / pivot;
            } else if rest.abs() > PIVOT_TOL * (scale * s[i * v + i].abs()).sqrt().max(1e-300) {
                return None;
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terms::ReTerm;

    fn layout(index: Vec<(usize, usize)>, ncols: usize) -> ThetaLayout {
        let term = ReTerm {
            grouping: "g".into(),
            column_names: (0..ncols).map(|i| format!("c{i}")).collect(),
            theta_index: index,
            levels: vec!["a".into()],
            refs: vec![0],
            z: vec![1.0; ncols],
        };
        ThetaLayout::new(&[term])
    }

    #[test]
    fn round_trip_full_term() {
        let lay = layout(vec![(0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (2, 2)], 3);
        let theta = [0.9, -0.3, 0.2, 0.5, 0.1, 0.4];
        let sc = sdcor_from_theta(&lay, &theta);
        // sd of row 1 = sqrt(0.09 + 0.25), cor(1, 0) = -0.3 / sd1
        assert!((sc[0] - 0.9).abs() < 1e-15);
        assert!((sc[3] - 0.34f64.sqrt()).abs() < 1e-15);
        assert!((sc[1] + 0.3 / 0.34f64.sqrt()).abs() < 1e-15);
        let back = theta_from_sdcor(&lay, &sc).unwrap();
        for (a, b) in back.iter().zip(&theta) {
            assert!((a - b).abs() < 1e-14, "{back:?}");
        }
    }

    #[test]
    fn perfect_correlation_and_zero_sd() {
        let lay = layout(vec![(0, 0), (1, 0), (1, 1)], 2);
        let th = theta_from_sdcor(&lay, &[2.0, 1.0, 0.5]).unwrap();
        assert_eq!(th, vec![2.0, 0.5, 0.0]);
        let th = theta_from_sdcor(&lay, &[0.0, 0.3, 0.5]).unwrap();
        assert_eq!(th, vec![0.0, 0.0, 0.5]);
        // correlations of three columns that no covariance matrix has
        let lay3 = layout(vec![(0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (2, 2)], 3);
        assert!(theta_from_sdcor(&lay3, &[1.0, 0.9, 0.9, 1.0, -0.9, 1.0]).is_none());
        // ... made consistent by shrinking the other correlations of the term
        let others = feasible_others(&lay3, 4, -0.9, &[1.0, 0.9, 0.9, 1.0, 1.0]);
        assert!(others[1].abs() < 0.9 && others[2].abs() < 0.9 && others[4] == 1.0);
        let mut full = others.clone();
        full.insert(4, -0.9);
        assert!(theta_from_sdcor(&lay3, &full).is_some());
    }
}
