//! The convergence certificate (`model::certificate`): every fit of the test
//! and benchmark models certifies (the largest scaled gradient is printed
//! with `--nocapture`), a singular fit certifies with the bounded
//! component's one-sided derivative ≥ 0, a capped fit fails (with and
//! without its restart), its evaluations are counted apart from the fit's,
//! and a save/restore round trip keeps the certificate. The capped fits are
//! BOBYQA's (`optimizer = bobyqa`): the cap, the restart and the counts
//! below are its; `a_capped_quasi_newton_fit_hands_over_to_bobyqa` caps the
//! default (`auto`) fit.

mod common;

use common::*;
use mixedmodels::data::Column;
use mixedmodels::glmm::{Family, GeneralizedLinearMixedModel, GlmmOptions};
use mixedmodels::model::{
    CertificateScope, CertificateStatus, FitRecord, FitSettings, OptimizerChoice, StageOptimizer,
};
use mixedmodels::{LinearMixedModel, LmmOptions};

fn report(what: &str, r: &FitRecord) {
    let c = &r.certificate;
    eprintln!(
        "{what}: {} ({}, {}), max scaled gradient {:.2e}, {} evaluations of its own \
         ({:.2e} s) vs the fit's {} ({:.2e} s)",
        c.status.name(),
        c.scope.name(),
        c.method,
        c.max_scaled,
        c.evaluations,
        c.seconds,
        r.evaluations,
        r.seconds
    );
}

fn assert_certified(what: &str, r: &FitRecord) {
    report(what, r);
    let c = &r.certificate;
    assert_eq!(c.status, CertificateStatus::Certified, "{what}");
    assert!(c.failing.is_empty(), "{what}");
    assert!(c.max_scaled <= c.tolerance, "{what}");
    assert!(!c.restarted, "{what}");
    assert_eq!(r.fitlog.len(), r.evaluations, "{what}");
}

fn lmm(data: &str, formula: &str) -> LinearMixedModel {
    LinearMixedModel::new(formula, &dataset(data), &LmmOptions::default()).unwrap()
}

#[test]
fn linear_mixed_models_certify() {
    for (data, formula) in [
        ("dyestuff", "Yield ~ 1 + (1 | Batch)"),
        ("sleepstudy", "Reaction ~ 1 + Days + (1 + Days | Subject)"),
        (
            "sleepstudy",
            "Reaction ~ 1 + Days + zerocorr(1 + Days | Subject)",
        ),
        ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
        ("pastes", "strength ~ 1 + (1 | batch) + (1 | sample)"),
    ] {
        for reml in [false, true] {
            let mut m = lmm(data, formula);
            let r = m.fit(reml).unwrap();
            assert_eq!(r.certificate.scope, CertificateScope::Theta);
            // The quasi-Newton stage's gradient at its optimum is the
            // certificate's, unless the zero trials moved θ (then one more).
            let own = usize::from(!r.zeroed.is_empty());
            assert_eq!(r.certificate.evaluations, own);
            assert_eq!(r.certificate.method, "analytic");
            assert_certified(&format!("{data} {formula} reml={reml}"), r);
        }
    }
}

#[test]
fn a_singular_fit_certifies_with_a_non_negative_one_sided_derivative() {
    let mut m = lmm("dyestuff2", "Yield ~ 1 + (1 | Batch)");
    let r = m.fit(false).unwrap().clone();
    assert_eq!(r.final_theta, vec![0.0]);
    assert_certified("dyestuff2", &r);
    let g = r.certificate.gradient[0];
    assert!(g >= 0.0, "one-sided derivative {g}");
    // The same from the analytic gradient at the bound.
    assert_eq!(m.gradient_at(&[0.0]).unwrap()[0], g);
}

#[test]
fn a_capped_fit_fails_the_certificate_with_and_without_its_restart() {
    let start = [1.0, 0.0, 1.0];
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    for restart in [false, true] {
        let mut m = lmm("sleepstudy", formula);
        let settings = FitSettings {
            max_evaluations: 4,
            certificate_restart: restart,
            optimizer: OptimizerChoice::Bobyqa,
            ..FitSettings::default()
        };
        let r = m.fit_with(&settings, Some(&start)).unwrap().clone();
        report(&format!("capped, restart {restart}"), &r);
        assert!(!r.converged());
        let c = &r.certificate;
        assert_eq!(c.status, CertificateStatus::Failed);
        assert_eq!(c.restarted, restart);
        assert!(!c.failing.is_empty());
        assert!(c.max_scaled > c.tolerance);
        for &i in &c.failing {
            let scaled = c.gradient[i].abs() * r.final_theta[i].abs().max(1.0) / r.fmin.abs();
            assert!(scaled > c.tolerance, "component {i}");
        }
        // The fit's own evaluations are unchanged by the certificate.
        assert_eq!(r.stages[0].evaluations, 4);
        assert_eq!(r.evaluations, r.fitlog.len());
        // One gradient, or two and the restart's 4 evaluations.
        assert_eq!(c.evaluations, if restart { 1 + 4 + 1 } else { 1 });
        // The certificate holds at the returned θ.
        let g = m.gradient_at(&r.final_theta).unwrap();
        assert_eq!(g, c.gradient);
    }
}

#[test]
fn a_cap_that_the_restart_fixes() {
    // Dyestuff takes 13 evaluations from θ = 1; a cap of 8 stops short,
    // and 8 more from the best point (a fresh radius) converge.
    let mut m = lmm("dyestuff", "Yield ~ 1 + (1 | Batch)");
    let settings = FitSettings {
        max_evaluations: 8,
        optimizer: OptimizerChoice::Bobyqa,
        ..FitSettings::default()
    };
    let r = m.fit_with(&settings, Some(&[1.0])).unwrap().clone();
    report("dyestuff capped at 8", &r);
    assert!(!r.converged());
    assert!(r.certificate.restarted);
    assert_eq!(r.certificate.status, CertificateStatus::Certified);
    assert_eq!(r.evaluations, r.fitlog.len());
}

