//! Adding one chunk of rows to the partial sums of A: the chunk's terms are
//! built as for an in-memory model (same frame, columns and missing-value
//! rules), A of the chunk is accumulated by the in-memory kernels with
//! compensated sums ([`Structure::fill_a_compensated`]), and its blocks,
//! each sum in two parts, are added to the partial sums under the levels'
//! running numbers: the total does not depend on how the rows were split
//! (see [`crate::blocks::Sum2`]).

use faer::Mat;

use super::partial::{add_parts, LevelKey, PartialA, TermSums};
use crate::blocks::{tri, Block, Structure, Sum2};
use crate::data::{Column, Data};
use crate::error::{Error, Result};
use crate::formula::ModelSpec;
use crate::terms::{
    amalgamate_columns, build_columns, random_pieces, MissingPolicy, ModelFrame, ReTerm,
    TermOptions, Variable,
};

/// A chunk's terms in formula order with, per term, the running number of
/// each of the chunk's levels.
struct ChunkTerms {
    terms: Vec<ReTerm>,
    ids: Vec<Vec<u32>>,
}

/// A working response and √weights per complete row of a chunk, in place of
/// its response and unit weights (a PIRLS pass of a streamed GLMM): the
/// chunk then adds √W[Z X z] to the sums.
pub(crate) struct Working<'a> {
    /// The response before the formula's offsets are subtracted.
    pub response: &'a [f64],
    /// √w per row.
    pub sqrtw: &'a [f64],
}

/// Add the rows of `data` to `partial` (see the module documentation),
/// weighted with a working response when `working` is given;
/// `response_name` labels the response in errors.
pub(crate) fn add_chunk(
    partial: &mut PartialA,
    spec: &ModelSpec,
    options: &TermOptions,
    response_name: &str,
    data: &Data,
    working: Option<Working<'_>>,
) -> Result<Option<ModelFrame>> {
    let vars = spec.variables();
    for v in &vars {
        data.column(v)?;
    }
    if data.nrows() == 0 {
        return Ok(None);
    }
    partial.input_rows += data.nrows() as u64;
    let (complete, counts) = data.complete_cases(&vars)?;
    let counts: Vec<(String, u64)> = counts.into_iter().map(|(c, k)| (c, k as u64)).collect();
    partial.add_missing(&counts);
    if options.missing == MissingPolicy::Raise {
        if let Some((col, _)) = counts.iter().find(|(_, k)| *k > 0) {
            let total = partial
                .missing
                .iter()
                .find(|(c, _)| c == col)
                .map_or(0, |m| m.1);
            return Err(Error::Column {
                column: col.clone(),
                message: format!("has {total} missing values (missing=\"raise\")"),
            });
        }
    }
    if complete.nrows() == 0 {
        return Ok(None);
    }
    let frame = ModelFrame::new(spec, &complete, &options.contrasts, MissingPolicy::Drop)?;
    let n = frame.nrows();
    let mut y = match frame.response(&spec.response)?.0 {
        Variable::Numeric(v) => v,
        Variable::Factor { .. } => {
            let message = "the response is categorical; a linear mixed model needs a numeric \
                           response (use a generalized linear mixed model for a binary response)";
            return Err(Error::wrong_type(response_name, response_name, message));
        }
    };
    if let Some(wk) = &working {
        if wk.response.len() != n || wk.sqrtw.len() != n {
            return Err(Error::Data(format!(
                "a working response of {} rows for a chunk of {n} complete rows",
                wk.response.len()
            )));
        }
        y.copy_from_slice(wk.response);
    }
    for (k, expr) in spec.offsets.iter().enumerate() {
        let o = frame.eval(expr, &format!("offset #{}", k + 1))?;
        y.iter_mut().zip(&o).for_each(|(a, b)| *a -= b);
    }
    let columns = build_columns(&spec.fixed, &frame)?;
    if partial.is_empty() {
        partial.x_names = columns.names.clone();
        partial.term_of = columns.term_of.clone();
        partial.xy_xy = vec![Sum2::default(); (columns.names.len() + 1).pow(2)];
        partial.y_stats = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    } else if partial.x_names != columns.names {
        return Err(Error::Data(format!(
            "two chunks of the data give different fixed-effects columns ({} and {}); give \
             categorical columns the same levels in every chunk",
            partial.x_names.join(", "),
            columns.names.join(", ")
        )));
    }
    let w = partial.width();
    let chunk = chunk_terms(partial, spec, &frame, w)?;
    // [X y] of the chunk, all columns of X (the rank is decided on the sums).
    let mut xy = Mat::zeros(n, w);
    for (j, col) in columns.values.iter().chain(std::iter::once(&y)).enumerate() {
        xy.col_mut(j)
            .try_as_col_major_mut()
            .unwrap()
            .as_slice_mut()
            .copy_from_slice(col);
    }
    let sqrtw = working.map(|wk| wk.sqrtw);
    if let Some(sw) = sqrtw {
        for j in 0..w {
            let col = xy.col_mut(j).try_as_col_major_mut().unwrap().as_slice_mut();
            col.iter_mut().zip(sw).for_each(|(v, s)| *v *= s);
        }
    }
    let structure = Structure::new_sparse(&chunk.terms, w - 1, n);
    let mut a = structure.zeros_a();
    let mut lo = Vec::new();
    structure.fill_a_compensated(&mut a, Some(&mut lo), &chunk.terms, &xy, sqrtw);
    add_blocks(partial, &chunk, &a, &lo, w);
    partial.nobs += n as u64;
    let (s, lo, hi) = partial.y_stats;
    partial.y_stats = y
        .iter()
        .fold((s, lo, hi), |(s, lo, hi), &v| (s + v, lo.min(v), hi.max(v)));
    Ok(Some(frame))
}

