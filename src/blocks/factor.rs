//! The blocked Cholesky factorisation L Lᵀ = Λᵀ A Λ + I (augmented with the
//! [X y] block), recomputed for every θ (Bates et al. 2015, section 3.4;
//! MixedModels.jl `updateL!`).

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch;
use faer::{Mat, Par};

use super::build::Structure;
use super::kernels::{cholesky, off_update, rank_update, rdiv_lt, scale_diag, scale_offdiag};
use super::packed::llt_scratch as packed_cholesky_scratch;
use super::{tri, Block};

/// Scratch memory and parallelism for [`update_l`], made once per model so
/// that evaluating the objective allocates nothing.
pub struct Workspace {
    buffer: MemBuffer,
    /// The buffer's size and alignment (a copy gets a fresh buffer of it).
    req: StackReq,
    /// Parallelism of the dense kernels.
    pub par: Par,
}

impl Clone for Workspace {
    /// A workspace of the same size with its own (uninitialised) scratch.
    fn clone(&self) -> Self {
        Workspace {
            buffer: MemBuffer::new(self.req),
            req: self.req,
            par: self.par,
        }
    }
}

impl Workspace {
    /// Scratch for factoring the dense blocks of `l`.
    pub fn new(l: &[Block], par: Par) -> Self {
        let req = l
            .iter()
            .filter_map(|b| match b {
                Block::Dense(m) if m.nrows() == m.ncols() => Some(
                    cholesky_in_place_scratch::<f64>(m.nrows(), par, Default::default()),
                ),
                Block::Packed(p) => Some(packed_cholesky_scratch(p.leading_dim(), par)),
                _ => None,
            })
            .fold(
                cholesky_in_place_scratch::<f64>(1, par, Default::default()),
                StackReq::or,
            );
        Workspace {
            buffer: MemBuffer::new(req),
            req,
            par,
        }
    }
}

/// Where the factorisation failed: block column and scalar row within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPositiveDefinite {
    /// Block index (K for the [X y] block).
    pub block: usize,
    /// Row within the block of the first non-positive pivot.
    pub index: usize,
}

/// Recompute L for the relative covariance factors `lambdas` (one λ per
/// term, column-major v × v).
pub fn update_l(
    l: &mut [Block],
    a: &[Block],
    st: &Structure,
    lambdas: &[Vec<f64>],
    ws: &mut Workspace,
) -> Result<(), NotPositiveDefinite> {
    let k = st.nterms;
    let par = ws.par;
    for j in 0..=k {
        // Diagonal block: scale, downdate, factor.
        if j < k {
            let Block::Diag(ajj) = &a[tri(j, j)] else {
                unreachable!()
            };
            scale_diag(&mut l[tri(j, j)], ajj, &lambdas[j]);
        } else {
            let (Block::Dense(dst), Block::Dense(src)) = (&mut l[tri(k, k)], &a[tri(k, k)]) else {
                unreachable!()
            };
            dst.copy_from(src);
        }
        for m in 0..j {
            let mut dst = take(&mut l[tri(j, j)]);
            rank_update(&mut dst, &l[tri(j, m)], par);
            l[tri(j, j)] = dst;
        }
        let stack = MemStack::new(&mut ws.buffer);
        cholesky(&mut l[tri(j, j)], stack, par)
            .map_err(|index| NotPositiveDefinite { block: j, index })?;
        // Blocks below the diagonal: scale, downdate, divide by L[j,j]ᵀ.
        for i in j + 1..=k {
            let lam_i = (i < k).then(|| lambdas[i].as_slice());
            scale_offdiag(&mut l[tri(i, j)], &a[tri(i, j)], lam_i, &lambdas[j]);
            let mut dst = take(&mut l[tri(i, j)]);
            for m in 0..j {
                off_update(&mut dst, &l[tri(i, m)], &l[tri(j, m)], par);
            }
            rdiv_lt(&mut dst, &l[tri(j, j)], par);
            l[tri(i, j)] = dst;
        }
    }
    Ok(())
}

/// Move a block out of the slice, leaving an empty (non-allocating) placeholder.
fn take(b: &mut Block) -> Block {
    std::mem::replace(b, Block::Dense(Mat::new()))
}
