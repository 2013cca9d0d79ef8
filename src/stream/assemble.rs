//! From the summed partials to A in the in-memory layout: levels put in
//! their in-memory order, terms ordered by decreasing number of random
//! effects, X's rank decided on XᵀX, and each off-diagonal block stored
//! sparse or dense by the in-memory rule.

use faer::Mat;

use super::pair_block::{pair_block, BlockSides};
use super::partial::{PartialA, TermSums};
use crate::blocks::{tri, Block, BlockDiag, Structure};
use crate::error::{Error, Result};
use crate::terms::{FeTerm, ReTerm, RANK_TOL};

/// A assembled from partial sums, with what the model is built from.
pub(crate) struct Assembled {
    /// The random-effects terms (no rows; see [`final_term`]).
    pub random: Vec<ReTerm>,
    /// The fixed-effects term (no rows).
    pub fixed: FeTerm,
    /// The block structure of A.
    pub structure: Structure,
    /// A's blocks.
    pub a: Vec<Block>,
}

/// Assemble A from `partial` (which must hold at least one row). The pair
/// sums are taken out of `partial` block by block, so that each store is
/// released once its block of A is built.
pub(crate) fn assemble(partial: &mut PartialA) -> Result<Assembled> {
    let n = partial.nobs as usize;
    let k = partial.terms.len();
    for t in &partial.terms {
        if t.nlevels() < 2 {
            return Err(Error::Term {
                term: t.grouping.clone(),
                message: format!(
                    "grouping factor has {} level{} in the data used; it needs at least two",
                    t.nlevels(),
                    if t.nlevels() == 1 { "" } else { "s" }
                ),
            });
        }
    }
    // Final position of each level (rank[t][running number]).
    let ranks: Vec<Vec<usize>> = partial.terms.iter().map(level_ranks).collect();
    // Terms by decreasing number of random effects, ties in formula order.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(partial.terms[t].nlevels() * partial.terms[t].v()));
    let random: Vec<ReTerm> = order
        .iter()
        .map(|&t| final_term(&partial.terms[t], &ranks[t]))
        .collect();
    let w_all = partial.width();
    let gram: Vec<f64> = partial.xy_xy.iter().map(|s| s.value()).collect();
    let (kept, dropped) = independent_columns(&gram, w_all);
    let p = kept.len();
    // Columns of the full [X y] that stay, in order (the response last).
    let sel: Vec<usize> = kept.iter().copied().chain([w_all - 1]).collect();
    // Off-diagonal random-effects blocks, packed (i > j).
    let mut offdiag: Vec<Option<Block>> = vec![None; tri(k, k) + 1];
    for i in 0..k {
        for j in 0..i {
            let (ti, tj) = (order[i], order[j]);
            let (hi, lo) = (ti.max(tj), ti.min(tj));
            let sides = BlockSides {
                rank_t: &ranks[hi],
                rank_s: &ranks[lo],
                dims: partial.pair_dims(hi, lo),
                t_rows: hi == ti,
            };
            let store = std::mem::take(&mut partial.terms[hi].pairs[lo]);
            offdiag[tri(i, j)] = Some(pair_block(store, &sides));
        }
    }
    let structure = Structure::from_blocks(
        random.iter().map(ReTerm::ncols).collect(),
        random.iter().map(ReTerm::nlevels).collect(),
        p,
        n,
        &offdiag,
    );
    let mut a = Vec::with_capacity(tri(k, k) + 1);
    for i in 0..=k {
        for j in 0..=i {
            a.push(if i == j && i < k {
                Block::Diag(BlockDiag::zeros(random[i].ncols(), random[i].nlevels()))
            } else if i < k {
                offdiag[tri(i, j)].take().unwrap()
            } else {
                Block::Dense(Mat::zeros(p + 1, structure.block_size(j)))
            });
        }
    }
    for i in 0..k {
        let sums = &partial.terms[order[i]];
        let rank = &ranks[order[i]];
        let v = sums.v();
        if let Block::Diag(d) = &mut a[tri(i, i)] {
            for (g, &r) in rank.iter().enumerate() {
                let src = &sums.diag[g * v * v..(g + 1) * v * v];
                d.block_mut(r)
                    .iter_mut()
                    .zip(src)
                    .for_each(|(x, s)| *x = s.value());
            }
        }
        if let Block::Dense(m) = &mut a[tri(k, i)] {
            for (g, &r) in rank.iter().enumerate() {
                for c in 0..v {
                    let src = &sums.xyz[(g * v + c) * w_all..(g * v + c + 1) * w_all];
                    for (row, &col) in sel.iter().enumerate() {
                        m[(row, r * v + c)] = src[col].value();
                    }
                }
            }
        }
    }
    if let Block::Dense(m) = &mut a[tri(k, k)] {
        for (c, &cc) in sel.iter().enumerate() {
            for (r, &rr) in sel.iter().enumerate() {
                m[(r, c)] = gram[cc * w_all + rr];
            }
        }
    }
    let fixed = FeTerm {
        names: partial.x_names.clone(),
        kept,
        dropped,
        x: Vec::new(),
        nrows: n,
        term_of: partial.term_of.clone(),
    };
    Ok(Assembled {
        random,
        fixed,
        structure,
        a,
    })
}

