//! Invalid formulas: each error must point at the right character and say
//! what is wrong.

use crate::formula::{parse_formula, FormulaError};

/// `(formula, expected position, expected fragment of the message)`.
const CASES: &[(&str, usize, &str)] = &[
    ("", 0, "empty formula"),
    ("   ", 0, "empty formula"),
    ("y ~", 3, "expected terms after `~`"),
    ("~ x", 0, "missing response"),
    ("y x", 0, "needs `~`"),
    (
        "y ~ x +",
        7,
        "expected a term after `+`, found end of formula",
    ),
    ("y ~ (1 | )", 9, "no grouping factor after `|`"),
    ("y ~ (1 |", 8, "no grouping factor after `|`"),
    ("y ~ ( | g)", 6, "nothing left of `|`"),
    ("y ~ (|| g)", 5, "nothing left of `|`"),
    ("y ~ (1 | g", 4, "unclosed `(`"),
    ("y ~ x + (x", 8, "unclosed `(`"),
    ("y ~ x)", 5, "unmatched `)`"),
    ("y ~ 1 | g", 6, "`|` outside parentheses"),
    ("y ~ (1 | g) | h", 12, "`|` outside parentheses"),
    ("y ~ log()", 8, "`log(...)` needs an argument"),
    ("y ~ foo(x)", 4, "unknown function `foo`"),
    ("y ~ 1 + log(bar(x))", 12, "unknown function `bar`"),
    ("y ~ x $ z", 6, "unexpected character `$`"),
    ("y ~ (1|g|h)", 8, "only one `|`"),
    (
        "y ~ zerocorr(x)",
        4,
        "`zerocorr(...)` needs a random-effects term",
    ),
    (
        "y ~ zerocorr()",
        4,
        "`zerocorr(...)` needs a random-effects term",
    ),
    ("y ~ I(x ^)", 9, "after `^`, found `)`"),
    ("y ~ `unclosed", 4, "unclosed backtick"),
    ("y ~ ``", 4, "empty backtick"),
    ("y ~ 1e", 4, "malformed number `1e`"),
    ("y ~ 2x", 4, "malformed number `2x`"),
    (
        "y ~ ((1|g)|h)",
        5,
        "nested inside another random-effects term",
    ),
    (
        "y ~ (zerocorr(1|g) | h)",
        5,
        "nested inside another random-effects term",
    ),
    ("y ~ I((1|g))", 8, "not allowed inside `I(...)`"),
    ("y ~ I(x | g)", 8, "not allowed inside `I(...)`"),
    (
        "y ~ fulldummy(f)",
        4,
        "only allowed inside a random-effects term",
    ),
    (
        "y ~ x:fulldummy(f) + (1|g)",
        6,
        "only allowed inside a random-effects term",
    ),
    ("y ~ (0 + fulldummy(log(f)) | g)", 19, "single column name"),
    (
        "y ~ (1 | log(g))",
        9,
        "grouping factor must be a column name",
    ),
    ("y ~ (1 | 1)", 9, "grouping factor must be a column name"),
    ("y ~ (1 | g + h)", 11, "`+` cannot combine grouping factors"),
    ("y ~ (1 | g * h)", 11, "`*` cannot combine grouping factors"),
    ("y ~ x ~ z", 6, "exactly one `~`"),
    (
        "y ~ x z",
        6,
        "expected an operator such as `+` between terms, found name `z`",
    ),
    ("y ~ x (z)", 4, "unknown function `x`"),
    (
        "y ~ `x`(z)",
        7,
        "expected an operator such as `+` between terms, found `(`",
    ),
    ("y ~ 2", 4, "`2` is not a term"),
    ("y ~ x + 0.5", 8, "`0.5` is not a term"),
    ("y ~ (a + b)^0.5", 12, "positive whole number"),
    ("y ~ (a + b)^x", 12, "positive whole number"),
    ("y ~ x * (1|g)", 8, "top level of the formula"),
    ("y ~ x - (1|g)", 8, "cannot be removed"),
    ("y ~ -zerocorr(1|g)", 5, "cannot be removed"),
    ("y ~ -((1|g))", 5, "cannot be removed"),
    ("y ~ x - offset(z)", 8, "cannot be removed"),
    ("y ~ x * offset(z)", 8, "top level"),
    (
        "y ~ (offset(z) | g)",
        5,
        "not allowed inside a random-effects term",
    ),
    ("y ~ log(x, 2)", 9, "exactly one argument"),
    ("y ~ I(a & b)", 8, "not an arithmetic operator"),
    ("y ~ I(a:b)", 7, "not an arithmetic operator"),
    (
        "y ~ log(zerocorr(1|g))",
        8,
        "cannot be used inside `log(...)`",
    ),
    ("(1|g) ~ x", 2, "not allowed inside the response"),
    (
        "y | g ~ x",
        2,
        "random-effects terms are not allowed in the response",
    ),
    ("1 ~ x", 0, "the response `1` is a constant"),
    ("(2 * 3) ~ x", 1, "the response `2*3` is a constant"),
    ("y:z ~ x", 1, "interactions are not allowed in the response"),
    (
        "y & z ~ x",
        2,
        "interactions are not allowed in the response",
    ),
    (
        "y z ~ x",
        2,
        "expected `~` or an arithmetic operator after the response",
    ),
    ("y) ~ x", 1, "unmatched `)`"),
    ("y, z ~ x", 1, "written `cbind(successes, failures)`"),
    ("(y, z) ~ x", 2, "written `cbind(successes, failures)`"),
    ("offset(y) ~ x", 0, "cannot be used inside the response"),
    ("fulldummy(f) ~ x", 0, "cannot be used inside the response"),
    ("zerocorr(1|g) ~ x", 0, "cannot be used inside the response"),
    ("foo(y) ~ x", 0, "unknown function `foo`"),
    ("y ~ foo(x)", 4, "zerocorr and cbind"),
    ("log(y ~ x", 6, "unexpected `~` inside `log(...)`"),
    // cbind: exactly two arithmetic arguments, only as the whole response.
    ("cbind(s) ~ x", 7, "takes exactly two arguments"),
    ("cbind(s) ~ x", 7, "it has one"),
    ("cbind() ~ x", 6, "it has none"),
    ("cbind(s, f, n) ~ x", 10, "it has more"),
    (
        "cbind(s, ) ~ x",
        9,
        "expected a number, column or function after `,`",
    ),
    (
        "cbind(s f) ~ x",
        8,
        "expected `)` or an arithmetic operator inside `cbind(...)`",
    ),
    ("cbind(s, f ~ x", 11, "unexpected `~` inside `cbind(...)`"),
    ("cbind(s, f", 0, "needs `~`"),
    ("cbind(s | g, f) ~ x", 8, "not allowed inside `cbind(...)`"),
    (
        "cbind(s:t, f) ~ x",
        7,
        "interactions are not allowed inside `cbind(...)`",
    ),
    (
        "cbind((s, t), f) ~ x",
        8,
        "unexpected `,` inside parentheses within `cbind(...)`",
    ),
    (
        "cbind(offset(s), f) ~ x",
        6,
        "cannot be used inside `cbind(...)`",
    ),
    (
        "y ~ cbind(s, f)",
        4,
        "can only be the response of a binomial model",
    ),
    (
        "y ~ x + cbind(s, f) + (1 | g)",
        8,
        "can only be the response",
    ),
    ("y ~ x * cbind(s, f)", 8, "can only be the response"),
    ("y ~ (cbind(s, f) | g)", 5, "can only be the response"),
    ("y ~ (1 | cbind(s, f))", 9, "can only be the response"),
    ("y ~ offset(cbind(s, f))", 11, "can only be the response"),
    ("y ~ I(cbind(s, f))", 6, "can only be the response"),
    ("cbind(s, f) + 1 ~ x", 0, "can only be the response"),
    ("log(cbind(s, f)) ~ x", 4, "can only be the response"),
    ("cbind(cbind(s, f), f) ~ x", 6, "can only be the response"),
    ("cbind(1, 2) ~ x", 0, "is a constant"),
    ("y ~ (0 | g)", 5, "has no effects"),
    ("y ~ (1 - 1 | g)", 5, "has no effects"),
    ("y ~ ()", 5, "empty parentheses"),
    ("y ~ I(())", 7, "empty parentheses"),
    ("y ~ x + - - z", 10, "expected a term after `-`, found `-`"),
    ("y ~ x * * z", 8, "expected a term after `*`"),
    ("y ~ .", 4, "`.`"),
    ("y ~ log(x", 7, "unclosed `(`"),
    ("y ~ I(2 * (x + 1)", 5, "unclosed `(`"),
    ("y ~ (x ~ z)", 7, "exactly one `~`"),
    ("y ~ 1 + ,", 8, "expected a term after `+`, found `,`"),
];

