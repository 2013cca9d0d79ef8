//! Recursive-descent parser from tokens to [`Formula`].
//!
//! Two grammars share the token stream:
//!
//! ```text
//! formula := asum '~' sum
//! ```
//!
//! Formula mode (the right-hand side and random-effects terms), loosest
//! binding first:
//!
//! ```text
//! sum     := ['-'] product (('+' | '-') ['-'] product)*
//! product := inter (('*' | '/') inter)*
//! inter   := power ((':' | '&') power)*
//! power   := primary ('^' primary)*
//! primary := name | number | call | '(' sum [('|' | '||') sum] ')'
//! ```
//!
//! Arithmetic mode (the response, as R evaluates a formula's left-hand side,
//! and the arguments of `I`, `log`, ..., `offset`, `fulldummy`, `cbind`),
//! where `+ - * / ^` are arithmetic and `^` binds tighter than unary minus:
//!
//! ```text
//! asum     := aproduct (('+' | '-') aproduct)*
//! aproduct := aunary (('*' | '/') aunary)*
//! aunary   := '-' aunary | apower
//! apower   := aprimary ['^' aunary]
//! aprimary := name | number | name '(' asum ')' | cbind | '(' asum ')'
//! cbind    := 'cbind' '(' asum ',' asum ')'
//! ```
//!
//! `cbind(successes, failures)` (lme4's two-column binomial response) is
//! parsed wherever a call may appear; the expansion accepts it only as the
//! whole response.
//!
//! Recursion depth is bounded by [`MAX_DEPTH`] so that hostile input cannot
//! overflow the stack.

use super::ast::{BinOp, Expr, ExprKind, Formula};
use super::lexer::{tokenize, Tok, Token};
use super::FormulaError;

/// Deepest nesting of parentheses, calls, unary minus and exponents accepted.
pub(crate) const MAX_DEPTH: usize = 200;

/// Functions of numeric columns, plus the identity wrapper `I`.
const ARITH_FUNCS: [&str; 7] = ["log", "log1p", "exp", "sqrt", "abs", "abs2", "I"];

/// The message for a `,` in the response outside `cbind(...)`.
const RESPONSE_COMMA: &str = "unexpected `,` in the response; a two-column binomial response is \
                              written `cbind(successes, failures)`";

/// Parses `src` into a syntax tree without applying any term algebra.
///
/// # Errors
///
/// Returns a [`FormulaError`] pointing at the offending character when the
/// text is not syntactically a formula.
pub fn parse(src: &str) -> Result<Formula, FormulaError> {
    let chars: Vec<char> = src.chars().collect();
    let tokens = tokenize(&chars, src)?;
    let mut parser = Parser {
        chars: &chars,
        src,
        tokens,
        pos: 0,
        depth: 0,
        calls: Vec::new(),
    };
    parser.formula()
}

type PResult<T> = Result<T, FormulaError>;

struct Parser<'a> {
    chars: &'a [char],
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Function calls being parsed, innermost last; named in messages.
    calls: Vec<String>,
}

fn binary(op: BinOp, op_pos: usize, lhs: Expr, rhs: Expr) -> Expr {
    let (start, end) = (lhs.span.start, rhs.span.end);
    let kind = ExprKind::Binary {
        op,
        op_pos,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    };
    Expr::new(kind, start, end)
}

