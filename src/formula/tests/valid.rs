//! Valid formulas and the specs they expand to.

use crate::formula::ast::ExprKind;
use crate::formula::{
    parse, parse_formula, ArithOp, Atom, CbindSpec, Func, ModelSpec, NumExpr, RandomSpec,
    ResponseSpec, Term, TermsSpec,
};

fn spec(src: &str) -> ModelSpec {
    parse_formula(src).unwrap_or_else(|e| panic!("`{src}` failed:\n{e}"))
}

fn labels(t: &TermsSpec) -> Vec<String> {
    t.terms.iter().map(Term::label).collect()
}

fn fixed(src: &str) -> (bool, Vec<String>) {
    let s = spec(src);
    (s.fixed.intercept, labels(&s.fixed))
}

fn random_labels(src: &str) -> Vec<String> {
    spec(src).random.iter().map(|r| r.label.clone()).collect()
}

fn col(name: &str) -> Box<NumExpr> {
    Box::new(NumExpr::Column(name.into()))
}

fn var(name: &str) -> Atom {
    Atom::Variable(name.into())
}

fn single(name: &str) -> ResponseSpec {
    ResponseSpec::Single(var(name))
}

fn binary(op: ArithOp, lhs: Box<NumExpr>, rhs: Box<NumExpr>) -> NumExpr {
    NumExpr::Binary { op, lhs, rhs }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(ToString::to_string).collect()
}

#[test]
fn sleepstudy_correlated_slope() {
    let s = spec("Reaction ~ 1 + Days + (1 + Days | Subject)");
    assert_eq!(s.response, single("Reaction"));
    assert!(s.fixed.intercept);
    assert_eq!(s.fixed.terms, vec![Term::new(vec![var("Days")])]);
    assert_eq!(
        s.random,
        vec![RandomSpec {
            effects: TermsSpec {
                intercept: true,
                terms: vec![Term::new(vec![var("Days")])],
            },
            grouping: strings(&["Subject"]),
            zerocorr: false,
            label: "(1 + Days | Subject)".into(),
        }]
    );
    assert!(s.offsets.is_empty());
    assert_eq!(s.variables(), strings(&["Reaction", "Days", "Subject"]));
    assert_eq!(s.grouping_variables(), strings(&["Subject"]));
    assert_eq!(s.source, "Reaction ~ 1 + Days + (1 + Days | Subject)");
}

#[test]
fn penicillin_crossed_intercepts() {
    let s = spec("diameter ~ 1 + (1|plate) + (1|sample)");
    assert_eq!(
        s.fixed,
        TermsSpec {
            intercept: true,
            terms: vec![]
        }
    );
    assert_eq!(
        random_labels("diameter ~ 1 + (1|plate) + (1|sample)"),
        ["(1 | plate)", "(1 | sample)"]
    );
    assert_eq!(s.grouping_variables(), strings(&["plate", "sample"]));
    assert!(s
        .random
        .iter()
        .all(|r| r.effects.intercept && r.effects.terms.is_empty()));
}

#[test]
fn pastes_nested_grouping() {
    let s = spec("strength ~ 1 + (1 | batch/cask)");
    let groups: Vec<_> = s.random.iter().map(|r| r.grouping.clone()).collect();
    assert_eq!(
        groups,
        vec![strings(&["batch"]), strings(&["batch", "cask"])]
    );
    assert_eq!(
        random_labels("strength ~ 1 + (1 | batch/cask)"),
        ["(1 | batch)", "(1 | batch & cask)"]
    );
}

#[test]
fn three_level_nesting_carries_the_effects() {
    assert_eq!(
        random_labels("y ~ (1 | g/h/k)"),
        ["(1 | g)", "(1 | g & h)", "(1 | g & h & k)"]
    );
    assert_eq!(
        random_labels("y ~ (1 + x | g / h)"),
        ["(1 + x | g)", "(1 + x | g & h)"]
    );
}

