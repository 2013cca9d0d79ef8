"""The plots of mixedmodels.plot, rendered with the Agg backend: each test reads back
the artists (points, interval ends, labels, order) and checks them against numbers
computed here from the model's getters, independently of the plotting code; every
figure is also written to PNG.

Reference constants from R 4.2: qnorm(0.975) = 1.95996398454005 and
qnorm(ppoints(6)) (the Q–Q plotting positions of six levels)."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import polars as pl
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

import mixedmodels as mm  # noqa: E402

Z95 = 1.95996398454005  # R: qnorm(0.975)
QNORM_PPOINTS_6 = [  # R: qnorm(ppoints(6))
    -1.281551565544601,
    -0.643345405392917,
    -0.201893479141851,
    0.201893479141851,
    0.643345405392917,
    1.281551565544601,
]
SLEEP = "Reaction ~ 1 + Days + (1 + Days | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)"


@pytest.fixture(scope="module")
def sleep() -> mm.LinearMixedModel:
    return mm.lmm(SLEEP, mm.dataset("sleepstudy"))


@pytest.fixture(scope="module")
def dyes() -> mm.LinearMixedModel:
    return mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def png(fig, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def errorbar_parts(ax) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x and y of the points and the left and right ends of the horizontal bars."""
    (container,) = ax.containers
    data_line, _caps, (bars,) = container.lines
    segments = np.array(bars.get_segments())
    return data_line.get_xdata(), data_line.get_ydata(), segments[:, 0, 0], segments[:, 1, 0]


def test_caterpillar_points_intervals_order_and_labels(sleep, tmp_path):
    fig = mm.plot.caterpillar(sleep, "Subject")
    table = sleep.ranef()["Subject"]
    b = table.select(["(Intercept)", "Days"]).to_numpy()
    sd = np.sqrt(np.array([np.diag(block) for block in sleep.condvar()["Subject"]]))
    order = np.argsort(b[:, 0])
    assert len(fig.axes) == 2
    for j, ax in enumerate(fig.axes):
        x, y, left, right = errorbar_parts(ax)
        assert len(x) == 18
        np.testing.assert_allclose(x, b[order, j], rtol=1e-12)
        np.testing.assert_allclose(left, b[order, j] - Z95 * sd[order, j], rtol=1e-12)
        np.testing.assert_allclose(right, b[order, j] + Z95 * sd[order, j], rtol=1e-12)
        np.testing.assert_array_equal(y, np.arange(18))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [str(table["Subject"][int(i)]) for i in order]
    assert [ax.get_xlabel() for ax in fig.axes] == ["(Intercept)", "Days"]
    assert fig.axes[0].get_ylabel() == "Subject"
    png(fig, tmp_path, "caterpillar")


def test_caterpillar_order_choices_level_and_given_axes(sleep):
    table = sleep.ranef()["Subject"]
    fig = mm.plot.caterpillar(sleep, order=False)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [str(v) for v in table["Subject"]]
    fig = mm.plot.caterpillar(sleep, order="Days", level=0.8)
    x, _, left, _ = errorbar_parts(fig.axes[1])
    np.testing.assert_array_equal(x, np.sort(table["Days"].to_numpy()))
    sd = np.sqrt(np.array([block[1, 1] for block in sleep.condvar()["Subject"]]))
    order = np.argsort(table["Days"].to_numpy())
    np.testing.assert_allclose(left, x - 1.2815515655446 * sd[order], rtol=1e-12)  # qnorm(0.9)
    own, axes = plt.subplots(1, 2)
    assert mm.plot.caterpillar(sleep, ax=axes) is own
    assert len(axes[0].containers) == 1
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.caterpillar(sleep, ax=axes[0])
    assert e.value.parameter == "ax"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"term": "Subjekt"}, "term"),
        ({"level": 1.0}, "level"),
        ({"level": "0.9"}, "level"),
        ({"order": "Dayz"}, "order"),
        ({"order": 1}, "order"),
    ],
)
def test_caterpillar_bad_arguments_are_named(sleep, kwargs, parameter):
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.caterpillar(sleep, **kwargs)
    assert e.value.parameter == parameter


def test_qqcaterpillar_sorted_modes_at_normal_quantiles(dyes, tmp_path):
    fig = mm.plot.qqcaterpillar(dyes)
    b = dyes.ranef()["Batch"]["(Intercept)"].to_numpy()
    sd = np.sqrt(dyes.condvar()["Batch"][:, 0, 0])
    order = np.argsort(b)
    x, y, left, right = errorbar_parts(fig.axes[0])
    np.testing.assert_allclose(x, b[order], rtol=1e-12)
    np.testing.assert_allclose(y, QNORM_PPOINTS_6, rtol=1e-12)
    np.testing.assert_allclose(left, b[order] - Z95 * sd[order], rtol=1e-12)
    np.testing.assert_allclose(right, b[order] + Z95 * sd[order], rtol=1e-12)
    assert fig.axes[0].get_xlabel() == "(Intercept)"
    assert fig.axes[0].get_ylabel() == "Standard normal quantiles"
    png(fig, tmp_path, "qqcaterpillar")


