//! The selected inverse: the entries of Z = (L Lᵀ)⁻¹ on the block pattern of
//! L (and its transpose), from the factor L, without forming the whole
//! inverse.
//!
//! # Recurrence
//!
//! From Z L = L⁻ᵀ, which is upper triangular with diagonal blocks L_jj⁻ᵀ,
//! column block j of Z follows from the later ones (Takahashi, Fagan & Chen
//! 1973; Erisman & Tinney 1975). With b the rows of L's pattern below the
//! diagonal block of column j and U = L_bj L_jj⁻¹,
//!
//! * Z_bj = −Z_bb U,
//! * Z_jj = L_jj⁻ᵀ L_jj⁻¹ + Uᵀ Z_bb U,
//!
//! and Z_bb needs only entries on L's pattern, because the pattern is closed:
//! two rows in the pattern of one column meet in an entry of a later column
//! (the fill of the factorization).
//!
//! # Blocks
//!
//! The blocked factor (`blocks::build::allocate_l`) has a leading "prefix"
//! of block-diagonal diagonal blocks (terms whose factor is nested in the
//! earlier ones) and, from the first dense diagonal block on, a dense
//! "trailing" part T (the crossed terms and the fixed effects X). Z_TT is
//! the inverse of L_TT L_TTᵀ, its lower triangle kept packed: L_TT's lower
//! triangle is copied into a [`PackedLower`] and inverted there in place
//! (`packed_inverse`: triangular solves, products and faer's dense inverse
//! on small pieces, about 2t³/3 flops, in parallel), so the gradient holds
//! no square t × t matrix. The prefix is then swept level by level, last term first,
//! with the recurrence above; its column patterns are small (a level meets
//! at most one level of each later nested term, and the levels of a
//! crossed term it occurs with), so the sweep costs about Σ (pattern size)²
//! per level.
//!
//! The fixed-effects block holds the p rows of X only (the response row of
//! L is left out); without X (`include_x = false`) Z is the inverse of the
//! random-effects part L_Z L_Zᵀ = ΛᵀZᵀWZΛ + I.

use faer::{Mat, Par};

use super::{tri, Block, BlockDiag, PackedLower, Structure};

/// Z = (L Lᵀ)⁻¹ on L's block pattern (module docs).
pub struct SelectedInverse {
    /// Blocks in Z: the K terms, then X (p rows) when included.
    nblocks: usize,
    /// First block of the dense trailing part.
    first: usize,
    /// Columns per level of each block (X: 1).
    v: Vec<usize>,
    /// Offset of each trailing block (i ≥ first) within T.
    toff: Vec<usize>,
    /// Z's diagonal blocks of the prefix terms (j < first), each level's
    /// v × v block stored in full.
    diag: Vec<BlockDiag>,
    /// Z's blocks (i, j) below the prefix diagonal (j < first, i > j), with
    /// the kind and pattern of L's (X: dense p × q_j); packed by `tri`.
    off: Vec<Option<Block>>,
    /// Z_TT, its lower triangle packed.
    zt: PackedLower,
}

/// A level's part of Z's column computed on the pool: the level, its
/// pattern and W (see [`ColumnSweep::compute`]).
type LevelResult = (usize, Vec<Segment>, Vec<f64>);

/// The sweep runs on the pool when the trailing part has at least this
/// many rows (below it each level's work is too small to hand out)...
const PARALLEL_TRAILING: usize = 64;
/// ...and the prefix term at least this many levels.
const PARALLEL_LEVELS: usize = 256;
/// Levels of a prefix term computed on the pool before their results are
/// written into Z (bounds the patterns and W held at once: with crossed
/// terms a level's pattern has a row per level of the crossed factor it
/// meets).
const SWEEP_BATCH: usize = 1024;
/// Largest trailing part t for the batched sweep ([`SelectedInverse::new`]):
/// a prefix column whose blocks below it are all dense reaches every
/// trailing row at every level, so W = Z_TT U is a product of a square
/// copy of Z_TT (t² values: 128 MiB at 4,096) with the U of
/// [`LEVEL_BATCH`] levels at a time — one matrix product instead of a
/// strided pass over Z_TT per level (1,000 × 100,000 crossed levels: the
/// per-level passes took minutes per gradient).
const BATCHED_SWEEP_MAX_T: usize = 4096;
/// Least work (levels × t², multiply–adds) for the batched sweep: below it
/// the per-level sweep is fast enough, and it keeps the arithmetic of a
/// column independent of whether L stores the blocks below it dense or
/// sparse (a streamed model may store a block sparse that the in-memory
/// one stores dense: their fits then agree to rounding, not to the flat
/// last digits of θ that a different summation order moves).
const BATCHED_SWEEP_MIN_WORK: usize = 1 << 30;
/// Levels per product of the batched sweep.
const LEVEL_BATCH: usize = 256;

