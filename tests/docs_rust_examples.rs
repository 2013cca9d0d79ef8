//! The Rust examples of the documentation site (`docs/rust.md` includes the code between
//! the `--8<--` markers), run here so that the documentation shows code that compiles and
//! works.

// --8<-- [start:use]
use mixedmodels::data::{Column, Data};
use mixedmodels::{
    Family, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions, MixedModel,
};
// --8<-- [end:use]

#[test]
fn readme_linear_mixed_model() -> mixedmodels::Result<()> {
    // --8<-- [start:lmm]
    let data = Data::new()
        .with_column("y", Column::numeric(vec![1.0, 2.0, 2.5, 4.0, 3.0, 3.5]))?
        .with_column("g", Column::from_strings(&["a", "a", "b", "b", "c", "c"]))?;
    let mut m = LinearMixedModel::new("y ~ 1 + (1 | g)", &data, &LmmOptions::default())?;
    m.fit(false)?; // false: maximum likelihood; true: REML
    println!("{m}");
    // --8<-- [end:lmm]

    // --8<-- [start:trait]
    // The MixedModel trait gives both models the same accessors.
    println!("theta = {:?}, beta = {:?}", m.theta(), m.beta());
    println!(
        "objective = {}, loglikelihood = {}",
        m.objective(),
        m.loglikelihood()?
    );
    for row in m.coeftable() {
        println!("{}: {} (se {})", row.name, row.estimate, row.stderror);
    }
    for term in m.varcorr().terms {
        println!("{}: sd {:?}", term.group, term.sd);
    }
    // --8<-- [end:trait]

    // A balanced one-way layout has closed-form ML estimates: β̂ is the grand mean, σ̂²
    // the within-group mean square and σ̂_g² = ((a − 1)/a · MSB − MSW) / n.
    let y = [1.0, 2.0, 2.5, 4.0, 3.0, 3.5];
    let grand = y.iter().sum::<f64>() / 6.0;
    let means: Vec<f64> = y.chunks(2).map(|c| (c[0] + c[1]) / 2.0).collect();
    let msw = y
        .chunks(2)
        .zip(&means)
        .map(|(c, mean)| (c[0] - mean).powi(2) + (c[1] - mean).powi(2))
        .sum::<f64>()
        / 3.0;
    let msb = means
        .iter()
        .map(|mean| 2.0 * (mean - grand).powi(2))
        .sum::<f64>()
        / 2.0;
    let sd_g = ((2.0 / 3.0 * msb - msw) / 2.0).sqrt();
    assert!((m.beta()[0] - grand).abs() < 1e-8);
    assert!((m.scale().powi(2) - msw).abs() < 1e-6 * msw);
    assert!((m.varcorr().terms[0].sd[0] - sd_g).abs() < 1e-5 * sd_g);
    Ok(())
}

#[test]
fn generalized_linear_mixed_model() -> mixedmodels::Result<()> {
    // --8<-- [start:glmm]
    let successes = vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let x: Vec<f64> = (0..12).map(|i| f64::from(i % 4)).collect();
    let groups = ["a", "a", "a", "a", "b", "b", "b", "b", "c", "c", "c", "c"];
    let data = Data::new()
        .with_column("y", Column::numeric(successes))?
        .with_column("x", Column::numeric(x))?
        .with_column("g", Column::from_strings(&groups))?;
    let mut g = GeneralizedLinearMixedModel::new(
        "y ~ 1 + x + (1 | g)",
        &data,
        Family::Bernoulli,
        None, // the canonical (logit) link
        &GlmmOptions::default(),
    )?;
    g.fit(false, 1)?; // fast = false (θ and β jointly), nagq = 1 (Laplace)
    println!("{g}");
    // --8<-- [end:glmm]
    assert!(g.is_fitted() && g.objective().is_finite());
    assert_eq!(g.coef_names(), ["(Intercept)", "x"]);
    Ok(())
}
