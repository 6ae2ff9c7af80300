"""Spatially lagged regressors: the [X, WX] design of the Durbin, SLX and GNS models."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rtsmig.errors import EstimationError, first_few
from rtsmig.models.spec import INTERCEPT, WX_PREFIX


def wx_term(name: str) -> str:
    """The coefficient-table term of a lagged regressor: ``INC`` -> ``W_INC``."""
    return WX_PREFIX + name


def with_spatial_lags(
    X: np.ndarray, x_names: tuple[str, ...], W: sp.sparray, lagged: tuple[str, ...]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Append W x for each regressor in ``lagged`` to X (after all of X, in ``lagged`` order).

    The intercept is never lagged: with a row-standardised W its lag equals it.

    Raises
    ------
    EstimationError
        If ``lagged`` names the intercept or a column that is not a regressor.
    """
    unknown = [name for name in lagged if name not in x_names or name == INTERCEPT]
    if unknown:
        regressors = [n for n in x_names if n != INTERCEPT]
        raise EstimationError(
            f"--wx names {first_few(unknown)}, which are not regressors of this model; "
            f"choose among {', '.join(regressors)}"
        )
    columns = [x_names.index(name) for name in lagged]
    WX = np.asarray(W @ X[:, columns]).reshape(X.shape[0], len(columns))
    return np.column_stack([X, WX]), (*x_names, *(wx_term(n) for n in lagged))