#[test]
fn a_capped_quasi_newton_fit_hands_over_to_bobyqa() {
    // Capped at 4 evaluations the BFGS stage stops short (not a failure:
    // no BOBYQA stage) and the certificate fails at its point, where BFGS's
    // gradient is known (no evaluation of its own). The restart is BOBYQA's
    // 4 evaluations, whose first interpolation points do not improve on the
    // point: it stays, with its known gradient, and fails again.
    let start = [1.0, 0.0, 1.0];
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    for restart in [false, true] {
        let mut m = lmm("sleepstudy", formula);
        let settings = FitSettings {
            max_evaluations: 4,
            certificate_restart: restart,
            ..FitSettings::default()
        };
        let r = m.fit_with(&settings, Some(&start)).unwrap().clone();
        report(&format!("auto capped, restart {restart}"), &r);
        assert_eq!(r.stages.len(), 1);
        assert_eq!(r.stages[0].optimizer, StageOptimizer::Bfgs);
        assert_eq!(r.stages[0].evaluations, 4);
        assert!(!r.converged());
        let c = &r.certificate;
        assert_eq!(c.restarted, restart);
        assert_eq!(c.evaluations, if restart { 4 } else { 0 });
        assert_eq!(c.status, CertificateStatus::Failed);
        // The certificate holds at the returned θ.
        let g = m.gradient_at(&r.final_theta).unwrap();
        assert_eq!(g, c.gradient);
    }
}

fn glmm(
    data: &mixedmodels::data::Data,
    formula: &str,
    family: Family,
    opts: &GlmmOptions,
) -> GeneralizedLinearMixedModel {
    GeneralizedLinearMixedModel::new(formula, data, family, None, opts).unwrap()
}

#[test]
fn generalized_linear_mixed_models_certify() {
    let mut cbpp = dataset("cbpp");
    let column = |name: &str| match cbpp.column(name).unwrap() {
        Column::Numeric { values, .. } => values.clone(),
        _ => unreachable!(),
    };
    let size = column("size");
    let prop: Vec<f64> = column("incidence")
        .iter()
        .zip(&size)
        .map(|(k, n)| k / n)
        .collect();
    cbpp.add_column("prop", Column::numeric(prop)).unwrap();
    let weighted = GlmmOptions {
        weights: Some(size),
        ..GlmmOptions::default()
    };
    let plain = GlmmOptions::default();
    let contraception = dataset("contraception");
    let grouseticks = dataset("grouseticks");
    let cases: [(&str, &mixedmodels::data::Data, &str, Family, &GlmmOptions); 3] = [
        (
            "cbpp",
            &cbpp,
            "prop ~ 1 + period + (1 | herd)",
            Family::Binomial,
            &weighted,
        ),
        (
            "contraception",
            &contraception,
            "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)",
            Family::Bernoulli,
            &plain,
        ),
        (
            "grouseticks",
            &grouseticks,
            "TICKS ~ 1 + YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
            Family::Poisson,
            &plain,
        ),
    ];
    for (name, data, formula, family, opts) in cases {
        for fast in [true, false] {
            let mut m = glmm(data, formula, family, opts);
            let r = m.fit(fast, 1).unwrap();
            let p = r.final_beta.len();
            let t = r.final_theta.len();
            let c = &r.certificate;
            if fast {
                assert_eq!(c.scope, CertificateScope::Theta);
                assert_eq!(c.gradient.len(), t);
            } else {
                assert_eq!(c.scope, CertificateScope::BetaTheta);
                assert_eq!(c.gradient.len(), p + t);
            }
            assert_certified(&format!("{name} fast={fast}"), r);
        }
    }
}

#[test]
fn a_capped_joint_glmm_fit_restarts_in_beta_and_theta() {
    let data = dataset("contraception");
    let formula = "use ~ 1 + age + abs2(age) + livch + urban + (1 | district)";
    for restart in [false, true] {
        let mut m = glmm(&data, formula, Family::Bernoulli, &GlmmOptions::default());
        // BOBYQA: two stages, each capped (the quasi-Newton fit has one).
        let settings = FitSettings {
            max_evaluations: 6,
            certificate_restart: restart,
            optimizer: OptimizerChoice::Bobyqa,
            ..FitSettings::default()
        };
        let r = m.fit_with(&settings).unwrap().clone();
        report(&format!("contraception capped at 6, restart {restart}"), &r);
        let c = &r.certificate;
        assert_eq!(c.scope, CertificateScope::BetaTheta);
        assert_eq!(c.restarted, restart);
        assert_eq!(r.evaluations, r.fitlog.len());
        assert_eq!(r.stages.iter().map(|s| s.evaluations).sum::<usize>(), 12);
        // The Laplace objective's exact gradient counts as one evaluation.
        assert_eq!(c.method, "analytic");
        if restart {
            // One evaluation for the standard errors, the gradient twice and
            // the restart's 6 evaluations.
            assert_eq!(c.evaluations, 1 + 2 + 6);
        } else {
            assert_eq!(c.status, CertificateStatus::Failed);
            assert_eq!(c.evaluations, 1 + 1);
            assert!(!c.failing.is_empty());
        }
        // The status agrees with the failing components.
        assert_eq!(c.status == CertificateStatus::Failed, !c.failing.is_empty());
    }
}
