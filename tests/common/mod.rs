//! Shared helpers of the integration tests: load the CSV copies of the data
//! sets (tests/data, exported from datasets/*.parquet) and the JSON fixtures.
#![allow(dead_code)]

use std::path::PathBuf;

use mixedmodels::data::{Column, Data, MISSING_CODE};

/// Path of a file relative to the repository root.
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Load data set `name` from tests/data/<name>.csv with its level order.
pub fn dataset(name: &str) -> Data {
    let text = std::fs::read_to_string(repo_path(&format!("tests/data/{name}.csv"))).unwrap();
    let levels_text =
        std::fs::read_to_string(repo_path(&format!("tests/data/{name}.levels"))).unwrap();
    let mut lines = text.lines();
    let header: Vec<(String, String)> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| {
            let (n, t) = h.rsplit_once(':').unwrap();
            (n.to_string(), t.to_string())
        })
        .collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut data = Data::new();
    for (j, (name, kind)) in header.iter().enumerate() {
        let col = if kind == "enum" {
            let levels: Vec<String> = levels_text
                .lines()
                .map(|l| l.split('\t').collect::<Vec<_>>())
                .find(|parts| parts[0] == name)
                .unwrap()[1..]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let codes = rows
                .iter()
                .map(|r| {
                    let v = r[j].trim_matches('"');
                    if v.is_empty() {
                        MISSING_CODE
                    } else {
                        levels
                            .iter()
                            .position(|l| l == v)
                            .unwrap_or_else(|| panic!("{name}: level {v}"))
                            as u32
                    }
                })
                .collect();
            Column::categorical(codes, levels)
        } else {
            let values = rows
                .iter()
                .map(|r| {
                    if r[j].is_empty() {
                        f64::NAN
                    } else {
                        r[j].parse::<f64>().unwrap()
                    }
                })
                .collect();
            Column::Numeric {
                values,
                integer: kind == "int",
            }
        };
        data.add_column(name.clone(), col).unwrap();
    }
    data
}

/// Parse a JSON file relative to the repository root.
pub fn json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(repo_path(rel)).unwrap()).unwrap()
}

/// The lme4 reference record with id `id` from tests/reference/lme4_public.json.
pub fn lme4_record(id: &str) -> serde_json::Value {
    let all = json("tests/reference/lme4_public.json");
    all["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
        .clone()
}

/// Floats of a JSON array, or the values of a JSON object in order.
pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Object(o) => {
            o.values().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()
        }
        _ => v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect(),
    }
}

/// Values of a JSON object of name → number, in order.
pub fn named_floats(v: &serde_json::Value) -> Vec<(String, f64)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| (k.clone(), x.as_f64().unwrap()))
        .collect()
}

/// Assert |a − b| ≤ rtol·|b| (or ≤ rtol when b is 0).
#[track_caller]
pub fn assert_rel(a: f64, b: f64, rtol: f64, what: &str) {
    let scale = if b == 0.0 { 1.0 } else { b.abs() };
    assert!(
        (a - b).abs() <= rtol * scale,
        "{what}: got {a}, want {b} (rtol {rtol}, rel err {:e})",
        (a - b).abs() / scale
    );
}
