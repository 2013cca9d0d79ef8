//! Influence diagnostics of a fitted model, as lme4 defines them: the
//! diagonal of the hat matrix (`hatvalues.merMod`), Pearson residuals and
//! Cook's distances (`cooks.distance.merMod`).
//!
//! lme4's hat matrix is `H = C_Lᵀ C_L + C_Rᵀ C_R` with
//! `C_L = L⁻¹ Λᵀ Zᵀ √P` and `C_R = R_X⁻ᵀ (Xᵀ √P − R_ZXᵀ C_L)`, where L, R_X and
//! R_ZX are the factors of the fit (for a GLMM: at the working weights of the
//! mode) and P holds the *prior* weights. For a linear mixed model the factors
//! are weighted by the prior weights too and H is the usual hat matrix; for a
//! GLMM the mixture (lme4 warns that it "may not make sense") is kept so that
//! the values equal lme4's and broom.mixed's.

use super::MixedModel;

/// Hat values, Pearson residuals and Cook's distances of a fitted model.
pub trait Influence: MixedModel {
    /// Diagonal of lme4's hat matrix (see the module documentation), one
    /// value per observation used.
    fn hatvalues(&self) -> Vec<f64>;

    /// Pearson residuals as lme4's `residuals(m, type = "pearson")`:
    /// √wᵢ (yᵢ − μᵢ) for a linear mixed model (w the case weights, 1 without),
    /// √pᵢ (yᵢ − μᵢ) / √V(μᵢ) for a GLMM (p the prior weights).
    fn pearson_residuals(&self) -> Vec<f64>;

    /// lme4's `sqrtrwt`: √wᵢ for a linear mixed model (case weights, 1
    /// without), √(pᵢ / V(μᵢ)) for a GLMM; the Pearson residuals are
    /// `sqrtrwt · (y − μ)`.
    fn sqrt_residual_weights(&self) -> Vec<f64>;

    /// lme4's `sqrtXwt`, the square roots of the weights of the rows of the
    /// penalised least-squares system: √wᵢ for a linear mixed model,
    /// √(pᵢ / V(μᵢ)) · dμ/dη for a GLMM (the working weights at the mode).
    fn sqrt_working_weights(&self) -> Vec<f64>;

    /// The dispersion of `cooks.distance`: σ̂² of a linear mixed model, 1 for
    /// the GLMM families here (lme4's `sigma(m)^2`).
    fn dispersion(&self) -> f64 {
        self.scale().powi(2)
    }

    /// Cook's distances as lme4's `cooks.distance.merMod`:
    /// Dᵢ = (rᵢ / (1 − hᵢ))² hᵢ / (φ p), with r the Pearson residuals, h the
    /// hat values, φ the dispersion and p the rank of X; NaN where Dᵢ is
    /// infinite (hᵢ = 1).
    fn cooks_distance(&self) -> Vec<f64> {
        let p = self.terms().fixed.rank() as f64;
        let phi = self.dispersion();
        self.pearson_residuals()
            .iter()
            .zip(self.hatvalues())
            .map(|(r, h)| {
                let d = (r / (1.0 - h)).powi(2) * h / (phi * p);
                if d.is_infinite() {
                    f64::NAN
                } else {
                    d
                }
            })
            .collect()
    }
}
