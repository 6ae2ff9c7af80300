r"""Direct, indirect and total impacts, with inference, of every model with spillovers.

One engine serves lag, sac, durbin, slx and durbin-error (LeSage and Pace 2009):
regressor r has :math:`S_r = (I-\rho W)^{-1}(\beta_r I + \theta_r W)` (no rho in
slx and durbin-error, no :math:`\theta_r` without a lag), and

.. math:: direct_r = \tfrac1n tr(S_r),\quad total_r = \tfrac1n\mathbf 1'S_r\mathbf 1,
   \quad indirect_r = total_r - direct_r.

The multipliers come from :mod:`rtsmig.models.impacts_multipliers`; this module
locates the coefficients in an estimate vector and adds simulated (R
``impacts(fit, R=)``) or delta-method inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.distributions import normal_ppf, normal_sf
from rtsmig.models.impacts_moments import moment_multipliers
from rtsmig.models.impacts_multipliers import Multipliers, exact_multipliers, linear_multipliers
from rtsmig.models.impacts_series import (
    mc_trace_inverse,
    series_bounds,
    series_order,
    totals_order,
    trace_multipliers,
)
from rtsmig.models.logdet import DENSE_MAX_N, EigenLogDet
from rtsmig.models.results import IMPACT_EFFECTS, Impact
from rtsmig.models.spec import IMPACTS_SE

__all__ = ["ImpactLayout", "draw_estimates", "lag_impacts", "mc_trace_inverse", "spatial_impacts"]


@dataclass(frozen=True)
class ImpactLayout:
    """Where each regressor's beta and theta (``None``: not lagged) and rho sit in the estimates."""

    beta_index: tuple[int, ...]
    theta_index: tuple[int | None, ...]
    rho_index: int | None

    @classmethod
    def of(
        cls, beta_index: Sequence[int], theta_index: Sequence[int | None] | None, rho_index: int | None
    ) -> ImpactLayout:
        """The layout from index sequences; ``theta_index=None`` means no regressor is lagged."""
        betas = tuple(int(i) for i in beta_index)
        thetas = [None] * len(betas) if theta_index is None else [None if i is None else int(i) for i in theta_index]
        if len(thetas) != len(betas):
            raise ValueError(f"{len(betas)} beta indices but {len(thetas)} theta indices")
        return cls(betas, tuple(thetas), None if rho_index is None else int(rho_index))

    @property
    def used(self) -> list[int]:
        """The estimates the impacts depend on, in increasing order."""
        indices = {*self.beta_index, *(i for i in self.theta_index if i is not None)}
        if self.rho_index is not None:
            indices.add(self.rho_index)
        return sorted(indices)

    def rho(self, P: np.ndarray) -> np.ndarray:
        """rho of each row of the (m, p) estimates; zeros without rho."""
        return P[:, self.rho_index] if self.rho_index is not None else np.zeros(P.shape[0])

    def effects(self, engine: Multipliers, P: np.ndarray) -> np.ndarray:
        """Impacts of each row of the (m, p) estimates: (m, regressors, direct|indirect|total)."""
        d0, d1, t0, t1 = engine.values(self.rho(P))[:, :, None]
        b = P[:, list(self.beta_index)]
        lagged = np.array([i is not None for i in self.theta_index])
        columns = [0 if i is None else i for i in self.theta_index]
        t = np.where(lagged, P[:, columns], 0.0)
        direct, total = b * d0 + t * d1, b * t0 + t * t1
        return np.stack([direct, total - direct, total], axis=-1)

    def gradient(self, engine: Multipliers, params: np.ndarray) -> np.ndarray:
        r"""Analytic gradient of each impact in the estimates: (regressors, 3, p).

        Notes
        -----
        :math:`\partial direct_r/\partial(\beta_r, \theta_r, \rho) =
        (D_0, D_1, \beta_r D_0' + \theta_r D_1')`, the same with :math:`T_p` for
        the total, and indirect = total - direct; :math:`D_0' = \frac1n
        tr(WA^{-2})` etc. come from the engine's ``slopes``.
        """
        rho = self.rho(params[None, :])
        (d0, d1, t0, t1), slope = engine.values(rho)[:, 0], engine.slopes(rho)[:, 0]
        G = np.zeros((len(self.beta_index), 3, params.size))
        for r, (bi, ti) in enumerate(zip(self.beta_index, self.theta_index)):
            theta = 0.0 if ti is None else params[ti]
            G[r, 0, bi], G[r, 2, bi] = d0, t0
            if ti is not None:
                G[r, 0, ti], G[r, 2, ti] = d1, t1
            if self.rho_index is not None:
                G[r, 0, self.rho_index] = params[bi] * slope[0] + theta * slope[1]
                G[r, 2, self.rho_index] = params[bi] * slope[2] + theta * slope[3]
        G[:, 1] = G[:, 2] - G[:, 0]
        return G


