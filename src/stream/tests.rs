//! Unit tests of the pair stores: the switch to a dense grid (crossed
//! terms) or not (nested terms), merges of every combination of stores,
//! the byte form of a dense store, and the sums against a plain map.

use std::collections::{BTreeMap, HashMap};

use super::pair_block::{pair_block, BlockSides};
use super::pairs::{DensePairs, PairDims, PairSums};
use super::{ModelBuilder, PartialA};
use crate::blocks::{to_dense, Block, Sum2};
use crate::data::{Column, Data};
use crate::lmm::{LinearMixedModel, LmmOptions};
use crate::model::MixedModel;

/// A deterministic stream of numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, k: usize) -> usize {
        (self.next() * k as f64) as usize
    }
}

/// Rows with response y, covariate x and grouping factors g and h (codes
/// per row, categorical with levels `g0..`, `h0..`).
fn rows(g: &[u32], h: &[u32], ng: usize, nh: usize, seed: u64) -> Data {
    let mut r = Lcg(seed);
    let x: Vec<f64> = g.iter().map(|_| r.next() * 2.0 - 1.0).collect();
    let y: Vec<f64> = (0..g.len())
        .map(|i| {
            1.0 + 0.5 * x[i] + (g[i] as f64 * 0.37).sin() + (h[i] as f64 * 0.9).cos() + r.next()
        })
        .collect();
    let labels = |p: &str, k: usize| (0..k).map(|j| format!("{p}{j}")).collect::<Vec<_>>();
    Data::new()
        .with_column("y", Column::numeric(y))
        .unwrap()
        .with_column("x", Column::numeric(x))
        .unwrap()
        .with_column("g", Column::categorical(g.to_vec(), labels("g", ng)))
        .unwrap()
        .with_column("h", Column::categorical(h.to_vec(), labels("h", nh)))
        .unwrap()
}

/// `n` rows of g (`ng` levels) crossed with h (`nh` levels) at random.
fn crossed(n: usize, ng: usize, nh: usize, seed: u64) -> Data {
    let mut r = Lcg(seed);
    let g: Vec<u32> = (0..n).map(|_| r.below(ng) as u32).collect();
    let h: Vec<u32> = (0..n).map(|_| r.below(nh) as u32).collect();
    rows(&g, &h, ng, nh, seed + 1)
}

/// The rows `from..to` of `data`.
fn slice(data: &Data, from: usize, to: usize) -> Data {
    let mut out = Data::new();
    for name in data.names() {
        let col = match data.get(name).unwrap() {
            Column::Numeric { values, integer } => Column::Numeric {
                values: values[from..to].to_vec(),
                integer: *integer,
            },
            Column::Categorical { codes, levels } => Column::Categorical {
                codes: codes[from..to].to_vec(),
                levels: levels.clone(),
            },
        };
        out.add_column(name.clone(), col).unwrap();
    }
    out
}

const CROSSED: &str = "y ~ 1 + x + (1 | g) + (1 + x | h)";

/// The partial sums of `parts`, one chunk each.
fn partial_of(formula: &str, parts: &[Data]) -> PartialA {
    let mut b = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
    parts.iter().for_each(|p| b.add_chunk(p).unwrap());
    b.take_partial()
}

/// The pair sums of terms t > s by level labels.
fn pair_table(p: &PartialA, t: usize, s: usize) -> BTreeMap<(String, String), Vec<f64>> {
    let mut out = BTreeMap::new();
    p.terms[t].pairs[s].for_each(|lt, ls, block| {
        let key = (
            p.terms[t].labels[lt as usize].clone(),
            p.terms[s].labels[ls as usize].clone(),
        );
        let values = block.iter().map(|s| s.value()).collect();
        assert!(out.insert(key, values).is_none());
    });
    out
}

/// A model from partial sums (the coding learnt from `data`).
fn model_of(formula: &str, partial: PartialA, data: &Data) -> LinearMixedModel {
    let mut b = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
    b.learn_coding(data).unwrap();
    b.merge(partial).unwrap();
    b.finish().unwrap()
}

