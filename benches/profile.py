#!/usr/bin/env python3
"""Profile-likelihood timings: ``mm.profile(m)`` plus refined 95 % intervals
(``.confint()``) against lme4's ``profile(m)`` plus ``confint()`` of the profile, on the
same data in the same run, reported as ratios.

The models are fitted first and not timed; each side's profile + intervals is timed k
times (best of k). lme4 runs in one ``Rscript`` process started by this script (R reads
the data from CSV files written here). Not a test: nothing here runs in CI.

    python benches/profile.py                       # sleepstudy, kb07, cbpp; best of 3
    python benches/profile.py --models kb07 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

import mixedmodels as mm

MODELS = {
    "sleepstudy": {
        "data": "sleepstudy",
        "formula": "Reaction ~ 1 + Days + (1 + Days | Subject)",
        "family": None,
        "factors": ["Subject"],
    },
    "kb07": {
        "data": "kb07",
        "formula": "RTtrunc ~ 1 + S * P * C + (1 | SubjID) + (1 | ItemID)",
        "family": None,
        "factors": ["SubjID", "ItemID"],
    },
    "cbpp": {
        "data": "cbpp",
        "formula": "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        "family": "binomial",
        "factors": ["herd", "period"],
    },
}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
spec <- jsonlite::fromJSON(args[1])
out <- list()
for (key in names(spec$models)) {
  s <- spec$models[[key]]
  d <- read.csv(s$csv, stringsAsFactors = FALSE)
  for (f in s$factors) d[[f]] <- factor(d[[f]], levels = unique(d[[f]]))
  f <- as.formula(s$formula)
  m <- if (is.null(s$family)) lmer(f, d, REML = FALSE) else glmer(f, d, family = s$family)
  times <- numeric(0)
  for (i in seq_len(spec$repeats)) {
    t0 <- proc.time()[["elapsed"]]
    pp <- suppressWarnings(suppressMessages(profile(m, signames = FALSE)))
    ci <- confint(pp, level = 0.95)
    times <- c(times, proc.time()[["elapsed"]] - t0)
  }
  out[[key]] <- list(seconds = min(times), points = nrow(pp))
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def ours(key: str, repeats: int) -> dict:
    """Best-of-k seconds of mm.profile + refined intervals, and the number of points."""
    spec = MODELS[key]
    data = mm.dataset(spec["data"])
    if spec["family"] is None:
        m = mm.lmm(spec["formula"], data)
    else:
        m = mm.glmm(spec["formula"], data, mm.Binomial())
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        pr = mm.profile(m)
        pr.confint(0.95)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best, "points": pr.table.height}


def lme4(keys: list[str], repeats: int, workdir: Path) -> dict:
    """Best-of-k seconds of lme4's profile + confint per model, from one Rscript run."""
    models = {}
    for key in keys:
        spec = MODELS[key]
        csv = workdir / f"{key}.csv"
        df = mm.dataset(spec["data"])
        df.with_columns(pl.col(c).cast(pl.String) for c in spec["factors"]).write_csv(csv)
        models[key] = {
            "csv": str(csv),
            "formula": spec["formula"],
            "family": spec["family"],
            "factors": spec["factors"],
        }
    spec_file = workdir / "spec.json"
    spec_file.write_text(json.dumps({"repeats": repeats, "models": models}))
    script = workdir / "profile.R"
    script.write_text(R_SCRIPT)
    run = subprocess.run(
        ["Rscript", str(script), str(spec_file)], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        sys.exit(f"Rscript failed:\n{run.stderr}")
    return json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated keys")
    parser.add_argument("--repeats", type=int, default=3, help="timings per side (best of k)")
    args = parser.parse_args()
    keys = [k for k in args.models.split(",") if k]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        sys.exit(f"unknown models {unknown}; choose from {list(MODELS)}")
    with tempfile.TemporaryDirectory() as tmp:
        theirs = lme4(keys, args.repeats, Path(tmp))
    print(f"profile + 95 % intervals, best of {args.repeats} (mixedmodels {mm.__version__})")
    header = ("model", "ours (s)", "points", "lme4 (s)", "points", "lme4/ours")
    print("{:12} {:>10} {:>7} {:>10} {:>7} {:>10}".format(*header))
    for key in keys:
        a = ours(key, args.repeats)
        b = theirs[key]
        ratio = b["seconds"] / a["seconds"]
        print(
            f"{key:12} {a['seconds']:10.3f} {a['points']:7d} {b['seconds']:10.3f} "
            f"{b['points']:7d} {ratio:10.1f}"
        )


if __name__ == "__main__":
    main()
