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
        Ok(persist::to_json(&self.identity(), record, &self.u))
    }

    /// Restore a fit saved by [`save_fit`](Self::save_fit) for this model
    /// (same formula terms, rows, family and link) without optimizing, and
    /// check that the saved optimum reproduces.
    pub fn restore_fit(&mut self, text: &str) -> Result<()> {
        let (record, u) = persist::from_json(text, &self.identity())?;
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
        self.install_mode()?;
        self.nagq = record.settings.nagq;
        self.fast = record.settings.fast;
        persist::check_reproduces(&record, self.current_objective()?)?;
        self.record = Some(record);
        Ok(())
    }
}
