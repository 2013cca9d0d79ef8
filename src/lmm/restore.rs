//! Saving a fit and restoring it without optimizing again.

use super::LinearMixedModel;
use crate::error::{Error, Result};
use crate::model::persist::{self, ModelIdentity};
use crate::model::MixedModel;

impl LinearMixedModel {
    fn identity(&self) -> ModelIdentity {
        ModelIdentity {
            kind: "LinearMixedModel".into(),
            formula: self.terms.spec.source.clone(),
            nobs: self.nobs(),
            theta_names: self.layout.names().to_vec(),
            coef_names: self.coef_names(),
            family: None,
        }
    }

    /// The fit record as versioned JSON with exact doubles (see
    /// [`crate::model::persist`]).
    pub fn save_fit(&self) -> Result<String> {
        let record = self
            .record
            .as_ref()
            .ok_or_else(|| Error::not_fitted("save"))?;
        Ok(persist::to_json(&self.identity(), record, &[]))
    }

    /// Restore a fit saved by [`save_fit`](Self::save_fit) for this model
    /// (same formula terms and rows): install its criterion and θ without
    /// optimizing, and check that the saved optimum reproduces.
    pub fn restore_fit(&mut self, text: &str) -> Result<()> {
        let (record, _) = persist::from_json(text, &self.identity())?;
        self.set_reml(record.settings.reml)?;
        self.set_theta(&record.final_theta)
            .map_err(|e| Error::Restore {
                message: format!("its θ cannot be installed: {e}"),
            })?;
        persist::check_reproduces(&record, self.objective_value())?;
        self.record = Some(record);
        Ok(())
    }
}