/// The chunk's random-effects terms (formula order, levels of the chunk
/// only) and the running number of each level, registering new levels.
fn chunk_terms(
    partial: &mut PartialA,
    spec: &ModelSpec,
    frame: &ModelFrame,
    w: usize,
) -> Result<ChunkTerms> {
    let n = frame.nrows();
    let groups = random_pieces(&spec.random, frame)?;
    let first = partial.terms.is_empty();
    let (mut terms, mut ids) = (Vec::new(), Vec::new());
    for (t, (grouping, pieces)) in groups.iter().enumerate() {
        let label = grouping.join(" & ");
        let (column_names, z, theta_index) = amalgamate_columns(&label, pieces, n)?;
        if first {
            partial.terms.push(TermSums::new(
                label.clone(),
                column_names.clone(),
                theta_index.clone(),
                t,
            ));
        }
        let sums = &mut partial.terms[t];
        sums.check_same(&label, &column_names)?;
        let (refs, keys, labels) = chunk_levels(grouping, frame)?;
        ids.push(sums.register(&keys, &labels, w));
        let v = column_names.len();
        for row in z.chunks_exact(v) {
            for (c, &x) in row.iter().enumerate() {
                if x != 0.0 {
                    sums.zsq[c].0 += x * x;
                    sums.zsq[c].1 += 1;
                }
            }
        }
        terms.push(ReTerm {
            grouping: label,
            levels: labels,
            refs,
            column_names,
            z,
            theta_index,
        });
    }
    Ok(ChunkTerms { terms, ids })
}

