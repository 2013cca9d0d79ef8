//! The block kernels of the blocked Cholesky factorisation: scaling by Λ,
//! symmetric and general downdates, factorisation of a diagonal block and
//! division by the transpose of a factored diagonal block. Each kernel matches
//! on the kinds of its operands once, outside its loops.

use faer::dyn_stack::MemStack;
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, LltRegularization};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, MatMut, Par};

use super::{Block, BlockDiag, BlockSparse};

/// Below this many floating-point operations a dense kernel runs on the
/// calling thread: handing small blocks to the thread pool costs more than it
/// saves (for sleepstudy-sized models, 5× the whole fit).
const PARALLEL_FLOPS: usize = 4_000_000;

/// The parallelism to use for a dense kernel of about `flops` operations.
pub(super) fn par_for(flops: usize, par: Par) -> Par {
    if flops < PARALLEL_FLOPS {
        Par::Seq
    } else {
        par
    }
}

/// Scratch for one small block: on the stack up to 64 entries (8 × 8), so the
/// θ-loop does not allocate for the usual block sizes.
struct SmallBuf {
    stack: [f64; 64],
    heap: Vec<f64>,
    len: usize,
}

impl SmallBuf {
    fn new(len: usize) -> Self {
        SmallBuf {
            stack: [0.0; 64],
            heap: if len > 64 { vec![0.0; len] } else { Vec::new() },
            len,
        }
    }

    fn as_mut(&mut self) -> &mut [f64] {
        if self.len <= 64 {
            &mut self.stack[..self.len]
        } else {
            &mut self.heap
        }
    }
}

/// out = λrᵀ B λc for a `vr × vc` block B (all column-major; λ lower triangular).
/// `lam_r = None` stands for the identity.
#[inline]
fn scale_small(
    b: &[f64],
    lam_r: Option<&[f64]>,
    vr: usize,
    lam_c: &[f64],
    vc: usize,
    out: &mut [f64],
) {
    // t = B λc
    let mut t = [0.0f64; 64];
    let tmp: &mut [f64] = if vr * vc <= 64 {
        &mut t[..vr * vc]
    } else {
        &mut vec![0.0; vr * vc]
    };
    for c in 0..vc {
        for r in 0..vr {
            let mut s = 0.0;
            for m in c..vc {
                s += b[m * vr + r] * lam_c[c * vc + m];
            }
            tmp[c * vr + r] = s;
        }
    }
    match lam_r {
        None => out.copy_from_slice(tmp),
        Some(lr) => {
            for c in 0..vc {
                for r in 0..vr {
                    let mut s = 0.0;
                    for m in r..vr {
                        s += lr[r * vr + m] * tmp[c * vr + m];
                    }
                    out[c * vr + r] = s;
                }
            }
        }
    }
}

/// L[j,j] ← Λⱼᵀ A[j,j] Λⱼ + I (block diagonal or scattered into a dense block).
pub fn scale_diag(dst: &mut Block, a: &BlockDiag, lam: &[f64]) {
    let v = a.v;
    match dst {
        Block::Diag(d) if v == 1 => {
            let f = lam[0] * lam[0];
            for (out, x) in d.data.iter_mut().zip(&a.data) {
                *out = x * f + 1.0;
            }
        }
        Block::Diag(d) => {
            for l in 0..a.nblocks {
                let out = d.block_mut(l);
                scale_small(a.block(l), Some(lam), v, lam, v, out);
                for r in 0..v {
                    out[r * v + r] += 1.0;
                }
            }
        }
        Block::Dense(m) => {
            m.fill(0.0);
            let mut buf = SmallBuf::new(v * v);
            let out = buf.as_mut();
            for l in 0..a.nblocks {
                scale_small(a.block(l), Some(lam), v, lam, v, out);
                for c in 0..v {
                    for r in 0..v {
                        m[(l * v + r, l * v + c)] = out[c * v + r];
                    }
                    m[(l * v + c, l * v + c)] += 1.0;
                }
            }
        }
        Block::Packed(p) => {
            p.fill_zero();
            let mut buf = SmallBuf::new(v * v);
            let out = buf.as_mut();
            for l in 0..a.nblocks {
                scale_small(a.block(l), Some(lam), v, lam, v, out);
                for c in 0..v {
                    for r in c..v {
                        *p.get_mut(l * v + r, l * v + c) = out[c * v + r];
                    }
                    *p.get_mut(l * v + c, l * v + c) += 1.0;
                }
            }
        }
        Block::Sparse(_) => unreachable!("a diagonal block is never sparse"),
    }
}

