//! Expansion of a parsed formula into a [`ModelSpec`].
//!
//! The right-hand side is read as a sum of operands. Random-effects terms,
//! `zerocorr(...)` terms and `offset(...)` must be operands of that top-level
//! sum; everything else is evaluated with R's term algebra
//! ([`TermList`]) into the fixed-effects part. Each random-effects term's
//! left side is a sub-formula of its own, with its own intercept.

use super::algebra::{TermList, MAX_TERMS};
use super::ast::{BinOp, Expr, ExprKind, Formula};
use super::numexpr::{ArithOp, Func, NumExpr};
use super::parser::parse;
use super::spec::{Atom, CbindSpec, ModelSpec, RandomSpec, ResponseSpec, Term, TermsSpec};
use super::FormulaError;

/// Parses and expands `src` into a symbolic model specification.
///
/// # Errors
///
/// Returns a [`FormulaError`] pointing at the offending character when the
/// text is not a valid formula or uses a construct where it is not allowed
/// (e.g. `fulldummy` outside a random-effects term).
pub fn parse_formula(src: &str) -> Result<ModelSpec, FormulaError> {
    let formula = parse(src)?;
    Expander { formula: &formula }.model()
}

type EResult<T> = Result<T, FormulaError>;

/// Which sub-formula a term belongs to; some constructs are legal in only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Fixed,
    RandomEffects,
}

struct Expander<'f> {
    formula: &'f Formula,
}

/// The operands of a chain of `+` and `-`, each with whether it is removed.
/// Walks the left spine iteratively: long sums must not deepen the stack.
fn flatten_sum(expr: &Expr) -> Vec<(bool, &Expr)> {
    let mut reversed = Vec::new();
    let mut e = expr;
    while let ExprKind::Binary {
        op: op @ (BinOp::Add | BinOp::Sub),
        lhs,
        rhs,
        ..
    } = &e.kind
    {
        reversed.push((*op == BinOp::Sub, rhs.as_ref()));
        e = lhs;
    }
    reversed.push((false, e));
    reversed
        .into_iter()
        .rev()
        .map(|(removed, e)| match &e.kind {
            ExprKind::Neg(inner) => (!removed, inner.as_ref()),
            _ => (removed, e),
        })
        .collect()
}

/// Operands of the top-level sum, looking through parentheses that are added
/// (so `y ~ (x + (1 | g))` finds the random-effects term).
fn top_level_operands<'e>(expr: &'e Expr, out: &mut Vec<(bool, &'e Expr)>) {
    for (removed, e) in flatten_sum(expr) {
        match &e.kind {
            ExprKind::Paren(inner) if !removed => top_level_operands(inner, out),
            _ => out.push((removed, e)),
        }
    }
}

/// Drops grouping lists that repeat an earlier one (compared as sets).
fn dedupe_groupings(groups: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for g in groups {
        let same = |h: &Vec<String>| h.len() == g.len() && g.iter().all(|n| h.contains(n));
        if !out.iter().any(same) {
            out.push(g);
        }
    }
    out
}

/// `a` followed by the names of `b` that are not already in `a`.
fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|n| !a.contains(n)).cloned());
    out
}

fn op_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Pow => "^",
        BinOp::Interact => "&",
    }
}

