"""Simulated designs of the validation grid, made to be hard for an optimizer.

Each design is drawn with NumPy's PCG64 generator from a fixed seed and written to
``tests/validation/data/<name>.csv.gz`` (doubles as ``repr`` text, which parses back to the
same double in Python; R reads the exact hexadecimal export of the parsed frame, see
``export.py``). The committed files are the source of truth: the models and lme4's
reference fits refer to them, so rerun this script only together with ``regenerate.py``.

Run from the repository root::

    python tests/validation/simulate.py            # writes tests/validation/data/

Grouping factors are text columns with zero-padded labels (``g0001``), so that sorted
order is the same everywhere; ``frames.py`` turns them into factors.
"""

from __future__ import annotations

import gzip
import io
import pathlib
from collections.abc import Callable

import numpy as np

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"


def _labels(prefix: str, codes: np.ndarray, width: int = 4) -> list[str]:
    return [f"{prefix}{int(c) + 1:0{width}d}" for c in codes]


def _logistic(eta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-eta))


def _glmm_responses(rng: np.random.Generator, eta: np.ndarray, out: dict) -> None:
    """Add a Bernoulli ``yb`` (logit η) and a Poisson ``yc`` (log link, η shifted to a mean
    of about 3) drawn from the same linear predictor."""
    out["yb"] = (rng.random(eta.size) < _logistic(eta)).astype(np.float64)
    out["yc"] = rng.poisson(np.exp(1.0 + 0.6 * eta)).astype(np.float64)


def _random_cov(rng: np.random.Generator, sds: np.ndarray, rank: int | None = None) -> np.ndarray:
    """A covariance matrix with standard deviations ``sds`` and random correlations; of
    the given rank when ``rank`` is smaller than the dimension."""
    k = sds.size
    r = k if rank is None else rank
    f = rng.normal(size=(k, r))
    c = f @ f.T
    d = np.sqrt(np.diag(c))
    corr = c / np.outer(d, d)
    return corr * np.outer(sds, sds)


def _draw_re(rng: np.random.Generator, cov: np.ndarray, n: int) -> np.ndarray:
    """n draws from N(0, cov) for a positive semi-definite cov (eigen-decomposition)."""
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    return rng.normal(size=(n, cov.shape[0])) @ root.T


def boundary_int(seed: int) -> dict:
    """25 groups × 6, no between-group variation at all: every variance at its bound."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(25), 6)
    x = rng.normal(size=g.size)
    out = {"g": _labels("g", g), "x": x, "y": 2.0 + 0.5 * x + rng.normal(size=g.size)}
    _glmm_responses(rng, -0.3 + 0.8 * x, out)
    return out


def boundary_slope(seed: int) -> dict:
    """30 groups × 8: intercepts vary (sd 1), slopes do not (slope variance at 0)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 8)
    x = rng.normal(size=g.size)
    b0 = rng.normal(size=30)[g]
    out = {"g": _labels("g", g), "x": x, "y": 1.0 + x + b0 + rng.normal(size=g.size)}
    _glmm_responses(rng, 0.2 + 0.5 * x + 0.7 * b0, out)
    return out


def nearsing_corr(seed: int) -> dict:
    """20 groups × 10: intercept and slope correlated 0.995 (near-singular 2 × 2)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(20), 10)
    x = np.tile(np.linspace(-1.0, 1.0, 10), 20) + 0.1 * rng.normal(size=g.size)
    cov = np.array([[1.0, 0.995 * 0.5], [0.995 * 0.5, 0.25]])
    b = _draw_re(rng, cov, 20)[g]
    eta = b[:, 0] + b[:, 1] * x
    out = {"g": _labels("g", g), "x": x, "y": 3.0 + 0.4 * x + eta + 0.5 * rng.normal(size=g.size)}
    _glmm_responses(rng, -0.2 + 0.3 * x + eta, out)
    return out


def nearsing_rank(seed: int) -> dict:
    """30 groups × 12, three random effects (1, x1, x2) whose covariance has rank 2 up to
    a 1e-3 jitter: the optimum sits next to a singular Λ."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 12)
    x1 = rng.normal(size=g.size)
    x2 = rng.normal(size=g.size)
    base = rng.normal(size=(30, 2)) * np.array([1.0, 0.6])
    b = np.column_stack([base[:, 0], base[:, 1], base[:, 0] - base[:, 1]])
    b = b + 1e-3 * rng.normal(size=b.shape)
    b = b[g]
    y = 1.0 + 0.5 * x1 - 0.3 * x2 + b[:, 0] + b[:, 1] * x1 + b[:, 2] * x2
    out = {"g": _labels("g", g), "x1": x1, "x2": x2, "y": y + 0.7 * rng.normal(size=g.size)}
    return out


