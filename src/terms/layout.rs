//! The layout of the covariance parameters θ, owned by the random-effects
//! terms: where each θ entry sits in its term's relative covariance factor
//! λ, its unit (from the size of its random-effects column, `units.rs`),
//! starting value and bounds, its name, and which groups of entries may
//! change sign together without changing the model.
//!
//! θ lists, term by term, the structurally non-zero entries of each λ's
//! lower triangle column by column (lme4's and MixedModels.jl's order), so
//! each column of λ starts with its diagonal entry (bounded below by 0)
//! followed by its off-diagonal entries (unbounded).

use crate::optim::SignSymmetry;

use super::units::{column_scale, column_size};
use super::ReTerm;

/// Initial step of BOBYQA for off-diagonal θ relative to diagonal ones:
/// MixedModels.jl starts with steps of 0.75 on λ's diagonal and 1.0 off it.
const OFF_DIAGONAL_SCALE: f64 = 4.0 / 3.0;

/// One θ entry: its term and position in that term's λ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThetaEntry {
    /// Index of the random-effects term.
    pub term: usize,
    /// Row of λ.
    pub row: usize,
    /// Column of λ.
    pub col: usize,
}

impl ThetaEntry {
    /// Is the entry on λ's diagonal (bounded below by 0)?
    pub fn is_diagonal(&self) -> bool {
        self.row == self.col
    }
}

/// The θ layout of a model: one [`ThetaEntry`] per θ parameter, plus the
/// names the entries are known by.
#[derive(Debug, Clone, PartialEq)]
pub struct ThetaLayout {
    entries: Vec<ThetaEntry>,
    /// Size v of each term's λ (v × v).
    sizes: Vec<usize>,
    /// Offset of each term's θ in the whole θ (K + 1 entries).
    offsets: Vec<usize>,
    names: Vec<String>,
    /// The variance-component names of the θ entries (sd_/cor_ style).
    component_names: Vec<String>,
    /// The unit of each θ entry (a power of two; see [`super::units`]).
    units: Vec<f64>,
}

impl ThetaLayout {
    /// The layout of the given terms' θ, in model order.
    pub fn new(terms: &[ReTerm]) -> Self {
        let mut entries = Vec::new();
        let mut names = Vec::new();
        let mut component_names = Vec::new();
        let mut units = Vec::new();
        let mut offsets = vec![0];
        for (k, t) in terms.iter().enumerate() {
            let v = t.ncols();
            let scales: Vec<f64> = (0..v)
                .map(|j| column_scale(column_size(&t.z, v, j)))
                .collect();
            for &(row, col) in &t.theta_index {
                entries.push(ThetaEntry { term: k, row, col });
                units.push(1.0 / scales[row]);
                let (g, r, c) = (&t.grouping, &t.column_names[row], &t.column_names[col]);
                if row == col {
                    names.push(format!("{g}.{r}"));
                    component_names.push(format!("sd_{r}|{g}"));
                } else {
                    names.push(format!("{g}.{r}.{c}"));
                    component_names.push(format!("cor_{r}.{c}|{g}"));
                }
            }
            offsets.push(entries.len());
        }
        ThetaLayout {
            entries,
            sizes: terms.iter().map(ReTerm::ncols).collect(),
            offsets,
            names,
            component_names,
            units,
        }
    }

    /// Number of θ parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Does the model have no θ (no random effects)?
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of random-effects terms.
    pub fn nterms(&self) -> usize {
        self.sizes.len()
    }

    /// The entries, in θ order.
    pub fn entries(&self) -> &[ThetaEntry] {
        &self.entries
    }

    /// For each θ entry: is it on λ's diagonal (bounded below by 0)?
    pub fn diagonal(&self) -> Vec<bool> {
        self.entries.iter().map(ThetaEntry::is_diagonal).collect()
    }

    /// The range of θ belonging to term `k`.
    pub fn term_range(&self, k: usize) -> std::ops::Range<usize> {
        self.offsets[k]..self.offsets[k + 1]
    }

