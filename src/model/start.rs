//! The start of a fit: θ₀ from the data by the method of moments, and the
//! quasi-Newton method's B₀ there (linear mixed models; a GLMM's θ stage
//! on the working response and weights of its GLM fit, with σ² = 1).
//!
//! **θ₀.** With the fixed-effects residual r = y − Xβ̂ (β̂ by weighted least
//! squares), each level g of a term gets the least-squares coefficients of
//! its columns Z_g, b̂_g = M_g⁻¹Z_g'Wr with M_g = Z_g'WZ_g. If the term's
//! random effects have covariance Σ and the residuals variance σ², then
//! E[b̂²_gc] ≈ Σ_cc + σ²(M_g⁻¹)_cc (the other terms and β̂'s error ignored),
//! so Σ̂_cc is the mean of b̂²_gc − s²(M_g⁻¹)_cc over the levels, weighted
//! by their precisions 1/(M_g⁻¹)_cc (a level with few observations, whose b̂
//! is all noise, weighs little; for a scalar term this is the classical
//! (Σ_g (z_g'Wr)²/m_g − ℓ s²)/Σ_g m_g). s² is the residual variance within
//! the levels, the smallest over the terms (each term's holds the variances
//! of the terms crossed with it). λ's diagonal entry c then starts at
//! √(Σ̂_cc/s²), kept within [`START_FLOOR`, `START_CEILING`] of its unit;
//! off-diagonal entries start at 0. Everything is read off A (Z'WZ,
//! Z'W[X y], [X y]'W[X y]), so a model without rows (streamed) gets the
//! same start. Where no estimate can be formed (X'WX singular, no level
//! with a non-singular M_g) an entry keeps lme4's and MixedModels.jl's
//! start, its unit.
//!
//! **GLMMs** (without a dispersion parameter) use the same sums at the GLM
//! fit's working response and weights, where the working residual has
//! variance 1/w, so s² = 1; and when every term is scalar (crossed or
//! nested) the terms are estimated together, each level's sum corrected
//! for the other terms' effects in it (`scalar_system`).
//!
//! **B₀.** Near the optimum the objective's curvature in log λ_cc is close
//! to twice the number of levels ℓ of the term (sleepstudy 35 and 43 for
//! ℓ = 18; InstEval's s, d and dept 4,326, 3,190 and 21 for 2,972, 1,128
//! and 14; Penicillin 68 and 23 for 24 and 6; Dyestuff 10.5 for 6), so B₀
//! is diagonal with 2ℓ/λ̃_rr² for each entry of λ's row r, in θ̃ = θ/unit
//! (the variables the optimizer works on, `model::scaling`).
//! Where the estimate was held at the floor (the data show little
//! variance), the curvature is taken at one unit: the objective is even in
//! λ_cc, flat at 0, and a B₀ from the small start would crawl.
//!
//! Measured over the validation grid's 238 LMM fits: 5,632 evaluations from
//! lme4's start (session 9), 4,642 from the moment start with the B₀ above
//! (with B₀ = γI the start alone saved less than half of that: 5,159
//! against 5,562 under an earlier variant of the BFGS stopping rule); every
//! model passes as before: sleepstudy 13 → 10, InstEval
//! `(1|s) + (1|d) + (1|dept)` 27 → 9, Penicillin 15 → 11. Its 135 GLMM
//! fits: 2,000 → 1,525 (Contraception 11 → 8, with nAGQ 9 12 → 7, VerbAgg
//! 14 → 9, cbpp 11 → 9, grouseticks 17 → 14).

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use crate::blocks::{tri, Block, BlockDiag};
use crate::pls::PlsEngine;
use crate::terms::ThetaLayout;

/// A diagonal entry of the moment start is at least this many units: the
/// objective is even in it, so 0 is a stationary point to stay away from.
const START_FLOOR: f64 = 1.0 / 16.0;
/// A diagonal entry of the moment start is at most this many units.
const START_CEILING: f64 = 64.0;

/// The residual variance σ² a moment start measures θ against (θ = √(Σ̂/σ²)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StartScale {
    /// Estimated from the data (an LMM).
    Estimated,
    /// Known: 1 on the working scale of a GLMM without a dispersion
    /// parameter (the working residual's variance is 1/w), σ² for an LMM
    /// with a fixed σ.
    Known(f64),
}

