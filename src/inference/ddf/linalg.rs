//! Small dense helpers on faer matrices for the degrees-of-freedom methods:
//! row-major conversions, quadratic forms, the symmetric pseudo-inverse and
//! least-squares projections.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use crate::error::{Error, Result};

/// A p × p matrix from row-major values.
pub fn from_row_major(v: &[f64], p: usize) -> Mat<f64> {
    Mat::from_fn(p, p, |i, j| v[i * p + j])
}

/// A matrix from rows (all of length `ncols`).
pub fn from_rows(rows: &[Vec<f64>], ncols: usize) -> Mat<f64> {
    Mat::from_fn(rows.len(), ncols, |i, j| rows[i][j])
}

/// xᵀ A x.
pub fn qform(x: &[f64], a: &Mat<f64>) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        let mut r = 0.0;
        for j in 0..n {
            r += a[(i, j)] * x[j];
        }
        s += x[i] * r;
    }
    s
}

/// (A + Aᵀ)/2.
pub fn symmetrize(a: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| 0.5 * (a[(i, j)] + a[(j, i)]))
}

/// Eigenvalues (decreasing) and eigenvectors (columns, same order) of a
/// symmetric matrix.
pub fn sym_eigen(a: &Mat<f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    let n = a.nrows();
    let evd = symmetrize(a)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| Error::Convergence {
            message: "the eigendecomposition of a symmetric matrix did not converge".into(),
        })?;
    let s = evd.S();
    let u = evd.U();
    // faer sorts increasing; reverse to decreasing as R's eigen().
    let values: Vec<f64> = (0..n).rev().map(|i| s[i]).collect();
    let vectors = Mat::from_fn(n, n, |i, j| u[(i, n - 1 - j)]);
    Ok((values, vectors))
}

/// The pseudo-inverse of a symmetric matrix over its eigenvalues above
/// `tol` (absolute), and the number of eigenvalues kept.
pub fn sym_pinv_positive(a: &Mat<f64>, tol: f64) -> Result<(Mat<f64>, usize)> {
    let n = a.nrows();
    let (values, vectors) = sym_eigen(a)?;
    let keep: Vec<usize> = (0..n).filter(|&k| values[k] > tol).collect();
    let inv = Mat::from_fn(n, n, |i, j| {
        keep.iter()
            .map(|&k| vectors[(i, k)] * vectors[(j, k)] / values[k])
            .sum()
    });
    Ok((inv, keep.len()))
}

/// The inverse of a symmetric positive definite matrix (None when it is not).
pub fn spd_inverse(a: &Mat<f64>) -> Option<Mat<f64>> {
    let llt = symmetrize(a).llt(Side::Lower).ok()?;
    Some(symmetrize(&llt.inverse()))
}

/// The inverse of a symmetric matrix: Cholesky when positive definite, else
/// the pseudo-inverse over eigenvalues of magnitude above 1e-10 (as
/// pbkrtest's choice between `solve` and `ginv`).
pub fn sym_inverse_or_pinv(a: &Mat<f64>) -> Result<Mat<f64>> {
    let n = a.nrows();
    let (values, vectors) = sym_eigen(a)?;
    let smallest = values.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
    if smallest > 1e-10 {
        if let Some(inv) = spd_inverse(a) {
            return Ok(inv);
        }
        let lu = symmetrize(a).partial_piv_lu();
        return Ok(lu.inverse());
    }
    let top = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let keep: Vec<usize> = (0..n)
        .filter(|&k| values[k].abs() > 1e-10 * top.max(1.0))
        .collect();
    Ok(Mat::from_fn(n, n, |i, j| {
        keep.iter()
            .map(|&k| vectors[(i, k)] * vectors[(j, k)] / values[k])
            .sum()
    }))
}

/// Trace of a square matrix.
pub fn trace(a: &Mat<f64>) -> f64 {
    (0..a.nrows()).map(|i| a[(i, i)]).sum()
}

/// Σ_ij A_ij B_ji = tr(AB).
pub fn trace_of_product(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            s += a[(i, j)] * b[(j, i)];
        }
    }
    s
}

/// Numerical rank of the rows of `l` (singular values above `tol` times the largest).
pub fn row_rank(l: &Mat<f64>, tol: f64) -> usize {
    if l.nrows() == 0 || l.ncols() == 0 {
        return 0;
    }
    let gram = l * l.transpose();
    let (values, _) = match sym_eigen(&gram) {
        Ok(v) => v,
        Err(_) => return 0,
    };
    let top = values.first().copied().unwrap_or(0.0).max(0.0);
    values
        .iter()
        .filter(|&&v| v > tol * tol * top && v > 0.0)
        .count()
}
