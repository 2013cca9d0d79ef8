"""Large-data benchmark of streamed linear mixed models.

Writes a chunked Parquet data set from a seed, ``y ~ 1 + x + (1|g) + (1|h)`` with
100,000 levels of g and 1,000 of h (crossed), known θ, and fits it streamed from the
files (each step in its own process, so that its peak RSS is its own), optionally also
in memory. Reports wall time, peak RSS and θ against the truth; appends a Markdown row
to ``benches/results/large_data.md`` with ``--record``.

Usage::

    python benches/large_data.py --rows 10_000_000 --compare --record
    python benches/large_data.py --rows 100_000_000 --record
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _large import peak_rss_gib, run_step

FORMULA = "y ~ 1 + x + (1 | g) + (1 | h)"
#: True standard deviations: of the g effects, of the h effects, of the residual.
SD_G, SD_H, SIGMA = 0.5, 0.8, 1.0
BETA = (1.0, 0.5)
ROWS_PER_FILE = 1_000_000
ROW_GROUP = 250_000


def generate(folder: Path, rows: int, ng: int, nh: int, seed: int) -> None:
    """Write ``rows`` rows as Parquet files of ROWS_PER_FILE rows (row groups of
    ROW_GROUP), generated file by file from ``seed`` (memory: one file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    bg = rng.normal(0, SD_G, ng)
    bh = rng.normal(0, SD_H, nh)
    folder.mkdir(parents=True, exist_ok=True)
    for k, start in enumerate(range(0, rows, ROWS_PER_FILE)):
        n = min(ROWS_PER_FILE, rows - start)
        g = rng.integers(0, ng, n)
        h = rng.integers(0, nh, n)
        x = rng.uniform(-1, 1, n)
        y = BETA[0] + BETA[1] * x + bg[g] + bh[h] + rng.normal(0, SIGMA, n)
        table = pa.table({"y": y, "x": x, "g": g + 1, "h": h + 1})
        pq.write_table(table, folder / f"part-{k:05d}.parquet", row_group_size=ROW_GROUP)


def fit(folder: Path, in_memory: bool, chunk_rows: int) -> dict:
    """Build the model streamed from the files (or after reading them into memory),
    then fit it; the two phases timed apart."""
    import polars as pl

    import mixedmodels as mm

    start = time.perf_counter()
    source = str(folder / "*.parquet")
    if in_memory:
        m = mm.LinearMixedModel(FORMULA, pl.read_parquet(source))
    else:
        m = mm.LinearMixedModel(FORMULA, source, chunk_rows=chunk_rows)
    built = time.perf_counter()
    m.fit()
    end = time.perf_counter()
    return {
        "mode": "in memory" if in_memory else "streamed",
        "wall_s": end - start,
        "build_s": built - start,
        "fit_s": end - built,
        "evaluations": int(m.optsum["evaluations"]),
        "peak_rss_gib": peak_rss_gib(),
        "load": os.getloadavg()[0],
        "objective": float(m.objective),
        "theta": [float(t) for t in m.theta],
        "beta": [float(b) for b in m.beta],
        "sigma": float(m.sigma),
        "nobs": int(m.nobs),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    p.add_argument("--g-levels", type=int, default=100_000)
    p.add_argument("--h-levels", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=20261205)
    p.add_argument("--chunk-rows", type=int, default=1_000_000)
    p.add_argument("--dir", type=Path, default=None, help="where to write the data")
    p.add_argument("--compare", action="store_true", help="also fit in memory")
    p.add_argument("--record", action="store_true", help="append to results/large_data.md")
    p.add_argument("--step", choices=["fit-streamed", "fit-memory"], help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.step:
        print(json.dumps(fit(a.dir, a.step == "fit-memory", a.chunk_rows)))
        return
    base = a.dir or Path(tempfile.mkdtemp(prefix="mm-large-"))
    folder = base / f"rows-{a.rows}-seed-{a.seed}"
    if not folder.exists():
        t = time.perf_counter()
        generate(folder, a.rows, a.g_levels, a.h_levels, a.seed)
        print(f"generated {a.rows:,} rows in {time.perf_counter() - t:.1f} s at {folder}")
    common = ["--dir", str(folder), "--chunk-rows", str(a.chunk_rows)]
    results = [run_step(__file__, "--step", "fit-streamed", *common)]
    if a.compare:
        results.append(run_step(__file__, "--step", "fit-memory", *common))
    truth = [SD_G / SIGMA, SD_H / SIGMA]
    for r in results:
        print(
            f"{r['mode']:>9}: {r['wall_s']:.1f} s (build {r['build_s']:.1f} s, fit "
            f"{r['fit_s']:.1f} s, {r['evaluations']} evaluations), peak RSS "
            f"{r['peak_rss_gib']:.2f} GiB, load {r['load']:.1f}, "
            f"θ = {r['theta']} (truth {truth}), σ = {r['sigma']:.4f}"
        )
    if len(results) == 2:
        s, m = results
        rel = max(
            abs(x - y) / abs(y)
            for x, y in zip(
                [s["objective"], *s["theta"], *s["beta"], s["sigma"]],
                [m["objective"], *m["theta"], *m["beta"], m["sigma"]],
                strict=True,
            )
        )
        print(f"largest relative difference streamed vs in memory: {rel:.2e}")
        for r in results:
            r["rel_diff"] = rel
    if a.record:
        record(a, results, truth)


#: The header of the results table (a new table starts where it changes).
HEADER = (
    "| rows | g levels | h levels | mode | chunk rows | build (s) | fit (s) | evaluations "
    "| wall (s) | peak RSS (GiB) | θ | rel. diff vs in memory | cores | load (1 min) |\n"
    "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n"
)


def record(a: argparse.Namespace, results: list[dict], truth: list[float]) -> None:
    """Append the results as Markdown table rows (under a new header when the file's
    last table has other columns)."""
    path = Path(__file__).parent / "results" / "large_data.md"
    if not path.exists():
        path.write_text(
            "# Large data: streamed fits\n\n"
            f"`{FORMULA}`; θ truth = {truth}; written by `benches/large_data.py`.\n"
        )
    text = path.read_text()
    with path.open("a") as f:
        if text.rfind(HEADER) == -1 or text.rfind(HEADER) < text.rfind("\n| rows |"):
            f.write("\n" + HEADER)
        for r in results:
            theta = ", ".join(f"{t:.5f}" for t in r["theta"])
            rel = f"{r['rel_diff']:.1e}" if "rel_diff" in r else "–"
            f.write(
                f"| {a.rows:,} | {a.g_levels:,} | {a.h_levels:,} | {r['mode']} "
                f"| {a.chunk_rows:,} | {r['build_s']:.1f} | {r['fit_s']:.1f} "
                f"| {r['evaluations']} | {r['wall_s']:.1f} | {r['peak_rss_gib']:.2f} "
                f"| {theta} | {rel} | {os.cpu_count()} | {r['load']:.1f} |\n"
            )


if __name__ == "__main__":
    main()
