//! Marginal means on the response scale (emmeans' `type = "response"`):
//! μ = g⁻¹(η̂), its standard error by the delta method |dμ/dη|·SE(η̂), and the
//! interval ends of η back-transformed (ordered, for decreasing inverse links).
//! Contrasts of a log or logit link back-transform to ratios (odds ratios):
//! exp(estimate), SE·exp(estimate), exp of the interval ends.

use crate::family::Link;

/// Values on the response scale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseScale {
    /// Back-transformed estimates.
    pub estimate: Vec<f64>,
    /// Delta-method standard errors.
    pub se: Vec<f64>,
    /// Back-transformed lower interval ends.
    pub lower: Vec<f64>,
    /// Back-transformed upper interval ends.
    pub upper: Vec<f64>,
}

/// Means on the link scale (`eta`, `se`, interval `lower`/`upper`) mapped to
/// the response scale by `link`; with `ratio`, contrasts exponentiated
/// (the link must be log or logit for that to mean a ratio).
pub fn response_scale(
    link: Link,
    ratio: bool,
    eta: &[f64],
    se: &[f64],
    lower: &[f64],
    upper: &[f64],
) -> ResponseScale {
    let inv = |x: f64| if ratio { x.exp() } else { link.linkinv(x) };
    let slope = |x: f64| if ratio { x.exp() } else { link.mu_eta(x) };
    let mut out = ResponseScale::default();
    for i in 0..eta.len() {
        out.estimate.push(inv(eta[i]));
        out.se.push(slope(eta[i]).abs() * se[i]);
        let (a, b) = (inv(lower[i]), inv(upper[i]));
        out.lower.push(a.min(b));
        out.upper.push(a.max(b));
    }
    out
}
