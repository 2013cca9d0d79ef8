//! Kenward and Roger's (1997) small-sample inference for REML fits of linear
//! mixed models, as pbkrtest computes it: the adjusted covariance Φ_A of β̂
//! and the scaled F statistic with its denominator degrees of freedom.
//!
//! # Variance structure
//!
//! The marginal covariance of y is Σ = Σᵢ γᵢ Gᵢ: one γ for every free entry
//! (r, c), r ≥ c, of each random-effects term's covariance matrix (the entries
//! λ may fill: all of the lower triangle for a full λ, the diagonal for an
//! uncorrelated one) with Gᵢ = Z_t (I_ℓ ⊗ E_rc) Z_tᵀ, E_rc = e_r e_cᵀ + e_c e_rᵀ
//! (e_r e_rᵀ on the diagonal), and the residual variance σ² with G = I.
//! Φ = cov(β̂) = (XᵀΣ⁻¹X)⁻¹. With Pᵢ = −XᵀΣ⁻¹GᵢΣ⁻¹X,
//! Qᵢⱼ = XᵀΣ⁻¹GᵢΣ⁻¹GⱼΣ⁻¹X and the expected REML information
//! Iᵢⱼ = ½[tr(Σ⁻¹GᵢΣ⁻¹Gⱼ) − 2tr(ΦQᵢⱼ) + tr(ΦPᵢΦPⱼ)], W = I⁻¹ (pbkrtest: 2·(2I)⁻¹,
//! a pseudo-inverse when 2I has an eigenvalue of magnitude ≤ 1e-10) and
//! Φ_A = Φ + 2Φ[Σᵢⱼ Wᵢⱼ(Qᵢⱼ − PᵢΦPⱼ)]Φ (the second derivatives of Σ vanish:
//! Σ is linear in γ).
//!
//! # Without n × n matrices
//!
//! pbkrtest forms Σ⁻¹ and the Gᵢ as n × n matrices. Here every quantity comes
//! from the (q + p)-square cross-product matrix C = JᵀJ of J = [Z X]: with
//! Σ = σ²(I + ZΛΛᵀZᵀ), Ω = ΛᵀZᵀZΛ + I, Y = ΛᵀZᵀJ and R = Ω⁻¹Y (Woodbury),
//!
//! * σ²·JᵀΣ⁻¹J = C − YᵀR =: S₁,
//! * σ⁴·JᵀΣ⁻²J = S₁ − RᵀR =: S₂,
//! * σ⁶·JᵀΣ⁻³J = S₂ − RᵀΩ⁻¹R,
//! * σ⁴·tr(Σ⁻²) = n − q + tr(Ω⁻²),
//!
//! (using ΛᵀZᵀ(σ²Σ⁻¹)J = R), and each Gᵢ enters as Z Cᵢ Zᵀ with Cᵢ a sparse
//! q × q pattern. Cost: O(n·k²) for C (k nonzeros per row of J) plus
//! O((q + p)³) dense algebra and O((q + p)²) memory; models with more than
//! [`KR_MAX_DIM`] random effects plus coefficients are refused.

use faer::Mat;

use super::linalg::{
    from_row_major, qform, row_rank, spd_inverse, sym_inverse_or_pinv, symmetrize, trace,
    trace_of_product,
};
use super::{check_lmm, reduce_hypothesis, shifted_beta, FTest, OneDimensional};
use crate::error::{Error, Result};
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;

/// The largest q + p (random effects plus coefficients) Kenward–Roger is
/// computed for (dense (q + p)-square matrices: 50 MB each at this size).
pub const KR_MAX_DIM: usize = 2500;

/// One variance parameter: an entry of a term's covariance, or σ².
#[derive(Debug, Clone, Copy)]
enum VarParam {
    /// Entry (r, c) of term t's covariance matrix.
    Entry { term: usize, r: usize, c: usize },
    /// The residual variance.
    Residual,
}