/// Rows of one column's pattern below its diagonal block: rows `row0 ..
/// row0 + len` of block `block`, its stored block `stored` when L's block
/// is sparse, and its first row in the gathered column.
#[derive(Clone, Copy)]
struct Segment {
    block: usize,
    row0: usize,
    len: usize,
    stored: Option<usize>,
    at: usize,
}

impl SelectedInverse {
    /// The selected inverse of the factor `l` (blocks as `st` describes),
    /// of L L ᵀ with X when `include_x`, else of L_Z L_Zᵀ. `par`: the
    /// parallelism of the dense inverse.
    pub fn new(l: &[Block], st: &Structure, include_x: bool, par: Par) -> Self {
        Self::with_batched_sweep(l, st, include_x, par, BATCHED_SWEEP_MIN_WORK)
    }

    /// [`SelectedInverse::new`] with the batched sweep for columns of at
    /// least `min_work` (levels × t²; tests check both sweeps).
    pub(crate) fn with_batched_sweep(
        l: &[Block],
        st: &Structure,
        include_x: bool,
        par: Par,
        min_work: usize,
    ) -> Self {
        let k = st.nterms;
        let nblocks = if include_x && st.p > 0 { k + 1 } else { k };
        let sizes: Vec<usize> = (0..nblocks)
            .map(|i| if i < k { st.block_size(i) } else { st.p })
            .collect();
        let v: Vec<usize> = (0..nblocks)
            .map(|i| if i < k { st.v[i] } else { 1 })
            .collect();
        let first = (0..k)
            .find(|&j| l[tri(j, j)].is_dense())
            .unwrap_or(k)
            .min(nblocks);
        let mut toff = vec![0; nblocks + 1];
        for i in first..nblocks {
            toff[i + 1] = toff[i] + sizes[i];
        }
        let t = toff[nblocks];
        let zt = trailing_inverse(l, &sizes, &toff, first, t, par);
        let mut z = SelectedInverse {
            nblocks,
            first,
            v,
            toff,
            diag: (0..first)
                .map(|j| BlockDiag::zeros(st.v[j], st.nlevels[j]))
                .collect(),
            off: vec![None; tri(nblocks, nblocks) + 1],
            zt,
        };
        let parallel = !matches!(par, Par::Seq) && t >= PARALLEL_TRAILING;
        let mut sweep = ColumnSweep::default();
        for j in (0..first).rev() {
            // Z's blocks of column j, zero, with L's kinds.
            for i in j + 1..nblocks {
                z.off[tri(i, j)] = Some(match &l[tri(i, j)] {
                    Block::Sparse(s) => Block::Sparse(s.zeros_like()),
                    _ => Block::Dense(Mat::zeros(sizes[i], sizes[j])),
                });
            }
            let Block::Diag(ljj) = &l[tri(j, j)] else {
                unreachable!("prefix diagonal blocks are block diagonal")
            };
            // Column j reads only later blocks: its diagonal is out meanwhile.
            let mut zjj = std::mem::replace(&mut z.diag[j], BlockDiag::zeros(0, 0));
            let vj = ljj.v;
            let all_dense_below =
                j + 1 == first && (j + 1..nblocks).all(|i| matches!(l[tri(i, j)], Block::Dense(_)));
            let work = ljj.nblocks.saturating_mul(t * t);
            if all_dense_below && t <= BATCHED_SWEEP_MAX_T && work >= min_work {
                batched_sweep(&mut z, l, &sizes, (j, ljj), &mut zjj, par);
            } else if parallel && ljj.nblocks >= PARALLEL_LEVELS {
                // Levels are independent given the later columns: compute
                // them in chunks on the pool, then write Z's blocks here,
                // [`SWEEP_BATCH`] levels at a time (their patterns and W are
                // held until written).
                use rayon::prelude::*;
                let chunk = PARALLEL_LEVELS / 4;
                let zr = &mut z;
                let sizes = &sizes;
                for (batch, levels) in zjj.data.chunks_mut(SWEEP_BATCH * vj * vj).enumerate() {
                    let z0 = batch * SWEEP_BATCH;
                    let zs = &*zr;
                    let results: Vec<Vec<LevelResult>> = levels
                        .par_chunks_mut(chunk * vj * vj)
                        .enumerate()
                        .map(|(c, blocks)| {
                            let mut sweep = ColumnSweep::default();
                            let mut out = Vec::with_capacity(chunk);
                            for (k, zg) in blocks.chunks_mut(vj * vj).enumerate() {
                                let g = z0 + c * chunk + k;
                                sweep.compute(zs, l, sizes, (j, g), ljj.block(g), zg);
                                out.push((g, sweep.segments.clone(), sweep.w.clone()));
                            }
                            out
                        })
                        .collect();
                    for (g, segments, w) in results.into_iter().flatten() {
                        scatter(zr, (j, g), &segments, &w);
                    }
                }
            } else {
                for g in 0..ljj.nblocks {
                    sweep.compute(&z, l, &sizes, (j, g), ljj.block(g), zjj.block_mut(g));
                    scatter(&mut z, (j, g), &sweep.segments, &sweep.w);
                }
            }
            z.diag[j] = zjj;
        }
        z
    }