def shrinkage_parts(ax) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The within-level and conditional-mode points and the segments' ends."""
    by_label = {c.get_label(): c for c in ax.collections}
    (segments,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return (
        np.asarray(by_label["within-level least squares"].get_offsets()),
        np.asarray(by_label["conditional mode"].get_offsets()),
        np.array(segments.get_segments()),
    )


def test_shrinkageplot_per_subject_regressions_against_modes(sleep, tmp_path):
    fig = mm.plot.shrinkageplot(sleep)
    ax = fig.axes[0]
    unshrunk, shrunk, ends = shrinkage_parts(ax)
    data = mm.dataset("sleepstudy")
    beta = sleep.beta
    table = sleep.ranef()["Subject"]
    per_subject = []
    for subject in table["Subject"]:
        rows = data.filter(pl.col("Subject") == subject)
        slope, intercept = np.polyfit(rows["Days"].to_numpy(), rows["Reaction"].to_numpy(), 1)
        per_subject.append([intercept - beta[0], slope - beta[1]])
    np.testing.assert_allclose(unshrunk, per_subject, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(shrunk, table.select(["(Intercept)", "Days"]).to_numpy())
    assert ends.shape == (18, 2, 2)
    np.testing.assert_allclose(ends[:, 0, :], unshrunk)
    np.testing.assert_allclose(ends[:, 1, :], shrunk)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("(Intercept)", "Days")
    png(fig, tmp_path, "shrinkage")


def test_shrinkageplot_one_column_is_level_means(dyes):
    fig = mm.plot.shrinkageplot(dyes)
    ax = fig.axes[0]
    unshrunk, _, _ = shrinkage_parts(ax)
    data = mm.dataset("dyestuff")
    levels = [t.get_text() for t in ax.get_yticklabels()]
    means = [data.filter(pl.col("Batch") == lv)["Yield"].mean() - dyes.beta[0] for lv in levels]
    np.testing.assert_allclose(unshrunk[:, 0], means, rtol=1e-10)
    assert len(levels) == 6


def test_shrinkageplot_crossed_terms_modes_are_the_penalised_means():
    """With crossed terms the within-level fit is to the partial residual given the
    other term's modes; a scalar term's mode is then that level's mean times
    n/(n + θ⁻²), the penalised least-squares solution (the modes' own equations)."""
    data = mm.dataset("penicillin")
    data = data.filter(pl.int_range(pl.len()) % 7 != 3)  # unbalanced: 124 of 144 rows
    m = mm.lmm("diameter ~ 1 + (1 | plate) + (1 | sample)", data)
    theta = m.theta[m.theta_names.index("sample.(Intercept)")]
    unshrunk, shrunk, _ = shrinkage_parts(mm.plot.shrinkageplot(m, "sample").axes[0])
    levels = [str(v) for v in m.ranef()["sample"]["sample"]]
    n = np.array([data.filter(pl.col("sample").cast(pl.String) == lv).height for lv in levels])
    assert sorted(set(n)) != [24]
    np.testing.assert_allclose(shrunk[:, 0], unshrunk[:, 0] * n / (n + theta**-2), rtol=1e-9)


def test_shrinkageplot_refuses_a_glmm():
    g = mm.glmm(CBPP, mm.dataset("cbpp"), family=mm.Binomial())
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.shrinkageplot(g)
    assert e.value.parameter == "model"


def test_coefplot_wald_and_given_intervals(sleep, tmp_path):
    fig = mm.plot.coefplot(sleep)
    x, y, left, right = errorbar_parts(fig.axes[0])
    beta, se = sleep.beta, sleep.stderror()
    np.testing.assert_allclose(x, beta)
    np.testing.assert_allclose(left, beta - Z95 * se, rtol=1e-12)
    np.testing.assert_allclose(right, beta + Z95 * se, rtol=1e-12)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["(Intercept)", "Days"] and list(y) == [1.0, 0.0]
    png(fig, tmp_path, "coefplot")
    given = pl.DataFrame(
        {"parameter": ["sigma", "(Intercept)", "Days"], "lower": [1.0, 230.0, 7.0],
         "upper": [2.0, 270.0, 14.0]}
    )  # fmt: skip
    _, _, left, right = errorbar_parts(mm.plot.coefplot(sleep, intervals=given).axes[0])
    np.testing.assert_allclose(left, [230.0, 7.0])
    np.testing.assert_allclose(right, [270.0, 14.0])
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.coefplot(sleep, intervals=given.filter(pl.col("parameter") != "Days"))
    assert e.value.parameter == "intervals"
    fig = mm.plot.coefplot(sleep, intercept=False)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Days"]


def test_residplot_panels(sleep, tmp_path):
    fig = mm.plot.residplot(sleep)
    fitted, resid, sigma = sleep.fitted(), sleep.residuals(), sleep.sigma
    panels = [np.asarray(ax.collections[0].get_offsets()) for ax in fig.axes]
    assert [p.shape for p in panels] == [(180, 2)] * 3
    np.testing.assert_allclose(panels[0], np.column_stack([fitted, resid]))
    np.testing.assert_allclose(panels[1][:, 1], np.sort(resid / sigma))
    assert np.all(np.diff(panels[1][:, 0]) > 0)
    np.testing.assert_allclose(panels[2][:, 1], np.sqrt(np.abs(resid) / sigma))
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "Residuals",
        "Standardized residuals",
        "√|standardized residuals|",
    ]
    png(fig, tmp_path, "residplot")
    assert len(mm.plot.residplot(sleep, "qq").axes) == 1
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.residplot(sleep, "leverage")
    assert e.value.parameter == "kind"


def test_bootstrap_density_rug_estimate_and_density(dyes, tmp_path):
    boot = mm.parametricbootstrap(dyes, 40, seed=2, progress=False)
    fig = mm.plot.bootstrap_density(boot, ["sigma", "(Intercept)"])
    for ax, column, estimate in zip(
        fig.axes, ["sigma", "(Intercept)"], [dyes.sigma, dyes.beta[0]], strict=True
    ):
        density, rug, vline = ax.lines
        values = boot.table[column].drop_nulls().to_numpy()
        np.testing.assert_array_equal(rug.get_xdata(), values)
        np.testing.assert_allclose(vline.get_xdata(), [estimate, estimate])
        x, y = density.get_xdata(), density.get_ydata()
        area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
        assert area == pytest.approx(1.0, abs=0.01)  # the grid stops 3 bandwidths out
        assert ax.get_xlabel() == column
    png(fig, tmp_path, "bootstrap")
    assert len(mm.plot.bootstrap_density(boot).axes) == 3
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.bootstrap_density(boot, "tau")
    assert e.value.parameter == "parameters"


class FakeProfile:
    """A profile result's shape: ``table`` and ``confint(level)``."""

    def __init__(self) -> None:
        self.table = pl.DataFrame(
            {
                "parameter": ["a"] * 4 + ["b"] * 3,
                "zeta": [0.0, 1.5, -2.5, -1.0, -2.0, 0.0, 2.2],
                "value": [1.0, 1.4, 0.3, 0.7, 5.0, 6.0, 7.5],
            }
        )

    def confint(self, level: float) -> pl.DataFrame:
        return pl.DataFrame(
            {"parameter": ["a", "b"], "lower": [0.4 * level, 5.0], "upper": [1.8, 7.0 + level]}
        )


def test_zetaplot_curves_levels_and_interval_ends(tmp_path):
    profile = FakeProfile()
    fig = mm.plot.zetaplot(profile, levels=(0.95,))
    ax = fig.axes[0]
    curve, lower, upper = ax.lines[0], ax.lines[-2], ax.lines[-1]
    np.testing.assert_allclose(curve.get_xdata(), [0.3, 0.7, 1.0, 1.4])
    np.testing.assert_allclose(curve.get_ydata(), [-2.5, -1.0, 0.0, 1.5])
    heights = sorted(line.get_ydata()[0] for line in ax.lines[1:3])
    np.testing.assert_allclose(heights, [-Z95, Z95])
    np.testing.assert_allclose(lower.get_xdata(), [0.4 * 0.95] * 2)
    np.testing.assert_allclose(lower.get_ydata(), [0.0, -Z95])
    np.testing.assert_allclose(upper.get_xdata(), [1.8, 1.8])
    assert [a.get_xlabel() for a in fig.axes] == ["a", "b"]
    assert ax.get_ylabel() == "ζ"
    png(fig, tmp_path, "zeta")
    fig = mm.plot.zetaplot(profile.table, "b", absolute=True)
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel() == "|ζ|"
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [2.0, 0.0, 2.2])
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.zetaplot(profile, "c")
    assert e.value.parameter == "parameters"
    with pytest.raises(mm.ArgumentError) as e:
        mm.plot.zetaplot(profile.table.drop("zeta"))
    assert e.value.parameter == "profile"


def test_missing_matplotlib_is_a_typed_error(sleep, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(mm.MissingDependencyError) as e:
        mm.plot.caterpillar(sleep)
    assert isinstance(e.value, ImportError)
    assert e.value.package == "matplotlib"
    assert e.value.feature == "mixedmodels.plot"
    again = pickle.loads(pickle.dumps(e.value))
    assert (type(again), again.package, str(again)) == (type(e.value), "matplotlib", str(e.value))