#[test]
fn crossing_in_the_fixed_part() {
    let s = spec("y ~ 1 + service*dept + (1|s) + (1|d)");
    assert_eq!(labels(&s.fixed), ["service", "dept", "service & dept"]);
    assert_eq!(s.random.len(), 2);
    assert_eq!(
        s.fixed.terms[2],
        Term::new(vec![var("service"), var("dept")])
    );
}

#[test]
fn contraception_function_terms() {
    let s = spec("use ~ 1 + age + abs2(age) + I(age^2) + livch + urban + (1|district)");
    assert_eq!(
        labels(&s.fixed),
        ["age", "abs2(age)", "I(age^2)", "livch", "urban"]
    );
    assert_eq!(
        s.fixed.terms[1].atoms[0],
        Atom::Function {
            expr: NumExpr::Call {
                func: Func::Abs2,
                arg: col("age")
            },
            label: "abs2(age)".into(),
        }
    );
    let squared = NumExpr::Binary {
        op: ArithOp::Pow,
        lhs: col("age"),
        rhs: Box::new(NumExpr::Literal(2.0)),
    };
    assert_eq!(
        s.fixed.terms[2].atoms[0],
        Atom::Function {
            expr: squared,
            label: "I(age^2)".into()
        }
    );
    assert_eq!(
        s.variables(),
        strings(&["use", "age", "livch", "urban", "district"])
    );
    // The function atoms evaluate on data.
    let ages = [20.0, 30.0];
    let Atom::Function { expr, .. } = &s.fixed.terms[2].atoms[0] else {
        unreachable!()
    };
    let lookup = |name: &str| (name == "age").then_some(&ages[..]);
    assert_eq!(expr.eval(&lookup, 2).unwrap(), vec![400.0, 900.0]);
}

#[test]
fn zerocorr_keeps_one_diagonal_term() {
    let s = spec("Reaction ~ 1 + Days + zerocorr(1 + Days | Subject)");
    assert_eq!(s.random.len(), 1);
    let r = &s.random[0];
    assert!(r.zerocorr);
    assert_eq!(r.label, "zerocorr(1 + Days | Subject)");
    assert_eq!(labels(&r.effects), ["Days"]);
}

#[test]
fn double_bar_splits_into_uncorrelated_terms() {
    let s = spec("Reaction ~ 1 + Days + (1 + Days || Subject)");
    let got: Vec<_> = s.random.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(got, ["(1 | Subject)", "(0 + Days | Subject)"]);
    assert!(s.random.iter().all(|r| !r.zerocorr));
    assert_eq!(
        random_labels("y ~ (1 + x + f || g)"),
        ["(1 | g)", "(0 + x | g)", "(0 + f | g)"]
    );
    assert_eq!(
        random_labels("y ~ (x || g/h)"),
        ["(1 | g)", "(1 | g & h)", "(0 + x | g)", "(0 + x | g & h)"]
    );
    assert_eq!(
        random_labels("y ~ (0 + x + z || g)"),
        ["(0 + x | g)", "(0 + z | g)"]
    );
}

#[test]
fn intercept_control() {
    assert_eq!(fixed("y ~ 0 + x"), (false, strings(&["x"])));
    assert_eq!(fixed("y ~ x - 1"), (false, strings(&["x"])));
    assert_eq!(fixed("y ~ -1 + x"), (false, strings(&["x"])));
    assert_eq!(fixed("y ~ x + 0"), (false, strings(&["x"])));
    assert_eq!(fixed("y ~ x"), (true, strings(&["x"])));
    assert_eq!(fixed("y ~ 1"), (true, vec![]));
    assert_eq!(fixed("y ~ 0"), (false, vec![]));
    // The last explicit choice wins; `- 0` restores the intercept.
    assert_eq!(fixed("y ~ 0 + 1 + x"), (true, strings(&["x"])));
    assert_eq!(fixed("y ~ 1 + 0 + x"), (false, strings(&["x"])));
    assert_eq!(fixed("y ~ 0 + x - 0"), (true, strings(&["x"])));
    let s = spec("y ~ 0 + (1 | g)");
    assert!(!s.fixed.intercept && s.random[0].effects.intercept);
}

