"""``mm.parametricbootstrap``: the table does not depend on the threads, replicate k is the
refit to ``simulate``'s column k, the bootstrap spread of β̂ matches the Wald standard
errors, intervals, saving and loading, a GLMM, failed fits, progress, Ctrl-C and refused
arguments.

Tolerances. With 1000 replicates the bootstrap standard deviation of an estimate has a
relative Monte Carlo standard error of about 1/√(2·999) ≈ 2.2%; the Wald standard error
of an LMM's β̂ (at the fitted θ, σ) is the standard deviation of β̂ over replicates drawn
at those values, up to the variation of θ̂ and σ̂ between replicates (a few per cent for
sleepstudy). 10% is about 4.5 Monte Carlo standard errors. The seeds are fixed: each test
always passes or always fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import polars as pl
import pytest

import mixedmodels as mm

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"


@pytest.fixture(scope="module")
def sleep() -> mm.LinearMixedModel:
    return mm.lmm(SLEEP, mm.dataset("sleepstudy"))


@pytest.fixture(scope="module")
def cbpp() -> mm.GeneralizedLinearMixedModel:
    return mm.glmm(CBPP, mm.dataset("cbpp"), family=mm.Binomial())


@pytest.fixture(scope="module")
def sleep_1000(sleep) -> mm.ParametricBootstrap:
    return mm.parametricbootstrap(sleep, 1000, seed=2024, threads=2, progress=False)


def test_table_is_the_same_on_one_and_two_threads_and_reproducible(sleep):
    one = mm.parametricbootstrap(sleep, 40, seed=9, threads=1, progress=False)
    two = mm.parametricbootstrap(sleep, 40, seed=9, threads=2, progress=False)
    assert one.table.equals(two.table)
    again = mm.parametricbootstrap(sleep, 40, seed=9, progress=False)
    assert again.table.equals(one.table)
    other = mm.parametricbootstrap(sleep, 40, seed=10, threads=2, progress=False)
    assert not np.any(other.table["objective"].to_numpy() == one.table["objective"].to_numpy())
    assert one.table.columns == [
        "replicate",
        "objective",
        "sigma",
        "(Intercept)",
        "Days",
        "Subject.(Intercept)",
        "Subject.Days.(Intercept)",
        "Subject.Days",
        "sd_(Intercept)|Subject",
        "cor_Days.(Intercept)|Subject",
        "sd_Days|Subject",
        "converged",
        "warning",
    ]
    assert one.table["replicate"].to_list() == list(range(40))
    assert one.n == 40 and one.seed == 9 and one.nonconverged == 0


def test_replicate_k_is_the_refit_to_simulate_column_k(sleep):
    b = mm.parametricbootstrap(sleep, 4, seed=31, progress=False)
    y = sleep.simulate(seed=31, n=4)
    copy = mm.LinearMixedModel(SLEEP, mm.dataset("sleepstudy"))
    for k in range(4):
        copy._core.set_response(y[:, k].tolist())
        copy._core.fit_from(False, list(sleep.theta), optimizer=sleep.optsum["optimizer"])
        row = b.table.row(k, named=True)
        assert row["objective"] == copy.objective
        assert [row["(Intercept)"], row["Days"]] == list(copy.beta)
        assert [row[c] for c in copy.theta_names] == list(copy.theta)
        assert row["sigma"] == copy.sigma
        sd = copy.varcorr().terms[0]["sd"]
        assert [row["sd_(Intercept)|Subject"], row["sd_Days|Subject"]] == list(sd)


def test_bootstrap_sd_of_beta_matches_the_wald_standard_errors(sleep, sleep_1000):
    t = sleep_1000.table
    assert t.height == 1000 and sleep_1000.nonconverged == 0
    for name, se in zip(sleep.fixefnames, sleep.stderror(), strict=True):
        sd = t[name].std()
        assert abs(sd / se - 1) < 0.10, (name, sd, se)


def test_sigma_interval_covers_the_fitted_sigma(sleep, sleep_1000):
    for method in ("percentile", "shortest"):
        ci = sleep_1000.confint(method=method)
        row = ci.filter(pl.col("parameter") == "sigma").row(0, named=True)
        assert row["estimate"] == sleep.sigma
        assert row["lower"] < sleep.sigma < row["upper"]


def test_confint_order_and_methods(sleep_1000):
    ci = sleep_1000.confint()
    assert ci.columns == ["parameter", "estimate", "lower", "upper"]
    assert ci["parameter"].to_list() == [
        "sd_(Intercept)|Subject",
        "cor_Days.(Intercept)|Subject",
        "sd_Days|Subject",
        "sigma",
        "(Intercept)",
        "Days",
    ]
    t = sleep_1000.table
    for level in (0.9, 0.95):
        pct = sleep_1000.confint(level=level, method="percentile")
        short = sleep_1000.confint(level=level, method="shortest")
        for p in pct["parameter"]:
            v = t[p].drop_nulls().to_numpy()
            v = np.sort(v[np.isfinite(v)])
            lo, hi = pct.filter(pl.col("parameter") == p).row(0)[2:]
            q = np.quantile(v, [(1 - level) / 2, (1 + level) / 2])
            assert (lo, hi) == pytest.approx(tuple(q), rel=1e-12)
            # The shortest window of ⌈level·n⌉ sorted values (first of equals).
            k = int(np.ceil(level * len(v)))
            widths = v[k - 1 :] - v[: len(v) - k + 1]
            i = int(np.argmin(widths))
            assert short.filter(pl.col("parameter") == p).row(0)[2:] == (v[i], v[i + k - 1])
    # MixedModels.jl's documented shortest 95% intervals for this model (10,000
    # replicates of another generator; docs/src/bootstrap.md, built 2024-10-16). An end of
    # a 95% interval from 1000 replicates has a Monte Carlo standard error of about
    # √(0.025·0.975/1000)/φ(1.96) ≈ 0.085 standard deviations ≈ 2.2% of the interval's
    # width (a little more for the shortest interval): 10% of the width is 3-4 of them.
    jl = {"(Intercept)": (238.58, 263.89), "Days": (7.54, 13.37), "sigma": (22.66, 28.43)}
    for p, (lo, hi) in jl.items():
        row = ci.filter(pl.col("parameter") == p).row(0)
        assert abs(row[2] - lo) < 0.1 * (hi - lo) and abs(row[3] - hi) < 0.1 * (hi - lo)


def test_save_and_load_round_trip_exactly(sleep, cbpp, tmp_path):
    for model in (sleep, cbpp):
        b = mm.parametricbootstrap(model, 15, seed=4, progress=False)
        path = tmp_path / "boot.json"
        b.save(path)
        for loaded in (mm.ParametricBootstrap.load(path), mm.load_bootstrap(str(path))):
            assert loaded.table.equals(b.table)
            assert loaded.table.schema == b.table.schema
            assert loaded.confint().equals(b.confint())
            assert (loaded.formula, loaded.seed, loaded.n) == (b.formula, b.seed, b.n)
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(mm.RestoreError):
        mm.ParametricBootstrap.load(tmp_path / "other.json")


def test_glmm_bootstrap_runs(cbpp):
    one = mm.parametricbootstrap(cbpp, 12, seed=5, threads=1, progress=False)
    two = mm.parametricbootstrap(cbpp, 12, seed=5, threads=2, progress=False)
    assert one.table.equals(two.table)
    assert "sigma" not in one.table.columns
    assert one.table["converged"].all()
    ci = one.confint(method="percentile")
    assert ci["parameter"].to_list() == ["sd_(Intercept)|herd", *cbpp.fixefnames]
    assert cbpp.fixefnames == ["(Intercept)", "period: 2", "period: 3", "period: 4"]
    assert np.all(ci["lower"].to_numpy() <= ci["upper"].to_numpy())
    assert ci["estimate"].to_list()[1:] == list(cbpp.beta)


def test_failed_fits_stay_in_the_table(cbpp):
    # β₀ = 30 on the logit scale: every animal is a case and every refit fails.
    b = mm.parametricbootstrap(cbpp, 3, seed=1, beta=[30.0, 0.0, 0.0, 0.0], progress=False)
    t = b.table
    assert t.height == 3 and b.nonconverged == 3
    assert t["objective"].null_count() == 3 and t["(Intercept)"].null_count() == 3
    assert all(isinstance(w, str) and w for w in t["warning"])
    ci = b.confint()
    assert ci["lower"].is_nan().all() and ci["upper"].is_nan().all()
    assert "3 not converged" in repr(b)


def test_generating_parameters_are_the_estimates(sleep):
    b = mm.parametricbootstrap(
        sleep, 30, seed=6, theta=[1.0, 0.0, 0.5], beta=[250.0, 10.0], sigma=20.0, progress=False
    )
    est = dict(zip(*b.confint().select("parameter", "estimate"), strict=True))
    assert est["sigma"] == 20.0 and est["(Intercept)"] == 250.0
    assert est["sd_(Intercept)|Subject"] == pytest.approx(20.0)
    assert est["sd_Days|Subject"] == pytest.approx(10.0)
    assert est["cor_Days.(Intercept)|Subject"] == 0.0


def test_progress_bar_reaches_n(sleep, capsys):
    mm.parametricbootstrap(sleep, 25, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "parametric bootstrap" in err and "25/25" in err


def test_a_progress_callback_that_raises_stops_the_bootstrap(sleep):
    def callback(evaluations, best, stage, done, total):
        raise RuntimeError("stop here")

    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="stop here"):
        progress = mm._core.Progress(callback)
        sleep._core.parametric_bootstrap(1_000_000, 1, 2, None, None, None, progress)
    assert time.perf_counter() - start < 10


def test_refused_arguments(sleep, cbpp):
    boot = mm.parametricbootstrap
    with pytest.raises(mm.ArgumentTypeError) as e:
        boot("model", 10, seed=1)
    assert e.value.parameter == "model"
    cases = [
        ({"n": 0}, mm.ArgumentError, "n"),
        ({"n": 2.5}, mm.ArgumentTypeError, "n"),
        ({"seed": -1}, mm.ArgumentError, "seed"),
        ({"seed": "1"}, mm.ArgumentTypeError, "seed"),
        ({"threads": 0}, mm.ArgumentError, "threads"),
        ({"progress": "yes"}, mm.ArgumentTypeError, "progress"),
        ({"sigma": -2.0}, mm.ArgumentError, "sigma"),
        ({"theta": [1.0]}, mm.ArgumentError, "theta"),
        ({"beta": [[1.0, 2.0]]}, mm.ArgumentError, "beta"),
    ]
    for kwargs, error, parameter in cases:
        args = {"n": 5, "seed": 1, "progress": False} | kwargs
        n = args.pop("n")
        with pytest.raises(error) as e:
            boot(sleep, n, **args)
        assert e.value.parameter == parameter, kwargs
    with pytest.raises(mm.ArgumentError) as e:
        boot(cbpp, 5, seed=1, sigma=1.0, progress=False)
    assert e.value.parameter == "sigma"
    with pytest.raises(mm.NotFittedError):
        boot(mm.LinearMixedModel(SLEEP, mm.dataset("sleepstudy")), 5, seed=1, progress=False)
    b = boot(sleep, 5, seed=1, progress=False)
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(mm.ArgumentError) as e:
            b.confint(level=level)
        assert e.value.parameter == "level"
    with pytest.raises(mm.ArgumentTypeError) as e:
        b.confint(level="high")
    assert e.value.parameter == "level"
    with pytest.raises(mm.ArgumentError) as e:
        b.confint(method="bca")
    assert e.value.parameter == "method"


CHILD = textwrap.dedent(
    """
    import json, sys, time
    import mixedmodels as mm
    m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    try:
        mm.parametricbootstrap(m, 10_000_000, seed=1, threads=2, progress=False)
        outcome = "finished"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    stopped = time.perf_counter()
    cpu = time.process_time()
    time.sleep(0.5)
    print(json.dumps({
        "outcome": outcome,
        "stopped_at": stopped - start,
        "cpu_after": time.process_time() - cpu,
    }), flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_sigint_stops_the_bootstrap_within_a_second():
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    after = 0.5
    try:
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(after)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    r = json.loads(out.strip().splitlines()[-1])
    assert r["outcome"] == "KeyboardInterrupt"
    assert r["stopped_at"] < after + 1.0
    # The workers are gone: (almost) no CPU used after the exception.
    assert r["cpu_after"] < 0.05
