//! Linear mixed models from data that are not held in memory: A =
//! [Z X y]ᵀ[Z X y] is a sum over rows and its size is set by the numbers of
//! levels and columns, not of rows, so it can be accumulated chunk by chunk
//! and the model fitted from A alone.
//!
//! [`ModelBuilder`] takes chunks of rows ([`ModelBuilder::add_chunk`]) and
//! builds the model ([`ModelBuilder::finish`]). Each chunk is turned into
//! terms by the in-memory code (the same frame, missing-value rules and
//! columns) and its A accumulated by the in-memory kernels; the blocks are
//! added to running sums ([`PartialA`]) keyed by the levels met so far, so a
//! level may first appear in any chunk. Partial sums of disjoint parts of
//! the data can be computed elsewhere, sent as bytes
//! ([`PartialA::to_bytes`]) and summed ([`ModelBuilder::merge`]).
//!
//! Categorical columns must carry the same level list in every chunk (the
//! Python layer casts them to one Enum); grouping factors need not.
//! Memory: the sums (O(size of A's blocks)) plus one chunk.
//!
//! The model holds no rows: everything read off A and its factor (fit,
//! θ, β, σ, the variance components, conditional modes, the summary) is as
//! in memory. Fitted values and residuals are computed by one more pass
//! over the data, chunk by chunk ([`ChunkFitter`]); what needs more per-row
//! state (leverage, refits with a new response, simulation) is refused with
//! an error.

mod assemble;
mod bytes;
mod chunk;
mod fitted;
mod glmm;
mod pair_block;
mod pairs;
mod partial;
#[cfg(test)]
mod tests;

use chunk::Working;
pub use fitted::{ChunkFitter, FittedChunk};
pub use glmm::{ChunkSource, StreamedGlmm, StreamedGlmmFit};
pub use partial::PartialA;

use crate::data::Data;
use crate::error::{Error, Result};
use crate::formula::{parse_formula, ModelSpec, ResponseSpec};
use crate::lmm::{LinearMixedModel, LmmOptions};
use crate::terms::{
    atom_key, ModelFrame, ModelTerms, TermOptions, TrainingCoding, TrainingColumn, Variable,
};

/// Builds a linear mixed model from chunks of rows (see the module documentation).
///
/// # Example
/// ```
/// use mixedmodels::data::{Column, Data};
/// use mixedmodels::lmm::LmmOptions;
/// use mixedmodels::stream::ModelBuilder;
///
/// let mut builder = ModelBuilder::new("y ~ 1 + (1 | g)", &LmmOptions::default()).unwrap();
/// for part in 0..3 {
///     let y: Vec<f64> = (0..8).map(|i| ((i * 7 + part * 3) % 5) as f64).collect();
///     let g = Column::from_strings(&["a", "b", "c", "d", "a", "b", "c", "d"]);
///     let chunk = Data::new()
///         .with_column("y", Column::numeric(y)).unwrap()
///         .with_column("g", g).unwrap();
///     builder.add_chunk(&chunk).unwrap();
/// }
/// let mut model = builder.finish().unwrap();
/// model.fit(false).unwrap();
/// assert_eq!(model.terms.nobs(), 24);
/// ```
pub struct ModelBuilder {
    spec: ModelSpec,
    response_name: String,
    options: LmmOptions,
    term_options: TermOptions,
    partial: PartialA,
    coding: Option<TrainingCoding>,
}

impl ModelBuilder {
    /// A builder for `formula` with `options` (per-row weights and offsets
    /// are not supported when streaming; use `offset(...)` in the formula).
    pub fn new(formula: &str, options: &LmmOptions) -> Result<Self> {
        for (given, name) in [
            (options.weights.is_some(), "weights"),
            (options.offset.is_some(), "offset"),
        ] {
            if given {
                return Err(Error::argument(
                    name,
                    format!(
                        "{name} given as values per row are not supported when the data are \
                         streamed in chunks"
                    ),
                ));
            }
        }
        let mut spec = parse_formula(formula)?;
        let response_name = match &spec.response {
            ResponseSpec::Single(atom) => atom_key(atom).to_string(),
            ResponseSpec::Cbind(c) => {
                return Err(Error::Term {
                    term: c.label.clone(),
                    message: "`cbind(successes, failures)` is the response of a binomial model; \
                              a linear mixed model needs a single numeric response"
                        .into(),
                })
            }
        };
        if spec.random.is_empty() {
            return Err(Error::NoRandomEffects {
                formula: spec.source.clone(),
            });
        }
        crate::terms::mark_zerocorr(&mut spec, &options.zerocorr)?;
        let term_options = TermOptions {
            contrasts: options.contrasts.clone(),
            missing: options.missing,
            zerocorr: options.zerocorr.clone(),
        };
        Ok(ModelBuilder {
            spec,
            response_name,
            options: options.clone(),
            term_options,
            partial: PartialA::default(),
            coding: None,
        })
    }

