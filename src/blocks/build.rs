//! Assembling A from the model terms, and choosing the kind of every block of L.
//!
//! The pattern of the sparse blocks of A (which pairs of levels of two
//! grouping factors occur together) is computed once, with the position of
//! each observation's contribution, so that A can be refilled in O(n) when
//! the weights or the response change (PIRLS, refits, bootstrap).

use faer::{Accum, Mat, Par};

use super::{tri, Block, BlockDiag, BlockSparse};
use crate::terms::ReTerm;

/// The symbolic structure of A: block sizes, sparse patterns and, per
/// sparse block, the stored-block position each observation adds to.
#[derive(Debug, Clone)]
pub struct Structure {
    /// Number of random-effects terms K.
    pub nterms: usize,
    /// Columns per level, v_k, of each term.
    pub v: Vec<usize>,
    /// Levels ℓ_k of each term.
    pub nlevels: Vec<usize>,
    /// Number of fixed-effects columns p (block K has p + 1 columns).
    pub p: usize,
    /// Number of observations.
    pub n: usize,
    /// Per packed off-diagonal random-effects block (i > j, i < K): the
    /// empty pattern (values zero) and, per observation, its stored-block index.
    sparse: Vec<Option<(BlockSparse, Vec<u32>)>>,
}

impl Structure {
    /// Compute the pattern of A for `terms` and `p` fixed-effects columns.
    pub fn new(terms: &[ReTerm], p: usize, n: usize) -> Self {
        let k = terms.len();
        let mut sparse = vec![None; tri(k, k) + 1];
        for i in 0..k {
            for j in 0..i {
                sparse[tri(i, j)] = Some(pattern(&terms[i], &terms[j]));
            }
        }
        Structure {
            nterms: k,
            v: terms.iter().map(ReTerm::ncols).collect(),
            nlevels: terms.iter().map(ReTerm::nlevels).collect(),
            p,
            n,
            sparse,
        }
    }

    /// Order (rows) of block k: q_k for a random-effects term, p + 1 for [X y].
    pub fn block_size(&self, k: usize) -> usize {
        if k < self.nterms {
            self.v[k] * self.nlevels[k]
        } else {
            self.p + 1
        }
    }

    /// Allocate A with zeros in its final layout.
    pub fn zeros_a(&self) -> Vec<Block> {
        let k = self.nterms;
        let mut a = Vec::with_capacity(tri(k, k) + 1);
        for i in 0..=k {
            for j in 0..=i {
                a.push(if i == j && i < k {
                    Block::Diag(BlockDiag::zeros(self.v[i], self.nlevels[i]))
                } else if i < k {
                    Block::Sparse(self.sparse[tri(i, j)].as_ref().unwrap().0.clone())
                } else {
                    Block::Dense(Mat::zeros(self.p + 1, self.block_size(j)))
                });
            }
        }
        a
    }

    /// Fill A = [Z X y]'W[Z X y] (W = diag(sqrtw²), identity when `sqrtw` is None).
    ///
    /// `xy` is the `n × (p + 1)` matrix [X y] already multiplied by √w row-wise.
    pub fn fill_a(&self, a: &mut [Block], terms: &[ReTerm], xy: &Mat<f64>, sqrtw: Option<&[f64]>) {
        let k = self.nterms;
        let n = self.n;
        let w = |i: usize| sqrtw.map_or(1.0, |s| s[i]);
        for (t, term) in terms.iter().enumerate() {
            let v = self.v[t];
            // Diagonal block: Σ w z zᵀ per level.
            let Block::Diag(d) = &mut a[tri(t, t)] else {
                unreachable!()
            };
            d.data.iter_mut().for_each(|x| *x = 0.0);
            for obs in 0..n {
                let z = &term.z[obs * v..(obs + 1) * v];
                let wi = w(obs);
                let blk = d.block_mut(term.refs[obs] as usize);
                for c in 0..v {
                    for r in 0..v {
                        blk[c * v + r] += wi * wi * z[r] * z[c];
                    }
                }
            }
            // Off-diagonal blocks against earlier terms.
            for (s, earlier) in terms.iter().enumerate().take(t) {
                let vs = self.v[s];
                let (_, pos) = self.sparse[tri(t, s)].as_ref().unwrap();
                let Block::Sparse(b) = &mut a[tri(t, s)] else {
                    unreachable!()
                };
                b.data.iter_mut().for_each(|x| *x = 0.0);
                let size = v * vs;
                for obs in 0..n {
                    let zr = &term.z[obs * v..(obs + 1) * v];
                    let zc = &earlier.z[obs * vs..(obs + 1) * vs];
                    let wi = w(obs);
                    let blk = &mut b.data[pos[obs] as usize * size..(pos[obs] as usize + 1) * size];
                    for c in 0..vs {
                        for r in 0..v {
                            blk[c * v + r] += wi * wi * zr[r] * zc[c];
                        }
                    }
                }
            }
            // [X y]' W Z_t.
            let Block::Dense(m) = &mut a[tri(k, t)] else {
                unreachable!()
            };
            m.fill(0.0);
            for obs in 0..n {
                let z = &term.z[obs * v..(obs + 1) * v];
                let wi = w(obs);
                let l = term.refs[obs] as usize;
                for c in 0..v {
                    let zc = wi * z[c];
                    if zc == 0.0 {
                        continue;
                    }
                    let mut col = m.col_mut(l * v + c);
                    for r in 0..=self.p {
                        col[r] += xy[(obs, r)] * zc;
                    }
                }
            }
        }
        let Block::Dense(m) = &mut a[tri(k, k)] else {
            unreachable!()
        };
        faer::linalg::matmul::matmul(
            m.as_mut(),
            Accum::Replace,
            xy.transpose(),
            xy.as_ref(),
            1.0,
            Par::Seq,
        );
    }
}

