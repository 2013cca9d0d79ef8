//! Principal components of the random-effects covariances (lme4's `rePCA`):
//! for each grouping factor, the singular value decomposition of the
//! block-diagonal matrix of the relative covariance factors λ of its terms.
//! A component with a (near) zero standard deviation points to an
//! over-parameterised random-effects structure.

use faer::Mat;

use super::MixedModel;
use crate::error::{Error, Result};

/// The principal components of one grouping factor.
#[derive(Debug, Clone, PartialEq)]
pub struct RePca {
    /// The grouping factor.
    pub group: String,
    /// The random-effects columns of its terms, in model order.
    pub columns: Vec<String>,
    /// Singular values of the block-diagonal λ (standard deviations relative
    /// to the residual scale), nonincreasing.
    pub sdev: Vec<f64>,
    /// Left singular vectors, column-major k × k (one column per component;
    /// signs are arbitrary).
    pub rotation: Vec<f64>,
    /// Proportion of variance sdev² / Σ sdev² (NaN when every sdev is 0).
    pub proportion: Vec<f64>,
    /// Cumulative proportions.
    pub cumulative: Vec<f64>,
}

/// The components of every grouping factor of `m`, in model order.
pub fn re_pca(m: &impl MixedModel) -> Result<Vec<RePca>> {
    let terms = &m.terms().random;
    let lambdas = m.lambdas();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (k, t) in terms.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| *g == t.grouping) {
            Some((_, ks)) => ks.push(k),
            None => groups.push((t.grouping.clone(), vec![k])),
        }
    }
    groups
        .into_iter()
        .map(|(group, ks)| {
            let size: usize = ks.iter().map(|&k| terms[k].ncols()).sum();
            let mut full = Mat::<f64>::zeros(size, size);
            let mut at = 0;
            for &k in &ks {
                let v = terms[k].ncols();
                for c in 0..v {
                    for r in 0..v {
                        full[(at + r, at + c)] = lambdas[k][c * v + r];
                    }
                }
                at += v;
            }
            let svd = full
                .as_ref()
                .svd()
                .map_err(|e| Error::Data(format!("rePCA of `{group}`: {e:?}")))?;
            let s = svd.S().column_vector();
            let sdev: Vec<f64> = (0..size).map(|i| s[i]).collect();
            let u = svd.U();
            let rotation = (0..size)
                .flat_map(|c| (0..size).map(move |r| u[(r, c)]))
                .collect();
            let total: f64 = sdev.iter().map(|s| s * s).sum();
            let proportion: Vec<f64> = sdev.iter().map(|s| s * s / total).collect();
            let cumulative = proportion
                .iter()
                .scan(0.0, |acc, p| {
                    *acc += p;
                    Some(*acc)
                })
                .collect();
            Ok(RePca {
                columns: ks
                    .iter()
                    .flat_map(|&k| terms[k].column_names.clone())
                    .collect(),
                group,
                sdev,
                rotation,
                proportion,
                cumulative,
            })
        })
        .collect()
}