fn check(src: &str, position: usize, fragment: &str) -> FormulaError {
    let err = match parse_formula(src) {
        Ok(spec) => panic!("`{src}` should fail but gave {spec:?}"),
        Err(e) => e,
    };
    assert_eq!(err.formula, src);
    assert!(
        err.message.contains(fragment),
        "`{src}`: message {:?} lacks {fragment:?}",
        err.message
    );
    assert_eq!(
        err.position, position,
        "`{src}`: wrong position for {:?}",
        err.message
    );
    err
}

#[test]
fn invalid_formulas_point_at_the_offending_character() {
    for &(src, position, fragment) in CASES {
        check(src, position, fragment);
    }
}

#[test]
fn display_shows_message_formula_and_caret() {
    let err = check("y ~ x $ z", 6, "`$`");
    assert_eq!(
        err.to_string(),
        "unexpected character `$`\ny ~ x $ z\n      ^"
    );
    let err = check("y ~\tx +", 7, "after `+`");
    assert_eq!(
        err.to_string(),
        "expected a term after `+`, found end of formula\ny ~\tx +\n   \t   ^"
    );
}

#[test]
fn positions_count_characters_not_bytes() {
    check("ä ~ é + $", 8, "`$`");
    check("ü ~ `ß x` + foo(z)", 12, "unknown function `foo`");
}

#[test]
fn deep_nesting_is_rejected_not_overflowed() {
    for depth in [201, 500, 100_000] {
        let parens = format!("y ~ {}x{}", "(".repeat(depth), ")".repeat(depth));
        check(&parens, 4 + 200, "nested too deeply");
        let minus = format!("y ~ I({}x)", "-".repeat(depth));
        check(&minus, 6 + 199, "nested too deeply");
        let power = format!("y ~ I(x{})", "^x".repeat(depth));
        check(&power, 7 + 2 * 199, "nested too deeply");
        let calls = format!("y ~ {}x{}", "log(".repeat(depth), ")".repeat(depth));
        check(&calls, 4 + 4 * 200 + 3, "nested too deeply");
    }
}