#[test]
fn random_effects_have_their_own_intercept() {
    assert_eq!(random_labels("y ~ (x | g)"), ["(1 + x | g)"]);
    assert_eq!(random_labels("y ~ (0 + x | g)"), ["(0 + x | g)"]);
    assert_eq!(random_labels("y ~ (x - 1 | g)"), ["(0 + x | g)"]);
    assert_eq!(random_labels("y ~ (-1 + x | g)"), ["(0 + x | g)"]);
    assert_eq!(
        random_labels("y ~ (1 + a*b | g)"),
        ["(1 + a + b + a & b | g)"]
    );
    // The fixed part's `0` does not leak into the random term.
    let s = spec("y ~ 0 + x + (x | g)");
    assert!(!s.fixed.intercept && s.random[0].effects.intercept);
}

#[test]
fn function_and_quoted_responses() {
    let s = spec("log(y) ~ x");
    assert_eq!(
        s.response,
        ResponseSpec::Single(Atom::Function {
            expr: NumExpr::Call {
                func: Func::Log,
                arg: col("y")
            },
            label: "log(y)".into(),
        })
    );
    assert_eq!(spec("`weird name` ~ x").response, single("weird name"));
    assert_eq!(
        spec("`weird name` ~ x").variables(),
        strings(&["weird name", "x"])
    );
    assert_eq!(spec("(y) ~ x").response, single("y"));
}

/// The response is evaluated as R evaluates a formula's left-hand side:
/// arithmetic, with `^` right-associative and binding tighter than unary minus.
#[test]
fn arithmetic_responses() {
    let function = |src: &str| match spec(src).response {
        ResponseSpec::Single(Atom::Function { expr, label }) => (expr, label),
        other => panic!("`{src}`: {other:?}"),
    };
    let (expr, label) = function("incidence / size ~ 1 + period + (1 | herd)");
    assert_eq!(label, "incidence/size");
    assert_eq!(expr, binary(ArithOp::Div, col("incidence"), col("size")));
    let (expr, label) = function("log(y) - 1 ~ x");
    assert_eq!(label, "log(y)-1");
    let log_y = Box::new(NumExpr::Call {
        func: Func::Log,
        arg: col("y"),
    });
    assert_eq!(
        expr,
        binary(ArithOp::Sub, log_y, Box::new(NumExpr::Literal(1.0)))
    );
    // R: y^2^3 = y^(2^3), -y^2 = -(y^2), y^-1 and a * -b are arithmetic.
    let lit = |v: f64| Box::new(NumExpr::Literal(v));
    assert_eq!(
        function("y^2^3 ~ x").0,
        binary(
            ArithOp::Pow,
            col("y"),
            Box::new(binary(ArithOp::Pow, lit(2.0), lit(3.0)))
        )
    );
    assert_eq!(
        function("-y^2 ~ x").0,
        NumExpr::Neg(Box::new(binary(ArithOp::Pow, col("y"), lit(2.0))))
    );
    assert_eq!(
        function("y^-1 ~ x").0,
        binary(ArithOp::Pow, col("y"), Box::new(NumExpr::Neg(lit(1.0))))
    );
    assert_eq!(
        function("a * -b ~ x").0,
        binary(ArithOp::Mul, col("a"), Box::new(NumExpr::Neg(col("b"))))
    );
    // `+` and `*` are arithmetic on the left (R's `y + z ~ x`).
    assert_eq!(function("(y + z) ~ x").1, "y+z");
    assert_eq!(function("I(y) ~ x").1, "I(y)");
    let s = spec("`a b` / n ~ 1 + (1 | g)");
    assert_eq!(s.response.label(), "`a b`/n");
    assert_eq!(s.variables(), strings(&["a b", "n", "g"]));
}