/// The fit of `got` equals that of `data` in memory bit for bit: A's sums
/// are compensated ([`Sum2`]) in both, so neither the chunking nor the
/// order of merges changes A, and the fit is a function of A.
fn assert_fits_as_in_memory(formula: &str, mut got: LinearMixedModel, data: &Data) {
    let mut want = LinearMixedModel::new(formula, data, &LmmOptions::default()).unwrap();
    want.fit(false).unwrap();
    got.fit(false).unwrap();
    let bits = |m: &LinearMixedModel| {
        let mut v = vec![m.objective(), m.sigma()];
        v.extend(m.theta());
        v.extend(m.beta());
        v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(bits(&got), bits(&want), "{formula}");
}

#[test]
fn the_residual_degrees_of_freedom_need_no_rows() {
    let data = crossed(1500, 40, 9, 41);
    let mut streamed = model_of(
        CROSSED,
        partial_of(CROSSED, std::slice::from_ref(&data)),
        &data,
    );
    let mut memory = LinearMixedModel::new(CROSSED, &data, &LmmOptions::default()).unwrap();
    streamed.fit(false).unwrap();
    memory.fit(false).unwrap();
    assert!(streamed.leverage().is_empty());
    // Values per row need the rows: none without them (Python streams them),
    // and simulations and predictions for the fitted rows are refused.
    assert!(!streamed.has_rows() && memory.has_rows());
    assert!(streamed.fitted().is_empty() && streamed.residuals().is_empty());
    assert_eq!(memory.fitted().len(), 1500);
    let refused = |r: crate::error::Result<Vec<f64>>| {
        matches!(r, Err(crate::error::Error::RowsNotStored { .. }))
    };
    let options = crate::model::SimulateOptions {
        n: 1,
        ..Default::default()
    };
    assert!(refused(crate::model::simulate(&streamed, 1, &options)));
    assert!(crate::model::simulate(&memory, 1, &options).is_ok());
    let predict = crate::model::PredictOptions::default();
    assert!(refused(crate::model::Predict::predict(
        &streamed, None, &predict
    )));
    assert!(crate::model::Predict::predict(&memory, None, &predict).is_ok());
    // n − Σ hᵢ summed over the rows, against the trace read off the factor.
    let by_rows = 1500.0 - memory.leverage().iter().sum::<f64>();
    for dof in [memory.dof_residual(), streamed.dof_residual()] {
        assert!(
            (dof - by_rows).abs() <= 1e-9 * by_rows,
            "{dof} vs {by_rows}"
        );
    }
    assert!(
        by_rows < 1500.0 - 2.0,
        "the fixed effects and the random effects use some"
    );
}

#[test]
fn any_chunking_and_any_merge_order_give_the_in_memory_fit() {
    // A random slope makes every sum of A inexact (x is not an integer).
    let n = 3000;
    let data = crossed(n, 90, 14, 31);
    for size in [1, 7, 250, 1999, n] {
        let parts: Vec<Data> = (0..n)
            .step_by(size)
            .map(|from| slice(&data, from, (from + size).min(n)))
            .collect();
        assert_fits_as_in_memory(
            CROSSED,
            model_of(CROSSED, partial_of(CROSSED, &parts), &data),
            &data,
        );
        // The parts' sums merged last to first, through their bytes.
        let mut merged = PartialA::default();
        for part in parts.iter().rev() {
            let bytes = partial_of(CROSSED, std::slice::from_ref(part)).to_bytes();
            merged.merge(PartialA::from_bytes(&bytes).unwrap()).unwrap();
        }
        assert_fits_as_in_memory(CROSSED, model_of(CROSSED, merged, &data), &data);
    }
}

#[test]
fn pair_sums_match_a_map_through_growth_and_both_switches() {
    // Crossed phase: 40 × 12 levels met a few at a time (the inner levels
    // grow past the grid's room several times), then a phase of new levels
    // with one pair each, which must send the store back to sparse.
    let (v_t, v_s) = (1, 2);
    let mut r = Lcg(7);
    let mut store = PairSums::default();
    let mut want: HashMap<(u32, u32), Vec<f64>> = HashMap::new();
    let (mut n_t, mut n_s) = (0usize, 0usize);
    let mut was_dense = false;
    for batch in 0..60 {
        let (add_t, add_s, npairs) = if batch < 30 {
            ((batch % 3 == 0) as usize, (batch % 2 == 0) as usize * 2, 40)
        } else {
            (40, 40, 40)
        };
        n_t = (n_t + add_t).max(1);
        n_s = (n_s + add_s).max(1);
        let dims = PairDims { n_t, n_s, v_t, v_s };
        store.prepare(dims, npairs);
        for k in 0..npairs {
            let (lt, ls) = if batch < 30 {
                (r.below(n_t) as u32, r.below(n_s) as u32)
            } else {
                ((n_t - 1 - k) as u32, (n_s - 1 - k) as u32)
            };
            let vals = [r.next(), r.next()];
            let block = store.block_mut(lt, ls, 2);
            let w = want.entry((lt, ls)).or_insert(vec![0.0; 2]);
            for c in 0..2 {
                block[c].add(vals[c]);
                w[c] += vals[c];
            }
        }
        store.settle(dims);
        was_dense |= store.is_dense();
        let mut got = HashMap::new();
        // The rounded parts follow the plain sums exactly (TwoSum's sum).
        store.for_each(|lt, ls, b| {
            got.insert((lt, ls), b.iter().map(|s| s.hi).collect::<Vec<f64>>());
        });
        assert_eq!(got, want, "batch {batch}");
        assert_eq!(store.npairs(), want.len());
    }
    assert!(was_dense, "the crossed phase fills the rectangle");
    assert!(!store.is_dense(), "a store this sparse goes back to a map");
}

#[test]
fn crossed_terms_turn_dense_mid_stream_and_fit_as_in_memory() {
    let data = crossed(4000, 150, 12, 11);
    let mut b = ModelBuilder::new(CROSSED, &LmmOptions::default()).unwrap();
    let mut kinds = Vec::new();
    for from in (0..4000).step_by(100) {
        b.add_chunk(&slice(&data, from, from + 100)).unwrap();
        kinds.push(b.partial().terms[1].pairs[0].is_dense());
    }
    assert!(!kinds[0], "the first chunk meets a small part of the pairs");
    assert!(*kinds.last().unwrap(), "the crossed pairs end dense");
    let partial = b.take_partial();
    // Same sums as one chunk of all rows (the same additions per pair).
    let whole = partial_of(CROSSED, std::slice::from_ref(&data));
    let got = pair_table(&partial, 1, 0);
    let want = pair_table(&whole, 1, 0);
    assert_eq!(got.len(), want.len());
    for (k, v) in &want {
        let g = &got[k];
        for (a, b) in g.iter().zip(v) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{k:?}");
        }
    }
    assert_fits_as_in_memory(CROSSED, model_of(CROSSED, partial, &data), &data);
}

