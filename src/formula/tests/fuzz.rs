//! Property tests: `parse_formula` never panics, errors always point inside
//! the formula, and successful expansions satisfy the spec's invariants.

use crate::formula::{parse_formula, ModelSpec, TermsSpec};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// xorshift64*: a tiny deterministic generator, enough for fuzzing.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const CHARS: &[char] = &[
    'y', 'x', 'g', 'h', 'l', 'o', 'I', 'e', '_', '.', '0', '1', '2', '5', '+', '-', '*', '/', '^',
    ':', '&', '|', '(', ')', '~', '`', ',', '$', ' ', '\t', 'é',
];

const TOKENS: &[&str] = &[
    "y",
    "x",
    "z",
    "g",
    "h",
    "f",
    "IQ.verb",
    "`a b`",
    "~",
    "~",
    "+",
    "+",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    ":",
    "&",
    "|",
    "||",
    "(",
    "(",
    "(",
    ")",
    ")",
    ")",
    "0",
    "1",
    "1",
    "2",
    "0.5",
    "1e-3",
    "log(",
    "log1p(",
    "exp(",
    "sqrt(",
    "abs(",
    "abs2(",
    "I(",
    "zerocorr(",
    "cbind(",
    "fulldummy(",
    "offset(",
    "foo(",
    ",",
    "(1|g)",
    "(x||g/h)",
    "(1|g&h)",
];

/// Whole operands and binary operators, for sequences shaped like formulas.
const OPERANDS: &[&str] = &[
    "x",
    "z",
    "f",
    "1",
    "0",
    "(1|g)",
    "(x||g/h)",
    "(0 + fulldummy(f) | g)",
    "log(x)",
    "I(x^2 - 1)",
    "zerocorr(1 + x | g)",
    "offset(log(n))",
    "(a + b)",
    "`a b`",
    "(1 | g:h)",
    "cbind(s, n - s)",
];
const OPERATORS: &[&str] = &["+", "+", "+", "-", "*", "/", ":", "&", "^"];

/// Structural invariants every expanded spec must satisfy.
fn check_terms(t: &TermsSpec, src: &str) {
    for (i, term) in t.terms.iter().enumerate() {
        assert!(!term.atoms.is_empty(), "`{src}`: empty term");
        assert!(!t.terms[..i].contains(term), "`{src}`: duplicate term");
        if i > 0 {
            assert!(
                t.terms[i - 1].degree() <= term.degree(),
                "`{src}`: unordered"
            );
        }
    }
}

fn check_spec(spec: &ModelSpec, src: &str) {
    check_terms(&spec.fixed, src);
    for r in &spec.random {
        check_terms(&r.effects, src);
        assert!(!r.grouping.is_empty(), "`{src}`: empty grouping");
        assert!(
            r.effects.intercept || !r.effects.terms.is_empty(),
            "`{src}`: random term without effects"
        );
    }
    let vars = spec.variables();
    for g in spec.grouping_variables() {
        assert!(vars.contains(&g), "`{src}`: grouping variable missing");
    }
}

/// Runs one input; returns whether it parsed.
fn run(src: &str) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| parse_formula(src)));
    let result = outcome.unwrap_or_else(|_| panic!("parse_formula panicked on {src:?}"));
    match result {
        Ok(spec) => {
            check_spec(&spec, src);
            true
        }
        Err(e) => {
            let len = src.chars().count();
            assert!(
                e.position <= len,
                "{src:?}: position {} > {len}",
                e.position
            );
            assert_eq!(e.formula, src);
            assert!(!e.message.is_empty());
            // Rendering the caret must not panic either.
            assert!(e.to_string().contains('^'));
            false
        }
    }
}

#[test]
fn random_character_strings_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(40);
        let src: String = (0..len).map(|_| *rng.pick(CHARS)).collect();
        run(&src);
    }
}

#[test]
fn random_token_sequences_never_panic() {
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut src = String::new();
        // Most inputs start like a formula so the generator reaches deep
        // into the grammar instead of failing at the first token.
        match rng.below(8) {
            0 | 1 => {}
            2 => src.push_str("cbind(s, n - s) ~ "),
            _ => src.push_str("y ~ "),
        }
        let shaped = rng.below(2) == 0;
        for i in 0..=rng.below(14) {
            let token = match (shaped, i % 2) {
                // Formula-shaped: operands and operators alternate, with
                // an occasional stray token.
                (true, _) if rng.below(10) == 0 => *rng.pick(TOKENS),
                (true, 0) => *rng.pick(OPERANDS),
                (true, _) => *rng.pick(OPERATORS),
                (false, _) => *rng.pick(TOKENS),
            };
            src.push_str(token);
            if rng.below(2) == 0 {
                src.push(' ');
            }
        }
        if run(&src) {
            parsed += 1;
        }
    }
    // The generator must exercise the success path too, not only errors.
    assert!(parsed > 500, "only {parsed} random formulas parsed");
}