#[test]
fn cbind_response() {
    let s = spec("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)");
    assert_eq!(
        s.response,
        ResponseSpec::Cbind(CbindSpec {
            successes: NumExpr::Column("incidence".into()),
            failures: binary(ArithOp::Sub, col("size"), col("incidence")),
            successes_label: "incidence".into(),
            failures_label: "size-incidence".into(),
            label: "cbind(incidence,size-incidence)".into(),
        })
    );
    assert_eq!(s.response.label(), "cbind(incidence,size-incidence)");
    // Model variables: the response's columns first, each once.
    assert_eq!(
        s.variables(),
        strings(&["incidence", "size", "period", "herd"])
    );
    assert_eq!(s.fixed.label(), "1 + period");
    // Enclosing parentheses and arithmetic arguments.
    let s = spec("(cbind(log1p(k), (n - k) * 2)) ~ x");
    let ResponseSpec::Cbind(c) = &s.response else {
        panic!("{:?}", s.response)
    };
    assert_eq!(
        (c.successes_label.as_str(), c.failures_label.as_str()),
        ("log1p(k)", "(n-k)*2")
    );
    assert_eq!(s.variables(), strings(&["k", "n", "x"]));
    // The raw syntax tree.
    let f = parse("cbind(s, f) ~ 1").unwrap();
    let ExprKind::Cbind {
        successes,
        failures,
    } = &f.response.kind
    else {
        panic!("{:?}", f.response.kind)
    };
    assert_eq!(successes.kind, ExprKind::Variable("s".into()));
    assert_eq!((failures.span.start, failures.span.end), (9, 10));
    assert_eq!((f.response.span.start, f.response.span.end), (0, 11));
}

#[test]
fn dotted_names() {
    let s = spec("langPOST ~ 1 + IQ.verb + (1 + IQ.verb | schoolNR)");
    assert_eq!(labels(&s.fixed), ["IQ.verb"]);
    assert_eq!(s.random[0].label, "(1 + IQ.verb | schoolNR)");
    assert_eq!(s.variables(), strings(&["langPOST", "IQ.verb", "schoolNR"]));
    let s = spec("total.fruits ~ cHEIGHT + x_1 + .hidden");
    assert_eq!(labels(&s.fixed), ["cHEIGHT", "x_1", ".hidden"]);
}

#[test]
fn grouping_by_interaction() {
    for src in ["y ~ (1 | g & h)", "y ~ (1|g:h)", "y ~ (1 | (g & h))"] {
        let s = spec(src);
        assert_eq!(s.random.len(), 1, "{src}");
        assert_eq!(s.random[0].grouping, strings(&["g", "h"]), "{src}");
        assert_eq!(s.random[0].label, "(1 | g & h)", "{src}");
    }
    assert_eq!(
        spec("y ~ (1|g) + (x|h) + (1|g&h)").grouping_variables(),
        strings(&["g", "h"])
    );
    assert_eq!(
        random_labels("y ~ (1 | g/h & k)"),
        ["(1 | g)", "(1 | g & h & k)"]
    );
}

#[test]
fn fulldummy_in_random_terms() {
    let s = spec("y ~ 1 + (0 + fulldummy(f) | g)");
    let r = &s.random[0];
    assert!(!r.effects.intercept);
    assert_eq!(
        r.effects.terms,
        vec![Term::new(vec![Atom::FullDummy("f".into())])]
    );
    assert_eq!(r.label, "(0 + fulldummy(f) | g)");
    assert_eq!(s.variables(), strings(&["y", "f", "g"]));
}

#[test]
fn n_way_crossing_orders_by_degree() {
    let (_, t) = fixed("y ~ a*b*c");
    assert_eq!(t, ["a", "b", "c", "a & b", "a & c", "b & c", "a & b & c"]);
    let (_, t) = fixed("y ~ (a + b) * c");
    assert_eq!(t, ["a", "b", "c", "a & c", "b & c"]);
    let (_, t) = fixed("y ~ a:b + a");
    assert_eq!(t, ["a", "a & b"]);
    let (_, t) = fixed("y ~ (a + b):c");
    assert_eq!(t, ["a & c", "b & c"]);
    let (_, t) = fixed("y ~ (1 + a) * b");
    assert_eq!(t, ["a", "b", "a & b"]);
}