/// The moment start of θ (module docs) from `engine`'s A, measured as
/// `scale` says; lme4's θ₀ (the units on λ's diagonal, 0 off it) for an
/// entry without an estimate.
pub(crate) fn moment_start(
    engine: &PlsEngine,
    layout: &ThetaLayout,
    scale: StartScale,
) -> Vec<f64> {
    Moments { engine, layout }.theta(scale)
}

/// B₀ for the quasi-Newton method at `theta0` (module docs): row-major
/// n × n, diagonal, in θ̃ = θ/unit, the variables the method works on
/// (`model::scaling`).
pub(crate) fn start_curvature(
    engine: &PlsEngine,
    layout: &ThetaLayout,
    theta0: &[f64],
) -> Vec<f64> {
    Moments { engine, layout }.curvature(theta0)
}

/// The sums of A a moment start reads.
struct Moments<'a> {
    engine: &'a PlsEngine,
    layout: &'a ThetaLayout,
}

impl Moments<'_> {
    /// See [`moment_start`].
    fn theta(&self, scale: StartScale) -> Vec<f64> {
        let mut theta = self.layout.initial();
        let Some((residual_xy, rss)) = self.residual_fit() else {
            return theta;
        };
        let nterms = self.layout.nterms();
        let known = match scale {
            StartScale::Known(s2) if s2.is_finite() && s2 > 0.0 => Some(s2),
            StartScale::Known(_) => return theta,
            StartScale::Estimated => None,
        };
        // On a GLMM's working scale (σ² = 1 known) scalar terms, crossed or
        // nested, are estimated together, each level's sums corrected for
        // the other terms' effects in them (grouseticks' three terms: 20 →
        // 14 evaluations; the grid's GLMMs 1,549 → 1,525). For an LMM, with
        // σ² as one more unknown, the grid's crossed models took more
        // (Penicillin 11 → 16, InstEval 8 → 11): each term's residual
        // variance within its levels holds the variances of the terms
        // crossed with it, and the smallest is taken as σ².
        let fits: Vec<TermFits> = (0..nterms)
            .map(|k| self.term_fits(k, &residual_xy))
            .collect();
        let joint = known.and_then(|s2| self.scalar_system(&fits, s2));
        let s2 = known.or_else(|| {
            fits.iter()
                .filter_map(|f| self.within_variance(f, rss))
                .reduce(f64::min)
        });
        let Some(s2) = s2 else {
            return theta;
        };
        // θ = √(Σ̂/s²) (s² = 1 on a GLMM's working scale).
        let units = self.layout.units();
        let mut variances = vec![None; nterms];
        for (i, entry) in self.layout.entries().iter().enumerate() {
            if !entry.is_diagonal() {
                continue;
            }
            let u = units[i];
            let term = variances[entry.term].get_or_insert_with(|| match &joint {
                Some(sigma2) => Some(vec![sigma2[entry.term]]),
                None => level_variances(&fits[entry.term], s2),
            });
            let Some(term) = term else {
                continue;
            };
            let estimate = (term[entry.row].max(0.0) / s2).sqrt();
            theta[i] = estimate.clamp(u * START_FLOOR, u * START_CEILING);
        }
        theta
    }

    /// β̂ by weighted least squares, as the weights (−β̂, 1) of [X y]'s
    /// columns in the residual r, and r'Wr; None when X'WX is singular or
    /// r'Wr is not positive.
    fn residual_fit(&self) -> Option<(Vec<f64>, f64)> {
        let structure = self.engine.structure();
        let (k, p) = (structure.nterms, structure.p);
        let Block::Dense(a) = &self.engine.a_blocks()[tri(k, k)] else {
            return None;
        };
        // A's diagonal blocks are read from their lower triangle.
        let mut beta = Mat::from_fn(p, 1, |i, _| a[(p, i)]);
        if p > 0 {
            let xtx = Mat::from_fn(p, p, |i, j| a[(i.max(j), i.min(j))]);
            xtx.llt(Side::Lower).ok()?.solve_in_place(beta.as_mut());
        }
        let explained: f64 = (0..p).map(|i| beta[(i, 0)] * a[(p, i)]).sum();
        let rss = a[(p, p)] - explained;
        if !(rss.is_finite() && rss > 0.0) {
            return None;
        }
        let weights = (0..p).map(|i| -beta[(i, 0)]).chain([1.0]).collect();
        Some((weights, rss))
    }

    /// The diagonal blocks Z_g'WZ_g of term `term`'s levels.
    fn level_blocks(&self, term: usize) -> &BlockDiag {
        match &self.engine.a_blocks()[tri(term, term)] {
            Block::Diag(zz) => zz,
            _ => unreachable!("A's diagonal blocks of the terms are block diagonal"),
        }
    }

    /// One pass over term `term`'s levels (the residual's weights
    /// `residual_xy` from [`residual_fit`](Self::residual_fit)): each
    /// level's Z_g'Wr from A's [X y] row, its least-squares fit where M_g =
    /// Z_g'WZ_g is non-singular, and each column's fit alone.
    fn term_fits(&self, term: usize, residual_xy: &[f64]) -> TermFits {
        let structure = self.engine.structure();
        let Block::Dense(xyz) = &self.engine.a_blocks()[tri(structure.nterms, term)] else {
            unreachable!("the [X y] row of A is dense");
        };
        let zz = self.level_blocks(term);
        let v = zz.v;
        let mut out = TermFits {
            products: Vec::with_capacity(zz.nblocks * v),
            column_projected: vec![0.0; v],
            column_levels: vec![0; v],
            projected: 0.0,
            levels: Vec::new(),
        };
        for g in 0..zz.nblocks {
            let zr: Vec<f64> = (0..v)
                .map(|c| {
                    let col = g * v + c;
                    (0..residual_xy.len())
                        .map(|r| residual_xy[r] * xyz[(r, col)])
                        .sum()
                })
                .collect();
            for c in 0..v {
                let m = zz.block(g)[c + c * v];
                if m > 0.0 {
                    out.column_projected[c] += zr[c] * zr[c] / m;
                    out.column_levels[c] += 1;
                }
            }
            let m = Mat::from_fn(v, v, |i, j| zz.block(g)[i + j * v]);
            if let Ok(llt) = m.llt(Side::Lower) {
                let b = llt.solve(Mat::from_fn(v, 1, |i, _| zr[i]));
                let inverse = llt.solve(Mat::<f64>::identity(v, v));
                out.projected += (0..v).map(|c| b[(c, 0)] * zr[c]).sum::<f64>();
                out.levels.push(LevelFit {
                    b: (0..v).map(|c| b[(c, 0)]).collect(),
                    inverse_diagonal: (0..v).map(|c| inverse[(c, c)]).collect(),
                });
            }
            out.products.extend(zr);
        }
        out
    }

    /// The residual variance within the levels of a term (its `fits`):
    /// what each level's least-squares fit leaves of r'Wr (`rss`; over the
    /// levels whose M_g is non-singular), or one column's alone (over every
    /// level), whichever is smaller; None when it is not positive.
    fn within_variance(&self, fits: &TermFits, rss: f64) -> Option<f64> {
        let structure = self.engine.structure();
        let (p, n) = (structure.p, structure.n);
        let v = fits.column_levels.len();
        // Where the levels' fits use up the degrees of freedom what is left
        // of r'Wr is rounding: no estimate.
        let residual = |explained: f64, levels: usize| match n.checked_sub(p + levels) {
            Some(dof) if dof > 0 => (rss - explained) / dof as f64,
            _ => f64::INFINITY,
        };
        let blockwise = if fits.levels.is_empty() {
            f64::INFINITY
        } else {
            residual(fits.projected, v * fits.levels.len())
        };
        let s2 = (0..v)
            .filter(|&c| fits.column_levels[c] > 0)
            .map(|c| residual(fits.column_projected[c], fits.column_levels[c]))
            .fold(blockwise, f64::min);
        (s2.is_finite() && s2 > 0.0).then_some(s2)
    }

    /// The variances of a model whose terms are all scalar (at least two),
    /// given the residual variance `s2`: with Q_k = Σ_g (z_g'Wr)²/m_g over
    /// term k's levels (m_g = z_g'Wz_g), S_kj[g] = Σ_h A_kj[g, h]² and
    /// C_kj = Σ_g S_kj[g]/m_g, E Q_k = σ²_k Σ_g m_g + Σ_{j≠k} σ²_j C_kj +
    /// ℓ_k s² (the other terms' effects in each level's sum, β̂'s error
    /// ignored): K linear equations (Z_g'Wr from the terms' `fits`). None
    /// for other models, or when the system is singular.
    fn scalar_system(&self, fits: &[TermFits], s2: f64) -> Option<Vec<f64>> {
        let structure = self.engine.structure();
        let k = structure.nterms;
        if k < 2 || structure.v.iter().any(|&v| v != 1) {
            return None;
        }
        let mut system = Mat::<f64>::zeros(k, k);
        let mut rhs = Mat::<f64>::zeros(k, 1);
        for t in 0..k {
            // v = 1: one entry m_g per level.
            let m = &self.level_blocks(t).data;
            let (mut q, mut levels, mut size) = (0.0, 0.0, 0.0);
            for (g, &mg) in m.iter().enumerate() {
                if mg > 0.0 {
                    let zr = fits[t].products[g];
                    q += zr * zr / mg;
                    levels += 1.0;
                    size += mg;
                }
            }
            system[(t, t)] = size;
            for j in (0..k).filter(|&j| j != t) {
                let squares = self.cross_squares(t, j)?;
                system[(t, j)] = squares
                    .iter()
                    .zip(m)
                    .filter(|(_, &mg)| mg > 0.0)
                    .map(|(s, mg)| s / mg)
                    .sum();
            }
            rhs[(t, 0)] = q - levels * s2;
        }
        let solution = system.partial_piv_lu().solve(&rhs);
        let sigma2: Vec<f64> = (0..k).map(|t| solution[(t, 0)]).collect();
        sigma2.iter().all(|v| v.is_finite()).then_some(sigma2)
    }

    /// For each level g of scalar term `t`: Σ_h A_tj[g, h]² over the levels
    /// h of scalar term `j` (A's block (t, j), stored as (max, min)).
    fn cross_squares(&self, t: usize, j: usize) -> Option<Vec<f64>> {
        let nlevels = self.engine.structure().nlevels[t];
        let mut out = vec![0.0; nlevels];
        let by_row = t > j;
        match &self.engine.a_blocks()[tri(t.max(j), t.min(j))] {
            Block::Sparse(b) => {
                for c in 0..b.ncol_blocks {
                    for e in b.colptr[c]..b.colptr[c + 1] {
                        let value = b.data[e];
                        let g = if by_row { b.rowidx[e] as usize } else { c };
                        out[g] += value * value;
                    }
                }
            }
            Block::Dense(d) => {
                for c in 0..d.ncols() {
                    for r in 0..d.nrows() {
                        let g = if by_row { r } else { c };
                        out[g] += d[(r, c)] * d[(r, c)];
                    }
                }
            }
            _ => return None,
        }
        Some(out)
    }

    /// See [`start_curvature`].
    fn curvature(&self, theta0: &[f64]) -> Vec<f64> {
        let n = theta0.len();
        let units = self.layout.units();
        let nlevels = &self.engine.structure().nlevels;
        let entries = self.layout.entries();
        let mut b = vec![0.0; n * n];
        for (i, e) in entries.iter().enumerate() {
            // The diagonal entry of the row this entry scales.
            let range = self.layout.term_range(e.term);
            let d = range
                .clone()
                .find(|&j| entries[j].row == e.row && entries[j].col == e.row)
                .unwrap_or(i);
            let z = (theta0[d] / units[d]).abs();
            let z = if z > START_FLOOR { z } else { 1.0 };
            b[i * n + i] = 2.0 * nlevels[e.term] as f64 / (z * z);
        }
        b
    }
}

