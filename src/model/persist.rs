//! Saving and restoring a fit: the fit record as versioned JSON with exact
//! doubles (MixedModels.jl's `saveoptsum` / `restoreoptsum!`). Numbers are
//! written in their shortest round-trip form and read back exactly;
//! non-finite values (θ's lower bounds, failed evaluations) are written as
//! the strings `"inf"`, `"-inf"` and `"nan"`.
//!
//! Fields added after the first files were written are optional on reading:
//! a file without the certificate reads as not checked, one without the
//! optimizer of each stage (all written when BOBYQA was the only one) as
//! BOBYQA with no gradients.

use serde_json::{json, Map, Value};

use super::certificate::{Certificate, CertificateScope, CertificateStatus, CERTIFICATE_TOL};
use super::record::{
    FitLogEntry, FitRecord, FitSettings, OptimizerChoice, Stage, StageOptimizer, StageRecord,
};
use crate::error::{Error, Result};
use crate::optim::ReturnCode;

/// The format's name, written into every file.
pub const FORMAT: &str = "mixedmodels-fit";
/// The format's version; files of a later version are refused.
pub const VERSION: u64 = 1;

/// What identifies the model a fit belongs to, checked on restore.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelIdentity {
    /// `LinearMixedModel` or `GeneralizedLinearMixedModel`.
    pub kind: String,
    /// The formula as given.
    pub formula: String,
    /// Observations used.
    pub nobs: usize,
    /// lme4's θ names.
    pub theta_names: Vec<String>,
    /// Fixed-effects coefficient names.
    pub coef_names: Vec<String>,
    /// Family and link (GLMMs), e.g. `Bernoulli`, `LogitLink`.
    pub family: Option<(String, String)>,
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("nan")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn nums(v: &[f64]) -> Value {
    Value::Array(v.iter().map(|&x| num(x)).collect())
}

fn bad(what: &str) -> Error {
    Error::Restore {
        message: format!("`{what}` is missing or malformed"),
    }
}

fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a Value> {
    o.get(key).ok_or_else(|| bad(key))
}

fn read_num(v: &Value, what: &str) -> Result<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| bad(what)),
        Value::String(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(bad(what)),
        },
        _ => Err(bad(what)),
    }
}

fn read_nums(v: &Value, what: &str) -> Result<Vec<f64>> {
    v.as_array()
        .ok_or_else(|| bad(what))?
        .iter()
        .map(|x| read_num(x, what))
        .collect()
}

fn read_usize(v: &Value, what: &str) -> Result<usize> {
    v.as_u64().map(|x| x as usize).ok_or_else(|| bad(what))
}

fn read_strings(v: &Value, what: &str) -> Result<Vec<String>> {
    v.as_array()
        .ok_or_else(|| bad(what))?
        .iter()
        .map(|x| x.as_str().map(str::to_string).ok_or_else(|| bad(what)))
        .collect()
}

fn code_to_json(code: &ReturnCode) -> Value {
    match code {
        ReturnCode::Converged => json!({"kind": "converged"}),
        ReturnCode::FtolReached => json!({"kind": "ftol_reached"}),
        ReturnCode::MaxEvaluations => json!({"kind": "max_evaluations"}),
        ReturnCode::Failure(m) => json!({"kind": "failure", "message": m}),
    }
}

fn code_from_json(v: &Value) -> Result<ReturnCode> {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("return_code"))?;
    Ok(match kind {
        "converged" => ReturnCode::Converged,
        "ftol_reached" => ReturnCode::FtolReached,
        "max_evaluations" => ReturnCode::MaxEvaluations,
        "failure" => ReturnCode::Failure(
            v.get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
        _ => return Err(bad("return_code")),
    })
}

fn certificate_to_json(c: &Certificate) -> Value {
    json!({
        "status": c.status.name(),
        "scope": c.scope.name(),
        "method": c.method,
        "tolerance": num(c.tolerance),
        "gradient": nums(&c.gradient),
        "failing": c.failing,
        "max_scaled": num(c.max_scaled),
        "restarted": c.restarted,
        "evaluations": c.evaluations,
        "seconds": num(c.seconds),
    })
}

