"""Direct, indirect and total impacts of a spatial lag model (LeSage and Pace 2009)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rtsmig.models.logdet import EIGEN_MAX_N, EigenLogDet
from rtsmig.models.results import IMPACT_EFFECTS, Impact

# Monte Carlo trace settings used above EIGEN_MAX_N regions: fixed seed, so the
# same inputs give the same bytes.
MC_DRAWS = 50
MC_SEED = 20240601
MC_MAX_ORDER = 100


def total_multiplier(W: sp.sparray, rho: float) -> float:
    r"""Average row sum of :math:`(I - \rho W)^{-1}`, from one sparse solve.

    Notes
    -----
    .. math:: \bar m_{tot} = \frac1n \mathbf 1'(I - \rho W)^{-1}\mathbf 1
    """
    n = W.shape[0]
    A = sp.csc_matrix(sp.identity(n, format="csc") - rho * sp.csc_array(W))
    return float(np.mean(spla.splu(A).solve(np.ones(n))))


def mc_trace_inverse(W: sp.sparray, rho: float) -> float:
    r"""Monte Carlo estimate of :math:`tr((I-\rho W)^{-1})` (Barry and Pace 1999).

    Notes
    -----
    .. math:: tr((I-\rho W)^{-1}) = \sum_{j\ge0} \rho^j tr(W^j),

    with :math:`tr(W^0) = n`, :math:`tr(W)` and :math:`tr(W^2) = \sum w_{ij}w_{ji}`
    exact and higher traces estimated by :math:`\frac{n}{r}\sum_s u_s'W^j u_s / u_s'u_s`
    over r fixed-seed normal draws; the series stops once :math:`|\rho|^j < 10^{-12}`.
    """
    n = W.shape[0]
    traces = [float(n), float(W.diagonal().sum()), float(W.multiply(W.T).sum())]
    order = MC_MAX_ORDER
    if abs(rho) > 0:
        order = min(MC_MAX_ORDER, int(np.ceil(np.log(1e-12) / np.log(abs(rho)))))
    U = np.random.default_rng(MC_SEED).standard_normal((n, MC_DRAWS))
    norms = np.sum(U * U, axis=0)
    V = W @ (W @ U)
    for _ in range(3, order + 1):
        V = W @ V
        traces.append(n * float(np.mean(np.sum(U * V, axis=0) / norms)))
    powers = rho ** np.arange(len(traces))
    return float(powers @ np.asarray(traces))


def lag_impacts(
    W: sp.sparray,
    rho: float,
    names: tuple[str, ...],
    beta: np.ndarray,
    eigen: EigenLogDet | None = None,
) -> tuple[tuple[Impact, ...], str]:
    r"""Impacts of each regressor in ``names`` (the intercept excluded by the caller).

    Parameters
    ----------
    W : the weights matrix. rho : the spatial lag parameter.
    names, beta : the regressors and their coefficients.
    eigen : an eigenvalue engine already built for W, reused for the traces.

    Returns
    -------
    The impacts and a description of how the traces were computed.

    Notes
    -----
    With :math:`S(\rho) = (I-\rho W)^{-1}\beta_r`:

    .. math::
        direct_r = \beta_r \frac1n tr((I-\rho W)^{-1}) = \beta_r \frac1n\sum_i \frac1{1-\rho\omega_i},
        \quad total_r = \beta_r \frac1n \mathbf 1'(I-\rho W)^{-1}\mathbf 1,
        \quad indirect_r = total_r - direct_r.

    The trace is exact from the eigenvalues :math:`\omega_i` of W up to
    :data:`~rtsmig.models.logdet.EIGEN_MAX_N` regions, and a fixed-seed Monte
    Carlo estimate above; the total comes from an exact sparse solve.
    """
    n = W.shape[0]
    if eigen is None and n <= EIGEN_MAX_N:
        eigen = EigenLogDet(W)
    if eigen is not None:
        direct_m = eigen.trace_inverse(rho) / n
        method = "exact: traces from the eigenvalues of W, total from a sparse solve"
    else:
        direct_m = mc_trace_inverse(W, rho) / n
        method = (
            f"direct: Monte Carlo traces ({MC_DRAWS} draws, seed {MC_SEED}); "
            "total: exact sparse solve"
        )
    total_m = total_multiplier(W, rho)
    impacts = tuple(
        Impact(name, effect, float(b * m))
        for name, b in zip(names, beta)
        for effect, m in zip(IMPACT_EFFECTS, (direct_m, total_m - direct_m, total_m))
    )
    return impacts, method
