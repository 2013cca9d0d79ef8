//! A model built from chunks of rows (`mixedmodels::stream`) against the
//! same model built in memory: A is the same sum in another order, so the
//! fits agree to rounding (1e-10 relative: the optimizers follow the same
//! path from A's that differ in the last bits).

mod common;

use common::{assert_rel, chunks, dataset, take, uniform_stream};
use mixedmodels::data::{Column, Data};
use mixedmodels::error::Error;
use mixedmodels::lmm::{LinearMixedModel, LmmOptions};
use mixedmodels::model::{MixedModel, Predict, PredictOptions};
use mixedmodels::stream::{ChunkFitter, ModelBuilder, PartialA};
use mixedmodels::terms::MissingPolicy;

fn streamed(formula: &str, parts: &[Data]) -> LinearMixedModel {
    let mut builder = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
    for part in parts {
        builder.add_chunk(part).unwrap();
    }
    builder.finish().unwrap()
}

fn assert_same_fit(got: &mut LinearMixedModel, want: &mut LinearMixedModel, reml: bool) {
    want.fit(reml).unwrap();
    got.fit(reml).unwrap();
    assert_rel(got.objective(), want.objective(), 1e-10, "objective");
    for (i, (a, b)) in got.theta().iter().zip(want.theta().iter()).enumerate() {
        assert_rel(*a, *b, 1e-10, &format!("theta[{i}]"));
    }
    for (i, (a, b)) in got.beta().into_iter().zip(want.beta()).enumerate() {
        assert_rel(a, b, 1e-10, &format!("beta[{i}]"));
    }
    assert_rel(got.sigma(), want.sigma(), 1e-10, "sigma");
    assert_eq!(got.nobs(), want.nobs());
    assert_eq!(got.coef_names(), want.coef_names());
    assert_eq!(got.terms.random.len(), want.terms.random.len());
    for (a, b) in got.terms.random.iter().zip(&want.terms.random) {
        assert_eq!(a.grouping, b.grouping);
        assert_eq!(a.levels, b.levels);
    }
    assert!(!got.has_rows() && want.has_rows());
}

#[test]
fn sleepstudy_in_reversed_chunks_fits_as_in_memory() {
    let data = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    let order: Vec<usize> = (0..data.nrows()).rev().collect();
    let mut want = LinearMixedModel::new(formula, &data, &LmmOptions::default()).unwrap();
    for reml in [false, true] {
        let mut got = streamed(formula, &chunks(&data, &order, 37));
        assert_same_fit(&mut got, &mut want, reml);
    }
}

/// Crossed factors g (60 levels, integer codes: numeric grouping column)
/// and h (25 levels, categorical), one level of h only in the last rows.
fn crossed() -> Data {
    let n = 3000;
    let mut next = uniform_stream(12345);
    let g: Vec<f64> = (0..n).map(|_| (next() * 60.0).floor() + 1.0).collect();
    let h: Vec<u32> = (0..n)
        .map(|i| {
            if i >= n - 40 {
                24
            } else {
                (next() * 24.0) as u32
            }
        })
        .collect();
    let x: Vec<f64> = (0..n).map(|_| next() * 2.0 - 1.0).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.5 * x[i] + (g[i] * 0.37).sin() + (h[i] as f64 * 0.9).cos() + next())
        .collect();
    let levels: Vec<String> = (0..25).map(|k| format!("h{k:02}")).collect();
    Data::new()
        .with_column("y", Column::numeric(y))
        .unwrap()
        .with_column("x", Column::numeric(x))
        .unwrap()
        .with_column(
            "g",
            Column::Numeric {
                values: g,
                integer: true,
            },
        )
        .unwrap()
        .with_column("h", Column::categorical(h, levels))
        .unwrap()
}

#[test]
fn crossed_factors_with_a_late_level_fit_as_in_memory() {
    let data = crossed();
    let formula = "y ~ 1 + x + (1 | g) + (1 | h)";
    let order: Vec<usize> = (0..data.nrows()).collect();
    let mut want = LinearMixedModel::new(formula, &data, &LmmOptions::default()).unwrap();
    let mut got = streamed(formula, &chunks(&data, &order, 500));
    assert_same_fit(&mut got, &mut want, false);
}

