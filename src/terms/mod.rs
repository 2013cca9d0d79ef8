//! From a formula and a data table to the model's terms: the response, the
//! fixed-effects matrix X and the random-effects terms.

mod columns;
mod fixed;
mod frame;
mod layout;
mod newdata;
mod random;
mod reversed;
pub mod units;

use std::collections::HashMap;

pub(crate) use columns::atom_key;
pub use columns::{build_columns, Columns};
pub use fixed::{FeTerm, RANK_TOL};
pub use frame::{BinomialCounts, MissingPolicy, ModelFrame, Variable};
pub use layout::{ThetaEntry, ThetaLayout};
pub use newdata::{predictor_variables, NewRows, NewTermRows, TrainingCoding, TrainingColumn};
pub(crate) use random::{amalgamate_columns, random_pieces};
pub use random::{build_random, ReTerm};
pub use reversed::reversed_terms;

use crate::contrasts::Coding;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::formula::{parse_formula, ModelSpec, ResponseSpec};

/// Options that shape the terms built from a formula.
#[derive(Debug, Clone, Default)]
pub struct TermOptions {
    /// Coding per column name; giving a numeric column a coding makes it categorical.
    pub contrasts: HashMap<String, Coding>,
    /// Drop or refuse rows with missing values in used columns.
    pub missing: MissingPolicy,
    /// Grouping factors (as named in the terms, e.g. `Subject` or `g & h`) whose
    /// random-effects terms are made uncorrelated (MixedModels.jl's `zerocorr!`).
    pub zerocorr: Vec<String>,
}

/// The symbolic and numeric terms of a model, ready for fitting.
#[derive(Debug, Clone)]
pub struct ModelTerms {
    /// The parsed and expanded formula.
    pub spec: ModelSpec,
    /// Name of the response (its label in the formula, e.g. `y`, `log(y)`,
    /// `incidence/size`, `cbind(incidence,size-incidence)`).
    pub response_name: String,
    /// The response: numeric values, or a factor (for Bernoulli models); for
    /// `cbind(successes, failures)` the proportions of successes.
    pub response: Variable,
    /// For a `cbind(successes, failures)` response (built by
    /// [`ModelTerms::new_glm`] only): the successes and failures per used row.
    pub counts: Option<BinomialCounts>,
    /// Fixed-effects term X.
    pub fixed: FeTerm,
    /// Random-effects terms, ordered by decreasing number of random effects.
    pub random: Vec<ReTerm>,
    /// Sum of the formula's `offset(...)` terms, if any.
    pub offset: Option<Vec<f64>>,
    /// Indices (into the input data) of the rows used.
    pub rows: Vec<usize>,
    /// Rows dropped for missing values, per used column.
    pub missing: Vec<(String, usize)>,
    /// Number of rows in the input data.
    pub input_rows: usize,
    /// How the training data coded each variable (levels, contrasts), for new data.
    pub coding: TrainingCoding,
    /// Random-effects terms that look reversed (see [`reversed_terms`]).
    pub warnings: Vec<crate::warning::ModelWarning>,
}

impl ModelTerms {
    /// Parse `formula` and build its terms on `data`, for a model with one
    /// response column (a linear mixed model): the response may be a column
    /// or an arithmetic expression of columns; `cbind(successes, failures)`
    /// is refused (it is the response of a binomial GLMM, see [`Self::new_glm`]).
    pub fn new(formula: &str, data: &Data, options: &TermOptions) -> Result<Self> {
        let spec = parse_formula(formula)?;
        Self::from_spec(spec, data, options)
    }

    /// Build the terms of an already parsed formula, as [`Self::new`] does.
    pub fn from_spec(spec: ModelSpec, data: &Data, options: &TermOptions) -> Result<Self> {
        if let ResponseSpec::Cbind(c) = &spec.response {
            return Err(Error::Term {
                term: c.label.clone(),
                message: "`cbind(successes, failures)` is the two-column response of a binomial \
                          model (a generalized linear mixed model with family binomial); a linear \
                          mixed model needs a single numeric response"
                    .into(),
            });
        }
        Self::build(spec, data, options)
    }

