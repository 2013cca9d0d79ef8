//! Confidence intervals: the rows every method returns, and Wald intervals
//! (lme4's `confint(m, method = "Wald")`): β̂ ± z·se(β̂) for each coefficient,
//! z = Φ⁻¹((1 + level)/2), and no interval (None, lme4's NA) for the
//! variance components and σ. Profile intervals are in
//! [`crate::inference::profile`].

use crate::error::Result;
use crate::inference::confint_row::{level_quantile, ConfintRow};
use crate::inference::profile::model_parameters;
use crate::model::MixedModel;

/// Wald intervals of `level` for the parameters of `model` at its current
/// estimates (fitted, or evaluated at given parameters), in
/// lme4's order (variance components, σ for a linear model, coefficients);
/// the estimates are the model's (REML ones for a REML fit). Only the
/// coefficients get ends; the standard errors are those of
/// [`MixedModel::stderror`] (for a GLMM from R_X, lme4's
/// `vcov(use.hessian = FALSE)`; lme4's `confint` uses its finite-difference
/// Hessian there).
pub fn wald_confint<M: MixedModel + ?Sized>(model: &M, level: f64) -> Result<Vec<ConfintRow>> {
    let z = level_quantile(level)?;
    let beta = model.beta();
    let params = model_parameters(
        model.layout(),
        model.theta(),
        model.scale(),
        model.residual_sd(),
        &beta,
        &model.coef_names(),
    );
    let se = model.stderror();
    let first_beta = params.len() - beta.len();
    Ok(params
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let ends = i
                .checked_sub(first_beta)
                .map(|j| (p.estimate - z * se[j], p.estimate + z * se[j]));
            ConfintRow {
                parameter: p.name,
                estimate: p.estimate,
                lower: ends.map(|e| e.0),
                upper: ends.map(|e| e.1),
            }
        })
        .collect())
}
