//! BOBYQA on real mixed-model objectives (diagnostics during development).

mod common;

use mixedmodels::contrasts::Coding;
use mixedmodels::optim::{Bobyqa, Optimizer};
use mixedmodels::{LinearMixedModel, LmmOptions};

fn model(data: &str, formula: &str, days_factor: bool) -> LinearMixedModel {
    let mut opts = LmmOptions::default();
    if days_factor {
        opts.contrasts.insert("Days".into(), Coding::Dummy);
    }
    LinearMixedModel::new(formula, &common::dataset(data), &opts).unwrap()
}

fn cases() -> Vec<(&'static str, &'static str, &'static str, bool)> {
    vec![
        ("dyestuff", "dyestuff", "Yield ~ 1 + (1|Batch)", false),
        (
            "sleepstudy",
            "sleepstudy",
            "Reaction ~ 1 + Days + (1 + Days|Subject)",
            false,
        ),
        (
            "penicillin",
            "penicillin",
            "diameter ~ 1 + (1|plate) + (1|sample)",
            false,
        ),
        (
            "pastes",
            "pastes",
            "strength ~ 1 + (1|sample) + (1|batch)",
            false,
        ),
        (
            "zc10",
            "sleepstudy",
            "Reaction ~ 1 + Days + zerocorr(1 + Days | Subject)",
            true,
        ),
        (
            "zc11",
            "sleepstudy",
            "Reaction ~ 1 + Days + (1 | Subject) + zerocorr(0 + Days | Subject)",
            true,
        ),
        (
            "full55",
            "sleepstudy",
            "Reaction ~ 1 + Days + (1 + Days | Subject)",
            true,
        ),
        (
            "split56",
            "sleepstudy",
            "Reaction ~ 1 + Days + (1 | Subject) + (0 + Days | Subject)",
            true,
        ),
    ]
}

#[test]
#[ignore]
fn diag() {
    let which = std::env::var("CASES").unwrap_or_default();
    for (name, data, formula, fac) in cases() {
        if !which.is_empty() && !which.split(',').any(|w| w == name) {
            continue;
        }
        let mut m = model(data, formula, fac);
        let lower = m.lower_bounds();
        let upper = vec![f64::INFINITY; lower.len()];
        let start = m.theta().to_vec();
        let mut ninf = 0;
        let mut f = |th: &[f64]| {
            let v = m.objective_at(th).unwrap_or(f64::INFINITY);
            if !v.is_finite() {
                ninf += 1;
            }
            v
        };
        let t = std::time::Instant::now();
        let r = Bobyqa::default().minimize(&mut f, &start, &lower, &upper);
        println!(
            "{name}: n={} f={:.10} evals={} ninf={} code={:?} time={:.1}s",
            lower.len(),
            r.fmin,
            r.evaluations,
            ninf,
            r.code,
            t.elapsed().as_secs_f64()
        );
    }
}
