//! Marginal means of a reference grid: for each combination of the `specs`
//! factors (and `by` predictors) the equally weighted average of the grid
//! rows with those values (emmeans' default weights), as a linear function
//! lᵀβ (+ the average offset).

use super::grid::{combinations, ReferenceGrid};
use crate::error::{Error, Result};

/// The linear functions of the marginal means.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalMeans {
    /// Index (into the grid's variables) of each spec, then each `by` predictor.
    pub variables: Vec<usize>,
    /// How many of [`MarginalMeans::variables`] are specs (the rest are `by`).
    pub nspecs: usize,
    /// Per mean, the value index of each of [`MarginalMeans::variables`]
    /// (the specs varying fastest, then the `by` predictors).
    pub cells: Vec<Vec<usize>>,
    /// Per mean, its `by` group (0 without `by`).
    pub group: Vec<usize>,
    /// Per mean, l (the average of its grid rows of X).
    pub l: Vec<Vec<f64>>,
    /// Per mean, the average offset of its grid rows.
    pub offset: Vec<f64>,
}

impl MarginalMeans {
    /// The number of `by` groups.
    pub fn ngroups(&self) -> usize {
        self.group.iter().max().map_or(0, |g| g + 1)
    }

    /// The indices of the means of group `g`, in order.
    pub fn members(&self, g: usize) -> Vec<usize> {
        (0..self.group.len())
            .filter(|&i| self.group[i] == g)
            .collect()
    }
}

fn position(grid: &ReferenceGrid, name: &str, what: &str) -> Result<usize> {
    grid.variables
        .iter()
        .position(|v| v.name == name)
        .ok_or_else(|| Error::Column {
            column: name.to_string(),
            message: format!("is not a predictor of the model's fixed effects (`{what}`)"),
        })
}

/// The marginal means of `grid` for the predictors `specs`, split by `by`
/// (a numeric covariate takes its grid values: its mean, or those in `at`).
pub fn marginal_means(
    grid: &ReferenceGrid,
    specs: &[String],
    by: &[String],
) -> Result<MarginalMeans> {
    if specs.is_empty() {
        return Err(Error::argument("specs", "names no factor"));
    }
    let mut variables = Vec::new();
    for (names, what) in [(specs, "specs"), (by, "by")] {
        for name in names {
            let k = position(grid, name, what)?;
            if variables.contains(&k) {
                return Err(Error::Column {
                    column: name.clone(),
                    message: "is named twice in `specs` / `by`".into(),
                });
            }
            variables.push(k);
        }
    }
    let sizes: Vec<usize> = variables.iter().map(|&k| grid.variables[k].len()).collect();
    let cells = combinations(&sizes);
    let per_group: usize = sizes[..specs.len()].iter().product();
    let p = grid.x.first().map_or(0, Vec::len);
    let mut l = Vec::with_capacity(cells.len());
    let mut offset = Vec::with_capacity(cells.len());
    for cell in &cells {
        let rows: Vec<usize> = (0..grid.cells.len())
            .filter(|&r| {
                variables
                    .iter()
                    .zip(cell)
                    .all(|(&k, &v)| grid.cells[r][k] == v)
            })
            .collect();
        let w = 1.0 / rows.len() as f64;
        l.push(
            (0..p)
                .map(|j| rows.iter().map(|&r| grid.x[r][j]).sum::<f64>() * w)
                .collect(),
        );
        offset.push(rows.iter().map(|&r| grid.offset[r]).sum::<f64>() * w);
    }
    let group = (0..cells.len()).map(|i| i / per_group).collect();
    Ok(MarginalMeans {
        variables,
        nspecs: specs.len(),
        cells,
        group,
        l,
        offset,
    })
}
