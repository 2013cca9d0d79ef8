//! `lmm::many`: each response's fit equals the fit of a model built for that
//! response alone (to 1e-10 relative: the same fit from θ₀; only the order
//! in which A's blocks were filled may differ); the fits do not depend on
//! the number of threads (bit for bit); bad responses are refused with
//! typed errors naming the response.

mod common;

use common::*;
use mixedmodels::data::{Column, Data};
use mixedmodels::interrupt::Interrupt;
use mixedmodels::lmm::many::{design, fit_many, ManyFits, ManyOptions, Response};
use mixedmodels::{Error, LinearMixedModel, LmmOptions, MixedModel};

const RHS: &str = "1 + Days + (1 + Days | Subject)";

/// Reaction times, perturbed differently for each k (deterministic).
fn responses(data: &Data, k: usize) -> Vec<(String, Vec<f64>)> {
    let Column::Numeric { values, .. } = data.column("Reaction").unwrap() else {
        panic!("Reaction is numeric")
    };
    (0..k)
        .map(|j| {
            let y = values
                .iter()
                .enumerate()
                .map(|(i, v)| v * (1.0 + 0.02 * j as f64) + 15.0 * ((i * (j + 3)) as f64).sin())
                .collect();
            (format!("y{j}"), y)
        })
        .collect()
}

fn run(data: &Data, ys: &[(String, Vec<f64>)], reml: bool, threads: usize) -> ManyFits {
    let m = design(&format!("y ~ {RHS}"), data, &LmmOptions::default()).unwrap();
    let rs: Vec<Response> = ys
        .iter()
        .map(|(name, values)| Response { name, values })
        .collect();
    let options = ManyOptions {
        reml,
        threads: Some(threads),
        ..ManyOptions::default()
    };
    fit_many(&m, &rs, &options, &Interrupt::new(), &mut |_| {}).unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-10 * b.abs().max(1.0),
        "{what}: {a} against {b}"
    );
}

#[test]
fn each_response_equals_its_single_fit() {
    let data = dataset("sleepstudy");
    let ys = responses(&data, 20);
    for reml in [false, true] {
        let fits = run(&data, &ys, reml, 2);
        assert_eq!(fits.theta_names.len(), 3);
        assert_eq!(fits.coef_names, ["(Intercept)", "Days"]);
        for ((name, y), fit) in ys.iter().zip(&fits.fits) {
            let mut d = data.clone();
            d.add_column("y", Column::numeric(y.clone())).unwrap();
            let mut single =
                LinearMixedModel::new(&format!("y ~ {RHS}"), &d, &LmmOptions::default()).unwrap();
            let evaluations = single.fit(reml).unwrap().evaluations;
            let e = &fit.estimates;
            assert!(e.converged, "{name}: {:?}", e.warning);
            assert_eq!(fit.evaluations, evaluations, "{name}");
            close(e.objective, single.objective(), name);
            close(e.sigma.unwrap(), single.sigma(), name);
            for (a, b) in e.theta.iter().zip(single.theta()) {
                close(*a, *b, name);
            }
            for (a, b) in e.beta.iter().zip(single.beta()) {
                close(*a, b, name);
            }
        }
    }
}

#[test]
fn fits_do_not_depend_on_the_number_of_threads() {
    let data = dataset("sleepstudy");
    let ys = responses(&data, 12);
    let one = run(&data, &ys, false, 1);
    let two = run(&data, &ys, false, 2);
    let five = run(&data, &ys, false, 5);
    assert_eq!(one, two);
    assert_eq!(one, five);
    assert_eq!(one.responses[11], "y11");
}

#[test]
fn bad_responses_are_refused_with_their_names() {
    let data = dataset("sleepstudy");
    let m = design(RHS, &data, &LmmOptions::default()).unwrap();
    let mut ys = responses(&data, 2);
    let call = |ys: &[(String, Vec<f64>)]| {
        let rs: Vec<Response> = ys
            .iter()
            .map(|(name, values)| Response { name, values })
            .collect();
        fit_many(
            &m,
            &rs,
            &ManyOptions::default(),
            &Interrupt::new(),
            &mut |_| {},
        )
    };
    ys[1].1[7] = f64::NAN;
    match call(&ys) {
        Err(Error::Row { column, row, .. }) => assert_eq!((column.as_str(), row), ("y1", 7)),
        other => panic!("expected a row error, got {other:?}"),
    }
    ys[1].1.pop();
    match call(&ys) {
        Err(Error::Column { column, .. }) => assert_eq!(column, "y1"),
        other => panic!("expected a column error, got {other:?}"),
    }
    match call(&[]) {
        Err(Error::Argument { parameter, .. }) => assert_eq!(parameter, "responses"),
        other => panic!("expected an argument error, got {other:?}"),
    }
    let mut taken = data.clone();
    taken
        .add_column(
            mixedmodels::lmm::many::PLACEHOLDER_RESPONSE,
            Column::numeric(vec![0.0; data.nrows()]),
        )
        .unwrap();
    assert!(matches!(
        design(RHS, &taken, &LmmOptions::default()),
        Err(Error::Column { .. })
    ));
}
