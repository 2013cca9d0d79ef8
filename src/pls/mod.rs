//! The penalised least-squares engine shared by every model: the blocked
//! system A = [ZΛ X y]ᵀW[ZΛ X y] (with Λ applied at factorization), its
//! Cholesky factor L, the scratch memory, and everything read off L —
//! log-determinants, the penalised residual sum of squares, β̂ and the
//! conditional modes, unscaled covariances and quadratic forms.
//!
//! A linear mixed model owns one engine with X and its response; a
//! generalized linear mixed model owns one with X (for β̂ and R_X) and, for
//! PIRLS at fixed β, one without X, both fed the working response and
//! weights. The engine knows nothing of families, σ or the criterion: the
//! models turn its quantities into objectives and estimates.

mod gradient;
#[cfg(test)]
mod packed_check;
mod residual_from_a;
mod solve;

use std::sync::Arc;

use faer::{Mat, Par};

use crate::blocks::{allocate_l, tri, update_l, Block, Structure, Workspace};
use crate::error::{Error, Result};
use crate::terms::{ModelTerms, ThetaLayout};

/// The blocked penalised least-squares system of a model and its factor. A
/// clone is independent (its own A, L and scratch; the terms are shared).
#[derive(Clone)]
pub struct PlsEngine {
    terms: Arc<ModelTerms>,
    structure: Structure,
    a: Vec<Block>,
    l: Vec<Block>,
    ws: Workspace,
    /// √w-weighted [X y], n × (p + 1) (p = 0 for an engine without X).
    xy: Mat<f64>,
    y: Vec<f64>,
    sqrtw: Option<Vec<f64>>,
    theta: Vec<f64>,
    lambdas: Vec<Vec<f64>>,
}

/// Parallelism of the dense kernels for a thread count (None: all).
pub(crate) fn parallelism(threads: Option<usize>) -> Par {
    match threads {
        Some(1) => Par::Seq,
        Some(t) => Par::rayon(t),
        None => Par::rayon(0),
    }
}

impl PlsEngine {
    /// The system of `terms` with response `y` and square-root weights
    /// `sqrtw`, including X when `with_x` (else p = 0), with θ₀ installed;
    /// L is factored by the first [`refactor`](Self::refactor).
    pub fn new(
        terms: Arc<ModelTerms>,
        with_x: bool,
        y: Vec<f64>,
        sqrtw: Option<Vec<f64>>,
        threads: Option<usize>,
    ) -> Self {
        let n = terms.nobs();
        let p = if with_x { terms.fixed.rank() } else { 0 };
        let mut xy = Mat::zeros(n, p + 1);
        fill_weighted_xy(&mut xy, &terms, p, &y, sqrtw.as_deref());
        let structure = Structure::new(&terms.random, p, n);
        let mut a = structure.zeros_a();
        structure.fill_a_compensated(&mut a, None, &terms.random, &xy, sqrtw.as_deref());
        let l = allocate_l(&a, &structure);
        let ws = Workspace::new(&l, parallelism(threads));
        let layout = ThetaLayout::new(&terms.random);
        let theta = layout.initial();
        let lambdas = layout.lambdas(&theta);
        PlsEngine {
            terms,
            structure,
            a,
            l,
            ws,
            xy,
            y,
            sqrtw,
            theta,
            lambdas,
        }
    }

    /// The system of a model whose A was accumulated elsewhere (streamed in
    /// chunks, see [`crate::stream`]): `terms` hold no rows, `a` is filled in
    /// `structure`'s layout, and there are no weights. Such an engine has no
    /// per-observation data: its response is empty and A cannot be refilled.
    pub fn from_blocks(
        terms: Arc<ModelTerms>,
        structure: Structure,
        a: Vec<Block>,
        threads: Option<usize>,
    ) -> Self {
        let l = allocate_l(&a, &structure);
        let ws = Workspace::new(&l, parallelism(threads));
        let layout = ThetaLayout::new(&terms.random);
        let theta = layout.initial();
        let lambdas = layout.lambdas(&theta);
        let p = structure.p;
        PlsEngine {
            terms,
            structure,
            a,
            l,
            ws,
            xy: Mat::zeros(0, p + 1),
            y: Vec::new(),
            sqrtw: None,
            theta,
            lambdas,
        }
    }

