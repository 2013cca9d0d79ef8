//! Fitted values and residuals of a model built from chunks, computed by
//! one more pass over the data: each chunk's complete rows (the build's
//! missing-value rule) are coded as new data are ([`NewRows`]) and their
//! fitted values offset + Xβ̂ + Zb̂ formed as predictions are
//! ([`crate::model::rows_eta`]), with β̂ and b̂ computed once.

use std::sync::Arc;

use crate::data::Data;
use crate::error::{Error, Result};
use crate::lmm::LinearMixedModel;
use crate::model::{refuse_new_levels, rows_eta, MixedModel, NewLevels};
use crate::terms::{MissingPolicy, ModelFrame, ModelTerms, NewRows, Variable};

/// The fitted values and residuals of one chunk's rows used by the model
/// (population values and y minus them from [`ChunkFitter::population`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FittedChunk {
    /// Indices into the chunk of the rows used (those without a missing
    /// value in a column the formula reads), increasing.
    pub rows: Vec<usize>,
    /// offset + Xβ̂ + Zb̂ per row used.
    pub fitted: Vec<f64>,
    /// y − fitted per row used.
    pub residuals: Vec<f64>,
}

/// Computes [`FittedChunk`]s of a model at its current estimates.
///
/// # Example
/// ```
/// use mixedmodels::data::{Column, Data};
/// use mixedmodels::lmm::LmmOptions;
/// use mixedmodels::stream::{ChunkFitter, ModelBuilder};
/// use mixedmodels::terms::MissingPolicy;
///
/// let y = vec![1.0, 2.5, 2.0, 4.5, 3.0, 1.5, 4.0, 3.5];
/// let g = Column::from_strings(&["a", "b", "c", "d", "a", "b", "c", "d"]);
/// let data = Data::new()
///     .with_column("y", Column::numeric(y)).unwrap()
///     .with_column("g", g).unwrap();
/// let mut builder = ModelBuilder::new("y ~ 1 + (1 | g)", &LmmOptions::default()).unwrap();
/// builder.add_chunk(&data).unwrap();
/// let mut model = builder.finish().unwrap();
/// model.fit(false).unwrap();
/// let fitter = ChunkFitter::new(&model, MissingPolicy::Drop);
/// let part = fitter.chunk(&data).unwrap();
/// assert_eq!(part.rows.len(), 8);
/// assert!((part.fitted[0] + part.residuals[0] - 1.0).abs() < 1e-12);
/// ```
pub struct ChunkFitter {
    terms: Arc<ModelTerms>,
    beta: Vec<f64>,
    b: Vec<Vec<f64>>,
    missing: MissingPolicy,
    random_effects: bool,
}

impl ChunkFitter {
    /// A fitter at the model's current θ (its estimates after a fit);
    /// `missing` is the rule the model was built with. The fitted values are
    /// conditional on the random effects (offset + Xβ̂ + Zb̂).
    pub fn new(model: &LinearMixedModel, missing: MissingPolicy) -> Self {
        ChunkFitter {
            terms: model.terms.clone(),
            beta: model.beta(),
            b: model.b(),
            missing,
            random_effects: true,
        }
    }

    /// The same fitter giving population values offset + Xβ̂ (without the
    /// random effects; `predict(random_effects=false)` of the fitted rows).
    pub fn population(mut self) -> Self {
        self.random_effects = false;
        self
    }

    /// The fitted values and residuals of the rows of `data` (a chunk of
    /// the model's data, columns named as in the formula) that the model
    /// used: rows with a missing value in a column the formula reads are
    /// left out under [`MissingPolicy::Drop`] and refused under
    /// [`MissingPolicy::Raise`]. A grouping-factor level not seen in
    /// fitting is an [`Error::Level`] (the data are not the model's).
    pub fn chunk(&self, data: &Data) -> Result<FittedChunk> {
        let spec = &self.terms.spec;
        let vars = spec.variables();
        let rows = complete_rows(data, &vars)?;
        if self.missing == MissingPolicy::Raise && rows.len() < data.nrows() {
            let (name, _) = vars
                .iter()
                .map(|v| (v, data.column(v).expect("checked by complete_rows")))
                .find(|(_, c)| (0..data.nrows()).any(|i| c.is_missing(i)))
                .expect("a row was dropped, so a column has a missing value");
            return Err(Error::Column {
                column: name.clone(),
                message: "has missing values (missing=\"raise\")".into(),
            });
        }
        if rows.is_empty() {
            return Ok(FittedChunk::default());
        }
        let (complete, _) = data.complete_cases(&vars)?;
        let frame = ModelFrame::new(
            spec,
            &complete,
            &self.terms.coding.contrasts,
            MissingPolicy::Drop,
        )?;
        let y = match frame.response(&spec.response)?.0 {
            Variable::Numeric(v) => v,
            Variable::Factor { .. } => {
                let name = &self.terms.response_name;
                return Err(Error::wrong_type(
                    name,
                    name,
                    "the response is categorical in this chunk but was numeric in fitting",
                ));
            }
        };
        // Z's rows are coded even for population values: a level the model
        // has not seen means the chunk is not of the model's data.
        let new = NewRows::new(&self.terms, &complete, true)?;
        refuse_new_levels(&self.terms, &new)?;
        let fitted = rows_eta(
            &self.terms,
            &new,
            &self.beta,
            &self.b,
            self.random_effects,
            NewLevels::Error,
        );
        let residuals = y.iter().zip(&fitted).map(|(y, f)| y - f).collect();
        Ok(FittedChunk {
            rows,
            fitted,
            residuals,
        })
    }
}

/// The indices of the rows of `data` without a missing value in `vars`
/// (an error for a column that is not there).
pub(super) fn complete_rows(data: &Data, vars: &[String]) -> Result<Vec<usize>> {
    let columns = vars
        .iter()
        .map(|v| data.column(v))
        .collect::<Result<Vec<_>>>()?;
    Ok((0..data.nrows())
        .filter(|&i| columns.iter().all(|c| !c.is_missing(i)))
        .collect())
}