def scaled(seed: int) -> dict:
    """30 groups × 10 with badly scaled columns: ``xbig`` ≈ 5e4 ± 1e4, ``xsmall`` ≈ ±1e-3,
    a response of about 1e4 ± 100; the slope θ of ``xbig`` is of order 1e-4."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 10)
    z1 = rng.normal(size=g.size)
    z2 = rng.normal(size=g.size)
    b0 = 0.8 * rng.normal(size=30)[g]
    b1 = 0.3 * rng.normal(size=30)[g]
    y = 1e4 + 100.0 * (2.0 + 0.5 * z1 + 0.3 * z2 + b0 + b1 * z1 + rng.normal(size=g.size))
    out = {"g": _labels("g", g), "xbig": 5e4 + 1e4 * z1, "xsmall": 1e-3 * z2, "y": y}
    _glmm_responses(rng, 0.3 * z1 - 0.2 * z2 + b0, out)
    return out


def manysmall(seed: int) -> dict:
    """1200 groups of 1 to 3 observations (many singletons): random slopes barely
    identified, Bernoulli groups often all 0 or all 1."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3], size=1200, p=[0.3, 0.4, 0.3])
    g = np.repeat(np.arange(1200), sizes)
    x = rng.normal(size=g.size)
    b0 = 0.7 * rng.normal(size=1200)[g]
    b1 = 0.3 * rng.normal(size=1200)[g]
    out = {"g": _labels("g", g), "x": x, "y": 1.0 + 0.5 * x + b0 + b1 * x + rng.normal(size=g.size)}
    _glmm_responses(rng, -0.5 + 0.7 * x + 1.5 * b0, out)
    return out


def crossed_unbal(seed: int) -> dict:
    """2000 rows, two crossed factors with Zipf-like frequencies: ``g1`` 150 levels
    (p ∝ 1/k), ``g2`` 30 levels (p ∝ 1/k^1.5); many levels have one or two rows."""
    rng = np.random.default_rng(seed)
    p1 = 1.0 / np.arange(1, 151)
    p2 = 1.0 / np.arange(1, 31) ** 1.5
    g1 = rng.choice(150, size=2000, p=p1 / p1.sum())
    g2 = rng.choice(30, size=2000, p=p2 / p2.sum())
    # keep the used levels only, relabelled in order of first appearance's sorted codes
    _, g1 = np.unique(g1, return_inverse=True)
    _, g2 = np.unique(g2, return_inverse=True)
    x = rng.normal(size=2000)
    a0 = 0.8 * rng.normal(size=g1.max() + 1)[g1]
    a1 = 0.3 * rng.normal(size=g1.max() + 1)[g1]
    c0 = 0.5 * rng.normal(size=g2.max() + 1)[g2]
    y = 2.0 + 0.4 * x + a0 + a1 * x + c0 + rng.normal(size=2000)
    out = {"g1": _labels("a", g1), "g2": _labels("b", g2), "x": x, "y": y}
    _glmm_responses(rng, -0.4 + 0.5 * x + a0 + c0, out)
    return out


def vector(seed: int) -> dict:
    """40 groups × 25 with five covariates and a full-rank 6 × 6 random-effects
    covariance on (1, x1, …, x5) with random correlations."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(40), 25)
    xs = rng.normal(size=(g.size, 5))
    cov = _random_cov(rng, np.array([1.0, 0.8, 0.6, 0.5, 0.4, 0.3]))
    b = _draw_re(rng, cov, 40)[g]
    design = np.column_stack([np.ones(g.size), xs])
    eta = np.sum(design * b, axis=1)
    y = 1.0 + xs @ np.array([0.5, -0.4, 0.3, 0.2, -0.1]) + eta + 0.8 * rng.normal(size=g.size)
    out = {"g": _labels("g", g), "y": y}
    for j in range(5):
        out[f"x{j + 1}"] = xs[:, j]
    _glmm_responses(rng, 0.5 * (eta - b[:, 4] * xs[:, 3] - b[:, 5] * xs[:, 4]), out)
    return out


def vector_sing(seed: int) -> dict:
    """40 groups × 20, random effects on (1, x1, x2, x3, x4) with a covariance of rank 2:
    the optimum is on the boundary (singular Λ) for every term of 3 or more columns."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(40), 20)
    xs = rng.normal(size=(g.size, 4))
    cov = _random_cov(rng, np.array([1.0, 0.7, 0.6, 0.5, 0.4]), rank=2)
    b = _draw_re(rng, cov, 40)[g]
    design = np.column_stack([np.ones(g.size), xs])
    y = 2.0 + xs @ np.array([0.3, 0.2, -0.2, 0.1]) + np.sum(design * b, axis=1)
    out = {"g": _labels("g", g), "y": y + 0.6 * rng.normal(size=g.size)}
    for j in range(4):
        out[f"x{j + 1}"] = xs[:, j]
    return out


