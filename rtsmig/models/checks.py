"""Checks of a design before any estimator runs; each failure names the column and the fix.

The numerical kernels assume what these checks establish (finite values, a
full-rank X with the intercept first, a square W of the right size) and do no
checking of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rtsmig.errors import EstimationError, InputError, WeightsError, first_few
from rtsmig.models.spec import INTERCEPT, SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

# A column whose part orthogonal to the earlier columns is below this share of its
# own length is treated as a linear combination of them (R's lm uses 1e-7 too).
COLLINEARITY_TOL = 1e-7
# Relative spread below which a column counts as constant.
CONSTANT_TOL = 1e-12


def check_dataset(spec: FitSpec, data: Dataset) -> None:
    """Run every check :func:`rtsmig.models.fit` needs; raise on the first failure.

    Raises
    ------
    InputError
        Non-finite values in y or X, or arrays whose shapes disagree.
    EstimationError
        Reserved or constant regressors, a rank-deficient design, too few
        regions, a spatial model without weights.
    WeightsError
        A W whose shape does not match the data.
    """
    check_shapes(data)
    check_finite(data)
    check_reserved_names(data.x_names)
    check_design(data.X, data.x_names)
    if spec.model != "ols":
        check_weights(spec, data)


def check_shapes(data: Dataset) -> None:
    n = data.n
    if data.y.shape != (n,) or data.X.ndim != 2 or data.X.shape[0] != n:
        raise InputError(
            f"y has shape {data.y.shape} and X {data.X.shape} for {n} regions; "
            "they must have one row per region"
        )
    if data.X.shape[1] != len(data.x_names) or data.x_names[:1] != (INTERCEPT,):
        raise InputError(f"X must start with the {INTERCEPT!r} column and have one name per column")


def check_finite(data: Dataset) -> None:
    if not np.all(np.isfinite(data.y)):
        rows = [data.ids[i] for i in np.flatnonzero(~np.isfinite(data.y))]
        raise InputError(f"column {data.y_name!r} has missing or infinite values at ids {first_few(rows)}")
    bad = ~np.isfinite(data.X).all(axis=0)
    if bad.any():
        cols = [data.x_names[j] for j in np.flatnonzero(bad)]
        raise InputError(f"column(s) {first_few(cols)} have missing or infinite values")


def check_reserved_names(x_names: tuple[str, ...]) -> None:
    clash = [name for name in x_names if name in SPATIAL_TERMS.values()]
    if clash:
        raise EstimationError(
            f"regressor name(s) {first_few(clash)} are reserved for the spatial parameters "
            f"({', '.join(sorted(SPATIAL_TERMS.values()))}); rename the column"
        )


def check_design(X: np.ndarray, x_names: tuple[str, ...]) -> None:
    r"""Reject constant regressors and columns that are linear combinations of earlier ones.

    Notes
    -----
    Columns are scaled to unit length and factorised :math:`X_s = QR` without
    pivoting, so :math:`|R_{jj}|` is the length of the part of column j that is
    orthogonal to columns :math:`0..j-1`. Column j is collinear when
    :math:`|R_{jj}| <` :data:`COLLINEARITY_TOL`; the columns it depends on are
    those with non-negligible weight in its least-squares fit on the earlier ones.
    """
    n, k = X.shape
    if n <= k:
        raise EstimationError(
            f"{n} regions for {k} coefficients; an estimate needs more regions than "
            "coefficients: drop regressors"
        )
    for j in range(1, k):
        col = X[:, j]
        scale = np.max(np.abs(col))
        if np.ptp(col) <= CONSTANT_TOL * scale:  # an all-zero column counts as constant
            raise EstimationError(
                f"regressor {x_names[j]!r} is constant (every value is {col[0]:g}), so it cannot "
                f"be told apart from the intercept: drop {x_names[j]!r} from the regressors"
            )
    Xs = X / np.linalg.norm(X, axis=0)
    r_diag = np.abs(np.diag(np.linalg.qr(Xs, mode="r")))
    for j in np.flatnonzero(r_diag < COLLINEARITY_TOL):
        if j == 0:
            continue  # the intercept cannot depend on nothing; a zero column was caught above
        raise EstimationError(_collinear_message(Xs, x_names, int(j)))


def _collinear_message(Xs: np.ndarray, x_names: tuple[str, ...], j: int) -> str:
    coef, *_ = np.linalg.lstsq(Xs[:, :j], Xs[:, j], rcond=None)
    parts = [x_names[i] for i in np.flatnonzero(np.abs(coef) > 1e-6)] or list(x_names[:j])
    return (
        f"regressor {x_names[j]!r} is a linear combination of {first_few(parts)}, so the "
        f"design matrix is singular: drop {x_names[j]!r} or one of the columns it depends on"
    )


def check_weights(spec: FitSpec, data: Dataset) -> None:
    if data.W is None:
        raise EstimationError(
            f"the {spec.model} model needs spatial weights and none were given: "
            "pass a weights file or fit the ols model"
        )
    if data.W.shape != (data.n, data.n):
        raise WeightsError(
            f"the weights matrix is {data.W.shape[0]}x{data.W.shape[1]} for {data.n} regions; "
            "build the weights from the same regions as the data"
        )
    if data.W.nnz == 0:
        raise WeightsError("the weights matrix has no links; every region is an island")