/// Everything Kenward–Roger needs of a REML fit: β̂, Φ, Φ_A, the Pᵢ and W.
#[derive(Debug, Clone)]
pub struct KenwardRoger {
    beta: Vec<f64>,
    phi: Mat<f64>,
    phi_adj: Mat<f64>,
    p_list: Vec<Mat<f64>>,
    w: Mat<f64>,
}

/// The random-effects layout: offsets of each term in b and (levels, columns).
struct ReLayout {
    offsets: Vec<usize>,
    dims: Vec<(usize, usize)>,
    q: usize,
}

impl KenwardRoger {
    /// Compute Φ_A of a fitted model. Fails (typed [`Error::Argument`] on
    /// `ddf`) unless the model is a REML fit without case weights, with σ
    /// estimated and at most [`KR_MAX_DIM`] random effects plus coefficients.
    pub fn new(m: &LinearMixedModel) -> Result<Self> {
        check_lmm(m)?;
        if !m.is_reml() {
            return Err(Error::argument(
                "ddf",
                "Kenward-Roger is defined for REML fits (as in pbkrtest and lmerTest); refit \
                 with reml=True or use \"satterthwaite\"",
            ));
        }
        if m.weights().is_some() {
            return Err(Error::argument(
                "ddf",
                "Kenward-Roger is not available for models with case weights; use \
                 \"satterthwaite\"",
            ));
        }
        let terms = m.terms();
        let p = m.rank();
        let mut offsets = Vec::new();
        let mut dims = Vec::new();
        let mut q = 0;
        for t in &terms.random {
            offsets.push(q);
            dims.push((t.nlevels(), t.ncols()));
            q += t.nranef();
        }
        if q + p > KR_MAX_DIM {
            return Err(Error::argument(
                "ddf",
                format!(
                    "Kenward-Roger needs dense matrices of order q + p = {} (random effects plus \
                     coefficients), more than the limit {KR_MAX_DIM}; use \"satterthwaite\"",
                    q + p
                ),
            ));
        }
        let re = ReLayout { offsets, dims, q };
        let params = variance_parameters(m);
        let beta = m.beta();
        let phi = symmetrize(&from_row_major(&m.vcov(), p));
        let sigma2 = m.sigma().powi(2);
        let s = whitened_products(m, &re)?;
        let (p_list, q_mats, k_mat) = structure_terms(&params, &re, &s, sigma2, p);
        let n_par = params.len();
        // 2·(expected information), pbkrtest's IE2.
        let mut ie2 = Mat::<f64>::zeros(n_par, n_par);
        for i in 0..n_par {
            let phi_pi = &phi * &p_list[i];
            for j in i..n_par {
                let qij = &q_mats[pair_index(i, j, n_par)];
                let v = k_mat[(i, j)] - 2.0 * elementwise_sum(&phi, qij)
                    + elementwise_sum(&phi_pi, &(&p_list[j] * &phi));
                ie2[(i, j)] = v;
                ie2[(j, i)] = v;
            }
        }
        let w = &sym_inverse_or_pinv(&ie2)? * 2.0;
        let mut uu = Mat::<f64>::zeros(p, p);
        for i in 0..n_par {
            for j in (i + 1)..n_par {
                let term = &q_mats[pair_index(i, j, n_par)] - &p_list[i] * &phi * &p_list[j];
                uu += &term * w[(i, j)];
            }
        }
        let mut uu = &uu + uu.transpose();
        for i in 0..n_par {
            let term = &q_mats[pair_index(i, i, n_par)] - &p_list[i] * &phi * &p_list[i];
            uu += &term * w[(i, i)];
        }
        let phi_adj = symmetrize(&(&phi + (&phi * &uu * &phi) * 2.0));
        Ok(KenwardRoger {
            beta,
            phi,
            phi_adj,
            p_list,
            w,
        })
    }

    /// The adjusted covariance Φ_A of β̂ (pbkrtest's `vcovAdj`).
    pub fn adjusted_vcov(&self) -> &Mat<f64> {
        &self.phi_adj
    }

