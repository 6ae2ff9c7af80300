r"""SAC and GNS models by generalised spatial 2SLS (GS2SLS).

SAC: :math:`y = \rho Wy + X\beta + u`, GNS: :math:`y = \rho Wy + X\beta + WX\theta + u`,
both with :math:`u = \lambda Wu + \varepsilon`. Kelejian and Prucha (1998): 2SLS
with instruments from powers of W times X, the KP99 moments of its residuals give
:math:`\hat\lambda`, and 2SLS of the spatially filtered model gives
:math:`(\hat\beta, \hat\rho)`. Without ``robust`` this is R spatialreg ``gstsls``
(SAC) and spreg ``GM_Combo`` (GNS with ``slx_lags=1``); with ``robust`` it is the
heteroskedasticity-robust variant of Arraiz et al. (2010) through spreg's
``BaseGM_Combo_Het``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.checks import check_design
from rtsmig.models.design import with_spatial_lags, wx_term
from rtsmig.models.effects import model_impacts
from rtsmig.models.gmm import (
    W_LAGS,
    check_instruments_identify,
    lag_instruments,
    two_stage_least_squares,
)
from rtsmig.models.gmm_error import (
    LinearGMMEstimate,
    check_gm_bound,
    kp_moments,
    lambda_search_bound,
    solve_kp_moments,
)
from rtsmig.models.inference import coefficient_table, orthonormal_basis, squared_correlation
from rtsmig.models.results import FitResult, Impact
from rtsmig.models.spec import MODEL_TERMS, FitSpec

if TYPE_CHECKING:  # runtime import would be circular: rtsmig.dataset imports models.spec
    from rtsmig.dataset import Dataset

# GNS instruments X, WX, W²X, W³X: two powers of W beyond the WX regressors, as spreg
# GM_Combo(slx_lags=1, w_lags=2).
GNS_W_LAGS = 3
# spreg's het GS2SLS clamps a 2SLS rho beyond ±0.9 to ±0.9 without saying so.
SPREG_RHO_CLAMP = 0.9
# Relative length below which an instrument's part outside the earlier columns is rounding.
_INSTRUMENT_RTOL = 1e-8


def gs2sls_kernel(y: np.ndarray, Xd: np.ndarray, W: sp.sparray, Q: np.ndarray) -> LinearGMMEstimate:
    r"""Homoskedastic generalised spatial 2SLS (no checks); ``Q`` spans the instruments.

    Notes
    -----
    With :math:`Z = [X_d, Wy]` and the filter :math:`v_\lambda = v - \lambda Wv`:

    1. 2SLS of y on Z gives residuals :math:`\tilde u`;
    2. :func:`~rtsmig.models.gmm_error.solve_kp_moments` on the KP99 moments of
       :math:`\tilde u` gives :math:`\hat\lambda`;
    3. 2SLS of :math:`y_\lambda` on :math:`Z_\lambda` with the same instruments gives
       :math:`\hat\delta = (\hat\beta, \hat\rho)`, residuals :math:`\hat\varepsilon`,
       :math:`s^2 = \hat\varepsilon'\hat\varepsilon/(n-p)` and
       :math:`V(\hat\delta) = s^2(\hat Z_\lambda'\hat Z_\lambda)^{-1}`.

    R's ``gstsls`` uses instruments :math:`[X_\lambda, WX_1, W^2X_1]` in step 3, which
    span the same space when W is row-standardised (:math:`W\mathbf 1 = \mathbf 1`).
    :math:`\hat\lambda` gets no variance (NaN), as in R and spreg. ``resid`` is :math:`y - Z\hat\delta`.
    """
    Z = np.column_stack([Xd, W @ y])
    first = two_stage_least_squares(y, Z, Q)
    m = kp_moments(first.resid, W)
    lam, gm_sigma2 = solve_kp_moments(m, lambda_search_bound(W))
    return replace(filtered_2sls(y, Z, W, Q, lam), gm_sigma2=gm_sigma2)


def filtered_2sls(y: np.ndarray, Z: np.ndarray, W: sp.sparray, Q: np.ndarray, lam: float) -> LinearGMMEstimate:
    r"""Step 3 of :func:`gs2sls_kernel`: 2SLS of the model filtered by :math:`I - \lambda W`.

    ``coef`` is :math:`(\hat\delta, \lambda)` and ``cov`` has NaN in the row and column
    of :math:`\lambda`; ``sigma2`` is :math:`s^2` of the filtered residuals.
    """
    second = two_stage_least_squares(y - lam * (W @ y), Z - lam * (W @ Z), Q)
    p = Z.shape[1]
    cov = np.full((p + 1, p + 1), np.nan)
    cov[:p, :p] = second.cov
    fitted = Z @ second.coef
    return LinearGMMEstimate(
        coef=np.append(second.coef, lam), cov=cov, resid=y - fitted, fitted=fitted, sigma2=second.sigma2
    )


def extra_instruments(Xd: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The columns of H that add to the span of Xd and of the columns of H kept before them.

    spreg inverts H'H, so its instruments must be free of the regressors and of
    each other; Gram–Schmidt (applied twice, for rounding) decides which add.
    """
    basis, kept = orthonormal_basis(Xd), []
    for col in H.T:
        part = col - basis @ (basis.T @ col)
        part -= basis @ (basis.T @ part)
        length = np.linalg.norm(part)
        if length > _INSTRUMENT_RTOL * np.linalg.norm(col):
            kept.append(col)
            basis = np.column_stack([basis, part / length])
    return np.column_stack(kept) if kept else np.empty((H.shape[0], 0))


