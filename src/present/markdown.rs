//! Markdown rendering: pipe tables with an alignment row; blocks as
//! paragraphs.

use super::table::{Align, Table};
use super::{Block, Document};

/// Backslash-escape the characters Markdown would read as markup.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '|' | '<' | '>' | '[' | ']' | '#'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The table as a pipe table, preceded by its caption in bold.
pub fn table(t: &Table) -> String {
    let mut out = String::new();
    if let Some(c) = &t.caption {
        out.push_str(&format!("**{}**\n\n", escape(c)));
    }
    let row = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    out.push_str(&row(t.columns.iter().map(|c| escape(&c.header)).collect()));
    let rule: Vec<&str> = t
        .columns
        .iter()
        .map(|c| match c.align {
            Align::Left => ":--",
            Align::Right => "--:",
        })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for r in &t.rows {
        out.push_str(&row(r.iter().map(|c| escape(&c.render())).collect()));
    }
    out
}

fn block(b: &Block) -> Option<String> {
    match b {
        Block::Heading(s) => Some(format!("**{}**\n", escape(s))),
        Block::Line { text, .. } => Some(format!("{}\n", escape(text))),
        Block::Code { text, .. } => Some(format!("`{}`\n", text.replace('`', "'"))),
        Block::KeyValue { key, value, .. } => {
            Some(format!("{}: {}\n", escape(key), escape(&value.render())))
        }
        Block::Table(t) => Some(table(t)),
        Block::Blank => None,
        Block::RichOnly(inner) => block(inner),
    }
}

/// The document as Markdown: one paragraph (or table) per block.
pub fn document(doc: &Document) -> String {
    doc.blocks
        .iter()
        .filter_map(block)
        .collect::<Vec<_>>()
        .join("\n")
}
