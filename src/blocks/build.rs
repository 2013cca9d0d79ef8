//! Assembling A from the model terms, and choosing the kind of every block of L.
//!
//! The pattern of the sparse blocks of A (which pairs of levels of two
//! grouping factors occur together) is computed once, with the position of
//! each observation's contribution, so that A can be refilled in O(n) when
//! the weights or the response change (PIRLS, refits, bootstrap).

use std::borrow::Cow;

use faer::Mat;

use super::sums::{Accumulate, Sum2};
use super::{tri, Block, BlockDiag, BlockSparse, PackedLower, PACKED_MIN_DIM};
use crate::terms::ReTerm;

/// An off-diagonal block of A between two random-effects terms whose stored
/// level pairs cover at least this fraction of all pairs (and whose columns
/// hold more than one pair, so that L fills in anyway) is stored dense: its
/// downdates are then matrix products instead of scattered pair updates.
const DENSE_FRACTION: f64 = 0.25;

/// How an off-diagonal block of A between two random-effects terms is stored.
#[derive(Debug, Clone)]
enum OffDiagonal {
    /// Block sparse with the given pattern and, per observation, the index
    /// of the stored block it adds to.
    Sparse(BlockSparse, Vec<u32>),
    /// Dense (most level pairs occur).
    Dense,
}

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
    /// Per packed off-diagonal random-effects block (i > j, i < K).
    offdiag: Vec<Option<OffDiagonal>>,
    /// Per term: is Z's row for every observation the single value 1
    /// (an intercept-only term)?
    unit_z: Vec<bool>,
}

impl Structure {
    /// Compute the pattern of A for `terms` and `p` fixed-effects columns.
    pub fn new(terms: &[ReTerm], p: usize, n: usize) -> Self {
        Self::with_storage(terms, p, n, true)
    }

    /// As [`Structure::new`], but every off-diagonal random-effects block
    /// stays block sparse (the blocks of one chunk of a streamed model, whose
    /// pairs of levels are merged into the whole data's pattern).
    pub fn new_sparse(terms: &[ReTerm], p: usize, n: usize) -> Self {
        Self::with_storage(terms, p, n, false)
    }

    fn with_storage(terms: &[ReTerm], p: usize, n: usize, allow_dense: bool) -> Self {
        let k = terms.len();
        let mut offdiag = vec![None; tri(k, k) + 1];
        for i in 0..k {
            for j in 0..i {
                let (b, pos) = pattern(&terms[i], &terms[j]);
                offdiag[tri(i, j)] = Some(if allow_dense && stored_dense(&b) {
                    OffDiagonal::Dense
                } else {
                    OffDiagonal::Sparse(b, pos)
                });
            }
        }
        Structure {
            nterms: k,
            v: terms.iter().map(ReTerm::ncols).collect(),
            nlevels: terms.iter().map(ReTerm::nlevels).collect(),
            p,
            n,
            offdiag,
            unit_z: terms
                .iter()
                .map(|t| t.ncols() == 1 && t.z.iter().all(|&z| z == 1.0))
                .collect(),
        }
    }