/// Level of each row of the chunk (numbered among the chunk's levels), and
/// each level's sort key and label. Labels are as in memory: the column's
/// label, or `a:b` for an interaction; the key orders levels as in memory
/// (by code in the column's level list, by value for a numeric column,
/// lexicographically over the factors of an interaction).
fn chunk_levels(
    vars: &[String],
    frame: &ModelFrame,
) -> Result<(Vec<u32>, Vec<LevelKey>, Vec<String>)> {
    let n = frame.nrows();
    // Per factor: codes per row, labels, and the key part of each code.
    let mut factors = Vec::with_capacity(vars.len());
    for v in vars {
        let (codes, labels) = frame.grouping(v)?;
        let mut part = vec![0.0; labels.len()];
        match frame.column(v)? {
            Column::Numeric { values, .. } => {
                for (&c, &x) in codes.iter().zip(values) {
                    part[c as usize] = x;
                }
            }
            Column::Categorical { .. } => {
                part.iter_mut().enumerate().for_each(|(c, p)| *p = c as f64);
            }
        }
        factors.push((codes, labels, part));
    }
    let mut local: std::collections::HashMap<Vec<u32>, u32> = std::collections::HashMap::new();
    let (mut keys, mut labels) = (Vec::new(), Vec::new());
    let mut refs = Vec::with_capacity(n);
    if let [(codes, names, part)] = factors.as_slice() {
        let mut number = vec![u32::MAX; names.len()];
        for &c in codes {
            let slot = &mut number[c as usize];
            if *slot == u32::MAX {
                *slot = labels.len() as u32;
                keys.push(vec![part[c as usize]]);
                labels.push(names[c as usize].clone());
            }
            refs.push(*slot);
        }
        return Ok((refs, keys, labels));
    }
    for i in 0..n {
        let combo: Vec<u32> = factors.iter().map(|(c, _, _)| c[i]).collect();
        let next = labels.len() as u32;
        let id = *local.entry(combo.clone()).or_insert(next);
        if id == next {
            keys.push(
                factors
                    .iter()
                    .zip(&combo)
                    .map(|((_, _, p), &c)| p[c as usize])
                    .collect(),
            );
            labels.push(
                factors
                    .iter()
                    .zip(&combo)
                    .map(|((_, l, _), &c)| l[c as usize].as_str())
                    .collect::<Vec<_>>()
                    .join(":"),
            );
        }
        refs.push(id);
    }
    Ok((refs, keys, labels))
}

/// Add the chunk's A (in its own level numbering; `a` the rounded parts of
/// its sums, `lo` their errors per block in storage order) to the partial sums.
fn add_blocks(partial: &mut PartialA, chunk: &ChunkTerms, a: &[Block], lo: &[Vec<f64>], w: usize) {
    let k = chunk.terms.len();
    for t in 0..k {
        let v = chunk.terms[t].ncols();
        let ids = &chunk.ids[t];
        let sums = &mut partial.terms[t];
        if let Block::Diag(d) = &a[tri(t, t)] {
            let lo = &lo[tri(t, t)];
            for (l, &g) in ids.iter().enumerate() {
                let (g, vv) = (g as usize, v * v);
                add_parts(
                    &mut sums.diag[g * vv..(g + 1) * vv],
                    d.block(l),
                    &lo[l * vv..(l + 1) * vv],
                );
            }
        }
        if let Block::Dense(m) = &a[tri(k, t)] {
            let lo = &lo[tri(k, t)];
            for (l, &g) in ids.iter().enumerate() {
                for c in 0..v {
                    let dst = &mut sums.xyz[(g as usize * v + c) * w..(g as usize * v + c + 1) * w];
                    let col = m.col(l * v + c).try_as_col_major().unwrap().as_slice();
                    add_parts(dst, col, &lo[(l * v + c) * w..(l * v + c + 1) * w]);
                }
            }
        }
        for s in 0..t {
            let Block::Sparse(b) = &a[tri(t, s)] else {
                unreachable!("a chunk's off-diagonal blocks are sparse")
            };
            let size = b.vr * b.vc;
            let lo = &lo[tri(t, s)];
            let ids_s = &chunk.ids[s];
            let dims = partial.pair_dims(t, s);
            let pairs = &mut partial.terms[t].pairs[s];
            pairs.prepare(dims, b.nnz());
            for c in 0..b.ncol_blocks {
                for kk in b.colptr[c]..b.colptr[c + 1] {
                    let r = b.rowidx[kk] as usize;
                    let lo = &lo[kk * size..(kk + 1) * size];
                    add_parts(pairs.block_mut(ids[r], ids_s[c], size), b.block(kk), lo);
                }
            }
            pairs.settle(dims);
        }
    }
    if let Block::Dense(m) = &a[tri(k, k)] {
        let lo = &lo[tri(k, k)];
        for c in 0..w {
            for r in 0..w {
                partial.xy_xy[c * w + r].add_sum(Sum2::new(m[(r, c)], lo[c * w + r]));
            }
        }
    }
}
