//! The variance-components table.

use crate::lmm::VarCorr;
use crate::present::{shared_decimals, Align, Cell, Column, NumberFormat, Table};

/// Variance components: one row per random-effects column (group name on
/// its first), then the residual if the model has one; variances and
/// standard deviations share one number of decimals per column (8
/// significant digits of the smallest entry), correlations with two
/// decimals below the diagonal (`.` where structurally zero).
pub fn varcorr_table(vc: &VarCorr) -> Table {
    let ncorr = vc
        .terms
        .iter()
        .map(|t| t.columns.len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    // (group, column, variance, sd, correlations)
    let mut rows: Vec<(String, String, f64, f64, Vec<Cell>)> = Vec::new();
    for t in &vc.terms {
        let v = t.columns.len();
        for a in 0..v {
            let corr = (0..a)
                .map(|b| match t.correlation[b * v + a] {
                    Some(c) => Cell::Number(c, NumberFormat::Signed(2)),
                    None => Cell::text("."),
                })
                .collect();
            let group = if a == 0 {
                t.group.clone()
            } else {
                String::new()
            };
            rows.push((
                group,
                t.columns[a].clone(),
                t.covariance[a * v + a],
                t.sd[a],
                corr,
            ));
        }
    }
    if let Some(s) = vc.residual_sd {
        rows.push(("Residual".into(), String::new(), s * s, s, vec![]));
    }
    let var_d = shared_decimals(&rows.iter().map(|r| r.2).collect::<Vec<_>>(), 8);
    let sd_d = shared_decimals(&rows.iter().map(|r| r.3).collect::<Vec<_>>(), 8);
    let mut columns = vec![
        Column::new("", Align::Left).min_width("Residual".len()),
        Column::new("Column", Align::Left).min_width(6),
        Column::new("Variance", Align::Right).min_width(8),
        Column::new("Std.Dev.", Align::Right).min_width(8),
    ];
    for k in 0..ncorr {
        let header = if k == 0 { "Corr." } else { "" };
        columns.push(
            Column::new(header, Align::Right)
                .gap(1)
                .min_width(5)
                .header_gap(3),
        );
    }
    let mut table = Table::new(columns).with_caption("Variance components");
    for (group, column, var, sd, corr) in rows {
        let mut row = vec![
            if group.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(group)
            },
            if column.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(column)
            },
            Cell::Number(var, NumberFormat::Fixed(var_d)),
            Cell::Number(sd, NumberFormat::Fixed(sd_d)),
        ];
        row.extend(corr);
        table.push_row(row);
    }
    table
}