/// L[i,j] ← Λᵢᵀ A[i,j] Λⱼ; `lam_i = None` for the [X y] block row.
pub fn scale_offdiag(dst: &mut Block, a: &Block, lam_i: Option<&[f64]>, lam_j: &[f64]) {
    match (dst, a) {
        (Block::Sparse(d), Block::Sparse(s)) => {
            if s.vr == 1 && s.vc == 1 {
                let f = lam_i.map_or(1.0, |l| l[0]) * lam_j[0];
                d.data.iter_mut().zip(&s.data).for_each(|(o, a)| *o = a * f);
                return;
            }
            let size = s.vr * s.vc;
            for k in 0..s.nnz() {
                scale_small(
                    s.block(k),
                    lam_i,
                    s.vr,
                    lam_j,
                    s.vc,
                    &mut d.data[k * size..(k + 1) * size],
                );
            }
        }
        (Block::Dense(d), Block::Sparse(s)) => {
            d.fill(0.0);
            let mut buf = SmallBuf::new(s.vr * s.vc);
            let out = buf.as_mut();
            for c in 0..s.ncol_blocks {
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[k] as usize;
                    scale_small(s.block(k), lam_i, s.vr, lam_j, s.vc, out);
                    for cc in 0..s.vc {
                        for rr in 0..s.vr {
                            d[(r * s.vr + rr, c * s.vc + cc)] = out[cc * s.vr + rr];
                        }
                    }
                }
            }
        }
        (Block::Dense(d), Block::Dense(s)) => {
            // Each (row level, column level) block becomes λᵢᵀ B λⱼ (no λᵢ
            // for the [X y] row).
            let vc = (lam_j.len() as f64).sqrt() as usize;
            let vr = lam_i.map_or(1, |l| (l.len() as f64).sqrt() as usize);
            if vr == 1 && vc == 1 {
                let f = lam_i.map_or(1.0, |l| l[0]) * lam_j[0];
                for c in 0..s.ncols() {
                    let (src, dst) = (s.col(c), d.col_mut(c));
                    dst.iter_mut().zip(src.iter()).for_each(|(o, a)| *o = a * f);
                }
                return;
            }
            let Some(lam_i) = lam_i else {
                // The [X y] row: right-multiply each level's columns by λⱼ.
                for l in 0..s.ncols() / vc {
                    for c in 0..vc {
                        for r in 0..s.nrows() {
                            let mut acc = 0.0;
                            for m in c..vc {
                                acc += s[(r, l * vc + m)] * lam_j[c * vc + m];
                            }
                            d[(r, l * vc + c)] = acc;
                        }
                    }
                }
                return;
            };
            let mut bbuf = SmallBuf::new(vr * vc);
            let mut obuf = SmallBuf::new(vr * vc);
            let (b, out) = (bbuf.as_mut(), obuf.as_mut());
            // A block between two terms; a scalar λᵢ scales the result instead.
            let row_lam = (vr > 1).then_some(lam_i);
            for lc in 0..s.ncols() / vc {
                for lr in 0..s.nrows() / vr {
                    for cc in 0..vc {
                        for rr in 0..vr {
                            b[cc * vr + rr] = s[(lr * vr + rr, lc * vc + cc)];
                        }
                    }
                    scale_small(b, row_lam, vr, lam_j, vc, out);
                    if row_lam.is_none() {
                        out.iter_mut().for_each(|x| *x *= lam_i[0]);
                    }
                    for cc in 0..vc {
                        for rr in 0..vr {
                            d[(lr * vr + rr, lc * vc + cc)] = out[cc * vr + rr];
                        }
                    }
                }
            }
        }
        _ => unreachable!("unsupported block kinds in scale_offdiag"),
    }
}

