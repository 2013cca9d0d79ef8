//! Renderer tests on small hand-made tables.

use super::*;

fn sample() -> Table {
    let mut t = Table::new(vec![
        Column::new("name", Align::Left),
        Column::new("value", Align::Right),
        Column::new("p", Align::Right),
    ])
    .with_caption("Some_table");
    t.push_row(vec![
        Cell::text("a_b & <c>"),
        Cell::Number(1.23456789, NumberFormat::Significant(3)),
        Cell::Number(2e-7, NumberFormat::PValue),
    ]);
    t.push_row(vec![
        Cell::text("σ θ β ~ ^ % # {x} \\"),
        Cell::Integer(42),
        Cell::Empty,
    ]);
    t
}

#[test]
fn text_pads_aligns_and_leaves_out_trailing_empty_cells() {
    let got = sample().render(Format::Text);
    let want = "Some_table:\n\
                name                 value      p\n\
                a_b & <c>             1.23  <1e-6\n\
                σ θ β ~ ^ % # {x} \\     42\n";
    assert_eq!(got, want);
}

#[test]
fn text_rules_span_the_columns_and_header_gap_overhangs() {
    let mut t = Table::new(vec![
        Column::new("", Align::Left),
        Column::new("x", Align::Right)
            .gap(1)
            .min_width(5)
            .header_gap(3),
    ]);
    t.style.ruled = true;
    t.push_row(vec![
        Cell::text("ab"),
        Cell::Number(0.5, NumberFormat::Signed(2)),
    ]);
    t.push_row(vec![Cell::text("c"), Cell::Empty]);
    assert_eq!(
        t.render(Format::Text),
        "────────\n     x\n────────\nab +0.50\nc \n────────\n"
    );
}

#[test]
fn markdown_has_header_separator_and_escapes() {
    let got = sample().render(Format::Markdown);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[0], "**Some\\_table**");
    assert_eq!(lines[2], "| name | value | p |");
    assert_eq!(lines[3], "|:--|--:|--:|");
    assert_eq!(lines[4], "| a\\_b & \\<c\\> | 1.23 | \\<1e-6 |");
    assert!(lines[5].ends_with("| 42 |  |"), "{}", lines[5]);
}

#[test]
fn html_is_a_table_with_escaped_cells_and_numbers_on_the_right() {
    let got = sample().render(Format::Html);
    assert!(got.starts_with("<table class=\"mm-table\">\n<caption>Some_table</caption>"));
    assert!(got.contains("<thead>\n<tr><th style=\"text-align: left;\">name</th>"));
    assert!(got.contains("<td style=\"text-align: left;\">a_b &amp; &lt;c&gt;</td>"));
    assert!(got.contains("<td style=\"text-align: right;\">1.23</td>"));
    assert!(got.contains("<td style=\"text-align: right;\">&lt;1e-6</td>"));
    assert!(got.contains("<td style=\"text-align: right;\"></td>"));
    assert_eq!(got.matches("<tr>").count(), 3);
    assert!(got.ends_with("</tbody>\n</table>\n"));
}

#[test]
fn latex_escapes_specials_and_greek_and_keeps_the_column_count() {
    let got = sample().render(Format::Latex);
    assert!(got.contains("\\begin{tabular}{lrr}\n\\hline\nname & value & p \\\\\n\\hline\n"));
    assert!(got.contains("a\\_b \\& $<$c$>$ & 1.23 & $<$1e-6 \\\\"));
    assert!(got.contains(
        "$\\sigma$ $\\theta$ $\\beta$ \\textasciitilde{} \\textasciicircum{} \\% \\# \\{x\\} \\textbackslash{} & 42 &  \\\\"
    ));
    assert!(got.contains("\\textbf{Some\\_table}"));
    assert_eq!(latex::escape("P(>|z|) χ²"), "P($>|$z$|$) $\\chi^2$");
    assert!(got.ends_with("\\hline\n\\end{tabular}\n"));
}

