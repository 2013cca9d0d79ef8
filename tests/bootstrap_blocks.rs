//! `inference::bootstrap` in blocks: replicates run as blocks
//! (`BootstrapOptions::first`) and joined by `ParametricBootstrap::merge`
//! equal the bootstrap run in one piece, bit for bit; merge refuses gaps,
//! overlaps and blocks of another bootstrap.

mod common;

use common::*;
use mixedmodels::inference::bootstrap::{
    parametric_bootstrap, BootstrapOptions, ParametricBootstrap,
};
use mixedmodels::interrupt::Interrupt;
use mixedmodels::{Error, LinearMixedModel, LmmOptions};

fn sleepstudy() -> LinearMixedModel {
    let mut m = LinearMixedModel::new(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        &dataset("sleepstudy"),
        &LmmOptions::default(),
    )
    .unwrap();
    m.fit(false).unwrap();
    m
}

fn block(m: &LinearMixedModel, first: usize, n: usize, seed: u64) -> ParametricBootstrap {
    let options = BootstrapOptions {
        n,
        first,
        seed,
        threads: Some(1),
        ..BootstrapOptions::default()
    };
    parametric_bootstrap(m, &options, &Interrupt::new(), &mut |_| {}).unwrap()
}

#[test]
fn blocks_merge_into_the_whole_bootstrap() {
    let m = sleepstudy();
    let whole = block(&m, 0, 12, 5);
    let parts = vec![block(&m, 7, 5, 5), block(&m, 0, 3, 5), block(&m, 3, 4, 5)];
    assert_eq!(parts[0].first, 7);
    let merged = ParametricBootstrap::merge(parts).unwrap();
    assert_eq!(merged, whole);
}

#[test]
fn merge_refuses_gaps_overlaps_and_other_bootstraps() {
    let m = sleepstudy();
    let refused = |parts: Vec<ParametricBootstrap>| match ParametricBootstrap::merge(parts) {
        Err(Error::Argument { parameter, .. }) => assert_eq!(parameter, "blocks"),
        other => panic!("expected an argument error, got {other:?}"),
    };
    refused(vec![]);
    refused(vec![block(&m, 0, 2, 5), block(&m, 3, 2, 5)]);
    refused(vec![block(&m, 0, 2, 5), block(&m, 1, 2, 5)]);
    refused(vec![block(&m, 0, 2, 5), block(&m, 2, 2, 6)]);
}