def spatial_impacts(
    W: sp.sparray,
    names: Sequence[str],
    params: np.ndarray,
    cov: np.ndarray | None = None,
    *,
    beta_index: Sequence[int],
    theta_index: Sequence[int | None] | None = None,
    rho_index: int | None = None,
    se: str = "simulate",
    draws: int = 1000,
    seed: int = 1,
    ci_level: float = 0.95,
    eigen: EigenLogDet | None = None,
    exact_max_n: int = DENSE_MAX_N,
    logdet=None,
) -> tuple[tuple[Impact, ...], str]:
    r"""Impacts of each regressor in ``names``, with inference, and a one-line method text.

    Parameters
    ----------
    W : the weights matrix.
    names : the regressors (the intercept excluded by the caller).
    params, cov : the full estimate vector and its covariance, in the caller's
        order; ``cov`` may be ``None`` when ``se="none"``.
    beta_index : position in ``params`` of each regressor's beta.
    theta_index : position of each regressor's lag coefficient (W_x), ``None``
        for a regressor without one; ``None`` altogether for lag and sac.
    rho_index : position of rho; ``None`` for slx and durbin-error.
    se : ``simulate``, ``delta`` or ``none`` (see Notes).
    draws, seed : number of draws and seed of ``simulate``.
    ci_level : coverage of the intervals.
    eigen, logdet : an eigenvalue engine already built for W (reused), the fit's engine.
    exact_max_n : exact multipliers up to this many regions (any n with ``eigen``); above,
        the moments of an approximate ``logdet``, else power series.

    Returns
    -------
    The impacts, long form (variables in ``names`` order, then direct, indirect,
    total), and the method text for ``meta["impacts_method"]``.

    Notes
    -----
    The estimate is the point impact at ``params``. ``simulate`` draws
    :math:`\theta^{(s)} \sim N(\hat\theta, V)` (``numpy.random.default_rng(seed)``,
    Cholesky factor of the block of V the impacts use); draws with rho outside
    the parameter space are discarded and counted, as R spatialreg does. The SE
    is the SD of the draws' impacts, the interval their percentile interval,
    :math:`z = estimate/SE` (R's summary divides the draws' mean instead) and p
    two-sided normal. ``delta``: :math:`SE = \sqrt{g'Vg}` with the analytic
    gradient g, normal interval. For slx and durbin-error the impacts are linear,
    so ``delta`` is exact and ``simulate`` agrees within Monte Carlo error.
    """
    if se not in IMPACTS_SE:
        raise ValueError(f"se must be one of {IMPACTS_SE}, not {se!r}")
    params = np.asarray(params, dtype=float)
    layout = ImpactLayout.of(beta_index, theta_index, rho_index)
    if len(names) != len(layout.beta_index):
        raise ValueError(f"{len(names)} names but {len(layout.beta_index)} beta indices")
    if se != "none" and cov is None:
        raise ValueError(f"se={se!r} needs the covariance of the estimates")
    sample = draw_estimates(params, np.asarray(cov, dtype=float), layout.used, draws, seed) if se == "simulate" else None
    engine, sample, dropped = _engine(W, layout, params, sample, se, eigen, exact_max_n, logdet)
    point = layout.effects(engine, params[None, :])[0]
    if se == "none":
        return _rows(names, point), f"{engine.description}; point impacts only"
    if se == "delta":
        G = layout.gradient(engine, params)
        std = np.sqrt(np.einsum("rep,pq,req->re", G, np.asarray(cov, dtype=float), G))
        q = normal_ppf(0.5 + ci_level / 2.0)
        text = f"{engine.description}; delta method (analytic gradient), normal {ci_level:g} interval"
        return _rows(names, point, std, point - q * std, point + q * std), text
    sims = layout.effects(engine, sample)
    lo, hi = np.quantile(sims, [0.5 - ci_level / 2.0, 0.5 + ci_level / 2.0], axis=0)
    kept = f", {dropped} with rho outside ({engine.bounds[0]:.6g}, {engine.bounds[1]:.6g}) discarded" if dropped else ""
    text = (
        f"{engine.description}; simulated: {draws} draws from N(estimates, cov), seed {seed}{kept}; "
        f"SE = SD of the draws, percentile {ci_level:g} interval"
    )
    return _rows(names, point, np.std(sims, axis=0, ddof=1), lo, hi), text


def draw_estimates(
    params: np.ndarray, cov: np.ndarray, used: list[int], draws: int, seed: int | np.random.Generator
) -> np.ndarray:
    r"""``draws`` rows of :math:`N(\hat\theta, V)` in the ``used`` estimates, the others fixed.

    ``seed`` may be a generator, which then goes on to serve the caller's next draws.

    Notes
    -----
    :math:`\theta^{(s)}_u = \hat\theta_u + L z_s` with :math:`LL' = V_{uu}`
    (Cholesky; for a singular :math:`V_{uu}`, the symmetric root with negative
    rounding eigenvalues set to zero) and standard normal :math:`z_s`.
    """
    if draws < 2:
        raise ValueError(f"simulated impacts need at least 2 draws, not {draws}")
    V = cov[np.ix_(used, used)]
    try:
        L = la.cholesky(V, lower=True)
    except la.LinAlgError:
        values, vectors = la.eigh(V)
        L = vectors * np.sqrt(np.clip(values, 0.0, None))
    Z = np.random.default_rng(seed).standard_normal((draws, len(used)))
    sample = np.tile(params, (draws, 1))
    sample[:, used] += Z @ L.T
    return sample


