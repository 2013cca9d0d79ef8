//! Per-term hypotheses of the fixed effects and their tests: the analysis of
//! variance tables of types 1, 2 and 3, with the hypothesis matrices lmerTest
//! builds (Kuznetsova et al. 2017; its `get_contrasts_type1/2/3`).
//!
//! * Type 1 (sequential): with XᵀX = LU (Doolittle, unit lower L), the rows of
//!   Lᵀ belonging to a term's columns.
//! * Type 2: a term contained in no other term is tested marginally (the
//!   identity rows of its columns); otherwise X's columns are reordered with
//!   the term and the terms containing it last, and the type-1 rows of the
//!   term in that order are used. Term A is contained in B when B's variables
//!   include A's, B has more, and both have the same numeric variables.
//! * Type 3: each term's rows of Lᵀ, L = (X⁺ R)ᵀ with R the indicator design
//!   of every term (`~ 0 + term` per term, plus the intercept), after each
//!   term's columns are made orthogonal (least-squares residuals) to the
//!   columns of the terms containing it, highest order first; rows of X's
//!   column names kept. With a coding other than treatment the matrices are
//!   made on the treatment-coded X and mapped by X_treat⁺ X. The data are
//!   needed to build R.
//!
//! A model whose X has at most one column, or at most one term, gets the
//! type-1 hypotheses for every type (as lmerTest).

use std::collections::HashMap;

use faer::Mat;

use super::{DdfMethod, FTest, LmmTests};
use crate::contrasts::Coding;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::formula::{Atom, Term, TermsSpec};
use crate::lmm::LinearMixedModel;
use crate::model::MixedModel;
use crate::terms::{build_columns, FeTerm, MissingPolicy, ModelFrame, ModelTerms, TrainingColumn};

/// Which sums of squares a term's hypothesis corresponds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnovaType {
    /// Sequential (type 1).
    One,
    /// Type 2: each term adjusted for the terms that do not contain it.
    Two,
    /// Type 3: each term adjusted for all others (lmerTest's default).
    Three,
}

impl AnovaType {
    /// The type numbered 1, 2 or 3.
    pub fn from_number(k: i64) -> Result<Self> {
        match k {
            1 => Ok(AnovaType::One),
            2 => Ok(AnovaType::Two),
            3 => Ok(AnovaType::Three),
            _ => Err(Error::argument(
                "type",
                format!("the type of an analysis of variance is 1, 2 or 3, got {k}"),
            )),
        }
    }

    /// 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            AnovaType::One => 1,
            AnovaType::Two => 2,
            AnovaType::Three => 3,
        }
    }
}

/// The hypothesis of one term: its label and L (rows of length p).
#[derive(Debug, Clone)]
pub struct TermHypothesis {
    /// The term's label (`Days`, `recipe & temp`).
    pub term: String,
    /// The hypothesis matrix (no rows when the term has no estimable column).
    pub l: Mat<f64>,
}

/// One row of an analysis-of-variance table.
#[derive(Debug, Clone, PartialEq)]
pub struct AnovaRow {
    /// The term's label.
    pub term: String,
    /// Its test (None when the term has no estimable column).
    pub test: Option<FTest>,
}

/// The analysis-of-variance table of a fitted linear mixed model with
/// `method`'s denominator df, or of any model with large-sample Wald tests
/// (`method` None; see [`super::wald_test`]); `data` as the model was built
/// from (type 3 only).
pub fn anova(
    m: &mut LinearMixedModel,
    kind: AnovaType,
    method: Option<DdfMethod>,
    data: Option<&Data>,
) -> Result<Vec<AnovaRow>> {
    let hyps = hypotheses(m.terms(), kind, data)?;
    match method {
        None => {
            super::check_fitted(m)?;
            test_rows(&hyps, |l, r| super::wald_test(m, l, r))
        }
        Some(method) => {
            let tests = LmmTests::new(m, method)?;
            test_rows(&hyps, |l, r| tests.test(l, r))
        }
    }
}

