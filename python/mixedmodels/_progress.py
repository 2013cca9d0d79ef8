"""Progress bars of fits, profiles and parametric bootstraps.

The native code runs with the GIL released and counts its progress in atomics (the
crate's ``progress`` module); a :class:`_core.Progress` hands the counts to a Python
callable, from the thread that watches for Ctrl-C, at most ten times a second. This
module turns them into a tqdm bar (``tqdm.auto``: a widget in a notebook, text on a
terminal): a fit counts objective evaluations (its postfix: the best objective so far
and the stage), a profile its parameters, a bootstrap its replicates.

``progress`` keywords take ``True`` (always a bar), ``False`` (never) or ``None`` (the
default: a bar when the output is interactive — a terminal or a notebook — shown only
once the work has lasted :data:`AUTO_DELAY` seconds).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from . import _core

#: Seconds of work after which the default (``progress=None``) shows its bar.
AUTO_DELAY = 1.0


def interactive() -> bool:
    """Is the output interactive: a notebook, or standard error a terminal?

    Returns
    -------
    bool
        True in a Jupyter kernel or when ``sys.stderr`` is a terminal.

    Examples
    --------
    >>> from mixedmodels._progress import interactive
    >>> isinstance(interactive(), bool)
    True
    """
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = ipython.get_ipython()
        if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
            return True
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """A tqdm bar moved by the native code, as a context manager.

    Pass :attr:`native` to the native call inside the ``with`` block; on leaving it the
    bar shows the final counts and closes. Without a bar (``progress=False``, or
    ``None`` and the output not interactive) :attr:`native` is None and nothing is
    written.

    Parameters
    ----------
    show : bool or None
        The ``progress`` keyword: True, False or None (auto).
    desc : str
        The bar's label.
    unit : str
        What is counted (``"eval"``, ``"param"``, ``"fit"``).
    units : bool
        Count the outer loop (profile parameters, bootstrap replicates, with their
        total) instead of the objective evaluations of a fit.
    total : int or None
        The total count, if known before the work starts (else from the native code).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> from mixedmodels._progress import ProgressBar
    >>> m = mm.LinearMixedModel("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> with ProgressBar(False, "fit", "eval") as bar:
    ...     m._core.fit(False, "auto", bar.native)
    >>> bar.native is None
    True
    """

    def __init__(
        self, show: bool | None, desc: str, unit: str, units: bool = False, total: int | None = None
    ) -> None:
        self._units = units
        self._counted_here = False
        self._bar: Any = None
        self.native: _core.Progress | None = None
        if show is False or (show is None and not interactive()):
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc, unit=unit, delay=0.0 if show else AUTO_DELAY)
        self.native = _core.Progress(self._update)

    def _update(
        self, evaluations: int, best: float | None, stage: str, done: int, total: int
    ) -> None:
        bar = self._bar
        if self._units:
            if total and bar.total != total:
                bar.total = total
            count = done
            postfix = f"{evaluations} evaluations" if evaluations else ""
        else:
            count = evaluations
            parts = ([] if best is None else [f"objective {best:.6g}"]) + ([stage] if stage else [])
            postfix = ", ".join(parts)
        if postfix:
            bar.set_postfix_str(postfix, refresh=False)
        bar.update(count - bar.n)

    @property
    def tick(self) -> Callable[[int], None] | None:
        """A callable that moves the bar to a count, for work counted in Python (blocks
        sent to an executor); None when no bar is shown.

        Returns
        -------
        callable or None
            ``tick(done)`` sets the bar to ``done`` units.
        """
        return None if self._bar is None else self._advance

    def _advance(self, done: int) -> None:
        self._counted_here = True
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.native is not None:
            if not self._counted_here:
                self._update(*self.native.snapshot())
            self._bar.close()
