//! Tokeniser: turns formula text into tokens carrying character positions.

use super::FormulaError;

/// The kinds of token a formula is made of.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare identifier such as `IQ.verb` or `log`.
    Ident(String),
    /// A backtick-quoted column name; never treated as a function name.
    Quoted(String),
    /// A numeric literal such as `2`, `0.5` or `1e-3`.
    Number(f64),
    Tilde,
    Plus,
    Minus,
    Star,
    /// `^`, or its synonym `**`.
    Caret,
    Slash,
    Colon,
    Amp,
    Bar,
    DoubleBar,
    LParen,
    RParen,
    Comma,
    /// End of input; always the last token.
    End,
}

/// A token and the half-open character range it covers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// Describes the token for error messages, e.g. "`+`" or "name `x`".
    pub fn describe(&self, chars: &[char]) -> String {
        let text: String = chars[self.start..self.end].iter().collect();
        match &self.tok {
            Tok::Ident(name) | Tok::Quoted(name) => format!("name `{name}`"),
            Tok::Number(_) => format!("number `{text}`"),
            Tok::End => "end of formula".to_string(),
            _ => format!("`{text}`"),
        }
    }
}

/// Whether `c` may continue an identifier.
fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// Splits `chars` (the characters of `src`) into tokens, ending with `End`.
pub(crate) fn tokenize(chars: &[char], src: &str) -> Result<Vec<Token>, FormulaError> {
    let err = |msg: String, pos: usize| FormulaError::new(msg, pos, src);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let (tok, len) = match c {
            '~' => (Tok::Tilde, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' if next == Some('*') => (Tok::Caret, 2),
            '*' => (Tok::Star, 1),
            '^' => (Tok::Caret, 1),
            '/' => (Tok::Slash, 1),
            ':' => (Tok::Colon, 1),
            '&' => (Tok::Amp, 1),
            '|' if next == Some('|') => (Tok::DoubleBar, 2),
            '|' => (Tok::Bar, 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '`' => {
                let close = chars[i + 1..].iter().position(|&d| d == '`');
                let Some(len) = close else {
                    return Err(err("unclosed backtick-quoted name".into(), i));
                };
                if len == 0 {
                    return Err(err("empty backtick-quoted name".into(), i));
                }
                let name: String = chars[i + 1..i + 1 + len].iter().collect();
                (Tok::Quoted(name), len + 2)
            }
            _ if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) => {
                let (value, len) = lex_number(chars, i, src)?;
                (Tok::Number(value), len)
            }
            _ if c.is_alphabetic() || c == '_' || c == '.' => {
                let len = chars[i..].iter().take_while(|&&d| is_ident_char(d)).count();
                let name: String = chars[i..i + len].iter().collect();
                if name == "." {
                    return Err(err(
                        "`.` (all remaining columns) is not supported; list the terms".into(),
                        i,
                    ));
                }
                (Tok::Ident(name), len)
            }
            _ => return Err(err(format!("unexpected character `{c}`"), i)),
        };
        i += len;
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::End,
        start: chars.len(),
        end: chars.len(),
    });
    Ok(out)
}

/// Reads a numeric literal starting at `start`; returns its value and length.
///
/// Accepts `12`, `1.5`, `.5`, `2.`, `1e-3`, `3E+2`. A literal running straight
/// into a name (`2x`) or an exponent without digits (`1e`) is an error.
fn lex_number(chars: &[char], start: usize, src: &str) -> Result<(f64, usize), FormulaError> {
    let digits = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut i = start + digits(start);
    if chars.get(i) == Some(&'.') {
        i += 1;
        i += digits(i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        let n = digits(j);
        if n == 0 {
            let text: String = chars[start..j].iter().collect();
            return Err(FormulaError::new(
                format!("malformed number `{text}`: the exponent has no digits"),
                start,
                src,
            ));
        }
        i = j + n;
    }
    if chars.get(i).is_some_and(|&c| is_ident_char(c)) {
        let end = i + chars[i..].iter().take_while(|&&c| is_ident_char(c)).count();
        let text: String = chars[start..end].iter().collect();
        return Err(FormulaError::new(
            format!("malformed number `{text}` (names cannot start with a digit; quote them with backticks)"),
            start,
            src,
        ));
    }
    let text: String = chars[start..i].iter().collect();
    let value = text
        .parse::<f64>()
        .map_err(|_| FormulaError::new(format!("malformed number `{text}`"), start, src))?;
    Ok((value, i - start))
}

#[cfg(test)]
mod unit {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        let chars: Vec<char> = s.chars().collect();
        tokenize(&chars, s)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn lexes_operators_names_and_numbers() {
        use Tok::*;
        assert_eq!(
            kinds("y~a**2||`b c`.5 1e-3 x.1"),
            vec![
                Ident("y".into()),
                Tilde,
                Ident("a".into()),
                Caret,
                Number(2.0),
                DoubleBar,
                Quoted("b c".into()),
                Number(0.5),
                Number(1e-3),
                Ident("x.1".into()),
                End
            ]
        );
    }

    #[test]
    fn rejects_malformed_numbers() {
        for (s, pos) in [("y ~ 1e", 4), ("y ~ 2x", 4), ("y ~ 1.5e+", 4)] {
            let chars: Vec<char> = s.chars().collect();
            let e = tokenize(&chars, s).unwrap_err();
            assert_eq!(e.position, pos, "{s}");
            assert!(e.message.contains("malformed number"), "{}", e.message);
        }
    }
}