/// Test every hypothesis with `test`.
pub fn test_rows(
    hyps: &[TermHypothesis],
    mut test: impl FnMut(&Mat<f64>, &[f64]) -> Result<FTest>,
) -> Result<Vec<AnovaRow>> {
    hyps.iter()
        .map(|h| {
            let t = if h.l.nrows() == 0 {
                None
            } else {
                Some(test(&h.l, &vec![0.0; h.l.nrows()])?)
            };
            Ok(AnovaRow {
                term: h.term.clone(),
                test: t,
            })
        })
        .collect()
}

/// The hypothesis matrix of every fixed-effects term of `terms` (in formula
/// order) for an analysis of `kind`. Type 3 needs the `data` the model was
/// built from.
pub fn hypotheses(
    terms: &ModelTerms,
    kind: AnovaType,
    data: Option<&Data>,
) -> Result<Vec<TermHypothesis>> {
    let fixed = &terms.fixed;
    let spec = &terms.spec.fixed;
    let p = fixed.rank();
    if spec.terms.is_empty() || p == 0 {
        return Ok(Vec::new());
    }
    if p <= 1 || spec.terms.len() <= 1 || kind == AnovaType::One {
        return Ok(type1(fixed, spec));
    }
    let numeric = numeric_atoms(terms);
    let contained = containment(spec, &numeric);
    match kind {
        AnovaType::One => unreachable!(),
        AnovaType::Two => Ok(type2(fixed, spec, &contained)),
        AnovaType::Three => {
            let data = data.ok_or_else(|| {
                Error::argument(
                    "data",
                    "type-3 hypotheses need the data the model was built from",
                )
            })?;
            type3(terms, data, &contained)
        }
    }
}

/// The term (index into the formula's terms) of each column of X.
fn column_terms(fixed: &FeTerm) -> Vec<Option<usize>> {
    fixed.kept_term_of()
}

/// Rows `rows` of `m` as a matrix.
fn select_rows(m: &Mat<f64>, rows: &[usize]) -> Mat<f64> {
    Mat::from_fn(rows.len(), m.ncols(), |i, j| m[(rows[i], j)])
}

/// XᵀX of the kept columns.
fn crossprod(fixed: &FeTerm) -> Mat<f64> {
    let p = fixed.rank();
    let mut out = Mat::<f64>::zeros(p, p);
    for a in 0..p {
        for b in a..p {
            let v: f64 = fixed
                .column(a)
                .iter()
                .zip(fixed.column(b))
                .map(|(x, y)| x * y)
                .sum();
            out[(a, b)] = v;
            out[(b, a)] = v;
        }
    }
    out
}

/// The unit lower factor of Doolittle's LU decomposition of a square matrix,
/// entries below 1e-6 in magnitude set to 0 and columns with a pivot below
/// 1e-6 left 0 (as lmerTest's `doolittle`).
pub fn doolittle_lower(x: &Mat<f64>) -> Mat<f64> {
    const EPS: f64 = 1e-6;
    let n = x.nrows();
    let mut l = Mat::<f64>::identity(n, n);
    let mut u = Mat::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let mut v = x[(i, j)];
            for k in 0..i {
                v -= l[(i, k)] * u[(k, j)];
            }
            u[(i, j)] = v;
        }
        for j in (i + 1)..n {
            let mut v = x[(j, i)];
            for k in 0..i {
                v -= l[(j, k)] * u[(k, i)];
            }
            l[(j, i)] = if u[(i, i)].abs() < EPS {
                0.0
            } else {
                v / u[(i, i)]
            };
        }
    }
    for i in 0..n {
        for j in 0..n {
            if l[(i, j)].abs() < EPS {
                l[(i, j)] = 0.0;
            }
        }
    }
    l
}

