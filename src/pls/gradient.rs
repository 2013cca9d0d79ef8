//! Derivatives with respect to θ of the quantities the profiled objectives
//! are made of: the log-determinants and the penalised residual sum of
//! squares, read off the factor L at the installed θ.
//!
//! # Formulas
//!
//! Write P = diag(Λ, I_p), Ã = [Z X]ᵀW[Z X] (A without the response row) and
//! J = diag(I_q, 0), so that the leading (q + p) × (q + p) part of L Lᵀ is
//! Ω = PᵀÃP + J, with log det Ω = log|L_Z|² + log|R_X|²; its random-effects
//! part Ω_Z = ΛᵀZᵀWZΛ + I has log det Ω_Z = log|L_Z|². A θ entry k sits at
//! (row r, column c) of term t's λ, so ∂Λ/∂θ_k = D_k is, in every level l of
//! term t, the single entry 1 at (l·v + r, l·v + c); ∂P/∂θ_k = diag(D_k, 0).
//!
//! * Log-determinants. ∂ log det Ω = tr(Ω⁻¹ ∂Ω) with
//!   ∂Ω = D_kᵀ(ÃP)_Z + (PᵀÃ)_Z D_k, two transposed terms of equal trace, so
//!
//!   ∂ log det Ω / ∂θ_k = 2 Σ_l e_{l,c}ᵀ Ω⁻¹ w_{l,r},  w_{l,r} = PᵀÃ e_{l,r},
//!
//!   where e_{l,c} is the unit vector of random effect (t, l, c) and w_{l,r}
//!   is column (t, l, r) of Ã with each other level's part multiplied by
//!   that term's λᵀ (the X part unscaled). w is sparse: the pattern of A's
//!   column, within L's. So the sum is Σ over A's non-zeros of term t's
//!   columns of an entry of Z = Ω⁻¹ on L's pattern, the selected inverse
//!   ([`SelectedInverse`]) times A's entry. With X (`include_x`) this is the
//!   derivative of log|L_Z|² + log|R_X|² (REML); without X (Ω_Z, the Z rows
//!   only, the leading part of L) that of log|L_Z|² (ML). No λ⁻¹ appears,
//!   so the formula holds on the boundary (λ singular) too.
//! * Penalised residual sum of squares. r²(θ) = min over (β, u) of
//!   ‖W^{1/2}(y − Xβ − ZΛu)‖² + ‖u‖²; the minimiser (β̂, û) makes the partial
//!   derivatives in β and u vanish (envelope theorem), so with
//!   e = y − Xβ̂ − ZΛû,
//!
//!   ∂r²/∂θ_k = −2 eᵀW Z D_k û = −2 Σ_l (ZᵀWe)_{l,r} û_{l,c}.
//!
//! # Cost
//!
//! The selected inverse costs about 2t³/3 flops for the dense trailing part
//! of L (t rows, in parallel) and the square of each prefix column's pattern
//! per level (see `blocks::selected_inverse`); the sum over A's non-zeros
//! O(nnz(A)·v²); ZᵀWe, read off A, O(nnz(A)·v) (no pass over the rows).

use super::PlsEngine;
use crate::blocks::{tri, Block, RowNorms, SelectedInverse, SparseQuadratic};

/// Most values (t·(t + |P|), t the size of the dense trailing part of L_Z
/// and |P| of its block-diagonal prefix) of the precomputed solves of
/// [`PlsEngine::logdet_weight_gradient`]: 4M values, 32 MB (InstEval's
/// `(1 | s) + (1 | d) + (1 | dept)` needs about 3.4M); beyond that the
/// per-observation dense quadratic forms of [`SparseQuadratic`] are used.
const ROW_NORMS_MAX_ENTRIES: usize = 1 << 22;
use crate::terms::ThetaLayout;

