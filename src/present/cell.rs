//! Typed table cells and the number formats of the printed summaries.

/// How a number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFormat {
    /// A fixed number of decimals (`{:.d}`).
    Fixed(usize),
    /// A fixed number of decimals with an explicit sign (`{:+.d}`), for correlations.
    Signed(usize),
    /// Rounded to this many significant digits, trailing zeros dropped
    /// (Julia's `round(x, sigdigits = d)`).
    Significant(usize),
    /// A p-value as StatsBase prints it: 4 decimals, or `<1e-k`.
    PValue,
    /// The shortest text that reads back as the same `f64` (Rust's `{}`).
    Shortest,
}

/// One cell of a table (or the value of a key–value row).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text, shown as given.
    Text(String),
    /// A number and how to write it.
    Number(f64, NumberFormat),
    /// A whole number.
    Integer(i64),
}

impl Cell {
    /// A text cell.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// Is this a number (aligned right in every rendering)?
    pub fn is_numeric(&self) -> bool {
        matches!(self, Cell::Number(..) | Cell::Integer(_))
    }

    /// The cell written out (before any escaping of a target format).
    pub fn render(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Integer(i) => i.to_string(),
            Cell::Number(x, NumberFormat::Fixed(d)) => format!("{x:.d$}"),
            Cell::Number(x, NumberFormat::Signed(d)) => format!("{x:+.d$}"),
            Cell::Number(x, NumberFormat::Significant(d)) => significant(*x, *d),
            Cell::Number(x, NumberFormat::PValue) => pvalue(*x),
            Cell::Number(x, NumberFormat::Shortest) => format!("{x}"),
        }
    }
}

/// `x` rounded to `digits` significant digits, printed without exponent
/// where reasonable (Julia's `round(x, sigdigits = digits)`).
pub fn significant(x: f64, digits: usize) -> String {
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

/// A p-value as StatsBase prints it: 4 decimals, or `<1e-k`.
pub fn pvalue(p: f64) -> String {
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

/// One number of decimals for a whole column: enough for `digits`
/// significant digits of its smallest non-zero magnitude (at most 10), so
/// the decimal points line up.
pub fn shared_decimals(values: &[f64], digits: i32) -> usize {
    values
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| (digits - 1 - v.abs().log10().floor() as i32).clamp(0, 10))
        .max()
        .unwrap_or(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvalues_and_significant_digits() {
        assert_eq!(pvalue(0.0), "<1e-99");
        assert_eq!(pvalue(3.2e-12), "<1e-11");
        assert_eq!(pvalue(3.37e-7), "<1e-6");
        assert_eq!(pvalue(0.1505), "0.1505");
        assert_eq!(pvalue(f64::NAN), "NaN");
        assert_eq!(significant(1527.4999999, 6), "1527.5");
        assert_eq!(significant(17.694553, 6), "17.6946");
        assert_eq!(significant(0.0055628, 6), "0.0055628");
        assert_eq!(significant(-1.0354213, 6), "-1.03542");
        assert_eq!(significant(1.5e20, 3), "1.50e20");
    }

    #[test]
    fn cells_render_in_their_format() {
        assert_eq!(Cell::Number(2.5, NumberFormat::Fixed(3)).render(), "2.500");
        assert_eq!(
            Cell::Number(0.07, NumberFormat::Signed(2)).render(),
            "+0.07"
        );
        assert_eq!(
            Cell::Number(-0.5, NumberFormat::Signed(2)).render(),
            "-0.50"
        );
        assert_eq!(Cell::Number(0.1, NumberFormat::Shortest).render(), "0.1");
        assert_eq!(Cell::Integer(-3).render(), "-3");
        assert_eq!(Cell::Empty.render(), "");
        assert!(Cell::Integer(1).is_numeric() && !Cell::text("x").is_numeric());
    }

    #[test]
    fn shared_decimals_follow_the_smallest_entry() {
        // 8 significant digits of 33.6 need 6 decimals; 584.2 alone needs 5.
        assert_eq!(shared_decimals(&[584.249792, 33.633156], 8), 6);
        assert_eq!(shared_decimals(&[584.249792], 8), 5);
        assert_eq!(shared_decimals(&[0.0, f64::NAN], 8), 0);
        assert_eq!(shared_decimals(&[1e-20], 8), 10);
    }
}