    /// Add the rows of one chunk (its columns named as in the formula).
    pub fn add_chunk(&mut self, data: &Data) -> Result<()> {
        self.add(data, None)
    }

    /// Add the rows of one chunk weighted, with a working response in place
    /// of the response (one PIRLS pass of [`StreamedGlmm`]).
    pub(crate) fn add_working_chunk(&mut self, data: &Data, working: Working<'_>) -> Result<()> {
        self.add(data, Some(working))
    }

    fn add(&mut self, data: &Data, working: Option<Working<'_>>) -> Result<()> {
        let frame = chunk::add_chunk(
            &mut self.partial,
            &self.spec,
            &self.term_options,
            &self.response_name,
            data,
            working,
        )?;
        if let (None, Some(frame)) = (&self.coding, frame) {
            self.coding = Some(self.coding_of(&frame)?);
        }
        Ok(())
    }

    /// Learn how the data code each variable (levels, contrasts; used to
    /// predict on new data) from `data` without adding its rows: for a
    /// builder that only merges partial sums computed elsewhere.
    pub fn learn_coding(&mut self, data: &Data) -> Result<()> {
        let (complete, _) = data.complete_cases(&self.spec.variables())?;
        let frame = ModelFrame::new(
            &self.spec,
            &complete,
            &self.term_options.contrasts,
            self.term_options.missing,
        )?;
        self.coding = Some(self.coding_of(&frame)?);
        Ok(())
    }

    fn coding_of(&self, frame: &ModelFrame) -> Result<TrainingCoding> {
        let coding = TrainingCoding::from_frame(&self.spec, frame, &self.term_options.contrasts)?;
        for (name, column) in &coding.columns {
            if let TrainingColumn::Numeric {
                factor_values: Some(_),
                ..
            } = column
            {
                return Err(Error::Column {
                    column: name.clone(),
                    message: "is numeric but enters the model as a factor; when the data are \
                              streamed in chunks, make it categorical so that every chunk has \
                              the same levels"
                        .into(),
                });
            }
        }
        Ok(coding)
    }

    /// The sums so far.
    pub fn partial(&self) -> &PartialA {
        &self.partial
    }

    /// Take the sums so far, leaving the builder empty.
    pub fn take_partial(&mut self) -> PartialA {
        std::mem::take(&mut self.partial)
    }

    /// Add sums over other rows (computed by another builder of the same
    /// formula, possibly elsewhere: see [`PartialA::from_bytes`]).
    pub fn merge(&mut self, other: PartialA) -> Result<()> {
        self.partial.merge(other)
    }

    /// Build the (unfitted) model from the sums.
    pub fn finish(self) -> Result<LinearMixedModel> {
        let mut partial = self.partial;
        if partial.is_empty() {
            if partial.input_rows == 0 {
                return Err(Error::Data("the data have no rows".into()));
            }
            let detail: Vec<String> = partial
                .missing
                .iter()
                .filter(|(_, k)| *k > 0)
                .map(|(c, k)| format!("`{c}`: {k}"))
                .collect();
            return Err(Error::Data(format!(
                "no rows left after dropping rows with missing values (missing per column: {})",
                detail.join(", ")
            )));
        }
        let coding = self.coding.ok_or_else(|| {
            Error::Data(
                "the coding of the variables is unknown: add a chunk or call learn_coding".into(),
            )
        })?;
        let assembled = assemble::assemble(&mut partial)?;
        let terms = ModelTerms {
            spec: self.spec,
            response_name: self.response_name,
            response: Variable::Numeric(Vec::new()),
            counts: None,
            fixed: assembled.fixed,
            random: assembled.random,
            offset: None,
            rows: Vec::new(),
            missing: partial
                .missing
                .iter()
                .map(|(c, k)| (c.clone(), *k as usize))
                .collect(),
            input_rows: partial.input_rows as usize,
            coding,
            warnings: Vec::new(),
        };
        LinearMixedModel::from_streamed(
            terms,
            assembled.structure,
            assembled.a,
            partial.y_stats,
            &self.options,
        )
    }
}