#[test]
fn powers_cross_up_to_a_degree() {
    assert_eq!(fixed("y ~ (a+b)^2").1, ["a", "b", "a & b"]);
    assert_eq!(
        fixed("y ~ (a + b + c)^2").1,
        ["a", "b", "c", "a & b", "a & c", "b & c"]
    );
    assert_eq!(fixed("y ~ (a + b + c)**3").1.len(), 7);
    // R semantics: a single term to a power is just the term.
    assert_eq!(fixed("y ~ x^2").1, ["x"]);
}

#[test]
fn nesting_in_the_fixed_part() {
    assert_eq!(fixed("y ~ a / b").1, ["a", "a & b"]);
    assert_eq!(fixed("y ~ (a + b) / c").1, ["a", "b", "a & b & c"]);
    assert_eq!(fixed("y ~ a / b / c").1, ["a", "a & b", "a & b & c"]);
}

#[test]
fn removal_and_deduplication() {
    assert_eq!(fixed("y ~ a*b - a").1, ["b", "a & b"]);
    assert_eq!(fixed("y ~ a*b - a:b").1, ["a", "b"]);
    assert_eq!(fixed("y ~ a*b - b:a").1, ["a", "b"]);
    // Removal holds wherever it is written.
    assert_eq!(fixed("y ~ -a + a*b").1, ["b", "a & b"]);
    assert_eq!(fixed("y ~ x + z + x").1, ["x", "z"]);
    assert_eq!(fixed("y ~ b:a + a:b").1, ["b & a"]);
    assert_eq!(fixed("y ~ a:a").1, ["a"]);
    assert_eq!(fixed("y ~ a*b - (a + b)").1, ["a & b"]);
    assert_eq!(
        Term::new(vec![var("a"), var("b")]),
        Term::new(vec![var("b"), var("a")])
    );
    assert_ne!(
        Term::new(vec![var("a")]),
        Term::new(vec![var("a"), var("b")])
    );
}

#[test]
fn offsets_are_kept_apart() {
    let s = spec("y ~ 1 + x + offset(log(expected)) + (1 | g)");
    assert_eq!(
        s.offsets,
        vec![NumExpr::Call {
            func: Func::Log,
            arg: col("expected")
        }]
    );
    assert_eq!(labels(&s.fixed), ["x"]);
    assert_eq!(s.variables(), strings(&["y", "x", "expected", "g"]));
    let s = spec("y ~ offset(t) + offset(2 * u)");
    assert_eq!(s.offsets.len(), 2);
    assert!(s.fixed.intercept && s.fixed.terms.is_empty());
}

#[test]
fn nested_and_arithmetic_functions() {
    let s = spec("y ~ log(abs2(x)) + I(log(x) * 2) + I(-x^2) + I(x**2) + I(z * 1e-3 + .5)");
    let atoms: Vec<_> = s.fixed.terms.iter().map(|t| t.atoms[0].clone()).collect();
    let expr = |i: usize| match &atoms[i] {
        Atom::Function { expr, .. } => expr.clone(),
        other => panic!("not a function: {other:?}"),
    };
    assert_eq!(
        expr(0),
        NumExpr::Call {
            func: Func::Log,
            arg: Box::new(NumExpr::Call {
                func: Func::Abs2,
                arg: col("x")
            }),
        }
    );
    assert_eq!(
        expr(1),
        NumExpr::Binary {
            op: ArithOp::Mul,
            lhs: Box::new(NumExpr::Call {
                func: Func::Log,
                arg: col("x")
            }),
            rhs: Box::new(NumExpr::Literal(2.0)),
        }
    );
    // `^` binds tighter than unary minus, as in R: -x^2 = -(x^2).
    let square = NumExpr::Binary {
        op: ArithOp::Pow,
        lhs: col("x"),
        rhs: Box::new(NumExpr::Literal(2.0)),
    };
    assert_eq!(expr(2), NumExpr::Neg(Box::new(square.clone())));
    assert_eq!(expr(3), square);
    assert_eq!(atoms[3].label(), "I(x**2)");
    let x = [1.0, 2.0];
    let z = [1000.0, 2000.0];
    let lookup = |n: &str| match n {
        "x" => Some(&x[..]),
        "z" => Some(&z[..]),
        _ => None,
    };
    assert_eq!(expr(4).eval(&lookup, 2).unwrap(), vec![1.5, 2.5]);
    assert_eq!(s.variables(), strings(&["y", "x", "z"]));
}

