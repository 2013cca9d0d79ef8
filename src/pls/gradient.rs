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
//!   column. Each term e_{l,c}ᵀΩ⁻¹w_{l,r} = (L⁻¹e)ᵀ(L⁻¹w) is a sparse cross
//!   product ([`SparseQuadratic::cross`]). With X (`include_x`) this is the
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
//! [`SparseQuadratic`] forms the inverse of the trailing (dense) part of L
//! once; then every level costs v sparse solves of e and v of w, whose
//! trailing parts meet in O(nnz²). The residuals cost O(n·v).

use super::PlsEngine;
use crate::blocks::{tri, Block, RowNorms, SparseQuadratic};

/// Most values (t·(t + |P|), t the size of the dense trailing part of L_Z
/// and |P| of its block-diagonal prefix) of the precomputed solves of
/// [`PlsEngine::logdet_weight_gradient`]: 4M values, 32 MB (InstEval's
/// `(1 | s) + (1 | d) + (1 | dept)` needs about 3.4M); beyond that the
/// per-observation dense quadratic forms of [`SparseQuadratic`] are used.
const ROW_NORMS_MAX_ENTRIES: usize = 1 << 22;
use crate::terms::ThetaLayout;

/// The rows of one sparse block, CSR-style: the start of each row-level's
/// list, and the (column level, stored block) pairs.
type Rows = (Vec<usize>, Vec<(usize, usize)>);

/// Row access to the sparse blocks A[t, s] (s < t): for each block, per level
/// of term t, the (level of s, stored block) pairs of its row.
struct RowIndex {
    /// Per packed block index (t, s), its rows (None when not sparse).
    rows: Vec<Option<Rows>>,
}

impl RowIndex {
    /// Transpose the pattern of every sparse off-diagonal block of `a`.
    fn new(a: &[Block], k: usize, nlevels: &[usize]) -> Self {
        let mut rows = vec![None; a.len()];
        for t in 0..k {
            for s in 0..t {
                let Block::Sparse(sp) = &a[tri(t, s)] else {
                    continue;
                };
                let mut ptr = vec![0usize; nlevels[t] + 1];
                for &r in &sp.rowidx {
                    ptr[r as usize + 1] += 1;
                }
                for i in 0..nlevels[t] {
                    ptr[i + 1] += ptr[i];
                }
                let mut next = ptr.clone();
                let mut entries = vec![(0, 0); sp.nnz()];
                for m in 0..sp.ncol_blocks {
                    for kk in sp.colptr[m]..sp.colptr[m + 1] {
                        let r = sp.rowidx[kk] as usize;
                        entries[next[r]] = (m, kk);
                        next[r] += 1;
                    }
                }
                rows[tri(t, s)] = Some((ptr, entries));
            }
        }
        RowIndex { rows }
    }

    /// The (level of s, stored block) pairs in row-level `l` of block (t, s).
    fn row(&self, t: usize, s: usize, l: usize) -> &[(usize, usize)] {
        let (ptr, entries) = self.rows[tri(t, s)]
            .as_ref()
            .expect("row access to a sparse block");
        &entries[ptr[l]..ptr[l + 1]]
    }
}

/// Append (base + b', (λᵀa)_{b'}) for b' < v, where a_b = `val(b)`; exact
/// zeros are left out.
fn push_scaled(
    out: &mut Vec<(usize, f64)>,
    base: usize,
    lam: &[f64],
    v: usize,
    val: impl Fn(usize) -> f64,
) {
    if v == 1 {
        let x = lam[0] * val(0);
        if x != 0.0 {
            out.push((base, x));
        }
        return;
    }
    for bp in 0..v {
        let x: f64 = (bp..v).map(|b| lam[bp * v + b] * val(b)).sum();
        if x != 0.0 {
            out.push((base + bp, x));
        }
    }
}

