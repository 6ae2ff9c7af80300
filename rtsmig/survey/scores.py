"""Scores of multi-item dimensions (mean, first principal component, factor scores) and their reliability.

Missing answers follow one stated policy, :data:`MISSING_POLICY`; the statistics
that define a score (item means and SDs, weights) and the reliability table use
the complete cases of each dimension.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtsmig.errors import EstimationError, InputError, first_few
from rtsmig.survey.items import Dimension, ItemsError
from rtsmig.survey.reliability import DimensionReliability, dimension_reliability, one_factor

METHODS = ("mean", "pca", "factor")

MISSING_POLICY = (
    "A region gets a score for a dimension when it answered at least K of the dimension's items "
    "(--min-answered K; default: half of the items, rounded up); otherwise its score is empty. "
    "mean: the mean of the answered items. pca and factor: the weighted sum of the answered "
    "standardised items, prorated by (sum of all weights) / (sum of the answered items' weights). "
    "Item means and SDs (ddof = 1), the weights and the reliability statistics use the complete "
    "cases of each dimension (listwise)."
)


@dataclass(frozen=True)
class DimensionScore:
    """How one score was made: the standardisation, the weights, and how many regions got none.

    ``center``, ``scale`` and ``weights`` are per item; ``weights`` is empty for ``mean``.
    """

    name: str
    method: str
    items: tuple[str, ...]
    min_answered: int
    n_scored: int
    n_unscored: int
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]

    def to_dict(self) -> dict:
        return {
            "method": self.method, "items": list(self.items), "min_answered": self.min_answered,
            "n_scored": self.n_scored, "n_unscored": self.n_unscored,
            "center": dict(zip(self.items, self.center, strict=True)),
            "scale": dict(zip(self.items, self.scale, strict=True)),
            "weights": dict(zip(self.items, self.weights, strict=True)) if self.weights else None,
        }


@dataclass(frozen=True, eq=False)
class IndexResult:
    """Scores (one float column per dimension, NaN where none, indexed by id) and their reliability."""

    scores: pd.DataFrame
    reliability: tuple[DimensionReliability, ...]
    details: tuple[DimensionScore, ...]


def default_min_answered(k: int) -> int:
    """Half of a dimension's ``k`` items, rounded up."""
    return math.ceil(k / 2)


def item_matrix(data: pd.DataFrame, dim: Dimension, source: str) -> np.ndarray:
    """The dimension's items as a float (n, k) array, NaN for a missing answer.

    Raises
    ------
    InputError
        An item column that is not in ``data`` (with close matches), or a cell that is
        neither empty nor a finite number (naming the column, region id and data row).
    """
    columns = []
    for item in dim.items:
        if item not in data.columns:
            close = difflib.get_close_matches(item, [str(c) for c in data.columns], n=3, cutoff=0.6)
            hint = f"close matches: {first_few(close)}" if close else f"columns: {first_few(data.columns, 8)}"
            raise InputError(f"{source}: no item column {item!r} (score {dim.name!r}; {hint}); check --items")
        values = data[item]
        coerced = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_numeric_dtype(values) else values
        coerced = coerced.astype(float)
        bad = (coerced.isna() & values.notna()) | np.isinf(coerced)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{source}: item column {item!r} is not numeric (id {data.index[row]!r}, data row {row + 1}: "
                f"{values.iloc[row]!r}); make it a number, or leave the cell empty for a missing answer"
            )
        columns.append(coerced.to_numpy())
    return np.column_stack(columns)


def _complete(X: np.ndarray, dim: Dimension, source: str) -> np.ndarray:
    """The complete cases of X, checked to have enough rows and no constant item."""
    C = X[~np.isnan(X).any(axis=1)]
    k = X.shape[1]
    if C.shape[0] < k + 1:
        raise InputError(
            f"{source}: score {dim.name!r} has {C.shape[0]} complete cases (regions that answered all {k} items); "
            f"it needs at least {k + 1}; use more regions or fewer items"
        )
    constant = [item for item, sd in zip(dim.items, C.std(axis=0, ddof=1), strict=True) if sd == 0]
    if constant:
        raise InputError(
            f"{source}: item {constant[0]!r} of score {dim.name!r} has the same value in all {C.shape[0]} "
            "complete cases; drop it from --items"
        )
    return C


