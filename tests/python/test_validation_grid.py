"""The validation grid (tests/validation/): its fixed CI subset against lme4's best fits,
the grid's bookkeeping, and the comparison rule on made-up numbers.

The full grid runs with ``python tests/validation/run.py`` (see tests/validation/README.md).
"""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from validation import rule
from validation.models import models
from validation.run import evaluate_model, known_failures, load_reference

MODELS = models()
CI = [m for m in MODELS if m["ci"]]
REFERENCE = load_reference()


def test_grid_has_300_models_each_with_a_reference():
    assert len(MODELS) >= 300
    missing = [m["id"] for m in MODELS if m["id"] not in REFERENCE]
    assert not missing
    for m in MODELS:
        assert REFERENCE[m["id"]]["spec"]["formula"] == m["formula"]


def test_ci_subset_covers_every_category_and_no_known_failure():
    tags = {t for m in MODELS for t in m["tags"]}
    covered = {t for m in CI for t in m["tags"]}
    assert tags - covered == set()
    assert 30 <= len(CI) <= 80
    assert not {m["id"] for m in CI} & set(known_failures())


@pytest.mark.parametrize("model", CI, ids=[m["id"] for m in CI])
def test_ci_model_meets_the_rule(model):
    row = evaluate_model(model, REFERENCE[model["id"]])
    assert row["status"] in rule.PASSING, row
    assert row["gap"] <= rule.OBJECTIVE_RTOL
    assert not [w for w in row["warnings"] if "certificate" in w], row["warnings"]


def test_names_and_keys_match_across_programs():
    assert rule.normalize_name("Machine: B") == "MachineB"
    assert rule.normalize_name("S & P") == "S:P"
    assert rule.group_key("Worker:Machine") == rule.group_key("Worker & Machine")
    ref = rule.reference_theta_keys(
        [{"group": "g", "columns": ["(Intercept)"]}, {"group": "g", "columns": ["x"]}]
    )
    ours = rule.our_theta_keys(
        [{"name": "g", "columns": ["(Intercept)", "x"], "theta_index": [(1, 1), (0, 0)]}]
    )
    np.testing.assert_array_equal(rule.align_theta([2.0, 1.0], ours, ref), [1.0, 2.0])
    other = [(frozenset({"h"}), "x", "x"), (frozenset({"g"}), "(Intercept)", "(Intercept)")]
    assert rule.align_theta([2.0, 1.0], other, ref) is None
    assert rule.align_beta(["(Intercept)"], [1.0], ["(Intercept)", "x"]) is None


def test_negative_diagonal_flips_its_column():
    keys = rule.reference_theta_keys([{"group": "g", "columns": ["a", "b"]}])
    # Λ = [[1, 0], [0.5, -2]] → column b negated: θ(b, b) = 2; column a untouched
    np.testing.assert_array_equal(rule.align_theta([1.0, 0.5, -2.0], keys, keys), [1.0, 0.5, 2.0])


def test_distances_scale_as_documented():
    keys = rule.reference_theta_keys([{"group": "g", "columns": ["a", "b"]}])
    ref = np.array([3.0, 0.0, 4.0])  # row b has norm 4
    assert rule.theta_distance(np.array([3.0, 0.004, 4.0]), ref, keys) == pytest.approx(1e-3)
    tiny = np.array([0.0, 0.0, 0.0])
    assert rule.theta_distance(np.array([1e-7, 0.0, 0.0]), tiny, keys) == pytest.approx(1e-4)
    d = rule.beta_distance(np.array([10.001, 0.0001]), np.array([10.0, 0.0]), np.array([1, 0.1]))
    assert d == pytest.approx(1e-3)


def test_covariance_path_interpolates_covariances():
    a = np.array([1.0, 0.0, 1.0])  # Λ = I
    b = np.array([1.0, 1.0, 0.0])  # Λ = [[1, 0], [1, 0]]: a singular covariance
    mid = rule.covariance_path(a, b, [2], 0.5)
    lam = np.array([[mid[0], 0.0], [mid[1], mid[2]]])
    np.testing.assert_allclose(lam @ lam.T, [[1.0, 0.5], [0.5, 1.0]], atol=1e-15)
    np.testing.assert_allclose(rule.covariance_path(a, b, [2], 1.0), b, atol=1e-15)


def test_classify_each_status():
    flat = lambda: [[1000.0, 1000.01, 1000.0], [1000.0, 1000.0002, 1000.0]]  # noqa: E731
    steep = lambda: [[1000.0, 1000.01, 1000.0], [1000.0, 1000.01, 1000.0]]  # noqa: E731
    f = 1000.0
    assert rule.classify(2e-6, 0.1, flat, 0.0, f, f)[0] == "fail"
    assert rule.classify(1e-7, 0.5, steep, 0.0, f, f)[0] == "pass"
    assert rule.classify(-5e-6, 50.0, steep, 0.0, f, f)[0] == "better"
    assert rule.classify(1e-7, 50.0, flat, 0.0, f, f)[0] == "explained"
    assert rule.classify(1e-7, 50.0, steep, 60.0, f, f)[0] == "explained"
    assert rule.classify(1e-7, 50.0, steep, 10.0, f, f)[0] == "fail_params"
    assert rule.classify(1e-7, 50.0, lambda: [[math.inf]], 0.0, f, f)[0] == "fail_params"