    /// The estimate, adjusted standard error and df of lᵀβ (pbkrtest's `Lb_ddf`).
    pub fn one_dimensional(&self, l: &[f64]) -> OneDimensional {
        let estimate: f64 = l.iter().zip(&self.beta).map(|(a, b)| a * b).sum();
        let lm = Mat::from_fn(1, l.len(), |_, j| l[j]);
        let (df, _) = self.df_and_scaling(&lm, 1.0);
        OneDimensional {
            estimate,
            stderror: qform(l, &self.phi_adj).sqrt(),
            df,
        }
    }

    /// The scaled F test of Lβ = rhs (pbkrtest's `KRmodcomp` with the
    /// restriction matrix L; lmerTest's `contestMD`). Linearly dependent rows
    /// are reduced to independent ones first (the test is invariant to that).
    pub fn test(&self, l: &Mat<f64>, rhs: &[f64]) -> Result<FTest> {
        let reduced = reduce_hypothesis(l, rhs, &self.beta, &self.phi)?;
        let p = self.beta.len();
        let lr = Mat::from_fn(reduced.rows.len(), p, |i, j| reduced.rows[i][j]);
        let q = row_rank(&lr, 1e-10) as f64;
        let (df, scaling) = self.df_and_scaling(&lr, q);
        let beta_star = shifted_beta(l, rhs, &self.beta)?;
        let lb = &lr * Mat::from_fn(p, 1, |j, _| beta_star[j]);
        let inner = spd_inverse(&(&lr * &self.phi_adj * lr.transpose()))
            .ok_or_else(|| Error::argument("L", "L·Φ_A·Lᵀ is not positive definite"))?;
        let wald = (lb.transpose() * &inner * &lb)[(0, 0)];
        Ok(FTest::new(q as usize, df, scaling * wald / q))
    }

    /// Kenward and Roger's denominator df and F scaling for the rows of `l`
    /// of rank `q` (Kenward & Roger 1997, eqs. 10–12, as pbkrtest).
    fn df_and_scaling(&self, l: &Mat<f64>, q: f64) -> (f64, f64) {
        let Some(inner) = spd_inverse(&(l * &self.phi * l.transpose())) else {
            return (f64::NAN, f64::NAN);
        };
        let theta = l.transpose() * &inner * l;
        let theta_phi = &theta * &self.phi;
        let u: Vec<Mat<f64>> = self
            .p_list
            .iter()
            .map(|pi| &theta_phi * pi * &self.phi)
            .collect();
        let tr: Vec<f64> = u.iter().map(trace).collect();
        let (mut a1, mut a2) = (0.0, 0.0);
        let n = u.len();
        for i in 0..n {
            for j in i..n {
                let e = if i == j { 1.0 } else { 2.0 };
                a1 += e * self.w[(i, j)] * tr[i] * tr[j];
                a2 += e * self.w[(i, j)] * trace_of_product(&u[i], &u[j]);
            }
        }
        let b = (a1 + 6.0 * a2) / (2.0 * q);
        let g = ((q + 1.0) * a1 - (q + 4.0) * a2) / ((q + 2.0) * a2);
        let denom = 3.0 * q + 2.0 * (1.0 - g);
        let (c1, c2, c3) = (g / denom, (q - g) / denom, (q + 2.0 - g) / denom);
        let mut v0 = 1.0 + c1 * b;
        let v1 = 1.0 - c2 * b;
        let v2 = 1.0 - c3 * b;
        if v0.abs() < 1e-10 {
            v0 = 0.0;
        }
        let ratio = {
            let x = 1.0 - a2 / q;
            if x.abs() < 1e-14 && v1.abs() < 1e-14 {
                1.0
            } else {
                x / v1
            }
        };
        let rho = ratio * ratio * v0 / (q * v2);
        let df2 = 4.0 + (q + 2.0) / (q * rho - 1.0);
        let scaling = if (df2 - 2.0).abs() < 1e-2 {
            1.0
        } else {
            df2 * (1.0 - a2 / q) / (df2 - 2.0)
        };
        (df2, scaling)
    }
}