    /// The bytes [`SelectedInverse::new`] allocates for the factor `l` (as
    /// `st` describes, with X when `include_x`): Z's blocks of the prefix
    /// columns with L's kinds and patterns, Z_TT packed, and the packed
    /// inverse's scratch (the sweep's per-level buffers are left out).
    pub fn estimated_bytes(l: &[Block], st: &Structure, include_x: bool) -> usize {
        const F64: usize = std::mem::size_of::<f64>();
        let k = st.nterms;
        let nblocks = if include_x && st.p > 0 { k + 1 } else { k };
        let sizes: Vec<usize> = (0..nblocks)
            .map(|i| if i < k { st.block_size(i) } else { st.p })
            .collect();
        let first = (0..k)
            .find(|&j| l[tri(j, j)].is_dense())
            .unwrap_or(k)
            .min(nblocks);
        let mut bytes = 0;
        for j in 0..first {
            bytes += sizes[j] * st.v[j] * F64;
            for i in j + 1..nblocks {
                bytes += match &l[tri(i, j)] {
                    Block::Sparse(s) => {
                        s.data.len() * F64
                            + s.rowidx.len() * std::mem::size_of::<u32>()
                            + s.colptr.len() * std::mem::size_of::<usize>()
                    }
                    _ => sizes[i] * sizes[j] * F64,
                };
            }
        }
        let t: usize = sizes[first..].iter().sum();
        bytes
            + PackedLower::stored_len_for(t) * F64
            + super::packed_inverse::inverse_scratch_bytes(t)
    }

    /// Z at (row `ri` of block `i`, row `rj` of block `j`), for a pair of
    /// rows on L's pattern (or its transpose); blocks are the terms, then X.
    pub fn get(&self, i: usize, ri: usize, j: usize, rj: usize) -> f64 {
        let (i, ri, j, rj) = if i > j || (i == j && ri >= rj) {
            (i, ri, j, rj)
        } else {
            (j, rj, i, ri)
        };
        if j >= self.first {
            let (a, b) = (self.toff[i] + ri, self.toff[j] + rj);
            return self.zt.get(a.max(b), a.min(b));
        }
        if i == j {
            let v = self.v[j];
            debug_assert_eq!(ri / v, rj / v, "Z is block diagonal within a prefix term");
            return self.diag[j].block(ri / v)[(rj % v) * v + ri % v];
        }
        match self.off[tri(i, j)].as_ref() {
            Some(Block::Dense(m)) => m[(ri, rj)],
            Some(Block::Sparse(s)) => {
                let found = s.find(ri / s.vr, rj / s.vc);
                debug_assert!(found.is_some(), "Z is read on L's pattern only");
                found.map_or(0.0, |kk| s.block(kk)[(rj % s.vc) * s.vr + ri % s.vr])
            }
            _ => unreachable!("blocks below the prefix diagonal are sparse or dense"),
        }
    }