    /// As [`Self::new`], for a generalized linear mixed model: the response
    /// may also be `cbind(successes, failures)`, whose columns are then in
    /// [`Self::counts`] (and the proportions in [`Self::response`]). The
    /// caller must check the family and use the trials as prior weights; a
    /// linear mixed model must not be built from such terms.
    pub fn new_glm(formula: &str, data: &Data, options: &TermOptions) -> Result<Self> {
        Self::build(parse_formula(formula)?, data, options)
    }

    fn build(mut spec: ModelSpec, data: &Data, options: &TermOptions) -> Result<Self> {
        mark_zerocorr(&mut spec, &options.zerocorr)?;
        let frame = ModelFrame::new(&spec, data, &options.contrasts, options.missing)?;
        let (response, counts) = frame.response(&spec.response)?;
        let response_name = match &spec.response {
            ResponseSpec::Single(atom) => columns::atom_key(atom).to_string(),
            ResponseSpec::Cbind(c) => c.label.clone(),
        };
        let fixed = FeTerm::new(build_columns(&spec.fixed, &frame)?, frame.nrows());
        let random = build_random(&spec.random, &frame)?;
        let warnings = reversed_terms(&spec.random, &frame);
        let coding = TrainingCoding::from_frame(&spec, &frame, &options.contrasts)?;
        let mut offset: Option<Vec<f64>> = None;
        for (k, expr) in spec.offsets.iter().enumerate() {
            let v = frame.eval(expr, &format!("offset #{}", k + 1))?;
            offset = Some(match offset {
                None => v,
                Some(o) => o.iter().zip(&v).map(|(a, b)| a + b).collect(),
            });
        }
        Ok(ModelTerms {
            response_name,
            response,
            counts,
            fixed,
            random,
            offset,
            rows: frame.rows.clone(),
            missing: frame.missing.clone(),
            input_rows: frame.original_nrows(),
            warnings,
            coding,
            spec,
        })
    }

    /// For a `cbind(successes, failures)` response: the number of trials
    /// (successes + failures) of each used row.
    pub fn trials(&self) -> Option<Vec<f64>> {
        self.counts.as_ref().map(BinomialCounts::trials)
    }

    /// The values of the rows used, from one value per row of the input data
    /// (`weights=`, `offset=`); an error naming `what` when the length is not
    /// the number of input rows.
    pub fn rows_used(&self, values: Option<&[f64]>, what: &str) -> Result<Option<Vec<f64>>> {
        match values {
            None => Ok(None),
            Some(w) if w.len() != self.input_rows => Err(Error::argument(
                what,
                format!(
                    "{what} has length {}, the data have {} rows",
                    w.len(),
                    self.input_rows
                ),
            )),
            Some(w) => Ok(Some(self.rows.iter().map(|&i| w[i]).collect())),
        }
    }

    /// Number of observations used.
    pub fn nobs(&self) -> usize {
        self.fixed.nrows
    }

    /// Total number of θ parameters.
    pub fn ntheta(&self) -> usize {
        self.random.iter().map(ReTerm::ntheta).sum()
    }

    /// out += Xβ (β for the kept columns of X), column by column.
    pub fn add_x_beta(&self, beta: &[f64], out: &mut [f64]) {
        for (j, b) in beta.iter().enumerate() {
            for (o, x) in out.iter_mut().zip(self.fixed.column(j)) {
                *o += b * x;
            }
        }
    }

    /// out += ZΛu, u stacked term by term (per term column-major v × ℓ)
    /// and λ per term (column-major v × v): the conditional-mode form of
    /// [`add_z_b`](Self::add_z_b), without allocating for scalar terms
    /// (z·λ·u per row), as PIRLS needs it at every step.
    pub fn add_z_lambda_u(&self, lambdas: &[Vec<f64>], u: &[f64], out: &mut [f64]) {
        let mut offset = 0;
        for (term, lam) in self.random.iter().zip(lambdas) {
            let q = term.nranef();
            let u = &u[offset..offset + q];
            offset += q;
            if term.ncols() == 1 {
                let lam = lam[0];
                for ((o, &z), &l) in out.iter_mut().zip(&term.z).zip(&term.refs) {
                    *o += z * lam * u[l as usize];
                }
                continue;
            }
            add_term_z_b(term, &term.b_from_u(lam, u), out);
        }
    }