    /// The structure of a model whose A was accumulated elsewhere (streamed
    /// in chunks): block sizes, `n` observations, and the off-diagonal
    /// random-effects blocks of A (packed, `offdiag[tri(i, j)]` for i > j;
    /// other entries are ignored), each already stored dense or sparse by
    /// [`is_stored_dense`]; the structure keeps their kinds and the sparse
    /// blocks' patterns. It cannot refill A from rows (it keeps no
    /// per-observation positions).
    pub fn from_blocks(
        v: Vec<usize>,
        nlevels: Vec<usize>,
        p: usize,
        n: usize,
        offdiag: &[Option<Block>],
    ) -> Self {
        let k = v.len();
        let offdiag = offdiag
            .iter()
            .map(|b| match b {
                Some(Block::Sparse(b)) => Some(OffDiagonal::Sparse(b.clone(), Vec::new())),
                Some(Block::Dense(_)) => Some(OffDiagonal::Dense),
                _ => None,
            })
            .collect();
        Structure {
            nterms: k,
            v,
            nlevels,
            p,
            n,
            offdiag,
            unit_z: vec![false; k],
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
                    match self.offdiag[tri(i, j)].as_ref().unwrap() {
                        OffDiagonal::Sparse(b, _) => Block::Sparse(b.zeros_like()),
                        OffDiagonal::Dense => {
                            Block::Dense(Mat::zeros(self.block_size(i), self.block_size(j)))
                        }
                    }
                } else {
                    Block::Dense(Mat::zeros(self.p + 1, self.block_size(j)))
                });
            }
        }
        a
    }

    /// Fill A = [Z X y]'W[Z X y] (W = diag(sqrtw²), identity when `sqrtw` is None)
    /// with plain sums (the refills of PIRLS).
    ///
    /// `xy` is the `n × (p + 1)` matrix [X y] already multiplied by √w row-wise.
    pub fn fill_a(&self, a: &mut [Block], terms: &[ReTerm], xy: &Mat<f64>, sqrtw: Option<&[f64]>) {
        let sums = self.accumulate::<f64>(terms, xy, sqrtw);
        for (block, values) in a.iter_mut().zip(sums) {
            store(block, values.into_iter());
        }
    }

    /// Fill A as [`fill_a`](Self::fill_a) does, with compensated sums
    /// ([`Sum2`]), so that A does not depend on the order of the rows nor
    /// on how they were split. With `lo` given, `a` receives the sums'
    /// rounded parts and `lo` (per block, in the block's storage order) their
    /// rounding errors, for adding to other sums; without it, `a` receives
    /// the sums rounded once.
    pub fn fill_a_compensated(
        &self,
        a: &mut [Block],
        lo: Option<&mut Vec<Vec<f64>>>,
        terms: &[ReTerm],
        xy: &Mat<f64>,
        sqrtw: Option<&[f64]>,
    ) {
        let sums = self.accumulate::<Sum2>(terms, xy, sqrtw);
        match lo {
            Some(lo) => {
                lo.clear();
                for (block, values) in a.iter_mut().zip(sums) {
                    store(block, values.iter().map(|s| s.hi));
                    lo.push(values.iter().map(|s| s.lo).collect());
                }
            }
            None => {
                for (block, values) in a.iter_mut().zip(sums) {
                    store(block, values.into_iter().map(Sum2::value));
                }
            }
        }
    }

    /// The sums of A's blocks (packed block order), each in its block's
    /// storage order: see [`store`].
    fn accumulate<S: Accumulate>(
        &self,
        terms: &[ReTerm],
        xy: &Mat<f64>,
        sqrtw: Option<&[f64]>,
    ) -> Vec<Vec<S>> {
        let k = self.nterms;
        // √w zᵢ per term: the rows of √W Z (just √w for an intercept-only term).
        let wz: Vec<Cow<[f64]>> = terms
            .iter()
            .zip(&self.unit_z)
            .map(|(t, &unit)| match sqrtw {
                None => Cow::Borrowed(&t.z[..]),
                Some(s) if unit => Cow::Borrowed(s),
                Some(s) => {
                    let v = t.ncols();
                    let mut out = t.z.clone();
                    for (row, &w) in out.chunks_exact_mut(v).zip(s) {
                        row.iter_mut().for_each(|z| *z *= w);
                    }
                    Cow::Owned(out)
                }
            })
            .collect();
        let mut sums: Vec<Vec<S>> = Vec::with_capacity(tri(k, k) + 1);
        let w = self.p + 1;
        for t in 0..=k {
            for s in 0..=t {
                let size = if t == k {
                    w * self.block_size(s)
                } else if s == t {
                    self.nlevels[t] * self.v[t] * self.v[t]
                } else {
                    match self.offdiag[tri(t, s)].as_ref().unwrap() {
                        OffDiagonal::Sparse(b, _) => b.nnz() * self.v[t] * self.v[s],
                        OffDiagonal::Dense => self.block_size(t) * self.block_size(s),
                    }
                };
                let mut acc = vec![S::default(); size];
                if t == k && s == k {
                    acc = S::gram(xy);
                } else if t == k {
                    fill_xy_z(&mut acc, xy, &terms[s].refs, &wz[s], self.v[s]);
                } else if s == t {
                    fill_diag(&mut acc, &terms[t].refs, &wz[t], self.v[t]);
                } else {
                    let rows = (&terms[t].refs[..], &wz[t][..], self.v[t]);
                    let cols = (&terms[s].refs[..], &wz[s][..], self.v[s]);
                    match self.offdiag[tri(t, s)].as_ref().unwrap() {
                        OffDiagonal::Sparse(_, pos) => fill_sparse(&mut acc, pos, rows, cols),
                        OffDiagonal::Dense => fill_dense(&mut acc, self.block_size(t), rows, cols),
                    }
                }
                sums.push(acc);
            }
        }
        sums
    }
}