impl PlsEngine {
    /// w = PᵀÃ e_{t,l,r}: column (t, l, r) of A without the response row,
    /// each random-effects level's part multiplied by its λᵀ, as entries of
    /// the stacked index space of `sq` (X rows only when `include_x`).
    fn scaled_a_column(
        &self,
        sq: &SparseQuadratic,
        rows: &RowIndex,
        (t, l, r): (usize, usize, usize),
        include_x: bool,
        out: &mut Vec<(usize, f64)>,
    ) {
        out.clear();
        let st = &self.structure;
        let (k, vt) = (st.nterms, st.v[t]);
        let col = l * vt + r;
        let lam = &self.lambdas;
        // Term t's own level.
        let Block::Diag(d) = &self.a[tri(t, t)] else {
            unreachable!("diagonal blocks of A are block diagonal")
        };
        let blk = d.block(l);
        push_scaled(out, sq.offset(t) + l * vt, &lam[t], vt, |b| blk[r * vt + b]);
        // Earlier terms: row (l, r) of A[t, s].
        for s in 0..t {
            let vs = st.v[s];
            match &self.a[tri(t, s)] {
                Block::Sparse(sp) => {
                    for &(m, kk) in rows.row(t, s, l) {
                        let blk = sp.block(kk);
                        push_scaled(out, sq.offset(s) + m * vs, &lam[s], vs, |b| blk[b * vt + r]);
                    }
                }
                Block::Dense(dm) => {
                    for m in 0..st.nlevels[s] {
                        push_scaled(out, sq.offset(s) + m * vs, &lam[s], vs, |b| {
                            dm[(col, m * vs + b)]
                        });
                    }
                }
                Block::Diag(_) => unreachable!("off-diagonal blocks are never diagonal"),
            }
        }
        // Later terms: column (l, r) of A[s, t].
        for s in t + 1..k {
            let vs = st.v[s];
            match &self.a[tri(s, t)] {
                Block::Sparse(sp) => {
                    for kk in sp.colptr[l]..sp.colptr[l + 1] {
                        let m = sp.rowidx[kk] as usize;
                        let blk = sp.block(kk);
                        push_scaled(out, sq.offset(s) + m * vs, &lam[s], vs, |b| blk[r * vs + b]);
                    }
                }
                Block::Dense(dm) => {
                    for m in 0..st.nlevels[s] {
                        push_scaled(out, sq.offset(s) + m * vs, &lam[s], vs, |b| {
                            dm[(m * vs + b, col)]
                        });
                    }
                }
                Block::Diag(_) => unreachable!("off-diagonal blocks are never diagonal"),
            }
        }
        if include_x {
            let Block::Dense(xz) = &self.a[tri(k, t)] else {
                unreachable!("the [X y] row of A is dense")
            };
            for j in 0..st.p {
                let x = xz[(j, col)];
                if x != 0.0 {
                    out.push((sq.offset(k) + j, x));
                }
            }
        }
    }

    /// The gradient with respect to θ (in `layout`'s order) of log|L_Z|²
    /// (`include_x = false`, the ML log-determinant) or of
    /// log|L_Z|² + log|R_X|² (`include_x = true`, REML's), at the installed
    /// θ and the current factor: 2 Σ_l e_{l,c}ᵀ Ω⁻¹ PᵀÃ e_{l,r} per θ entry
    /// (module docs). Exact (no differencing); valid on the boundary.
    pub fn logdet_gradient(&self, layout: &ThetaLayout, include_x: bool) -> Vec<f64> {
        let st = &self.structure;
        let k = st.nterms;
        let include_x = include_x && st.p > 0;
        // The terms, then X (p rows: the response row is never part of the forms).
        let sizes: Vec<usize> = (0..k).map(|j| st.block_size(j)).chain([st.p]).collect();
        let mut sq = SparseQuadratic::new(&self.l, &sizes, include_x);
        let rows = RowIndex::new(&self.a, k, &st.nlevels);
        let mut grad = vec![0.0; layout.len()];
        let mut w: Vec<Vec<(usize, f64)>> = Vec::new();
        for t in 0..k {
            let range = layout.term_range(t);
            if range.is_empty() {
                continue;
            }
            let entries = &layout.entries()[range.clone()];
            let v = st.v[t];
            // The columns r of λ's entries: only those w are needed.
            let mut need = vec![false; v];
            entries.iter().for_each(|e| need[e.row] = true);
            w.resize_with(v, Vec::new);
            for l in 0..st.nlevels[t] {
                for (r, wr) in w.iter_mut().enumerate() {
                    if need[r] {
                        self.scaled_a_column(&sq, &rows, (t, l, r), include_x, wr);
                    }
                }
                let base = sq.offset(t) + l * v;
                for (g, e) in grad[range.clone()].iter_mut().zip(entries) {
                    *g += sq.cross(&self.l, &st.v, &[(base + e.col, 1.0)], &w[e.row]);
                }
            }
        }
        grad.iter_mut().for_each(|g| *g *= 2.0);
        grad
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
    /// docs). Exact; O(n·v) beyond β̂ and û.
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
        let mut fit = vec![0.0; self.nobs()];
        terms.add_x_beta(&beta, &mut fit);
        terms.add_z_b(&b, &mut fit);
        // W e, observation by observation.
        let we: Vec<f64> = match self.sqrtw.as_deref() {
            Some(s) => (0..fit.len())
                .map(|i| s[i] * s[i] * (self.y[i] - fit[i]))
                .collect(),
            None => self.y.iter().zip(&fit).map(|(y, f)| y - f).collect(),
        };
        let mut grad = vec![0.0; layout.len()];
        for (t, term) in terms.random.iter().enumerate() {
            let range = layout.term_range(t);
            if range.is_empty() {
                continue;
            }
            let v = term.ncols();
            // ZᵀWe for this term, level by level.
            let mut ztwe = vec![0.0; term.nranef()];
            for (i, (&l, &x)) in term.refs.iter().zip(&we).enumerate() {
                let dst = &mut ztwe[l as usize * v..(l as usize + 1) * v];
                for (d, z) in dst.iter_mut().zip(&term.z[i * v..(i + 1) * v]) {
                    *d += z * x;
                }
            }
            let ut = &u[t];
            for (g, e) in grad[range.clone()].iter_mut().zip(&layout.entries()[range]) {
                let s: f64 = (0..term.nlevels())
                    .map(|l| ztwe[l * v + e.row] * ut[l * v + e.col])
                    .sum();
                *g = -2.0 * s;
            }
        }
        grad
    }
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
}