#[test]
fn documents_render_every_block() {
    let mut doc = Document::default();
    doc.push(Block::Heading("Title".into()));
    doc.push(Block::Code {
        indent: 1,
        text: "y ~ 1 + (1 | g)".into(),
    });
    doc.push(Block::Blank);
    doc.push(Block::KeyValue {
        indent: 2,
        key: "Deviance".into(),
        value: Cell::Number(1.5, NumberFormat::Fixed(4)),
    });
    doc.push(Block::RichOnly(Box::new(Block::Line {
        indent: 0,
        text: "rich".into(),
    })));
    assert_eq!(
        doc.render(Format::Text),
        "Title\n y ~ 1 + (1 | g)\n\n  Deviance: 1.5000\n"
    );
    assert_eq!(
        doc.render(Format::Markdown),
        "**Title**\n\n`y ~ 1 + (1 | g)`\n\nDeviance: 1.5000\n\nrich\n"
    );
    let html = doc.render(Format::Html);
    assert!(html.contains("<p><code>y ~ 1 + (1 | g)</code></p>") && html.contains("<p>rich</p>"));
    let tex = doc.render(Format::Latex);
    assert!(tex.contains("\\texttt{y \\textasciitilde{} 1 + (1 $|$ g)}"));
}

#[test]
fn formats_by_name() {
    assert_eq!(Format::from_name("HTML").unwrap(), Format::Html);
    assert_eq!(Format::from_name("markdown").unwrap(), Format::Markdown);
    assert_eq!(Format::from_name("Latex").unwrap(), Format::Latex);
    assert_eq!(Format::from_name("text").unwrap(), Format::Text);
    for bad in ["rtf", "md", ""] {
        let err = Format::from_name(bad).unwrap_err();
        assert!(err.to_string().contains("unknown format"), "{err}");
    }
}

#[test]
fn varcorr_table_has_one_correlation_column_per_lower_column() {
    use crate::lmm::{VarCorr, VarCorrTerm};
    let v = 3;
    let mut correlation = vec![None; v * v];
    correlation[1] = Some(0.25); // (1, 0)
    correlation[v + 2] = Some(-0.5); // (2, 1); (2, 0) stays structurally zero
    let vc = VarCorr {
        terms: vec![VarCorrTerm {
            group: "g_1".into(),
            columns: vec!["(Intercept)".into(), "x".into(), "y".into()],
            covariance: vec![4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.25],
            sd: vec![2.0, 1.0, 0.5],
            correlation,
        }],
        residual_sd: None,
    };
    let t = varcorr_table(&vc);
    assert_eq!(t.ncols(), 6);
    assert_eq!(
        t.render(Format::Text),
        "Variance components:\n\
         \x20         Column         Variance    Std.Dev.   Corr.\n\
         g_1       (Intercept)  4.00000000  2.00000000\n\
         \x20         x            1.00000000  1.00000000 +0.25\n\
         \x20         y            0.25000000  0.50000000     . -0.50\n"
    );
    let tex = t.render(Format::Latex);
    assert!(tex.contains("g\\_1 & (Intercept) & 4.00000000 & 2.00000000 &  &  \\\\"));
}

#[test]
fn lrt_table_leaves_the_first_comparison_empty() {
    use crate::inference::likelihood_ratio_test;
    let rows = likelihood_ratio_test(&[(1775.4759, 5, 180), (1751.9393, 6, 180)]).unwrap();
    let labels = vec!["m0".to_string(), "m1".to_string()];
    let t = lrt_table(&labels, &rows);
    assert_eq!(t.rows[0][3], Cell::Empty);
    assert_eq!(t.rows[1][4], Cell::Integer(1));
    let text = t.render(Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Likelihood-ratio tests:");
    assert_eq!(
        lines[2],
        "model  model-dof  -2 logLik       χ²  χ²-dof  P(>χ²)"
    );
    assert_eq!(lines[4], "m0             5  1775.4759");
    assert_eq!(
        lines[5],
        "m1             6  1751.9393  23.5366       1   <1e-5"
    );
    assert_eq!(lines[1], "─".repeat(lines[2].chars().count()));
    assert_eq!(lines[1], lines[3]);
}
