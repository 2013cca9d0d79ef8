//! A compact little-endian byte form of [`PartialA`], so that partial sums
//! computed on other processes or machines (Dask workers) can be sent back
//! and summed.

use super::pairs::{key_pair, DensePairs, PairDims, PairSums, SparsePairs};
use super::partial::{PartialA, TermSums};
use crate::blocks::Sum2;
use crate::error::{Error, Result};

/// First bytes of every serialized partial (format version 3: each sum
/// in two parts, hi and lo, see [`Sum2`]; version 2 tagged each pair store
/// sparse or dense; the bytes of earlier versions are refused, as any other
/// bytes).
const MAGIC: &[u8; 8] = b"MMPARTA3";

/// Tag of a sparse pair store.
const SPARSE: u64 = 0;

/// Tag of a dense pair store.
const DENSE: u64 = 1;

/// The error for bytes that do not hold well-formed pair sums.
fn malformed_pairs() -> Error {
    Error::Data("partial sums: malformed pair sums".into())
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn f64(&mut self, x: f64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn f64s(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|&x| self.f64(x));
    }
    fn strs(&mut self, v: &[String]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|s| self.str(s));
    }
    fn sum(&mut self, x: Sum2) {
        self.f64(x.hi);
        self.f64(x.lo);
    }
    fn sums(&mut self, v: &[Sum2]) {
        self.u64(v.len() as u64);
        v.iter().for_each(|&x| self.sum(x));
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, k: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(k).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| Error::Data("partial sums: the bytes end too early".into()))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn len(&mut self) -> Result<usize> {
        let k = self.u64()? as usize;
        if k > self.bytes.len() {
            return Err(Error::Data(
                "partial sums: a length exceeds the bytes".into(),
            ));
        }
        Ok(k)
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn str(&mut self) -> Result<String> {
        let k = self.len()?;
        String::from_utf8(self.take(k)?.to_vec())
            .map_err(|_| Error::Data("partial sums: a label is not UTF-8".into()))
    }
    fn f64s(&mut self) -> Result<Vec<f64>> {
        let k = self.len()?;
        (0..k).map(|_| self.f64()).collect()
    }
    fn strs(&mut self) -> Result<Vec<String>> {
        let k = self.len()?;
        (0..k).map(|_| self.str()).collect()
    }
    fn sum(&mut self) -> Result<Sum2> {
        Ok(Sum2::new(self.f64()?, self.f64()?))
    }
    fn sums(&mut self) -> Result<Vec<Sum2>> {
        let k = self.len()?;
        (0..k).map(|_| self.sum()).collect()
    }
}

impl PartialA {
    /// The sums as bytes (read back by [`PartialA::from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(MAGIC.to_vec());
        w.u64(self.nobs);
        w.u64(self.input_rows);
        w.u64(self.missing.len() as u64);
        for (c, k) in &self.missing {
            w.str(c);
            w.u64(*k);
        }
        w.f64s(&[self.y_stats.0, self.y_stats.1, self.y_stats.2]);
        w.strs(&self.x_names);
        w.u64(self.term_of.len() as u64);
        self.term_of
            .iter()
            .for_each(|t| w.u64(t.map_or(u64::MAX, |t| t as u64)));
        w.sums(&self.xy_xy);
        w.u64(self.terms.len() as u64);
        for t in &self.terms {
            w.str(&t.grouping);
            w.strs(&t.column_names);
            w.u64(t.theta_index.len() as u64);
            for &(r, c) in &t.theta_index {
                w.u64(r as u64);
                w.u64(c as u64);
            }
            w.strs(&t.labels);
            for key in &t.keys {
                w.f64s(key);
            }
            w.sums(&t.diag);
            w.sums(&t.xyz);
            for &(ss, k) in &t.zsq {
                w.f64(ss);
                w.u64(k);
            }
            for p in &t.pairs {
                write_pairs(&mut w, p);
            }
        }
        w.0
    }

    /// Read sums written by [`PartialA::to_bytes`]; a data error when the
    /// bytes are not such sums.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(Error::Data(
                "these bytes are not the partial sums of a streamed model".into(),
            ));
        }
        let nobs = r.u64()?;
        let input_rows = r.u64()?;
        let nmissing = r.len()?;
        let missing = (0..nmissing)
            .map(|_| Ok((r.str()?, r.u64()?)))
            .collect::<Result<Vec<_>>>()?;
        let ys = r.f64s()?;
        if ys.len() != 3 {
            return Err(Error::Data(
                "partial sums: malformed response summary".into(),
            ));
        }
        let x_names = r.strs()?;
        let nterm_of = r.len()?;
        let term_of = (0..nterm_of)
            .map(|_| r.u64().map(|t| (t != u64::MAX).then_some(t as usize)))
            .collect::<Result<Vec<_>>>()?;
        let xy_xy = r.sums()?;
        let nterms = r.len()?;
        let mut terms: Vec<TermSums> = Vec::with_capacity(nterms);
        for t in 0..nterms {
            let grouping = r.str()?;
            let column_names = r.strs()?;
            let nth = r.len()?;
            let theta_index = (0..nth)
                .map(|_| Ok((r.u64()? as usize, r.u64()? as usize)))
                .collect::<Result<Vec<_>>>()?;
            let mut sums = TermSums::new(grouping, column_names, theta_index, t);
            let labels = r.strs()?;
            let keys = (0..labels.len())
                .map(|_| r.f64s())
                .collect::<Result<Vec<_>>>()?;
            sums.register(&keys, &labels, x_names.len() + 1);
            let (diag, xyz) = (r.sums()?, r.sums()?);
            if diag.len() != sums.diag.len() || xyz.len() != sums.xyz.len() {
                return Err(Error::Data("partial sums: malformed term sums".into()));
            }
            (sums.diag, sums.xyz) = (diag, xyz);
            for c in 0..sums.v() {
                sums.zsq[c] = (r.f64()?, r.u64()?);
            }
            for s in 0..t {
                let dims = PairDims {
                    n_t: sums.nlevels(),
                    n_s: terms[s].nlevels(),
                    v_t: sums.v(),
                    v_s: terms[s].v(),
                };
                sums.pairs[s] = match r.u64()? {
                    SPARSE => read_sparse(&mut r, dims)?,
                    DENSE => read_dense(&mut r, dims)?,
                    _ => return Err(malformed_pairs()),
                };
            }
            terms.push(sums);
        }
        Ok(PartialA {
            nobs,
            input_rows,
            missing,
            y_stats: (ys[0], ys[1], ys[2]),
            x_names,
            term_of,
            xy_xy,
            terms,
        })
    }
}

