//! The blocked factor reconstructs its matrix: L Lᵀ = Λᵀ A Λ + I (with the
//! [X y] block unscaled), to 1e-12 relative, for each structure of L:
//! block diagonal (vector-valued term), nested (diagonal stays diagonal),
//! crossed (dense fill-in; the off-diagonal block of A sparse when few level
//! pairs occur, dense when most do) and three crossed terms.

mod common;

use common::dataset;
use faer::Mat;
use mixedmodels::blocks::{to_dense, tri};
use mixedmodels::data::{Column, Data};
use mixedmodels::MixedModel;
use mixedmodels::{LinearMixedModel, LmmOptions};

fn dense_of(blocks: &[mixedmodels::blocks::Block], sizes: &[usize], lower_only: bool) -> Mat<f64> {
    let n: usize = sizes.iter().sum();
    let k = sizes.len();
    let mut off = vec![0];
    for s in sizes {
        off.push(off.last().unwrap() + s);
    }
    let mut m = Mat::<f64>::zeros(n, n);
    for i in 0..k {
        for j in 0..=i {
            let b = to_dense(&blocks[tri(i, j)]);
            for c in 0..sizes[j] {
                for r in 0..sizes[i] {
                    if lower_only && i == j && r < c {
                        continue;
                    }
                    m[(off[i] + r, off[j] + c)] = b[(r, c)];
                    if !lower_only {
                        m[(off[j] + c, off[i] + r)] = b[(r, c)];
                    }
                }
            }
        }
    }
    m
}

fn check(dataset_name: &str, formula: &str, theta: &[f64], expect_kinds: &[&[&str]]) {
    check_data(&dataset(dataset_name), formula, theta, expect_kinds);
}

fn check_data(data: &Data, formula: &str, theta: &[f64], expect_kinds: &[&[&str]]) {
    let mut m = LinearMixedModel::new(formula, data, &LmmOptions::default()).unwrap();
    m.objective_at(theta).unwrap();
    assert_eq!(m.block_description(), expect_kinds, "{formula}");
    let k = m.structure().nterms;
    let sizes: Vec<usize> = (0..=k).map(|j| m.structure().block_size(j)).collect();
    let a = dense_of(m.a_blocks(), &sizes, false);
    let l = dense_of(m.l_blocks(), &sizes, true);
    // Λ: block diagonal of the terms' λ, identity on [X y].
    let n: usize = sizes.iter().sum();
    let mut lam = Mat::<f64>::identity(n, n);
    let mut off = 0;
    for (t, lt) in m.lambdas().iter().enumerate() {
        let v = m.structure().v[t];
        for lev in 0..m.structure().nlevels[t] {
            for c in 0..v {
                for r in 0..v {
                    lam[(off + lev * v + r, off + lev * v + c)] = lt[c * v + r];
                }
            }
        }
        off += sizes[t];
    }
    let mut target = lam.transpose() * &a * &lam;
    for i in 0..off {
        target[(i, i)] += 1.0;
    }
    let recon = &l * l.transpose();
    let scale = (0..n).map(|i| target[(i, i)].abs()).fold(0.0, f64::max);
    for c in 0..n {
        for r in 0..n {
            let d = (recon[(r, c)] - target[(r, c)]).abs();
            assert!(
                d <= 1e-12 * scale,
                "{formula}: entry ({r},{c}) differs by {d:e} (scale {scale})"
            );
        }
    }
}

#[test]
fn vector_valued_term_is_block_diagonal() {
    check(
        "sleepstudy",
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        &[0.93, 0.02, 0.22],
        &[&["BlkDiag"], &["Dense", "Dense"]],
    );
}

#[test]
fn nested_terms_keep_a_diagonal_factor() {
    check(
        "pastes",
        "strength ~ 1 + (1 | batch/cask)",
        &[3.5, 1.3],
        &[
            &["Diagonal"],
            &["Sparse", "Diagonal"],
            &["Dense", "Dense", "Dense"],
        ],
    );
}

#[test]
fn crossed_terms_fill_in_densely() {
    check(
        "penicillin",
        "diameter ~ 1 + (1 | plate) + (1 | sample)",
        &[1.54, 3.22],
        &[
            &["Diagonal"],
            &["Dense", "Dense"],
            &["Dense", "Dense", "Dense"],
        ],
    );
}

/// 400 observations of two partially crossed factors (60 × 40 levels, about
/// 15 % of the level pairs occur): A's off-diagonal block stays sparse,
/// L's fills in.
#[test]
fn sparsely_crossed_terms_keep_a_sparse_off_diagonal_block() {
    let mut state: u64 = 20261125;
    let mut next = |m: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let n = 400;
    let g: Vec<u32> = (0..n).map(|_| next(60) as u32).collect();
    let h: Vec<u32> = (0..n).map(|_| next(40) as u32).collect();
    let y: Vec<f64> = (0..n).map(|_| next(1000) as f64 / 100.0).collect();
    let names = |k: usize, p: &str| (0..k).map(|i| format!("{p}{i:02}")).collect::<Vec<_>>();
    let data = Data::new()
        .with_column("y", Column::numeric(y))
        .unwrap()
        .with_column("g", Column::categorical(g, names(60, "g")))
        .unwrap()
        .with_column("h", Column::categorical(h, names(40, "h")))
        .unwrap();
    check_data(
        &data,
        "y ~ 1 + (1 | g) + (1 | h)",
        &[0.7, 1.3],
        &[
            &["Diagonal"],
            &["Sparse", "Dense"],
            &["Dense", "Dense", "Dense"],
        ],
    );
}

#[test]
fn three_crossed_terms_and_vector_valued_terms() {
    check(
        "machines",
        "score ~ 1 + Machine + (1 | Worker) + (1 | Worker:Machine)",
        &[1.9, 0.8],
        &[
            &["Diagonal"],
            &["Sparse", "Diagonal"],
            &["Dense", "Dense", "Dense"],
        ],
    );
    check(
        "insteval",
        "y ~ 1 + service + (1 | dept) + (1 | lectage) + (1 | studage)",
        &[0.3, 0.2, 0.1],
        &[
            &["Diagonal"],
            &["Dense", "Dense"],
            &["Dense", "Dense", "Dense"],
            &["Dense", "Dense", "Dense", "Dense"],
        ],
    );
    check(
        "oxboys",
        "height ~ 1 + age + (1 + age | Subject) + (1 | Occasion)",
        &[5.0, 0.3, 1.0, 0.5],
        &[
            &["BlkDiag"],
            &["Dense", "Dense"],
            &["Dense", "Dense", "Dense"],
        ],
    );
}
