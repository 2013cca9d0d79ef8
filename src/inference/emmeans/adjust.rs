//! Multiplicity adjustments of a family of t (or z) tests and of their
//! confidence intervals, as emmeans applies them: Tukey's studentized range
//! for pairwise comparisons of `nmeans` means, Holm's step-down,
//! Bonferroni's and Šidák's inequalities for a family of `k` tests. Holm's
//! intervals use Bonferroni's critical values (emmeans does the same).

use crate::error::{Error, Result};
use crate::inference::ddf::dist::{t_quantile, t_two_sided_p};
use crate::inference::ddf::studentized_range::{ptukey_upper, qtukey};

/// A multiplicity adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjust {
    /// Tukey's honest significant differences (pairwise comparisons only).
    Tukey,
    /// Holm's step-down Bonferroni.
    Holm,
    /// Bonferroni: p·k.
    Bonferroni,
    /// Šidák: 1 − (1 − p)^k.
    Sidak,
    /// No adjustment.
    None,
}

impl Adjust {
    /// The adjustment named `name` (`"tukey"`, `"holm"`, `"bonferroni"`, `"sidak"`, `"none"`).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "tukey" => Adjust::Tukey,
            "holm" => Adjust::Holm,
            "bonferroni" => Adjust::Bonferroni,
            "sidak" => Adjust::Sidak,
            "none" => Adjust::None,
            other => {
                return Err(Error::argument(
                    "adjust",
                    format!(
                        "unknown adjustment {other:?}; use \"tukey\", \"holm\", \"bonferroni\", \
                         \"sidak\" or \"none\""
                    ),
                ))
            }
        })
    }

    /// The adjustment's name.
    pub fn name(self) -> &'static str {
        match self {
            Adjust::Tukey => "tukey",
            Adjust::Holm => "holm",
            Adjust::Bonferroni => "bonferroni",
            Adjust::Sidak => "sidak",
            Adjust::None => "none",
        }
    }

    /// The adjustment used for a family that is (or is not) one set of
    /// pairwise comparisons: emmeans replaces Tukey by Šidák for other families.
    pub fn for_family(self, pairwise: bool) -> Adjust {
        if self == Adjust::Tukey && !pairwise {
            Adjust::Sidak
        } else {
            self
        }
    }
}

/// Adjusted two-sided p-values of one family of ratios `t` with `df`
/// (∞: z tests) among `nmeans` means.
pub fn adjusted_p(adjust: Adjust, t: &[f64], df: &[f64], nmeans: usize) -> Vec<f64> {
    let k = t.len() as f64;
    let raw: Vec<f64> = t
        .iter()
        .zip(df)
        .map(|(&t, &d)| t_two_sided_p(t, d))
        .collect();
    match adjust {
        Adjust::None => raw,
        Adjust::Tukey => t
            .iter()
            .zip(df)
            .map(|(&t, &d)| ptukey_upper(std::f64::consts::SQRT_2 * t.abs(), nmeans, d))
            .collect(),
        Adjust::Bonferroni => raw.iter().map(|p| (p * k).min(1.0)).collect(),
        Adjust::Sidak => raw.iter().map(|p| 1.0 - (1.0 - p).powf(k)).collect(),
        Adjust::Holm => {
            let mut order: Vec<usize> = (0..raw.len()).collect();
            order.sort_by(|&a, &b| raw[a].total_cmp(&raw[b]));
            let mut out = vec![0.0; raw.len()];
            let mut running: f64 = 0.0;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((k - rank as f64) * raw[i]).min(1.0));
                out[i] = running;
            }
            out
        }
    }
}

/// Critical values c (interval = estimate ± c·SE) of a family of `k`
/// intervals at confidence `level`, per df, among `nmeans` means.
pub fn critical_values(
    adjust: Adjust,
    level: f64,
    df: &[f64],
    k: usize,
    nmeans: usize,
) -> Vec<f64> {
    let k = k as f64;
    // Families share few distinct df (often one): each quantile once.
    let mut known: Vec<(f64, f64)> = Vec::new();
    df.iter()
        .map(|&d| {
            if let Some(&(_, c)) = known.iter().find(|(e, _)| e.to_bits() == d.to_bits()) {
                return c;
            }
            let c = critical_value(adjust, level, d, k, nmeans);
            known.push((d, c));
            c
        })
        .collect()
}

/// One critical value of [`critical_values`] for `d` df in a family of `k`.
fn critical_value(adjust: Adjust, level: f64, d: f64, k: f64, nmeans: usize) -> f64 {
    match adjust {
        Adjust::None => t_quantile(0.5 + level / 2.0, d),
        Adjust::Tukey => qtukey(level, nmeans, d) / std::f64::consts::SQRT_2,
        Adjust::Bonferroni | Adjust::Holm => t_quantile(1.0 - (1.0 - level) / (2.0 * k), d),
        Adjust::Sidak => t_quantile(0.5 + level.powf(1.0 / k) / 2.0, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_bonferroni_sidak_follow_their_formulas() {
        let df = [f64::INFINITY; 3];
        let t = [3.0, 1.0, 2.0];
        let raw: Vec<f64> = t.iter().map(|&x| t_two_sided_p(x, f64::INFINITY)).collect();
        let holm = adjusted_p(Adjust::Holm, &t, &df, 3);
        // Sorted raw p: t = 3, 2, 1 → ×3, ×2, ×1, then running maxima.
        let a = 3.0 * raw[0];
        let b = (2.0 * raw[2]).max(a);
        let c = raw[1].max(b);
        assert_eq!(holm, vec![a, c, b]);
        let bonf = adjusted_p(Adjust::Bonferroni, &t, &df, 3);
        assert_eq!(bonf[1], (3.0 * raw[1]).min(1.0));
        let sidak = adjusted_p(Adjust::Sidak, &t, &df, 3);
        assert!((sidak[0] - (1.0 - (1.0 - raw[0]).powi(3))).abs() < 1e-15);
        assert!(Adjust::from_name("scheffe").is_err());
        assert_eq!(Adjust::Tukey.for_family(false), Adjust::Sidak);
    }

    #[test]
    fn tukey_with_two_means_is_the_t_interval() {
        let c = critical_values(Adjust::Tukey, 0.95, &[12.0], 1, 2)[0];
        assert!((c - t_quantile(0.975, 12.0)).abs() < 1e-8, "{c}");
    }
}
