//! An estimate, before fitting, of the bytes a linear mixed model and its
//! fit hold: the blocks of A and L by their storage (block-diagonal, block
//! sparse with its index, dense, and packed: the lower triangle of a large
//! dense diagonal block of L in about n(n + 1)/2 values), the per-row data
//! (X, the response, the weights and offset, each random-effects term's
//! values and level indices), and what a fit adds on top (the gradient's
//! selected inverse, which has L's pattern with its dense trailing part
//! packed, and the temporaries of the sweep and the solves).
//!
//! The estimate counts the model's own buffers, not the allocator's
//! overhead, the caller's data frame, or the dense kernels' packing buffers
//! (gemm keeps one per thread for the thread's lifetime, up to 64 MiB of
//! address space, allocated by a thread's first dense product whatever the
//! model). tests/memory_estimate.rs compares it with a counting allocator
//! on a nested and a crossed model: the bytes the fitted model holds
//! against `a + l + rows`, the peak while building and fitting against
//! `total`; within a factor of 2 (measured 0.96–1.18).

use super::LinearMixedModel;
use crate::blocks::{Block, SelectedInverse};
use crate::model::MixedModel;

const F64: usize = std::mem::size_of::<f64>();

/// The bytes of a model and its fit, by part (see the [module](self)
/// description).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The blocks of A (XᵀX, ZᵀZ, ZᵀX, … and the response's products).
    pub a: usize,
    /// The blocks of L, the Cholesky factor.
    pub l: usize,
    /// Per-row data: X (in the terms and weighted with y in the engine), the
    /// response (as given and minus the offset), weights, offset, each
    /// random-effects term's values and level indices, the row indices, and
    /// the copy of the formula's columns made while building the terms.
    pub rows: usize,
    /// What a fit adds: the selected inverse of the gradient (L's pattern
    /// in the block-diagonal prefix, the dense trailing part packed, as L's
    /// large dense diagonal blocks) with its scratch, and the largest
    /// square (block-diagonal or dense) block of L once more for the
    /// sweep's and the solves' temporaries.
    pub fit: usize,
    /// The sum of the parts.
    pub total: usize,
}

/// The bytes a block's storage holds (values and, for a block-sparse
/// matrix, its index).
pub fn block_bytes(b: &Block) -> usize {
    match b {
        Block::Diag(d) => d.data.len() * F64,
        Block::Sparse(s) => {
            s.data.len() * F64
                + s.rowidx.len() * std::mem::size_of::<u32>()
                + s.colptr.len() * std::mem::size_of::<usize>()
        }
        Block::Dense(m) => m.nrows() * m.ncols() * F64,
        Block::Packed(p) => p.stored_len() * F64,
    }
}

impl LinearMixedModel {
    /// An estimate of the bytes this model and its fit need (see
    /// [`MemoryEstimate`]); cheap, and available before fitting.
    pub fn memory_estimate(&self) -> MemoryEstimate {
        let a: usize = self.a_blocks().iter().map(block_bytes).sum();
        let l: usize = self.l_blocks().iter().map(block_bytes).sum();
        let n = self.nobs();
        let t = &self.terms;
        let x = t.fixed.x.len() * F64 + n * (self.rank() + 1) * F64;
        let response = 2 * n * F64;
        let weights = if self.engine.sqrtw().is_some() {
            n * F64
        } else {
            0
        };
        let offset = self.offset.as_ref().map_or(0, |o| o.len() * F64);
        let random: usize = t
            .random
            .iter()
            .map(|r| r.z.len() * F64 + r.refs.len() * std::mem::size_of::<u32>())
            .sum();
        let index = t.rows.len() * std::mem::size_of::<usize>();
        let columns = t.input_rows * t.spec.variables().len() * F64;
        let rows = x + response + weights + offset + random + index + columns;
        // The selected inverse with X when REML (a few rows more), Z_TT packed.
        let selected = SelectedInverse::estimated_bytes(self.l_blocks(), self.structure(), true);
        let largest_square = self
            .l_blocks()
            .iter()
            .filter(|b| matches!(b, Block::Diag(_) | Block::Dense(_)))
            .map(block_bytes)
            .max()
            .unwrap_or(0);
        let fit = selected + largest_square;
        MemoryEstimate {
            a,
            l,
            rows,
            fit,
            total: a + l + rows + fit,
        }
    }
}