#[test]
fn partial_sums_survive_bytes_and_merge_in_any_grouping() {
    let data = crossed();
    let formula = "y ~ 1 + x + (1 + x | g) + (1 | h)";
    let order: Vec<usize> = (0..data.nrows()).collect();
    let parts = chunks(&data, &order, 700);
    // Each part summed alone, sent as bytes, then merged as a tree.
    let partial = |d: &Data| {
        let mut b = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
        b.add_chunk(d).unwrap();
        PartialA::from_bytes(&b.take_partial().to_bytes()).unwrap()
    };
    let mut left = partial(&parts[0]);
    left.merge(partial(&parts[1])).unwrap();
    let mut right = partial(&parts[2]);
    for p in &parts[3..] {
        right.merge(partial(p)).unwrap();
    }
    left.merge(right).unwrap();
    let mut client = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
    client.learn_coding(&parts[0]).unwrap();
    client.merge(left).unwrap();
    let mut got = client.finish().unwrap();
    let mut want = LinearMixedModel::new(formula, &data, &LmmOptions::default()).unwrap();
    assert_same_fit(&mut got, &mut want, false);
}

#[test]
fn dependent_columns_are_dropped_as_in_memory() {
    let mut data = dataset("sleepstudy");
    let days: Vec<f64> = match data.get("Days").unwrap() {
        Column::Numeric { values, .. } => values.iter().map(|d| 2.0 * d + 1.0).collect(),
        _ => unreachable!(),
    };
    data.add_column("Days2", Column::numeric(days)).unwrap();
    let formula = "Reaction ~ 1 + Days + Days2 + (1 | Subject)";
    let order: Vec<usize> = (0..data.nrows()).collect();
    let mut want = LinearMixedModel::new(formula, &data, &LmmOptions::default()).unwrap();
    let mut got = streamed(formula, &chunks(&data, &order, 50));
    assert_eq!(
        got.terms.fixed.dropped_names(),
        want.terms.fixed.dropped_names()
    );
    assert_same_fit(&mut got, &mut want, false);
}

#[test]
fn rows_are_refused_and_bad_input_is_typed() {
    let data = dataset("sleepstudy");
    let formula = "Reaction ~ 1 + Days + (1 | Subject)";
    let mut m = streamed(formula, std::slice::from_ref(&data));
    m.fit(false).unwrap();
    let y = vec![0.0; 180];
    assert!(matches!(
        m.set_response(&y),
        Err(mixedmodels::error::Error::RowsNotStored { .. })
    ));
    let mut b = ModelBuilder::new(
        "Reaction ~ 1 + Nope + (1 | Subject)",
        &LmmOptions::default(),
    )
    .unwrap();
    match b.add_chunk(&data) {
        Err(mixedmodels::error::Error::Column { column, .. }) => assert_eq!(column, "Nope"),
        other => panic!("expected a column error, got {:?}", other.err()),
    }
    let options = LmmOptions {
        weights: Some(vec![1.0; 180]),
        ..LmmOptions::default()
    };
    assert!(matches!(
        ModelBuilder::new(formula, &options),
        Err(mixedmodels::error::Error::Argument { .. })
    ));
    let empty = ModelBuilder::new(formula, &LmmOptions::default()).unwrap();
    assert!(matches!(
        empty.finish(),
        Err(mixedmodels::error::Error::Data(_))
    ));
}

/// `crossed()` with x missing in every 17th row (rows dropped).
fn crossed_with_missing_x() -> Data {
    let data = crossed();
    let mut out = Data::new();
    for name in data.names() {
        let mut col = data.get(name).unwrap().clone();
        if name == "x" {
            if let Column::Numeric { values, .. } = &mut col {
                values.iter_mut().step_by(17).for_each(|v| *v = f64::NAN);
            }
        }
        out.add_column(name.clone(), col).unwrap();
    }
    out
}