/// A level's least-squares fit to the residual: b̂_g and the diagonal of
/// M_g⁻¹.
struct LevelFit {
    b: Vec<f64>,
    inverse_diagonal: Vec<f64>,
}

/// What one pass over a term's levels gives ([`Moments::term_fits`]).
struct TermFits {
    /// Z_g'Wr, level by level (v values each).
    products: Vec<f64>,
    /// Per column: Σ_g (z_gc'Wr)²/m_gc over the levels with m_gc > 0, and
    /// their number.
    column_projected: Vec<f64>,
    column_levels: Vec<usize>,
    /// Σ_g b̂_g'Z_g'Wr over the fitted levels.
    projected: f64,
    /// The levels whose M_g is non-singular.
    levels: Vec<LevelFit>,
}

/// Σ̂_cc of each column c of a term given the residual variance `s2`
/// (module docs): the levels' b̂²_gc − s²(M_g⁻¹)_cc averaged with the
/// weights 1/(M_g⁻¹)_cc, their precisions. None when no level has a
/// non-singular M_g.
fn level_variances(fits: &TermFits, s2: f64) -> Option<Vec<f64>> {
    let v = fits.column_levels.len();
    let mut sums = vec![(0.0, 0.0); v];
    for level in &fits.levels {
        for (c, (num, den)) in sums.iter_mut().enumerate() {
            let precision = 1.0 / level.inverse_diagonal[c];
            *num += precision * level.b[c] * level.b[c] - s2;
            *den += precision;
        }
    }
    (!fits.levels.is_empty()).then(|| sums.iter().map(|(num, den)| num / den).collect())
}
