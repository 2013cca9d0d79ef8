//! A table value: caption, columns (header, alignment, text layout) and rows
//! of typed cells. Renderers read it; nothing here writes a format.

use super::cell::Cell;

/// Horizontal alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Flush left (names).
    Left,
    /// Flush right (numbers).
    Right,
}

/// How a column is laid out in plain text (the other formats ignore it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLayout {
    /// Spaces before the column (ignored for the first one).
    pub gap: usize,
    /// Minimum width in characters.
    pub min_width: usize,
    /// Spaces before the header instead of `gap`, the header then written
    /// without padding (the "   Corr." of the variance components).
    pub header_gap: Option<usize>,
}

impl Default for TextLayout {
    fn default() -> Self {
        TextLayout {
            gap: 2,
            min_width: 0,
            header_gap: None,
        }
    }
}

/// One column: header, alignment and text layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header text (may be empty).
    pub header: String,
    /// Alignment of header and cells.
    pub align: Align,
    /// Plain-text layout.
    pub text: TextLayout,
}

impl Column {
    /// A column with the default text layout (two spaces before it).
    pub fn new(header: impl Into<String>, align: Align) -> Column {
        Column {
            header: header.into(),
            align,
            text: TextLayout::default(),
        }
    }

    /// The same column with `gap` spaces before it in plain text.
    pub fn gap(mut self, gap: usize) -> Column {
        self.text.gap = gap;
        self
    }

    /// The same column at least `width` characters wide in plain text.
    pub fn min_width(mut self, width: usize) -> Column {
        self.text.min_width = width;
        self
    }

    /// The same column with its header after `gap` spaces, unpadded, in plain text.
    pub fn header_gap(mut self, gap: usize) -> Column {
        self.text.header_gap = Some(gap);
        self
    }
}

/// Plain-text style of a whole table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextStyle {
    /// Horizontal rules (`─`) above and below the header and below the rows.
    pub ruled: bool,
    /// Spaces before the caption line.
    pub caption_indent: usize,
}

/// A table: optional caption, columns, rows of cells (one per column).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Caption, without trailing colon (the text rendering adds one).
    pub caption: Option<String>,
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Plain-text style.
    pub style: TextStyle,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            caption: None,
            columns,
            rows: Vec::new(),
            style: TextStyle::default(),
        }
    }

    /// The same table with a caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Table {
        self.caption = Some(caption.into());
        self
    }

    /// Append a row, padded with empty cells (or cut) to the number of columns.
    pub fn push_row(&mut self, mut row: Vec<Cell>) {
        row.resize(self.columns.len(), Cell::Empty);
        self.rows.push(row);
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.columns.len()
    }
}
