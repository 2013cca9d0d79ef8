"""Checks of the keyword arguments of the public API, in one place.

Every entry point (``lmm``, ``glmm``, the model constructors and their ``fit``
methods) passes its scalar keywords to :func:`check_arguments` in one line, so a
value is either honoured or refused: booleans must be ``bool``, integers must be
integral and in range, strings must be one of their choices. A value of the wrong
type raises :class:`ArgumentTypeError`, a value out of range or not among the
choices :class:`ArgumentError`; both name the parameter.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ._errors import ArgumentError, ArgumentTypeError

Rule = Callable[[str, Any], None]


def _boolean(name: str, value: Any) -> None:
    if type(value) is bool:  # the common case, without the slower checks below
        return
    if not isinstance(value, bool | np.bool_):
        raise ArgumentTypeError(
            f"`{name}` must be True or False, got {value!r} ({type(value).__name__})",
            parameter=name,
        )


def _optional_boolean(name: str, value: Any) -> None:
    if value is not None:
        _boolean(name, value)


def _integer(low: int, high: int | None = None, optional: bool = False) -> Rule:
    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        if type(value) is int and value >= low and (high is None or value <= high):
            return  # the common case, without the ABC checks below
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
            raise ArgumentTypeError(
                f"`{name}` must be an integer, got {value!r} ({type(value).__name__})",
                parameter=name,
            )
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else f"between {low} and {high}"
            raise ArgumentError(f"`{name}` must be {bound}, got {value}", parameter=name)

    return check


def _choice(*choices: str) -> Rule:
    def check(name: str, value: Any) -> None:
        if type(value) is str and value in choices:
            return
        if not isinstance(value, str):
            raise ArgumentTypeError(
                f"`{name}` must be a string, got {value!r} ({type(value).__name__})",
                parameter=name,
            )
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ArgumentError(f"`{name}` must be one of {listed}, got {value!r}", parameter=name)

    return check


def _positive_real(name: str, value: Any) -> None:
    if value is None or (type(value) is float and math.isfinite(value) and value > 0):
        return
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(
            f"`{name}` must be a number, got {value!r} ({type(value).__name__})",
            parameter=name,
        )
    if not (math.isfinite(value) and value > 0):
        raise ArgumentError(f"`{name}` must be positive and finite, got {value}", parameter=name)


RULES: dict[str, Rule] = {
    "reml": _boolean,
    "fast": _boolean,
    "progress": _optional_boolean,
    "nagq": _integer(1, 100),
    "threads": _integer(1, optional=True),
    "missing": _choice("drop", "raise"),
    "check_nobs": _choice("error", "warn", "ignore"),
    "optimizer": _choice("auto", "bfgs", "bobyqa"),
    "sigma": _positive_real,
    "seed": _integer(0, 2**64 - 1),
    "n": _integer(1),
    "max_evaluations": _integer(1),
}


def check_arguments(**arguments: Any) -> None:
    """Refuse keyword values of the wrong type or out of range, naming the parameter.

    Parameters
    ----------
    **arguments
        Keyword arguments of a public entry point, by name; each name must have a
        rule in ``RULES``.

    Raises
    ------
    ArgumentTypeError
        A value has the wrong type (``reml="no"``, ``nagq=1.7``).
    ArgumentError
        A value is out of range or not among its choices (``threads=0``).

    Examples
    --------
    >>> from mixedmodels._validate import check_arguments
    >>> check_arguments(reml=True, threads=2)
    >>> try:
    ...     check_arguments(threads=-1)
    ... except ValueError as e:
    ...     print(e.parameter)
    threads
    """
    for name, value in arguments.items():
        RULES[name](name, value)
