//! `progress`: a sink carried by a model's interrupt sees every evaluation a
//! fit logs (in order, with its value) and every stage it records, for a
//! linear model (both optimizers) and a generalized one (fast and joint);
//! a profile reports its parameters and a bootstrap its replicates.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mixedmodels::inference::bootstrap::{parametric_bootstrap, BootstrapOptions};
use mixedmodels::inference::{profile_glmm, profile_lmm, ProfileSettings};
use mixedmodels::interrupt::Interrupt;
use mixedmodels::model::FitRecord;
use mixedmodels::progress::{ProgressCounter, ProgressSink};
use mixedmodels::{
    Family, FitSettings, GeneralizedLinearMixedModel, GlmmOptions, LinearMixedModel, LmmOptions,
};

/// A sink that keeps every report.
#[derive(Default)]
struct Recorder {
    objectives: Mutex<Vec<f64>>,
    stages: Mutex<Vec<&'static str>>,
    units: Mutex<Vec<(usize, usize)>>,
}

impl ProgressSink for Recorder {
    fn evaluation(&self, objective: f64) {
        self.objectives.lock().unwrap().push(objective);
    }
    fn stage(&self, name: &'static str) {
        self.stages.lock().unwrap().push(name);
    }
    fn units(&self, done: usize, total: usize) {
        self.units.lock().unwrap().push((done, total));
    }
}

/// The reports of `recorder` are the record's evaluations and stages.
fn assert_reports_match(recorder: &Recorder, record: &FitRecord) {
    let seen: Vec<u64> = recorder
        .objectives
        .lock()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let logged: Vec<u64> = record
        .fitlog
        .iter()
        .map(|e| e.objective.to_bits())
        .collect();
    assert_eq!(seen.len(), record.evaluations);
    assert_eq!(seen, logged);
    let stages: Vec<String> = record
        .stages
        .iter()
        .map(|s| format!("{} ({})", s.stage.name(), s.optimizer.name()))
        .collect();
    assert_eq!(*recorder.stages.lock().unwrap(), stages);
}

fn sleepstudy(formula: &str) -> LinearMixedModel {
    LinearMixedModel::new(formula, &dataset("sleepstudy"), &LmmOptions::default()).unwrap()
}

fn cbpp() -> GeneralizedLinearMixedModel {
    GeneralizedLinearMixedModel::new(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        &dataset("cbpp"),
        Family::Binomial,
        None,
        &GlmmOptions::default(),
    )
    .unwrap()
}

#[test]
fn a_linear_fit_reports_every_evaluation_and_stage() {
    for threads in [Some(1), None] {
        for optimizer in ["auto", "bobyqa"] {
            let mut m = sleepstudy("Reaction ~ 1 + Days + (1 + Days | Subject)");
            let recorder = Arc::new(Recorder::default());
            m.set_interrupt(Interrupt::new().with_progress(recorder.clone()));
            let settings = FitSettings {
                optimizer: mixedmodels::model::OptimizerChoice::from_name(optimizer).unwrap(),
                threads,
                ..FitSettings::default()
            };
            let record = m.fit_with(&settings, None).unwrap();
            assert!(record.evaluations > 5);
            assert_reports_match(&recorder, record);
        }
    }
}

#[test]
fn a_generalized_fit_reports_every_evaluation_and_stage() {
    for fast in [true, false] {
        let mut m = cbpp();
        let recorder = Arc::new(Recorder::default());
        m.set_interrupt(Interrupt::new().with_progress(recorder.clone()));
        let record = m.fit(fast, 1).unwrap();
        assert!(record.evaluations > 2, "{}", record.evaluations);
        assert_reports_match(&recorder, record);
    }
}

#[test]
fn a_counter_ends_at_the_records_evaluations_and_best_objective() {
    let mut m = sleepstudy("Reaction ~ 1 + Days + (1 | Subject)");
    let counter = Arc::new(ProgressCounter::new());
    m.set_interrupt(Interrupt::new().with_progress(counter.clone()));
    let record = m.fit(false).unwrap();
    let seen = counter.snapshot();
    assert_eq!(seen.evaluations, record.evaluations);
    let best = record
        .fitlog
        .iter()
        .map(|e| e.objective)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(seen.best, Some(best));
    // The optimum is among the logged evaluations.
    assert!((best - record.fmin).abs() <= 1e-9 * record.fmin.abs());
}

#[test]
fn profiles_report_each_parameter() {
    let mut m = sleepstudy("Reaction ~ 1 + Days + (1 | Subject)");
    m.fit(false).unwrap();
    let recorder = Arc::new(Recorder::default());
    m.set_interrupt(Interrupt::new().with_progress(recorder.clone()));
    let profile = profile_lmm(&mut m, &ProfileSettings::default()).unwrap();
    let k = profile.parameters.len();
    assert_eq!(k, 4); // sd, σ, two coefficients
    let expected: Vec<(usize, usize)> = (0..=k).map(|i| (i, k)).collect();
    assert_eq!(*recorder.units.lock().unwrap(), expected);

    let mut g = cbpp();
    g.fit(false, 1).unwrap();
    let counter = Arc::new(ProgressCounter::new());
    g.set_interrupt(Interrupt::new().with_progress(counter.clone()));
    let profile = profile_glmm(&mut g, &ProfileSettings::default()).unwrap();
    let seen = counter.snapshot();
    assert_eq!((seen.done, seen.total), (5, 5));
    assert_eq!(profile.parameters.len(), 5);
}

#[test]
fn a_bootstrap_reports_its_replicates_not_their_evaluations() {
    let mut m = sleepstudy("Reaction ~ 1 + Days + (1 | Subject)");
    m.fit(false).unwrap();
    let counter = Arc::new(ProgressCounter::new());
    let interrupt = Interrupt::new().with_progress(counter.clone());
    let options = BootstrapOptions {
        n: 12,
        seed: 3,
        threads: Some(2),
        ..BootstrapOptions::default()
    };
    let mut last = 0;
    let b = parametric_bootstrap(&m, &options, &interrupt, &mut |done| last = done).unwrap();
    assert_eq!(b.replicates.len(), 12);
    let seen = counter.snapshot();
    assert_eq!((seen.done, seen.total), (12, 12));
    assert_eq!(last, 12);
    assert_eq!(seen.evaluations, 0);
}
