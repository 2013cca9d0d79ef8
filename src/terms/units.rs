//! The natural unit of each θ entry, from the size of its random-effects
//! column, so that fits do not depend on the units a predictor is measured in.
//!
//! λ_ij multiplies u_j (spherical, of unit scale) into the random effect b_i,
//! which multiplies column i of the term's model matrix Z. If that column is
//! multiplied by c, the same model has b_i divided by c, so every entry of
//! λ's row i is divided by c. A column's size s is the root mean square of
//! its non-zero entries over the rows used (an indicator column has size 1
//! however rare its level); the θ entries of row i then have the unit 1/s,
//! rounded to a power of two so that converting to and from that unit is
//! exact in floating point.
//!
//! Columns of size within [1/8, 8] keep the unit 1: models with ordinary
//! columns (intercepts, indicators, a covariate such as sleepstudy's `Days`,
//! s = 5.6) start where lme4 and MixedModels.jl start (θ₀ = identity) and
//! take the same path. Outside the band the unit brings the column to a size
//! within [2^-½, 2^½]. Measured on sleepstudy's ML fit with `Days` times c
//! (size 5.6c): without units, sizes 0.09, 0.35, 1.4, 5.6, 11, 23, 90, 360
//! and 2250 took 178, 71, 60, 63, 73, 81, 148, 198 and 59 evaluations, the
//! last stopping 2.5e-4 (relative) above the optimum; with them, the sizes
//! outside the band take 60 evaluations (45 for c = 400) and reach the
//! optimum to 1e-14 — for c a power of two the scaled problem is the same
//! to the bit. Contraception's `(1 + age | district)` (age: size 9), joint
//! fit: 99 evaluations and 1.3e-6 above the optimum without units, 65
//! evaluations with them.

/// Columns of a size in [1/`UNIT_BAND`, `UNIT_BAND`] keep the unit 1.
pub const UNIT_BAND: f64 = 8.0;

/// The scale of a model-matrix column of size `size`: 1 within
/// [1/[`UNIT_BAND`], [`UNIT_BAND`]] (or when `size` is 0 or not finite),
/// else the power of two nearest to `size` on a log scale.
pub fn column_scale(size: f64) -> f64 {
    if !(size.is_finite() && size > 0.0) || (1.0 / UNIT_BAND..=UNIT_BAND).contains(&size) {
        return 1.0;
    }
    // Powers of two from 2^-1000 to 2^1000 are exact and finite.
    let e = size.log2().round().clamp(-1000.0, 1000.0) as i32;
    2f64.powi(e)
}

/// The size of column `j` of the row-major `n × v` matrix `z`: the root
/// mean square of its non-zero entries (0 for a column of zeros).
pub fn column_size(z: &[f64], v: usize, j: usize) -> f64 {
    let n = z.len() / v.max(1);
    let column = || (0..n).map(|i| z[i * v + j]).filter(|x| *x != 0.0);
    // Divide by the largest magnitude first so that squares neither
    // overflow nor underflow.
    let big = column().fold(0.0, |a, x| f64::max(a, x.abs()));
    if !(big.is_finite() && big > 0.0) {
        return big;
    }
    let (ss, count) = column().fold((0.0, 0usize), |(s, c), x| (s + (x / big).powi(2), c + 1));
    big * (ss / count as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_one_in_the_band_and_powers_of_two_outside() {
        assert_eq!(column_scale(1.0), 1.0);
        assert_eq!(column_scale(5.63), 1.0);
        assert_eq!(column_scale(8.0), 1.0);
        assert_eq!(column_scale(0.125), 1.0);
        assert_eq!(column_scale(0.0), 1.0);
        assert_eq!(column_scale(f64::NAN), 1.0);
        assert_eq!(column_scale(9.01), 8.0);
        assert_eq!(column_scale(53.4), 64.0);
        assert_eq!(column_scale(5.63e8), 2f64.powi(29));
        assert_eq!(column_scale(5.63e-8), 2f64.powi(-24));
        assert_eq!(column_scale(0.03), 2f64.powi(-5));
        for size in [8.1, 1e3, 7e12, 3e-2, 1e-9] {
            let r = size / column_scale(size);
            assert!((0.5f64.sqrt()..=2f64.sqrt()).contains(&r), "{size}: {r}");
        }
    }

    #[test]
    fn size_of_a_column() {
        // Two columns, three rows: (1, 3), (2, 0), (2, 4).
        let z = [1.0, 3.0, 2.0, 0.0, 2.0, 4.0];
        assert!((column_size(&z, 2, 0) - 3f64.sqrt()).abs() < 1e-15);
        // The zero is left out: √((9 + 16) / 2).
        assert!((column_size(&z, 2, 1) - 12.5f64.sqrt()).abs() < 1e-14);
        let tiny: Vec<f64> = z.iter().map(|x| x * 1e-200).collect();
        assert!((column_size(&tiny, 2, 0) / 1e-200 - 3f64.sqrt()).abs() < 1e-14);
        let huge: Vec<f64> = z.iter().map(|x| x * 1e300).collect();
        assert!((column_size(&huge, 2, 1) / 1e300 - 12.5f64.sqrt()).abs() < 1e-14);
        // An indicator has size 1 however rare its level.
        let mut rare = vec![0.0; 1000];
        rare[7] = 1.0;
        assert_eq!(column_size(&rare, 1, 0), 1.0);
        assert_eq!(column_size(&[0.0, 0.0], 1, 0), 0.0);
        assert_eq!(column_size(&[], 1, 0), 0.0);
    }
}