#[test]
fn function_labels_drop_whitespace_but_not_inside_backticks() {
    let s = spec("y ~ I( age ^ 2 ) + log( `my col` ) + `other col`");
    assert_eq!(
        labels(&s.fixed),
        ["I(age^2)", "log(`my col`)", "`other col`"]
    );
    assert_eq!(s.variables(), strings(&["y", "age", "my col", "other col"]));
    let s = spec("y ~ I(x)");
    assert_eq!(
        s.fixed.terms[0].atoms[0],
        Atom::Function {
            expr: NumExpr::Column("x".into()),
            label: "I(x)".into()
        }
    );
}

#[test]
fn whitespace_anywhere() {
    let s = spec("  y\n~\tx +\r\n  z*w  +(1|\tg) ");
    assert_eq!(labels(&s.fixed), ["x", "z", "w", "z & w"]);
    assert_eq!(s.random[0].label, "(1 | g)");
    assert_eq!(spec("y~x+(1|g)"), {
        let mut t = spec("y ~ x + (1 | g)");
        t.source = "y~x+(1|g)".into();
        t
    });
}

#[test]
fn random_terms_anywhere_in_the_top_level_sum() {
    let s = spec("y ~ x + (1|g) + z");
    assert_eq!(labels(&s.fixed), ["x", "z"]);
    assert_eq!(s.variables(), strings(&["y", "x", "z", "g"]));
    let s = spec("y ~ 1 + (x + (1|g))");
    assert_eq!(labels(&s.fixed), ["x"]);
    assert_eq!(s.random.len(), 1);
    let s = spec("y ~ ((1|g))");
    assert_eq!(s.random[0].label, "(1 | g)");
}

#[test]
fn zerocorr_with_double_bar_and_nesting() {
    assert_eq!(
        random_labels("y ~ zerocorr(x | g/h)"),
        ["zerocorr(1 + x | g)", "zerocorr(1 + x | g & h)"]
    );
    assert_eq!(
        random_labels("y ~ zerocorr(1 + x || g)"),
        ["zerocorr(1 | g)", "zerocorr(0 + x | g)"]
    );
}

#[test]
fn raw_ast_is_public() {
    let f = parse("y ~ x + (1 | g)").unwrap();
    assert_eq!(f.response.kind, ExprKind::Variable("y".into()));
    assert_eq!((f.rhs.span.start, f.rhs.span.end), (4, 15));
    let ExprKind::Binary { rhs, .. } = &f.rhs.kind else {
        panic!("expected a sum, got {:?}", f.rhs.kind)
    };
    assert!(matches!(
        rhs.kind,
        ExprKind::Random {
            double_bar: false,
            bar_pos: 11,
            ..
        }
    ));
}

#[test]
fn long_and_moderately_deep_formulas() {
    let names: Vec<String> = (0..3000).map(|i| format!("x{i}")).collect();
    let s = spec(&format!("y ~ {}", names.join(" + ")));
    assert_eq!(s.fixed.terms.len(), 3000);
    let depth = 150;
    let src = format!("y ~ {}x{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(fixed(&src).1, ["x"]);
    let src = format!("y ~ I({}x{})", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(spec(&src).fixed.terms.len(), 1);
}