def _engine(
    W: sp.sparray,
    layout: ImpactLayout,
    params: np.ndarray,
    sample: np.ndarray | None,
    se: str,
    eigen: EigenLogDet | None,
    exact_max_n: int,
    logdet=None,
) -> tuple[Multipliers, np.ndarray | None, int]:
    """The multipliers, the draws with rho inside their parameter space, and how many were not.

    The power series' order depends on the largest |rho| it must serve, so draws
    are screened against its bounds before it is built.
    """
    if layout.rho_index is None:
        return linear_multipliers(W), sample, 0
    rho_hat = float(params[layout.rho_index])
    exact = eigen is not None or W.shape[0] <= exact_max_n
    engine = exact_multipliers(W, eigen, spectral_totals=se == "simulate") if exact else None
    moments = None if exact or not hasattr(logdet, "coefficients") else logdet
    extremes = getattr(logdet, "extremes", None)  # the fit's engine has found them already
    if engine is not None:
        lo, hi = engine.bounds
    else:
        lo, hi = series_bounds(W, extremes)
        if moments is not None:  # the moments' own parameter space, for the direct part
            lo, hi = max(lo, moments.bounds[0]), min(hi, moments.bounds[1])
    dropped = 0
    if sample is not None:
        rho = sample[:, layout.rho_index]
        inside = (rho > lo) & (rho < hi)
        dropped = int(np.count_nonzero(~inside))
        sample = sample[inside]
        if sample.shape[0] < 2:
            raise EstimationError(
                f"only {sample.shape[0]} of the draws of rho fell inside ({lo:.6g}, {hi:.6g}); "
                "use --impacts-se delta"
            )
    if engine is None:
        if not lo < rho_hat < hi:
            raise EstimationError(
                f"rho = {rho_hat:.6g} is outside ({lo:.6g}, {hi:.6g}), where the power series "
                "of the impacts converges"
            )
        rho_abs = abs(rho_hat)
        if sample is not None:
            rho_abs = max(rho_abs, float(np.max(np.abs(sample[:, layout.rho_index]))))
        if moments is not None:
            engine = moment_multipliers(W, moments, rho_abs)
        else:
            rate = rho_abs / hi
            engine = trace_multipliers(W, series_order(rate), extremes, totals_order(rate))
    return engine, sample, dropped


def _rows(
    names: Sequence[str],
    estimate: np.ndarray,
    std: np.ndarray | None = None,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
) -> tuple[Impact, ...]:
    """Long-form :class:`Impact` rows from (regressors, 3) arrays; NaN inference without ``std``."""
    if std is None:
        return tuple(
            Impact(str(name), effect, float(estimate[r, e]))
            for r, name in enumerate(names)
            for e, effect in enumerate(IMPACT_EFFECTS)
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / std
    p = 2.0 * normal_sf(np.abs(z))
    return tuple(
        Impact(str(name), effect, float(estimate[r, e]), float(std[r, e]), float(z[r, e]),
               float(p[r, e]), float(lo[r, e]), float(hi[r, e]))
        for r, name in enumerate(names)
        for e, effect in enumerate(IMPACT_EFFECTS)
    )


def lag_impacts(
    W: sp.sparray,
    rho: float,
    names: tuple[str, ...],
    beta: np.ndarray,
    eigen: EigenLogDet | None = None,
) -> tuple[tuple[Impact, ...], str]:
    r"""Point impacts of a lag model, each regressor in ``names`` (intercept excluded by the caller).

    Parameters
    ----------
    W : the weights matrix. rho : the spatial lag parameter.
    names, beta : the regressors and their coefficients.
    eigen : an eigenvalue engine already built for W, reused for the traces.

    Returns
    -------
    The impacts (inference fields NaN) and a description of how they were computed.

    Notes
    -----
    :func:`spatial_impacts` with ``se="none"``:

    .. math::
        direct_r = \beta_r \frac1n\sum_i \frac1{1-\rho\omega_i},
        \quad total_r = \beta_r \frac1n \mathbf 1'(I-\rho W)^{-1}\mathbf 1,
        \quad indirect_r = total_r - direct_r.
    """
    beta = np.asarray(beta, dtype=float)
    k = beta.size
    return spatial_impacts(
        W, names, np.append(beta, rho), beta_index=range(k), rho_index=k, se="none", eigen=eigen,
    )
