"""Plots of fitted mixed models, drawn with matplotlib (an optional dependency:
``pip install "mixedmodels[plot]"``; without it every function raises
:class:`mixedmodels.MissingDependencyError`).

Every function returns the matplotlib Figure it drew on and draws on the Axes given
as ``ax`` (one per panel) when passed.

- :func:`caterpillar`, :func:`qqcaterpillar`: conditional modes with their
  conditional intervals.
- :func:`shrinkageplot`: within-level least-squares fits against conditional modes.
- :func:`coefplot`: fixed effects with confidence intervals.
- :func:`residplot`: residuals vs fitted, normal Q–Q, scale–location.
- :func:`bootstrap_density`: densities of parametric bootstrap replicates.
- :func:`zetaplot`: likelihood-profile ζ against each parameter.

Examples
--------
>>> import mixedmodels as mm
>>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
>>> fig = mm.plot.caterpillar(m)
>>> len(fig.axes)  # one panel per random-effects column
2
"""

from ._fixef import coefplot
from ._ranef import caterpillar, qqcaterpillar
from ._resid import residplot
from ._sampling import bootstrap_density, zetaplot
from ._shrinkage import shrinkageplot

__all__ = [
    "bootstrap_density",
    "caterpillar",
    "coefplot",
    "qqcaterpillar",
    "residplot",
    "shrinkageplot",
    "zetaplot",
]
