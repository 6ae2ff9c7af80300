r"""The traces and solves in the ML information matrix, dense for small n, stochastic for large n.

The information matrices of the lag and error models need, at the estimate
:math:`\theta` with :math:`A = I - \theta W` and :math:`B = WA^{-1}`,
:math:`tr(B)`, :math:`tr(B^2)`, :math:`tr(B'B)` and (lag) :math:`BX\beta`.
Up to :data:`~rtsmig.models.logdet.DENSE_MAX_N` regions, and with the eigen
engine, they come from a dense inverse, exactly.
Above, nothing n x n is formed:

- :math:`tr(B) = -\partial_\theta\log|A|` and :math:`tr(B^2) = -\partial^2_\theta\log|A|`
  from the log-determinant engine when it expands them (Chebyshev, Monte Carlo),
  so they are the derivatives of the very likelihood that was maximised;
- otherwise, and always for :math:`tr(B'B)`, Hutchinson estimates
  :math:`z'Mz` over Rademacher probes z with control variates: the exactly known
  traces of the leading terms of M's power series (:math:`tr W`, :math:`tr W^2`,
  :math:`tr W'W = \|W\|_F^2`) replace their noisy estimates;
- :math:`A^{-1}v` by conjugate gradients on the symmetric form
  :math:`I - \theta D^{1/2}WD^{-1/2}` (positive definite inside the parameter
  space) when W is similar to a symmetric matrix, else GMRES.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rtsmig.errors import EstimationError
from rtsmig.models.logdet import DENSE_MAX_N, EigenLogDet, symmetrising_scale
from rtsmig.models.moments import PROBE_SEED, rademacher

# Relative residual at which an iterative solve of (I - theta W) x = b stops.
SOLVE_TOL = 1e-9
SOLVE_MAXITER = 5000


@dataclass(frozen=True)
class Traces:
    """Traces of :math:`B = W(I-\\theta W)^{-1}`, ``B @ extra`` and how they were obtained."""

    tr_b: float
    tr_b2: float
    tr_btb: float
    b_extra: np.ndarray | None
    method: str
    relative_se: dict = field(default_factory=dict)


def spatial_traces(W: sp.sparray, theta: float, logdet, extra: np.ndarray | None = None) -> Traces:
    """The traces at ``theta`` (and ``B @ extra``), by the cheapest exact or stochastic route."""
    n = W.shape[0]
    if n <= DENSE_MAX_N or isinstance(logdet, EigenLogDet):
        tr_b, tr_b2, tr_btb, a_inv = dense_traces(W, theta)
        b_extra = None if extra is None else W @ (a_inv @ extra)
        return Traces(tr_b, tr_b2, tr_btb, b_extra, "exact (dense inverse)")
    expands = hasattr(logdet, "second_derivative")
    W = sp.csr_array(W)
    scale = logdet.symmetric_scale if hasattr(logdet, "symmetric_scale") else symmetrising_scale(W)
    est = _hutchinson(W, theta, extra, need_b=not expands, scale=scale)
    if expands:
        est["tr_b"], est["tr_b2"] = -logdet.derivative(theta), -logdet.second_derivative(theta)
    return Traces(
        est["tr_b"], est["tr_b2"], est["tr_btb"], est.get("b_extra"),
        est["method"] + (f"; tr(B), tr(B^2) from the {logdet.name} expansion" if expands else ""),
        est["relative_se"],
    )


def dense_traces(W: sp.sparray, theta: float) -> tuple[float, float, float, np.ndarray]:
    r"""Traces of :math:`B = W A^{-1}`, :math:`A = I - \theta W`, from a dense inverse.

    Returns
    -------
    :math:`tr(B)`, :math:`tr(B^2)`, :math:`tr(B'B)` and the dense :math:`A^{-1}`.

    Notes
    -----
    Dense: O(n^3) time, O(n^2) memory.
    """
    n = W.shape[0]
    a_inv = la.inv(np.eye(n) - theta * W.toarray())
    B = np.asarray(W @ a_inv)  # sparse times dense: O(links * n), not O(n^3)
    return float(np.trace(B)), float(np.sum(B * B.T)), float(np.sum(B * B)), a_inv


def _hutchinson(
    W: sp.csr_array, theta: float, extra: np.ndarray | None, need_b: bool, scale: np.ndarray | None
) -> dict:
    r"""Hutchinson estimates with control variates (see the module notes) and ``B @ extra``."""
    n = W.shape[0]
    p = trace_probes(n)
    Z = rademacher(n, p, PROBE_SEED + 1)
    rhs = Z if extra is None else np.column_stack([Z, extra])
    U = solve_shifted(W, theta, rhs, scale)
    BU = W @ U
    BZ, WZ = BU[:, :p], W @ Z
    samples = {"tr_btb": float((W.data**2).sum()) + np.sum(BZ * BZ - WZ * WZ, axis=0)}
    tr_w, tr_w2 = float(W.diagonal().sum()), float(W.multiply(W.T).sum())
    if need_b:
        W2Z = W @ WZ
        samples["tr_b"] = tr_w + theta * tr_w2 + np.sum(Z * (BZ - WZ - theta * W2Z), axis=0)
        B2Z = W @ solve_shifted(W, theta, BZ, scale)
        samples["tr_b2"] = tr_w2 + np.sum(Z * (B2Z - W2Z), axis=0)
    out: dict = {key: float(np.mean(v)) for key, v in samples.items()}
    out["relative_se"] = {
        key: float(np.std(v, ddof=1) / math.sqrt(p) / max(abs(np.mean(v)), np.finfo(float).tiny))
        for key, v in samples.items()
    }
    out["method"] = (
        f"Hutchinson estimates ({p} Rademacher probes, seed {PROBE_SEED + 1}) with exact control "
        "variates, (I - theta W)^-1 by " + ("conjugate gradients" if scale is not None else "GMRES")
    )
    if extra is not None:
        out["b_extra"] = BU[:, p:]
    return out


def trace_probes(n: int) -> int:
    """Probes of the Hutchinson traces: with the control variates their relative error is
    about 1e-3 at 8 probes and a million regions, far below what moves a standard error."""
    if n <= 50_000:
        return 32
    return 16 if n <= 250_000 else 8


def solve_shifted(W: sp.csr_array, theta: float, rhs: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """``(I - theta W)^{-1} rhs`` for an n x c block, iteratively, to :data:`SOLVE_TOL`.

    ``scale``: a positive d with ``diag(d) W`` symmetric (conjugate gradients on
    the symmetric form), or ``None`` (GMRES, column by column).
    """
    if scale is None:
        A = sp.csr_array(sp.identity(W.shape[0], format="csr") - theta * W)
        cols = []
        for j in range(rhs.shape[1]):
            x, info = spla.gmres(A, rhs[:, j], rtol=SOLVE_TOL, atol=0.0, restart=50, maxiter=SOLVE_MAXITER)
            if info != 0:
                raise EstimationError(f"the solve with (I - {theta:.6g} W) did not converge; use --method gmm")
            cols.append(x)
        return np.column_stack(cols)
    root = np.sqrt(scale)
    S = sp.csr_array((root[:, None] * W) / root[None, :])

    def apply(P: np.ndarray) -> np.ndarray:
        SP = S @ P
        SP *= -theta
        SP += P
        return SP

    return block_cg(apply, root[:, None] * rhs) / root[:, None]


def _dots(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->j", A, B)


def block_cg(apply, rhs: np.ndarray) -> np.ndarray:
    """Conjugate gradients on every column of ``rhs`` at once (``apply`` symmetric positive definite).

    In-place updates: at a million regions each n x c pass costs as much as the
    sparse product itself.
    """
    X = np.zeros_like(rhs)
    R = rhs.copy()
    P = R.copy()
    tmp = np.empty_like(rhs)
    rs = _dots(R, R)
    target = SOLVE_TOL**2 * rs
    for _ in range(SOLVE_MAXITER):
        if np.all(rs <= target):
            return X
        AP = apply(P)
        curvature = _dots(P, AP)
        alpha = np.divide(rs, curvature, out=np.zeros_like(rs), where=curvature > 0)
        X += np.multiply(P, alpha, out=tmp)
        R -= np.multiply(AP, alpha, out=AP)
        rs_new = _dots(R, R)
        beta = np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0)
        P *= beta
        P += R
        rs = rs_new
    raise EstimationError("conjugate gradients did not converge on (I - theta W); use --method gmm")