/// The variance parameters in pbkrtest's order: per term its free covariance
/// entries (column by column of the lower triangle), then σ².
fn variance_parameters(m: &LinearMixedModel) -> Vec<VarParam> {
    let mut out: Vec<VarParam> = Vec::new();
    for (t, term) in m.terms().random.iter().enumerate() {
        for &(r, c) in &term.theta_index {
            out.push(VarParam::Entry { term: t, r, c });
        }
    }
    out.push(VarParam::Residual);
    out
}

/// σ²ᵏ·JᵀΣ⁻ᵏJ for k = 1, 2, 3 and σ⁴·tr(Σ⁻²) (see the module notes).
struct Whitened {
    s1: Mat<f64>,
    s2: Mat<f64>,
    s3: Mat<f64>,
    trace_sigma2: f64,
}

fn whitened_products(m: &LinearMixedModel, re: &ReLayout) -> Result<Whitened> {
    let terms = m.terms();
    let n = terms.nobs();
    let p = m.rank();
    let q = re.q;
    let dim = q + p;
    // C = JᵀJ, row by row of J's nonzeros.
    let mut c = vec![0.0; dim * dim];
    let mut idx: Vec<(usize, f64)> = Vec::with_capacity(dim);
    for i in 0..n {
        idx.clear();
        for (t, term) in terms.random.iter().enumerate() {
            let v = term.ncols();
            let base = re.offsets[t] + term.refs[i] as usize * v;
            for j in 0..v {
                idx.push((base + j, term.z[i * v + j]));
            }
        }
        for col in 0..p {
            idx.push((q + col, terms.fixed.x[col * n + i]));
        }
        for &(a, va) in &idx {
            for &(b, vb) in &idx {
                c[a * dim + b] += va * vb;
            }
        }
    }
    let c = Mat::from_fn(dim, dim, |a, b| c[a * dim + b]);
    // Λ, block diagonal.
    let lambdas = m.lambdas();
    let mut lam = Mat::<f64>::zeros(q, q);
    for (t, &(nl, v)) in re.dims.iter().enumerate() {
        let lt = &lambdas[t];
        for l in 0..nl {
            let base = re.offsets[t] + l * v;
            for col in 0..v {
                for row in 0..v {
                    lam[(base + row, base + col)] = lt[col * v + row];
                }
            }
        }
    }
    let czz = c.as_ref().submatrix(0, 0, q, q).to_owned();
    let czj = c.as_ref().submatrix(0, 0, q, dim).to_owned();
    let mut omega = lam.transpose() * &czz * &lam;
    for i in 0..q {
        omega[(i, i)] += 1.0;
    }
    let omega_inv = spd_inverse(&omega).ok_or_else(|| Error::NotPositiveDefinite {
        term: "the random effects".into(),
        row: 0,
    })?;
    let y = lam.transpose() * &czj;
    let r = &omega_inv * &y;
    let s1 = symmetrize(&(&c - y.transpose() * &r));
    let s2 = symmetrize(&(&s1 - r.transpose() * &r));
    let s3 = symmetrize(&(&s2 - r.transpose() * &omega_inv * &r));
    let frob: f64 = (0..q)
        .flat_map(|i| (0..q).map(move |j| (i, j)))
        .map(|(i, j)| omega_inv[(i, j)].powi(2))
        .sum();
    Ok(Whitened {
        s1,
        s2,
        s3,
        trace_sigma2: n as f64 - q as f64 + frob,
    })
}

/// Cᵢ·M for the pattern of parameter `param` (rows of its term only).
fn apply_pattern(param: VarParam, re: &ReLayout, m: &Mat<f64>) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(m.nrows(), m.ncols());
    if let VarParam::Entry { term, r, c } = param {
        let (nl, v) = re.dims[term];
        for l in 0..nl {
            let a = re.offsets[term] + l * v + r;
            let b = re.offsets[term] + l * v + c;
            for k in 0..m.ncols() {
                out[(a, k)] += m[(b, k)];
                if r != c {
                    out[(b, k)] += m[(a, k)];
                }
            }
        }
    }
    out
}