def crossed_vector(seed: int) -> dict:
    """30 × 20 fully crossed factors with 2 replicates (1200 rows): 4 random effects
    (1, x1, x2, x3) on ``g``, 2 (1, x1) on ``h``."""
    rng = np.random.default_rng(seed)
    gi, hi = np.meshgrid(np.arange(30), np.arange(20), indexing="ij")
    g = np.repeat(gi.ravel(), 2)
    h = np.repeat(hi.ravel(), 2)
    xs = rng.normal(size=(g.size, 3))
    bg = _draw_re(rng, _random_cov(rng, np.array([0.9, 0.5, 0.4, 0.3])), 30)[g]
    bh = _draw_re(rng, _random_cov(rng, np.array([0.6, 0.4])), 20)[h]
    dg = np.column_stack([np.ones(g.size), xs])
    eta = np.sum(dg * bg, axis=1) + bh[:, 0] + bh[:, 1] * xs[:, 0]
    y = 1.0 + xs @ np.array([0.4, 0.3, -0.2]) + eta + rng.normal(size=g.size)
    out = {"g": _labels("g", g), "h": _labels("h", h), "y": y}
    for j in range(3):
        out[f"x{j + 1}"] = xs[:, j]
    _glmm_responses(rng, 0.5 * (bg[:, 0] + bh[:, 0]) + 0.4 * xs[:, 0], out)
    return out


def nested3(seed: int) -> dict:
    """Three nested levels, labels reused within their parent (``b`` = 1..4 in every
    ``a``, ``c`` = 1..3 in every ``b``), 2 rows per cell: a 10, a:b 40, a:b:c 120 levels;
    variances 1, 0.5 and 0 (the innermost at its bound)."""
    rng = np.random.default_rng(seed)
    a, b, c, _ = np.meshgrid(np.arange(10), np.arange(4), np.arange(3), np.arange(2), indexing="ij")
    a, b, c = a.ravel(), b.ravel(), c.ravel()
    ab = a * 4 + b
    x = rng.normal(size=a.size)
    y = 5.0 + 0.3 * x + rng.normal(size=10)[a] + np.sqrt(0.5) * rng.normal(size=40)[ab]
    y = y + rng.normal(size=a.size)
    out = {
        "a": _labels("a", a, 2),
        "b": _labels("b", b, 1),
        "c": _labels("c", c, 1),
        "x": x,
        "y": y,
    }
    _glmm_responses(rng, 0.4 * x + rng.normal(size=10)[a], out)
    return out


def weighted(seed: int) -> dict:
    """30 groups × 8 with prior weights spread over three orders of magnitude
    (``w`` = exp(N(0, 1.5²)), error sd σ/√w)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 8)
    x = rng.normal(size=g.size)
    w = np.exp(1.5 * rng.normal(size=g.size))
    b0 = rng.normal(size=30)[g]
    b1 = 0.4 * rng.normal(size=30)[g]
    y = 1.0 + 0.5 * x + b0 + b1 * x + rng.normal(size=g.size) / np.sqrt(w)
    return {"g": _labels("g", g), "x": x, "w": w, "y": y}


def binom_trials(seed: int) -> dict:
    """40 groups × 5 binomial counts with 1 to 25 trials: ``succ`` of ``trials``,
    ``prop`` = succ / trials; random intercept (sd 0.8) and slope (sd 0.4)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(40), 5)
    x = rng.normal(size=g.size)
    trials = rng.integers(1, 26, size=g.size).astype(np.float64)
    b0 = 0.8 * rng.normal(size=40)[g]
    b1 = 0.4 * rng.normal(size=40)[g]
    succ = rng.binomial(trials.astype(np.int64), _logistic(-0.5 + 0.6 * x + b0 + b1 * x))
    succ = succ.astype(np.float64)
    return {
        "g": _labels("g", g),
        "x": x,
        "trials": trials,
        "succ": succ,
        "fail": trials - succ,
        "prop": succ / trials,
    }


