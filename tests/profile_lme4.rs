//! Profile and Wald confidence intervals against lme4 1.1-31 (scratch).

mod common;

use common::*;
use mixedmodels::inference::{confint_lmm, profile_lmm, ProfileSettings};
use mixedmodels::{LinearMixedModel, LmmOptions};

#[test]
fn scratch_sleepstudy() {
    for case in ["sleepstudy_ML", "sleepstudy_REML", "cake_REML", "machines_ML", "penicillin_REML", "pastes_ML"] {
        let fx = json(&format!("tests/fixtures/profile_{case}.json"));
        let ds = fx["dataset"].as_str().unwrap();
        let d = dataset(ds);
        let mut m = LinearMixedModel::new(fx["formula"].as_str().unwrap(), &d, &LmmOptions::default()).unwrap();
        m.fit(fx["REML"].as_bool().unwrap()).unwrap();
        let t = std::time::Instant::now();
        let p = profile_lmm(&mut m, &ProfileSettings::default()).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        let spline = p.confint(0.95).unwrap();
        let t = std::time::Instant::now();
        let ci = confint_lmm(&mut m, &p, 0.95).unwrap();
        let t2 = t.elapsed().as_secs_f64();
        println!("{case}: profile {t1:.3}s ({} fits) refine {t2:.3}s dev {} vs {} warnings {:?}", p.conditional_fits, p.deviance, fx["ml"]["deviance"], p.warnings);
        let names: Vec<String> = fx["names_ours"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let lo = floats(&fx["profile_95"]["lower"]);
        let hi = floats(&fx["profile_95"]["upper"]);
        for (k, n) in names.iter().enumerate() {
            let r = ci.iter().position(|r| &r.parameter == n).unwrap_or_else(|| panic!("{n}"));
            let (a, b) = (ci[r].lower.unwrap_or(f64::NAN), ci[r].upper.unwrap_or(f64::NAN));
            let (sa, sb) = (spline[r].lower.unwrap_or(f64::NAN), spline[r].upper.unwrap_or(f64::NAN));
            let rel = |x: f64, y: f64| if y == 0.0 { (x - y).abs() } else { ((x - y) / y).abs() };
            println!("  {n:35} {a:12.6} {b:12.6} | lme4 {:12.6} {:12.6} | rel {:.1e} {:.1e} | spline rel {:.1e} {:.1e}", lo[k], hi[k], rel(a, lo[k]), rel(b, hi[k]), rel(sa, lo[k]), rel(sb, hi[k]));
        }
    }
}

#[test]
fn scratch_cbpp() {
    use mixedmodels::inference::{confint_glmm, profile_glmm};
    use mixedmodels::{Family, GeneralizedLinearMixedModel, GlmmOptions};
    let fx = json("tests/fixtures/profile_cbpp_binomial.json");
    let d = dataset("cbpp");
    let mut m = GeneralizedLinearMixedModel::new(fx["formula"].as_str().unwrap(), &d, Family::Binomial, None, &GlmmOptions::default()).unwrap();
    m.fit(false, 1).unwrap();
    let t = std::time::Instant::now();
    let p = profile_glmm(&mut m, &ProfileSettings::default()).unwrap();
    let t1 = t.elapsed().as_secs_f64();
    let spline = p.confint(0.95).unwrap();
    let t = std::time::Instant::now();
    let ci = confint_glmm(&mut m, &p, 0.95).unwrap();
    let t2 = t.elapsed().as_secs_f64();
    println!("cbpp: profile {t1:.3}s ({} fits) refine {t2:.3}s dev {} vs {} warnings {:?}", p.conditional_fits, p.deviance, fx["ml"]["deviance"], p.warnings);
    let names: Vec<String> = fx["names_ours"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let lo = floats(&fx["profile_95"]["lower"]);
    let hi = floats(&fx["profile_95"]["upper"]);
    for (k, n) in names.iter().enumerate() {
        let r = ci.iter().position(|r| &r.parameter == n).unwrap_or_else(|| panic!("{n}"));
        let (a, b) = (ci[r].lower.unwrap_or(f64::NAN), ci[r].upper.unwrap_or(f64::NAN));
        let (sa, sb) = (spline[r].lower.unwrap_or(f64::NAN), spline[r].upper.unwrap_or(f64::NAN));
        let rel = |x: f64, y: f64| if y == 0.0 { (x - y).abs() } else { ((x - y) / y).abs() };
        println!("  {n:35} {a:12.6} {b:12.6} | lme4 {:12.6} {:12.6} | rel {:.1e} {:.1e} | spline rel {:.1e} {:.1e}", lo[k], hi[k], rel(a, lo[k]), rel(b, hi[k]), rel(sa, lo[k]), rel(sb, hi[k]));
    }
}
