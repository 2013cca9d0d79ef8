//! Tables of the degrees-of-freedom methods: the analysis of variance (F
//! tests per term) and the coefficient table with t tests on df.

use crate::inference::ddf::{AnovaRow, CoefDfRow, FTest};
use crate::present::{Align, Block, Cell, Column, Document, NumberFormat, Table};

/// The note that says what a table of large-sample Wald tests holds.
pub const WALD_NOTE: &str =
    "Large-sample Wald tests: F = χ²/num_df with den_df = ∞ (p from χ² on num_df).";

fn den_df_cell(t: &FTest) -> Cell {
    if t.den_df.is_infinite() {
        Cell::text("∞")
    } else {
        Cell::Number(t.den_df, NumberFormat::Fixed(3))
    }
}

/// An F-test table (one row per label): num_df, den_df, F and p, captioned
/// `caption`, followed by `note` (if any) as a line of text.
pub fn f_test_document(
    caption: &str,
    labels: &[String],
    tests: &[Option<FTest>],
    note: Option<&str>,
) -> Document {
    let mut t = Table::new(vec![
        Column::new("", Align::Left),
        Column::new("num_df", Align::Right),
        Column::new("den_df", Align::Right),
        Column::new("F", Align::Right),
        Column::new("P(>F)", Align::Right),
    ])
    .with_caption(caption);
    t.style.ruled = true;
    for (label, test) in labels.iter().zip(tests) {
        let row = match test {
            Some(f) => vec![
                Cell::text(label.clone()),
                Cell::Integer(f.num_df as i64),
                den_df_cell(f),
                Cell::Number(f.f, NumberFormat::Significant(6)),
                Cell::Number(f.p, NumberFormat::PValue),
            ],
            None => vec![
                Cell::text(label.clone()),
                Cell::Integer(0),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ],
        };
        t.push_row(row);
    }
    let mut doc = Document::default();
    doc.push(Block::Table(t));
    if let Some(note) = note {
        doc.push(Block::Line {
            indent: 0,
            text: note.to_string(),
        });
    }
    doc
}

/// The analysis-of-variance table of `rows` (type `kind`), its df method
/// named (`None`: large-sample Wald tests, said in a note).
pub fn anova_document(rows: &[AnovaRow], kind: u8, method: Option<&str>) -> Document {
    let caption = match method {
        Some(m) => format!("Type {kind} analysis of variance with {m}'s denominator df"),
        None => format!("Type {kind} analysis of variance (Wald tests)"),
    };
    let labels: Vec<String> = rows.iter().map(|r| r.term.clone()).collect();
    let tests: Vec<Option<FTest>> = rows.iter().map(|r| r.test).collect();
    f_test_document(
        &caption,
        &labels,
        &tests,
        method.is_none().then_some(WALD_NOTE),
    )
}

/// The fixed-effects table with t tests on `method`'s degrees of freedom.
pub fn coef_df_table(rows: &[CoefDfRow], method: &str) -> Table {
    let sig = |x: f64| Cell::Number(x, NumberFormat::Significant(6));
    let mut t = Table::new(vec![
        Column::new("", Align::Left),
        Column::new("Estimate", Align::Right),
        Column::new("Std.Error", Align::Right),
        Column::new("df", Align::Right),
        Column::new("t value", Align::Right),
        Column::new("P(>|t|)", Align::Right),
    ])
    .with_caption(format!("Fixed-effects parameters (t tests, {method}'s df)"));
    t.style.ruled = true;
    for r in rows {
        t.push_row(vec![
            Cell::text(r.name.clone()),
            sig(r.estimate),
            sig(r.stderror),
            Cell::Number(r.df, NumberFormat::Fixed(3)),
            sig(r.t),
            Cell::Number(r.p, NumberFormat::PValue),
        ]);
    }
    t
}