    /// Does the engine hold the rows of the data (false for a streamed model)?
    pub fn has_rows(&self) -> bool {
        self.y.len() == self.structure.n
    }

    /// The terms the system was built from.
    pub fn terms(&self) -> &Arc<ModelTerms> {
        &self.terms
    }

    /// The block structure of A and L.
    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    /// Number of observations.
    pub fn nobs(&self) -> usize {
        self.structure.n
    }

    /// Number of fixed-effects columns in the system (0 without X).
    pub fn p(&self) -> usize {
        self.structure.p
    }

    /// The response (unweighted).
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// Square roots of the weights, if any.
    pub fn sqrtw(&self) -> Option<&[f64]> {
        self.sqrtw.as_deref()
    }

    /// Parallelism of the dense kernels.
    pub fn par(&self) -> Par {
        self.ws.par
    }

    /// Use `threads` for the dense kernels from now on (None: all).
    pub fn set_threads(&mut self, threads: Option<usize>) {
        self.ws.par = parallelism(threads);
    }

    /// θ installed last.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// Each term's λ at the installed θ (column-major v × v).
    pub fn lambdas(&self) -> &[Vec<f64>] {
        &self.lambdas
    }

    /// Blocks of L.
    pub fn l_blocks(&self) -> &[Block] {
        &self.l
    }

    /// Blocks of A.
    pub fn a_blocks(&self) -> &[Block] {
        &self.a
    }

    /// Replace the response (same length; checked by the caller) and refill A
    /// with compensated sums, as a model built with this response would be.
    /// L is stale until the next [`refactor`](Self::refactor).
    pub fn set_response(&mut self, y: &[f64]) {
        self.y.copy_from_slice(y);
        self.refill_a(true);
    }

    /// Install a working response and √w written by `fill` straight into
    /// the engine's buffers (length n each), and refill A: the inner step
    /// of PIRLS. L is stale until the next [`refactor`](Self::refactor).
    pub fn set_weighted_response_with(&mut self, fill: impl FnOnce(&mut [f64], &mut [f64])) {
        let n = self.nobs();
        let sqrtw = self.sqrtw.get_or_insert_with(|| vec![0.0; n]);
        fill(&mut self.y, sqrtw);
        self.refill_a(false);
    }

    /// Refill A from the rows: with compensated sums (`compensated`, see
    /// [`crate::blocks::Sum2`]) or plain ones (PIRLS's iterations).
    fn refill_a(&mut self, compensated: bool) {
        let p = self.structure.p;
        fill_weighted_xy(&mut self.xy, &self.terms, p, &self.y, self.sqrtw.as_deref());
        let (a, random, xy, sqrtw) = (
            &mut self.a,
            &self.terms.random,
            &self.xy,
            self.sqrtw.as_deref(),
        );
        if compensated {
            self.structure
                .fill_a_compensated(a, None, random, xy, sqrtw);
        } else {
            self.structure.fill_a(a, random, xy, sqrtw);
        }
    }

    /// Install θ (already checked against the layout): fill each λ. L is
    /// stale until the next [`refactor`](Self::refactor).
    pub fn install_theta(&mut self, layout: &ThetaLayout, theta: &[f64]) {
        self.theta.copy_from_slice(theta);
        layout.fill_lambdas(theta, &mut self.lambdas);
    }

    /// Factor L L ᵀ = Λᵀ A Λ + I (augmented) at the installed θ. Fails when
    /// the system is not positive definite; the error names the term.
    pub fn refactor(&mut self) -> Result<()> {
        update_l(
            &mut self.l,
            &self.a,
            &self.structure,
            &self.lambdas,
            &mut self.ws,
        )
        .map_err(|e| Error::NotPositiveDefinite {
            term: match self.terms.random.get(e.block) {
                Some(t) => format!("the random effects of `{}`", t.grouping),
                None => "the fixed effects".into(),
            },
            row: e.index,
        })
    }