impl Expander<'_> {
    fn error(&self, message: impl Into<String>, position: usize) -> FormulaError {
        FormulaError::new(message, position, &self.formula.source)
    }

    fn model(&self) -> EResult<ModelSpec> {
        let response = self.response(&self.formula.response)?;
        let mut fixed = TermList::default();
        let mut random = Vec::new();
        let mut offsets = Vec::new();
        let mut operands = Vec::new();
        top_level_operands(&self.formula.rhs, &mut operands);
        for (removed, operand) in operands {
            // Added parentheses were looked through already; removed ones
            // are looked through here so `-(1 | g)` gets the clear message.
            let special = match &operand.unparen().kind {
                ExprKind::Random { .. } => Some("a random-effects term"),
                ExprKind::Call { name, .. } if name == "zerocorr" => Some("a `zerocorr` term"),
                ExprKind::Call { name, .. } if name == "offset" => Some("an offset"),
                _ => None,
            };
            if let (true, Some(what)) = (removed, special) {
                let message = format!("{what} cannot be removed with `-`");
                return Err(self.error(message, operand.span.start));
            }
            match &operand.kind {
                ExprKind::Random { .. } => random.extend(self.random(operand, false)?),
                ExprKind::Call { name, arg } if name == "zerocorr" => {
                    random.extend(self.random(arg, true)?);
                }
                ExprKind::Call { name, arg } if name == "offset" => {
                    offsets.push(self.numeric(arg)?);
                }
                _ => {
                    let terms = self.terms(operand, Part::Fixed)?;
                    fixed = if removed {
                        fixed.subtract(terms)
                    } else {
                        fixed.add(terms)
                    };
                }
            }
        }
        Ok(ModelSpec {
            response,
            fixed: fixed.finish(),
            random,
            offsets,
            source: self.formula.source.clone(),
        })
    }

    /// The left-hand side (parsed in arithmetic mode): a bare column, an
    /// arithmetic expression of columns, or `cbind(successes, failures)`.
    fn response(&self, expr: &Expr) -> EResult<ResponseSpec> {
        let e = expr.unparen();
        let response = match &e.kind {
            ExprKind::Variable(name) => {
                return Ok(ResponseSpec::Single(Atom::Variable(name.clone())))
            }
            ExprKind::Cbind {
                successes,
                failures,
            } => ResponseSpec::Cbind(CbindSpec {
                successes: self.numeric(successes)?,
                failures: self.numeric(failures)?,
                successes_label: self.formula.compact_text(successes.span),
                failures_label: self.formula.compact_text(failures.span),
                label: self.formula.compact_text(e.span),
            }),
            _ => ResponseSpec::Single(self.function_atom(e)?),
        };
        if response.columns().is_empty() {
            return Err(self.error(
                format!(
                    "the response `{}` is a constant; it must use at least one column",
                    response.label()
                ),
                e.span.start,
            ));
        }
        Ok(response)
    }

    /// The error for `cbind(...)` anywhere but as the whole response.
    fn misplaced_cbind(&self, expr: &Expr) -> FormulaError {
        self.error(
            "`cbind(...)` can only be the response of a binomial model, the whole left-hand \
             side as in `cbind(successes, failures) ~ 1 + x`",
            expr.span.start,
        )
    }

    /// `log(x)`, `I(x^2)`, `a / b`, ... as an atom labelled with its source text.
    fn function_atom(&self, call: &Expr) -> EResult<Atom> {
        Ok(Atom::Function {
            expr: self.numeric(call)?,
            label: self.formula.compact_text(call.span),
        })
    }

    /// Evaluates a formula-mode expression to a list of terms.
    fn terms(&self, expr: &Expr, part: Part) -> EResult<TermList> {
        let at = expr.span.start;
        match &expr.kind {
            ExprKind::Variable(name) => Ok(TermList::single(Term::new(vec![Atom::Variable(
                name.clone(),
            )]))),
            ExprKind::Number(v) if *v == 0.0 => Ok(TermList::zero()),
            ExprKind::Number(v) if *v == 1.0 => Ok(TermList::one()),
            ExprKind::Number(_) => Err(self.error(
                format!(
                    "`{}` is not a term: the only numbers allowed here are `0` and `1` \
                     (the intercept); use `I(...)` for arithmetic",
                    self.formula.compact_text(expr.span)
                ),
                at,
            )),
            ExprKind::Call { name, arg } => self.call_term(expr, name, arg, part),
            ExprKind::Binary {
                op,
                op_pos,
                lhs,
                rhs,
            } => {
                let algebra_error = |m: String| self.error(m, *op_pos);
                match op {
                    BinOp::Add | BinOp::Sub => {
                        let mut acc = TermList::default();
                        for (removed, e) in flatten_sum(expr) {
                            let t = self.terms(e, part)?;
                            acc = if removed { acc.subtract(t) } else { acc.add(t) };
                        }
                        Ok(acc)
                    }
                    BinOp::Mul => {
                        let (a, b) = (self.terms(lhs, part)?, self.terms(rhs, part)?);
                        a.cross(b).map_err(algebra_error)
                    }
                    BinOp::Div => {
                        let (a, b) = (self.terms(lhs, part)?, self.terms(rhs, part)?);
                        a.nest(b).map_err(algebra_error)
                    }
                    BinOp::Interact => {
                        let (a, b) = (self.terms(lhs, part)?, self.terms(rhs, part)?);
                        a.interact(b).map_err(algebra_error)
                    }
                    BinOp::Pow => {
                        let n = self.exponent(rhs)?;
                        self.terms(lhs, part)?.power(n).map_err(algebra_error)
                    }
                }
            }
            ExprKind::Neg(inner) => Ok(TermList::default().subtract(self.terms(inner, part)?)),
            ExprKind::Paren(inner) => self.terms(inner, part),
            ExprKind::Cbind { .. } => Err(self.misplaced_cbind(expr)),
            ExprKind::Random { .. } => Err(self.error(
                match part {
                    Part::Fixed => {
                        "a random-effects term must be added at the top level of the formula; \
                         it cannot be part of an interaction or other expression"
                    }
                    Part::RandomEffects => {
                        "random-effects term nested inside another random-effects term"
                    }
                },
                at,
            )),
        }
    }

    /// The `n` of `(a + b + c)^n`: a positive whole number.
    fn exponent(&self, expr: &Expr) -> EResult<usize> {
        match expr.unparen().kind {
            ExprKind::Number(v) if v >= 1.0 && v.fract() == 0.0 => {
                // Powers beyond the number of terms add nothing; the cap only
                // keeps the conversion in range.
                Ok(v.min(1e6) as usize)
            }
            _ => Err(self.error(
                "the exponent of `^` in a formula must be a positive whole number \
                 (crossing up to that degree); for arithmetic use `I(x^2)`",
                expr.span.start,
            )),
        }
    }

    fn call_term(&self, expr: &Expr, name: &str, arg: &Expr, part: Part) -> EResult<TermList> {
        let at = expr.span.start;
        let message = match (name, part) {
            ("zerocorr", Part::Fixed) => {
                "`zerocorr(...)` must be added at the top level of the formula"
            }
            ("zerocorr", Part::RandomEffects) => {
                "random-effects term nested inside another random-effects term"
            }
            ("offset", Part::Fixed) => {
                "`offset(...)` must be added at the top level of the formula, not inside a term"
            }
            ("offset", Part::RandomEffects) => {
                "`offset(...)` is not allowed inside a random-effects term"
            }
            ("fulldummy", Part::Fixed) => {
                "`fulldummy(...)` is only allowed inside a random-effects term, \
                 as in `(0 + fulldummy(f) | g)`"
            }
            ("fulldummy", Part::RandomEffects) => {
                let ExprKind::Variable(column) = &arg.unparen().kind else {
                    return Err(self.error(
                        "`fulldummy(...)` takes a single column name",
                        arg.span.start,
                    ));
                };
                let atom = Atom::FullDummy(column.clone());
                return Ok(TermList::single(Term::new(vec![atom])));
            }
            _ => return Ok(TermList::single(Term::new(vec![self.function_atom(expr)?]))),
        };
        Err(self.error(message, at))
    }

    /// Converts an arithmetic expression (a call argument, a call, or the response).
    fn numeric(&self, expr: &Expr) -> EResult<NumExpr> {
        let boxed = |e: &Expr| self.numeric(e).map(Box::new);
        Ok(match &expr.kind {
            ExprKind::Variable(name) => NumExpr::Column(name.clone()),
            ExprKind::Number(v) => NumExpr::Literal(*v),
            ExprKind::Paren(inner) => self.numeric(inner)?,
            ExprKind::Neg(inner) => NumExpr::Neg(boxed(inner)?),
            ExprKind::Call { name, arg } if name == "I" => self.numeric(arg)?,
            ExprKind::Call { name, arg } => match Func::from_name(name) {
                Some(func) => NumExpr::Call {
                    func,
                    arg: boxed(arg)?,
                },
                None => {
                    return Err(self.error(
                        format!("`{name}(...)` cannot be used in an arithmetic expression"),
                        expr.span.start,
                    ))
                }
            },
            ExprKind::Binary {
                op,
                op_pos,
                lhs,
                rhs,
            } => {
                let op = match op {
                    BinOp::Add => ArithOp::Add,
                    BinOp::Sub => ArithOp::Sub,
                    BinOp::Mul => ArithOp::Mul,
                    BinOp::Div => ArithOp::Div,
                    BinOp::Pow => ArithOp::Pow,
                    BinOp::Interact => {
                        return Err(
                            self.error("an interaction is not an arithmetic operation", *op_pos)
                        )
                    }
                };
                NumExpr::Binary {
                    op,
                    lhs: boxed(lhs)?,
                    rhs: boxed(rhs)?,
                }
            }
            ExprKind::Random { .. } => {
                return Err(self.error(
                    "a random-effects term is not an arithmetic expression",
                    expr.span.start,
                ))
            }
            ExprKind::Cbind { .. } => return Err(self.misplaced_cbind(expr)),
        })
    }

    /// Expands `(effects | grouping)` (or `||`, or the argument of
    /// `zerocorr`) into one or more random-effects terms.
    fn random(&self, expr: &Expr, zerocorr: bool) -> EResult<Vec<RandomSpec>> {
        let ExprKind::Random {
            effects,
            grouping,
            double_bar,
            ..
        } = &expr.kind
        else {
            return Err(self.error("expected a random-effects term", expr.span.start));
        };
        let spec = self.terms(effects, Part::RandomEffects)?.finish();
        if !spec.intercept && spec.terms.is_empty() {
            return Err(self.error(
                "random-effects term has no effects: it has no intercept and no terms",
                effects.span.start,
            ));
        }
        let groups = dedupe_groupings(self.grouping(grouping)?);
        let pieces = if *double_bar {
            // lme4's `||`: the intercept and each term get their own
            // (mutually uncorrelated) random-effects term; a categorical
            // term keeps its columns together.
            let mut pieces = Vec::new();
            if spec.intercept {
                pieces.push(TermsSpec {
                    intercept: true,
                    terms: Vec::new(),
                });
            }
            pieces.extend(spec.terms.into_iter().map(|t| TermsSpec {
                intercept: false,
                terms: vec![t],
            }));
            pieces
        } else {
            vec![spec]
        };
        let mut out = Vec::with_capacity(pieces.len() * groups.len());
        for piece in &pieces {
            for g in &groups {
                out.push(RandomSpec::new(piece.clone(), g.clone(), zerocorr));
            }
        }
        Ok(out)
    }

    /// The grouping factors right of `|`: `g` gives `[[g]]`, `g & h` (or
    /// `g:h`) gives `[[g, h]]`, and `g / h` gives `[[g], [g, h]]`.
    fn grouping(&self, expr: &Expr) -> EResult<Vec<Vec<String>>> {
        match &expr.kind {
            ExprKind::Variable(name) => Ok(vec![vec![name.clone()]]),
            ExprKind::Paren(inner) => self.grouping(inner),
            ExprKind::Cbind { .. } => Err(self.misplaced_cbind(expr)),
            ExprKind::Binary {
                op: op @ (BinOp::Interact | BinOp::Div),
                op_pos,
                lhs,
                rhs,
            } => {
                let (outer, inner) = (self.grouping(lhs)?, self.grouping(rhs)?);
                if outer.len().saturating_mul(inner.len()) > MAX_TERMS {
                    return Err(self.error("grouping expands to too many terms", *op_pos));
                }
                if *op == BinOp::Interact {
                    let pairs = outer.iter().flat_map(|a| inner.iter().map(|b| union(a, b)));
                    return Ok(pairs.collect());
                }
                let all_outer = outer.iter().fold(Vec::new(), |acc, g| union(&acc, g));
                let nested: Vec<_> = inner.iter().map(|b| union(&all_outer, b)).collect();
                Ok(outer.into_iter().chain(nested).collect())
            }
            ExprKind::Binary { op, op_pos, .. } => Err(self.error(
                format!(
                    "`{}` cannot combine grouping factors; use `g & h` for their \
                     interaction or `g / h` for nesting",
                    op_symbol(*op)
                ),
                *op_pos,
            )),
            _ => Err(self.error(
                "the grouping factor must be a column name, an interaction `g & h` \
                 or a nesting `g / h`",
                expr.span.start,
            )),
        }
    }
}