def _weights(method: str, R: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """Weights on the standardised items: pca v1 / sqrt(e1) (sum of v1 positive), factor R^-1 lambda."""
    if method == "factor":
        return np.linalg.solve(R, loadings)  # Thurstone regression scores, as factanal
    values, vectors = np.linalg.eigh(R)
    v = vectors[:, -1] if vectors[:, -1].sum() >= 0 else -vectors[:, -1]
    return v / np.sqrt(values[-1])  # unit variance on the complete cases


def _score(X: np.ndarray, method: str, k_min: int, center, scale, w) -> np.ndarray:
    """One dimension's score per row under the missing policy (NaN: too few answers)."""
    answered = ~np.isnan(X)
    enough = answered.sum(axis=1) >= k_min
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "mean":
            score = np.where(answered, X, 0.0).sum(axis=1) / answered.sum(axis=1)
        else:
            Z = np.where(answered, (X - center) / scale, 0.0)
            # Prorate: scale the answered part up to the weight of all items.
            score = (Z @ w) * (w.sum() / (answered @ w))
    return np.where(enough & np.isfinite(score), score, np.nan)


def score_dimension(X: np.ndarray, dim: Dimension, method: str, k_min: int,
                    source: str) -> tuple[np.ndarray, DimensionScore, DimensionReliability]:
    """Score and reliability of one dimension from its item matrix ``X`` (NaN = missing)."""
    C = _complete(X, dim, source)
    center, scale = C.mean(axis=0), C.std(axis=0, ddof=1)
    R = np.corrcoef(C, rowvar=False)
    try:
        fit = one_factor(R)
        w = np.empty(0) if method == "mean" else _weights(method, R, fit.loadings)
    except (EstimationError, np.linalg.LinAlgError) as exc:
        raise EstimationError(
            f"{source}: score {dim.name!r}: {exc}; check for duplicated or perfectly related items"
        ) from exc
    score = _score(X, method, k_min, center, scale, w)
    unscored = int(np.isnan(score).sum())
    detail = DimensionScore(
        name=dim.name, method=method, items=dim.items, min_answered=k_min,
        n_scored=len(score) - unscored, n_unscored=unscored,
        center=tuple(map(float, center)), scale=tuple(map(float, scale)), weights=tuple(map(float, w)),
    )
    return score, detail, dimension_reliability(dim.name, dim.items, C, fit)


def build_index(data: pd.DataFrame, dims: Sequence[Dimension], method: str = "mean",
                min_answered: int | None = None, source: str = "data") -> IndexResult:
    """Score every dimension of ``data`` (indexed by region id) and assess its reliability.

    Parameters
    ----------
    data : the table, indexed by region id; item columns numeric or numeric text, empty = missing.
    dims : the dimensions, in output order (see :func:`rtsmig.survey.items.combine`).
    method : ``mean``, ``pca`` or ``factor`` (see :data:`MISSING_POLICY` for missing answers).
    min_answered : answers a region needs for a score; ``None``: half of each dimension's items, rounded up.
    source : the data's name in error messages.

    Raises
    ------
    ItemsError
        ``min_answered`` above a dimension's number of items (a usage error).
    InputError
        Missing or non-numeric item columns, too few complete cases, a constant item.
    EstimationError
        Collinear items or a factor model that does not converge.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    for dim in dims:
        if min_answered is not None and min_answered > len(dim.items):
            raise ItemsError(
                f"--min-answered {min_answered} is more than the {len(dim.items)} items of score {dim.name!r}; "
                "lower it"
            )
    columns, details, reliability = {}, [], []
    for dim in dims:
        X = item_matrix(data, dim, source)
        k_min = default_min_answered(len(dim.items)) if min_answered is None else min_answered
        columns[dim.name], detail, rel = score_dimension(X, dim, method, k_min, source)
        details.append(detail)
        reliability.append(rel)
    scores = pd.DataFrame(columns, index=data.index)
    return IndexResult(scores=scores, reliability=tuple(reliability), details=tuple(details))
