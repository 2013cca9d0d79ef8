//! Solutions read off the factor L: β̂, the conditional modes u, the
//! unscaled covariance of β̂, the unscaled conditional covariance of the
//! random effects, and leverages.

use super::PlsEngine;
use crate::blocks::{backward_solve_transposed, tri, Block, SelectedInverse, SparseQuadratic};

impl PlsEngine {
    /// Offsets of each term in the stacked random-effects vector (K + 1 entries).
    pub fn re_offsets(&self) -> Vec<usize> {
        let mut off = vec![0];
        for k in 0..self.structure.nterms {
            off.push(off[k] + self.structure.block_size(k));
        }
        off
    }

    /// β̂ (for the p columns of X in the system): the solution of
    /// R_X β = r_Xy.
    pub fn beta(&self) -> Vec<f64> {
        let p = self.structure.p;
        let m = self.l_xy();
        let mut beta: Vec<f64> = (0..p).map(|j| m[(p, j)]).collect();
        for i in (0..p).rev() {
            let mut s = beta[i];
            for j in i + 1..p {
                s -= m[(j, i)] * beta[j];
            }
            beta[i] = s / m[(i, i)];
        }
        beta
    }

    /// Conditional modes u for a given β (not necessarily β̂), per term:
    /// the solution of L_Zᵀ u = c_y − L_XZᵀ β (β empty without X).
    pub fn u_given_beta(&self, beta: &[f64]) -> Vec<Vec<f64>> {
        let k = self.structure.nterms;
        let off = self.re_offsets();
        let mut x = vec![0.0; off[k]];
        let p = self.structure.p;
        for j in 0..k {
            let Block::Dense(m) = &self.l[tri(k, j)] else {
                unreachable!("the [X y] row of L is dense")
            };
            for c in 0..m.ncols() {
                let mut s = m[(p, c)];
                for (r, b) in beta.iter().enumerate() {
                    s -= m[(r, c)] * b;
                }
                x[off[j] + c] = s;
            }
        }
        backward_solve_transposed(&self.l, &off, k, &mut x);
        (0..k).map(|j| x[off[j]..off[j + 1]].to_vec()).collect()
    }

    /// Unscaled covariance (R_XᵀR_X)⁻¹ of β̂, row-major p × p.
    pub fn unscaled_vcov(&self) -> Vec<f64> {
        let p = self.structure.p;
        let m = self.l_xy();
        // Columns of L_XX⁻¹ by forward substitution.
        let mut inv = vec![0.0; p * p]; // column-major
        for c in 0..p {
            for i in c..p {
                let mut s = if i == c { 1.0 } else { 0.0 };
                for j in c..i {
                    s -= m[(i, j)] * inv[c * p + j];
                }
                inv[c * p + i] = s / m[(i, i)];
            }
        }
        let mut v = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..p {
                v[a * p + b] = (a.max(b)..p).map(|i| inv[a * p + i] * inv[b * p + i]).sum();
            }
        }
        v
    }

    /// Sizes of the blocks of the quadratic forms: the terms, then X.
    fn quadratic_sizes(&self) -> Vec<usize> {
        (0..self.structure.nterms)
            .map(|j| self.structure.block_size(j))
            .chain([self.structure.p])
            .collect()
    }

    /// Unscaled conditional covariance of b for each level of each term:
    /// per term, ℓ column-major v × v blocks of λ M λᵀ with M the matching
    /// diagonal block of (L_Z L_Zᵀ)⁻¹ (of the whole L when X is in the system).
    pub fn unscaled_condvar(&self) -> Vec<Vec<f64>> {
        let mut sq = SparseQuadratic::new(&self.l, &self.quadratic_sizes(), false);
        let terms = &self.terms.random;
        let mut out = Vec::with_capacity(terms.len());
        for (t, term) in terms.iter().enumerate() {
            let v = term.ncols();
            let lam = &self.lambdas[t];
            let mut blocks = vec![0.0; term.nlevels() * v * v];
            let mut mm = vec![0.0; v * v];
            for l in 0..term.nlevels() {
                let base = sq.offset(t) + l * v;
                for a in 0..v {
                    for b in 0..=a {
                        let val = sq.cross(
                            &self.l,
                            &self.structure.v,
                            &[(base + a, 1.0)],
                            &[(base + b, 1.0)],
                        );
                        mm[b * v + a] = val;
                        mm[a * v + b] = val;
                    }
                }
                let blk = &mut blocks[l * v * v..(l + 1) * v * v];
                for a in 0..v {
                    for b in 0..v {
                        let mut s = 0.0;
                        for c in 0..v {
                            for d in 0..v {
                                s += lam[c * v + a] * mm[d * v + c] * lam[d * v + b];
                            }
                        }
                        blk[b * v + a] = s;
                    }
                }
            }
            out.push(blocks);
        }
        out
    }

    /// The sum of the leverages, tr(H), without the rows: with M = √W[ZΛ X]
    /// and J = diag(I_q, 0), H = M(MᵀM + J)⁻¹Mᵀ, so tr(H) =
    /// tr((MᵀM + J)⁻¹MᵀM) = q + p − Σ_{i ≤ q} [(LLᵀ)⁻¹]_ii, the diagonal read
    /// off the selected inverse (a model streamed in chunks has no rows to
    /// sum [`leverage`](Self::leverage) over).
    pub fn leverage_sum(&self) -> f64 {
        let st = &self.structure;
        let z = SelectedInverse::new(&self.l, st, st.p > 0, self.ws.par);
        let mut q = 0;
        let mut diagonal = 0.0;
        for t in 0..st.nterms {
            let size = st.block_size(t);
            q += size;
            diagonal += (0..size).map(|r| z.get(t, r, t, r)).sum::<f64>();
        }
        (q + st.p) as f64 - diagonal
    }

    /// Diagonal of the hat matrix (leverage of each observation):
    /// hᵢ = ‖L⁻¹[Λᵀzᵢ; xᵢ]‖² (rows weighted by √wᵢ); empty for an engine
    /// without rows ([`has_rows`](Self::has_rows)).
    pub fn leverage(&self) -> Vec<f64> {
        if !self.has_rows() {
            return Vec::new();
        }
        let k = self.structure.nterms;
        let p = self.structure.p;
        let mut sq = SparseQuadratic::new(&self.l, &self.quadratic_sizes(), true);
        let terms = &self.terms.random;
        (0..self.nobs())
            .map(|i| {
                sq.clear();
                let sw = self.sqrtw.as_ref().map_or(1.0, |s| s[i]);
                for (t, term) in terms.iter().enumerate() {
                    let v = term.ncols();
                    let lam = &self.lambdas[t];
                    let base = sq.offset(t) + term.refs[i] as usize * v;
                    for r in 0..v {
                        let val: f64 = (r..v).map(|c| lam[r * v + c] * term.z[i * v + c]).sum();
                        if val != 0.0 {
                            sq.add(base + r, sw * val);
                        }
                    }
                }
                let xo = sq.offset(k);
                for j in 0..p {
                    sq.add(xo + j, self.xy[(i, j)]);
                }
                sq.norm2(&self.l, &self.structure.v)
            })
            .collect()
    }
}