def pois_exposure(seed: int) -> dict:
    """50 groups × 6 crossed with a 10-level ``h``: Poisson counts with exposure ``t``
    (``logt`` = log t, an offset) and large counts ``ybig`` (means 30 to 120) for the
    square-root and identity links."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(50), 6)
    h = rng.integers(0, 10, size=g.size)
    x = rng.normal(size=g.size)
    t = rng.uniform(0.5, 50.0, size=g.size)
    bg = 0.5 * rng.normal(size=50)[g]
    bh = 0.3 * rng.normal(size=10)[h]
    y = rng.poisson(t * np.exp(-1.0 + 0.3 * x + bg + bh)).astype(np.float64)
    ybig = rng.poisson((8.0 + 0.8 * x + 1.5 * bg / 0.5 + bh) ** 2).astype(np.float64)
    return {
        "g": _labels("g", g),
        "h": _labels("h", h, 2),
        "x": x,
        "t": t,
        "logt": np.log(t),
        "y": y,
        "ybig": ybig,
    }


def catslope(seed: int) -> dict:
    """30 groups × 12 with a three-level factor ``f`` (4 rows per level in every group):
    random effects (1, f) with a full 3 × 3 covariance."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 12)
    f = np.tile(np.repeat(np.arange(3), 4), 30)
    x = rng.normal(size=g.size)
    b = _draw_re(rng, _random_cov(rng, np.array([1.0, 0.6, 0.8])), 30)[g]
    eff = b[:, 0] + np.where(f == 1, b[:, 1], 0.0) + np.where(f == 2, b[:, 2], 0.0)
    y = 2.0 + 0.5 * (f == 1) - 0.4 * (f == 2) + 0.3 * x + eff + 0.7 * rng.normal(size=g.size)
    out = {"g": _labels("g", g), "f": [("lo", "mid", "hi")[k] for k in f], "x": x, "y": y}
    _glmm_responses(rng, 0.2 * x + 0.6 * eff, out)
    return out


def tiny_resid(seed: int) -> dict:
    """20 groups × 6 where the residual sd (1e-3) is tiny next to the group sd (2): θ is
    of order 1e3 and σ near zero."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(20), 6)
    x = rng.normal(size=g.size)
    y = 10.0 + 0.5 * x + 2.0 * rng.normal(size=20)[g] + 1e-3 * rng.normal(size=g.size)
    return {"g": _labels("g", g), "x": x, "y": y}


#: design name → (generator, seeds); the files are ``<name>_s<seed>.csv.gz``
DESIGNS: dict[str, tuple[Callable[[int], dict], tuple[int, ...]]] = {
    "boundary_int": (boundary_int, (1, 2, 3)),
    "boundary_slope": (boundary_slope, (1, 2)),
    "nearsing_corr": (nearsing_corr, (1, 2)),
    "nearsing_rank": (nearsing_rank, (1, 2)),
    "scaled": (scaled, (1, 2)),
    "manysmall": (manysmall, (1, 2)),
    "crossed_unbal": (crossed_unbal, (1, 2)),
    "vector": (vector, (1, 2)),
    "vector_sing": (vector_sing, (1, 2)),
    "crossed_vector": (crossed_vector, (1,)),
    "nested3": (nested3, (1, 2)),
    "weighted": (weighted, (1, 2)),
    "binom_trials": (binom_trials, (1, 2)),
    "pois_exposure": (pois_exposure, (1, 2)),
    "catslope": (catslope, (1, 2)),
    "tiny_resid": (tiny_resid, (1,)),
}


def design_names() -> list[str]:
    """Names ``<design>_s<seed>`` of every simulated data set."""
    return [f"{name}_s{seed}" for name, (_, seeds) in DESIGNS.items() for seed in seeds]


def to_csv_text(columns: dict) -> str:
    """CSV text of a dict of equal-length columns (floats as ``repr``, text as is)."""
    names = list(columns)
    n = len(columns[names[0]])
    buf = io.StringIO()
    buf.write(",".join(names) + "\n")
    cols = []
    for name in names:
        col = columns[name]
        if isinstance(col, np.ndarray):
            cols.append([repr(float(v)) for v in col])
        else:
            cols.append([str(v) for v in col])
        if len(cols[-1]) != n:
            raise ValueError(f"column {name} has {len(cols[-1])} values, expected {n}")
    for row in zip(*cols, strict=True):
        buf.write(",".join(row) + "\n")
    return buf.getvalue()


def write_all(out_dir: pathlib.Path = DATA_DIR) -> list[pathlib.Path]:
    """Write every design to ``out_dir`` (gzip with a fixed header time, so the bytes are
    reproducible); returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (gen, seeds) in DESIGNS.items():
        for seed in seeds:
            path = out_dir / f"{name}_s{seed}.csv.gz"
            data = to_csv_text(gen(seed)).encode()
            with (
                open(path, "wb") as raw,
                gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as fh,
            ):
                fh.write(data)
            paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_all():
        print(p)