def gs2sls_het_kernel(y: np.ndarray, Xd: np.ndarray, W: sp.sparray, H: np.ndarray) -> LinearGMMEstimate:
    r"""Heteroskedasticity-robust GS2SLS via spreg ``BaseGM_Combo_Het`` (no checks).

    Notes
    -----
    Arraiz et al. (2010): the GS2SLS steps with the moments of
    :func:`~rtsmig.models.gmm_error.gm_error_het_kernel` on 2SLS residuals, an
    efficiently weighted GM step for :math:`\hat\lambda`, and the robust joint
    covariance of :math:`(\hat\beta, \hat\rho, \hat\lambda)`. spreg's defaults: one
    iteration, no step 1c. ``sigma2`` is :math:`\hat\varepsilon'\hat\varepsilon/n`
    of the filtered residuals.
    """
    # Imported here: spreg takes seconds to import and only the robust estimators need it.
    from spreg.error_sp_het import BaseGM_Combo_Het

    reg = BaseGM_Combo_Het(
        y.reshape(-1, 1), Xd, yend=(W @ y).reshape(-1, 1), q=extra_instruments(Xd, H),
        w=sp.csr_matrix(W),
    )
    coef = np.asarray(reg.betas, dtype=float).ravel()
    if abs(coef[-2]) >= SPREG_RHO_CLAMP - 1e-12:
        raise EstimationError(
            f"rho = {coef[-2]:.6g} reached the ±{SPREG_RHO_CLAMP} to which spreg's robust "
            "GS2SLS clamps it; the estimate is not usable: drop --robust"
        )
    check_gm_bound(float(coef[-1]), "lambda")
    resid = np.asarray(reg.u, dtype=float).ravel()
    filtered = np.asarray(reg.e_filtered, dtype=float).ravel()
    return LinearGMMEstimate(
        coef=coef, cov=np.asarray(reg.vm, dtype=float), resid=resid, fitted=y - resid,
        sigma2=float(filtered @ filtered) / y.shape[0],
    )


def combo_estimate(
    spec: FitSpec, y: np.ndarray, Xd: np.ndarray, W: sp.sparray, H: np.ndarray, what: str, remedy: str
) -> LinearGMMEstimate:
    """Check that the instruments H identify rho, then run the homoskedastic or robust kernel."""
    Q = orthonormal_basis(H)
    check_instruments_identify(y, Xd, W, Q, what, remedy)
    if spec.robust:
        return gs2sls_het_kernel(y, Xd, W, H)
    return gs2sls_kernel(y, Xd, W, Q)


def combo_conventions(robust: bool, instruments: str, spreg_call: str) -> tuple[str, dict[str, str]]:
    """The engine name and the conventions of a GS2SLS fit."""
    common = {
        "instruments": instruments + " (lags of the non-constant columns of X)",
        "k": "number of coefficients: the betas, rho and lambda; GMM has no loglik, AIC or BIC",
        "pseudo_r2": "squared correlation of y and the fitted X b + rho W y (spreg GM_Combo.pr2)",
    }
    if robust:
        return "spreg.BaseGM_Combo_Het", {
            "estimator": f"heteroskedasticity-robust GS2SLS of Arraiz et al. (2010), spreg "
            f"{spreg_call.replace('GM_Combo', 'GM_Combo_Het')} (one iteration, no step 1c)",
            "sigma2": "e'e/n of the spatially filtered residuals e = u - lambda W u",
            "se": "heteroskedasticity-robust joint GM covariance of (b, rho, lambda), as spreg "
            "GM_Combo_Het; z statistics",
            "lambda_se": "from the robust joint covariance (spreg GM_Combo_Het)",
            **common,
        }
    return "gs2sls", {
        "estimator": "generalised spatial 2SLS of Kelejian-Prucha (1998): 2SLS, KP99 GM lambda "
        f"from its residuals (minimised exactly), 2SLS of the filtered model; as R gstsls, "
        f"spreg {spreg_call}; with --robust: Arraiz et al. (2010)",
        "sigma2": "e'e/(n-p) of the filtered second-step residuals, p the betas and rho "
        "(R gstsls); spreg GM_Combo divides by n",
        "se": "s^2 (Zhat'Zhat)^-1 of the filtered second step (R gstsls); spreg GM_Combo's "
        "are smaller by sqrt((n-p)/n); z statistics",
        "lambda_se": "none: R gstsls and spreg GM_Combo give lambda no standard error, so its "
        "row is blank",
        **common,
    }