#[test]
fn nested_terms_stay_sparse() {
    // h nested in g: 5 levels of h per level of g, rows in random order.
    let (ng, per, n) = (60, 5, 3000);
    let mut r = Lcg(3);
    let h: Vec<u32> = (0..n).map(|_| r.below(ng * per) as u32).collect();
    let g: Vec<u32> = h.iter().map(|&x| x / per as u32).collect();
    let data = rows(&g, &h, ng, ng * per, 5);
    let formula = "y ~ 1 + x + (1 | g) + (1 | h)";
    let mut b = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
    for from in (0..n).step_by(150) {
        b.add_chunk(&slice(&data, from, from + 150)).unwrap();
        let pairs = &b.partial().terms[1].pairs[0];
        assert!(!pairs.is_dense(), "chunk at row {from}");
        assert_eq!(pairs.npairs(), b.partial().terms[1].nlevels());
    }
    let partial = b.take_partial();
    assert_fits_as_in_memory(formula, model_of(formula, partial, &data), &data);
}

#[test]
fn merges_of_sparse_and_dense_stores_sum_as_one_stream() {
    let data = crossed(2400, 80, 10, 21);
    // A sparse part (few rows over many levels) and dense parts.
    let sparse_a = slice(&data, 0, 40);
    let sparse_b = slice(&data, 40, 80);
    let dense_a = slice(&data, 80, 1200);
    let dense_b = slice(&data, 1200, 2400);
    let p = |d: &Data| partial_of(CROSSED, std::slice::from_ref(d));
    assert!(!p(&sparse_a).terms[1].pairs[0].is_dense());
    assert!(!p(&sparse_b).terms[1].pairs[0].is_dense());
    assert!(p(&dense_a).terms[1].pairs[0].is_dense());
    assert!(p(&dense_b).terms[1].pairs[0].is_dense());
    let cases = [
        (&sparse_a, &sparse_b),
        (&dense_a, &sparse_b),
        (&sparse_a, &dense_b),
        (&dense_a, &dense_b),
    ];
    for (first, second) in cases {
        let mut merged = p(first);
        merged.merge(p(second)).unwrap();
        // One stream of the same two chunks adds the same values per pair.
        let stream = partial_of(CROSSED, &[first.clone(), second.clone()]);
        assert_eq!(pair_table(&merged, 1, 0), pair_table(&stream, 1, 0));
        assert_eq!(
            merged.terms[1].pairs[0].is_dense(),
            stream.terms[1].pairs[0].is_dense()
        );
    }
    // The tree of all four parts fits as in memory.
    let mut left = p(&sparse_a);
    left.merge(p(&dense_a)).unwrap();
    let mut right = p(&dense_b);
    right.merge(p(&sparse_b)).unwrap();
    left.merge(right).unwrap();
    assert!(left.terms[1].pairs[0].is_dense());
    assert_fits_as_in_memory(CROSSED, model_of(CROSSED, left, &data), &data);
}

