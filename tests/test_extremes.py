"""The extreme eigenvalues behind every engine's parameter space, on the W where the short cuts apply.

Each case is checked against dense numpy eigenvalues: the reported interval must
contain every eigenvalue and (where the method is exact) equal the extremes.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from lattice_fixtures import ring

from rtsmig.models import extremes
from rtsmig.models.extremes import eigen_extremes


def contains(found, values: np.ndarray) -> bool:
    real = np.real(values)
    return found.lo <= real.min() + 1e-12 and real.max() <= found.hi + 1e-12


@pytest.mark.parametrize("n", [20, 301])  # dense below extremes.DENSE_EXTREMES_MAX_N, Lanczos above
def test_constant_row_sums_give_the_largest_eigenvalue_exactly(n):
    W = ring(n)
    found = eigen_extremes(W, np.ones(n))
    values = np.linalg.eigvalsh(W.toarray())
    assert found.hi == 2.0 and found.radius == 2.0
    assert "constant row sums" in found.method
    assert contains(found, values)
    assert found.lo == pytest.approx(values.min(), abs=1e-3)


def test_a_w_with_no_negative_eigenvalue_is_bounded_by_its_row_sums_there():
    """A directed chain (weights 2, so not row-standardised) is nilpotent: every eigenvalue is 0,
    and the largest row sum bounds both ends."""
    n = 10
    W = sp.csr_array((np.full(n - 1, 2.0), (np.arange(1, n), np.arange(n - 1))), shape=(n, n))
    found = eigen_extremes(W, None)
    assert (found.lo, found.hi) == (-2.0, 2.0)
    assert "no eigenvalue of one sign" in found.method


def test_lanczos_stopped_at_its_step_limit_says_so(monkeypatch):
    monkeypatch.setattr(extremes, "LANCZOS_MAX_STEPS", 3)
    monkeypatch.setattr(extremes, "CHECK_EVERY", 1000)
    n = 301
    W = sp.csr_array(ring(n) + sp.diags(np.linspace(0.0, 0.5, n)))  # not constant row sums
    found = eigen_extremes(W, np.ones(n))
    assert "the limit, before the tolerance was reached" in found.method


def test_arnoldi_with_constant_row_sums_takes_the_top_exactly():
    """A W not similar to a symmetric matrix (a one-way ring plus a shortcut) with rows summing to 1."""
    n = 301
    i = np.arange(n)
    W = sp.csr_array((np.full(2 * n, 0.5), (np.r_[i, i], np.r_[(i + 1) % n, (i + 7) % n])), shape=(n, n))
    found = eigen_extremes(2.0 * W, None)  # rows sum to 2: not row-standardised, top exact
    values = np.linalg.eigvals(2.0 * W.toarray())
    assert found.hi == 2.0 and "constant row sums" in found.method
    # Widening a non-normal W's Arnoldi end by its residual is no rigorous bound: here it stops
    # at -1.976 where the smallest real part is -1.997 (no real eigenvalue lies there, so no
    # rho in the gap makes I - rho W singular). The 2% is what this case shows, not a guarantee.
    assert found.lo == pytest.approx(np.real(values).min(), rel=0.02)
