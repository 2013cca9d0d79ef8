"""Response distributions and link functions as objects, as MixedModels.jl writes them
(``Bernoulli()``, ``ProbitLink()``) and as R does (``binomial(link = "probit")`` is
``Binomial(link="probit")`` here). Strings work everywhere too: ``family="bernoulli"``,
``link="probit"``.
"""

from __future__ import annotations

from typing import Any

from ._errors import ArgumentError, ArgumentTypeError


class Link:
    """A link function g with η = g(μ); subclasses name one of the links.

    A link is passed as ``link=`` to :func:`glmm` or to a :class:`Family`, as an
    instance or as the class itself; ``name`` is the link's name (``"probit"``).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.ProbitLink(), mm.ProbitLink().name
    (ProbitLink(), 'probit')
    >>> mm.ProbitLink() == mm.ProbitLink
    False
    >>> isinstance(mm.LogitLink(), mm.Link)
    True
    """

    name = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Link) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class LogitLink(Link):
    """log(μ / (1 − μ)), canonical for Bernoulli and Binomial.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
    ...             mm.dataset("cbpp"), family="binomial", link=mm.LogitLink())
    >>> g.link
    'LogitLink'
    """

    name = "logit"


class ProbitLink(Link):
    """Φ⁻¹(μ), the standard normal quantile.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> g = mm.glmm("cbind(incidence, size - incidence) ~ 1 + period + (1 | herd)",
    ...             mm.dataset("cbpp"), family=mm.Binomial(link=mm.ProbitLink()))
    >>> g.link
    'ProbitLink'
    """

    name = "probit"


class CloglogLink(Link):
    """log(−log(1 − μ)).

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.CloglogLink().name, mm.Poisson(link=mm.CloglogLink).link
    ('cloglog', 'cloglog')
    """

    name = "cloglog"


class LogLink(Link):
    """log(μ), canonical for Poisson.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.LogLink().name, mm.Poisson(link=mm.LogLink).link
    ('log', 'log')
    """

    name = "log"


class IdentityLink(Link):
    """μ.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.IdentityLink().name, mm.Poisson(link=mm.IdentityLink).link
    ('identity', 'identity')
    """

    name = "identity"


class InverseLink(Link):
    """1 / μ.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.InverseLink().name, mm.Poisson(link=mm.InverseLink).link
    ('inverse', 'inverse')
    """

    name = "inverse"


class SqrtLink(Link):
    """√μ.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.SqrtLink().name, mm.Poisson(link=mm.SqrtLink).link
    ('sqrt', 'sqrt')
    """

    name = "sqrt"


class Family:
    """A response distribution, optionally with its link (None: the canonical link).

    Subclasses name the distributions; pass one (instance or class) as ``family=`` to
    :func:`glmm`. ``name`` is the family's name, ``link`` the link's name or None.

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.Binomial(link="probit")
    Binomial(link='probit')
    >>> mm.Binomial(link=mm.ProbitLink).link
    'probit'
    >>> mm.Poisson() == mm.Poisson(link=None)
    True
    """

    name = ""

    def __init__(self, link: str | Link | type[Link] | None = None):
        self.link = link_name(link)

    def __repr__(self) -> str:
        link = "" if self.link is None else f"link={self.link!r}"
        return f"{type(self).__name__}({link})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Family) and (other.name, other.link) == (self.name, self.link)

    def __hash__(self) -> int:
        return hash((self.name, self.link))


class Bernoulli(Family):
    """0/1 responses (or a two-level factor, the second level the success).

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> g = mm.glmm("use ~ 1 + age + urban + (1 | district)", mm.dataset("contraception"),
    ...             family=mm.Bernoulli())
    >>> g.family
    'Bernoulli'
    """

    name = "bernoulli"


class Binomial(Family):
    """Proportions of successes with the trials as weights, or ``cbind(s, f)``.

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> g = mm.glmm("incidence / size ~ 1 + period + (1 | herd)", mm.dataset("cbpp"),
    ...             family=mm.Binomial(), weights="size")
    >>> round(g.objective, 4)
    100.0959
    """

    name = "binomial"


class Poisson(Family):
    """Counts.

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> g = mm.glmm("TICKS ~ 1 + YEAR + (1 | BROOD)", mm.dataset("grouseticks"),
    ...             family=mm.Poisson())
    >>> g.family, g.link
    ('Poisson', 'LogLink')
    """

    name = "poisson"


class Gamma(Family):
    """Positive continuous responses (not supported yet: fitting it is an error).

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.Gamma(link='log')
    Gamma(link='log')
    """

    name = "gamma"


class InverseGaussian(Family):
    """Positive continuous responses (not supported yet: fitting it is an error).

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.InverseGaussian().name
    'inversegaussian'
    """

    name = "inversegaussian"


class Normal(Family):
    """Gaussian responses: with the identity link fit a linear mixed model instead.

    Parameters
    ----------
    link : str, Link or Link subclass, optional
        The link function (``"probit"``, ``mm.ProbitLink()``); None: the family's
        canonical link.

    Raises
    ------
    ArgumentTypeError
        ``link`` is neither a name, a :class:`Link` nor a Link subclass.

    Examples
    --------
    >>> import mixedmodels as mm
    >>> mm.Normal().name
    'normal'
    """

    name = "normal"


def link_name(link: Any) -> str | None:
    """The link's name from a string, a ``Link`` instance or class, or None."""
    if link is None or isinstance(link, str):
        return link
    if isinstance(link, Link):
        return link.name
    if isinstance(link, type) and issubclass(link, Link) and link is not Link:
        return link.name
    raise ArgumentTypeError(
        f"link must be a name such as 'probit' or a link such as mm.ProbitLink(), "
        f"not {type(link).__name__}",
        parameter="link",
    )


def family_and_link(family: Any, link: Any) -> tuple[str, str | None]:
    """The (family, link) names for the core from the user's ``family`` (a name, a
    ``Family`` instance or class) and ``link`` (a name, a ``Link``, or None)."""
    if isinstance(family, type) and issubclass(family, Family) and family is not Family:
        family = family()
    if isinstance(family, Family):
        name, own = family.name, family.link
    elif isinstance(family, str):
        name, own = family, None
    else:
        raise ArgumentTypeError(
            f"family must be a name such as 'bernoulli' or a family such as "
            f"mm.Bernoulli(), not {type(family).__name__}",
            parameter="family",
        )
    given = link_name(link)
    if own is not None and given is not None and own.lower() != given.lower():
        raise ArgumentError(
            f"the link is given twice and differently: {own!r} in family={family!r} "
            f"and link={given!r}",
            parameter="link",
        )
    return name, given if given is not None else own