/// Write `values` into `block` in its storage order: a diagonal or sparse
/// block's `data`, a dense block column by column.
fn store(block: &mut Block, values: impl Iterator<Item = f64>) {
    match block {
        Block::Diag(d) => d.data.iter_mut().zip(values).for_each(|(x, v)| *x = v),
        Block::Sparse(b) => b.data.iter_mut().zip(values).for_each(|(x, v)| *x = v),
        Block::Dense(m) => {
            let (nrows, ncols) = (m.nrows(), m.ncols());
            let mut values = values;
            for c in 0..ncols {
                let col = m.col_mut(c).try_as_col_major_mut().unwrap().as_slice_mut();
                col.iter_mut()
                    .zip(values.by_ref().take(nrows))
                    .for_each(|(x, v)| *x = v);
            }
        }
        Block::Packed(_) => unreachable!("A has no packed blocks"),
    }
}

/// Is an off-diagonal block with pattern `b` stored dense? (Most level
/// pairs occur, and L fills in anyway.)
fn stored_dense(b: &BlockSparse) -> bool {
    is_stored_dense(b.nnz(), b.max_col_nnz(), b.nrow_blocks, b.ncol_blocks)
}

/// Is an off-diagonal block of `nrow_blocks × ncol_blocks` level pairs, of
/// which `nnz` occur and at most `max_col_nnz` in one column, stored dense?
/// (The rule of [`Structure::new`], for a pattern given by its counts.)
pub fn is_stored_dense(
    nnz: usize,
    max_col_nnz: usize,
    nrow_blocks: usize,
    ncol_blocks: usize,
) -> bool {
    let pairs = (nrow_blocks * ncol_blocks) as f64;
    max_col_nnz > 1 && nnz as f64 >= DENSE_FRACTION * pairs
}

/// A term's rows of √W Z: the level of each observation, the row values
/// (n × v, row-major) and v.
type WeightedRows<'a> = (&'a [u32], &'a [f64], usize);

/// acc[refs[i]] += vals[i], summing runs of equal consecutive levels in a
/// register first: data sorted by a factor would otherwise chain every
/// addition through the same memory location.
fn scatter_add<S: Accumulate>(acc: &mut [S], refs: &[u32], vals: impl Iterator<Item = f64>) {
    let mut current = u32::MAX;
    let mut sum = S::default();
    for (&l, x) in refs.iter().zip(vals) {
        if l != current {
            if current != u32::MAX {
                acc[current as usize].merge(sum);
            }
            current = l;
            sum = S::default();
        }
        sum.add(x);
    }
    if current != u32::MAX {
        acc[current as usize].merge(sum);
    }
}

/// Diagonal block of a term: Σ (√w z)(√w z)ᵀ per level (v × v per level,
/// column-major, levels in order).
fn fill_diag<S: Accumulate>(acc: &mut [S], refs: &[u32], wz: &[f64], v: usize) {
    if v == 1 {
        scatter_add(acc, refs, wz.iter().map(|z| z * z));
        return;
    }
    for (obs, &l) in refs.iter().enumerate() {
        let z = &wz[obs * v..(obs + 1) * v];
        let blk = &mut acc[l as usize * v * v..(l as usize + 1) * v * v];
        for c in 0..v {
            for r in 0..v {
                blk[c * v + r].add(z[r] * z[c]);
            }
        }
    }
}

/// Sparse off-diagonal block: each observation adds (√w zᵢ)(√w zⱼ)ᵀ to its
/// stored block `pos[obs]`.
fn fill_sparse<S: Accumulate>(acc: &mut [S], pos: &[u32], rows: WeightedRows, cols: WeightedRows) {
    let ((_, zr, vr), (_, zc, vc)) = (rows, cols);
    if vr == 1 && vc == 1 {
        scatter_add(acc, pos, zr.iter().zip(zc).map(|(a, b)| a * b));
        return;
    }
    let size = vr * vc;
    for (obs, &k) in pos.iter().enumerate() {
        let blk = &mut acc[k as usize * size..(k as usize + 1) * size];
        for c in 0..vc {
            for r in 0..vr {
                blk[c * vr + r].add(zr[obs * vr + r] * zc[obs * vc + c]);
            }
        }
    }
}

