//! The printed summaries, rendered by the presentation layer, against the
//! summaries the seed printed (tests/present/*.txt, written by the seed's
//! `Display` before the presentation layer replaced it), and the other
//! formats of the same documents.
//!
//! The seed printed BOBYQA fits, and the summaries show variance components
//! to 8 significant digits, where BOBYQA's optimum (stopped at a trust
//! radius of 1e-6 in θ) and the quasi-Newton method's differ in the last
//! one (Dyestuff's σ²_Batch, whose ML estimate has the closed form
//! ((5/6)·MS_Batch − MS_residual)/5 = 1388.33333: BOBYQA 1388.3332, the
//! quasi-Newton method 1388.3333). The LMMs here are therefore fitted with
//! BOBYQA from lme4's θ₀ (λ = I), as the seed's were (a fit starts from
//! the data's moment estimate by default). Where BOBYQA stops within its trust radius
//! also moves with the last bit of A (sleepstudy's σ²_Subject prints as
//! 565.515262 from A's correctly rounded sums, 565.515399 from plain ones,
//! the same −2 log L to 1e-12): the LMM summaries are compared with the
//! seed's character for character outside the numbers (the layout: every
//! number the same width in the same place) and number by number to
//! [`NUMBER_RTOL`].

mod common;

use common::{dataset, repo_path};
use mixedmodels::data::Column;
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::lmm::{LinearMixedModel, LmmOptions};
use mixedmodels::model::OptimizerChoice;
use mixedmodels::present::{glmm_summary, lmm_summary, Format};
use mixedmodels::{FitSettings, MixedModel};

fn expected(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("tests/present/{name}.txt"))).unwrap()
}

fn lmm(formula: &str, data: &str, reml: bool) -> LinearMixedModel {
    let mut m = LinearMixedModel::new(formula, &dataset(data), &LmmOptions::default()).unwrap();
    fit_as_the_seed(&mut m, reml);
    m
}

/// Fit with BOBYQA from lme4's θ₀ (λ = I), as the seed did (module docs).
fn fit_as_the_seed(m: &mut LinearMixedModel, reml: bool) {
    let settings = FitSettings {
        reml,
        optimizer: OptimizerChoice::Bobyqa,
        ..FitSettings::default()
    };
    let start = m.layout().initial();
    m.fit_with(&settings, Some(&start)).unwrap();
}

/// A GLMM fitted as the seed was (BOBYQA: the printed digits of the
/// variance components follow the optimizer's last steps; the quasi-Newton
/// fit prints cbpp's herd variance as 0.41249993 for the seed's 0.41249814,
/// the same objective to 1e-12 relative).
fn glmm(formula: &str, data: &str, family: Family, nagq: usize) -> GeneralizedLinearMixedModel {
    let options = GlmmOptions::default();
    let mut m =
        GeneralizedLinearMixedModel::new(formula, &dataset(data), family, None, &options).unwrap();
    let settings = FitSettings {
        nagq,
        optimizer: OptimizerChoice::Bobyqa,
        ..FitSettings::default()
    };
    m.fit_with(&settings).unwrap();
    m
}

/// The relative tolerance on each printed number of an LMM summary: the
/// optimizer's resolution in θ (BOBYQA's final trust radius 1e-6), doubled.
const NUMBER_RTOL: f64 = 2e-6;

/// The spans (start, end) of the numbers in `text`: a digit run with an
/// optional sign, decimal part and exponent.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let signed = (b[i] == b'-' || b[i] == b'+') && i + 1 < b.len() && b[i + 1].is_ascii_digit();
        let j = if signed { i + 1 } else { i };
        if !b[j].is_ascii_digit() || (start > 0 && b[start - 1].is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let mut end = digits(j);
        if end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit() {
            end = digits(end + 1);
        }
        if end + 2 < b.len() && b[end] == b'e' && (b[end + 1] == b'-' || b[end + 1] == b'+') {
            end = digits(end + 2);
        }
        spans.push((start, end));
        i = end;
    }
    spans
}