    /// Z's block (i, j) below a prefix diagonal (j < first, i > j), with
    /// the kind and pattern of L's block; None for other blocks.
    pub fn off_block(&self, i: usize, j: usize) -> Option<&Block> {
        if j < self.first && i > j && i < self.nblocks {
            self.off[tri(i, j)].as_ref()
        } else {
            None
        }
    }
}

/// The sweep of prefix column `j` when every block below it is dense (each
/// level's pattern is the whole trailing part, in order): W = Z_TT U for
/// [`LEVEL_BATCH`] levels at a time by one product with a square copy of
/// Z_TT, then each level's diagonal block and Z's blocks below it as in
/// the per-level sweep.
fn batched_sweep(
    z: &mut SelectedInverse,
    l: &[Block],
    sizes: &[usize],
    (j, ljj): (usize, &BlockDiag),
    zjj: &mut BlockDiag,
    par: Par,
) {
    let t = z.toff[z.nblocks];
    let vj = ljj.v;
    let square = square_of(&z.zt);
    let mut sweep = ColumnSweep::default();
    let mut u = Mat::<f64>::zeros(t, LEVEL_BATCH * vj);
    let mut w = Mat::<f64>::zeros(t, LEVEL_BATCH * vj);
    for start in (0..ljj.nblocks).step_by(LEVEL_BATCH) {
        let levels = LEVEL_BATCH.min(ljj.nblocks - start);
        for k in 0..levels {
            sweep.gather_u(z, l, sizes, (j, start + k), ljj.block(start + k));
            debug_assert_eq!(
                sweep.rows.len(),
                t,
                "a dense column reaches every trailing row"
            );
            for c in 0..vj {
                u.col_mut(k * vj + c)
                    .iter_mut()
                    .zip(&sweep.u[c * t..(c + 1) * t])
                    .for_each(|(a, b)| *a = *b);
            }
        }
        let cols = levels * vj;
        faer::linalg::matmul::matmul(
            w.as_mut().subcols_mut(0, cols),
            faer::Accum::Replace,
            square.as_ref(),
            u.as_ref().subcols(0, cols),
            1.0,
            super::kernels::par_for(t * t * cols, par),
        );
        sweep.w.resize(t * vj, 0.0);
        for k in 0..levels {
            let g = start + k;
            for c in 0..vj {
                let (uc, wc) = (u.col(k * vj + c), w.col(k * vj + c));
                for r in 0..t {
                    sweep.u[c * t + r] = uc[r];
                }
                for r in 0..t {
                    sweep.w[c * t + r] = wc[r];
                }
            }
            sweep.diagonal_block(ljj.block(g), vj, zjj.block_mut(g));
            scatter(z, (j, g), &sweep.segments, &sweep.w);
        }
    }
}

/// Write Z_bj = −W for level `g` of prefix term `j` (the pattern's
/// `segments`, W column-major).
fn scatter(z: &mut SelectedInverse, (j, g): (usize, usize), segments: &[Segment], w: &[f64]) {
    let vj = z.v[j];
    let n = w.len() / vj.max(1);
    for seg in segments {
        match z.off[tri(seg.block, j)].as_mut() {
            Some(Block::Sparse(s)) => {
                let kk = seg
                    .stored
                    .expect("a sparse block's segment is a stored block");
                let blk = &mut s.data[kk * s.vr * vj..(kk + 1) * s.vr * vj];
                for c in 0..vj {
                    for r in 0..seg.len {
                        blk[c * seg.len + r] = -w[c * n + seg.at + r];
                    }
                }
            }
            Some(Block::Dense(m)) => {
                for c in 0..vj {
                    for r in 0..seg.len {
                        m[(seg.row0 + r, g * vj + c)] = -w[c * n + seg.at + r];
                    }
                }
            }
            _ => unreachable!("Z's blocks of column j are allocated"),
        }
    }
}

/// The packed symmetric `zt` as a square matrix (both triangles).
fn square_of(zt: &PackedLower) -> Mat<f64> {
    let t = zt.dim();
    let mut square = Mat::<f64>::zeros(t, t);
    for c in 0..t {
        let (col, stride) = zt.column(c);
        for r in c..t {
            let v = col[(r - c) * stride];
            square[(r, c)] = v;
            square[(c, r)] = v;
        }
    }
    square
}

