//! One off-diagonal block of the assembled A from the pair sums of its two
//! terms: levels put in their final order, the block stored dense or
//! sparse by the in-memory rule ([`is_stored_dense`]) whichever store the
//! sums were kept in. The store is consumed, so its memory is released as
//! soon as the block is built.

use faer::Mat;

use super::pairs::{key_pair, DensePairs, PairDims, PairSums, SparsePairs};
use crate::blocks::{is_stored_dense, Block, BlockSparse, Sum2};

/// The two terms t > s (formula order) of a block, as placed in A.
pub(super) struct BlockSides<'a> {
    /// Final position of each level of t (by running number).
    pub rank_t: &'a [usize],
    /// Final position of each level of s (by running number).
    pub rank_s: &'a [usize],
    /// Levels and columns per level of t and s.
    pub dims: PairDims,
    /// Are t's levels the block's rows (t after s in the final order)?
    pub t_rows: bool,
}

impl BlockSides<'_> {
    /// (vr, vc, row levels, column levels) of the block.
    fn shape(&self) -> (usize, usize, usize, usize) {
        let d = self.dims;
        if self.t_rows {
            (d.v_t, d.v_s, d.n_t, d.n_s)
        } else {
            (d.v_s, d.v_t, d.n_s, d.n_t)
        }
    }

    /// (row level, column level) in the final order of pair (`lt`, `ls`).
    fn place(&self, lt: u32, ls: u32) -> (u32, u32) {
        let (rt, rs) = (
            self.rank_t[lt as usize] as u32,
            self.rank_s[ls as usize] as u32,
        );
        if self.t_rows {
            (rt, rs)
        } else {
            (rs, rt)
        }
    }

    /// Entry (`br`, `bc`) of the block's `vr × vc` piece for a pair, from
    /// the pair's `v_t × v_s` sums (column-major).
    fn entry(&self, sums: &[Sum2], br: usize, bc: usize) -> f64 {
        let (vr, vc, _, _) = self.shape();
        if self.t_rows {
            sums[bc * vr + br].value()
        } else {
            sums[br * vc + bc].value()
        }
    }
}

/// The block of A for `sides` from the pair sums `store`.
pub(super) fn pair_block(store: PairSums, sides: &BlockSides) -> Block {
    match store {
        PairSums::Sparse(s) => from_sparse(s, sides),
        PairSums::Dense(d) => from_dense(d, sides),
    }
}

/// The block from a hash map of pairs.
fn from_sparse(s: SparsePairs, sides: &BlockSides) -> Block {
    // (column level, row level, stored index) in final numbering.
    let mut entries: Vec<(u32, u32, u32)> = s
        .index
        .iter()
        .map(|(&key, &idx)| {
            let (lt, ls) = key_pair(key);
            let (r, c) = sides.place(lt, ls);
            (c, r, idx)
        })
        .collect();
    let data = s.data;
    entries.sort_unstable();
    let size = sides.dims.size();
    finish_sparse(
        entries
            .into_iter()
            .map(|(c, r, idx)| (c, r, &data[idx as usize * size..(idx as usize + 1) * size])),
        sides,
    )
}

/// The block from pairs (column level, row level, sums) in final order
/// (by column, then row): sparse, or dense by [`is_stored_dense`].
fn finish_sparse<'a>(
    entries: impl ExactSizeIterator<Item = (u32, u32, &'a [Sum2])>,
    sides: &BlockSides,
) -> Block {
    let (vr, vc, nrow, ncol) = sides.shape();
    let mut colptr = vec![0usize; ncol + 1];
    let mut rowidx = Vec::with_capacity(entries.len());
    let mut data = Vec::with_capacity(entries.len() * vr * vc);
    for (c, r, sums) in entries {
        colptr[c as usize + 1] += 1;
        rowidx.push(r);
        for bc in 0..vc {
            for br in 0..vr {
                data.push(sides.entry(sums, br, bc));
            }
        }
    }
    for c in 0..ncol {
        colptr[c + 1] += colptr[c];
    }
    let b = BlockSparse {
        vr,
        vc,
        nrow_blocks: nrow,
        ncol_blocks: ncol,
        colptr,
        rowidx,
        data,
    };
    if is_stored_dense(b.nnz(), b.max_col_nnz(), nrow, ncol) {
        Block::Dense(sparse_to_dense(&b))
    } else {
        Block::Sparse(b)
    }
}

