//! Tests: the engine with L's large dense diagonal blocks packed
//! ([`crate::blocks::PackedLower`]) against the same engine with every block
//! square, on crossed models whose later terms have 64 levels or more.

use std::sync::Arc;

use super::*;
use crate::blocks::allocate_l_packing;
use crate::data::{Column, Data};
use crate::terms::{ModelTerms, TermOptions};

impl PlsEngine {
    /// The same engine with every dense diagonal block of L square.
    fn with_square_l(mut self) -> Self {
        self.l = allocate_l_packing(&self.a, &self.structure, usize::MAX);
        self.ws = Workspace::new(&self.l, self.ws.par);
        self
    }
}

/// `n` rows: `g` (400 levels), `c` (150) and `h` (70) crossed with random
/// pairs, `b` (40 levels), a covariate and y (seeded LCG).
fn crossed(n: usize) -> Data {
    let mut state = 2026u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut level = |k: usize, name: &str| -> Vec<String> {
        (0..n)
            .map(|_| format!("{name}{}", (next() * k as f64) as usize))
            .collect()
    };
    let (g, c, h, b) = (
        level(400, "g"),
        level(150, "c"),
        level(70, "h"),
        level(40, "b"),
    );
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0)
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| x[i] + ((i % 13) as f64).sin() + ((i * 31) % 17) as f64 / 17.0)
        .collect();
    Data::new()
        .with_column("g", Column::from_strings(&g))
        .unwrap()
        .with_column("c", Column::from_strings(&c))
        .unwrap()
        .with_column("h", Column::from_strings(&h))
        .unwrap()
        .with_column("b", Column::from_strings(&b))
        .unwrap()
        .with_column("x", Column::numeric(x))
        .unwrap()
        .with_column("y", Column::numeric(y))
        .unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    let scale = a.abs().max(b.abs()).max(1e-300);
    assert!(
        (a - b).abs() <= 1e-12 * scale.max(1.0),
        "{what}: packed {a} square {b}"
    );
}

fn close_all(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * scale,
            "{what}[{i}]: packed {x} square {y}"
        );
    }
}

/// Every quantity the fits read from L, packed against square, at `thetas`.
fn check(formula: &str, thetas: &[&[f64]], packed_blocks: usize) {
    let data = crossed(3000);
    let terms = Arc::new(ModelTerms::new(formula, &data, &TermOptions::default()).unwrap());
    let layout = ThetaLayout::new(&terms.random);
    let y = match &terms.response {
        crate::terms::Variable::Numeric(v) => v.clone(),
        _ => unreachable!(),
    };
    let mut packed = PlsEngine::new(terms, true, y, None, Some(1));
    let n_packed = packed
        .l
        .iter()
        .filter(|b| matches!(b, Block::Packed(_)))
        .count();
    assert_eq!(n_packed, packed_blocks, "{formula}");
    let mut square = packed.clone().with_square_l();
    assert!(!square.l.iter().any(|b| matches!(b, Block::Packed(_))));
    assert_eq!(packed.block_description(), square.block_description());
    for theta in thetas {
        for e in [&mut packed, &mut square] {
            e.install_theta(&layout, theta);
            e.refactor().unwrap();
        }
        let (p, s) = (&packed, &square);
        close(p.pwrss(), s.pwrss(), "pwrss");
        close(p.logdet_z(), s.logdet_z(), "logdet_z");
        close(p.logdet_x(), s.logdet_x(), "logdet_x");
        close_all(&p.beta(), &s.beta(), "beta");
        let beta = p.beta();
        close_all(
            &p.u_given_beta(&beta).concat(),
            &s.u_given_beta(&beta).concat(),
            "u",
        );
        close_all(&p.unscaled_vcov(), &s.unscaled_vcov(), "vcov");
        close_all(
            &p.unscaled_condvar().concat(),
            &s.unscaled_condvar().concat(),
            "condvar",
        );
        close_all(&p.leverage(), &s.leverage(), "leverage");
        for include_x in [false, true] {
            close_all(
                &p.logdet_gradient(&layout, include_x),
                &s.logdet_gradient(&layout, include_x),
                "logdet gradient",
            );
        }
        close_all(
            &p.pwrss_gradient(&layout),
            &s.pwrss_gradient(&layout),
            "pwrss gradient",
        );
    }
}

#[test]
fn packed_and_square_diagonal_blocks_agree() {
    // Two crossed blocks past the first: c (150) and h (70) are packed,
    // L[h, c] dense (the dense downdate of a packed block).
    check(
        "y ~ 1 + x + (1 | g) + (1 | c) + (1 | h)",
        &[&[0.8, 0.6, 1.3], &[1.7, 0.05, 0.4]],
        2,
    );
    // A vector-valued crossed term: 40 levels × 2 = 80 rows, packed.
    check(
        "y ~ 1 + x + (1 | g) + (1 + x | b)",
        &[&[0.8, 0.9, -0.3, 0.5]],
        1,
    );
}