/// Index of the pair (i, j), i ≤ j, in the upper triangle stored row by row.
fn pair_index(i: usize, j: usize, n: usize) -> usize {
    let (i, j) = if i <= j { (i, j) } else { (j, i) };
    i * n - i * (i + 1) / 2 + j
}

/// Σ_ab A_ab B_ab.
fn elementwise_sum(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            s += a[(i, j)] * b[(i, j)];
        }
    }
    s
}

/// The Pᵢ, the Qᵢⱼ (i ≤ j, upper triangle row by row) and the traces
/// tr(Σ⁻¹GᵢΣ⁻¹Gⱼ), all in Σ's own scale.
#[allow(clippy::type_complexity)]
fn structure_terms(
    params: &[VarParam],
    re: &ReLayout,
    s: &Whitened,
    sigma2: f64,
    p: usize,
) -> (Vec<Mat<f64>>, Vec<Mat<f64>>, Mat<f64>) {
    let q = re.q;
    let (s4, s6) = (sigma2 * sigma2, sigma2 * sigma2 * sigma2);
    let sub = |m: &Mat<f64>, r0, c0, nr, nc| m.as_ref().submatrix(r0, c0, nr, nc).to_owned();
    let s1_zx = sub(&s.s1, 0, q, q, p);
    let s1_zz = sub(&s.s1, 0, 0, q, q);
    let s2_zx = sub(&s.s2, 0, q, q, p);
    let s2_zz = sub(&s.s2, 0, 0, q, q);
    let s2_xx = sub(&s.s2, q, q, p, p);
    let s3_xx = sub(&s.s3, q, q, p, p);
    let n_par = params.len();
    // Per random parameter: Cᵢ S₁_ZX, S₁_ZZ Cᵢ S₁_ZX, Cᵢ S₁_ZZ.
    let cx: Vec<Option<Mat<f64>>> = params
        .iter()
        .map(|&pr| match pr {
            VarParam::Entry { .. } => Some(apply_pattern(pr, re, &s1_zx)),
            VarParam::Residual => None,
        })
        .collect();
    let scx: Vec<Option<Mat<f64>>> = cx.iter().map(|c| c.as_ref().map(|c| &s1_zz * c)).collect();
    let cz: Vec<Option<Mat<f64>>> = params
        .iter()
        .map(|&pr| match pr {
            VarParam::Entry { .. } => Some(apply_pattern(pr, re, &s1_zz)),
            VarParam::Residual => None,
        })
        .collect();
    let p_list: Vec<Mat<f64>> = (0..n_par)
        .map(|i| match &cx[i] {
            Some(c) => symmetrize(&(s1_zx.transpose() * c)) * (-1.0 / s4),
            None => &s2_xx * (-1.0 / s4),
        })
        .collect();
    let mut q_mats = Vec::with_capacity(n_par * (n_par + 1) / 2);
    let mut k = Mat::<f64>::zeros(n_par, n_par);
    for i in 0..n_par {
        for j in i..n_par {
            let qij = match (&cx[i], &cx[j]) {
                (Some(ci), Some(_)) => ci.transpose() * scx[j].as_ref().unwrap(),
                (Some(ci), None) => ci.transpose() * &s2_zx,
                (None, Some(cj)) => s2_zx.transpose() * cj,
                (None, None) => s3_xx.clone(),
            };
            q_mats.push(qij * (1.0 / s6));
            let kij = match (&cz[i], &cz[j]) {
                (Some(a), Some(b)) => trace_of_product(a, b) / s4,
                (Some(_), None) => trace(&apply_pattern(params[i], re, &s2_zz)) / s4,
                (None, Some(_)) => trace(&apply_pattern(params[j], re, &s2_zz)) / s4,
                (None, None) => s.trace_sigma2 / s4,
            };
            k[(i, j)] = kij;
            k[(j, i)] = kij;
        }
    }
    (p_list, q_mats, k)
}
