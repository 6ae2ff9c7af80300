"""Checks of a design before any estimator runs; each failure names the column and the fix.

The numerical kernels assume what these checks establish (finite values, a
full-rank X with the intercept first, a square W of the right size) and do no
checking of their own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from rtsmig.errors import EstimationError, InputError, WeightsError, first_few
from rtsmig.models.spec import INTERCEPT, MODEL_TERMS, SPATIAL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset
    from rtsmig.models.results import FitResult

# A column whose part orthogonal to the earlier columns is below this share of its
# own length is treated as a linear combination of them (R's lm uses 1e-7 too).
COLLINEARITY_TOL = 1e-7
# Relative spread below which a column counts as constant.
CONSTANT_TOL = 1e-12
# Share of y's variation left to the OLS residuals below which the regressors fit y exactly
# (R² above 1 - 1e-10: residuals a hundred-thousandth of y's spread are rounding, not data).
PERFECT_FIT_TOL = 1e-10


def check_dataset(spec: FitSpec, data: Dataset) -> None:
    """Run every check :func:`rtsmig.models.fit` needs; raise on the first failure.

    Raises
    ------
    InputError
        Non-finite values in y or X, or arrays whose shapes disagree.
    EstimationError
        A constant outcome, reserved or constant regressors, a rank-deficient
        design, too few regions, a spatial model without weights.
    WeightsError
        A W whose shape does not match the data.
    """
    check_shapes(data)
    check_finite(data)
    check_outcome(data.y, data.y_name)
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


def check_outcome(y: np.ndarray, y_name: str) -> None:
    """Refuse an outcome without variation: every model would fit it exactly, with zero variance."""
    if np.ptp(y) <= CONSTANT_TOL * np.max(np.abs(y)):  # an all-zero y counts as constant
        raise EstimationError(
            f"the outcome {y_name!r} is constant (every value is {y[0]:g}), so there is nothing to "
            f"explain: choose an outcome that varies across regions with --y"
        )


def check_identified(spec: FitSpec, data: Dataset) -> None:
    r"""Refuse fewer regions than coefficients, and an outcome the model's regressors fit exactly.

    ``data.X`` is the final design (with the ``W_`` columns of the Durbin models).

    Notes
    -----
    The coefficients are the k columns of X and the model's spatial parameters.
    An exact fit leaves errors of zero, so that no variance, standard error or
    spatial parameter can be estimated: y must not lie in the span of X, nor, for
    the models with rho, of :math:`[X, Wy]`. See :func:`unexplained_share`.
    """
    n, k = data.X.shape
    terms = MODEL_TERMS.get(spec.model, ())
    if terms and n <= k + len(terms):
        *first, last = (f"{k} betas", *terms)
        raise EstimationError(
            f"{n} regions for {k + len(terms)} coefficients ({', '.join(first)} and {last}); "
            "an estimate needs more regions than coefficients: drop regressors"
        )
    regressors = first_few([name for name in data.x_names if name != INTERCEPT])
    share = unexplained_share(data.y, data.X)
    if share < PERFECT_FIT_TOL:
        raise EstimationError(
            f"the regressors fit the outcome {data.y_name!r} exactly (OLS R² = 1 - {share:.1e}), so no "
            f"standard error or spatial parameter can be estimated: check that {data.y_name!r} is not "
            f"computed from {regressors}"
        )
    if "rho" in terms and data.W is not None:
        share = unexplained_share(data.y, np.column_stack([data.X, data.W @ data.y]))
        if share < PERFECT_FIT_TOL:
            raise EstimationError(
                f"the regressors and the spatial lag W {data.y_name} fit the outcome {data.y_name!r} exactly "
                f"(R² = 1 - {share:.1e}), so its errors are zero and no standard error can be estimated: "
                f"check that {data.y_name!r} is not computed (or simulated without noise) from {regressors} "
                "and its neighbours' values"
            )


def unexplained_share(y: np.ndarray, Z: np.ndarray) -> float:
    r"""The share :math:`1 - R^2` of y's variation around its mean that the columns of Z leave unexplained.

    Z must hold the intercept (or another column spanning the constant).

    Notes
    -----
    :math:`[Z_s, \tilde y]` (columns of Z scaled to unit length, :math:`\tilde y`
    the centred y scaled to unit length) is factorised without pivoting; the last
    diagonal entry of R is the length of the part of :math:`\tilde y` orthogonal
    to Z, so its square is :math:`1 - R^2`.
    """
    centred = y - y.mean()
    Zs = Z / np.linalg.norm(Z, axis=0)
    r = np.linalg.qr(np.column_stack([Zs, centred / np.linalg.norm(centred)]), mode="r")
    return float(r[-1, -1]) ** 2


def check_result(result: FitResult) -> None:
    """Refuse a fit whose estimates, standard errors, impacts or fit statistics are not finite.

    The checks before estimation catch the known causes; this one stops any other
    degenerate fit from being written with blank numbers. A row the estimator
    leaves without SE by convention (GMM lambda, ``lambda_se`` in the result's
    conventions) is allowed.
    """
    conventions = result.meta.get("conventions", {})
    blank_se = {"lambda"} if str(conventions.get("lambda_se", "")).startswith("none") else set()
    bad = [
        c.term for c in result.coefficients
        if not math.isfinite(c.estimate) or (c.term not in blank_se and not math.isfinite(c.std_error))
    ]
    bad += [f"{i.effect} impact of {i.variable}" for i in result.impacts if not math.isfinite(i.estimate)]
    bad += [name for name, value in result.fit.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise EstimationError(
            f"the {result.spec.label} fit gives no finite value for {first_few(bad)}: the model is not "
            "identified with these data; drop regressors, check the weights or try another model or --method"
        )


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