/// A block-sparse block as a dense matrix.
fn sparse_to_dense(b: &BlockSparse) -> Mat<f64> {
    let (vr, vc) = (b.vr, b.vc);
    let mut m = Mat::zeros(b.nrow_blocks * vr, b.ncol_blocks * vc);
    for c in 0..b.ncol_blocks {
        for kk in b.colptr[c]..b.colptr[c + 1] {
            let r = b.rowidx[kk] as usize;
            let blk = b.block(kk);
            for bc in 0..vc {
                for br in 0..vr {
                    m[(r * vr + br, c * vc + bc)] = blk[bc * vr + br];
                }
            }
        }
    }
    m
}

/// The block from a grid of pairs: straight into a dense matrix when the
/// block is stored dense (the usual case), else through its pattern.
fn from_dense(d: DensePairs, sides: &BlockSides) -> Block {
    let (_, _, nrow, ncol) = sides.shape();
    // Are the grid's rows (outer levels) the block's columns?
    let outer_cols = d.outer_is_s == sides.t_rows;
    let words = d.words();
    let max_col_nnz = if outer_cols {
        (0..d.n_outer)
            .map(|o| {
                d.occupied[o * words..(o + 1) * words]
                    .iter()
                    .map(|w| w.count_ones() as usize)
                    .sum::<usize>()
            })
            .max()
            .unwrap_or(0)
    } else {
        let mut counts = vec![0usize; d.n_inner];
        for o in 0..d.n_outer {
            for (i, c) in counts.iter_mut().enumerate() {
                *c += d.is_met(o, i) as usize;
            }
        }
        counts.into_iter().max().unwrap_or(0)
    };
    if is_stored_dense(d.npairs, max_col_nnz, nrow, ncol) {
        Block::Dense(grid_to_dense(&d, sides, outer_cols))
    } else {
        let mut entries: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(d.npairs);
        for o in 0..d.n_outer {
            for i in 0..d.n_inner {
                if d.is_met(o, i) {
                    let (lt, ls) = d.pair(o, i);
                    let (r, c) = sides.place(lt, ls);
                    entries.push((c, r, o as u32, i as u32));
                }
            }
        }
        entries.sort_unstable();
        finish_sparse(
            entries
                .into_iter()
                .map(|(c, r, o, i)| (c, r, d.cell_values(o as usize, i as usize))),
            sides,
        )
    }
}

/// The dense matrix of a grid's block. When the grid's rows are the
/// block's columns, the matrix is written column by column, each from one
/// row of the grid; otherwise element by element.
fn grid_to_dense(d: &DensePairs, sides: &BlockSides, outer_cols: bool) -> Mat<f64> {
    let (vr, vc, nrow, ncol) = sides.shape();
    let mut m = Mat::<f64>::zeros(nrow * vr, ncol * vc);
    if outer_cols {
        // Final row level of each inner level.
        let rows: Vec<usize> = (0..d.n_inner)
            .map(|i| sides.place(d.pair(0, i).0, d.pair(0, i).1).0 as usize)
            .collect();
        for o in 0..d.n_outer {
            let c = sides.place(d.pair(o, 0).0, d.pair(o, 0).1).1 as usize;
            for bc in 0..vc {
                let col = m
                    .col_mut(c * vc + bc)
                    .try_as_col_major_mut()
                    .unwrap()
                    .as_slice_mut();
                for (i, &r) in rows.iter().enumerate() {
                    let sums = d.cell_values(o, i);
                    for br in 0..vr {
                        col[r * vr + br] = sides.entry(sums, br, bc);
                    }
                }
            }
        }
        return m;
    }
    for o in 0..d.n_outer {
        for i in 0..d.n_inner {
            let (lt, ls) = d.pair(o, i);
            let (r, c) = sides.place(lt, ls);
            let (r, c) = (r as usize, c as usize);
            let sums = d.cell_values(o, i);
            for bc in 0..vc {
                for br in 0..vr {
                    m[(r * vr + br, c * vc + bc)] = sides.entry(sums, br, bc);
                }
            }
        }
    }
    m
}
