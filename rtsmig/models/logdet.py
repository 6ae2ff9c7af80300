"""Log-determinant engines: ``log|det(I - rho W)|`` behind one small interface.

The ML estimators only ever ask an engine for its value at ``rho``, for the
parameter space ``bounds`` (from the extreme eigenvalues of W, ``extremes``, see
:mod:`rtsmig.models.extremes`) and (when cheap) for the derivative. This module has
the exact engines; :mod:`rtsmig.models.logdet_approx` the approximations for
large n, and :mod:`rtsmig.models.logdet_engines` the registry and the choice.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rtsmig.errors import EstimationError
from rtsmig.models.extremes import EigenExtremes, dense_extremes, eigen_extremes

# Above this many regions the eigenvalues of a dense n x n W are too slow to compute.
EIGEN_MAX_N = 4000
# Up to this many regions dense O(n^3) work (eigenvalues, an inverse) costs well under a
# second, so traces and impacts are exact there whatever the engine; above it they are
# exact only with the eigen engine (which has paid for the dense work already).
DENSE_MAX_N = 1000
# Imaginary parts below this are rounding noise of a W similar to a symmetric matrix.
_IMAG_TOL = 1e-10
# Relative asymmetry of D W up to which it counts as symmetric (rounding of the weights).
_SYMMETRY_TOL = 1e-12


class LogDet(Protocol):
    """What an ML estimator needs from a log-determinant engine."""

    name: str
    bounds: tuple[float, float]
    extremes: EigenExtremes

    def __call__(self, rho: float) -> float:
        """``log|det(I - rho W)|``."""

    def derivative(self, rho: float) -> float | None:
        """``d/drho log|det(I - rho W)| = -tr(W (I - rho W)^-1)``, or ``None`` if costly."""


class EigenLogDet:
    r"""Exact log-determinant from the eigenvalues of W, computed once.

    Notes
    -----
    With eigenvalues :math:`\omega_i` of W,

    .. math:: \log|I - \rho W| = \sum_i \log|1 - \rho\,\omega_i|,
       \qquad \rho \in (1/\omega_{min}, 1/\omega_{max}),

    using the real parts of the eigenvalues for the bounds. The eigenvalues come
    from :func:`eigenvalues`, computed once.
    """

    name = "eigen"

    def __init__(self, W: sp.sparray) -> None:
        values = eigenvalues(W)
        self.eigenvalues = values
        real = np.real(values)
        lo, hi = real.min(), real.max()
        if not (lo < 0 < hi):
            raise EstimationError(
                "the weights matrix has no negative or no positive eigenvalue, so the "
                "spatial parameter space is undefined; check that W is not empty"
            )
        self.bounds = (1.0 / lo, 1.0 / hi)
        self.extremes = dense_extremes(values)

    def __call__(self, rho: float) -> float:
        return float(np.sum(np.log(np.abs(1.0 - rho * self.eigenvalues))))

    def derivative(self, rho: float) -> float:
        return -float(np.real(np.sum(self.eigenvalues / (1.0 - rho * self.eigenvalues))))

    def trace_inverse(self, rho: float) -> float:
        """``tr((I - rho W)^-1) = sum_i 1 / (1 - rho w_i)``."""
        return float(np.real(np.sum(1.0 / (1.0 - rho * self.eigenvalues))))


def eigenvalues(W: sp.sparray) -> np.ndarray:
    r"""All eigenvalues of W: real where W is similar to a symmetric matrix, else complex.

    Notes
    -----
    A W row-standardised from a symmetric binary matrix C (contiguity,
    symmetrised k-nearest) is :math:`W = D^{-1}C`, similar to the symmetric
    :math:`S = D^{-1/2} C D^{-1/2}`, whose eigenvalues ``eigvalsh`` finds several
    times faster than ``eigvals`` finds those of W. D is guessed
    (:math:`d_i = 1/\max_j w_{ij}`, exact for binary C) and used only if
    :math:`DW` is verified symmetric; otherwise ``scipy.linalg.eigvals`` of W,
    keeping imaginary parts only if some exceed rounding noise, so that the
    modulus :math:`|1 - \rho\omega_i|` stays exact.
    """
    scale = symmetrising_scale(sp.csr_array(W))
    if scale is not None:
        root = np.sqrt(scale)
        S = (root[:, None] * W.toarray()) / root[None, :]
        return la.eigvalsh((S + S.T) / 2.0)
    values = la.eigvals(W.toarray())
    if np.max(np.abs(values.imag), initial=0.0) <= _IMAG_TOL:
        values = values.real
    return values


def symmetrising_scale(W: sp.csr_array) -> np.ndarray | None:
    """Positive d with ``diag(d) W`` symmetric (checked to rounding), or ``None``."""
    if W.nnz == 0 or W.data.min() <= 0:
        return None
    scale_tol = _SYMMETRY_TOL * float(np.abs(W.data).max())
    if float(abs(W - W.T).max()) <= scale_tol:
        return np.ones(W.shape[0])
    row_max = W.max(axis=1).toarray().ravel()
    d = 1.0 / np.where(row_max > 0, row_max, 1.0)  # an island's row is zero: any d will do
    C = sp.csr_array(W * d[:, None])
    if float(abs(C - C.T).max()) <= _SYMMETRY_TOL * float(C.data.max()):
        return d
    return None


class LULogDet:
    r"""Exact log-determinant from a sparse LU factorisation of ``I - rho W``.

    Notes
    -----
    With :math:`P_r (I - \rho W) P_c = L U` and a unit-diagonal L,

    .. math:: \log|I - \rho W| = \sum_i \log|U_{ii}|.

    The parameter space is :math:`(1/\omega_{min}, 1/\omega_{max})` from the
    extreme eigenvalues of :func:`~rtsmig.models.extremes.eigen_extremes`
    (:math:`(-1, 1)` for a row-standardised W), inside which ``I - rho W`` is
    non-singular.
    """

    name = "lu"

    def __init__(self, W: sp.sparray, scale: np.ndarray | None = None) -> None:
        self._W = sp.csc_array(W)
        self._I = sp.identity(W.shape[0], format="csc")
        if scale is None:
            scale = symmetrising_scale(sp.csr_array(W))
        self.extremes = eigen_extremes(self._W, scale)
        self.bounds = self.extremes.bounds

    def __call__(self, rho: float) -> float:
        lu = spla.splu(sp.csc_matrix(self._I - rho * self._W))
        return float(np.sum(np.log(np.abs(lu.U.diagonal()))))

    def derivative(self, rho: float) -> None:
        # -tr(W A^-1) needs n solves; not worth it for a polishing step.
        return None


class CholeskyLogDet(LULogDet):
    r"""Exact log-determinant from a symmetric factorisation of the symmetric form of ``I - rho W``.

    Notes
    -----
    For W similar to a symmetric matrix, :math:`DW` symmetric, the matrix
    :math:`I - \rho S` with :math:`S = D^{1/2}WD^{-1/2}` is symmetric, has the
    same determinant as :math:`I - \rho W`, and is positive definite inside the
    parameter space. It is factorised as :math:`LDL'` (SuperLU in symmetric
    mode: a fill-reducing ordering of :math:`A + A'`, no pivoting, so that
    :math:`U = DL'`; SciPy has no sparse Cholesky, and this is the same
    factorisation up to the square roots), and
    :math:`\log|I - \rho W| = \sum_i \log|U_{ii}|`. A pivot that is not
    positive means rho is outside the parameter space.
    """

    name = "cholesky"

    def __init__(self, W: sp.sparray) -> None:
        scale = symmetrising_scale(sp.csr_array(W))
        if scale is None:
            raise EstimationError(
                "--logdet cholesky needs a W similar to a symmetric matrix (e.g. contiguity "
                "weights, row-standardised); use --logdet lu for this W"
            )
        super().__init__(W, scale)  # the bounds: W and its symmetric form share their spectrum
        root = np.sqrt(scale)
        self._W = sp.csc_array((root[:, None] * sp.csr_array(W)) / root[None, :])

    def __call__(self, rho: float) -> float:
        lu = spla.splu(
            sp.csc_matrix(self._I - rho * self._W), permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0, options={"SymmetricMode": True},
        )
        pivots = lu.U.diagonal()
        if np.any(pivots <= 0):
            return -np.inf
        return float(np.sum(np.log(pivots)))