/// Dense off-diagonal block (`nrows` rows, column-major): each observation
/// adds (√w zᵢ)(√w zⱼ)ᵀ at its pair of levels.
fn fill_dense<S: Accumulate>(acc: &mut [S], nrows: usize, rows: WeightedRows, cols: WeightedRows) {
    let ((lr, zr, vr), (lc, zc, vc)) = (rows, cols);
    if vr == 1 && vc == 1 {
        for obs in 0..lr.len() {
            acc[lr[obs] as usize + lc[obs] as usize * nrows].add(zr[obs] * zc[obs]);
        }
    } else {
        for obs in 0..lr.len() {
            let (r0, c0) = (lr[obs] as usize * vr, lc[obs] as usize * vc);
            for c in 0..vc {
                for r in 0..vr {
                    acc[r0 + r + (c0 + c) * nrows].add(zr[obs * vr + r] * zc[obs * vc + c]);
                }
            }
        }
    }
}

/// Σ aᵢbᵢ with four partial sums (independent additions).
fn dot<S: Accumulate>(a: &[f64], b: &[f64]) -> S {
    let mut s = [S::default(); 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let mut tail = S::default();
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .for_each(|(x, y)| tail.add(x * y));
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            s[i].add(x[i] * y[i]);
        }
    }
    let [mut s01, s1, mut s23, s3] = s;
    s01.merge(s1);
    s23.merge(s3);
    s01.merge(s23);
    s01.merge(tail);
    s01
}

/// Runs shorter than this are accumulated observation by observation.
const MIN_RUN: usize = 4;

/// [X y]ᵀ W Zₜ (a w × q block, column-major in `acc`) from the weighted
/// [X y] (n × w, column-major) and the term's weighted rows. Data are often
/// sorted by a grouping factor: a run of observations at one level is
/// summed column by column as dot products over contiguous memory;
/// otherwise each observation adds its row of [X y] to its level's sums.
fn fill_xy_z<S: Accumulate>(acc: &mut [S], xy: &Mat<f64>, refs: &[u32], wz: &[f64], v: usize) {
    let (n, w) = (refs.len(), xy.ncols());
    let cols: Vec<&[f64]> = (0..w)
        .map(|r| xy.col(r).try_as_col_major().unwrap().as_slice())
        .collect();
    let mut zc = vec![0.0; if v == 1 { 0 } else { n }];
    for c in 0..v {
        // √w z of column c of the term, contiguous.
        let z: &[f64] = if v == 1 {
            wz
        } else {
            zc.iter_mut()
                .enumerate()
                .for_each(|(obs, x)| *x = wz[obs * v + c]);
            &zc
        };
        let mut start = 0;
        while start < n {
            let level = refs[start];
            let mut end = start + 1;
            while end < n && refs[end] == level {
                end += 1;
            }
            let sums = &mut acc[(level as usize * v + c) * w..(level as usize * v + c + 1) * w];
            if end - start >= MIN_RUN {
                for (sum, col) in sums.iter_mut().zip(&cols) {
                    sum.merge(dot(&col[start..end], &z[start..end]));
                }
            } else {
                for obs in start..end {
                    for (sum, col) in sums.iter_mut().zip(&cols) {
                        sum.add(col[obs] * z[obs]);
                    }
                }
            }
            start = end;
        }
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
    allocate_l_packing(a, st, PACKED_MIN_DIM)
}

/// [`allocate_l`] with dense diagonal blocks of at least `packed_min_dim`
/// rows stored packed ([`PackedLower`]); `usize::MAX` keeps every block
/// square (used to compare the two forms).
pub fn allocate_l_packing(a: &[Block], st: &Structure, packed_min_dim: usize) -> Vec<Block> {
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
                } else if size_i >= packed_min_dim {
                    Block::Packed(PackedLower::zeros(size_i))
                } else {
                    Block::Dense(Mat::zeros(size_i, size_i))
                }
            } else {
                let diag_j_dense = l[tri(j, j)].is_dense();
                match &a[tri(i, j)] {
                    Block::Sparse(aij) if !diag_j_dense && closed_under_updates(aij, &l, i, j) => {
                        Block::Sparse(aij.zeros_like())
                    }
                    _ => Block::Dense(Mat::zeros(size_i, size_j)),
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