#[test]
fn a_dense_partial_survives_bytes() {
    let data = crossed(2000, 70, 9, 31);
    // Levels met over several chunks, so the grid has spare room.
    let parts: Vec<Data> = (0..2000)
        .step_by(250)
        .map(|f| slice(&data, f, f + 250))
        .collect();
    let partial = partial_of(CROSSED, &parts);
    assert!(partial.terms[1].pairs[0].is_dense());
    let bytes = partial.to_bytes();
    let back = PartialA::from_bytes(&bytes).unwrap();
    assert!(back.terms[1].pairs[0].is_dense());
    assert_eq!(pair_table(&back, 1, 0), pair_table(&partial, 1, 0));
    assert_eq!(back.to_bytes(), bytes, "the byte form is canonical");
    // Cut or altered bytes are refused with an error.
    assert!(PartialA::from_bytes(&bytes[..bytes.len() - 8]).is_err());
    let mut wrong = bytes.clone();
    wrong[7] = b'1';
    assert!(PartialA::from_bytes(&wrong).is_err());
    assert_fits_as_in_memory(CROSSED, model_of(CROSSED, back, &data), &data);
}

#[test]
fn a_block_is_the_same_from_either_store_in_either_orientation() {
    let dims = PairDims {
        n_t: 9,
        n_s: 5,
        v_t: 2,
        v_s: 3,
    };
    let mut r = Lcg(41);
    // Final positions: a shuffle of the running numbers.
    let shuffle = |n: usize, r: &mut Lcg| {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, r.below(i + 1));
        }
        p
    };
    let (rank_t, rank_s) = (shuffle(9, &mut r), shuffle(5, &mut r));
    for (fill, dense_block) in [(0.6, true), (0.12, false)] {
        let mut pairs = Vec::new();
        for lt in 0..9u32 {
            for ls in 0..5u32 {
                if r.next() < fill {
                    pairs.push((lt, ls, (0..6).map(|_| r.next() - 0.5).collect::<Vec<_>>()));
                }
            }
        }
        let mut stores = vec![
            PairSums::default(),
            PairSums::Dense(DensePairs::with_shape(true, 5, 9, 6)),
            PairSums::Dense(DensePairs::with_shape(false, 9, 5, 6)),
        ];
        for store in &mut stores {
            for (lt, ls, vals) in &pairs {
                store
                    .block_mut(*lt, *ls, 6)
                    .iter_mut()
                    .zip(vals)
                    .for_each(|(s, &v)| *s = Sum2::new(v, 0.0));
            }
        }
        for t_rows in [true, false] {
            // The block by definition: entry (a, b) of a pair's v_t × v_s
            // sums at (t's row a, s's column b), transposed when s gives rows.
            let (nr, nc) = if t_rows { (18, 15) } else { (15, 18) };
            let mut want = faer::Mat::<f64>::zeros(nr, nc);
            for (lt, ls, vals) in &pairs {
                let (gt, gs) = (rank_t[*lt as usize], rank_s[*ls as usize]);
                for a in 0..2 {
                    for b in 0..3 {
                        let x = vals[b * 2 + a];
                        if t_rows {
                            want[(gt * 2 + a, gs * 3 + b)] = x;
                        } else {
                            want[(gs * 3 + b, gt * 2 + a)] = x;
                        }
                    }
                }
            }
            let sides = BlockSides {
                rank_t: &rank_t,
                rank_s: &rank_s,
                dims,
                t_rows,
            };
            let blocks: Vec<Block> = stores
                .iter()
                .map(|s| pair_block(s.clone(), &sides))
                .collect();
            for (k, b) in blocks.iter().enumerate() {
                assert_eq!(matches!(b, Block::Dense(_)), dense_block, "store {k}");
                assert_eq!(to_dense(b), want, "store {k}, t_rows {t_rows}");
                if let (Block::Sparse(x), Block::Sparse(y)) = (b, &blocks[0]) {
                    assert_eq!((&x.colptr, &x.rowidx), (&y.colptr, &y.rowidx));
                }
            }
        }
    }
}
