"""The joined, validated input of an estimator: y, X and W aligned by region id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from rtsmig.columns import missing_column
from rtsmig.errors import InputError, first_few
from rtsmig.models.spec import INTERCEPT


@dataclass(frozen=True, eq=False)
class Dataset:
    """Arrays ready for estimation; row i of ``y``, ``X`` and ``W`` is region ``ids[i]``.

    ``X`` holds the intercept as its first column, named ``(Intercept)`` in
    ``x_names``. ``W`` is a CSR matrix already transformed (e.g. row-standardised);
    it is ``None`` only where no weights were given (plain OLS).
    """

    ids: tuple[str, ...]
    y: np.ndarray
    X: np.ndarray
    y_name: str
    x_names: tuple[str, ...]
    W: sp.csr_array | None = None
    weights_label: str = ""

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def k(self) -> int:
        return self.X.shape[1]


def _numeric_column(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """One column as float64, or an InputError naming the first offending rows."""
    if column not in frame.columns:
        raise missing_column(source, column, frame.columns, "check --y/--x")
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        values = values.astype(float)
    if not pd.api.types.is_numeric_dtype(values):
        coerced = pd.to_numeric(values, errors="coerce")
        bad = values[coerced.isna() & values.notna()]
        if len(bad):
            examples = ", ".join(f"id {i!r}: {v!r}" for i, v in list(bad.items())[:3])
            raise InputError(f"{source}: column {column!r} is not numeric ({examples}); clean those cells")
        values = coerced
    missing = values.isna()
    if missing.any():
        raise InputError(
            f"{source}: column {column!r} has {int(missing.sum())} missing values "
            f"(ids {first_few(values.index[missing])}); fill them, or drop those regions with --na drop"
        )
    array = values.to_numpy(dtype=float)
    if not np.isfinite(array).all():
        bad_ids = values.index[~np.isfinite(array)]
        raise InputError(f"{source}: column {column!r} has infinite values (ids {first_few(bad_ids)})")
    return array


def incomplete_ids(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Ids of the rows with a missing value in any of ``columns`` (absent columns are ignored)."""
    present = [c for c in columns if c in frame.columns]
    return [str(i) for i in frame.index[frame[present].isna().any(axis=1)]]


def build_dataset(
    frame: pd.DataFrame,
    y: str,
    x: tuple[str, ...],
    *,
    source: str,
    W: sp.csr_array | None = None,
    weights_label: str = "",
) -> Dataset:
    """Validate ``frame`` (indexed by region id) and turn it into a :class:`Dataset`.

    ``W`` must already be aligned to ``frame.index`` (see
    :func:`rtsmig.weights.matrix.aligned_matrix`).

    Raises
    ------
    InputError
        A missing column, a non-numeric cell, a missing value, or ``y`` among ``x``.
    """
    if y in x:
        raise InputError(f"{source}: column {y!r} is both the outcome and a regressor; remove it from --x")
    if len(set(x)) != len(x):
        raise InputError(f"{source}: --x names a column twice; list each regressor once")
    y_values = _numeric_column(frame, y, source)
    columns = [np.ones(len(frame))] + [_numeric_column(frame, c, source) for c in x]
    return Dataset(
        ids=tuple(frame.index),
        y=y_values,
        X=np.column_stack(columns),
        y_name=y,
        x_names=(INTERCEPT, *x),
        W=W,
        weights_label=weights_label,
    )
