//! LaTeX rendering: `tabular` environments with `\hline` rules; text escaped
//! for LaTeX, Greek letters in math mode.

use super::table::{Align, Table};
use super::{Block, Document};

/// Greek letters (and a few symbols) and their math-mode commands.
const MATH: &[(char, &str)] = &[
    ('α', "\\alpha"),
    ('β', "\\beta"),
    ('γ', "\\gamma"),
    ('δ', "\\delta"),
    ('ε', "\\varepsilon"),
    ('η', "\\eta"),
    ('θ', "\\theta"),
    ('λ', "\\lambda"),
    ('μ', "\\mu"),
    ('ν', "\\nu"),
    ('π', "\\pi"),
    ('ρ', "\\rho"),
    ('σ', "\\sigma"),
    ('τ', "\\tau"),
    ('φ', "\\phi"),
    ('χ', "\\chi"),
    ('ψ', "\\psi"),
    ('ω', "\\omega"),
    ('Λ', "\\Lambda"),
    ('Σ', "\\Sigma"),
    ('Θ', "\\Theta"),
    ('²', "^2"),
    ('−', "-"),
    ('·', "\\cdot"),
    ('×', "\\times"),
    ('<', "<"),
    ('>', ">"),
    ('|', "|"),
];

/// Escape text for LaTeX: `\ & % $ # _ { } ~ ^` as commands; Greek letters,
/// `< > |` and a few symbols in math mode, one `$…$` per run of them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut in_math = false;
    for ch in s.chars() {
        if let Some((_, cmd)) = MATH.iter().find(|(c, _)| *c == ch) {
            if !in_math {
                out.push('$');
                in_math = true;
            }
            out.push_str(cmd);
            continue;
        }
        if in_math {
            out.push('$');
            in_math = false;
        }
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(ch),
        }
    }
    if in_math {
        out.push('$');
    }
    out
}

/// The table as a `tabular` (caption in bold above it).
pub fn table(t: &Table) -> String {
    let mut out = String::new();
    if let Some(c) = &t.caption {
        out.push_str(&format!("\\noindent\\textbf{{{}}}\\\\\n", escape(c)));
    }
    let spec: String = t
        .columns
        .iter()
        .map(|c| match c.align {
            Align::Left => 'l',
            Align::Right => 'r',
        })
        .collect();
    out.push_str(&format!("\\begin{{tabular}}{{{spec}}}\n\\hline\n"));
    let row = |cells: Vec<String>| format!("{} \\\\\n", cells.join(" & "));
    out.push_str(&row(t.columns.iter().map(|c| escape(&c.header)).collect()));
    out.push_str("\\hline\n");
    for r in &t.rows {
        out.push_str(&row(r.iter().map(|c| escape(&c.render())).collect()));
    }
    out.push_str("\\hline\n\\end{tabular}\n");
    out
}

fn block(b: &Block) -> Option<String> {
    match b {
        Block::Heading(s) => Some(format!("\\noindent\\textbf{{{}}}\\par\n", escape(s))),
        Block::Line { text, .. } => Some(format!("\\noindent {}\\par\n", escape(text))),
        Block::Code { text, .. } => Some(format!("\\noindent\\texttt{{{}}}\\par\n", escape(text))),
        Block::KeyValue { key, value, .. } => Some(format!(
            "\\noindent {}: {}\\par\n",
            escape(key),
            escape(&value.render())
        )),
        Block::Table(t) => Some(format!("\\medskip\n{}\\par\\medskip\n", table(t))),
        Block::Blank => None,
        Block::RichOnly(inner) => block(inner),
    }
}

/// The document as a LaTeX fragment (paragraphs and `tabular`s; no preamble).
pub fn document(doc: &Document) -> String {
    doc.blocks.iter().filter_map(block).collect()
}
