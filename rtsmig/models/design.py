"""Spatially lagged regressors: the [X, WX] design of the Durbin, SLX and GNS models."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rtsmig.models.spec import WX_PREFIX


def wx_term(name: str) -> str:
    """The coefficient-table term of a lagged regressor: ``INC`` -> ``W_INC``."""
    return WX_PREFIX + name


def with_spatial_lags(
    X: np.ndarray, x_names: tuple[str, ...], W: sp.sparray, lagged: tuple[str, ...]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Append W x for each regressor in ``lagged`` to X (after all of X, in ``lagged`` order).

    The intercept is never lagged: with a row-standardised W its lag equals it. A
    pure kernel: ``lagged`` is checked against the regressors before estimation
    (:func:`rtsmig.models.registry.spec_problem`, a usage error).
    """
    columns = [x_names.index(name) for name in lagged]
    WX = np.asarray(W @ X[:, columns]).reshape(X.shape[0], len(columns))
    return np.column_stack([X, WX]), (*x_names, *(wx_term(n) for n in lagged))
