"""mixedmodels: linear and generalized linear mixed-effects models.

A Rust core (profiled deviance, blocked sparse Cholesky factor, a quasi-Newton optimizer
with the analytic gradient for linear mixed models and BOBYQA) with a polars face.

>>> import mixedmodels as mm
>>> m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
>>> print(m)  # doctest: +ELLIPSIS
Linear mixed model fit by maximum likelihood
 Reaction ~ 1 + Days + (1 + Days | Subject)
...
"""

from . import plot
from ._anova import Anova, anova, contrast_test
from ._bootstrap import ParametricBootstrap, load_bootstrap, parametricbootstrap
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
from ._emmeans import EMMContrasts, EMMeans, emmeans
from ._errors import (
    ArgumentError,
    ArgumentTypeError,
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataTypeError,
    FormulaError,
    MissingDataWarning,
    MissingDependencyError,
    MixedModelError,
    MixedModelWarning,
    ModelCheckWarning,
    ModelComparisonError,
    NoRandomEffectsError,
    NotFittedError,
    NotNestedError,
    RankDeficiencyWarning,
    RefitWarning,
    RestoreError,
    RowsNotStoredError,
    SeparationError,
    SingularFitWarning,
    SingularModelError,
)
from ._families import (
    Bernoulli,
    Binomial,
    CloglogLink,
    Family,
    Gamma,
    IdentityLink,
    InverseGaussian,
    InverseLink,
    InverseSquareLink,
    Link,
    LogitLink,
    LogLink,
    NegativeBinomial,
    Normal,
    Poisson,
    ProbitLink,
    SqrtLink,
)
from ._glmm import GeneralizedLinearMixedModel, glmm
from ._inference import LikelihoodRatioTest, likelihoodratiotest
from ._lmm import LinearMixedModel, ReTerm, VarCorr, lmm
from ._many import lmm_many
from ._performance import RePCA, icc, r2, rePCA, variance_decomposition, vif
from ._persist import restore, save
from ._profile import ProfileResult, profile
from ._stream_glmm import StreamedGeneralizedLinearMixedModel
from ._tidy import augment, glance, tidy

__all__ = [
    "Anova",
    "ArgumentError",
    "ArgumentTypeError",
    "Bernoulli",
    "Binomial",
    "CloglogLink",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DataTypeError",
    "DummyCoding",
    "EMMContrasts",
    "EMMeans",
    "EffectsCoding",
    "Family",
    "FormulaError",
    "FullDummyCoding",
    "Gamma",
    "GeneralizedLinearMixedModel",
    "HelmertCoding",
    "HypothesisCoding",
    "IdentityLink",
    "InverseGaussian",
    "InverseLink",
    "InverseSquareLink",
    "LikelihoodRatioTest",
    "LinearMixedModel",
    "Link",
    "LogLink",
    "LogitLink",
    "MissingDataWarning",
    "MissingDependencyError",
    "MixedModelError",
    "MixedModelWarning",
    "ModelCheckWarning",
    "ModelComparisonError",
    "NegativeBinomial",
    "NoRandomEffectsError",
    "Normal",
    "NotFittedError",
    "NotNestedError",
    "ParametricBootstrap",
    "Poisson",
    "ProbitLink",
    "ProfileResult",
    "RankDeficiencyWarning",
    "RePCA",
    "ReTerm",
    "RefitWarning",
    "RestoreError",
    "RowsNotStoredError",
    "SeparationError",
    "SeqDiffCoding",
    "SingularFitWarning",
    "SingularModelError",
    "SqrtLink",
    "StreamedGeneralizedLinearMixedModel",
    "VarCorr",
    "__version__",
    "anova",
    "augment",
    "contrast_test",
    "dataset",
    "datasets",
    "emmeans",
    "glance",
    "glmm",
    "icc",
    "likelihoodratiotest",
    "lmm",
    "lmm_many",
    "load_bootstrap",
    "parametricbootstrap",
    "plot",
    "profile",
    "r2",
    "rePCA",
    "restore",
    "save",
    "tidy",
    "variance_decomposition",
    "vif",
]