/// `got` has `want`'s text outside the numbers, each number as wide as
/// `want`'s and equal to it within [`NUMBER_RTOL`] (relative, or absolute
/// in the last printed digit for numbers printed as 0).
fn assert_same_summary(got: &str, want: &str, name: &str) {
    let (gs, ws) = (number_spans(got), number_spans(want));
    assert_eq!(gs.len(), ws.len(), "{name}: numbers\n{got}\n{want}");
    let mut at = (0, 0);
    for (&(g0, g1), &(w0, w1)) in gs.iter().zip(&ws) {
        assert_eq!(
            &got[at.0..g0],
            &want[at.1..w0],
            "{name}: layout\n{got}\n{want}"
        );
        let (g, w) = (&got[g0..g1], &want[w0..w1]);
        assert_eq!(g.len(), w.len(), "{name}: width of {g} for {w}");
        let (x, y): (f64, f64) = (g.parse().unwrap(), w.parse().unwrap());
        assert!(
            (x - y).abs() <= NUMBER_RTOL * y.abs() || g == w,
            "{name}: {g} for {w}\n{got}"
        );
        at = (g1, w1);
    }
    assert_eq!(&got[at.0..], &want[at.1..], "{name}: layout");
}

#[test]
fn the_number_comparison_can_fail() {
    let want = "a 565.515399  1.25 <1e-11";
    assert_same_summary("a 565.515262  1.25 <1e-11", want, "close");
    for wrong in [
        "a 565.525399  1.25 <1e-11",
        "a 565.515399 1.25  <1e-11",
        "a 565.51540  1.25 <1e-11",
        "b 565.515399  1.25 <1e-11",
    ] {
        let caught = std::panic::catch_unwind(|| assert_same_summary(wrong, want, "wrong"));
        assert!(caught.is_err(), "{wrong}");
    }
}

fn check_lmm(name: &str, m: &LinearMixedModel) {
    let text = m.to_string();
    assert_same_summary(&text, &expected(name), name);
    assert_eq!(lmm_summary(m).unwrap().render(Format::Text), text);
}

/// The relative tolerance on each printed number of a GLMM summary: the
/// joint stage stops at a scaled gradient of 1e-7, where β moves by about
/// 1e-5 of its standard error and θ by about 1e-5 relative, so a
/// coefficient much smaller than its standard error (Contraception's `age`,
/// 0.0035 ± 0.0092) agrees to a few 1e-5 relative (the seed's optimizer
/// stopped by its own rule).
const GLMM_NUMBER_RTOL: f64 = 1e-4;

/// `got` has `want`'s lines, each with the same words, the numbers equal
/// within [`GLMM_NUMBER_RTOL`] (a number's printed width, and so a table
/// column's padding, may differ in its last digit).
fn assert_same_glmm_summary(got: &str, want: &str, name: &str) {
    let (gl, wl): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    assert_eq!(gl.len(), wl.len(), "{name}: lines\n{got}\n{want}");
    for (g, w) in gl.iter().zip(&wl) {
        let (gw, ww): (Vec<&str>, Vec<&str>) = (
            g.split_whitespace().collect(),
            w.split_whitespace().collect(),
        );
        assert_eq!(gw.len(), ww.len(), "{name}: {g} for {w}");
        for (a, b) in gw.iter().zip(&ww) {
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!(
                    (x - y).abs() <= GLMM_NUMBER_RTOL * y.abs(),
                    "{name}: {a} for {b}\n{got}"
                ),
                _ => assert_eq!(a, b, "{name}: {g} for {w}"),
            }
        }
    }
}

#[test]
fn lmm_summaries_match_the_seed() {
    check_lmm(
        "dyestuff_ml",
        &lmm("Yield ~ 1 + (1 | Batch)", "dyestuff", false),
    );
    check_lmm(
        "sleep",
        &lmm(
            "Reaction ~ 1 + Days + (1 + Days | Subject)",
            "sleepstudy",
            false,
        ),
    );
    check_lmm(
        "sleep_zc",
        &lmm(
            "Reaction ~ 1 + Days + zerocorr(1 + Days | Subject)",
            "sleepstudy",
            false,
        ),
    );
    check_lmm(
        "penicillin",
        &lmm(
            "diameter ~ 1 + (1 | plate) + (1 | sample)",
            "penicillin",
            false,
        ),
    );
}