/// The position of each level (by running number) in the in-memory order.
fn level_ranks(t: &TermSums) -> Vec<usize> {
    let mut by_key: Vec<usize> = (0..t.nlevels()).collect();
    by_key.sort_by(|&a, &b| {
        t.keys[a]
            .iter()
            .zip(&t.keys[b])
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut rank = vec![0; by_key.len()];
    for (r, &g) in by_key.iter().enumerate() {
        rank[g] = r;
    }
    rank
}

/// A model's random-effects term from its sums. It holds no rows: `refs`
/// is empty and `z` is one row holding each column's size (the root mean
/// square of its non-zero entries), which is all the θ layout reads from z
/// (the units of the θ entries).
fn final_term(t: &TermSums, rank: &[usize]) -> ReTerm {
    let mut levels = vec![String::new(); rank.len()];
    for (g, &r) in rank.iter().enumerate() {
        levels[r] = t.labels[g].clone();
    }
    ReTerm {
        grouping: t.grouping.clone(),
        levels,
        refs: Vec::new(),
        column_names: t.column_names.clone(),
        z: t.zsq
            .iter()
            .map(|&(ss, k)| if k == 0 { 0.0 } else { (ss / k as f64).sqrt() })
            .collect(),
        theta_index: t.theta_index.clone(),
    }
}

/// Split the columns of X into (kept, dropped) from the Gram matrix of
/// [X y] (`w × w`, column-major; X is its first w − 1 columns): in model
/// order, a column is dropped when the part of it orthogonal to the columns
/// kept has a norm below [`RANK_TOL`] times its own (the in-memory rule of
/// [`FeTerm::new`], on XᵀX), or when it is zero.
fn independent_columns(gram: &[f64], w: usize) -> (Vec<usize>, Vec<usize>) {
    let g = |r: usize, c: usize| gram[c * w + r];
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    // Rows of the Cholesky factor of the kept columns' Gram matrix.
    let mut chol: Vec<Vec<f64>> = Vec::new();
    for j in 0..w - 1 {
        let gjj = g(j, j);
        if gjj <= 0.0 {
            dropped.push(j);
            continue;
        }
        let mut row = Vec::with_capacity(kept.len() + 1);
        for (m, &km) in kept.iter().enumerate() {
            let dot: f64 = row.iter().zip(&chol[m]).map(|(a, b)| a * b).sum();
            row.push((g(j, km) - dot) / chol[m][m]);
        }
        let d = gjj - row.iter().map(|x| x * x).sum::<f64>();
        if d <= 0.0 || (d / gjj).sqrt() < RANK_TOL {
            dropped.push(j);
        } else {
            row.push(d.sqrt());
            chol.push(row);
            kept.push(j);
        }
    }
    (kept, dropped)
}