def combo_result(
    spec: FitSpec, data: Dataset, names: tuple[str, ...], est: LinearGMMEstimate,
    impacts: tuple[tuple[Impact, ...], str], conventions: tuple[str, dict[str, str]],
) -> FitResult:
    """The FitResult of a SAC or GNS fit: terms ``names``, then rho and lambda."""
    engine, notes = conventions
    meta = {"engine": engine, "coef_test": "z", "impacts_method": impacts[1], "conventions": notes}
    if not spec.robust:
        meta["gm_sigma2"] = est.gm_sigma2
    return FitResult(
        spec=spec,
        coefficients=coefficient_table(
            (*names, *MODEL_TERMS[spec.model]), est.coef, est.cov, spec.ci_level
        ),
        fit={
            "n": float(data.n),
            "k": float(len(names) + 2),
            "pseudo_r2": squared_correlation(data.y, est.fitted),
            "sigma2": est.sigma2,
        },
        impacts=impacts[0],
        weights=data.weights_label,
        meta=meta,
    )


def fit_gmm_sac(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """SAC model by GS2SLS with instruments X, WX, W²X, and exact point impacts.

    See :func:`gs2sls_kernel` (R ``gstsls``) and, with ``spec.robust``,
    :func:`gs2sls_het_kernel` (spreg ``GM_Combo_Het``).
    """
    X, W = data.X, data.W
    k = X.shape[1]
    est = combo_estimate(
        spec, data.y, X, W, lag_instruments(X, W, W_LAGS), "WX and W²X", "use --method ml"
    )
    # Impacts from (betas, rho) and their covariance; lambda (maybe without an SE) is left out.
    impacts = model_impacts(spec, data, est.coef[: k + 1], est.cov[: k + 1, : k + 1], rho_index=k)
    conventions = combo_conventions(spec.robust, "X, WX, W²X", "GM_Combo(w_lags=2)")
    return combo_result(spec, data, data.x_names, est, impacts, conventions)


def gns_design(spec: FitSpec, data: Dataset) -> tuple[np.ndarray, tuple[str, ...], list[int]]:
    """The regressors ``[X, WX]``, their terms, and the columns of X in them (intercept first).

    :func:`rtsmig.models.fit` hands WX models a dataset whose X already has the
    ``W_<name>`` columns of ``spec.wx_names``; any other dataset gets them here.
    """
    lagged = {wx_term(name) for name in spec.wx_names}
    if lagged <= set(data.x_names):
        Xd, names = data.X, data.x_names
    else:
        Xd, names = with_spatial_lags(data.X, data.x_names, data.W, spec.wx_names)
        check_design(Xd, names)
    return Xd, names, [j for j, name in enumerate(names) if name not in lagged]


def fit_gmm_gns(spec: FitSpec, data: Dataset, engine: str | None = None) -> FitResult:
    """GNS model by GS2SLS with instruments X, WX, W²X, W³X, and exact point impacts.

    The regressors are ``[X, WX]`` for the ``spec.wx_names`` columns (terms
    ``W_<name>``, see :func:`gns_design`); see :func:`gs2sls_kernel`,
    :func:`gs2sls_het_kernel`; impacts from :func:`~rtsmig.models.effects.model_impacts`.
    """
    W = data.W
    Xd, names, base = gns_design(spec, data)
    H = lag_instruments(Xd[:, base], W, GNS_W_LAGS)
    est = combo_estimate(
        spec, data.y, Xd, W, H, "W²X and W³X (beyond X and WX)", "lag fewer regressors (--wx)"
    )
    p = Xd.shape[1]  # rho follows the p coefficients of [X, WX]
    lagged_data = replace(data, X=Xd, x_names=names)
    impacts = model_impacts(spec, lagged_data, est.coef[: p + 1], est.cov[: p + 1, : p + 1], rho_index=p)
    conventions = combo_conventions(
        spec.robust, "X, WX, W²X, W³X", "GM_Combo(slx_lags=1, w_lags=2)"
    )
    return combo_result(spec, data, names, est, impacts, conventions)