#[test]
fn fitted_values_and_residuals_by_a_second_pass_match_in_memory() {
    // The same β̂, b̂ (fits equal to 1e-10) and the same rows coded as new data:
    // 1e-10 relative to the response's scale.
    let data = crossed_with_missing_x();
    let formula = "y ~ 1 + x + offset(0.5 * x) + (1 | g) + (1 | h)";
    let order: Vec<usize> = (0..data.nrows()).collect();
    let parts = chunks(&data, &order, 450);
    let mut want = LinearMixedModel::new(formula, &data, &LmmOptions::default()).unwrap();
    let mut got = streamed(formula, &parts);
    assert_same_fit(&mut got, &mut want, false);
    let fitter = ChunkFitter::new(&got, MissingPolicy::Drop);
    let (mut fitted, mut residuals, mut used) = (Vec::new(), Vec::new(), 0);
    for (k, part) in parts.iter().enumerate() {
        let chunk = fitter.chunk(part).unwrap();
        assert_eq!(chunk.rows.len(), chunk.fitted.len());
        for &i in &chunk.rows {
            assert_ne!((k * 450 + i) % 17, 0, "a row with x missing was used");
        }
        used += chunk.rows.len();
        fitted.extend(chunk.fitted);
        residuals.extend(chunk.residuals);
    }
    assert_eq!(used, want.nobs());
    let scale = want.y().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in fitted.iter().zip(want.fitted()).enumerate() {
        assert!((a - b).abs() <= 1e-10 * scale, "fitted[{i}]: {a} vs {b}");
    }
    for (i, (a, b)) in residuals.iter().zip(want.residuals()).enumerate() {
        assert!((a - b).abs() <= 1e-10 * scale, "residuals[{i}]: {a} vs {b}");
    }
    // Population values offset + Xβ̂, as predict(random_effects = false).
    let options = PredictOptions {
        random_effects: false,
        ..PredictOptions::default()
    };
    let population = want.predict(None, &options).unwrap();
    let fitter = ChunkFitter::new(&got, MissingPolicy::Drop).population();
    let got_population: Vec<f64> = parts
        .iter()
        .flat_map(|p| fitter.chunk(p).unwrap().fitted)
        .collect();
    assert_eq!(got_population.len(), population.len());
    for (i, (a, b)) in got_population.iter().zip(&population).enumerate() {
        assert!(
            (a - b).abs() <= 1e-10 * scale,
            "population[{i}]: {a} vs {b}"
        );
    }
}

#[test]
fn a_chunk_that_is_not_the_models_is_refused_with_a_typed_error() {
    let data = crossed_with_missing_x();
    let formula = "y ~ 1 + x + (1 | g) + (1 | h)";
    let order: Vec<usize> = (0..data.nrows()).collect();
    let mut m = streamed(formula, &chunks(&data, &order, 1000));
    m.fit(false).unwrap();
    // Missing values under missing = "raise": the column is named.
    match ChunkFitter::new(&m, MissingPolicy::Raise).chunk(&data) {
        Err(Error::Column { column, .. }) => assert_eq!(column, "x"),
        other => panic!("expected a column error, got {other:?}"),
    }
    // A level of a grouping factor the model has not seen.
    let fitter = ChunkFitter::new(&m, MissingPolicy::Drop);
    let new = Data::new()
        .with_column("y", Column::numeric(vec![1.0, 2.0]))
        .unwrap()
        .with_column("x", Column::numeric(vec![0.1, 0.2]))
        .unwrap()
        .with_column("g", Column::numeric(vec![1.0, 2.0]))
        .unwrap()
        .with_column("h", Column::from_strings(&["h01", "zz"]))
        .unwrap();
    match fitter.chunk(&new) {
        Err(Error::Level { column, level, .. }) => assert_eq!((&*column, &*level), ("h", "zz")),
        other => panic!("expected a level error, got {other:?}"),
    }
    // Row 0 (x missing) is left out; a chunk of such rows only gives nothing.
    match fitter.chunk(&take(&data, &[0, 1, 2])) {
        Ok(c) => assert_eq!(c.rows, vec![1, 2]),
        other => panic!("expected two rows, got {other:?}"),
    }
    assert!(fitter
        .chunk(&take(&data, &[0, 17]))
        .unwrap()
        .rows
        .is_empty());
    // A column the formula reads is missing from the chunk.
    let no_h = Data::new()
        .with_column("y", Column::numeric(vec![1.0]))
        .unwrap()
        .with_column("x", Column::numeric(vec![0.1]))
        .unwrap()
        .with_column("g", Column::numeric(vec![1.0]))
        .unwrap();
    match fitter.chunk(&no_h) {
        Err(Error::Column { column, .. }) => assert_eq!(column, "h"),
        other => panic!("expected a column error, got {other:?}"),
    }
}
