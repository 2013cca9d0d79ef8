//! Predictions of a fitted model, on the fitted rows or on new data
//! (lme4's `predict.merMod`).
//!
//! η = offset + Xβ̂ (+ Zb̂ with random effects); on the response scale
//! μ = g⁻¹(η) (the same for a linear mixed model). New data are coded as the
//! training data were ([`NewRows`]); a row with a missing value in a used
//! column predicts NaN, and a level of a grouping factor not seen in fitting
//! is handled as [`NewLevels`] says.

use crate::data::Data;
use crate::error::{Error, Result};
use crate::family::Link;
use crate::terms::{ModelTerms, NewRows};

use super::MixedModel;

/// What to do with rows whose grouping-factor level was not seen in fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewLevels {
    /// Refuse the data, naming the grouping factor and the levels.
    #[default]
    Error,
    /// Use random effects 0 for that term (the population prediction).
    Population,
    /// Predict NaN for those rows.
    Missing,
}

impl NewLevels {
    /// `"error"`, `"population"` or `"missing"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "error" => Ok(NewLevels::Error),
            "population" => Ok(NewLevels::Population),
            "missing" => Ok(NewLevels::Missing),
            other => Err(Error::argument(
                "new_levels",
                format!("must be \"error\", \"population\" or \"missing\", got {other:?}"),
            )),
        }
    }
}

/// The scale of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PredictScale {
    /// μ = g⁻¹(η).
    #[default]
    Response,
    /// The linear predictor η.
    Link,
}

impl PredictScale {
    /// `"response"` or `"link"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "response" => Ok(PredictScale::Response),
            "link" => Ok(PredictScale::Link),
            other => Err(Error::argument(
                "type",
                format!("must be \"response\" or \"link\", got {other:?}"),
            )),
        }
    }
}

/// How to predict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictOptions {
    /// Add Zb̂ (conditional predictions) or not (population predictions Xβ̂).
    pub random_effects: bool,
    /// Unseen grouping-factor levels (with random effects only).
    pub new_levels: NewLevels,
    /// Link or response scale.
    pub scale: PredictScale,
    /// An offset per row of the new data, added to the formula's `offset(...)`
    /// terms (refused without new data: the fitted rows carry the model's own).
    pub offset: Option<Vec<f64>>,
}

/// Predictions of a model with a link function.
pub trait Predict: MixedModel {
    /// The link g (identity for a linear mixed model).
    fn prediction_link(&self) -> Link;

    /// The offset of the fitted rows (formula terms and option), if any.
    fn fitted_offset(&self) -> Option<&[f64]>;

    /// Predictions for the fitted rows (`newdata` None: one per observation
    /// used) or for every row of `newdata`.
    fn predict(&self, newdata: Option<&Data>, options: &PredictOptions) -> Result<Vec<f64>> {
        let eta = match newdata {
            None => {
                if !self.has_rows() {
                    return Err(Error::RowsNotStored {
                        what: "predict (the fitted rows)".into(),
                    });
                }
                if options.offset.is_some() {
                    return Err(Error::argument(
                        "offset",
                        "an offset is for new data; the fitted rows use the model's own",
                    ));
                }
                self.fitted_eta(options.random_effects)
            }
            Some(data) => self.newdata_eta(data, options)?,
        };
        Ok(match options.scale {
            PredictScale::Link => eta,
            PredictScale::Response => {
                let link = self.prediction_link();
                eta.into_iter()
                    .map(|e| if e.is_nan() { e } else { link.linkinv(e) })
                    .collect()
            }
        })
    }

    /// η of the fitted rows: offset + Xβ̂ (+ Zb̂).
    fn fitted_eta(&self, random_effects: bool) -> Vec<f64> {
        let terms = self.terms();
        let mut eta = self
            .fitted_offset()
            .map_or_else(|| vec![0.0; self.nobs()], <[f64]>::to_vec);
        terms.add_x_beta(&self.beta(), &mut eta);
        if random_effects {
            terms.add_z_b(&self.b(), &mut eta);
        }
        eta
    }

    /// η of every row of `data` (NaN where a used value is missing, or a
    /// level is new under [`NewLevels::Missing`]).
    fn newdata_eta(&self, data: &Data, options: &PredictOptions) -> Result<Vec<f64>> {
        if let Some(o) = &options.offset {
            if o.len() != data.nrows() {
                return Err(Error::argument(
                    "offset",
                    format!(
                        "has length {}, the new data have {} rows",
                        o.len(),
                        data.nrows()
                    ),
                ));
            }
        }
        let terms = self.terms();
        let new = NewRows::new(terms, data, options.random_effects)?;
        if options.new_levels == NewLevels::Error {
            refuse_new_levels(terms, &new)?;
        }
        let eta = rows_eta(
            terms,
            &new,
            &self.beta(),
            &self.b(),
            options.random_effects,
            options.new_levels,
        );
        let mut out = vec![f64::NAN; data.nrows()];
        for (&row, e) in new.rows.iter().zip(eta) {
            out[row] = e + options.offset.as_ref().map_or(0.0, |o| o[row]);
        }
        Ok(out)
    }
}

/// η = offset + Xβ (+ Zb with `random_effects`) of the rows of `new`, one
/// per entry of [`NewRows::rows`]: `beta` for X's kept columns, `b` per
/// random-effects term (column-major v × ℓ, as [`MixedModel::b`]). A row
/// whose level is new gets no random effect, or NaN under
/// [`NewLevels::Missing`].
pub(crate) fn rows_eta(
    terms: &ModelTerms,
    new: &NewRows,
    beta: &[f64],
    b: &[Vec<f64>],
    random_effects: bool,
    new_levels: NewLevels,
) -> Vec<f64> {
    let n = new.rows.len();
    let mut eta = new.offset.clone().unwrap_or_else(|| vec![0.0; n]);
    for (j, b) in beta.iter().enumerate() {
        for (e, x) in eta.iter_mut().zip(&new.x[j * n..(j + 1) * n]) {
            *e += b * x;
        }
    }
    if random_effects {
        for ((t, rows), b) in terms.random.iter().zip(&new.random).zip(b) {
            let v = t.ncols();
            for (i, e) in eta.iter_mut().enumerate() {
                match rows.refs[i] {
                    Some(l) => {
                        let l = l as usize;
                        *e += (0..v)
                            .map(|c| rows.z[i * v + c] * b[l * v + c])
                            .sum::<f64>();
                    }
                    None if new_levels == NewLevels::Missing => *e = f64::NAN,
                    None => {}
                }
            }
        }
    }
    eta
}

/// An [`Error::Level`] naming the first random-effects term of `new` with a
/// grouping-factor level not seen in fitting, and that level.
pub(crate) fn refuse_new_levels(terms: &ModelTerms, new: &NewRows) -> Result<()> {
    if let Some((t, r)) = terms
        .random
        .iter()
        .zip(&new.random)
        .find(|(_, r)| !r.new_levels.is_empty())
    {
        return Err(Error::Level {
            column: t.grouping.clone(),
            level: r.new_levels[0].clone(),
            message: format!(
                "grouping factor has level{} not seen in fitting ({}); use \
                 new_levels=\"population\" or \"missing\"",
                if r.new_levels.len() == 1 { "" } else { "s" },
                crate::data::abbreviate(&r.new_levels, 12)
            ),
        });
    }
    Ok(())
}
