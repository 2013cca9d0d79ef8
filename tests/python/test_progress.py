"""Progress bars: a fit's bar counts exactly the evaluations of its record and names its
stage, a profile's counts its parameters, a bootstrap's its replicates; False writes
nothing, the default writes nothing when the output is not interactive (or the work is
short); a callable that raises stops the work; a non-bool is a typed error."""

from __future__ import annotations

import re

import pytest

import mixedmodels as mm
from mixedmodels import _progress

SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"


def final_count(err: str, unit: str) -> int:
    """The count of the bar's last state written to ``err``."""
    counts = re.findall(rf"(\d+){unit} \[", err)
    assert counts, err
    return int(counts[-1])


@pytest.fixture
def sleep():
    return mm.LinearMixedModel(SLEEP, mm.dataset("sleepstudy"))


@pytest.mark.parametrize("optimizer", ["auto", "bobyqa"])
def test_a_linear_fits_bar_ends_at_its_evaluations(sleep, capsys, optimizer):
    sleep.fit(progress=True, optimizer=optimizer)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert final_count(captured.err, "eval") == sleep.optsum["evaluations"]
    stage = "theta (BFGS)" if optimizer == "auto" else "theta (BOBYQA)"
    assert stage in captured.err
    assert f"objective {sleep.optsum['fmin']:.6g}" in captured.err


def test_a_generalized_fits_bar_ends_at_its_evaluations(capsys):
    g = mm.glmm(CBPP, mm.dataset("cbpp"), family="binomial", progress=True)
    err = capsys.readouterr().err
    assert final_count(err, "eval") == g.optsum["evaluations"]
    # The bar names the last stage: the quasi-Newton joint stage.
    assert "joint (BFGS)" in err


def test_false_writes_nothing(sleep, capsys):
    sleep.fit(progress=False)
    mm.profile(sleep, progress=False)
    mm.parametricbootstrap(sleep, 5, seed=1, progress=False)
    assert capsys.readouterr() == ("", "")


def test_the_default_writes_nothing_when_not_interactive(sleep, capsys):
    assert not _progress.interactive()  # pytest captures standard error
    sleep.fit()
    mm.profile(sleep)
    mm.parametricbootstrap(sleep, 5, seed=1)
    assert capsys.readouterr() == ("", "")


def test_the_default_waits_before_showing_its_bar(sleep, capsys, monkeypatch):
    monkeypatch.setattr(_progress, "interactive", lambda: True)
    sleep.fit()  # well under AUTO_DELAY
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(_progress, "AUTO_DELAY", 0.0)
    sleep.fit()
    err = capsys.readouterr().err
    assert final_count(err, "eval") == sleep.optsum["evaluations"]


def test_a_profiles_bar_counts_its_parameters(sleep, capsys):
    sleep.fit(progress=False)
    p = mm.profile(sleep, progress=True)
    err = capsys.readouterr().err
    k = len(p.parameters)
    assert k == 6
    assert f"{k}/{k}" in err and "profile" in err


def test_a_bootstraps_bar_counts_its_replicates(sleep, capsys):
    sleep.fit(progress=False)
    mm.parametricbootstrap(sleep, 7, seed=1, threads=2, progress=True)
    err = capsys.readouterr().err
    assert "parametric bootstrap" in err and "7/7" in err


def test_a_callable_that_raises_stops_the_fit(sleep):
    def callback(evaluations, best, stage, done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        sleep._core.fit(False, "bobyqa", mm._core.Progress(callback))
    assert not sleep._core.is_fitted
    sleep.fit(progress=False)  # the model's own interrupt is back
    assert sleep._core.is_fitted


def test_the_counter_reports_what_the_callable_is_shown(sleep):
    seen = []
    progress = mm._core.Progress(lambda *args: seen.append(args))
    sleep._core.fit(False, "auto", progress)
    evaluations, best, stage, done, total = progress.snapshot()
    assert evaluations == sleep._core.optsum()["evaluations"]
    assert best == pytest.approx(sleep._core.optsum()["fmin"], rel=1e-12)
    assert stage == "theta (BFGS)" and (done, total) == (0, 0)
    assert all(s[0] <= evaluations for s in seen)


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_a_non_bool_is_a_typed_error(sleep, value):
    for call in (
        lambda: sleep.fit(progress=value),
        lambda: mm.profile(sleep, progress=value),
        lambda: mm.parametricbootstrap(sleep, 5, seed=1, progress=value),
    ):
        with pytest.raises(mm.ArgumentTypeError) as e:
            call()
        assert e.value.parameter == "progress"