fn type1(fixed: &FeTerm, spec: &TermsSpec) -> Vec<TermHypothesis> {
    let p = fixed.rank();
    let lt = if p == 1 {
        Mat::<f64>::identity(1, 1)
    } else {
        doolittle_lower(&crossprod(fixed)).transpose().to_owned()
    };
    let cols = column_terms(fixed);
    spec.terms
        .iter()
        .enumerate()
        .map(|(t, term)| {
            let rows: Vec<usize> = (0..p).filter(|&j| cols[j] == Some(t)).collect();
            TermHypothesis {
                term: term.label(),
                l: select_rows(&lt, &rows),
            }
        })
        .collect()
}

/// The variable names of an atom (a function's label stands for itself).
fn atom_name(atom: &Atom) -> String {
    match atom {
        Atom::Variable(n) | Atom::FullDummy(n) => n.clone(),
        Atom::Function { label, .. } => label.clone(),
    }
}

/// Which atoms are numeric (not factors) in the model.
fn numeric_atoms(terms: &ModelTerms) -> HashMap<String, bool> {
    let mut out = HashMap::new();
    for term in &terms.spec.fixed.terms {
        for atom in &term.atoms {
            let numeric = match atom {
                Atom::Function { .. } => true,
                Atom::FullDummy(_) => false,
                Atom::Variable(name) => terms
                    .coding
                    .columns
                    .iter()
                    .find(|(n, _)| n == name)
                    .is_none_or(|(_, c)| {
                        matches!(
                            c,
                            TrainingColumn::Numeric {
                                factor_values: None,
                                ..
                            }
                        )
                    }),
            };
            out.insert(atom_name(atom), numeric);
        }
    }
    out
}

/// For each term, the terms containing it (lmerTest's `containment`).
fn containment(spec: &TermsSpec, numeric: &HashMap<String, bool>) -> Vec<Vec<usize>> {
    let vars = |t: &Term| -> Vec<String> { t.atoms.iter().map(atom_name).collect() };
    let nums =
        |v: &[String]| -> Vec<String> { v.iter().filter(|a| numeric[*a]).cloned().collect() };
    spec.terms
        .iter()
        .map(|a| {
            let va = vars(a);
            let na = nums(&va);
            spec.terms
                .iter()
                .enumerate()
                .filter(|(_, b)| {
                    let vb = vars(b);
                    let nb = nums(&vb);
                    va.iter().all(|x| vb.contains(x))
                        && vb.len() > va.len()
                        && na.len() == nb.len()
                        && na.iter().all(|x| nb.contains(x))
                })
                .map(|(k, _)| k)
                .collect()
        })
        .collect()
}

fn type2(fixed: &FeTerm, spec: &TermsSpec, contained: &[Vec<usize>]) -> Vec<TermHypothesis> {
    let p = fixed.rank();
    let cols = column_terms(fixed);
    let xtx = crossprod(fixed);
    spec.terms
        .iter()
        .enumerate()
        .map(|(t, term)| {
            let own: Vec<usize> = (0..p).filter(|&j| cols[j] == Some(t)).collect();
            let l = if contained[t].is_empty() {
                Mat::from_fn(own.len(), p, |i, j| if own[i] == j { 1.0 } else { 0.0 })
            } else {
                // Columns of the term and of the terms containing it, last.
                let last: Vec<usize> = (0..p)
                    .filter(|&j| matches!(cols[j], Some(k) if k == t || contained[t].contains(&k)))
                    .collect();
                let mut order: Vec<usize> = (0..p).filter(|j| !last.contains(j)).collect();
                order.extend(&last);
                let reordered = Mat::from_fn(p, p, |a, b| xtx[(order[a], order[b])]);
                let lt = doolittle_lower(&reordered).transpose().to_owned();
                // Rows of the term, columns back in X's order.
                let rows: Vec<usize> = (0..p).filter(|&a| cols[order[a]] == Some(t)).collect();
                let mut out = Mat::<f64>::zeros(rows.len(), p);
                for (i, &a) in rows.iter().enumerate() {
                    for b in 0..p {
                        out[(i, order[b])] = lt[(a, b)];
                    }
                }
                out
            };
            TermHypothesis {
                term: term.label(),
                l,
            }
        })
        .collect()
}

