//! Saving a fit and restoring it without optimizing again: θ, β and the
//! conditional modes û are installed and L is factored at their η, as the
//! fit left it.

use super::GeneralizedLinearMixedModel;
use crate::error::{Error, Result};
use crate::model::persist::{self, ModelIdentity};
use crate::model::MixedModel;

impl GeneralizedLinearMixedModel {
    fn identity(&self) -> ModelIdentity {
        ModelIdentity {
            kind: "GeneralizedLinearMixedModel".into(),
            formula: self.terms.spec.source.clone(),
            nobs: self.nobs(),
            theta_names: self.layout.names().to_vec(),
            coef_names: self.coef_names(),
            family: Some((self.family.name().into(), self.link.name().into())),
        }
    }

    /// The fit record and the conditional modes as versioned JSON with
    /// exact doubles (see [`crate::model::persist`]).
    pub fn save_fit(&self) -> Result<String> {
        let record = self
            .record
            .as_ref()
            .ok_or_else(|| Error::not_fitted("save"))?;
        let text = persist::to_json(&self.identity(), record, &self.u);
        if !self.family.has_dispersion() {
            return Ok(text);
        }
        // The dispersion φ (and its standard error) ride along as a
        // top-level `dispersion` object the common reader ignores.
        let mut doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::Restore {
                message: format!("the saved fit is not JSON ({e})"),
            })?;
        doc["dispersion"] = serde_json::json!({
            "phi": self.phi,
            "log_phi_stderror": self.dispersion_log_stderror(),
        });
        serde_json::to_string_pretty(&doc).map_err(|e| Error::Restore {
            message: format!("the saved fit cannot be written ({e})"),
        })
    }

    /// The dispersion saved with a fit of a family that has one: (φ, SE of log φ).
    fn saved_dispersion(&self, text: &str) -> Result<Option<(f64, Option<f64>)>> {
        if !self.family.has_dispersion() {
            return Ok(None);
        }
        let missing = || Error::Restore {
            message: format!(
                "it holds no dispersion parameter, which a {} model needs",
                self.family.name()
            ),
        };
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Restore {
            message: format!("not a JSON document ({e})"),
        })?;
        let d = doc.get("dispersion").ok_or_else(missing)?;
        let phi = d
            .get("phi")
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(missing)?;
        if !(phi.is_finite() && phi > 0.0) {
            return Err(missing());
        }
        let se = d
            .get("log_phi_stderror")
            .and_then(serde_json::Value::as_f64);
        Ok(Some((phi, se)))
    }

    /// Restore a fit saved by [`save_fit`](Self::save_fit) for this model
    /// (same formula terms, rows, family and link) without optimizing, and
    /// check that the saved optimum reproduces.
    pub fn restore_fit(&mut self, text: &str) -> Result<()> {
        let (record, u) = persist::from_json(text, &self.identity())?;
        let dispersion = self.saved_dispersion(text)?;
        if u.len() != self.u.len() {
            return Err(Error::Restore {
                message: format!(
                    "it has {} conditional modes, this model {}",
                    u.len(),
                    self.u.len()
                ),
            });
        }
        self.check_nagq(record.settings.nagq)?;
        self.install_theta(&record.final_theta)
            .map_err(|e| Error::Restore {
                message: format!("its θ cannot be installed: {e}"),
            })?;
        self.beta.copy_from_slice(&record.final_beta);
        self.u.copy_from_slice(&u);
        if let Some((phi, se)) = dispersion {
            self.phi = phi;
            self.phi_log_se = std::sync::OnceLock::new();
            if se.is_some() {
                let _ = self.phi_log_se.set(se);
            }
        }
        self.install_mode()?;
        self.nagq = record.settings.nagq;
        self.fast = record.settings.fast;
        persist::check_reproduces(&record, self.current_objective()?)?;
        self.record = Some(record);
        Ok(())
    }
}
