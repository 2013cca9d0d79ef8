//! Syntax tree of a formula, as written (before any term algebra).
//!
//! Every node records the character span it was parsed from so that the
//! expansion stage can report errors at the right place and can label
//! function terms with their source text.

/// A half-open range `start..end` of character indices into the formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Index of the first character of the node.
    pub start: usize,
    /// Index one past the last character of the node.
    pub end: usize,
}

/// Binary operators. Their meaning depends on context: inside `I(...)` and
/// function arguments they are arithmetic; elsewhere they are R's term
/// operators (`+` union, `-` removal, `*` crossing, `/` nesting, `^` crossing
/// up to a degree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^` or `**`
    Pow,
    /// `:` or `&` (interaction; not valid in arithmetic)
    Interact,
}

/// The shape of an expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A column name, bare or backtick-quoted.
    Variable(String),
    /// A numeric literal.
    Number(f64),
    /// `name(arg)`: an arithmetic function, `I`, `offset`, `fulldummy` or
    /// `zerocorr` (whose argument is always a [`ExprKind::Random`]); the one
    /// call with two arguments, `cbind`, is [`ExprKind::Cbind`].
    Call {
        /// The function name as written.
        name: String,
        /// The single argument.
        arg: Box<Expr>,
    },
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Character index of the operator, for error messages.
        op_pos: usize,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// Unary minus: negation in arithmetic, term removal in a formula.
    Neg(Box<Expr>),
    /// `( inner )` without a bar.
    Paren(Box<Expr>),
    /// `cbind(successes, failures)`: lme4's two-column binomial response.
    /// Both arguments are arithmetic; the expansion accepts it only as the
    /// whole response.
    Cbind {
        /// Numbers of successes.
        successes: Box<Expr>,
        /// Numbers of failures.
        failures: Box<Expr>,
    },
    /// `(effects | grouping)` or `(effects || grouping)`.
    Random {
        /// The sub-formula left of the bar.
        effects: Box<Expr>,
        /// The grouping expression right of the bar.
        grouping: Box<Expr>,
        /// `||`: one uncorrelated random term per effects term.
        double_bar: bool,
        /// Character index of the bar.
        bar_pos: usize,
    },
}

/// An expression node together with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

impl Expr {
    /// Builds a node covering `start..end`.
    pub fn new(kind: ExprKind, start: usize, end: usize) -> Self {
        Expr {
            kind,
            span: Span { start, end },
        }
    }

    /// Strips any number of enclosing parentheses.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let ExprKind::Paren(inner) = &e.kind {
            e = inner;
        }
        e
    }
}

/// A parsed formula `response ~ rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The left-hand side.
    pub response: Expr,
    /// The right-hand side.
    pub rhs: Expr,
    /// The formula text the spans refer to.
    pub source: String,
}

impl Formula {
    /// Source text of `span` with whitespace removed (except inside
    /// backtick-quoted names, where spaces are part of the name).
    pub fn compact_text(&self, span: Span) -> String {
        let mut quoted = false;
        let mut out = String::new();
        for c in self
            .source
            .chars()
            .skip(span.start)
            .take(span.end - span.start)
        {
            if c == '`' {
                quoted = !quoted;
            }
            if quoted || !c.is_whitespace() {
                out.push(c);
            }
        }
        out
    }
}
