"""The estimator registry and :func:`fit`, the one entry point of the models layer.

Estimators are keyed by ``(model, method)``; each takes the spec, the dataset
and an optional log-determinant engine name and returns a new
:class:`~rtsmig.models.results.FitResult`. :func:`fit` runs the design checks
first, so the estimators and their numerical kernels need none of their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from rtsmig.columns import close_columns
from rtsmig.errors import EstimationError, UsageError, first_few
from rtsmig.models.checks import check_dataset, check_design, check_identified, check_result
from rtsmig.models.design import with_spatial_lags
from rtsmig.models.gmm import fit_gm_error, fit_gmm_lag
from rtsmig.models.gmm_combo import fit_gmm_gns, fit_gmm_sac
from rtsmig.models.logdet_engines import APPROXIMATE_ENGINES, LOGDET_CHOICES
from rtsmig.models.ml_error import fit_ml_error
from rtsmig.models.ml_lag import fit_ml_lag
from rtsmig.models.ml_sac import fit_ml_sac
from rtsmig.models.ols import fit_ols
from rtsmig.models.results import FitResult
from rtsmig.models.spec import METHODS, MODELS, WX_MODELS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

Estimator = Callable[["FitSpec", "Dataset", "str | None"], "FitResult"]

# OLS and SLX have one estimator whatever the method, hence the key (model, None).
# The Durbin models are the lag and error estimators on [X, WX] (fit builds it).
ESTIMATORS: dict[tuple[str, str | None], Estimator] = {
    ("ols", None): fit_ols,
    ("slx", None): fit_ols,
    ("lag", "ml"): fit_ml_lag,
    ("error", "ml"): fit_ml_error,
    ("sac", "ml"): fit_ml_sac,
    ("durbin", "ml"): fit_ml_lag,
    ("durbin-error", "ml"): fit_ml_error,
    ("lag", "gmm"): fit_gmm_lag,
    ("error", "gmm"): fit_gm_error,
    ("sac", "gmm"): fit_gmm_sac,
    ("gns", "gmm"): fit_gmm_gns,
}
LEAST_SQUARES_MODELS = ("ols", "slx")


def estimator_key(spec: FitSpec) -> tuple[str, str | None]:
    """The registry key of a spec: ``(model, method)``, with no method for OLS and SLX."""
    return (spec.model, None if spec.model in LEAST_SQUARES_MODELS else spec.method)


def spec_problem(spec: FitSpec, engine: str | None = None) -> str | None:
    """What makes ``spec`` impossible to fit whatever the data, or ``None``.

    These are option choices (model, method, engine, --robust, --wx, confidence
    level); the data cannot change the answer.
    """
    if spec.model not in MODELS:
        return f"unknown model {spec.model!r}; use one of {', '.join(MODELS)}"
    if spec.method not in METHODS:
        return f"unknown method {spec.method!r}; use one of {', '.join(METHODS)}"
    if estimator_key(spec) not in ESTIMATORS:
        methods = [m for model, m in ESTIMATORS if model == spec.model]
        return f"the {spec.model} model has no {spec.method} estimator; use --method {' or '.join(methods)}"
    if engine is not None and engine not in LOGDET_CHOICES:
        return f"unknown log-determinant engine {engine!r}; use one of {', '.join(LOGDET_CHOICES)}"
    if not 0.0 < spec.ci_level < 1.0:
        return f"ci_level must lie between 0 and 1, not {spec.ci_level}"
    ml = estimator_key(spec)[1] == "ml"
    if ml and spec.robust:
        return "robust standard errors are not available for ML estimation; drop --robust or use --method gmm"
    if ml and spec.model == "sac" and engine in APPROXIMATE_ENGINES:
        return f"--logdet {engine} is not available for the sac model; use eigen, cholesky or lu"
    unknown = [name for name in spec.wx_names if name not in spec.x]
    if unknown:
        close = close_columns(unknown[0], spec.x)
        guess = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        return (
            f"--wx names {first_few(unknown)}, which are not among the --x regressors; "
            f"{guess}choose among {', '.join(spec.x)}"
        )
    return None


def check_spec(spec: FitSpec, engine: str | None) -> None:
    """:func:`spec_problem` as an EstimationError: what :func:`fit` raises for its library callers."""
    problem = spec_problem(spec, engine)
    if problem:
        raise EstimationError(problem)


def check_options(spec: FitSpec, engine: str | None = None) -> None:
    """:func:`spec_problem` as a usage error (exit 2), for the CLI to call before reading any data.

    Raises
    ------
    UsageError
        An option combination no data can make work, naming the option and what is allowed.
    """
    problem = spec_problem(spec, spec.logdet if engine is None else engine)
    if problem:
        raise UsageError(problem)


def fit(spec: FitSpec, data: Dataset, *, engine: str | None = None) -> FitResult:
    """Fit the model ``spec`` describes to ``data`` and return a new result.

    Parameters
    ----------
    spec : what to fit (model, method, robust SEs, confidence level).
    data : y, X (intercept first) and, for spatial models, a transformed W.
    engine : log-determinant engine of the ML estimators (one of
        :data:`~rtsmig.models.logdet_engines.LOGDET_CHOICES`); by default
        ``spec.logdet``. Ignored by OLS and GMM.

    Returns
    -------
    FitResult

    Raises
    ------
    EstimationError
        An option combination without an estimator, a constant outcome, a
        constant or collinear regressor, fewer regions than coefficients, an
        outcome the regressors fit exactly, a reserved name, a spatial model
        without W, no convergence, a parameter on its bound, a singular
        information matrix or a non-finite estimate.
    InputError, WeightsError
        Non-finite values; a W that does not match the data.

    Examples
    --------
    >>> import numpy as np
    >>> from rtsmig.dataset import Dataset
    >>> from rtsmig.models import FitSpec, fit
    >>> x = np.arange(6.0)
    >>> data = Dataset(tuple("abcdef"), 2 + 3 * x + np.array([0.1, -0.1] * 3),
    ...                np.column_stack([np.ones(6), x]), "y", ("(Intercept)", "x"))
    >>> result = fit(FitSpec(model="ols", y="y", x=("x",)), data)
    >>> print(f"{result.coef['x']:.4f}")
    2.9829
    """
    engine = spec.logdet if engine is None else engine
    check_spec(spec, engine)
    check_dataset(spec, data)
    if spec.model in WX_MODELS:
        X, names = with_spatial_lags(data.X, data.x_names, data.W, spec.wx_names)
        check_design(X, names)  # e.g. W x collinear with x under block weights
        data = dataclasses.replace(data, X=X, x_names=names)
    # One BLAS thread: threaded BLAS sums in an order that depends on the thread count, so the
    # last bits of a result (and the bytes of its files) would depend on the machine and executor.
    with threadpool_limits(limits=1, user_api="blas"):
        check_identified(spec, data)
        try:
            result = ESTIMATORS[estimator_key(spec)](spec, data, engine)
        except np.linalg.LinAlgError as exc:  # a singular matrix the checks above could not foresee
            raise EstimationError(
                f"the {spec.label} fit met a singular matrix ({exc}): the model is not identified with "
                "these data; drop regressors, check the weights or try another model or --method"
            ) from exc
    check_result(result)
    return result