/// dst ← dst − src srcᵀ for a diagonal block (lower triangle of a dense `dst`).
pub fn rank_update(dst: &mut Block, src: &Block, par: Par) {
    match (dst, src) {
        (Block::Diag(d), Block::Sparse(s)) => {
            // Each column holds at most one block (decided when L was allocated).
            let (vr, vc) = (s.vr, s.vc);
            for k in 0..s.nnz() {
                let r = s.rowidx[k] as usize;
                let b = s.block(k);
                let out = d.block_mut(r);
                for c in 0..vr {
                    for rr in c..vr {
                        let mut acc = 0.0;
                        for m in 0..vc {
                            acc += b[m * vr + rr] * b[m * vr + c];
                        }
                        out[c * vr + rr] -= acc;
                    }
                }
            }
        }
        (Block::Dense(d), Block::Sparse(s)) => sparse_pairs_update(d.as_mut(), s, s, true),
        (Block::Packed(p), Block::Sparse(s)) => p.rank_update_sparse(s),
        (Block::Packed(p), Block::Dense(s)) => p.rank_update_dense(s.as_ref(), par),
        (Block::Dense(d), Block::Dense(s)) => {
            let par = par_for(d.nrows() * d.nrows() * s.ncols(), par);
            faer::linalg::matmul::triangular::matmul(
                d.as_mut(),
                BlockStructure::TriangularLower,
                Accum::Add,
                s.as_ref(),
                BlockStructure::Rectangular,
                s.transpose(),
                BlockStructure::Rectangular,
                -1.0,
                par,
            );
        }
        _ => unreachable!("unsupported block kinds in rank_update"),
    }
}

/// dst ← dst − a bᵀ for an off-diagonal block.
pub fn off_update(dst: &mut Block, a: &Block, b: &Block, par: Par) {
    match (dst, a, b) {
        (Block::Dense(d), Block::Dense(x), Block::Dense(y)) => {
            let par = par_for(d.nrows() * d.ncols() * x.ncols(), par);
            faer::linalg::matmul::matmul(
                d.as_mut(),
                Accum::Add,
                x.as_ref(),
                y.transpose(),
                -1.0,
                par,
            );
        }
        (Block::Dense(d), Block::Dense(x), Block::Sparse(s)) => {
            // d[:, r-block] -= x[:, c-block] Bᵀ for each stored block (r, c) of s.
            let (vr, vc) = (s.vr, s.vc);
            for c in 0..s.ncol_blocks {
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[k] as usize;
                    let blk = s.block(k);
                    for rr in 0..vr {
                        for m in 0..vc {
                            let coef = blk[m * vr + rr];
                            if coef == 0.0 {
                                continue;
                            }
                            let xc = x.col(c * vc + m).try_as_col_major().unwrap().as_slice();
                            let dc = d
                                .col_mut(r * vr + rr)
                                .try_as_col_major_mut()
                                .unwrap()
                                .as_slice_mut();
                            for (dv, xv) in dc.iter_mut().zip(xc) {
                                *dv -= xv * coef;
                            }
                        }
                    }
                }
            }
        }
        (Block::Dense(d), Block::Sparse(s), Block::Dense(y)) => {
            // d[r-block, :] -= B y[:, c-block]ᵀ.
            let (vr, vc) = (s.vr, s.vc);
            for c in 0..s.ncol_blocks {
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[k] as usize;
                    let blk = s.block(k);
                    for col in 0..d.ncols() {
                        for rr in 0..vr {
                            let mut acc = 0.0;
                            for m in 0..vc {
                                acc += blk[m * vr + rr] * y[(col, c * vc + m)];
                            }
                            d[(r * vr + rr, col)] -= acc;
                        }
                    }
                }
            }
        }
        (Block::Dense(d), Block::Sparse(x), Block::Sparse(y)) => {
            sparse_pairs_update(d.as_mut(), x, y, false)
        }
        (Block::Sparse(d), Block::Sparse(x), Block::Sparse(y)) => {
            let (vr, vc, vm) = (x.vr, y.vr, x.vc);
            for c in 0..x.ncol_blocks {
                for k1 in x.colptr[c]..x.colptr[c + 1] {
                    let r1 = x.rowidx[k1] as usize;
                    for k2 in y.colptr[c]..y.colptr[c + 1] {
                        let r2 = y.rowidx[k2] as usize;
                        let pos = d.find(r1, r2).expect("pattern closed under updates");
                        let out = &mut d.data[pos * vr * vc..(pos + 1) * vr * vc];
                        let (b1, b2) = (x.block(k1), y.block(k2));
                        for cc in 0..vc {
                            for rr in 0..vr {
                                let mut acc = 0.0;
                                for m in 0..vm {
                                    acc += b1[m * vr + rr] * b2[m * vc + cc];
                                }
                                out[cc * vr + rr] -= acc;
                            }
                        }
                    }
                }
            }
        }
        _ => unreachable!("unsupported block kinds in off_update"),
    }
}