/// R's `zapsmall` (7 digits): round to 7 − ⌈log10 max|x|⌉ decimals.
fn zapsmall(m: &mut Mat<f64>) {
    let mx = (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
        .fold(0.0f64, |a, (i, j)| a.max(m[(i, j)].abs()));
    let digits = if mx > 0.0 {
        (7.0 - mx.log10().ceil()).max(0.0)
    } else {
        7.0
    };
    let scale = 10f64.powf(digits);
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            m[(i, j)] = (m[(i, j)] * scale).round() / scale;
        }
    }
}

/// Least-squares coefficients B of `y` (columns) on the columns of `x`
/// (full column rank): X⁺Y.
fn least_squares(x: &Mat<f64>, y: &Mat<f64>) -> Result<Mat<f64>> {
    let xtx = x.transpose() * x;
    let inv = super::linalg::spd_inverse(&xtx).ok_or_else(|| {
        Error::argument(
            "type",
            "the fixed-effects model matrix is not of full column rank",
        )
    })?;
    Ok(&inv * (x.transpose() * y))
}

/// Residuals of the columns of `y` after projection on the columns of `x`
/// (rank decided at 1e-7 of each column's norm, as R's `lm.fit`).
fn residuals(x: &Mat<f64>, y: &Mat<f64>) -> Mat<f64> {
    let n = x.nrows();
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for j in 0..x.ncols() {
        let c: Vec<f64> = (0..n).map(|i| x[(i, j)]).collect();
        let norm0 = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm0 == 0.0 {
            continue;
        }
        let mut r: Vec<f64> = c.iter().map(|v| v / norm0).collect();
        for _ in 0..2 {
            for q in &basis {
                let d: f64 = q.iter().zip(&r).map(|(a, b)| a * b).sum();
                r.iter_mut().zip(q).for_each(|(ri, qi)| *ri -= d * qi);
            }
        }
        let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 1e-7 {
            r.iter_mut().for_each(|v| *v /= norm);
            basis.push(r);
        }
    }
    let mut out = y.clone();
    for k in 0..y.ncols() {
        for q in &basis {
            let d: f64 = (0..n).map(|i| q[i] * out[(i, k)]).sum();
            for i in 0..n {
                out[(i, k)] -= d * q[i];
            }
        }
    }
    out
}

/// X (kept columns) as a matrix.
fn x_matrix(fixed: &FeTerm) -> Mat<f64> {
    Mat::from_fn(fixed.nrows, fixed.rank(), |i, j| {
        fixed.x[j * fixed.nrows + i]
    })
}

