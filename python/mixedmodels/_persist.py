"""Saving, restoring and pickling fitted models.

A saved fit is the model's fit record as versioned JSON with exact doubles
(MixedModels.jl's ``saveoptsum``): the settings, the optimum (θ, β and, for a
GLMM, the conditional modes) and the fit log. Restoring installs the optimum in
a model built from the same formula and data, without optimizing; the
optimum's objective must reproduce. A pickle carries the data, the
constructor's arguments and the saved fit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._errors import ArgumentTypeError, RestoreError


def save(model: Any, path: str | Path) -> None:
    """Write the fit of ``model`` to ``path`` (JSON).

    Parameters
    ----------
    model : LinearMixedModel or GeneralizedLinearMixedModel
        A fitted model.
    path : str or pathlib.Path
        The file to write.

    Raises
    ------
    NotFittedError
        The model holds no fit.

    Examples
    --------
    >>> import mixedmodels as mm, tempfile, os
    >>> m = mm.lmm("Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff"))
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.json")
    >>> mm.save(m, path)
    >>> mm.restore(path, "Yield ~ 1 + (1 | Batch)", mm.dataset("dyestuff")).objective == m.objective
    True
    """
    model.save(path)


def restore(path: str | Path, model: Any, data: Any = None, **kwargs: Any) -> Any:
    """Rebuild a fitted model from a saved fit without optimizing.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by :meth:`save` (or ``mm.save``).
    model : str or LinearMixedModel or GeneralizedLinearMixedModel
        The model to restore into (unfitted or fitted: its fit is replaced), or
        the formula of a new model built on ``data``.
    data : DataFrame, optional
        The data, when ``model`` is a formula.
    **kwargs
        Further arguments of the model's constructor (``contrasts``, ``weights``,
        ``family``, ...); a GLMM's family and link default to the saved ones.

    Returns
    -------
    LinearMixedModel or GeneralizedLinearMixedModel
        The model, at the saved optimum.

    Raises
    ------
    RestoreError
        The file is not a saved fit, or was saved for another model (other formula,
        data or settings).
    ArgumentTypeError
        A formula for ``model`` without ``data``.

    Examples
    --------
    >>> import mixedmodels as mm, tempfile, os
    >>> ss = mm.dataset("sleepstudy")
    >>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", ss)
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.json")
    >>> m.save(path)
    >>> r = mm.restore(path, "Reaction ~ 1 + Days + (1 + Days | Subject)", ss)
    >>> bool((r.theta == m.theta).all())
    True
    """
    from ._glmm import GeneralizedLinearMixedModel
    from ._lmm import LinearMixedModel

    text = Path(path).read_text(encoding="utf-8")
    if isinstance(model, str):
        if data is None:
            raise ArgumentTypeError(
                "restore(path, formula, data): the data are needed with a formula",
                parameter="data",
            )
        try:
            saved = json.loads(text).get("model", {})
        except (ValueError, AttributeError) as e:
            raise RestoreError(f"cannot restore the saved fit: not a saved fit ({e})") from None
        if saved.get("kind") == "GeneralizedLinearMixedModel":
            kwargs.setdefault("family", saved.get("family", "").lower())
            kwargs.setdefault("link", _link_name(saved.get("link")))
            model = GeneralizedLinearMixedModel(model, data, **kwargs)
        else:
            model = LinearMixedModel(model, data, **kwargs)
    model._core.restore_fit(text)
    return model


def _link_name(name: str | None) -> str | None:
    """``LogitLink`` → ``logit`` (the names the constructor takes)."""
    if not name:
        return None
    return name[: -len("Link")].lower() if name.endswith("Link") else name.lower()