/// d ← d − x yᵀ for block-sparse x and y sharing block columns; with
/// `lower_only`, only blocks on or below the block diagonal are updated.
fn sparse_pairs_update(mut d: MatMut<'_, f64>, x: &BlockSparse, y: &BlockSparse, lower_only: bool) {
    let (vr, vc, vm) = (x.vr, y.vr, x.vc);
    if vr == 1 && vc == 1 && vm == 1 {
        // Scalar blocks: for each pair in a column, walk one column of `d` (contiguous
        // memory) over the rows at or below it — the hot loop of crossed factors.
        let rs = d.row_stride();
        debug_assert_eq!(rs, 1);
        for c in 0..x.ncol_blocks {
            let (s1, e1) = (x.colptr[c], x.colptr[c + 1]);
            for k2 in y.colptr[c]..y.colptr[c + 1] {
                let r2 = y.rowidx[k2] as usize;
                let b2 = y.data[k2];
                let col = d
                    .as_mut()
                    .col_mut(r2)
                    .try_as_col_major_mut()
                    .unwrap()
                    .as_slice_mut();
                // Rows are sorted: for x yᵀ with x = y the rows at or below r2 start at k2.
                let start = if lower_only && std::ptr::eq(x, y) {
                    k2
                } else {
                    s1
                };
                for k1 in start..e1 {
                    let r1 = x.rowidx[k1] as usize;
                    if lower_only && r1 < r2 {
                        continue;
                    }
                    col[r1] -= x.data[k1] * b2;
                }
            }
        }
        return;
    }
    for c in 0..x.ncol_blocks {
        let (s1, e1) = (x.colptr[c], x.colptr[c + 1]);
        let (s2, e2) = (y.colptr[c], y.colptr[c + 1]);
        for k1 in s1..e1 {
            let r1 = x.rowidx[k1] as usize;
            let b1 = x.block(k1);
            for k2 in s2..e2 {
                let r2 = y.rowidx[k2] as usize;
                if lower_only && r2 > r1 {
                    break;
                }
                let b2 = y.block(k2);
                for cc in 0..vc {
                    for rr in 0..vr {
                        let mut acc = 0.0;
                        for m in 0..vm {
                            acc += b1[m * vr + rr] * b2[m * vc + cc];
                        }
                        d[(r1 * vr + rr, r2 * vc + cc)] -= acc;
                    }
                }
            }
        }
    }
}

/// Factor a small symmetric positive-definite block in place (lower Cholesky).
/// Returns false when it is not positive definite.
fn small_cholesky(a: &mut [f64], v: usize) -> bool {
    for j in 0..v {
        let mut d = a[j * v + j];
        for m in 0..j {
            d -= a[m * v + j] * a[m * v + j];
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * v + j] = d;
        for i in j + 1..v {
            let mut s = a[j * v + i];
            for m in 0..j {
                s -= a[m * v + i] * a[m * v + j];
            }
            a[j * v + i] = s / d;
        }
        for i in 0..j {
            a[j * v + i] = 0.0;
        }
    }
    true
}

/// Cholesky-factor a diagonal block in place. Err(index) names the first
/// non-positive pivot (a scalar row within the block).
pub fn cholesky(dst: &mut Block, stack: &mut MemStack, par: Par) -> Result<(), usize> {
    match dst {
        Block::Diag(d) if d.v == 1 => {
            for (l, x) in d.data.iter_mut().enumerate() {
                if *x <= 0.0 || !x.is_finite() {
                    return Err(l);
                }
                *x = x.sqrt();
            }
            Ok(())
        }
        Block::Diag(d) => {
            let v = d.v;
            for l in 0..d.nblocks {
                if !small_cholesky(d.block_mut(l), v) {
                    return Err(l * v);
                }
            }
            Ok(())
        }
        Block::Dense(m) => {
            let n = m.nrows();
            cholesky_in_place(
                m.as_mut(),
                LltRegularization::default(),
                par_for(n * n * n / 3, par),
                stack,
                Default::default(),
            )
            .map(|_| ())
            .map_err(|e| match e {
                faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } => index,
            })
        }
        Block::Packed(p) => p.cholesky(stack, par),
        Block::Sparse(_) => unreachable!("a diagonal block is never sparse"),
    }
}