/// Z_TT = (L_TT L_TTᵀ)⁻¹ (lower triangle, packed) from the dense trailing
/// blocks: their lower triangle is copied into one packed array, which the
/// inverse then overwrites (`packed_inverse`), so Z_TT takes about t²/2
/// values and nothing square of size t is allocated.
fn trailing_inverse(
    l: &[Block],
    sizes: &[usize],
    toff: &[usize],
    first: usize,
    t: usize,
    par: Par,
) -> PackedLower {
    let mut zt = PackedLower::zeros(t);
    for i in first..sizes.len() {
        for j in first..=i {
            let (oi, oj) = (toff[i], toff[j]);
            match &l[tri(i, j)] {
                Block::Dense(m) => {
                    for c in 0..sizes[j] {
                        let r0 = if i == j { c } else { 0 };
                        for r in r0..sizes[i] {
                            *zt.get_mut(oi + r, oj + c) = m[(r, c)];
                        }
                    }
                }
                Block::Packed(p) => {
                    for c in 0..sizes[j] {
                        for r in c..sizes[i] {
                            *zt.get_mut(oi + r, oj + c) = p.get(r, c);
                        }
                    }
                }
                _ => unreachable!("trailing blocks of L are dense"),
            }
        }
    }
    // About 2t³/3 flops: small inverses stay on this thread.
    zt.cholesky_inverse_in_place(super::kernels::par_for(2 * t * t * t / 3, par));
    zt
}

/// Scratch of the sweep over one prefix column's levels.
#[derive(Default)]
struct ColumnSweep {
    segments: Vec<Segment>,
    /// U = L_bj L_jj⁻¹, column-major (rows × v_j).
    u: Vec<f64>,
    /// W = Z_bb U, column-major.
    w: Vec<f64>,
    /// Rows of the gathered column: (block, row in block).
    rows: Vec<(usize, usize)>,
    /// The trailing rows' indices in Z_TT.
    trailing: Vec<usize>,
}

impl ColumnSweep {
    /// The recurrence for level `g` of prefix term `j`: W = Z_bb U (Z's
    /// blocks below it are −W, written by [`scatter`]) and its diagonal
    /// block `zjj` (v × v).
    fn compute(
        &mut self,
        z: &SelectedInverse,
        l: &[Block],
        sizes: &[usize],
        (j, g): (usize, usize),
        ljj: &[f64],
        zjj: &mut [f64],
    ) {
        let vj = z.v[j];
        self.gather_u(z, l, sizes, (j, g), ljj);
        let n = self.rows.len();
        // W = Z_bb U. The trailing rows (a suffix of the pattern, in
        // increasing order) read Z_TT's lower triangle column by column.
        self.w.clear();
        self.w.resize(n * vj, 0.0);
        let nt0 = self
            .rows
            .iter()
            .position(|&(i, _)| i >= z.first)
            .unwrap_or(n);
        // The trailing rows' indices in Z_TT.
        self.trailing.clear();
        self.trailing
            .extend(self.rows[nt0..].iter().map(|&(i, r)| z.toff[i] + r));
        for b in nt0..n {
            let tb = self.trailing[b - nt0];
            // Column tb of Z_TT from its diagonal: row r at (r − tb)·stride.
            let (col, stride) = z.zt.column(tb);
            for c in 0..vj {
                let (wc, uc) = (&mut self.w[c * n..(c + 1) * n], &self.u[c * n..(c + 1) * n]);
                let ub = uc[b];
                let mut wb = wc[b] + col[0] * ub;
                // No test for zero entries: the loads of one column then
                // overlap (a branch on each stalled on its cache miss).
                for (a, &ta) in (b + 1..n).zip(&self.trailing[b + 1 - nt0..]) {
                    let zab = col[(ta - tb) * stride];
                    wc[a] += zab * ub;
                    wb += zab * uc[a];
                }
                wc[b] = wb;
            }
        }
        // Pairs with a prefix row.
        for a in 0..nt0 {
            let (ia, ra) = self.rows[a];
            for b in 0..n {
                let (ib, rb) = self.rows[b];
                let zab = z.get(ia, ra, ib, rb);
                if zab != 0.0 {
                    for c in 0..vj {
                        self.w[c * n + a] += zab * self.u[c * n + b];
                        if b >= nt0 {
                            self.w[c * n + b] += zab * self.u[c * n + a];
                        }
                    }
                }
            }
        }
        self.diagonal_block(ljj, vj, zjj);
    }

