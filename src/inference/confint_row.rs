//! The row every confidence-interval method returns (Wald in `confint.rs`,
//! profile in `profile/`, and the bootstrap's through Python), and the normal
//! quantile of a confidence level.

use crate::error::{Error, Result};
use crate::family::normal_quantile;

/// One row of a table of confidence intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfintRow {
    /// lme4's name of the parameter (`confint(oldNames = FALSE)`):
    /// `sd_(Intercept)|Subject`, `cor_Days.(Intercept)|Subject`, `sigma`, or
    /// a coefficient's name.
    pub parameter: String,
    /// The estimate.
    pub estimate: f64,
    /// Lower end (None where the method gives none).
    pub lower: Option<f64>,
    /// Upper end (None where the method gives none).
    pub upper: Option<f64>,
}

/// z = Φ⁻¹((1 + level)/2), for 0 < level < 1.
pub fn level_quantile(level: f64) -> Result<f64> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::argument(
            "level",
            format!("the confidence level must lie strictly between 0 and 1, got {level}"),
        ));
    }
    Ok(normal_quantile(0.5 + 0.5 * level))
}
