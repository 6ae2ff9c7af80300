"""The immutable result of one fit; every table and file is rendered from it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rtsmig.models.spec import FitSpec

IMPACT_EFFECTS = ("direct", "indirect", "total")
IMPACT_COLUMNS = ("variable", "effect", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high")
COEF_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high")
# Order in which fit statistics are rendered; keys a model lacks are left out.
FIT_KEYS = ("n", "k", "loglik", "aic", "bic", "r2", "adj_r2", "pseudo_r2", "sigma2")


@dataclass(frozen=True)
class Coefficient:
    """One row of the coefficient table (betas, then rho or lambda)."""

    term: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class TestResult:
    """A test statistic, shaped like linearmodels' WaldTestStatistic.

    ``value`` holds the raw index where ``statistic`` is its standardised form
    (Moran's I: ``value`` is I, ``statistic`` its z); otherwise it is ``None``.
    """

    __test__ = False  # not a pytest test class, despite its name

    name: str
    statistic: float
    p_value: float
    df: float | None = None
    distribution: str = "chi2"
    null: str = ""
    value: float | None = None


@dataclass(frozen=True)
class Impact:
    """One effect (direct, indirect = spillover, or total) of one regressor, in long form.

    Inference fields are NaN when the fit computed point impacts only.
    """

    variable: str
    effect: str
    estimate: float
    std_error: float = math.nan
    statistic: float = math.nan
    p_value: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan


def json_safe(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf become None, numpy scalars become Python."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class FitResult:
    """Everything one fit produced.

    ``fit`` maps statistic names (see :data:`FIT_KEYS`) to floats; ``meta`` holds
    conventions, the engine and input provenance — never wall-clock times.
    ``covariance`` is the estimated covariance of the coefficient table's estimates,
    in its order, where the estimator provides it (OLS and ML). It lives in memory
    only — for analyses built on a fit, such as mediation — and is neither
    written nor read back.
    """

    spec: FitSpec
    coefficients: tuple[Coefficient, ...]
    fit: Mapping[str, float] = field(default_factory=dict)
    diagnostics: tuple[TestResult, ...] = ()
    impacts: tuple[Impact, ...] = ()
    weights: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    covariance: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fit", MappingProxyType(dict(self.fit)))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def name(self) -> str:
        return self.spec.label

    def tidy(self) -> pd.DataFrame:
        """The coefficient table as a DataFrame with :data:`COEF_COLUMNS`."""
        rows = [asdict(c) for c in self.coefficients]
        return pd.DataFrame(rows, columns=list(COEF_COLUMNS))

    @property
    def coef(self) -> pd.Series:
        return self.tidy().set_index("term")["estimate"]

    @property
    def se(self) -> pd.Series:
        return self.tidy().set_index("term")["std_error"]

    def impact(self, variable: str, effect: str) -> Impact | None:
        """The impact row of ``variable`` and ``effect`` (direct|indirect|total), if any."""
        return next((i for i in self.impacts if i.variable == variable and i.effect == effect), None)

    def to_dict(self) -> dict:
        """A JSON-safe dict; :meth:`from_dict` inverts it exactly."""
        return json_safe(
            {
                "spec": self.spec.to_dict(),
                "coefficients": [asdict(c) for c in self.coefficients],
                "fit": dict(self.fit),
                "diagnostics": [asdict(t) for t in self.diagnostics],
                "impacts": [asdict(i) for i in self.impacts],
                "weights": self.weights,
                "meta": dict(self.meta),
            }
        )

    @classmethod
    def from_dict(cls, d: dict) -> FitResult:
        coefs = tuple(
            Coefficient(c["term"], *(_num(c[k]) for k in COEF_COLUMNS[1:]))
            for c in d["coefficients"]
        )
        tests = tuple(
            TestResult(
                t["name"], _num(t["statistic"]), _num(t["p_value"]),
                t.get("df"), t.get("distribution", "chi2"), t.get("null", ""),
                t.get("value"),
            )
            for t in d.get("diagnostics", [])
        )
        impacts = tuple(
            Impact(i["variable"], i["effect"], *(_num(i[k]) for k in IMPACT_COLUMNS[2:]))
            for i in d.get("impacts", [])
        )
        return cls(
            spec=FitSpec.from_dict(d["spec"]),
            coefficients=coefs,
            fit={k: _num(v) for k, v in d.get("fit", {}).items()},
            diagnostics=tests,
            impacts=impacts,
            weights=d.get("weights", ""),
            meta=d.get("meta", {}),
        )
