"""mixedmodels: linear and generalized linear mixed-effects models.

A Rust core (profiled deviance, blocked sparse Cholesky, BOBYQA) with a polars face.

>>> import mixedmodels as mm
>>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
>>> print(m)  # doctest: +SKIP
"""

from ._contrasts import (
    DummyCoding,
    EffectsCoding,
    FullDummyCoding,
    HelmertCoding,
    HypothesisCoding,
    SeqDiffCoding,
)
from ._core import __version__
from ._datasets import dataset, datasets
from ._families import (
    Bernoulli,
    Binomial,
    CloglogLink,
    Family,
    Gamma,
    IdentityLink,
    InverseGaussian,
    InverseLink,
    Link,
    LogitLink,
    LogLink,
    Normal,
    Poisson,
    ProbitLink,
    SqrtLink,
)
from ._glmm import GeneralizedLinearMixedModel, glmm
from ._inference import LikelihoodRatioTest, likelihoodratiotest
from ._lmm import LinearMixedModel, ReTerm, VarCorr, lmm
from ._persist import restore, save

__all__ = [
    "Bernoulli",
    "Binomial",
    "CloglogLink",
    "DummyCoding",
    "EffectsCoding",
    "Family",
    "FullDummyCoding",
    "Gamma",
    "GeneralizedLinearMixedModel",
    "HelmertCoding",
    "HypothesisCoding",
    "IdentityLink",
    "InverseGaussian",
    "InverseLink",
    "LikelihoodRatioTest",
    "LinearMixedModel",
    "Link",
    "LogLink",
    "LogitLink",
    "Normal",
    "Poisson",
    "ProbitLink",
    "ReTerm",
    "SeqDiffCoding",
    "SqrtLink",
    "VarCorr",
    "__version__",
    "dataset",
    "datasets",
    "glmm",
    "likelihoodratiotest",
    "lmm",
    "restore",
    "save",
]
