//! Numeric expressions over columns: the contents of `log(x)`, `I(age^2)`,
//! `offset(log(n))`, evaluated row by row once data is available.

/// A function applicable to a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// Natural logarithm.
    Log,
    /// `log(1 + x)`, accurate for small `x`.
    Log1p,
    /// Exponential.
    Exp,
    /// Square root.
    Sqrt,
    /// Absolute value.
    Abs,
    /// Square (`abs2` in Julia: `|x|²`, which for reals is `x²`).
    Abs2,
}

impl Func {
    /// The function named `name` in a formula (`I` is not a `Func`: it is the
    /// identity wrapper and disappears during expansion).
    pub fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "log" => Func::Log,
            "log1p" => Func::Log1p,
            "exp" => Func::Exp,
            "sqrt" => Func::Sqrt,
            "abs" => Func::Abs,
            "abs2" => Func::Abs2,
            _ => return None,
        })
    }

    /// The name used in formulas.
    pub fn name(self) -> &'static str {
        match self {
            Func::Log => "log",
            Func::Log1p => "log1p",
            Func::Exp => "exp",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Abs2 => "abs2",
        }
    }

    /// Applies the function to one value.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::Log => x.ln(),
            Func::Log1p => x.ln_1p(),
            Func::Exp => x.exp(),
            Func::Sqrt => x.sqrt(),
            Func::Abs => x.abs(),
            Func::Abs2 => x * x,
        }
    }
}

/// A binary arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^` (also written `**`)
    Pow,
}

impl ArithOp {
    /// Applies the operator to one pair of values.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div => a / b,
            ArithOp::Pow => a.powf(b),
        }
    }
}

/// Numeric expression evaluated row by row.
#[derive(Debug, Clone, PartialEq)]
pub enum NumExpr {
    /// The values of a numeric column.
    Column(String),
    /// A constant.
    Literal(f64),
    /// A function applied elementwise.
    Call {
        /// The function.
        func: Func,
        /// Its argument.
        arg: Box<NumExpr>,
    },
    /// An elementwise binary operation.
    Binary {
        /// The operator.
        op: ArithOp,
        /// Left operand.
        lhs: Box<NumExpr>,
        /// Right operand.
        rhs: Box<NumExpr>,
    },
    /// Elementwise negation.
    Neg(Box<NumExpr>),
}

impl NumExpr {
    /// The columns the expression reads, unique, in order of first use.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_columns(&mut out);
        out
    }

    fn collect_columns(&self, out: &mut Vec<String>) {
        match self {
            NumExpr::Column(name) => {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            NumExpr::Literal(_) => {}
            NumExpr::Call { arg, .. } => arg.collect_columns(out),
            NumExpr::Binary { lhs, rhs, .. } => {
                lhs.collect_columns(out);
                rhs.collect_columns(out);
            }
            NumExpr::Neg(inner) => inner.collect_columns(out),
        }
    }

    /// Evaluates the expression on `n` rows, fetching columns with `lookup`.
    ///
    /// Fails, naming the column, if `lookup` does not know a column or
    /// returns one whose length is not `n`. Domain errors (`log(-1)`) are
    /// not errors here: they yield NaN, which the data layer reports.
    ///
    /// # Errors
    ///
    /// A message naming the column that is missing or has the wrong length.
    pub fn eval<'d>(
        &self,
        lookup: &dyn Fn(&str) -> Option<&'d [f64]>,
        n: usize,
    ) -> Result<Vec<f64>, String> {
        match self {
            NumExpr::Column(name) => {
                let values = lookup(name).ok_or_else(|| format!("column `{name}` not found"))?;
                if values.len() != n {
                    return Err(format!(
                        "column `{name}` has {} values, expected {n}",
                        values.len()
                    ));
                }
                Ok(values.to_vec())
            }
            NumExpr::Literal(v) => Ok(vec![*v; n]),
            NumExpr::Call { func, arg } => {
                let mut values = arg.eval(lookup, n)?;
                for x in &mut values {
                    *x = func.apply(*x);
                }
                Ok(values)
            }
            NumExpr::Binary { op, lhs, rhs } => {
                let mut a = lhs.eval(lookup, n)?;
                let b = rhs.eval(lookup, n)?;
                a.iter_mut()
                    .zip(&b)
                    .for_each(|(x, y)| *x = op.apply(*x, *y));
                Ok(a)
            }
            NumExpr::Neg(inner) => {
                let mut values = inner.eval(lookup, n)?;
                for x in &mut values {
                    *x = -*x;
                }
                Ok(values)
            }
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn evaluates_elementwise_and_names_missing_columns() {
        let data: HashMap<&str, Vec<f64>> =
            HashMap::from([("x", vec![1.0, 2.0, 4.0]), ("y", vec![0.0, 1.0])]);
        let lookup = |name: &str| data.get(name).map(Vec::as_slice);
        // I(-x^2 / 2 + abs2(x)) = x^2 / 2
        let e = NumExpr::Binary {
            op: ArithOp::Add,
            lhs: Box::new(NumExpr::Binary {
                op: ArithOp::Div,
                lhs: Box::new(NumExpr::Neg(Box::new(NumExpr::Binary {
                    op: ArithOp::Pow,
                    lhs: Box::new(NumExpr::Column("x".into())),
                    rhs: Box::new(NumExpr::Literal(2.0)),
                }))),
                rhs: Box::new(NumExpr::Literal(2.0)),
            }),
            rhs: Box::new(NumExpr::Call {
                func: Func::Abs2,
                arg: Box::new(NumExpr::Column("x".into())),
            }),
        };
        assert_eq!(e.eval(&lookup, 3).unwrap(), vec![0.5, 2.0, 8.0]);
        assert_eq!(e.columns(), vec!["x".to_string()]);
        let missing = NumExpr::Call {
            func: Func::Log,
            arg: Box::new(NumExpr::Column("z".into())),
        };
        assert!(missing.eval(&lookup, 3).unwrap_err().contains("`z`"));
        let short = NumExpr::Column("y".into());
        assert!(short.eval(&lookup, 3).unwrap_err().contains("`y`"));
    }
}