fn certificate_from_json(v: &Value) -> Result<Certificate> {
    let c = v.as_object().ok_or_else(|| bad("certificate"))?;
    Ok(Certificate {
        status: get(c, "status")?
            .as_str()
            .and_then(CertificateStatus::from_name)
            .ok_or_else(|| bad("status"))?,
        scope: get(c, "scope")?
            .as_str()
            .and_then(CertificateScope::from_name)
            .ok_or_else(|| bad("scope"))?,
        method: get(c, "method")?
            .as_str()
            .ok_or_else(|| bad("method"))?
            .to_string(),
        tolerance: read_num(get(c, "tolerance")?, "tolerance")?,
        gradient: read_nums(get(c, "gradient")?, "gradient")?,
        failing: get(c, "failing")?
            .as_array()
            .ok_or_else(|| bad("failing"))?
            .iter()
            .map(|v| read_usize(v, "failing"))
            .collect::<Result<_>>()?,
        max_scaled: read_num(get(c, "max_scaled")?, "max_scaled")?,
        restarted: get(c, "restarted")?
            .as_bool()
            .ok_or_else(|| bad("restarted"))?,
        evaluations: read_usize(get(c, "evaluations")?, "evaluations")?,
        seconds: read_num(get(c, "seconds")?, "seconds")?,
    })
}

/// The saved form of a fit of the model `id`, with the GLMM's conditional
/// modes `u` (empty for LMMs), as a JSON string.
pub fn to_json(id: &ModelIdentity, record: &FitRecord, u: &[f64]) -> String {
    let s = &record.settings;
    let stages: Vec<Value> = record
        .stages
        .iter()
        .map(|st| {
            json!({
                "stage": st.stage.name(),
                "optimizer": st.optimizer.name(),
                "evaluations": st.evaluations,
                "gradient_evaluations": st.gradient_evaluations,
                "factorizations": st.factorizations,
                "seconds": num(st.seconds),
                "rho_begin": num(st.rho_begin),
                "rho_end": num(st.rho_end),
                "return_code": code_to_json(&st.return_code),
            })
        })
        .collect();
    let fitlog: Vec<Value> = record
        .fitlog
        .iter()
        .map(|e| {
            json!({
                "theta": nums(&e.theta),
                "beta": nums(&e.beta),
                "objective": num(e.objective),
                "joint": e.joint,
            })
        })
        .collect();
    let doc = json!({
        "format": FORMAT,
        "version": VERSION,
        "model": {
            "kind": id.kind,
            "formula": id.formula,
            "nobs": id.nobs,
            "theta_names": id.theta_names,
            "coef_names": id.coef_names,
            "family": id.family.as_ref().map(|f| f.0.clone()),
            "link": id.family.as_ref().map(|f| f.1.clone()),
        },
        "settings": {
            "optimizer": s.optimizer.name(),
            "reml": s.reml,
            "fast": s.fast,
            "nagq": s.nagq,
            "rho_begin": num(s.rho_begin),
            "rho_end": num(s.rho_end),
            "max_evaluations": s.max_evaluations,
            "pirls_tol": num(s.pirls_tol),
            "threads": s.threads,
            "certificate_tol": num(s.certificate_tol),
            "certificate_restart": s.certificate_restart,
        },
        "initial": nums(&record.initial),
        "finitial": num(record.finitial),
        "lower": nums(&record.lower),
        "final_theta": nums(&record.final_theta),
        "final_beta": nums(&record.final_beta),
        "final_u": nums(u),
        "fmin": num(record.fmin),
        "evaluations": record.evaluations,
        "gradient_evaluations": record.gradient_evaluations,
        "zeroed": record.zeroed,
        "factorizations": record.factorizations,
        "seconds": num(record.seconds),
        "stages": stages,
        "fitlog": fitlog,
        "certificate": certificate_to_json(&record.certificate),
    });
    serde_json::to_string_pretty(&doc).expect("a JSON value serialises")
}