#[test]
fn reml_summary_matches_the_seed_up_to_the_full_precision_criterion() {
    let m = lmm("Yield ~ 1 + (1 | Batch)", "dyestuff", true);
    // The criterion is printed with every digit of the f64; compare those
    // digits with the model's own objective and the rest byte for byte.
    let want = expected("dyestuff_reml");
    let line = want
        .lines()
        .find(|l| l.starts_with(" REML criterion"))
        .unwrap();
    let want = want.replace(
        line,
        &format!(" REML criterion at convergence: {}", m.objective()),
    );
    assert!((m.objective() - 319.65427684225193).abs() < 1e-8);
    assert_eq!(m.to_string(), want);
}

#[test]
fn dropped_columns_are_listed() {
    let mut data = dataset("sleepstudy");
    let Column::Numeric { values, .. } = data.column("Days").unwrap().clone() else {
        panic!("Days is numeric")
    };
    let doubled = values.iter().map(|d| 2.0 * d).collect();
    data.add_column("Days2", Column::numeric(doubled)).unwrap();
    let mut m = LinearMixedModel::new(
        "Reaction ~ 1 + Days + Days2 + (1 | Subject)",
        &data,
        &LmmOptions::default(),
    )
    .unwrap();
    fit_as_the_seed(&mut m, false);
    check_lmm("sleep_dropped", &m);
}

#[test]
fn glmm_summaries_match_the_seed() {
    let contra = glmm(
        "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)",
        "contraception",
        Family::Bernoulli,
        9,
    );
    assert_same_glmm_summary(&contra.to_string(), &expected("contra"), "contra");
    let cbpp = glmm(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        "cbpp",
        Family::Binomial,
        1,
    );
    assert_same_glmm_summary(&cbpp.to_string(), &expected("cbpp"), "cbpp");
    let doc = glmm_summary(&cbpp).unwrap();
    assert_eq!(doc.render(Format::Text), cbpp.to_string());
    // The rich formats add logLik, deviance, AIC and BIC as a table.
    let md = doc.render(Format::Markdown);
    assert!(md.contains("| logLik | deviance | AIC | BIC |"), "{md}");
    assert!(md.contains("| period: 2 |"), "{md}");
    let html = doc.render(Format::Html);
    assert_eq!(html.matches("<table").count(), 3, "{html}");
    let tex = doc.render(Format::Latex);
    assert_eq!(tex.matches("\\begin{tabular}").count(), 3);
    assert!(tex.contains(
        "\\texttt{cbind(incidence, size - incidence) \\textasciitilde{} 1 + period + (1 $|$ herd)}"
    ));
}

#[test]
fn unfitted_models_have_no_summary_document() {
    let m = LinearMixedModel::new(
        "Yield ~ 1 + (1 | Batch)",
        &dataset("dyestuff"),
        &LmmOptions::default(),
    )
    .unwrap();
    let err = lmm_summary(&m).unwrap_err();
    assert!(err.to_string().contains("fitted"), "{err}");
    let g = GeneralizedLinearMixedModel::new(
        "r2 ~ 1 + Anger + (1 | id)",
        &dataset("verbagg"),
        Family::Bernoulli,
        None,
        &GlmmOptions::default(),
    )
    .unwrap();
    assert!(glmm_summary(&g).is_err());
}

#[test]
fn lmm_rich_formats_hold_the_same_tables() {
    let m = lmm(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        "sleepstudy",
        false,
    );
    let doc = lmm_summary(&m).unwrap();
    let md = doc.render(Format::Markdown);
    assert!(md.starts_with("**Linear mixed model fit by maximum likelihood**\n"));
    assert!(md.contains("| logLik | -2 logLik | AIC | BIC |\n|--:|--:|--:|--:|\n| -875.96967 | 1751.93934 | 1763.93934 | 1783.09709 |"), "{md}");
    assert!(
        md.contains("| Days | 10.4673 | 1.50224 | 6.9678 | \\<1e-11 |"),
        "{md}"
    );
    let residual = md.lines().find(|l| l.starts_with("| Residual |")).unwrap();
    assert_same_summary(
        residual,
        "| Residual |  | 654.941020 | 25.5918155 |  |",
        "md",
    );
    let html = doc.render(Format::Html);
    assert!(html.contains("<caption>Variance components</caption>"));
    assert!(
        html.contains("<td style=\"text-align: right;\">+0.08</td>"),
        "{html}"
    );
}