    /// lme4's names of the θ parameters (`getME(m, "theta")`):
    /// `Subject.(Intercept)` for a diagonal entry, `Subject.Days.(Intercept)`
    /// for the entry in row `Days`, column `(Intercept)`.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The names of the variance components that correspond to the θ
    /// entries, as lme4's `confint(oldNames = FALSE)` names them:
    /// `sd_(Intercept)|Subject` for a diagonal entry (a standard deviation),
    /// `cor_Days.(Intercept)|Subject` for the entry in row `Days`, column
    /// `(Intercept)` (a correlation). The residual's is `sigma`.
    pub fn component_names(&self) -> &[String] {
        &self.component_names
    }

    /// The unit of each θ entry: 1 over the scale of its row's
    /// random-effects column, a power of two (1 for columns of ordinary
    /// size; see [`super::units`]). Fits work on θ divided by it.
    pub fn units(&self) -> &[f64] {
        &self.units
    }

    /// The starting θ: its unit on λ's diagonal, 0 off it (the identity in
    /// scaled units; lme4's and MixedModels.jl's start when every unit is 1).
    pub fn initial(&self) -> Vec<f64> {
        self.entries
            .iter()
            .zip(&self.units)
            .map(|(e, &u)| if e.is_diagonal() { u } else { 0.0 })
            .collect()
    }