/// ⟨A, B⟩ = Σ A_ij B_ij of two matrices of the same shape.
fn frobenius(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> f64 {
    debug_assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    (0..a.ncols())
        .map(|c| {
            let (x, y) = (a.col(c), b.col(c));
            (0..a.nrows()).map(|r| x[r] * y[r]).sum::<f64>()
        })
        .sum()
}

impl PlsEngine {
    /// The gradient with respect to θ (in `layout`'s order) of log|L_Z|²
    /// (`include_x = false`, the ML log-determinant) or of
    /// log|L_Z|² + log|R_X|² (`include_x = true`, REML's), at the installed
    /// θ and the current factor: 2 Σ_l e_{l,c}ᵀ Ω⁻¹ PᵀÃ e_{l,r} per θ entry
    /// (module docs), read off the selected inverse of Ω. Exact (no
    /// differencing); valid on the boundary.
    pub fn logdet_gradient(&self, layout: &ThetaLayout, include_x: bool) -> Vec<f64> {
        let st = &self.structure;
        let include_x = include_x && st.p > 0;
        let z = SelectedInverse::new(&self.l, st, include_x, self.ws.par);
        let mut grad = vec![0.0; layout.len()];
        for t in 0..st.nterms {
            let range = layout.term_range(t);
            if range.is_empty() {
                continue;
            }
            let v = st.v[t];
            let trace = self.term_trace(&z, t, include_x);
            for (g, e) in grad[range.clone()].iter_mut().zip(&layout.entries()[range]) {
                *g = 2.0 * trace[e.col * v + e.row];
            }
        }
        grad
    }

    /// G_t[c, r] = Σ_l (Ω⁻¹ PᵀÃ)[(t, l, c), (t, l, r)] for term t, stored at
    /// `c·v + r`: the sum over the non-zeros of A's columns of term t (its
    /// own block, the blocks it shares with the other terms, and X's when
    /// `include_x`) of Z's entry times A's, each other term's rows scaled by
    /// its λᵀ.
    fn term_trace(&self, z: &SelectedInverse, t: usize, include_x: bool) -> Vec<f64> {
        let st = &self.structure;
        let k = st.nterms;
        let vt = st.v[t];
        let mut trace = vec![0.0; vt * vt];
        let mut scaled = Vec::new();
        // For level l of t and level m of block s: B = λ_sᵀ A_(s,m),(t,l)
        // (vs × vt, `a(b, r)` = A's entry), then G[c, r] += Σ_b' Z[(t,l,c),(s,m,b')] B[b', r]
        // (`z(c, b')` = Z's entry).
        let mut add =
            |s: usize, a: &dyn Fn(usize, usize) -> f64, z: &dyn Fn(usize, usize) -> f64| {
                let vs = if s < k { st.v[s] } else { 1 };
                if vt == 1 && vs == 1 {
                    let lam = if s < k { self.lambdas[s][0] } else { 1.0 };
                    trace[0] += z(0, 0) * lam * a(0, 0);
                    return;
                }
                scaled.clear();
                scaled.resize(vs * vt, 0.0);
                for r in 0..vt {
                    for bp in 0..vs {
                        scaled[r * vs + bp] = if s < k {
                            let lam = &self.lambdas[s];
                            (bp..vs).map(|b| lam[bp * vs + b] * a(b, r)).sum()
                        } else {
                            a(bp, r)
                        };
                    }
                }
                for c in 0..vt {
                    for bp in 0..vs {
                        let zc = z(c, bp);
                        if zc != 0.0 {
                            for r in 0..vt {
                                trace[c * vt + r] += zc * scaled[r * vs + bp];
                            }
                        }
                    }
                }
            };
        // Z's entry by (block, row) pairs, for blocks read without a pattern.
        let entry = |l: usize, s: usize, m: usize| {
            let vs = if s < k { st.v[s] } else { 1 };
            move |c: usize, bp: usize| z.get(t, l * vt + c, s, m * vs + bp)
        };
        // Term t's own diagonal block.
        let Block::Diag(d) = &self.a[tri(t, t)] else {
            unreachable!("diagonal blocks of A are block diagonal")
        };
        for l in 0..st.nlevels[t] {
            let blk = d.block(l);
            add(t, &|b, r| blk[r * vt + b], &entry(l, t, l));
        }
        // Earlier terms s < t: A[t, s], rows of t. Where Z's block is sparse it
        // has A's pattern (L's), stored block by stored block.
        for s in 0..t {
            let vs = st.v[s];
            match (&self.a[tri(t, s)], z.off_block(t, s)) {
                (Block::Sparse(sp), Some(Block::Sparse(zs))) => {
                    for m in 0..sp.ncol_blocks {
                        for kk in sp.colptr[m]..sp.colptr[m + 1] {
                            let (blk, zb) = (sp.block(kk), zs.block(kk));
                            add(s, &|b, r| blk[b * vt + r], &|c, bp| zb[bp * vt + c]);
                        }
                    }
                }
                (Block::Sparse(sp), _) => {
                    for m in 0..sp.ncol_blocks {
                        for kk in sp.colptr[m]..sp.colptr[m + 1] {
                            let blk = sp.block(kk);
                            let l = sp.rowidx[kk] as usize;
                            add(s, &|b, r| blk[b * vt + r], &entry(l, s, m));
                        }
                    }
                }
                (Block::Dense(dm), Some(Block::Dense(zm))) if vt == 1 && vs == 1 => {
                    // Scalar terms, both dense with the same shape: λ_s ⟨Z, A⟩.
                    let sum = frobenius(dm, zm);
                    add(s, &|_, _| sum, &|_, _| 1.0);
                }
                (Block::Dense(dm), _) => {
                    for m in 0..st.nlevels[s] {
                        for l in 0..st.nlevels[t] {
                            add(s, &|b, r| dm[(l * vt + r, m * vs + b)], &entry(l, s, m));
                        }
                    }
                }
                (Block::Diag(_) | Block::Packed(_), _) => {
                    unreachable!("off-diagonal blocks of A are never diagonal or packed")
                }
            }
        }
        // Later terms s > t: A[s, t], columns of t.
        for s in t + 1..k {
            let vs = st.v[s];
            match (&self.a[tri(s, t)], z.off_block(s, t)) {
                (Block::Sparse(sp), Some(Block::Sparse(zs))) => {
                    for l in 0..sp.ncol_blocks {
                        for kk in sp.colptr[l]..sp.colptr[l + 1] {
                            let (blk, zb) = (sp.block(kk), zs.block(kk));
                            add(s, &|b, r| blk[r * vs + b], &|c, bp| zb[c * vs + bp]);
                        }
                    }
                }
                (Block::Sparse(sp), _) => {
                    for l in 0..sp.ncol_blocks {
                        for kk in sp.colptr[l]..sp.colptr[l + 1] {
                            let blk = sp.block(kk);
                            let m = sp.rowidx[kk] as usize;
                            add(s, &|b, r| blk[r * vs + b], &entry(l, s, m));
                        }
                    }
                }
                (Block::Dense(dm), Some(Block::Dense(zm))) if vt == 1 && vs == 1 => {
                    let sum = frobenius(dm, zm);
                    add(s, &|_, _| sum, &|_, _| 1.0);
                }
                (Block::Dense(dm), _) => {
                    for l in 0..st.nlevels[t] {
                        for m in 0..st.nlevels[s] {
                            add(s, &|b, r| dm[(m * vs + b, l * vt + r)], &entry(l, s, m));
                        }
                    }
                }
                (Block::Diag(_) | Block::Packed(_), _) => {
                    unreachable!("off-diagonal blocks of A are never diagonal or packed")
                }
            }
        }
        if include_x {
            let Block::Dense(xz) = &self.a[tri(k, t)] else {
                unreachable!("the [X y] row of A is dense")
            };
            for l in 0..st.nlevels[t] {
                for j in 0..st.p {
                    add(k, &|_, r| xz[(j, l * vt + r)], &entry(l, k, j));
                }
            }
        }
        trace
    }

    /// The derivative of log|L_Z|² = log det(ΛᵀZᵀWZΛ + I) with respect to
    /// each observation's weight wᵢ at the installed θ and the current
    /// factor: zᵢᵀΛ Ω_Z⁻¹ Λᵀzᵢ = ‖L_Z⁻¹Λᵀzᵢ‖² (zᵢ row i of Z, unweighted;
    /// Ω_Z = Σᵢ wᵢ Λᵀzᵢ zᵢᵀΛ + I). Multiplied by wᵢ this is the random-effects
    /// part of observation i's leverage. One sparse solve per observation
    /// ([`RowNorms`], or [`SparseQuadratic`] when the dense trailing part of
    /// L_Z times the prefix would exceed 4M values).
    pub fn logdet_weight_gradient(&self) -> Vec<f64> {
        self.logdet_weight_gradient_within(ROW_NORMS_MAX_ENTRIES)
    }

    /// [`logdet_weight_gradient`](Self::logdet_weight_gradient) with the
    /// memory limit of the [`RowNorms`] path as an argument.
    fn logdet_weight_gradient_within(&self, max_entries: usize) -> Vec<f64> {
        let st = &self.structure;
        let k = st.nterms;
        let sizes: Vec<usize> = (0..k).map(|j| st.block_size(j)).collect();
        let terms = &self.terms.random;
        // Λᵀzᵢ, term by term, into `add(stacked index, value)`.
        let fill = |i: usize, offsets: &[usize], add: &mut dyn FnMut(usize, f64)| {
            for (t, term) in terms.iter().enumerate() {
                let v = term.ncols();
                let lam = &self.lambdas[t];
                let zi = &term.z[i * v..(i + 1) * v];
                let base = offsets[t] + term.refs[i] as usize * v;
                for r in 0..v {
                    // (λᵀzᵢ)_r, λ lower triangular and column-major.
                    let val: f64 = (r..v).map(|c| lam[r * v + c] * zi[c]).sum();
                    if val != 0.0 {
                        add(base + r, val);
                    }
                }
            }
        };
        if let Some(mut rn) = RowNorms::new(&self.l, &sizes, max_entries, self.ws.par) {
            let offsets: Vec<usize> = (0..k).map(|t| rn.offset(t)).collect();
            return (0..self.nobs())
                .map(|i| {
                    rn.clear();
                    fill(i, &offsets, &mut |j, x| rn.add(j, x));
                    rn.norm2(&self.l, &st.v)
                })
                .collect();
        }
        let sizes: Vec<usize> = sizes.into_iter().chain([st.p]).collect();
        let mut sq = SparseQuadratic::new(&self.l, &sizes, false);
        let offsets: Vec<usize> = (0..k).map(|t| sq.offset(t)).collect();
        (0..self.nobs())
            .map(|i| {
                sq.clear();
                fill(i, &offsets, &mut |j, x| sq.add(j, x));
                sq.norm2(&self.l, &st.v)
            })
            .collect()
    }

    /// The gradient with respect to θ (in `layout`'s order) of the penalised
    /// weighted residual sum of squares r² at the installed θ:
    /// −2 Σ_l (ZᵀWe)_{l,r} û_{l,c} per θ entry, e = y − Xβ̂ − ZΛû (module
    /// docs). Exact; ZᵀWe is read off A (`zt_residual_from_a`), O(size of A)
    /// beyond β̂ and û: the gradient is then a function of A alone, as the
    /// objective is, so a model streamed in chunks (no rows) and the same
    /// model in memory (the same A, see [`crate::blocks::Sum2`]) take the
    /// same steps.
    pub fn pwrss_gradient(&self, layout: &ThetaLayout) -> Vec<f64> {
        let terms = &self.terms;
        let beta = self.beta();
        let u = self.u_given_beta(&beta);
        let b: Vec<Vec<f64>> = terms
            .random
            .iter()
            .zip(&u)
            .zip(&self.lambdas)
            .map(|((term, u), lam)| term.b_from_u(lam, u))
            .collect();
        let ztwe = self.zt_residual_from_a(&beta, &b);
        gradient_from_ztwe(terms, layout, &ztwe, &u)
    }
}

/// −2 Σ_l (ZᵀWe)_{l,r} û_{l,c} per θ entry, from ZᵀWe per term.
fn gradient_from_ztwe(
    terms: &crate::terms::ModelTerms,
    layout: &ThetaLayout,
    ztwe: &[Vec<f64>],
    u: &[Vec<f64>],
) -> Vec<f64> {
    let mut grad = vec![0.0; layout.len()];
    for (t, term) in terms.random.iter().enumerate() {
        let range = layout.term_range(t);
        let v = term.ncols();
        for (g, e) in grad[range.clone()].iter_mut().zip(&layout.entries()[range]) {
            let s: f64 = (0..term.nlevels())
                .map(|l| ztwe[t][l * v + e.row] * u[t][l * v + e.col])
                .sum();
            *g = -2.0 * s;
        }
    }
    grad
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::{Column, Data};
    use crate::terms::{ModelTerms, TermOptions};

    /// Synthetic data: `g` (6 levels), `h` nested in `g` (2 per level), `c`
    /// crossed with `g` (3 levels, every pair present), a covariate `x`, the
    /// response `y` and positive weights; 72 rows.
    fn data() -> (Data, Vec<f64>) {
        let n = 72;
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let g: Vec<String> = (0..n).map(|i| format!("g{}", i % 6)).collect();
        let h: Vec<String> = (0..n).map(|i| format!("h{}", i % 12)).collect();
        let c: Vec<String> = (0..n).map(|i| format!("c{}", (i / 6) % 3)).collect();
        let x: Vec<f64> = (0..n).map(|_| 2.0 * next() - 1.0).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 1.0 + x[i] + (i % 6) as f64 * 0.3 * (1.0 + x[i]) + next())
            .collect();
        let w: Vec<f64> = (0..n).map(|_| 0.5 + next()).collect();
        let data = Data::new()
            .with_column("g", Column::from_strings(&g))
            .unwrap()
            .with_column("h", Column::from_strings(&h))
            .unwrap()
            .with_column("c", Column::from_strings(&c))
            .unwrap()
            .with_column("x", Column::numeric(x))
            .unwrap()
            .with_column("y", Column::numeric(y))
            .unwrap();
        (data, w)
    }

    /// Engine quantities at θ: log|L_Z|², log|R_X|², r².
    fn parts(e: &mut PlsEngine, layout: &ThetaLayout, theta: &[f64]) -> [f64; 3] {
        e.install_theta(layout, theta);
        e.refactor().unwrap();
        [e.logdet_z(), e.logdet_x(), e.pwrss()]
    }

    /// Analytic derivatives against fourth-order central differences of the
    /// engine's log-determinants and r², with and without weights.
    fn check(formula: &str, theta: &[f64]) {
        let (data, w) = data();
        let terms = Arc::new(ModelTerms::new(formula, &data, &TermOptions::default()).unwrap());
        let layout = ThetaLayout::new(&terms.random);
        assert_eq!(layout.len(), theta.len(), "{formula}");
        let y = match &terms.response {
            crate::terms::Variable::Numeric(v) => v.clone(),
            _ => unreachable!(),
        };
        for sqrtw in [None, Some(w.iter().map(|v| v.sqrt()).collect::<Vec<_>>())] {
            let mut e = PlsEngine::new(terms.clone(), true, y.clone(), sqrtw, Some(1));
            parts(&mut e, &layout, theta);
            let ld_z = e.logdet_gradient(&layout, false);
            let ld_zx = e.logdet_gradient(&layout, true);
            let r2 = e.pwrss_gradient(&layout);
            for k in 0..theta.len() {
                let h = 1e-3;
                let mut at = |d: f64| {
                    let mut t = theta.to_vec();
                    t[k] += d;
                    parts(&mut e, &layout, &t)
                };
                let (m2, m1, p1, p2) = (at(-2.0 * h), at(-h), at(h), at(2.0 * h));
                let fd = |i: usize| (m2[i] - 8.0 * m1[i] + 8.0 * p1[i] - p2[i]) / (12.0 * h);
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-7 * a.abs().max(1.0);
                assert!(
                    close(ld_z[k], fd(0)),
                    "{formula} log|L_Z|² θ[{k}]: {} vs {}",
                    ld_z[k],
                    fd(0)
                );
                let fd_zx = fd(0) + fd(1);
                assert!(
                    close(ld_zx[k], fd_zx),
                    "{formula} log|Ω| θ[{k}]: {} vs {fd_zx}",
                    ld_zx[k]
                );
                assert!(
                    close(r2[k], fd(2)),
                    "{formula} r² θ[{k}]: {} vs {}",
                    r2[k],
                    fd(2)
                );
            }
        }
    }

    /// ∂ log|L_Z|²/∂wᵢ against central differences in each weight, through
    /// the precomputed trailing solves and through the dense quadratic forms.
    fn check_weights(formula: &str, theta: &[f64]) {
        let (data, w) = data();
        let terms = Arc::new(ModelTerms::new(formula, &data, &TermOptions::default()).unwrap());
        let layout = ThetaLayout::new(&terms.random);
        let n = terms.nobs();
        let mut e = PlsEngine::new(terms.clone(), true, vec![1.0; n], None, Some(1));
        e.install_theta(&layout, theta);
        let mut logdet_at = |w: &[f64]| {
            e.set_weighted_response_with(|z, sqrtw| {
                // Any response off the column space of X (only its row of L).
                z.iter_mut()
                    .enumerate()
                    .for_each(|(i, z)| *z = (i as f64).sin());
                sqrtw.iter_mut().zip(w).for_each(|(s, w)| *s = w.sqrt());
            });
            e.refactor().unwrap();
            e.logdet_z()
        };
        let mut fd = vec![0.0; n];
        for i in 0..n {
            let h = 1e-4 * w[i];
            let mut wp = w.clone();
            wp[i] += h;
            let up = logdet_at(&wp);
            wp[i] -= 2.0 * h;
            fd[i] = (up - logdet_at(&wp)) / (2.0 * h);
        }
        logdet_at(&w);
        let fast = e.logdet_weight_gradient_within(usize::MAX);
        let dense = e.logdet_weight_gradient_within(0);
        for i in 0..n {
            for (what, g) in [("row norms", fast[i]), ("quadratic forms", dense[i])] {
                assert!(
                    (g - fd[i]).abs() <= 1e-7 * fd[i].abs().max(1e-3),
                    "{formula} {what}: ∂ log|L_Z|²/∂w[{i}] {g} vs differences {}",
                    fd[i]
                );
            }
        }
    }

    #[test]
    fn weight_derivatives_of_the_log_determinant() {
        check_weights(
            "y ~ 1 + x + (1 + x | h) + (1 + x | g)",
            &[0.9, 0.3, 0.7, 1.1, -0.4, 0.5],
        );
        check_weights("y ~ 1 + x + (1 + x | g) + (1 | c)", &[0.8, -0.2, 0.6, 1.3]);
        check_weights(
            "y ~ 1 + (1 | g) + (0 + x | g) + (1 | c) + (1 | h)",
            &[0.8, 0.6, 1.3, 0.4],
        );
    }

    #[test]
    fn nested_vector_terms_sparse_blocks() {
        // h nested in g: A[g, h] block sparse with 2 × 2 blocks.
        check(
            "y ~ 1 + x + (1 + x | h) + (1 + x | g)",
            &[0.9, 0.3, 0.7, 1.1, -0.4, 0.5],
        );
    }

    #[test]
    fn crossed_terms_dense_blocks() {
        // c crossed with g, every pair present: A[c, g] dense; and a
        // zero-correlation vector term.
        check("y ~ 1 + x + (1 + x | g) + (1 | c)", &[0.8, -0.2, 0.6, 1.3]);
        check(
            "y ~ 1 + (1 | g) + (0 + x | g) + (1 | c) + (1 | h)",
            &[0.8, 0.6, 1.3, 0.4],
        );
    }

    #[test]
    fn on_the_boundary() {
        // λ's first diagonal entry at 0 (central differences still apply:
        // the engine takes any θ) and a scalar term at 0.
        check("y ~ 1 + x + (1 + x | g) + (1 | c)", &[0.0, 0.5, 0.6, 0.0]);
    }

    /// Synthetic data of `n` rows: `h` (`2G` levels) nested in `g` (`G`
    /// levels), `c` (`C` levels) crossed with both, a covariate and y.
    fn grouped(n: usize, groups: usize, crossed: usize) -> Data {
        let mut state = 99u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let g: Vec<String> = (0..n).map(|i| format!("g{}", i % groups)).collect();
        let h: Vec<String> = (0..n).map(|i| format!("h{}", i % (2 * groups))).collect();
        let c: Vec<String> = (0..n)
            .map(|i| format!("c{}", (i / groups + i) % crossed))
            .collect();
        let x: Vec<f64> = (0..n).map(|_| next()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| x[i] + ((i % groups) as f64).sin() + next())
            .collect();
        Data::new()
            .with_column("g", Column::from_strings(&g))
            .unwrap()
            .with_column("h", Column::from_strings(&h))
            .unwrap()
            .with_column("c", Column::from_strings(&c))
            .unwrap()
            .with_column("x", Column::numeric(x))
            .unwrap()
            .with_column("y", Column::numeric(y))
            .unwrap()
    }

    /// The selected inverse against the dense inverse of L Lᵀ (with and
    /// without X) on every entry of L's pattern, relative to the largest
    /// entry of the inverse.
    fn check_selected_inverse(data: &Data, formula: &str, theta: &[f64], threads: usize) {
        let terms = Arc::new(ModelTerms::new(formula, data, &TermOptions::default()).unwrap());
        let layout = ThetaLayout::new(&terms.random);
        let y = match &terms.response {
            crate::terms::Variable::Numeric(v) => v.clone(),
            _ => unreachable!(),
        };
        let mut e = PlsEngine::new(terms, true, y, None, Some(threads));
        e.install_theta(&layout, theta);
        e.refactor().unwrap();
        let st = &e.structure;
        let k = st.nterms;
        for include_x in [false, true] {
            let nb = if include_x { k + 1 } else { k };
            let size = |i: usize| if i < k { st.block_size(i) } else { st.p };
            let mut off = vec![0];
            (0..nb).for_each(|i| off.push(off[i] + size(i)));
            let q = off[nb];
            let mut dense = faer::Mat::<f64>::zeros(q, q);
            for i in 0..nb {
                for j in 0..=i {
                    let b = crate::blocks::to_dense(&e.l[tri(i, j)]);
                    for c in 0..size(j) {
                        // A diagonal block's factor is its lower triangle.
                        for r in (if i == j { c } else { 0 })..size(i) {
                            dense[(off[i] + r, off[j] + c)] = b[(r, c)];
                        }
                    }
                }
            }
            let omega = &dense * dense.transpose();
            use faer::linalg::solvers::DenseSolveCore;
            let inv = omega.as_ref().llt(faer::Side::Lower).unwrap().inverse();
            let scale = (0..q).map(|i| inv[(i, i)].abs()).fold(0.0, f64::max);
            // The per-level sweep, and the batched one wherever a column's
            // blocks below are all dense.
            for min_work in [usize::MAX, 0] {
                let z =
                    SelectedInverse::with_batched_sweep(&e.l, st, include_x, e.ws.par, min_work);
                let mut checked = 0;
                for i in 0..nb {
                    for j in 0..=i {
                        for rj in 0..size(j) {
                            for ri in 0..size(i) {
                                let on_pattern = match &e.l[tri(i, j)] {
                                    Block::Diag(d) => ri / d.v == rj / d.v,
                                    Block::Sparse(sp) => sp.find(ri / sp.vr, rj / sp.vc).is_some(),
                                    Block::Dense(_) | Block::Packed(_) => true,
                                };
                                if !on_pattern {
                                    continue;
                                }
                                let want = inv[(off[i] + ri, off[j] + rj)];
                                let got = z.get(i, ri, j, rj);
                                assert!(
                                (got - want).abs() <= 1e-10 * scale,
                                "{formula} x={include_x}: Z[({i},{ri}),({j},{rj})] {got} vs {want}"
                            );
                                checked += 1;
                            }
                        }
                    }
                }
                assert!(checked > 0);
            }
        }
    }

    #[test]
    fn selected_inverse_matches_the_dense_inverse() {
        let small = grouped(72, 6, 3);
        for (formula, theta) in [
            (
                "y ~ 1 + x + (1 + x | h) + (1 + x | g)",
                &[0.9, 0.3, 0.7, 1.1, -0.4, 0.5][..],
            ),
            ("y ~ 1 + x + (1 | h) + (1 | g) + (1 | c)", &[0.8, 0.6, 1.3]),
            ("y ~ 1 + x + (1 + x | g) + (1 | c)", &[0.8, -0.2, 0.6, 0.0]),
        ] {
            check_selected_inverse(&small, formula, theta, 1);
        }
        // Enough levels and a large enough crossed block for the sweep to
        // run on the pool (two nested prefix terms, 600 and 300 levels).
        let large = grouped(1200, 300, 80);
        check_selected_inverse(
            &large,
            "y ~ 1 + x + (1 | h) + (1 | g) + (1 | c)",
            &[0.8, 0.6, 1.3],
            2,
        );
    }

    #[test]
    fn batched_parallel_sweep_equals_the_sequential_sweep() {
        // 2,500 levels of h: the pool computes them in three batches of at
        // most 1,024 before writing Z; each level reads only later columns,
        // so the result is the one-thread sweep's, bit for bit.
        let data = grouped(5000, 1250, 90);
        let formula = "y ~ 1 + x + (1 | h) + (1 | c)";
        let terms = Arc::new(ModelTerms::new(formula, &data, &TermOptions::default()).unwrap());
        let layout = ThetaLayout::new(&terms.random);
        let y = match &terms.response {
            crate::terms::Variable::Numeric(v) => v.clone(),
            _ => unreachable!(),
        };
        let gradients: Vec<Vec<f64>> = [1, 2]
            .into_iter()
            .map(|threads| {
                let mut e = PlsEngine::new(terms.clone(), true, y.clone(), None, Some(threads));
                e.install_theta(&layout, &[0.7, 1.2]);
                e.refactor().unwrap();
                assert_eq!(e.structure.nlevels[0], 2500);
                e.logdet_gradient(&layout, true)
            })
            .collect();
        assert_eq!(gradients[0], gradients[1]);
    }
}
