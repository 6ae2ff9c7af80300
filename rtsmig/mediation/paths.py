r"""The effect algebra of spatial mediation: every path's effect matrix as a function of W.

With outcome equation :math:`y = \rho Wy + X\beta + WX\theta + M\gamma + WM\delta + \varepsilon`
and mediator equations :math:`m_k = \rho_k Wm_k + Xa_k + WXc_k + \nu_k` (lag: no
:math:`\theta, \delta, c`; error: no :math:`\rho`, no lags), the effect of cause
:math:`x_j` on y splits exactly into

.. math::
    \frac{\partial y}{\partial x_j'} = \underbrace{A^{-1}(\beta_j I + \theta_j W)}_{direct}
    + \sum_k \underbrace{A^{-1}(\gamma_k I + \delta_k W)\,A_k^{-1}(a_{kj} I + c_{kj} W)}_{via\ m_k},
    \qquad A = I - \rho W,\ A_k = I - \rho_k W.

Every term is :math:`g(W)` for a rational scalar function g, so its internal part
(the mean diagonal, :math:`\frac1n tr\,g(W) = \frac1n\sum_i g(\omega_i)`) and its total
(the mean row sum, :math:`\frac1n\mathbf 1'g(W)\mathbf 1`) are weighted sums of g over a
:class:`Spectrum`; external = total - internal. Each draw of the estimates costs O(n).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from rtsmig.errors import EstimationError
from rtsmig.models.impacts_multipliers import constant_row_sum, eigen_bounds, spectral_total_weights
from rtsmig.models.logdet import EIGEN_MAX_N, eigenvalues, symmetrising_scale
from rtsmig.models.spec import WX_PREFIX

# Draws x nodes evaluated at once: bounds each temporary to a few megabytes.
BLOCK = 1 << 18


@dataclass(frozen=True)
class Spectrum:
    """Nodes and weights turning g(W) into its mean diagonal and its mean row sum.

    ``trace``: the eigenvalues of W, each weighted 1/n. ``total``: the common row
    sum c with weight 1 (:math:`W\\mathbf 1 = c\\mathbf 1`), or for a W similar to a
    symmetric matrix its eigenvalues with the spectral weights of the vector of ones.
    """

    trace_nodes: np.ndarray
    trace_weights: np.ndarray
    total_nodes: np.ndarray
    total_weights: np.ndarray
    bounds: tuple[float, float]
    description: str

    @classmethod
    def of(cls, W: sp.sparray) -> Spectrum:
        """The spectrum of W (dense eigenvalues: up to EIGEN_MAX_N regions)."""
        n = W.shape[0]
        if n > EIGEN_MAX_N:
            raise EstimationError(
                f"mediation takes its effects from the eigenvalues of W, up to {EIGEN_MAX_N:,} regions; "
                f"this W has {n:,}"
            )
        omega = eigenvalues(W)
        c = constant_row_sum(W)
        if c is not None:
            total = (np.array([c]), np.ones(1))
            how = f"totals from the constant row sum {c:g}"
        else:
            scale = symmetrising_scale(sp.csr_array(W))
            if scale is None:
                raise EstimationError(
                    "mediation needs a W with constant row sums (--transform r) or similar to a symmetric matrix"
                )
            nodes, weights = spectral_total_weights(W, scale)
            total = (nodes, weights / n)
            how = "totals from the eigenvectors of W"
        description = f"exact: internal parts from the eigenvalues of W, {how}"
        return cls(omega, np.full(n, 1.0 / n), *total, eigen_bounds(omega), description)

    def node_sets(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """(nodes, weights) of the mean diagonal, then of the mean row sum."""
        return (self.trace_nodes, self.trace_weights), (self.total_nodes, self.total_weights)


@dataclass(frozen=True)
class Equation:
    """One fitted equation's coefficients by term, and where its spatial lag parameter is.

    ``P`` holds draws of the estimates, one row each, in coefficient-table order.
    """

    terms: tuple[str, ...]
    P: np.ndarray
    rho_term: str | None

    def column(self, term: str) -> np.ndarray | None:
        """The draws of ``term`` as a column vector, or ``None`` if the equation lacks it."""
        if term not in self.terms:
            return None
        return self.P[:, self.terms.index(term)][:, None]

    def factor(self, regressor: str, nodes: np.ndarray, rows: slice) -> np.ndarray:
        r""":math:`(b + t\omega)/(1 - \rho\omega)` at ``nodes`` for the draws in ``rows``: (draws, nodes)."""
        b = self.column(regressor)[rows]
        value = b + _or_zero(self.column(WX_PREFIX + regressor), rows) * nodes
        if self.rho_term is None:
            return np.broadcast_to(value, (b.shape[0], nodes.size))
        return value / (1.0 - self.column(self.rho_term)[rows] * nodes)

    def inside(self, bounds: tuple[float, float]) -> np.ndarray:
        """Which draws have the lag parameter inside the parameter space."""
        if self.rho_term is None:
            return np.ones(self.P.shape[0], dtype=bool)
        rho = self.P[:, self.terms.index(self.rho_term)]
        return (rho > bounds[0]) & (rho < bounds[1])


def _or_zero(column: np.ndarray | None, rows: slice) -> np.ndarray | float:
    return 0.0 if column is None else column[rows]


def path_effects(
    spectrum: Spectrum, outcome: Equation, mediators: dict[str, Equation], causes: Sequence[str]
) -> np.ndarray:
    """Effects of every cause along every path, for each draw.

    Returns
    -------
    numpy.ndarray, (draws, causes, 1 + mediators, 3)
        Path 0 is direct, path 1 + k runs through mediator k; the last axis is
        internal, external, total.
    """
    draws = outcome.P.shape[0]
    step = max(1, BLOCK // max(spectrum.trace_nodes.size, 1))
    blocks = [
        _block(spectrum, outcome, mediators, causes, slice(start, min(start + step, draws)))
        for start in range(0, draws, step)
    ]
    return np.concatenate(blocks, axis=0)


def _block(
    spectrum: Spectrum, outcome: Equation, mediators: dict[str, Equation], causes: Sequence[str], rows: slice
) -> np.ndarray:
    """:func:`path_effects` for the draws in ``rows``."""
    sums = []
    for nodes, weights in spectrum.node_sets():
        per_cause = []
        for cause in causes:
            direct = outcome.factor(cause, nodes, rows)
            via = [outcome.factor(m, nodes, rows) * eq.factor(cause, nodes, rows) for m, eq in mediators.items()]
            per_cause.append(np.real(np.stack([direct, *via], axis=1) @ weights))
        sums.append(np.stack(per_cause, axis=1))
    internal, total = sums
    return np.stack([internal, total - internal, total], axis=-1)


def summarise(point: np.ndarray, sims: np.ndarray, ci_level: float) -> dict[str, np.ndarray]:
    """Estimate, SE (SD of the draws), percentile interval and Monte Carlo p-value of each effect.

    The p-value is twice the smaller share of draws on either side of zero (at
    least one draw's worth, 1/draws): it rejects at level a exactly when the
    equal-tailed 1 - a percentile interval excludes zero.
    """
    tail = (1.0 - ci_level) / 2.0
    lo, hi = np.quantile(sims, [tail, 1.0 - tail], axis=0)
    below = np.mean(sims <= 0.0, axis=0)
    above = np.mean(sims >= 0.0, axis=0)
    p = np.clip(2.0 * np.minimum(below, above), 1.0 / sims.shape[0], 1.0)
    return {"estimate": point, "std_error": np.std(sims, axis=0, ddof=1), "ci_low": lo, "ci_high": hi, "p_value": p}


def with_sums(effects: np.ndarray) -> np.ndarray:
    """Append the indirect path (sum over mediators) and the total (direct + indirect) on axis -2."""
    indirect = effects[..., 1:, :].sum(axis=-2, keepdims=True)
    total = effects[..., :1, :] + indirect
    return np.concatenate([effects, indirect, total], axis=-2)
