//! ZᵀWe (e = y − Xβ − Zb) from the blocks of A alone, for a model that
//! keeps no rows (built from chunks, [`crate::stream`]):
//! Zₜᵀ W e = Zₜᵀ W y − Zₜᵀ W X β − Σₛ Zₜᵀ W Zₛ bₛ, every product a block of A.

use super::PlsEngine;
use crate::blocks::{tri, Block};

impl PlsEngine {
    /// ZₜᵀWe for every term t (level-major, as b), from A, at `beta` and `b`.
    pub(crate) fn zt_residual_from_a(&self, beta: &[f64], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let st = self.structure();
        let (k, p) = (st.nterms, st.p);
        let a = self.a_blocks();
        let mut out = Vec::with_capacity(k);
        for t in 0..k {
            let Block::Dense(xyz) = &a[tri(k, t)] else {
                unreachable!("the [X y] row of A is dense")
            };
            let mut r: Vec<f64> = (0..st.block_size(t))
                .map(|c| xyz[(p, c)] - (0..p).map(|j| beta[j] * xyz[(j, c)]).sum::<f64>())
                .collect();
            for (s, bs) in b.iter().enumerate() {
                if s >= t {
                    subtract_product(&a[tri(s, t)], bs, &mut r, s > t);
                } else {
                    subtract_product(&a[tri(t, s)], bs, &mut r, false);
                }
            }
            out.push(r);
        }
        out
    }
}

/// out −= M x (or Mᵀ x when `transpose`) for a block M of A.
fn subtract_product(m: &Block, x: &[f64], out: &mut [f64], transpose: bool) {
    match m {
        Block::Diag(d) => {
            let v = d.v;
            for l in 0..d.nblocks {
                let blk = d.block(l);
                for c in 0..v {
                    for r in 0..v {
                        out[l * v + r] -= blk[c * v + r] * x[l * v + c];
                    }
                }
            }
        }
        Block::Sparse(s) => {
            let (vr, vc) = (s.vr, s.vc);
            for c in 0..s.ncol_blocks {
                for kk in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[kk] as usize;
                    let blk = s.block(kk);
                    for bc in 0..vc {
                        for br in 0..vr {
                            let val = blk[bc * vr + br];
                            if transpose {
                                out[c * vc + bc] -= val * x[r * vr + br];
                            } else {
                                out[r * vr + br] -= val * x[c * vc + bc];
                            }
                        }
                    }
                }
            }
        }
        Block::Dense(d) => {
            for c in 0..d.ncols() {
                for r in 0..d.nrows() {
                    if transpose {
                        out[c] -= d[(r, c)] * x[r];
                    } else {
                        out[r] -= d[(r, c)] * x[c];
                    }
                }
            }
        }
        Block::Packed(_) => unreachable!("blocks of A are never packed"),
    }
}
