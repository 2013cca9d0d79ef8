//! HTML rendering: `<table class="mm-table">` with `<thead>` and `<tbody>`,
//! every text escaped, numbers right-aligned.

use super::table::{Align, Table};
use super::{Block, Document};

/// Escape `& < > " '` for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn style(align: Align) -> &'static str {
    match align {
        Align::Left => "text-align: left;",
        Align::Right => "text-align: right;",
    }
}

/// The table as one `<table>` element.
pub fn table(t: &Table) -> String {
    let mut out = String::from("<table class=\"mm-table\">\n");
    if let Some(c) = &t.caption {
        out.push_str(&format!("<caption>{}</caption>\n", escape(c)));
    }
    out.push_str("<thead>\n<tr>");
    for c in &t.columns {
        out.push_str(&format!(
            "<th style=\"{}\">{}</th>",
            style(c.align),
            escape(&c.header)
        ));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for r in &t.rows {
        out.push_str("<tr>");
        for (cell, c) in r.iter().zip(&t.columns) {
            let align = if cell.is_numeric() {
                Align::Right
            } else {
                c.align
            };
            out.push_str(&format!(
                "<td style=\"{}\">{}</td>",
                style(align),
                escape(&cell.render())
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn block(b: &Block) -> Option<String> {
    match b {
        Block::Heading(s) => Some(format!("<p><strong>{}</strong></p>\n", escape(s))),
        Block::Line { text, .. } => Some(format!("<p>{}</p>\n", escape(text))),
        Block::Code { text, .. } => Some(format!("<p><code>{}</code></p>\n", escape(text))),
        Block::KeyValue { key, value, .. } => Some(format!(
            "<p>{}: {}</p>\n",
            escape(key),
            escape(&value.render())
        )),
        Block::Table(t) => Some(table(t)),
        Block::Blank => None,
        Block::RichOnly(inner) => block(inner),
    }
}

/// The document as a `<div class="mm-summary">` of paragraphs and tables.
pub fn document(doc: &Document) -> String {
    let mut out = String::from("<div class=\"mm-summary\">\n");
    for b in doc.blocks.iter().filter_map(block) {
        out.push_str(&b);
    }
    out.push_str("</div>\n");
    out
}