/// Solve x Lᵀ = b for one row vector in place (L lower triangular v × v).
#[inline]
fn rdiv_row(row: &mut [f64], l: &[f64], v: usize) {
    for c in 0..v {
        let mut s = row[c];
        for m in 0..c {
            s -= row[m] * l[m * v + c];
        }
        row[c] = s / l[c * v + c];
    }
}

/// dst ← dst L⁻ᵀ, where L is the factored diagonal block of dst's block column.
pub fn rdiv_lt(dst: &mut Block, l: &Block, par: Par) {
    match (dst, l) {
        (Block::Dense(d), Block::Diag(ld)) => {
            let v = ld.v;
            let mut buf = SmallBuf::new(v);
            let row = buf.as_mut();
            for lev in 0..ld.nblocks {
                let lb = ld.block(lev);
                if v == 1 {
                    let inv = 1.0 / lb[0];
                    let col = d
                        .col_mut(lev)
                        .try_as_col_major_mut()
                        .unwrap()
                        .as_slice_mut();
                    col.iter_mut().for_each(|x| *x *= inv);
                    continue;
                }
                for r in 0..d.nrows() {
                    for c in 0..v {
                        row[c] = d[(r, lev * v + c)];
                    }
                    rdiv_row(row, lb, v);
                    for c in 0..v {
                        d[(r, lev * v + c)] = row[c];
                    }
                }
            }
        }
        (Block::Sparse(s), Block::Diag(ld)) => {
            let (vr, vc) = (s.vr, s.vc);
            let mut buf = SmallBuf::new(vc);
            let row = buf.as_mut();
            for c in 0..s.ncol_blocks {
                let lb = ld.block(c);
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let blk = &mut s.data[k * vr * vc..(k + 1) * vr * vc];
                    for r in 0..vr {
                        for m in 0..vc {
                            row[m] = blk[m * vr + r];
                        }
                        rdiv_row(row, lb, vc);
                        for m in 0..vc {
                            blk[m * vr + r] = row[m];
                        }
                    }
                }
            }
        }
        (Block::Dense(d), Block::Dense(lm)) => {
            let par = par_for(d.nrows() * lm.nrows() * lm.nrows(), par);
            // x Lᵀ = b  ⇔  L xᵀ = bᵀ.
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(
                lm.as_ref(),
                d.as_mut().transpose_mut(),
                par,
            );
        }
        (Block::Dense(d), Block::Packed(lp)) => lp.rdiv_lt(d.as_mut(), par),
        _ => unreachable!("unsupported block kinds in rdiv_lt"),
    }
}

/// A dense copy of a factored diagonal block (for small extractors).
#[allow(dead_code)]
pub fn to_dense(b: &Block) -> Mat<f64> {
    match b {
        Block::Dense(m) => m.clone(),
        Block::Packed(p) => p.to_dense(),
        Block::Diag(d) => {
            let v = d.v;
            let mut m = Mat::zeros(v * d.nblocks, v * d.nblocks);
            for l in 0..d.nblocks {
                let blk = d.block(l);
                for c in 0..v {
                    for r in 0..v {
                        m[(l * v + r, l * v + c)] = blk[c * v + r];
                    }
                }
            }
            m
        }
        Block::Sparse(s) => {
            let mut m = Mat::zeros(s.nrow_blocks * s.vr, s.ncol_blocks * s.vc);
            for c in 0..s.ncol_blocks {
                for k in s.colptr[c]..s.colptr[c + 1] {
                    let r = s.rowidx[k] as usize;
                    let blk = s.block(k);
                    for cc in 0..s.vc {
                        for rr in 0..s.vr {
                            m[(r * s.vr + rr, c * s.vc + cc)] = blk[cc * s.vr + rr];
                        }
                    }
                }
            }
            m
        }
    }
}