fn type3(terms: &ModelTerms, data: &Data, contained: &[Vec<usize>]) -> Result<Vec<TermHypothesis>> {
    let spec = &terms.spec.fixed;
    let fixed = &terms.fixed;
    let treatment = terms
        .coding
        .contrasts
        .values()
        .all(|c| matches!(c, Coding::Dummy));
    let treat_contrasts: HashMap<String, Coding> = terms
        .coding
        .contrasts
        .keys()
        .map(|k| (k.clone(), Coding::Dummy))
        .collect();
    let frame = ModelFrame::new(&terms.spec, data, &treat_contrasts, MissingPolicy::Drop)?;
    if frame.rows != terms.rows {
        return Err(Error::argument(
            "data",
            "the data do not give the rows the model was fitted to",
        ));
    }
    let treat_fixed;
    let xt_fixed: &FeTerm = if treatment {
        fixed
    } else {
        treat_fixed = FeTerm::new(build_columns(spec, &frame)?, frame.nrows());
        &treat_fixed
    };
    let xt = x_matrix(xt_fixed);
    let pt = xt_fixed.rank();
    // The indicator design R, with its column names.
    let n = frame.nrows();
    let mut r_names: Vec<String> = Vec::new();
    let mut r_cols: Vec<Vec<f64>> = Vec::new();
    if spec.intercept {
        r_names.push("(Intercept)".into());
        r_cols.push(vec![1.0; n]);
    }
    for term in &spec.terms {
        let alone = TermsSpec {
            intercept: false,
            terms: vec![term.clone()],
        };
        let cols = build_columns(&alone, &frame)?;
        r_names.extend(cols.names);
        r_cols.extend(cols.values);
    }
    let r = Mat::from_fn(n, r_cols.len(), |i, j| r_cols[j][i]);
    // L: one row per column of R, one column per column of X_treat.
    let mut l = least_squares(&xt, &r)?.transpose().to_owned();
    zapsmall(&mut l);
    let cols = column_terms(xt_fixed);
    let term_cols = |t: usize| -> Vec<usize> { (0..pt).filter(|&j| cols[j] == Some(t)).collect() };
    let mut order: Vec<usize> = (0..spec.terms.len()).collect();
    order.sort_by(|a, b| spec.terms[*b].atoms.len().cmp(&spec.terms[*a].atoms.len()));
    for &t in &order {
        if contained[t].is_empty() {
            continue;
        }
        let own = term_cols(t);
        let others: Vec<usize> = contained[t].iter().flat_map(|&k| term_cols(k)).collect();
        let y = Mat::from_fn(l.nrows(), own.len(), |i, j| l[(i, own[j])]);
        let x = Mat::from_fn(l.nrows(), others.len(), |i, j| l[(i, others[j])]);
        let mut res = residuals(&x, &y);
        zapsmall(&mut res);
        for (j, &c) in own.iter().enumerate() {
            for i in 0..l.nrows() {
                l[(i, c)] = res[(i, j)];
            }
        }
    }
    // Keep the rows of R named as X_treat's columns, in X_treat's order.
    let xt_names = xt_fixed.coef_names();
    let mut rows = Vec::with_capacity(pt);
    for name in &xt_names {
        let i = r_names.iter().position(|r| r == name).ok_or_else(|| {
            Error::argument(
                "type",
                format!("type-3 hypotheses: column `{name}` has no indicator counterpart"),
            )
        })?;
        rows.push(i);
    }
    let l = select_rows(&l, &rows);
    // Map to the model's coding: X_treat⁺ X.
    let map = if treatment {
        None
    } else {
        let mut mp = least_squares(&xt, &x_matrix(fixed))?;
        zapsmall(&mut mp);
        Some(mp)
    };
    Ok(spec
        .terms
        .iter()
        .enumerate()
        .map(|(t, term)| {
            let own = term_cols(t);
            let mut rows: Vec<Vec<f64>> = own
                .iter()
                .map(|&c| (0..pt).map(|i| l[(i, c)]).collect::<Vec<f64>>())
                .filter(|v| v.iter().map(|x| x.abs()).sum::<f64>() > 1e-8)
                .collect();
            if let Some(mp) = &map {
                rows = rows
                    .iter()
                    .map(|v| {
                        (0..mp.ncols())
                            .map(|j| (0..pt).map(|i| v[i] * mp[(i, j)]).sum())
                            .collect()
                    })
                    .collect();
            }
            let ncol = fixed.rank();
            TermHypothesis {
                term: term.label(),
                l: Mat::from_fn(rows.len(), ncol, |i, j| rows[i][j]),
            }
        })
        .collect())
}

/// Wald tests (χ², den_df = ∞) of every term of any fitted model; type 3
/// needs the model's `data`.
pub fn wald_anova(
    m: &impl MixedModel,
    kind: AnovaType,
    data: Option<&Data>,
) -> Result<Vec<AnovaRow>> {
    super::check_fitted(m)?;
    let hyps = hypotheses(m.terms(), kind, data)?;
    test_rows(&hyps, |l, r| super::wald_test(m, l, r))
}