    /// The last diagonal block of L (dense, (p+1) × (p+1)): R_Xᵀ and the
    /// response row.
    pub fn l_xy(&self) -> &Mat<f64> {
        let k = self.structure.nterms;
        match &self.l[tri(k, k)] {
            Block::Dense(m) => m,
            _ => unreachable!("the [X y] block is dense"),
        }
    }

    /// Penalised, weighted residual sum of squares r².
    pub fn pwrss(&self) -> f64 {
        let p = self.structure.p;
        let r = self.l_xy()[(p, p)];
        r * r
    }

    /// log |L_Z|² = log det(Λᵀ Zᵀ W Z Λ + I).
    pub fn logdet_z(&self) -> f64 {
        (0..self.structure.nterms)
            .map(|j| 2.0 * log_diag_sum(&self.l[tri(j, j)]))
            .sum()
    }

    /// log |R_X|², the fixed-effects part of the log-determinant.
    pub fn logdet_x(&self) -> f64 {
        let m = self.l_xy();
        (0..self.structure.p).map(|i| 2.0 * m[(i, i)].ln()).sum()
    }

    /// The diagonal of L for a scalar term `k` whose diagonal block is
    /// diagonal (one entry per level), for quadrature; None otherwise.
    pub fn scalar_term_diagonal(&self, k: usize) -> Option<&[f64]> {
        match &self.l[tri(k, k)] {
            Block::Diag(d) if d.v == 1 => Some(&d.data),
            _ => None,
        }
    }

    /// The order of the largest dense diagonal block of L among the
    /// random-effects terms (0 if there is none): the block that fills in
    /// when grouping factors are crossed, whose selected inverse (for the
    /// analytic gradient) costs the cube of its order.
    pub fn largest_dense_block(&self) -> usize {
        (0..self.structure.nterms)
            .filter(|&k| self.l[tri(k, k)].is_dense())
            .map(|k| self.structure.block_size(k))
            .max()
            .unwrap_or(0)
    }

    /// A description per block row of L: the kind of each block.
    pub fn block_description(&self) -> Vec<Vec<&'static str>> {
        let k = self.structure.nterms;
        (0..=k)
            .map(|i| (0..=i).map(|j| self.l[tri(i, j)].kind_name()).collect())
            .collect()
    }
}

/// Write [X y] (the first `p` kept columns of X) with each row multiplied by
/// √wᵢ into `xy`, column by column.
fn fill_weighted_xy(
    xy: &mut Mat<f64>,
    terms: &ModelTerms,
    p: usize,
    y: &[f64],
    sqrtw: Option<&[f64]>,
) {
    let n = terms.nobs();
    for j in 0..=p {
        let src = if j < p {
            &terms.fixed.x[j * n..(j + 1) * n]
        } else {
            y
        };
        let col = xy.col_mut(j).try_as_col_major_mut().unwrap().as_slice_mut();
        match sqrtw {
            Some(w) => col
                .iter_mut()
                .zip(src.iter().zip(w))
                .for_each(|(c, (v, w))| *c = v * w),
            None => col.copy_from_slice(src),
        }
    }
}

/// Σ log of the diagonal of a factored diagonal block.
fn log_diag_sum(b: &Block) -> f64 {
    match b {
        Block::Diag(d) => {
            let v = d.v;
            (0..d.nblocks)
                .map(|l| (0..v).map(|r| d.block(l)[r * v + r].ln()).sum::<f64>())
                .sum()
        }
        Block::Dense(m) => (0..m.nrows()).map(|i| m[(i, i)].ln()).sum(),
        Block::Packed(p) => p.log_diag_sum(),
        Block::Sparse(_) => unreachable!("diagonal blocks are never sparse"),
    }
}
