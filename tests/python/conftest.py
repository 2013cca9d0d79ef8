"""Every fit in the suite must pass its convergence certificate: a test errors when a
``ConvergenceWarning`` with ``reason == "certificate"`` reaches it uncaptured (warnings a
test captures itself, with ``pytest.warns`` or ``catch_warnings``, are its own business),
unless it is marked ``certificate_fails`` (the tests that provoke the failure on purpose)."""

from __future__ import annotations

import warnings

import pytest

import mixedmodels as mm


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "certificate_fails: the test provokes a failing convergence certificate"
    )


@pytest.fixture(autouse=True)
def _fits_certify(request: pytest.FixtureRequest):
    """Record the warnings of the test; fail on a failed certificate."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    if request.node.get_closest_marker("certificate_fails") is not None:
        return
    failed = [
        w.message
        for w in caught
        if isinstance(w.message, mm.ConvergenceWarning) and w.message.reason == "certificate"
    ]
    assert not failed, f"a fit failed its convergence certificate: {failed[0]}"
