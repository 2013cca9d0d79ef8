"""The data frames of the validation grid, built the same way for our fits and for R.

A *frame key* names one frame: a bundled data set (``mm.dataset(name)``), possibly with
derived columns or a row subset, or a simulated design (``data/<design>_s<seed>.csv.gz``,
see ``simulate.py``). ``export.py`` writes exactly these frames for R, so both sides fit
identical numbers.

Every factor (``pl.Enum``) keeps only the levels that occur, in their original order, so
that R's factors and ours have the same levels (lme4 would otherwise turn an unused level
of a fixed-effects factor into an all-zero column and drop it).
"""

from __future__ import annotations

import functools
import gzip
import pathlib

import polars as pl

import mixedmodels as mm

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"


def _factor(values: list[str], levels: list[str]) -> pl.Series:
    return pl.Series(values, dtype=pl.Enum(levels))


def drop_unused_levels(df: pl.DataFrame) -> pl.DataFrame:
    """Every Enum column restricted to the levels that occur (original order kept)."""
    cols = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Enum):
            used = set(df[name].drop_nulls().cast(pl.String).to_list())
            levels = [lv for lv in dtype.categories.to_list() if lv in used]
            cols.append(df[name].cast(pl.String).cast(pl.Enum(levels)).alias(name))
    return df.with_columns(cols) if cols else df


def _sleepstudy() -> pl.DataFrame:
    """sleepstudy plus ``w`` = 1 + (row mod 4), ``o`` = 10·((row mod 5) − 2), ``dgrp``
    (Days 0–2, 3–5, 6–9 as a factor early / mid / late) and ``dayf`` (Days as a factor
    with levels 0, …, 9)."""
    d = mm.dataset("sleepstudy")
    i = pl.int_range(0, d.height, eager=True)
    days = d["Days"].to_list()
    grp = ["early" if v < 3 else "mid" if v < 6 else "late" for v in days]
    return d.with_columns(
        (1.0 + (i % 4)).cast(pl.Float64).alias("w"),
        (10.0 * ((i % 5) - 2)).cast(pl.Float64).alias("o"),
        _factor(grp, ["early", "mid", "late"]).alias("dgrp"),
        _factor([str(int(v)) for v in days], [str(k) for k in range(10)]).alias("dayf"),
    )


def _cbpp() -> pl.DataFrame:
    """cbpp plus ``prop`` = incidence / size and ``obs`` (one level per row)."""
    d = mm.dataset("cbpp")
    obs = [str(k + 1) for k in range(d.height)]
    return d.with_columns(
        (pl.col("incidence") / pl.col("size")).alias("prop"), _factor(obs, obs).alias("obs")
    )


def _mmmec() -> pl.DataFrame:
    """mmmec plus ``logexp`` = log(expected) (the offset as a column)."""
    return mm.dataset("mmmec").with_columns(pl.col("expected").log().alias("logexp"))


def _arabidopsis() -> pl.DataFrame:
    """arabidopsis plus factors ``nutrientf`` (1, 8), ``rackf`` (1, 2), ``genf`` (the
    genotypes, numeric order) and the counts as ``fruits``."""
    d = mm.dataset("arabidopsis")

    def fac(col: str) -> pl.Series:
        vals = d[col].to_list()
        levels = [str(v) for v in sorted(set(vals))]
        return _factor([str(v) for v in vals], levels)

    return d.with_columns(
        fac("nutrient").alias("nutrientf"),
        fac("rack").alias("rackf"),
        fac("gen").alias("genf"),
        pl.col("total.fruits").cast(pl.Float64).alias("fruits"),
    )


def _hsb82() -> pl.DataFrame:
    """hsb82 plus ``high`` = 1 when mAch ≥ 13, else 0."""
    d = mm.dataset("hsb82")
    return d.with_columns((pl.col("mAch") >= 13.0).cast(pl.Float64).alias("high"))


def _gcsemv() -> pl.DataFrame:
    """gcsemv plus ``pass`` = 1 when written ≥ 50, 0 below, missing where written is."""
    d = mm.dataset("gcsemv")
    return d.with_columns(
        pl.when(pl.col("written").is_null())
        .then(None)
        .otherwise((pl.col("written") >= 50.0).cast(pl.Float64))
        .alias("pass")
    )


def _chem97s() -> pl.DataFrame:
    """chem97 restricted to the first 25 local education authorities (``lea`` levels in
    order): 5 to 6 thousand students."""
    d = mm.dataset("chem97")
    keep = d.schema["lea"].categories.to_list()[:25]
    return d.filter(pl.col("lea").cast(pl.String).is_in(keep))


def _egsingle_s() -> pl.DataFrame:
    """egsingle restricted to the first 20 schools (``schoolid`` levels in order)."""
    d = mm.dataset("egsingle")
    keep = d.schema["schoolid"].categories.to_list()[:20]
    return d.filter(pl.col("schoolid").cast(pl.String).is_in(keep))


def _kb07() -> pl.DataFrame:
    """kb07 plus ``rtlog`` = log(RTtrunc)."""
    return mm.dataset("kb07").with_columns(pl.col("RTtrunc").log().alias("rtlog"))


def _insteval_s() -> pl.DataFrame:
    """InstEval restricted to the first 400 students (``s`` levels in order)."""
    d = mm.dataset("insteval")
    keep = d.schema["s"].categories.to_list()[:400]
    return d.filter(pl.col("s").cast(pl.String).is_in(keep))


_DERIVED = {
    "sleepstudy": _sleepstudy,
    "cbpp": _cbpp,
    "mmmec": _mmmec,
    "arabidopsis": _arabidopsis,
    "hsb82": _hsb82,
    "gcsemv": _gcsemv,
    "chem97s": _chem97s,
    "egsingle_s": _egsingle_s,
    "kb07": _kb07,
    "insteval_s": _insteval_s,
}


def _simulated(key: str) -> pl.DataFrame:
    path = DATA_DIR / f"{key.removeprefix('sim_')}.csv.gz"
    with gzip.open(path, "rb") as fh:
        d = pl.read_csv(fh.read(), infer_schema_length=0)  # every column as text first
    cols = []
    for name in d.columns:
        s = d[name]
        numeric = s.cast(pl.Float64, strict=False)
        if numeric.null_count() == 0:
            cols.append(numeric)
        else:  # a grouping factor: zero-padded labels, so sorted = generated order
            cols.append(s.cast(pl.Enum(sorted(set(s.to_list())))))
    return pl.DataFrame(cols)


@functools.cache
def _frame(key: str) -> pl.DataFrame:
    if key.startswith("sim_"):
        df = _simulated(key)
    elif key in _DERIVED:
        df = _DERIVED[key]()
    else:
        df = mm.dataset(key)
    return drop_unused_levels(df)


def frame(key: str) -> pl.DataFrame:
    """The frame of ``key``: a bundled data set's name, a derived frame (``chem97s``…)
    or ``sim_<design>_s<seed>``.

    Parameters
    ----------
    key : str
        The frame key of a model in the grid.

    Returns
    -------
    polars.DataFrame
        The data, factors restricted to their used levels.

    Examples
    --------
    >>> frame("sleepstudy").columns[:3]
    ['Reaction', 'Days', 'Subject']
    """
    return _frame(key)
