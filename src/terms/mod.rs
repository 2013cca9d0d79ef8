//! From a formula and a data table to the model's terms: the response, the
//! fixed-effects matrix X and the random-effects terms.

mod columns;
mod fixed;
mod frame;
mod random;

use std::collections::HashMap;

pub use columns::{build_columns, Columns};
pub use fixed::{FeTerm, RANK_TOL};
pub use frame::{MissingPolicy, ModelFrame, Variable};
pub use random::{build_random, ReTerm};

use crate::contrasts::Coding;
use crate::data::Data;
use crate::error::Result;
use crate::formula::{parse_formula, ModelSpec};

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
    /// Name of the response (its label in the formula).
    pub response_name: String,
    /// The response: numeric values, or a factor (for Bernoulli models).
    pub response: Variable,
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
}

impl ModelTerms {
    /// Parse `formula` and build its terms on `data`.
    pub fn new(formula: &str, data: &Data, options: &TermOptions) -> Result<Self> {
        let spec = parse_formula(formula)?;
        Self::from_spec(spec, data, options)
    }

    /// Build the terms of an already parsed formula.
    pub fn from_spec(mut spec: ModelSpec, data: &Data, options: &TermOptions) -> Result<Self> {
        for name in &options.zerocorr {
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
                return Err(crate::error::Error::Term {
                    term: name.clone(),
                    message: "is not the grouping factor of any random-effects term".into(),
                });
            }
        }
        let frame = ModelFrame::new(&spec, data, &options.contrasts, options.missing)?;
        let response = frame.response(&spec.response)?;
        let response_name = columns::atom_key(&spec.response).to_string();
        let fixed = FeTerm::new(build_columns(&spec.fixed, &frame)?, frame.nrows());
        let random = build_random(&spec.random, &frame)?;
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
            fixed,
            random,
            offset,
            rows: frame.rows.clone(),
            missing: frame.missing.clone(),
            input_rows: frame.original_nrows(),
            spec,
        })
    }

    /// Number of observations used.
    pub fn nobs(&self) -> usize {
        self.fixed.nrows
    }

    /// Total number of θ parameters.
    pub fn ntheta(&self) -> usize {
        self.random.iter().map(ReTerm::ntheta).sum()
    }
}
