//! Contrast coefficients among k marginal means, as emmeans names and orders
//! them: pairwise differences (`"pairwise"`, `"revpairwise"`), each level
//! against the first (`"trt.vs.ctrl"`), consecutive differences
//! (`"consec"`), orthogonal polynomials scaled to integers (`"poly"`), or
//! named custom weights.

use crate::error::{Error, Result};

/// Which contrasts to form.
#[derive(Debug, Clone, PartialEq)]
pub enum ContrastMethod {
    /// Every pair i < j: mean i − mean j.
    Pairwise,
    /// Every pair i > j: mean i − mean j (emmeans' `revpairwise`, `pairs(reverse = TRUE)`).
    RevPairwise,
    /// Every level but the first minus the first.
    TrtVsCtrl,
    /// Each level minus the one before it.
    Consec,
    /// Orthogonal polynomials in the level order (equally spaced).
    Poly,
    /// Named weights, one per mean.
    Custom(Vec<(String, Vec<f64>)>),
}

impl ContrastMethod {
    /// The method named `name` (`"pairwise"`, `"revpairwise"`, `"trt.vs.ctrl"`,
    /// `"consec"`, `"poly"`).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "pairwise" => ContrastMethod::Pairwise,
            "revpairwise" => ContrastMethod::RevPairwise,
            "trt.vs.ctrl" => ContrastMethod::TrtVsCtrl,
            "consec" => ContrastMethod::Consec,
            "poly" => ContrastMethod::Poly,
            other => {
                return Err(Error::argument(
                    "method",
                    format!(
                        "unknown contrast method {other:?}; use \"pairwise\", \"revpairwise\", \
                         \"trt.vs.ctrl\", \"consec\", \"poly\" or a dict of weights"
                    ),
                ))
            }
        })
    }

    /// Are these the pairwise comparisons (the family Tukey's method covers)?
    pub fn is_pairwise(&self) -> bool {
        matches!(self, ContrastMethod::Pairwise | ContrastMethod::RevPairwise)
    }
}

/// The contrasts among means labelled `labels`: (label, weights) per contrast.
pub fn contrast_coefficients(
    method: &ContrastMethod,
    labels: &[String],
) -> Result<Vec<(String, Vec<f64>)>> {
    let k = labels.len();
    let unit = |i: usize, j: usize| {
        let mut w = vec![0.0; k];
        w[i] = 1.0;
        w[j] = -1.0;
        (format!("{} - {}", labels[i], labels[j]), w)
    };
    let too_few = || {
        Error::argument(
            "method",
            format!("contrasts need at least 2 means per group, got {k}"),
        )
    };
    if k < 2 && !matches!(method, ContrastMethod::Custom(_)) {
        return Err(too_few());
    }
    Ok(match method {
        ContrastMethod::Pairwise => (0..k)
            .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
            .map(|(i, j)| unit(i, j))
            .collect(),
        ContrastMethod::RevPairwise => (1..k)
            .flat_map(|i| (0..i).map(move |j| (i, j)))
            .map(|(i, j)| unit(i, j))
            .collect(),
        ContrastMethod::TrtVsCtrl => (1..k).map(|i| unit(i, 0)).collect(),
        ContrastMethod::Consec => (1..k).map(|i| unit(i, i - 1)).collect(),
        ContrastMethod::Poly => polynomial_contrasts(k)
            .into_iter()
            .enumerate()
            .map(|(d, w)| (degree_name(d + 1), w))
            .collect(),
        ContrastMethod::Custom(list) => {
            if list.is_empty() {
                return Err(Error::argument("method", "the dict of contrasts is empty"));
            }
            for (name, w) in list {
                if w.len() != k {
                    return Err(Error::argument(
                        "method",
                        format!(
                            "contrast `{name}` has {} weights; there are {k} means per group",
                            w.len()
                        ),
                    ));
                }
                if w.iter().any(|v| !v.is_finite()) {
                    return Err(Error::argument(
                        "method",
                        format!("contrast `{name}` holds non-finite weights"),
                    ));
                }
            }
            list.clone()
        }
    })
}

fn degree_name(d: usize) -> String {
    match d {
        1 => "linear".into(),
        2 => "quadratic".into(),
        3 => "cubic".into(),
        4 => "quartic".into(),
        _ => format!("degree {d}"),
    }
}

/// Orthogonal polynomial contrasts of degrees 1..k−1 on k equally spaced
/// points (Gram–Schmidt on powers of the centred positions), each scaled so
/// that its smallest non-zero weight is ±1 (integers for small k).
pub fn polynomial_contrasts(k: usize) -> Vec<Vec<f64>> {
    let centre = (k as f64 - 1.0) / 2.0;
    let x: Vec<f64> = (0..k).map(|i| i as f64 - centre).collect();
    let mut basis: Vec<Vec<f64>> = vec![vec![1.0 / (k as f64).sqrt(); k]];
    for d in 1..k {
        let mut v: Vec<f64> = x.iter().map(|xi| xi.powi(d as i32)).collect();
        for _ in 0..2 {
            for b in &basis {
                let dot: f64 = v.iter().zip(b).map(|(a, c)| a * c).sum();
                v.iter_mut().zip(b).for_each(|(a, c)| *a -= dot * c);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        basis.push(v);
    }
    basis
        .into_iter()
        .skip(1)
        .map(|v| {
            let small = v
                .iter()
                .map(|a| a.abs())
                .filter(|&a| a > 1e-8)
                .fold(f64::INFINITY, f64::min);
            v.iter()
                .map(|a| {
                    let s = a / small;
                    if (s - s.round()).abs() < 1e-8 {
                        s.round()
                    } else {
                        s
                    }
                })
                .collect()
        })
        .collect()
}

/// The linear function Σᵢ cᵢ lᵢ of contrast weights `c` applied to the means' functions `l`.
pub fn combine(c: &[f64], l: &[&Vec<f64>]) -> Vec<f64> {
    let p = l.first().map_or(0, |r| r.len());
    (0..p)
        .map(|j| c.iter().zip(l).map(|(w, row)| w * row[j]).sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(k: usize) -> Vec<String> {
        (0..k)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect()
    }

    #[test]
    fn families_are_in_emmeans_order() {
        let l = labels(3);
        let names = |m: ContrastMethod| -> Vec<String> {
            contrast_coefficients(&m, &l)
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(ContrastMethod::Pairwise), ["A - B", "A - C", "B - C"]);
        assert_eq!(
            names(ContrastMethod::RevPairwise),
            ["B - A", "C - A", "C - B"]
        );
        assert_eq!(names(ContrastMethod::TrtVsCtrl), ["B - A", "C - A"]);
        assert_eq!(names(ContrastMethod::Consec), ["B - A", "C - B"]);
        assert_eq!(names(ContrastMethod::Poly), ["linear", "quadratic"]);
        assert!(contrast_coefficients(&ContrastMethod::Pairwise, &labels(1)).is_err());
        let bad = ContrastMethod::Custom(vec![("x".into(), vec![1.0, -1.0])]);
        assert!(contrast_coefficients(&bad, &l).is_err());
    }

    #[test]
    fn polynomials_are_the_classic_integer_tables() {
        // R: contr.poly(4) scaled to integers (as emmeans' poly.emmc).
        assert_eq!(
            polynomial_contrasts(4),
            vec![
                vec![-3.0, -1.0, 1.0, 3.0],
                vec![1.0, -1.0, -1.0, 1.0],
                vec![-1.0, 3.0, -3.0, 1.0]
            ]
        );
        assert_eq!(polynomial_contrasts(3)[1], vec![1.0, -2.0, 1.0]);
    }
}
