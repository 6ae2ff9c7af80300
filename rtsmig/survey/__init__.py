"""Survey indices: scores of multi-item dimensions and their reliability (``rtsmig index``).

- :mod:`rtsmig.survey.items` — the ``--items`` specification (inline or TOML).
- :mod:`rtsmig.survey.factor` — the one-factor ML factor model, as R's ``factanal``.
- :mod:`rtsmig.survey.reliability` — Cronbach's alpha, composite reliability, AVE, flags.
- :mod:`rtsmig.survey.scores` — mean, PCA and factor scores under the missing-answer policy.
"""

from rtsmig.survey.factor import OneFactor, fit_one_factor
from rtsmig.survey.items import Dimension, ItemsError, combine, is_toml, parse_inline, parse_toml
from rtsmig.survey.reliability import (
    RELIABILITY_NOTE,
    DimensionReliability,
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
)
from rtsmig.survey.scores import METHODS, MISSING_POLICY, IndexResult, build_index, default_min_answered

__all__ = [
    "METHODS",
    "MISSING_POLICY",
    "RELIABILITY_NOTE",
    "Dimension",
    "DimensionReliability",
    "IndexResult",
    "ItemsError",
    "OneFactor",
    "average_variance_extracted",
    "build_index",
    "combine",
    "composite_reliability",
    "cronbach_alpha",
    "default_min_answered",
    "fit_one_factor",
    "is_toml",
    "parse_inline",
    "parse_toml",
]
