"""Reliability of a multi-item score: Cronbach's alpha, composite reliability, AVE.

All statistics are computed on the complete cases of one dimension (listwise).
CR and AVE use the standardised loadings of the one-factor maximum-likelihood
model (:mod:`rtsmig.survey.factor`), whichever scoring method is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtsmig.survey.factor import OneFactor, fit_one_factor, two_item_loadings

# The usual thresholds (Nunnally 1978; Fornell & Larcker 1981; Hair et al.).
ALPHA_MIN = 0.7
CR_MIN = 0.7
AVE_MIN = 0.5

RELIABILITY_NOTE = (
    "n: complete cases of the dimension (listwise). alpha: Cronbach's alpha of the raw items "
    "(variances with ddof = 1). CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)) and AVE = mean l^2, "
    "with l the standardised loadings of the one-factor maximum-likelihood factor model on the "
    "correlation matrix (as R's factanal(factors = 1), uniquenesses >= 0.005), whatever --method. "
    "Two-item dimensions assume equal loadings, l = sqrt(r12). "
    "Flags: alpha < 0.7, CR < 0.7, AVE < 0.5, a negative loading (reverse-coded item?), "
    "a uniqueness on its 0.005 bound (Heywood case)."
)


@dataclass(frozen=True)
class DimensionReliability:
    """The reliability statistics of one dimension; loadings in the order of ``items``."""

    name: str
    items: tuple[str, ...]
    n: int
    alpha: float
    cr: float
    ave: float
    loadings: tuple[float, ...]
    uniquenesses: tuple[float, ...]
    flags: tuple[str, ...]

    def to_dict(self) -> dict:
        """Plain data for JSON: every number a float, loadings keyed by item."""
        return {
            "name": self.name,
            "n": self.n,
            "items": list(self.items),
            "alpha": _finite(self.alpha),
            "cr": _finite(self.cr),
            "ave": _finite(self.ave),
            "loadings": {i: float(v) for i, v in zip(self.items, self.loadings, strict=True)},
            "uniquenesses": {i: float(v) for i, v in zip(self.items, self.uniquenesses, strict=True)},
            "flags": list(self.flags),
        }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def cronbach_alpha(X: np.ndarray) -> float:
    """Cronbach's alpha of the columns of ``X`` (complete cases): k/(k-1) (1 - sum var_j / var(total))."""
    k = X.shape[1]
    item_var = X.var(axis=0, ddof=1).sum()
    total_var = X.sum(axis=1).var(ddof=1)
    if total_var == 0:  # items that cancel out exactly: alpha is undefined
        return float("nan")
    return k / (k - 1) * (1.0 - item_var / total_var)


def composite_reliability(loadings: np.ndarray) -> float:
    """CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)) of standardised loadings."""
    s = np.sum(loadings) ** 2
    return float(s / (s + np.sum(1.0 - loadings**2)))


def average_variance_extracted(loadings: np.ndarray) -> float:
    """AVE = mean of the squared standardised loadings."""
    return float(np.mean(loadings**2))


def one_factor(R: np.ndarray) -> OneFactor:
    """The one-factor loadings of a correlation matrix: ML for 3+ items, sqrt(r12) for 2."""
    if R.shape[0] == 2:
        return two_item_loadings(float(R[0, 1]))
    return fit_one_factor(R)


def flags(alpha: float, cr: float, ave: float, items: tuple[str, ...], fit: OneFactor) -> tuple[str, ...]:
    """Short texts for each threshold a dimension falls under, in a fixed order."""
    out = []
    if not alpha >= ALPHA_MIN:  # NaN counts as under
        out.append(f"alpha < {ALPHA_MIN}")
    if not cr >= CR_MIN:
        out.append(f"CR < {CR_MIN}")
    if not ave >= AVE_MIN:
        out.append(f"AVE < {AVE_MIN}")
    negative = [i for i, v in zip(items, fit.loadings, strict=True) if v < 0]
    if negative:
        out.append(f"negative loading: {', '.join(negative)}")
    heywood = [i for i, h in zip(items, fit.heywood, strict=True) if h]
    if heywood and len(items) > 2:
        out.append(f"Heywood case: {', '.join(heywood)}")
    return tuple(out)


def dimension_reliability(name: str, items: tuple[str, ...], X: np.ndarray, fit: OneFactor) -> DimensionReliability:
    """All statistics of one dimension from its complete cases ``X`` and its one-factor fit."""
    alpha = cronbach_alpha(X)
    cr = composite_reliability(fit.loadings)
    ave = average_variance_extracted(fit.loadings)
    return DimensionReliability(
        name=name, items=items, n=X.shape[0], alpha=float(alpha), cr=cr, ave=ave,
        loadings=tuple(float(v) for v in fit.loadings),
        uniquenesses=tuple(float(v) for v in fit.uniquenesses),
        flags=flags(alpha, cr, ave, items, fit),
    )
