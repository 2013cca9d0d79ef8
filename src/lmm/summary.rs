//! The printed summary of a linear mixed model, in the layout of the
//! MixedModels.jl manual: method, formula, fit statistics, variance
//! components, counts, fixed-effects table.

use std::fmt;

use super::{CoefRow, LinearMixedModel, VarCorr};
use crate::model::MixedModel;
use crate::terms::ModelTerms;

/// `x` rounded to `digits` significant digits, printed without exponent
/// where reasonable (Julia's `round(x, sigdigits = digits)`).
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    if !(-5..15).contains(&mag) {
        return format!("{:.*e}", digits - 1, x);
    }
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Format `values` with one shared number of decimals: enough for `digits`
/// significant digits of the smallest non-zero magnitude (at most 10).
pub fn aligned(values: &[f64], digits: i32) -> Vec<String> {
    let decimals = values
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| (digits - 1 - v.abs().log10().floor() as i32).clamp(0, 10))
        .max()
        .unwrap_or(0) as usize;
    values.iter().map(|v| format!("{v:.decimals$}")).collect()
}

/// A p-value as StatsBase prints it: 4 decimals, or `<1e-k`.
pub fn format_pvalue(p: f64) -> String {
    if p.is_nan() {
        "NaN".into()
    } else if p >= 1e-4 {
        format!("{p:.4}")
    } else if p < 1e-99 {
        "<1e-99".into()
    } else {
        format!("<1e{}", p.log10().ceil() as i32)
    }
}

/// The lines after the variance components: observations and levels of the
/// grouping factors, and the fixed-effects columns dropped, if any.
pub(crate) fn write_counts(
    f: &mut fmt::Formatter<'_>,
    nobs: usize,
    terms: &ModelTerms,
) -> fmt::Result {
    let levels: Vec<String> = terms
        .random
        .iter()
        .map(|t| t.nlevels().to_string())
        .collect();
    writeln!(
        f,
        " Number of obs: {nobs}; levels of grouping factors: {}",
        levels.join(", ")
    )?;
    if !terms.fixed.dropped.is_empty() {
        writeln!(
            f,
            " Fixed-effects columns dropped as linearly dependent: {}",
            terms.fixed.dropped_names().join(", ")
        )?;
    }
    Ok(())
}

/// Render the fixed-effects table with rules above and below.
pub fn format_coeftable(rows: &[CoefRow]) -> String {
    let header = ["", "Estimate", "Std.Error", "z value", "P(>|z|)"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                sig(r.estimate, 6),
                sig(r.stderror, 6),
                sig(r.z, 6),
                format_pvalue(r.p),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let total: usize = width.iter().sum::<usize>() + 2 * 4;
    let rule = "─".repeat(total);
    let line = |c: &[String; 5]| {
        let mut s = format!("{:<w$}", c[0], w = width[0]);
        for k in 1..5 {
            s.push_str(&format!("  {:>w$}", c[k], w = width[k]));
        }
        s
    };
    let mut out = format!("{rule}\n{}\n{rule}\n", line(&header.map(String::from)));
    for c in &cells {
        out.push_str(&line(c));
        out.push('\n');
    }
    out.push_str(&rule);
    out.push('\n');
    out
}

impl fmt::Display for VarCorr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_w = self
            .terms
            .iter()
            .map(|t| t.group.chars().count())
            .chain(std::iter::once("Residual".len()))
            .max()
            .unwrap_or(8);
        let col_w = self
            .terms
            .iter()
            .flat_map(|t| t.columns.iter().map(|c| c.chars().count()))
            .max()
            .unwrap_or(6)
            .max(6);
        let mut rows: Vec<(String, String, f64, f64, Vec<String>)> = Vec::new();
        for t in &self.terms {
            let v = t.columns.len();
            for a in 0..v {
                let corr = (0..a)
                    .map(|b| match t.correlation[b * v + a] {
                        Some(c) => format!("{:+.2}", c),
                        None => ".".into(),
                    })
                    .collect();
                rows.push((
                    if a == 0 {
                        t.group.clone()
                    } else {
                        String::new()
                    },
                    t.columns[a].clone(),
                    t.covariance[a * v + a],
                    t.sd[a],
                    corr,
                ));
            }
        }
        if let Some(s) = self.residual_sd {
            rows.push(("Residual".into(), String::new(), s * s, s, vec![]));
        }
        // Each column shares one number of decimals, enough for 8 significant
        // digits of its smallest entry, so the decimal points line up.
        let vars = aligned(&rows.iter().map(|r| r.2).collect::<Vec<_>>(), 8);
        let sds = aligned(&rows.iter().map(|r| r.3).collect::<Vec<_>>(), 8);
        let var_w = vars.iter().map(String::len).max().unwrap_or(8).max(8);
        let sd_w = sds.iter().map(String::len).max().unwrap_or(8).max(8);
        let any_corr = rows.iter().any(|r| !r.4.is_empty());
        writeln!(f, "Variance components:")?;
        write!(
            f,
            "{:name_w$}  {:<col_w$}  {:>var_w$}  {:>sd_w$}",
            "", "Column", "Variance", "Std.Dev."
        )?;
        if any_corr {
            write!(f, "   Corr.")?;
        }
        writeln!(f)?;
        for ((g, c, _, _, corr), (var, sd)) in rows.into_iter().zip(vars.into_iter().zip(sds)) {
            write!(f, "{g:name_w$}  {c:<col_w$}  {var:>var_w$}  {sd:>sd_w$}")?;
            for x in corr {
                write!(f, " {x:>5}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for LinearMixedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = if self.is_reml() {
            "REML"
        } else {
            "maximum likelihood"
        };
        writeln!(f, "Linear mixed model fit by {method}")?;
        writeln!(f, " {}", self.terms.spec.source.trim())?;
        if self.is_reml() {
            writeln!(f, " REML criterion at convergence: {}", self.objective())?;
        } else {
            let ll = -0.5 * self.objective();
            let dof = self.dof() as f64;
            let n = self.nobs() as f64;
            let stats = [
                ll,
                self.objective(),
                self.objective() + 2.0 * dof,
                self.objective() + dof * n.ln(),
            ];
            let cells: Vec<String> = stats.iter().map(|v| format!("{v:.5}")).collect();
            let w = cells.iter().map(|c| c.len()).max().unwrap_or(10).max(9) + 1;
            writeln!(
                f,
                "{:>w$} {:>w$} {:>w$} {:>w$}",
                "logLik", "-2 logLik", "AIC", "BIC"
            )?;
            writeln!(
                f,
                "{:>w$} {:>w$} {:>w$} {:>w$}",
                cells[0], cells[1], cells[2], cells[3]
            )?;
        }
        writeln!(f)?;
        write!(f, "{}", self.varcorr())?;
        write_counts(f, self.nobs(), &self.terms)?;
        writeln!(f)?;
        writeln!(f, "  Fixed-effects parameters:")?;
        write!(f, "{}", format_coeftable(&self.coeftable()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvalues_and_significant_digits() {
        assert_eq!(format_pvalue(0.0), "<1e-99");
        assert_eq!(format_pvalue(3.2e-12), "<1e-11");
        assert_eq!(format_pvalue(3.37e-7), "<1e-6");
        assert_eq!(format_pvalue(0.1505), "0.1505");
        assert_eq!(sig(1527.4999999, 6), "1527.5");
        assert_eq!(sig(17.694553, 6), "17.6946");
        assert_eq!(sig(0.0055628, 6), "0.0055628");
    }
}