    /// The pattern of column (j, g) below its diagonal block and
    /// U = L_bj L_jj⁻¹ there (into `u`, column-major).
    fn gather_u(
        &mut self,
        z: &SelectedInverse,
        l: &[Block],
        sizes: &[usize],
        (j, g): (usize, usize),
        ljj: &[f64],
    ) {
        let vj = z.v[j];
        self.gather(z, l, sizes, j, g);
        let n = self.rows.len();
        // Solve U L_jj = L_bj column by column, last first.
        for c in (0..vj).rev() {
            for r in 0..n {
                let mut s = self.u[c * n + r];
                for cc in c + 1..vj {
                    s -= self.u[cc * n + r] * ljj[c * vj + cc];
                }
                self.u[c * n + r] = s / ljj[c * vj + c];
            }
        }
    }

    /// Z_jj = L_jj⁻ᵀ L_jj⁻¹ + Uᵀ W (v × v) from the `u` and `w` held.
    fn diagonal_block(&self, ljj: &[f64], vj: usize, zjj: &mut [f64]) {
        let n = self.rows.len();
        let mut inv = [0.0f64; 64];
        let mut heap = Vec::new();
        let linv: &mut [f64] = if vj * vj <= 64 {
            &mut inv[..vj * vj]
        } else {
            heap.resize(vj * vj, 0.0);
            &mut heap
        };
        for c in 0..vj {
            for r in c..vj {
                let mut s = if r == c { 1.0 } else { 0.0 };
                for m in c..r {
                    s -= ljj[m * vj + r] * linv[c * vj + m];
                }
                linv[c * vj + r] = s / ljj[r * vj + r];
            }
        }
        for a in 0..vj {
            for b in 0..vj {
                let mut s: f64 = (a.max(b)..vj)
                    .map(|m| linv[a * vj + m] * linv[b * vj + m])
                    .sum();
                for r in 0..n {
                    s += self.u[a * n + r] * self.w[b * n + r];
                }
                zjj[b * vj + a] = s;
            }
        }
    }

    /// The pattern of column (j, g) below its diagonal block, and L's
    /// values there (into `u`, column-major).
    fn gather(&mut self, z: &SelectedInverse, l: &[Block], sizes: &[usize], j: usize, g: usize) {
        let vj = z.v[j];
        self.segments.clear();
        self.rows.clear();
        let mut at = 0;
        for i in j + 1..z.nblocks {
            match &l[tri(i, j)] {
                Block::Sparse(s) => {
                    for kk in s.colptr[g]..s.colptr[g + 1] {
                        let m = s.rowidx[kk] as usize;
                        self.segments.push(Segment {
                            block: i,
                            row0: m * s.vr,
                            len: s.vr,
                            stored: Some(kk),
                            at,
                        });
                        at += s.vr;
                    }
                }
                Block::Dense(_) => {
                    self.segments.push(Segment {
                        block: i,
                        row0: 0,
                        len: sizes[i],
                        stored: None,
                        at,
                    });
                    at += sizes[i];
                }
                Block::Diag(_) | Block::Packed(_) => {
                    unreachable!("off-diagonal blocks are never diagonal or packed")
                }
            }
        }
        let n = at;
        self.u.clear();
        self.u.resize(n * vj, 0.0);
        for seg in &self.segments {
            for r in 0..seg.len {
                self.rows.push((seg.block, seg.row0 + r));
            }
            match &l[tri(seg.block, j)] {
                Block::Sparse(s) => {
                    let blk = s.block(seg.stored.expect("sparse segment"));
                    for c in 0..vj {
                        for r in 0..seg.len {
                            self.u[c * n + seg.at + r] = blk[c * s.vr + r];
                        }
                    }
                }
                Block::Dense(m) => {
                    for c in 0..vj {
                        for r in 0..seg.len {
                            self.u[c * n + seg.at + r] = m[(seg.row0 + r, g * vj + c)];
                        }
                    }
                }
                Block::Diag(_) | Block::Packed(_) => {
                    unreachable!("off-diagonal blocks are never diagonal or packed")
                }
            }
        }
    }
}