/// Pattern of Z_iᵀZ_j: which (level of i, level of j) pairs occur, and the
/// stored-block index of each observation.
fn pattern(ti: &ReTerm, tj: &ReTerm) -> (BlockSparse, Vec<u32>) {
    let n = ti.refs.len();
    let mut keys: Vec<u64> = (0..n)
        .map(|o| ((tj.refs[o] as u64) << 32) | ti.refs[o] as u64)
        .collect();
    let per_obs = keys.clone();
    keys.sort_unstable();
    keys.dedup();
    let ncol = tj.nlevels();
    let mut colptr = vec![0usize; ncol + 1];
    for &key in &keys {
        colptr[(key >> 32) as usize + 1] += 1;
    }
    for c in 0..ncol {
        colptr[c + 1] += colptr[c];
    }
    let rowidx: Vec<u32> = keys.iter().map(|&key| key as u32).collect();
    let pos: Vec<u32> = per_obs
        .iter()
        .map(|key| keys.binary_search(key).unwrap() as u32)
        .collect();
    let (vr, vc) = (ti.ncols(), tj.ncols());
    let nnz = keys.len();
    (
        BlockSparse {
            vr,
            vc,
            nrow_blocks: ti.nlevels(),
            ncol_blocks: ncol,
            colptr,
            rowidx,
            data: vec![0.0; nnz * vr * vc],
        },
        pos,
    )
}

/// Allocate L with the kind of each block decided from A's pattern.
///
/// A diagonal block of a random-effects term stays block diagonal when every
/// block it is downdated by has at most one stored block per column (the
/// term's factor is nested in the earlier ones); otherwise it fills in and is
/// dense. An off-diagonal block stays sparse, with A's pattern, when the
/// diagonal block it is divided by is block diagonal and every downdate lands
/// inside that pattern; otherwise it is dense. The [X y] row is dense.
pub fn allocate_l(a: &[Block], st: &Structure) -> Vec<Block> {
    let k = st.nterms;
    let mut l: Vec<Block> = Vec::with_capacity(a.len());
    for i in 0..=k {
        for j in 0..=i {
            let size_i = st.block_size(i);
            let size_j = st.block_size(j);
            let block = if i == k {
                Block::Dense(Mat::zeros(size_i, size_j))
            } else if i == j {
                let stays_diag = (0..j).all(|m| match &l[tri(j, m)] {
                    Block::Sparse(s) => s.max_col_nnz() <= 1,
                    _ => false,
                });
                if stays_diag {
                    Block::Diag(BlockDiag::zeros(st.v[i], st.nlevels[i]))
                } else {
                    Block::Dense(Mat::zeros(size_i, size_i))
                }
            } else {
                let Block::Sparse(aij) = &a[tri(i, j)] else {
                    unreachable!()
                };
                let diag_j_dense = matches!(l[tri(j, j)], Block::Dense(_));
                if !diag_j_dense && closed_under_updates(aij, &l, i, j) {
                    Block::Sparse(aij.zeros_like())
                } else {
                    Block::Dense(Mat::zeros(size_i, size_j))
                }
            };
            l.push(block);
        }
    }
    l
}

/// Do all products L[i,m] L[j,m]ᵀ (m < j) fall inside the pattern of A[i,j]?
fn closed_under_updates(aij: &BlockSparse, l: &[Block], i: usize, j: usize) -> bool {
    for m in 0..j {
        let (Block::Sparse(lim), Block::Sparse(ljm)) = (&l[tri(i, m)], &l[tri(j, m)]) else {
            return false;
        };
        for c in 0..lim.ncol_blocks {
            for &r1 in &lim.rowidx[lim.colptr[c]..lim.colptr[c + 1]] {
                for &r2 in &ljm.rowidx[ljm.colptr[c]..ljm.colptr[c + 1]] {
                    if aij.find(r1 as usize, r2 as usize).is_none() {
                        return false;
                    }
                }
            }
        }
    }
    true
}
