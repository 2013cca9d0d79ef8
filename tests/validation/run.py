"""Fit the validation grid with this package and compare with lme4's best fits.

Usage (from the repository root)::

    python tests/validation/run.py                 # the full grid
    python tests/validation/run.py --subset ci     # the fixed CI subset
    python tests/validation/run.py --ids cbpp_lap sleepstudy_slope_ML
    python tests/validation/run.py --tags vector4 --out /tmp/grid

Writes ``<out>/<subset>.md`` (a summary and one row per model) and ``<out>/<subset>.json``
(default ``tests/validation/results/``). The rule (statuses, tolerances) is documented in
``rule.py``. Models listed in ``known_failures.json`` are reported as known failures; the
exit status is 1 when a model fails that is not listed there (or a listed one passes, so
that the list is kept true).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import time
import warnings
from typing import Any

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import mixedmodels as mm
from validation import rule
from validation.frames import frame
from validation.models import models

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference"
KNOWN_FAILURES = HERE / "known_failures.json"
RESULTS_DIR = HERE / "results"


def load_reference(directory: pathlib.Path = REFERENCE_DIR) -> dict[str, dict]:
    """Every frozen lme4 record, by model id.

    Parameters
    ----------
    directory : pathlib.Path
        The folder of ``reference/*.json`` files.

    Returns
    -------
    dict
        Model id → record (``fits``, ``theta``, ``beta``, …; see README.md).

    Examples
    --------
    >>> "sleepstudy_slope_ML" in load_reference()
    True
    """
    out: dict[str, dict] = {}
    for path in sorted(directory.glob("*.json")):
        for rec in json.loads(path.read_text())["models"]:
            out[rec["id"]] = rec
    return out


def known_failures(path: pathlib.Path = KNOWN_FAILURES) -> dict[str, str]:
    """Model id → what was seen, for the models that fail today.

    Parameters
    ----------
    path : pathlib.Path
        ``known_failures.json``.

    Returns
    -------
    dict
        The known failures.

    Examples
    --------
    >>> isinstance(known_failures(), dict)
    True
    """
    if not path.exists():
        return {}
    return {k: v["observed"] for k, v in json.loads(path.read_text())["models"].items()}


def _build(model: dict):
    df = frame(model["data"])
    check = "ignore" if model["check_nobs"] == "ignore" else "error"
    if model["kind"] == "lmm":
        m = mm.LinearMixedModel(
            model["formula"], df, weights=model["weights"], offset=model["offset"], check_nobs=check
        )
        return m.fit(reml=model["reml"])
    m = mm.GeneralizedLinearMixedModel(
        model["formula"],
        df,
        family=model["family"],
        link=model["link"],
        weights=model["weights"],
        offset=model["offset"],
        check_nobs=check,
    )
    return m.fit(fast=model["nagq"] == 0, nagq=max(model["nagq"], 1))


class _Comparison:
    """Our fitted model next to the reference record: index maps and evaluations."""

    def __init__(self, model: dict, fitted: Any, ref: dict):
        self.model = model
        self.m = fitted
        self.ref = ref
        self.is_lmm = model["kind"] == "lmm"
        self.ref_keys = rule.reference_theta_keys(ref["theta_terms"])
        self.our_keys = rule.our_theta_keys(fitted._core.reterms())
        self.theta = rule.align_theta(fitted.theta, self.our_keys, self.ref_keys)
        self.beta = rule.align_beta(fitted.fixefnames, fitted.beta, ref["beta_names"])
        self.se = np.array([np.nan if v is None else v for v in ref["stderror"]], dtype=float)
        names = [rule.normalize_name(n) for n in fitted.fixefnames]
        ok = self.beta is not None
        self.beta_order = [ref["beta_names"].index(n) for n in names] if ok else []
        pos = {k: i for i, k in enumerate(self.ref_keys)}
        self.theta_order = [pos[k] for k in self.our_keys] if self.theta is not None else []

    def objective_at(self, theta_ref_order: np.ndarray, beta_ref_order: np.ndarray | None) -> float:
        """Our objective at parameters given in lme4's order."""
        theta = [float(theta_ref_order[i]) for i in self.theta_order]
        if self.is_lmm:
            return self.m.objective_at(theta)
        nagq = self.model["nagq"]
        if nagq == 0 or beta_ref_order is None:
            return self.m.evaluate(theta, None, 1)
        beta = [float(beta_ref_order[i]) for i in self.beta_order]
        return self.m.evaluate(theta, beta, nagq)

    def distance(self, theta, beta, sigma, ref_theta, ref_beta, ref_sigma) -> dict:
        """d_theta, d_beta, d_sigma of ``rule``."""
        d = {
            "d_theta": rule.theta_distance(np.asarray(theta), np.asarray(ref_theta), self.ref_keys),
            "d_beta": rule.beta_distance(np.asarray(beta), np.asarray(ref_beta), self.se),
            "d_sigma": 0.0,
        }
        if self.is_lmm:
            d["d_sigma"] = abs(sigma - ref_sigma) / ref_sigma if ref_sigma > 0 else abs(sigma)
        return d


def _safe(f, *args) -> float:
    """f(*args), or +inf when our evaluation fails there (a path is then not flat)."""
    try:
        return float(f(*args))
    except Exception:
        return math.inf


def _warning_label(w: warnings.WarningMessage) -> str:
    reason = getattr(w.message, "reason", None)
    return f"{type(w.message).__name__}" + (f"({reason})" if reason else "")


def evaluate_model(model: dict, ref: dict | None) -> dict:
    """Fit ``model`` with this package and apply the rule against ``ref``.

    Parameters
    ----------
    model : dict
        A model of ``models.models()``.
    ref : dict or None
        Its reference record (None: no fixture yet).

    Returns
    -------
    dict
        One row: ``status`` (see ``rule``), ``note``, ``gap``, ``d_theta``, ``d_beta``,
        ``d_sigma``, ``objective``, ``objective_ref``, ``ref_fit``, ``function_diff``,
        ``seconds`` (our construction and fit), ``evaluations`` (the fit's values of the
        objective, ``optsum["evaluations"]``), ``warnings``.

    Examples
    --------
    >>> ms = {m["id"]: m for m in models()}
    >>> evaluate_model(ms["dyestuff_ML"], load_reference()["dyestuff_ML"])["status"]
    'pass'
    """
    row: dict[str, Any] = {
        "id": model["id"],
        "data": model["data"],
        "kind": model["kind"],
        "tags": model["tags"],
        "status": "",
        "note": "",
        "gap": None,
        "d_theta": None,
        "d_beta": None,
        "d_sigma": None,
        "objective": None,
        "objective_ref": None,
        "ref_fit": None,
        "function_diff": None,
        "seconds": None,
        "evaluations": None,
        "warnings": [],
    }
    if ref is None:
        row.update(status="no_reference", note="no lme4 record: run regenerate.py")
        return row
    if ref.get("excluded"):
        row.update(status="excluded", note=ref["excluded"])
        return row
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        try:
            fitted = _build(model)
        except Exception as e:  # our error is a result of the grid, not a crash of the run
            row.update(status="error", note=f"{type(e).__name__}: {e}"[:300])
            row["seconds"] = time.perf_counter() - t0
            return row
        row["seconds"] = time.perf_counter() - t0
        row["evaluations"] = fitted.optsum.get("evaluations")
        try:
            _compare(model, fitted, ref, row)
        except Exception as e:
            row.update(status="error", note=f"comparison failed: {type(e).__name__}: {e}"[:300])
    row["warnings"] = sorted({_warning_label(w) for w in caught})
    return row


def _compare(model: dict, fitted: Any, ref: dict, row: dict) -> None:
    c = _Comparison(model, fitted, ref)
    f = float(fitted.objective)
    sigma = float(fitted.sigma) if c.is_lmm else 0.0
    row["objective"] = f
    if c.theta is None or c.beta is None:
        what = "θ terms" if c.theta is None else "fixed-effect names"
        row.update(status="mismatch", note=f"{what} differ from lme4's")
        return
    fits = [r for r in ref["fits"] if "error" not in r]
    if c.is_lmm:
        values = [float(r["objective"]) for r in fits]
    else:
        values = []
        for r in fits:
            try:
                values.append(c.objective_at(np.array(r["theta"]), np.array(r["beta"])))
            except Exception:  # lme4's parameters where our PIRLS fails: not a candidate
                values.append(math.inf)
    best = int(np.argmin(values))
    f_ref = values[best]
    rf = fits[best]
    scale = max(abs(f_ref), 1.0)
    ref_theta, ref_beta = np.array(rf["theta"]), np.array(rf["beta"])
    ref_sigma = float(rf["sigma"]) if c.is_lmm else 0.0
    row.update(objective_ref=f_ref, ref_fit=rf["optimizer"], gap=(f - f_ref) / scale)

    # the same function on both sides, at the reference parameters
    if c.is_lmm:
        ours_there = c.objective_at(ref_theta, None)
        lme4_there = float(rf["objective"])
        tol = rule.FUNCTION_RTOL_LMM
    else:
        ours_there = f_ref
        lme4_there = float(rf["objective"]) - (ref["saturated"] if model["nagq"] <= 1 else 0.0)
        tol = rule.FUNCTION_RTOL_GLMM
    row["function_diff"] = (ours_there - lme4_there) / scale
    if abs(row["function_diff"]) > tol:
        row.update(status="mismatch", note="objective functions differ at lme4's parameters")
        return

    d = c.distance(c.theta, c.beta, sigma, ref_theta, ref_beta, ref_sigma)
    row.update(d)
    distance = max(d.values()) / rule.PARAMETER_TOL

    spread = 0.0
    for r, v in zip(fits, values, strict=True):
        if r is rf or abs(v - f_ref) > rule.OBJECTIVE_RTOL * scale:
            continue
        dr = c.distance(
            r["theta"], r["beta"], float(r["sigma"]) if c.is_lmm else 0.0,
            ref_theta, ref_beta, ref_sigma,
        )  # fmt: skip
        spread = max(spread, max(dr.values()) / rule.PARAMETER_TOL)

    sizes = [len(t["columns"]) for t in ref["theta_terms"]]

    def segment() -> list[list[float]]:
        paths: list[list[float]] = [[], []]
        for t in rule.SEGMENT_POINTS:
            be = ref_beta + t * (c.beta - ref_beta)
            on_cov = rule.covariance_path(ref_theta, c.theta, sizes, t)
            paths[0].append(_safe(c.objective_at, on_cov, be))
            paths[1].append(_safe(c.objective_at, ref_theta + t * (c.theta - ref_theta), be))
        return paths

    status, note = rule.classify(row["gap"], distance, segment, spread, scale, f_ref)
    row.update(status=status, note=note)
    if status != "pass":  # for check_at_ours.R: both points in lme4's order
        row.update(
            theta_lme4_order=c.theta.tolist(),
            beta_lme4_order=c.beta.tolist(),
            ref_theta=ref_theta.tolist(),
            ref_beta=ref_beta.tolist(),
            saturated=ref.get("saturated"),
        )


def summarize(rows: list[dict], known: dict[str, str], wall: float) -> dict:
    """Counts by status, known and new failures, the worst gap and the times."""
    failing = [r for r in rows if r["status"] not in (*rule.PASSING, "excluded")]
    gaps = [r for r in rows if r["gap"] is not None]
    worst = max(gaps, key=lambda r: r["gap"]) if gaps else None
    ok = [r for r in gaps if r["status"] in rule.PASSING]
    worst_ok = max(ok, key=lambda r: r["gap"]) if ok else None
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {
        "models": len(rows),
        "counts": counts,
        "known_failures": sorted(r["id"] for r in failing if r["id"] in known),
        "new_failures": sorted(r["id"] for r in failing if r["id"] not in known),
        "fixed": sorted(r["id"] for r in rows if r["id"] in known and r["status"] in rule.PASSING),
        "worst_gap": None if worst is None else {"id": worst["id"], "gap": worst["gap"]},
        "worst_gap_passing": None
        if worst_ok is None
        else {"id": worst_ok["id"], "gap": worst_ok["gap"]},
        "fit_seconds": sum(r["seconds"] or 0.0 for r in rows),
        "evaluations": sum(r["evaluations"] or 0 for r in rows),
        "wall_seconds": wall,
    }


def _fmt(v: Any, spec: str = ".1e") -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def markdown(rows: list[dict], summary: dict, known: dict[str, str], subset: str) -> str:
    """The results table as Markdown."""
    lines = [
        f"# Validation grid: {subset}",
        "",
        f"{summary['models']} models; "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
        + ".",
        "",
        f"* worst objective gap: {_fmt((summary['worst_gap'] or {}).get('gap'), '.2e')} "
        f"({(summary['worst_gap'] or {}).get('id', '')}); among passing models: "
        f"{_fmt((summary['worst_gap_passing'] or {}).get('gap'), '.2e')} "
        f"({(summary['worst_gap_passing'] or {}).get('id', '')}); positive = ours worse, "
        "relative to max(|f_ref|, 1)",
        f"* our construction + fit time: {summary['fit_seconds']:.1f} s; wall time of the "
        f"run {summary['wall_seconds']:.1f} s; values of the objective in all the fits: "
        f"{summary['evaluations']}",
        f"* known failures: {len(summary['known_failures'])}; new failures: "
        f"{', '.join(summary['new_failures']) or 'none'}; fixed: "
        f"{', '.join(summary['fixed']) or 'none'}",
        "",
        "Rule: tests/validation/rule.py (objective within 1e-6 relative of lme4's best, then "
        "θ, β, σ within 1e-4, or a flat likelihood shown by the objective).",
        "",
        "| id | status | gap | d_θ | d_β | d_σ | ours | lme4 best | ref fit | f(ref) diff "
        "| time (s) | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"error": 0, "mismatch": 1, "fail": 2, "fail_params": 3, "no_reference": 4}
    for r in sorted(rows, key=lambda r: (order.get(r["status"], 9), r["id"])):
        status = r["status"] + (" (known)" if r["id"] in known and r["status"] in order else "")
        note = r["note"]
        if r["id"] in known:
            note = (note + "; " if note else "") + known[r["id"]]
        if r["warnings"]:
            note = (note + "; " if note else "") + "warnings: " + ", ".join(r["warnings"])
        lines.append(
            "| "
            + " | ".join(
                [
                    r["id"],
                    status,
                    _fmt(r["gap"]),
                    _fmt(r["d_theta"]),
                    _fmt(r["d_beta"]),
                    _fmt(r["d_sigma"]) if r["kind"] == "lmm" else "",
                    _fmt(r["objective"], ".10g"),
                    _fmt(r["objective_ref"], ".10g"),
                    _fmt(r["ref_fit"]),
                    _fmt(r["function_diff"]),
                    _fmt(r["seconds"], ".3f"),
                    note.replace("|", "\\|"),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def select(subset: str, ids: list[str] | None, tags: list[str] | None) -> list[dict]:
    """The models to run: the CI subset, the full grid, or those named / tagged."""
    ms = models()
    if ids:
        wanted = set(ids)
        unknown = wanted - {m["id"] for m in ms}
        if unknown:
            raise SystemExit(f"unknown model ids: {sorted(unknown)}")
        return [m for m in ms if m["id"] in wanted]
    if tags:
        return [m for m in ms if set(tags) <= set(m["tags"])]
    return [m for m in ms if m["ci"]] if subset == "ci" else ms


def main(argv: list[str] | None = None) -> int:
    """Run the grid; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subset", choices=["ci", "full"], default="full")
    p.add_argument("--ids", nargs="*")
    p.add_argument("--tags", nargs="*")
    p.add_argument("--out", type=pathlib.Path, default=RESULTS_DIR)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    chosen = select(args.subset, args.ids, args.tags)
    name = args.subset if not (args.ids or args.tags) else "selection"
    ref = load_reference()
    known = known_failures()
    rows = []
    t0 = time.perf_counter()
    for i, model in enumerate(chosen):
        row = evaluate_model(model, ref.get(model["id"]))
        rows.append(row)
        if not args.quiet:
            print(
                f"[{i + 1}/{len(chosen)}] {row['id']:<36} {row['status']:<12} "
                f"gap {_fmt(row['gap'], '+.1e'):>9}  {_fmt(row['seconds'], '.2f')} s  "
                f"{row['note']}",
                flush=True,
            )
    summary = summarize(rows, known, time.perf_counter() - t0)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.md").write_text(markdown(rows, summary, known, name))
    (args.out / f"{name}.json").write_text(
        json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n"
    )
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out / (name + '.md')}")
    return 1 if summary["new_failures"] or summary["fixed"] else 0


if __name__ == "__main__":
    sys.exit(main())
