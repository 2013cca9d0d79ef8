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

/// Ridders' extrapolation of a difference quotient `q(h)` from `h0`,
/// shrinking h by 1.4 per step: a Neville tableau eliminating the error
/// terms h^(order·j) (order 2 for central differences, 1 for one-sided
/// ones); the estimate with the smallest error estimate wins, and the
/// search stops once the error grows (rounding takes over).
pub fn ridders(mut q: impl FnMut(f64) -> f64, h0: f64, order: i32) -> f64 {
    const SHRINK: f64 = 1.4;
    const STEPS: usize = 10;
    let ratio = SHRINK.powi(order);
    let mut h = h0;
    let mut prev: Vec<f64> = vec![q(h)];
    let (mut best, mut err) = (prev[0], f64::INFINITY);
    for _ in 1..STEPS {
        h /= SHRINK;
        let mut row = vec![q(h)];
        let mut fac = ratio;
        for j in 1..=prev.len() {
            let next = (row[j - 1] * fac - prev[j - 1]) / (fac - 1.0);
            let e = (next - row[j - 1]).abs().max((next - prev[j - 1]).abs());
            if e <= err {
                err = e;
                best = next;
            }
            row.push(next);
            fac *= ratio;
        }
        let n = prev.len();
        if (row[n] - prev[n - 1]).abs() >= 2.0 * err {
            break;
        }
        prev = row;
    }
    best
}

/// The simulated data written into a fixture: numeric columns stay numeric,
/// string columns become factors.
pub fn fixture_data(fx: &serde_json::Value) -> Data {
    let mut data = Data::new();
    for (name, col) in fx["data"].as_object().unwrap() {
        let v = col.as_array().unwrap();
        let column = if v[0].is_string() {
            let s: Vec<&str> = v.iter().map(|x| x.as_str().unwrap()).collect();
            Column::from_strings(&s)
        } else {
            Column::numeric(v.iter().map(|x| x.as_f64().unwrap()).collect())
        };
        data.add_column(name.clone(), column).unwrap();
    }
    data
}

/// The rows `rows` of `data`, with every column's level list unchanged.
pub fn take(data: &Data, rows: &[usize]) -> Data {
    let mut out = Data::new();
    for name in data.names() {
        let col = match data.get(name).unwrap() {
            Column::Numeric { values, integer } => Column::Numeric {
                values: rows.iter().map(|&i| values[i]).collect(),
                integer: *integer,
            },
            Column::Categorical { codes, levels } => Column::Categorical {
                codes: rows.iter().map(|&i| codes[i]).collect(),
                levels: levels.clone(),
            },
        };
        out.add_column(name.clone(), col).unwrap();
    }
    out
}

/// The rows of `data` in the order `order`, cut into chunks of `size`.
pub fn chunks(data: &Data, order: &[usize], size: usize) -> Vec<Data> {
    order.chunks(size).map(|rows| take(data, rows)).collect()
}

/// A deterministic stream of uniform numbers in [0, 1) from `seed` (Knuth's
/// MMIX linear congruential generator, its top 53 bits): reproducible test
/// data without a dependency.
pub fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}
