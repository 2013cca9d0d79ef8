#!/usr/bin/env python3
"""Overhead of the progress path: time per objective evaluation of small fits without a
progress counter, with a counter shown to a no-op callable, and with the tqdm bar
(written to a string buffer). Small fits are the worst case: their evaluations take
microseconds, so the per-evaluation cost of the counter (an atomic add and a
compare-and-swap) and the Ctrl-C hook's calls into Python weigh most.

    python benches/progress_overhead.py            # 200 fits per model and mode
    python benches/progress_overhead.py --fits 50

Modes are interleaved fit by fit so that load from other processes hits them alike;
the median per fit is reported, divided by the fit's evaluations. Then a long fit (55 θ
by BOBYQA on sleepstudy with Days as a factor) runs for a few seconds at a time with
a counter shown to a no-op callable and with the bar, stopped by the callable, and the
evaluations per second are compared: the cost of calling into Python ten times a second.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from collections.abc import Callable

import mixedmodels as mm
from mixedmodels._progress import ProgressBar

MODELS: dict[str, Callable[[], object]] = {
    "sleepstudy LMM (BFGS)": lambda: mm.LinearMixedModel(
        "Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy")
    ),
    "sleepstudy LMM (BOBYQA)": lambda: mm.LinearMixedModel(
        "Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy")
    ),
    "cbpp GLMM (Laplace)": lambda: mm.GeneralizedLinearMixedModel(
        "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
        mm.dataset("cbpp"),
        "binomial",
    ),
}


def fit_once(name: str, model: object, progress: object) -> None:
    """One fit of ``model`` by its native method with ``progress`` (a ``_core.Progress``
    or None)."""
    core = model._core  # type: ignore[attr-defined]
    if "GLMM" in name:
        core.fit(False, 1, progress)
    else:
        core.fit(False, "bobyqa" if "BOBYQA" in name else "auto", progress)


def timed(name: str, model: object, mode: str) -> float:
    """Seconds of one fit in ``mode`` (none, counter, bar)."""
    if mode == "none":
        start = time.perf_counter()
        fit_once(name, model, None)
        return time.perf_counter() - start
    if mode == "counter":
        start = time.perf_counter()
        fit_once(name, model, mm._core.Progress(lambda *args: None))
        return time.perf_counter() - start
    with contextlib.redirect_stderr(io.StringIO()):
        start = time.perf_counter()
        with ProgressBar(True, "fit", "eval") as bar:
            fit_once(name, model, bar.native)
        return time.perf_counter() - start


def long_rate(mode: str, seconds: float) -> float:
    """Evaluations per second of the long fit in ``mode`` (counter, bar), stopped after
    ``seconds`` by the progress callable."""
    model = mm.LinearMixedModel(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        mm.dataset("sleepstudy"),
        contrasts={"Days": mm.DummyCoding()},
        check_nobs="ignore",
    )
    start = time.perf_counter()

    def stop_after(*args: object) -> None:
        if time.perf_counter() - start > seconds:
            raise TimeoutError

    with contextlib.redirect_stderr(io.StringIO()):
        bar = ProgressBar(True, "fit", "eval") if mode == "bar" else None
        show = bar._update if bar is not None else (lambda *args: None)

        def callback(*args: object) -> None:
            show(*args)  # type: ignore[misc]
            stop_after()

        progress = mm._core.Progress(callback)
        start = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            model._core.fit(False, "bobyqa", progress)
        elapsed = time.perf_counter() - start
        if bar is not None:
            bar._bar.close()
    return progress.snapshot()[0] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=200, help="fits per model and mode")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of a long run")
    parser.add_argument("--runs", type=int, default=3, help="long runs per mode")
    args = parser.parse_args()
    modes = ["none", "counter", "bar"]
    print(f"{'model':<26}{'evals':>6}" + "".join(f"{m + ' µs/eval':>18}" for m in modes))
    for name, build in MODELS.items():
        model = build()
        fit_once(name, model, None)  # warm up
        evaluations = model._core.optsum()["evaluations"]  # type: ignore[attr-defined]
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(args.fits):
            for mode in modes:
                times[mode].append(timed(name, model, mode))
        per_eval = {m: statistics.median(t) / evaluations * 1e6 for m, t in times.items()}
        row = f"{name:<26}{evaluations:>6}" + "".join(f"{per_eval[m]:>18.2f}" for m in modes)
        print(row)
    rates: dict[str, list[float]] = {"counter": [], "bar": []}
    for _ in range(args.runs):
        for mode in rates:
            rates[mode].append(long_rate(mode, args.seconds))
    for mode, r in rates.items():
        print(
            f"long fit, {mode:<8} {statistics.median(r):10.1f} evaluations/s (median of {len(r)})"
        )


if __name__ == "__main__":
    main()