    /// Lower bounds of θ: 0 on λ's diagonal, −∞ elsewhere.
    pub fn lower(&self) -> Vec<f64> {
        self.entries
            .iter()
            .map(|e| {
                if e.is_diagonal() {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect()
    }

    /// Upper bounds of θ: none.
    pub fn upper(&self) -> Vec<f64> {
        vec![f64::INFINITY; self.len()]
    }

    /// Zero-based θ indices whose value lies on its bound of zero (within
    /// `tol` of its [unit](Self::units)): the variance components estimated
    /// at the boundary.
    pub fn at_bound(&self, theta: &[f64], tol: f64) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.entries[i].is_diagonal() && theta[i].abs() < tol * self.units[i])
            .collect()
    }

    /// Check θ: its length, finiteness and bounds; the message otherwise.
    pub fn check(&self, theta: &[f64]) -> Result<(), String> {
        if theta.len() != self.len() {
            return Err(format!(
                "θ must have length {}, got {}",
                self.len(),
                theta.len()
            ));
        }
        if let Some(i) = theta.iter().position(|t| !t.is_finite()) {
            return Err(format!(
                "θ[{i}] ({}) is {}; θ must be finite",
                self.names[i], theta[i]
            ));
        }
        if let Some(i) = (0..self.len()).find(|&i| self.entries[i].is_diagonal() && theta[i] < 0.0)
        {
            return Err(format!(
                "θ[{i}] ({}) = {} is below its lower bound 0",
                self.names[i], theta[i]
            ));
        }
        Ok(())
    }

    /// Write each term's λ (column-major v × v, lower triangular) for θ into
    /// `lambdas` (one buffer per term, already of size v × v).
    pub fn fill_lambdas(&self, theta: &[f64], lambdas: &mut [Vec<f64>]) {
        for (lam, &v) in lambdas.iter_mut().zip(&self.sizes) {
            debug_assert_eq!(lam.len(), v * v);
            lam.iter_mut().for_each(|x| *x = 0.0);
        }
        for (e, &t) in self.entries.iter().zip(theta) {
            let v = self.sizes[e.term];
            lambdas[e.term][e.col * v + e.row] = t;
        }
    }

    /// Each term's λ for θ, freshly allocated.
    pub fn lambdas(&self, theta: &[f64]) -> Vec<Vec<f64>> {
        let mut out: Vec<Vec<f64>> = self.sizes.iter().map(|&v| vec![0.0; v * v]).collect();
        self.fill_lambdas(theta, &mut out);
        out
    }

    /// Scales for BOBYQA: MixedModels.jl's initial steps (0.75 on λ's
    /// diagonal and 1.0 off it, with the default initial radius 0.75).
    pub fn optimizer_scales(&self) -> Vec<f64> {
        self.entries
            .iter()
            .map(|e| {
                if e.is_diagonal() {
                    1.0
                } else {
                    OFF_DIAGONAL_SCALE
                }
            })
            .collect()
    }

    /// The sign symmetries of θ: a column of λ may be negated without
    /// changing λλᵀ, so each column with off-diagonal entries gives one
    /// symmetry (pivot: its diagonal entry; others: its off-diagonal
    /// entries). A column without off-diagonal entries gives none (the
    /// objective is even in its diagonal entry).
    pub fn sign_symmetries(&self) -> Vec<SignSymmetry> {
        let mut out = Vec::new();
        for (j, e) in self.entries.iter().enumerate() {
            if !e.is_diagonal() {
                continue;
            }
            let others: Vec<usize> = (j + 1..self.len())
                .take_while(|&i| {
                    let o = &self.entries[i];
                    o.term == e.term && o.col == e.col && !o.is_diagonal()
                })
                .collect();
            if !others.is_empty() {
                out.push(SignSymmetry { pivot: j, others });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(grouping: &str, columns: &[&str], theta_index: Vec<(usize, usize)>) -> ReTerm {
        ReTerm {
            grouping: grouping.into(),
            levels: vec!["a".into(), "b".into()],
            refs: vec![0, 1],
            column_names: columns.iter().map(|c| c.to_string()).collect(),
            z: vec![1.0; 2 * columns.len()],
            theta_index,
        }
    }

    #[test]
    fn layout_of_a_correlated_and_a_scalar_term() {
        let terms = vec![
            term(
                "Subject",
                &["(Intercept)", "Days"],
                vec![(0, 0), (1, 0), (1, 1)],
            ),
            term("Item", &["(Intercept)"], vec![(0, 0)]),
        ];
        let layout = ThetaLayout::new(&terms);
        assert_eq!(layout.len(), 4);
        assert_eq!(
            layout.names(),
            [
                "Subject.(Intercept)",
                "Subject.Days.(Intercept)",
                "Subject.Days",
                "Item.(Intercept)"
            ]
        );
        assert_eq!(
            layout.component_names(),
            [
                "sd_(Intercept)|Subject",
                "cor_Days.(Intercept)|Subject",
                "sd_Days|Subject",
                "sd_(Intercept)|Item"
            ]
        );
        assert_eq!(layout.initial(), vec![1.0, 0.0, 1.0, 1.0]);
        assert_eq!(layout.lower(), vec![0.0, f64::NEG_INFINITY, 0.0, 0.0]);
        assert_eq!(
            layout.sign_symmetries(),
            vec![SignSymmetry {
                pivot: 0,
                others: vec![1]
            }]
        );
        let lam = layout.lambdas(&[2.0, 3.0, 4.0, 5.0]);
        assert_eq!(lam, vec![vec![2.0, 3.0, 0.0, 4.0], vec![5.0]]);
        assert_eq!(layout.term_range(1), 3..4);
        assert!(layout.check(&[1.0, -1.0, 0.0, 1.0]).is_ok());
        assert!(layout.check(&[1.0, 0.0, -1e-9, 1.0]).is_err());
        assert!(layout.check(&[1.0, f64::NAN, 0.0, 1.0]).is_err());
        assert!(layout.check(&[1.0]).is_err());
        assert_eq!(layout.at_bound(&[1.0, 0.0, 0.0, 1e-12], 1e-8), vec![2, 3]);
    }

    #[test]
    fn units_follow_the_rows_of_lambda() {
        // Column x has size 1000 (unit 2⁻¹⁰ for λ's row x), the intercept 1
        // (unit 1).
        let mut t = term("g", &["(Intercept)", "x"], vec![(0, 0), (1, 0), (1, 1)]);
        t.z = vec![1.0, 1000.0, 1.0, -1000.0];
        let layout = ThetaLayout::new(&[t]);
        let u = 2f64.powi(-10);
        assert_eq!(layout.units(), [1.0, u, u]);
        assert_eq!(layout.initial(), vec![1.0, 0.0, u]);
        // At bound relative to the unit: 1e-9·u is, 1e-9 is not.
        assert_eq!(layout.at_bound(&[1.0, 0.0, 1e-9 * u], 1e-8), vec![2]);
        assert!(layout.at_bound(&[1.0, 0.0, 1e-9], 1e-8).is_empty());
    }

    #[test]
    fn symmetries_agree_with_the_bound_pattern() {
        // Amalgamated term: a 2-column correlated block and an uncorrelated column.
        let terms = vec![term(
            "g",
            &["(Intercept)", "x", "z"],
            vec![(0, 0), (1, 0), (1, 1), (2, 2)],
        )];
        let layout = ThetaLayout::new(&terms);
        assert_eq!(
            layout.sign_symmetries(),
            SignSymmetry::covariance_columns(&layout.lower(), &layout.upper())
        );
    }
}
