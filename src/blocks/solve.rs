//! Triangular solves with the blocked factor L and its transpose, for the
//! conditional modes and for the linear systems of the GLMM gradient.
//!
//! A vector is stored contiguously, block after block; `offsets[k]` is the
//! start of block k and `offsets[nblocks]` the total length. A block may be
//! shorter than the block of L it belongs to: for the last (dense) block this
//! solves with its leading part (the X rows of the [X y] block without the
//! response row).

use faer::{Col, Par};

use super::{tri, Block};

/// x ← L⁻ᵀ x over the leading `nblocks` block rows/columns of L.
pub fn backward_solve_transposed(l: &[Block], offsets: &[usize], nblocks: usize, x: &mut [f64]) {
    for j in (0..nblocks).rev() {
        for i in j + 1..nblocks {
            let (head, tail) = x.split_at_mut(offsets[i]);
            let xi = &tail[..offsets[i + 1] - offsets[i]];
            let xj = &mut head[offsets[j]..offsets[j + 1]];
            sub_mul_transposed(&l[tri(i, j)], xi, xj);
        }
        lower_solve(&l[tri(j, j)], &mut x[offsets[j]..offsets[j + 1]], true);
    }
}

/// x ← L⁻¹ x over the leading `nblocks` block rows/columns of L.
pub fn forward_solve(l: &[Block], offsets: &[usize], nblocks: usize, x: &mut [f64]) {
    for j in 0..nblocks {
        lower_solve(&l[tri(j, j)], &mut x[offsets[j]..offsets[j + 1]], false);
        for i in j + 1..nblocks {
            let (head, tail) = x.split_at_mut(offsets[i]);
            let xj = &head[offsets[j]..offsets[j + 1]];
            let xi = &mut tail[..offsets[i + 1] - offsets[i]];
            sub_mul(&l[tri(i, j)], xj, xi);
        }
    }
}

/// y ← y − B x (the leading y.len() rows and x.len() columns of a dense B).
fn sub_mul(b: &Block, x: &[f64], y: &mut [f64]) {
    match b {
        Block::Sparse(s) => {
            let (vr, vc) = (s.vr, s.vc);
            for c in 0..s.ncol_blocks {
                let xc = &x[c * vc..(c + 1) * vc];
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[k] as usize;
                    let blk = s.block(k);
                    for rr in 0..vr {
                        let acc: f64 = (0..vc).map(|m| blk[m * vr + rr] * xc[m]).sum();
                        y[r * vr + rr] -= acc;
                    }
                }
            }
        }
        Block::Dense(m) => {
            for (c, &xc) in x.iter().enumerate() {
                if xc == 0.0 {
                    continue;
                }
                let col = m.col(c);
                for (r, yr) in y.iter_mut().enumerate() {
                    *yr -= col[r] * xc;
                }
            }
        }
        Block::Diag(_) | Block::Packed(_) => {
            unreachable!("off-diagonal blocks are never diagonal or packed")
        }
    }
}

/// y ← y − Bᵀ x.
fn sub_mul_transposed(b: &Block, x: &[f64], y: &mut [f64]) {
    match b {
        Block::Sparse(s) => {
            let (vr, vc) = (s.vr, s.vc);
            for c in 0..s.ncol_blocks {
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[k] as usize;
                    let blk = s.block(k);
                    for m in 0..vc {
                        let mut acc = 0.0;
                        for rr in 0..vr {
                            acc += blk[m * vr + rr] * x[r * vr + rr];
                        }
                        y[c * vc + m] -= acc;
                    }
                }
            }
        }
        Block::Dense(m) => {
            for (c, yc) in y.iter_mut().enumerate() {
                let col = m.col(c);
                let mut acc = 0.0;
                for r in 0..x.len() {
                    acc += col[r] * x[r];
                }
                *yc -= acc;
            }
        }
        Block::Diag(_) | Block::Packed(_) => {
            unreachable!("off-diagonal blocks are never diagonal or packed")
        }
    }
}

/// x ← D⁻¹ x (or D⁻ᵀ x when `transposed`) for a factored diagonal block D
/// (for a dense D, its leading x.len() × x.len() part).
fn lower_solve(d: &Block, x: &mut [f64], transposed: bool) {
    match d {
        Block::Diag(bd) => {
            let v = bd.v;
            for l in 0..bd.nblocks {
                let blk = bd.block(l);
                let xs = &mut x[l * v..(l + 1) * v];
                if transposed {
                    for r in (0..v).rev() {
                        let mut s = xs[r];
                        for m in r + 1..v {
                            s -= blk[r * v + m] * xs[m];
                        }
                        xs[r] = s / blk[r * v + r];
                    }
                } else {
                    for r in 0..v {
                        let mut s = xs[r];
                        for m in 0..r {
                            s -= blk[m * v + r] * xs[m];
                        }
                        xs[r] = s / blk[r * v + r];
                    }
                }
            }
        }
        Block::Dense(m) => {
            let m = m.as_ref().submatrix(0, 0, x.len(), x.len());
            let mut col = Col::<f64>::from_fn(x.len(), |i| x[i]);
            if transposed {
                faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                    m.transpose(),
                    col.as_mat_mut(),
                    Par::Seq,
                );
            } else {
                faer::linalg::triangular_solve::solve_lower_triangular_in_place(
                    m.as_ref(),
                    col.as_mat_mut(),
                    Par::Seq,
                );
            }
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = col[i];
            }
        }
        Block::Packed(p) => {
            let mut col = Col::<f64>::from_fn(x.len(), |i| x[i]);
            p.solve_in_place(col.as_mat_mut(), transposed, Par::Seq);
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = col[i];
            }
        }
        Block::Sparse(_) => unreachable!("diagonal blocks are never sparse"),
    }
}
