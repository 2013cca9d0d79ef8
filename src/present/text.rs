//! Plain-text rendering: columns padded to a common width, optional rules,
//! the layout of the MixedModels.jl manual.

use super::table::{Align, Table};
use super::{Block, Document};

/// The document as plain text, one line per block line.
pub fn document(doc: &Document) -> String {
    let mut out = String::new();
    for block in &doc.blocks {
        match block {
            Block::Heading(s) => push_line(&mut out, 0, s),
            Block::Line { indent, text } | Block::Code { indent, text } => {
                push_line(&mut out, *indent, text)
            }
            Block::KeyValue { indent, key, value } => {
                push_line(&mut out, *indent, &format!("{key}: {}", value.render()))
            }
            Block::Table(t) => out.push_str(&table(t)),
            Block::Blank => out.push('\n'),
            Block::RichOnly(_) => {}
        }
    }
    out
}

fn push_line(out: &mut String, indent: usize, s: &str) {
    out.extend(std::iter::repeat_n(' ', indent));
    out.push_str(s);
    out.push('\n');
}

fn pad(s: &str, width: usize, align: Align) -> String {
    match align {
        Align::Left => format!("{s:<width$}"),
        Align::Right => format!("{s:>width$}"),
    }
}

/// The table as plain text: caption line, header, rows; every line ends in
/// a newline. Trailing empty cells of a line are left out.
pub fn table(t: &Table) -> String {
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.render()).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(k, col)| {
            let header = if col.text.header_gap.is_some() {
                0
            } else {
                col.header.chars().count()
            };
            cells
                .iter()
                .map(|r| r[k].chars().count())
                .fold(col.text.min_width.max(header), usize::max)
        })
        .collect();
    let line = |row: &[String], header: bool| {
        let used = row.iter().rposition(|s| !s.is_empty()).map_or(0, |i| i + 1);
        let mut s = String::new();
        for (k, (cell, col)) in row.iter().zip(&t.columns).enumerate().take(used) {
            match col.text.header_gap {
                Some(g) if header => {
                    s.extend(std::iter::repeat_n(' ', g));
                    s.push_str(cell);
                }
                _ => {
                    if k > 0 {
                        s.extend(std::iter::repeat_n(' ', col.text.gap));
                    }
                    s.push_str(&pad(cell, widths[k], col.align));
                }
            }
        }
        s.push('\n');
        s
    };
    let mut out = String::new();
    if let Some(c) = &t.caption {
        push_line(&mut out, t.style.caption_indent, &format!("{c}:"));
    }
    let total =
        widths.iter().sum::<usize>() + t.columns.iter().skip(1).map(|c| c.text.gap).sum::<usize>();
    let rule = format!("{}\n", "─".repeat(total));
    if t.style.ruled {
        out.push_str(&rule);
    }
    let headers: Vec<String> = t.columns.iter().map(|c| c.header.clone()).collect();
    out.push_str(&line(&headers, true));
    if t.style.ruled {
        out.push_str(&rule);
    }
    for row in &cells {
        out.push_str(&line(row, false));
    }
    if t.style.ruled {
        out.push_str(&rule);
    }
    out
}