fn unknown_function(name: &str) -> String {
    format!(
        "unknown function `{name}`; available functions are log, log1p, exp, sqrt, abs, \
         abs2, I, offset, fulldummy, zerocorr and cbind (the two-column response of a \
         binomial model)"
    )
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>, position: usize) -> FormulaError {
        FormulaError::new(message, position, self.src)
    }

    fn found(&self) -> String {
        self.peek().describe(self.chars)
    }

    /// "after `+`, " when there is a previous token, for "expected" messages.
    fn after_previous(&self) -> String {
        match self.pos.checked_sub(1) {
            Some(i) => format!(" after {}", self.tokens[i].describe(self.chars)),
            None => String::new(),
        }
    }

    fn enter(&mut self, position: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                format!("formula is nested too deeply (more than {MAX_DEPTH} levels)"),
                position,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn formula(&mut self) -> PResult<Formula> {
        if self.peek().tok == Tok::End {
            return Err(self.error("empty formula", 0));
        }
        if !self.tokens.iter().any(|t| t.tok == Tok::Tilde) {
            return Err(self.error(
                "a formula needs `~` between the response and the terms, as in `y ~ 1 + x`",
                0,
            ));
        }
        if self.peek().tok == Tok::Tilde {
            return Err(self.error(
                "missing response: write the response column before `~`, as in `y ~ x`",
                self.peek().start,
            ));
        }
        let response = self.response()?;
        self.bump();
        if self.peek().tok == Tok::End {
            return Err(self.error("expected terms after `~`", self.peek().start));
        }
        let rhs = self.sum()?;
        if self.peek().tok != Tok::End {
            return Err(self.stray(None));
        }
        Ok(Formula {
            response,
            rhs,
            source: self.src.to_string(),
        })
    }

    /// The response: an arithmetic expression of columns, as R evaluates a
    /// formula's left-hand side (`y`, `log(y)`, `incidence / size`,
    /// `cbind(incidence, size - incidence)`), followed by `~`.
    fn response(&mut self) -> PResult<Expr> {
        let response = self.arith_sum()?;
        let t = self.peek();
        let message = match t.tok {
            Tok::Tilde => return Ok(response),
            Tok::RParen => "unmatched `)`".to_string(),
            Tok::Colon | Tok::Amp => format!(
                "{} is not an arithmetic operator: interactions are not allowed in the response",
                self.found()
            ),
            Tok::Bar | Tok::DoubleBar => {
                "random-effects terms are not allowed in the response".to_string()
            }
            Tok::Comma => RESPONSE_COMMA.to_string(),
            _ => format!(
                "expected `~` or an arithmetic operator after the response, found {}",
                self.found()
            ),
        };
        Err(self.error(message, t.start))
    }

    /// The error for a token that cannot follow a complete operand.
    /// `open` is the position of the enclosing `(`, if any.
    fn stray(&self, open: Option<usize>) -> FormulaError {
        let t = self.peek();
        let message = match (&t.tok, open) {
            (Tok::End, Some(o)) => return self.error("unclosed `(`", o),
            (Tok::RParen, None) => "unmatched `)`".to_string(),
            (Tok::Bar | Tok::DoubleBar, None) => {
                "`|` outside parentheses: write random-effects terms as `(expr | group)`"
                    .to_string()
            }
            (Tok::Tilde, _) => "unexpected `~`: a formula has exactly one `~`".to_string(),
            (Tok::Comma, _) => "unexpected `,`: functions take a single argument".to_string(),
            _ => format!(
                "expected an operator such as `+` between terms, found {}",
                self.found()
            ),
        };
        self.error(message, t.start)
    }

    /// `sum := ['-'] product (('+' | '-') ['-'] product)*`, built left-deep.
    fn sum(&mut self) -> PResult<Expr> {
        let mut lhs = self.signed_product()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let op_pos = self.bump().start;
            let rhs = self.signed_product()?;
            lhs = binary(op, op_pos, lhs, rhs);
        }
    }

    /// A product optionally preceded by one `-` (term removal, as in `-1`).
    fn signed_product(&mut self) -> PResult<Expr> {
        if self.peek().tok != Tok::Minus {
            return self.product();
        }
        let start = self.bump().start;
        let operand = self.product()?;
        let end = operand.span.end;
        Ok(Expr::new(ExprKind::Neg(Box::new(operand)), start, end))
    }

    fn product(&mut self) -> PResult<Expr> {
        let mut lhs = self.inter()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(lhs),
            };
            let op_pos = self.bump().start;
            let rhs = self.inter()?;
            lhs = binary(op, op_pos, lhs, rhs);
        }
    }

    fn inter(&mut self) -> PResult<Expr> {
        let mut lhs = self.power()?;
        while matches!(self.peek().tok, Tok::Colon | Tok::Amp) {
            let op_pos = self.bump().start;
            let rhs = self.power()?;
            lhs = binary(BinOp::Interact, op_pos, lhs, rhs);
        }
        Ok(lhs)
    }

    fn power(&mut self) -> PResult<Expr> {
        let mut lhs = self.primary()?;
        while self.peek().tok == Tok::Caret {
            let op_pos = self.bump().start;
            let rhs = self.primary()?;
            lhs = binary(BinOp::Pow, op_pos, lhs, rhs);
        }
        Ok(lhs)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let leaf = |kind| Ok(Expr::new(kind, t.start, t.end));
        match t.tok {
            Tok::Ident(name) => {
                self.bump();
                if self.peek().tok == Tok::LParen {
                    self.call(name, t.start)
                } else {
                    leaf(ExprKind::Variable(name))
                }
            }
            Tok::Quoted(name) => {
                self.bump();
                leaf(ExprKind::Variable(name))
            }
            Tok::Number(v) => {
                self.bump();
                leaf(ExprKind::Number(v))
            }
            Tok::LParen => self.paren_or_random(),
            _ => Err(self.error(
                format!(
                    "expected a term{}, found {}",
                    self.after_previous(),
                    self.found()
                ),
                t.start,
            )),
        }
    }

    /// `'(' sum ')'` or `'(' sum ('|' | '||') sum ')'`.
    fn paren_or_random(&mut self) -> PResult<Expr> {
        let open = self.bump().start;
        self.enter(open)?;
        match self.peek().tok {
            Tok::Bar | Tok::DoubleBar => {
                return Err(self.error(
                    "random-effects term has nothing left of `|`",
                    self.peek().start,
                ))
            }
            Tok::RParen => return Err(self.error("empty parentheses", self.peek().start)),
            Tok::End => return Err(self.error("unclosed `(`", open)),
            _ => {}
        }
        let inner = self.sum()?;
        let result = match self.peek().tok {
            Tok::RParen => {
                let close = self.bump().end;
                Expr::new(ExprKind::Paren(Box::new(inner)), open, close)
            }
            Tok::Bar | Tok::DoubleBar => {
                // The term's span includes its parentheses.
                let (mut random, close) = self.random_rest(inner, open)?;
                random.span.start = open;
                random.span.end = close;
                random
            }
            _ => return Err(self.stray(Some(open))),
        };
        self.leave();
        Ok(result)
    }

    /// Parses `| grouping )` after the effects of a random-effects term;
    /// returns the term (spanning effects..grouping) and the end of `)`.
    fn random_rest(&mut self, effects: Expr, open: usize) -> PResult<(Expr, usize)> {
        let bar = self.bump();
        let double_bar = bar.tok == Tok::DoubleBar;
        if matches!(self.peek().tok, Tok::RParen | Tok::End) {
            return Err(self.error(
                "random-effects term has no grouping factor after `|`",
                self.peek().start,
            ));
        }
        let grouping = self.sum()?;
        match self.peek().tok {
            Tok::RParen => {}
            Tok::Bar | Tok::DoubleBar => {
                return Err(self.error(
                    "a random-effects term can contain only one `|`",
                    self.peek().start,
                ))
            }
            _ => return Err(self.stray(Some(open))),
        }
        let close = self.bump().end;
        let (start, end) = (effects.span.start, grouping.span.end);
        let kind = ExprKind::Random {
            effects: Box::new(effects),
            grouping: Box::new(grouping),
            double_bar,
            bar_pos: bar.start,
        };
        Ok((Expr::new(kind, start, end), close))
    }

    /// A call in formula mode: `zerocorr(... | ...)` or an arithmetic-style
    /// function (`log`, `I`, `offset`, `fulldummy`, ...).
    fn call(&mut self, name: String, start: usize) -> PResult<Expr> {
        if name == "zerocorr" {
            return self.zerocorr_call(start);
        }
        if name == "cbind" {
            return self.cbind_call(start);
        }
        if ARITH_FUNCS.contains(&name.as_str()) || name == "offset" || name == "fulldummy" {
            return self.arith_call(name, start);
        }
        Err(self.error(unknown_function(&name), start))
    }

    fn zerocorr_call(&mut self, start: usize) -> PResult<Expr> {
        let open = self.bump().start;
        self.enter(open)?;
        let needs_bar = "`zerocorr(...)` needs a random-effects term as its argument, as in \
                         `zerocorr(1 + x | g)`";
        match self.peek().tok {
            Tok::Bar | Tok::DoubleBar => {
                return Err(self.error(
                    "random-effects term has nothing left of `|`",
                    self.peek().start,
                ))
            }
            Tok::RParen => return Err(self.error(needs_bar, start)),
            Tok::End => return Err(self.error("unclosed `(` of `zerocorr(`", open)),
            _ => {}
        }
        let effects = self.sum()?;
        match self.peek().tok {
            Tok::Bar | Tok::DoubleBar => {}
            Tok::RParen => return Err(self.error(needs_bar, start)),
            _ => return Err(self.stray(Some(open))),
        }
        let (random, close) = self.random_rest(effects, open)?;
        self.leave();
        let kind = ExprKind::Call {
            name: "zerocorr".to_string(),
            arg: Box::new(random),
        };
        Ok(Expr::new(kind, start, close))
    }

    /// `cbind '(' asum ',' asum ')'`, the current token being `(`.
    fn cbind_call(&mut self, start: usize) -> PResult<Expr> {
        const ARITY: &str = "`cbind(...)` takes exactly two arguments, the successes and the \
                             failures, as in `cbind(incidence, size - incidence)`";
        let open = self.bump().start;
        self.enter(open)?;
        if self.peek().tok == Tok::RParen {
            return Err(self.error(format!("{ARITY}; it has none"), self.peek().start));
        }
        self.calls.push("cbind".to_string());
        let successes = self.arith_sum()?;
        match self.peek().tok {
            Tok::Comma => {
                self.bump();
            }
            Tok::RParen => {
                return Err(self.error(format!("{ARITY}; it has one"), self.peek().start))
            }
            // Not `,` or `)`: reports the unexpected token.
            _ => {
                self.close_arith(open)?;
            }
        }
        let failures = self.arith_sum()?;
        if self.peek().tok == Tok::Comma {
            return Err(self.error(format!("{ARITY}; it has more"), self.peek().start));
        }
        let close = self.close_arith(open)?;
        self.calls.pop();
        self.leave();
        let kind = ExprKind::Cbind {
            successes: Box::new(successes),
            failures: Box::new(failures),
        };
        Ok(Expr::new(kind, start, close))
    }

    /// Where an arithmetic expression is being parsed, for messages:
    /// "`log(...)`" inside a call, else "the response".
    fn context(&self) -> String {
        match self.calls.last() {
            Some(name) => format!("`{name}(...)`"),
            None => "the response".to_string(),
        }
    }

    /// `name '(' asum ')'`, the current token being `(`.
    fn arith_call(&mut self, name: String, start: usize) -> PResult<Expr> {
        let open = self.bump().start;
        self.enter(open)?;
        if self.peek().tok == Tok::RParen {
            return Err(self.error(
                format!("`{name}(...)` needs an argument"),
                self.peek().start,
            ));
        }
        self.calls.push(name);
        let arg = self.arith_sum()?;
        let close = self.close_arith(open)?;
        let name = self.calls.pop().unwrap_or_default();
        self.leave();
        let kind = ExprKind::Call {
            name,
            arg: Box::new(arg),
        };
        Ok(Expr::new(kind, start, close))
    }

    /// Consumes the `)` closing an arithmetic group opened at `open`;
    /// returns the end of `)`.
    fn close_arith(&mut self, open: usize) -> PResult<usize> {
        let within = self.context();
        let t = self.peek();
        let message = match t.tok {
            Tok::RParen => return Ok(self.bump().end),
            Tok::End => return Err(self.error("unclosed `(`", open)),
            Tok::Comma => match self.calls.last().map(String::as_str) {
                None => RESPONSE_COMMA.to_string(),
                Some("cbind") => "unexpected `,` inside parentheses within `cbind(...)`".into(),
                Some(_) => format!("{within} takes exactly one argument"),
            },
            Tok::Bar | Tok::DoubleBar => {
                format!("random-effects terms are not allowed inside {within}")
            }
            Tok::Colon | Tok::Amp => format!(
                "{} is not an arithmetic operator: interactions are not allowed inside {within}",
                self.found()
            ),
            Tok::Tilde => format!("unexpected `~` inside {within}"),
            _ => format!(
                "expected `)` or an arithmetic operator inside {within}, found {}",
                self.found()
            ),
        };
        Err(self.error(message, t.start))
    }

    fn arith_sum(&mut self) -> PResult<Expr> {
        let mut lhs = self.arith_product()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let op_pos = self.bump().start;
            let rhs = self.arith_product()?;
            lhs = binary(op, op_pos, lhs, rhs);
        }
    }

    fn arith_product(&mut self) -> PResult<Expr> {
        let mut lhs = self.arith_unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(lhs),
            };
            let op_pos = self.bump().start;
            let rhs = self.arith_unary()?;
            lhs = binary(op, op_pos, lhs, rhs);
        }
    }

    fn arith_unary(&mut self) -> PResult<Expr> {
        if self.peek().tok != Tok::Minus {
            return self.arith_power();
        }
        let start = self.bump().start;
        self.enter(start)?;
        let operand = self.arith_unary()?;
        self.leave();
        let end = operand.span.end;
        Ok(Expr::new(ExprKind::Neg(Box::new(operand)), start, end))
    }

    /// `apower := aprimary ['^' aunary]`: right-associative, so `2^-1` and
    /// `x^2^3 = x^(2^3)` read as in R.
    fn arith_power(&mut self) -> PResult<Expr> {
        let base = self.arith_primary()?;
        if self.peek().tok != Tok::Caret {
            return Ok(base);
        }
        let op_pos = self.bump().start;
        self.enter(op_pos)?;
        let exponent = self.arith_unary()?;
        self.leave();
        Ok(binary(BinOp::Pow, op_pos, base, exponent))
    }

    fn arith_primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let leaf = |kind| Ok(Expr::new(kind, t.start, t.end));
        match t.tok {
            Tok::Number(v) => {
                self.bump();
                leaf(ExprKind::Number(v))
            }
            Tok::Quoted(name) => {
                self.bump();
                leaf(ExprKind::Variable(name))
            }
            Tok::Ident(name) => {
                self.bump();
                if self.peek().tok != Tok::LParen {
                    return leaf(ExprKind::Variable(name));
                }
                if ARITH_FUNCS.contains(&name.as_str()) {
                    return self.arith_call(name, t.start);
                }
                if name == "cbind" {
                    return self.cbind_call(t.start);
                }
                if matches!(name.as_str(), "offset" | "fulldummy" | "zerocorr") {
                    return Err(self.error(
                        format!("`{name}(...)` cannot be used inside {}", self.context()),
                        t.start,
                    ));
                }
                Err(self.error(unknown_function(&name), t.start))
            }
            Tok::LParen => {
                let open = self.bump().start;
                self.enter(open)?;
                if self.peek().tok == Tok::RParen {
                    return Err(self.error("empty parentheses", self.peek().start));
                }
                let inner = self.arith_sum()?;
                let close = self.close_arith(open)?;
                self.leave();
                Ok(Expr::new(ExprKind::Paren(Box::new(inner)), open, close))
            }
            _ => Err(self.error(
                format!(
                    "expected a number, column or function{}, found {}",
                    self.after_previous(),
                    self.found()
                ),
                t.start,
            )),
        }
    }
}