/// Read a saved fit and check that it belongs to the model `id`. Returns
/// the record and the saved conditional modes (empty for LMMs).
pub fn from_json(text: &str, id: &ModelIdentity) -> Result<(FitRecord, Vec<f64>)> {
    let doc: Value = serde_json::from_str(text).map_err(|e| Error::Restore {
        message: format!("not a JSON document ({e})"),
    })?;
    let o = doc.as_object().ok_or_else(|| bad("document"))?;
    if get(o, "format")?.as_str() != Some(FORMAT) {
        return Err(Error::Restore {
            message: format!("not a saved fit (its `format` is not \"{FORMAT}\")"),
        });
    }
    let version = get(o, "version")?.as_u64().ok_or_else(|| bad("version"))?;
    if version > VERSION {
        return Err(Error::Restore {
            message: format!(
                "saved by a later version of the format ({version}; this one reads up to {VERSION})"
            ),
        });
    }
    let model = get(o, "model")?.as_object().ok_or_else(|| bad("model"))?;
    let mismatch = |what: &str, saved: String, here: String| Error::Restore {
        message: format!("the saved fit's {what} is {saved}, this model's is {here}"),
    };
    let kind = get(model, "kind")?.as_str().ok_or_else(|| bad("kind"))?;
    if kind != id.kind {
        return Err(mismatch("kind", kind.into(), id.kind.clone()));
    }
    let nobs = read_usize(get(model, "nobs")?, "nobs")?;
    if nobs != id.nobs {
        return Err(mismatch(
            "number of observations",
            nobs.to_string(),
            id.nobs.to_string(),
        ));
    }
    let theta_names = read_strings(get(model, "theta_names")?, "theta_names")?;
    if theta_names != id.theta_names {
        return Err(mismatch(
            "θ",
            format!("{theta_names:?}"),
            format!("{:?}", id.theta_names),
        ));
    }
    let coef_names = read_strings(get(model, "coef_names")?, "coef_names")?;
    if coef_names != id.coef_names {
        return Err(mismatch(
            "fixed effects",
            format!("{coef_names:?}"),
            format!("{:?}", id.coef_names),
        ));
    }
    if let Some((family, link)) = &id.family {
        let f = model.get("family").and_then(Value::as_str).unwrap_or("");
        let l = model.get("link").and_then(Value::as_str).unwrap_or("");
        if f != family || l != link {
            return Err(mismatch(
                "family and link",
                format!("{f} ({l})"),
                format!("{family} ({link})"),
            ));
        }
    }
    let s = get(o, "settings")?
        .as_object()
        .ok_or_else(|| bad("settings"))?;
    let settings = FitSettings {
        optimizer: get(s, "optimizer")?
            .as_str()
            .and_then(OptimizerChoice::from_name)
            .ok_or_else(|| bad("optimizer"))?,
        reml: get(s, "reml")?.as_bool().ok_or_else(|| bad("reml"))?,
        fast: get(s, "fast")?.as_bool().ok_or_else(|| bad("fast"))?,
        nagq: read_usize(get(s, "nagq")?, "nagq")?,
        rho_begin: read_num(get(s, "rho_begin")?, "rho_begin")?,
        rho_end: read_num(get(s, "rho_end")?, "rho_end")?,
        max_evaluations: read_usize(get(s, "max_evaluations")?, "max_evaluations")?,
        pirls_tol: read_num(get(s, "pirls_tol")?, "pirls_tol")?,
        threads: match get(s, "threads")? {
            Value::Null => None,
            v => Some(read_usize(v, "threads")?),
        },
        // Optional: files written before the certificate lack them.
        certificate_tol: match s.get("certificate_tol") {
            None => CERTIFICATE_TOL,
            Some(v) => read_num(v, "certificate_tol")?,
        },
        certificate_restart: match s.get("certificate_restart") {
            None => true,
            Some(v) => v.as_bool().ok_or_else(|| bad("certificate_restart"))?,
        },
    };
    let stages = get(o, "stages")?
        .as_array()
        .ok_or_else(|| bad("stages"))?
        .iter()
        .map(|st| {
            let st = st.as_object().ok_or_else(|| bad("stages"))?;
            Ok(StageRecord {
                stage: match get(st, "stage")?.as_str() {
                    Some("theta") => Stage::Theta,
                    Some("joint") => Stage::Joint,
                    _ => return Err(bad("stage")),
                },
                // Optional: files written before the quasi-Newton method.
                optimizer: match st.get("optimizer") {
                    None => StageOptimizer::Bobyqa,
                    Some(v) => v
                        .as_str()
                        .and_then(StageOptimizer::from_name)
                        .ok_or_else(|| bad("optimizer"))?,
                },
                evaluations: read_usize(get(st, "evaluations")?, "evaluations")?,
                gradient_evaluations: match st.get("gradient_evaluations") {
                    None => 0,
                    Some(v) => read_usize(v, "gradient_evaluations")?,
                },
                factorizations: read_usize(get(st, "factorizations")?, "factorizations")?,
                seconds: read_num(get(st, "seconds")?, "seconds")?,
                rho_begin: read_num(get(st, "rho_begin")?, "rho_begin")?,
                rho_end: read_num(get(st, "rho_end")?, "rho_end")?,
                return_code: code_from_json(get(st, "return_code")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if stages.is_empty() {
        return Err(bad("stages"));
    }
    let fitlog = get(o, "fitlog")?
        .as_array()
        .ok_or_else(|| bad("fitlog"))?
        .iter()
        .map(|e| {
            let e = e.as_object().ok_or_else(|| bad("fitlog"))?;
            Ok(FitLogEntry {
                theta: read_nums(get(e, "theta")?, "theta")?,
                beta: read_nums(get(e, "beta")?, "beta")?,
                objective: read_num(get(e, "objective")?, "objective")?,
                joint: get(e, "joint")?.as_bool().ok_or_else(|| bad("joint"))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let record = FitRecord {
        settings,
        initial: read_nums(get(o, "initial")?, "initial")?,
        finitial: read_num(get(o, "finitial")?, "finitial")?,
        lower: read_nums(get(o, "lower")?, "lower")?,
        final_theta: read_nums(get(o, "final_theta")?, "final_theta")?,
        final_beta: read_nums(get(o, "final_beta")?, "final_beta")?,
        fmin: read_num(get(o, "fmin")?, "fmin")?,
        evaluations: read_usize(get(o, "evaluations")?, "evaluations")?,
        gradient_evaluations: match o.get("gradient_evaluations") {
            None => 0,
            Some(v) => read_usize(v, "gradient_evaluations")?,
        },
        zeroed: get(o, "zeroed")?
            .as_array()
            .ok_or_else(|| bad("zeroed"))?
            .iter()
            .map(|v| read_usize(v, "zeroed"))
            .collect::<Result<_>>()?,
        factorizations: read_usize(get(o, "factorizations")?, "factorizations")?,
        seconds: read_num(get(o, "seconds")?, "seconds")?,
        stages,
        fitlog,
        certificate: match o.get("certificate") {
            None => Certificate::not_checked(CertificateScope::Theta),
            Some(v) => certificate_from_json(v)?,
        },
    };
    if record.final_theta.len() != id.theta_names.len()
        || record.final_beta.len() != id.coef_names.len()
    {
        return Err(bad("final_theta"));
    }
    let u = read_nums(get(o, "final_u")?, "final_u")?;
    Ok((record, u))
}

/// A restored optimum must reproduce: the objective at the saved θ (and β,
/// û) on this model's data equals the saved one to 1e-9 relative.
pub fn check_reproduces(record: &FitRecord, objective: f64) -> Result<()> {
    let fmin = record.fmin;
    if (objective - fmin).abs() > 1e-9 * fmin.abs().max(1.0) {
        return Err(Error::Restore {
            message: format!(
                "its optimum {fmin} does not reproduce on these data (objective {objective})"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> FitRecord {
        FitRecord {
            settings: FitSettings::default(),
            initial: vec![1.0, 0.0],
            finitial: 1_784.642_296_192_167,
            lower: vec![0.0, f64::NEG_INFINITY],
            final_theta: vec![0.929_220_7, 0.018_165_3],
            final_beta: vec![251.405_104_848_485_3, 0.1 + 0.2],
            fmin: 1_751.939_344_464_691_3,
            evaluations: 3,
            gradient_evaluations: 1,
            zeroed: vec![],
            factorizations: 3,
            seconds: 1e-3,
            stages: vec![
                StageRecord {
                    stage: Stage::Theta,
                    optimizer: StageOptimizer::Bfgs,
                    evaluations: 1,
                    gradient_evaluations: 1,
                    factorizations: 1,
                    seconds: 1e-3,
                    rho_begin: 0.5,
                    rho_end: 1e-8,
                    return_code: ReturnCode::Failure("a \"quoted\" reason".into()),
                },
                StageRecord {
                    stage: Stage::Theta,
                    optimizer: StageOptimizer::Bobyqa,
                    evaluations: 2,
                    gradient_evaluations: 0,
                    factorizations: 2,
                    seconds: 1e-3,
                    rho_begin: 0.75,
                    rho_end: 1e-6,
                    return_code: ReturnCode::Converged,
                },
            ],
            fitlog: vec![FitLogEntry {
                theta: vec![1.0, 0.0],
                beta: vec![],
                objective: f64::INFINITY,
                joint: false,
            }],
            certificate: Certificate {
                status: CertificateStatus::Failed,
                scope: CertificateScope::BetaTheta,
                method: "central differences".into(),
                tolerance: 1e-4,
                gradient: vec![0.5, -0.0, 1e-300, 3.25],
                failing: vec![0, 3],
                max_scaled: 0.5,
                restarted: true,
                evaluations: 17,
                seconds: 2e-3,
            },
        }
    }

    fn id() -> ModelIdentity {
        ModelIdentity {
            kind: "LinearMixedModel".into(),
            formula: "y ~ 1 + x + (1 | g)".into(),
            nobs: 10,
            theta_names: vec!["g.(Intercept)".into(), "g.x.(Intercept)".into()],
            coef_names: vec!["(Intercept)".into(), "x".into()],
            family: None,
        }
    }

    #[test]
    fn round_trip_is_exact_including_non_finite_values() {
        let r = record();
        let text = to_json(&id(), &r, &[0.5, -1e-300]);
        let (back, u) = from_json(&text, &id()).unwrap();
        assert_eq!(back, r);
        assert_eq!(u, vec![0.5, -1e-300]);
        assert_eq!(back.final_beta[1].to_bits(), (0.1f64 + 0.2).to_bits());
    }

    #[test]
    fn a_file_without_the_certificate_reads_as_not_checked() {
        let text = to_json(&id(), &record(), &[]);
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        let o = doc.as_object_mut().unwrap();
        o.remove("certificate");
        let s = o["settings"].as_object_mut().unwrap();
        s.remove("certificate_tol");
        s.remove("certificate_restart");
        let (back, _) = from_json(&doc.to_string(), &id()).unwrap();
        assert_eq!(back.certificate.status, CertificateStatus::NotChecked);
        assert_eq!(back.settings, FitSettings::default());
        assert_eq!(back.fitlog, record().fitlog);
    }

    #[test]
    fn a_file_written_before_the_quasi_newton_method_reads_as_bobyqa() {
        // Such a file names the optimizer "BOBYQA" in its settings and has
        // no optimizer or gradient count per stage, nor a total.
        let mut old = record();
        old.settings.optimizer = OptimizerChoice::Bobyqa;
        let text = to_json(&id(), &old, &[]);
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        let o = doc.as_object_mut().unwrap();
        o.remove("gradient_evaluations");
        o["settings"]["optimizer"] = json!("BOBYQA");
        for st in o["stages"].as_array_mut().unwrap() {
            let st = st.as_object_mut().unwrap();
            st.remove("optimizer");
            st.remove("gradient_evaluations");
        }
        let (back, _) = from_json(&doc.to_string(), &id()).unwrap();
        assert_eq!(back.settings.optimizer, OptimizerChoice::Bobyqa);
        assert_eq!(back.gradient_evaluations, 0);
        for st in &back.stages {
            assert_eq!(st.optimizer, StageOptimizer::Bobyqa);
            assert_eq!(st.gradient_evaluations, 0);
        }
        // An unknown optimizer name is refused.
        doc["settings"]["optimizer"] = json!("newton");
        assert!(matches!(
            from_json(&doc.to_string(), &id()),
            Err(Error::Restore { .. })
        ));
    }

    #[test]
    fn a_fit_of_another_model_or_format_is_refused() {
        let text = to_json(&id(), &record(), &[]);
        let mut other = id();
        other.nobs = 11;
        assert!(matches!(
            from_json(&text, &other),
            Err(Error::Restore { .. })
        ));
        let mut other = id();
        other.coef_names.pop();
        assert!(matches!(
            from_json(&text, &other),
            Err(Error::Restore { .. })
        ));
        let later = text.replace("\"version\": 1", "\"version\": 99");
        assert!(matches!(
            from_json(&later, &id()),
            Err(Error::Restore { .. })
        ));
        assert!(matches!(from_json("{", &id()), Err(Error::Restore { .. })));
        assert!(matches!(from_json("{}", &id()), Err(Error::Restore { .. })));
    }
}