/// Write one pair store: its tag, then a sparse store's (key, index) pairs
/// and values, or a dense store's shape, occupancy bits (row by row, as
/// many words as its inner levels need) and the values of the cells met.
fn write_pairs(w: &mut Writer, p: &PairSums) {
    match p {
        PairSums::Sparse(sp) => {
            w.u64(SPARSE);
            w.u64(sp.index.len() as u64);
            for (&key, &idx) in &sp.index {
                w.u64(key);
                w.u64(idx as u64);
            }
            w.sums(&sp.data);
        }
        PairSums::Dense(d) => {
            w.u64(DENSE);
            w.u64(d.outer_is_s as u64);
            w.u64(d.n_outer as u64);
            w.u64(d.n_inner as u64);
            let (words, used) = (d.words(), d.n_inner.div_ceil(64));
            for o in 0..d.n_outer {
                d.occupied[o * words..o * words + used]
                    .iter()
                    .for_each(|&x| w.u64(x));
            }
            w.u64((d.npairs * d.size) as u64);
            for o in 0..d.n_outer {
                for i in 0..d.n_inner {
                    if d.is_met(o, i) {
                        d.cell_values(o, i).iter().for_each(|&x| w.sum(x));
                    }
                }
            }
        }
    }
}

/// Read a sparse pair store for terms of `dims`.
fn read_sparse(r: &mut Reader, dims: PairDims) -> Result<PairSums> {
    let npairs = r.len()?;
    let mut pairs = SparsePairs::default();
    for _ in 0..npairs {
        let key = r.u64()?;
        let idx = r.u64()?;
        let (lt, ls) = key_pair(key);
        if lt as usize >= dims.n_t || ls as usize >= dims.n_s || idx >= npairs as u64 {
            return Err(malformed_pairs());
        }
        if pairs.index.insert(key, idx as u32).is_some() {
            return Err(malformed_pairs());
        }
    }
    pairs.data = r.sums()?;
    if pairs.data.len() != npairs * dims.size() {
        return Err(malformed_pairs());
    }
    Ok(PairSums::Sparse(pairs))
}

/// Read a dense pair store for terms of `dims` (its shape must be theirs).
fn read_dense(r: &mut Reader, dims: PairDims) -> Result<PairSums> {
    let outer_is_s = match r.u64()? {
        0 => false,
        1 => true,
        _ => return Err(malformed_pairs()),
    };
    let (n_outer, n_inner) = (r.len()?, r.len()?);
    let want = if outer_is_s {
        (dims.n_s, dims.n_t)
    } else {
        (dims.n_t, dims.n_s)
    };
    if (n_outer, n_inner) != want {
        return Err(malformed_pairs());
    }
    // The bits first: they bound the grid's size by the bytes read.
    let words = n_inner.div_ceil(64);
    let spare = (words * 64 - n_inner) as u32;
    let last_word_mask = if spare == 0 { 0 } else { !0u64 << (64 - spare) };
    let mut bits = Vec::with_capacity(n_outer.min(r.bytes.len() / 8) * words);
    for _ in 0..n_outer {
        for k in 0..words {
            let x = r.u64()?;
            if k + 1 == words && x & last_word_mask != 0 {
                return Err(malformed_pairs());
            }
            bits.push(x);
        }
    }
    let npairs: usize = bits.iter().map(|x| x.count_ones() as usize).sum();
    let size = dims.size();
    let nvalues = r.len()?;
    if nvalues != npairs * size {
        return Err(malformed_pairs());
    }
    let mut grid = DensePairs::with_shape(outer_is_s, n_outer, n_inner, size);
    grid.occupied = bits;
    grid.npairs = npairs;
    for o in 0..n_outer {
        for i in 0..n_inner {
            if grid.is_met(o, i) {
                let at = (o * n_inner + i) * size;
                for x in &mut grid.values[at..at + size] {
                    *x = r.sum()?;
                }
            }
        }
    }
    Ok(PairSums::Dense(grid))
}