    /// out += Zb, b per term column-major v × ℓ (b = Λu): the one place
    /// where random effects meet the rows.
    pub fn add_z_b<B: AsRef<[f64]>>(&self, b: &[B], out: &mut [f64]) {
        for (term, b) in self.random.iter().zip(b) {
            add_term_z_b(term, b.as_ref(), out);
        }
    }
}

/// out += Z_k b_k for one term (b column-major v × ℓ).
fn add_term_z_b(term: &ReTerm, b: &[f64], out: &mut [f64]) {
    let v = term.ncols();
    if v == 1 {
        for ((o, &z), &l) in out.iter_mut().zip(&term.z).zip(&term.refs) {
            *o += z * b[l as usize];
        }
        return;
    }
    for (i, o) in out.iter_mut().enumerate() {
        let l = term.refs[i] as usize;
        *o += (0..v)
            .map(|c| term.z[i * v + c] * b[l * v + c])
            .sum::<f64>();
    }
}

/// Mark the random-effects terms grouped by each name in `zerocorr`
/// (`g`, `g & h`) as zero-correlation terms; a name that groups no term is
/// an `Error::Term`.
pub(crate) fn mark_zerocorr(spec: &mut ModelSpec, zerocorr: &[String]) -> Result<()> {
    for name in zerocorr {
        let mut found = false;
        for r in spec
            .random
            .iter_mut()
            .filter(|r| r.grouping.join(" & ") == *name)
        {
            r.zerocorr = true;
            found = true;
        }
        if !found {
            return Err(Error::Term {
                term: name.clone(),
                message: "is not the grouping factor of any random-effects term".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::data::Column;

    fn data() -> Data {
        Data::new()
            .with_column("k", Column::numeric(vec![1.0, f64::NAN, 3.0, 0.0, 2.0]))
            .unwrap()
            .with_column("n", Column::numeric(vec![4.0, 5.0, 6.0, 2.0, 2.0]))
            .unwrap()
            .with_column("g", Column::from_strings(&["a", "a", "b", "b", "c"]))
            .unwrap()
    }

    #[test]
    fn cbind_counts_and_trials_per_used_row() {
        let options = TermOptions::default();
        let t = ModelTerms::new_glm("cbind(k, n - k) ~ 1 + (1 | g)", &data(), &options).unwrap();
        // The row with a missing `k` is dropped and counted against `k`.
        assert_eq!(t.rows, vec![0, 2, 3, 4]);
        assert!(t.missing.contains(&("k".to_string(), 1)));
        assert_eq!(t.response_name, "cbind(k,n-k)");
        assert_eq!(t.trials(), Some(vec![4.0, 6.0, 2.0, 2.0]));
        let counts = t.counts.as_ref().unwrap();
        assert_eq!(counts.successes, vec![1.0, 3.0, 0.0, 2.0]);
        assert_eq!(counts.failures, vec![3.0, 3.0, 2.0, 0.0]);
        assert_eq!(counts.failures_label, "n-k");
        assert_eq!(t.response, Variable::Numeric(vec![0.25, 0.5, 0.0, 1.0]));
        // A single-column response has no counts.
        let t = ModelTerms::new_glm("k / n ~ 1 + (1 | g)", &data(), &options).unwrap();
        assert_eq!(t.response_name, "k/n");
        assert_eq!(t.response, Variable::Numeric(vec![0.25, 0.5, 0.0, 1.0]));
        assert!(t.counts.is_none() && t.trials().is_none());
    }

    #[test]
    fn cbind_is_refused_where_one_response_column_is_needed() {
        let options = TermOptions::default();
        let e = ModelTerms::new("cbind(k, n - k) ~ 1 + (1 | g)", &data(), &options).unwrap_err();
        let Error::Term { term, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(term, "cbind(k,n-k)");
        assert!(
            message.contains("two-column response of a binomial model"),
            "{message}"
        );
        let e = ModelTerms::new_glm("cbind(g, n) ~ 1 + (1 | g)", &data(), &options).unwrap_err();
        assert!(
            matches!(&e, Error::Type { term, column, .. } if term == "cbind(g,n)" && column == "g"),
            "{e:?}"
        );
        // A non-finite argument names the row of the input data.
        let e = ModelTerms::new_glm("cbind(k, n / (n - 2)) ~ 1", &data(), &options).unwrap_err();
        assert!(e.to_string().contains("inf in row 3 of the data"), "{e}");
    }
}
