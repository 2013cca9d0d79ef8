//! Blocked storage of A = [Z X y]'W[Z X y] and of its Cholesky factor L.
//!
//! Block row/column `k < K` belongs to random-effects term `k`; block `K`
//! holds the fixed effects and the response ([X y], p + 1 columns). Each block
//! has one of three kinds, chosen once from the data's pattern
//! (see [`build::Structure`]):
//!
//! * [`BlockDiag`] — diagonal blocks of a random-effects term: ℓ blocks of v × v
//!   (v = 1: a diagonal matrix);
//! * [`BlockSparse`] — off-diagonal blocks between two terms, in CSC form over
//!   pairs of levels, each stored entry a dense v_i × v_j block;
//! * [`faer::Mat`] — dense blocks: the [X y] row, and every block that fills
//!   in when grouping factors are crossed;
//! * [`PackedLower`] — a dense *diagonal* block of L of a crossed term with at
//!   least [`packed::PACKED_MIN_DIM`] rows, its lower triangle only, in
//!   rectangular full packed form (about half the memory of the square form).

mod build;
mod factor;
mod kernels;
mod packed;
mod packed_inverse;
mod row_norms;
mod selected_inverse;
mod selinv;
mod solve;
mod sparse_rhs;
mod sums;

pub use build::{allocate_l, allocate_l_packing, is_stored_dense, Structure};
pub use factor::{update_l, Workspace};
pub use kernels::to_dense;
pub use packed::{PackedLower, PACKED_MIN_DIM};
pub use row_norms::RowNorms;
pub use selected_inverse::SelectedInverse;
pub use selinv::SparseQuadratic;
pub use solve::{backward_solve_transposed, forward_solve};
pub use sums::{Accumulate, Sum2};

use faer::Mat;

/// ℓ diagonal blocks of size v × v, each stored column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDiag {
    /// Block size v.
    pub v: usize,
    /// Number of blocks ℓ.
    pub nblocks: usize,
    /// `nblocks * v * v` values.
    pub data: Vec<f64>,
}

impl BlockDiag {
    /// A block-diagonal matrix of zeros.
    pub fn zeros(v: usize, nblocks: usize) -> Self {
        BlockDiag {
            v,
            nblocks,
            data: vec![0.0; v * v * nblocks],
        }
    }

    /// Block `l` (column-major v × v).
    pub fn block(&self, l: usize) -> &[f64] {
        let s = self.v * self.v;
        &self.data[l * s..(l + 1) * s]
    }

    /// Block `l`, mutable.
    pub fn block_mut(&mut self, l: usize) -> &mut [f64] {
        let s = self.v * self.v;
        &mut self.data[l * s..(l + 1) * s]
    }
}

/// A sparse matrix of dense `vr × vc` blocks, compressed by block column.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSparse {
    /// Rows per block.
    pub vr: usize,
    /// Columns per block.
    pub vc: usize,
    /// Number of block rows.
    pub nrow_blocks: usize,
    /// Number of block columns.
    pub ncol_blocks: usize,
    /// Start of each block column in `rowidx` (length `ncol_blocks + 1`).
    pub colptr: Vec<usize>,
    /// Block-row index of each stored block, increasing within a column.
    pub rowidx: Vec<u32>,
    /// `nnz * vr * vc` values; each block column-major.
    pub data: Vec<f64>,
}

impl BlockSparse {
    /// Number of stored blocks.
    pub fn nnz(&self) -> usize {
        self.rowidx.len()
    }

    /// Values of stored block `k`.
    pub fn block(&self, k: usize) -> &[f64] {
        let s = self.vr * self.vc;
        &self.data[k * s..(k + 1) * s]
    }

    /// Position of block (r, c) among the stored blocks, if stored.
    pub fn find(&self, r: usize, c: usize) -> Option<usize> {
        let (s, e) = (self.colptr[c], self.colptr[c + 1]);
        self.rowidx[s..e]
            .binary_search(&(r as u32))
            .ok()
            .map(|k| s + k)
    }

    /// Largest number of stored blocks in any column.
    pub fn max_col_nnz(&self) -> usize {
        self.colptr
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// Same pattern, all values zero.
    pub fn zeros_like(&self) -> Self {
        BlockSparse {
            data: vec![0.0; self.data.len()],
            ..self.clone()
        }
    }
}

/// One block of A or L.
#[derive(Debug, Clone)]
pub enum Block {
    /// Block diagonal (diagonal blocks of random-effects terms only).
    Diag(BlockDiag),
    /// Block sparse (off-diagonal blocks between random-effects terms).
    Sparse(BlockSparse),
    /// Dense.
    Dense(Mat<f64>),
    /// Dense lower triangle in packed form (large dense diagonal blocks of L).
    Packed(PackedLower),
}

impl Block {
    /// A short name of the kind, for descriptions (`Diagonal`, `BlkDiag`, `Sparse`, `Dense`).
    /// A packed block is `Dense`: the name says which entries are nonzero, not
    /// how they are stored (as MixedModels.jl's block description).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Block::Diag(d) if d.v == 1 => "Diagonal",
            Block::Diag(_) => "BlkDiag",
            Block::Sparse(_) => "Sparse",
            Block::Dense(_) | Block::Packed(_) => "Dense",
        }
    }

    /// Is this a dense block (square or packed)?
    pub fn is_dense(&self) -> bool {
        matches!(self, Block::Dense(_) | Block::Packed(_))
    }
}

/// Index of block (i, j), i ≥ j, in a packed lower triangle of blocks.
#[inline]
pub fn tri(i: usize, j: usize) -> usize {
    debug_assert!(i >= j);
    i * (i + 1) / 2 + j
}
