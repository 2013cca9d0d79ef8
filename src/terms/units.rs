//! The natural unit of each θ entry, from the size of its random-effects
//! column, so that fits do not depend on the units a predictor is measured in.
//!
//! λ_ij multiplies u_j (spherical, of unit scale) into the random effect b_i,
//! which multiplies column i of the term's model matrix Z. If that column is
//! multiplied by c, the same model has b_i divided by c, so every entry of
//! λ's row i is divided by c. A column's size is measured by its root mean
//! square s over the rows used; the θ entries of row i then have the unit
//! 1/s, rounded to a power of two so that converting to and from that unit
//! is exact in floating point.
//!
//! Columns whose root mean square lies within [1/16, 16] keep the unit 1:
//! models with ordinary columns (intercepts, indicators, a covariate such as
//! sleepstudy's `Days`, s = 5.3) start where lme4 and MixedModels.jl start
//! (θ₀ = identity) and take the same path. Over that band the optimizer reaches
//! the optimum to 1e-12 relative (sleepstudy with `Days` times 2⁻⁴ … 2⁴),
//! while at s = 2000 it stopped 4e-5 above it and at s = 2e-3 took 900
//! evaluations. Outside the band the unit brings the column to a root mean
//! square within [2^-½, 2^½].

/// Columns with a root mean square in [1/`BAND`, `BAND`] keep the unit 1.
pub const UNIT_BAND: f64 = 16.0;

/// The scale of a model-matrix column with root mean square `rms`: 1 within
/// [1/[`UNIT_BAND`], [`UNIT_BAND`]] (or when `rms` is 0 or not finite),
/// else the power of two nearest to `rms` on a log scale.
pub fn column_scale(rms: f64) -> f64 {
    if !(rms.is_finite() && rms > 0.0) || (1.0 / UNIT_BAND..=UNIT_BAND).contains(&rms) {
        return 1.0;
    }
    // Powers of two from 2^-1000 to 2^1000 are exact and finite.
    let e = rms.log2().round().clamp(-1000.0, 1000.0) as i32;
    2f64.powi(e)
}

/// Root mean square of column `j` of the row-major `n × v` matrix `z`.
pub fn column_rms(z: &[f64], v: usize, j: usize) -> f64 {
    let n = z.len() / v.max(1);
    if n == 0 {
        return 0.0;
    }
    // Scale by the largest magnitude first so that squares neither overflow
    // nor underflow.
    let big = (0..n).map(|i| z[i * v + j].abs()).fold(0.0, f64::max);
    if !(big.is_finite() && big > 0.0) {
        return big;
    }
    let ss: f64 = (0..n).map(|i| (z[i * v + j] / big).powi(2)).sum();
    big * (ss / n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_one_in_the_band_and_powers_of_two_outside() {
        assert_eq!(column_scale(1.0), 1.0);
        assert_eq!(column_scale(5.34), 1.0);
        assert_eq!(column_scale(16.0), 1.0);
        assert_eq!(column_scale(0.0625), 1.0);
        assert_eq!(column_scale(0.0), 1.0);
        assert_eq!(column_scale(f64::NAN), 1.0);
        assert_eq!(column_scale(53.4), 64.0);
        assert_eq!(column_scale(5.34e8), 2f64.powi(29));
        assert_eq!(column_scale(5.34e-8), 2f64.powi(-24));
        assert_eq!(column_scale(0.03), 2f64.powi(-5));
        for rms in [17.0, 1e3, 7e12, 3e-2, 1e-9] {
            let r = rms / column_scale(rms);
            assert!((0.5f64.sqrt()..=2f64.sqrt()).contains(&r), "{rms}: {r}");
        }
    }

    #[test]
    fn root_mean_square_of_a_column() {
        // Two columns, three rows: (1, 3), (2, 0), (2, 4).
        let z = [1.0, 3.0, 2.0, 0.0, 2.0, 4.0];
        assert!((column_rms(&z, 2, 0) - 3f64.sqrt()).abs() < 1e-15);
        assert!((column_rms(&z, 2, 1) - (25.0f64 / 3.0).sqrt()).abs() < 1e-14);
        let tiny: Vec<f64> = z.iter().map(|x| x * 1e-200).collect();
        assert!((column_rms(&tiny, 2, 0) / 1e-200 - 3f64.sqrt()).abs() < 1e-14);
        assert_eq!(column_rms(&[0.0, 0.0], 1, 0), 0.0);
        assert_eq!(column_rms(&[], 1, 0), 0.0);
    }
}
