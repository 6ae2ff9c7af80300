"""The approximate log-determinant engines stay within the error bounds they report.

Exact values come from sparse LU (log-determinant) and central differences of
it (derivative), on rook and queen lattices up to n = 4,900.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from lattice_fixtures import lattice

from rtsmig.models.logdet import CholeskyLogDet, EigenLogDet, LULogDet
from rtsmig.models.logdet_approx import ChebyshevLogDet, MCLogDet
from rtsmig.models.moments import ProbeMoments, ellipse_bound, exact_power_traces

RHOS = (-0.8, -0.3, 0.2, 0.5, 0.8, 0.95)
LATTICES = [(20, False), (50, False), (70, False), (40, True)]


def exact_derivative(lu: LULogDet, rho: float, h: float = 1e-5) -> float:
    return (lu(rho + h) - lu(rho - h)) / (2.0 * h)


@pytest.fixture(scope="module", params=LATTICES, ids=lambda p: f"{'queen' if p[1] else 'rook'}{p[0] ** 2}")
def engines(request):
    W = lattice(*request.param)
    return LULogDet(W), ChebyshevLogDet(W), MCLogDet(W)


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("which", [1, 2], ids=["chebyshev", "mc"])
def test_log_determinant_within_reported_bound(engines, which, rho):
    lu, approx = engines[0], engines[which]
    approx.refine(rho)
    exact = lu(rho)
    assert abs(approx(rho) - exact) <= approx.error_bound(0, rho), (approx.name, rho, approx(rho), exact)
    slope = exact_derivative(lu, rho)
    # The central difference itself is good to ~1e-6 relative; allow that on top of the bound.
    assert abs(approx.derivative(rho) - slope) <= approx.error_bound(1, rho) + 1e-6 * abs(slope)


@pytest.mark.parametrize("which", [1, 2], ids=["chebyshev", "mc"])
def test_bounds_are_not_vacuous(engines, which):
    """A bound that holds because it is huge would prove nothing: at rho = 0.5 it is a small
    fraction of the log-determinant's size."""
    lu, approx = engines[0], engines[which]
    approx.refine(0.5)
    assert approx.error_bound(0, 0.5) < 0.01 * abs(lu(0.5))


def test_truncation_bound_holds_for_the_interpolant_itself():
    """Chebyshev interpolant of log(1 - a x) on [-1, 1] against the function, on a fine grid."""
    from numpy.polynomial import chebyshev as C

    for a in (0.3, 0.8, -0.9):
        for degree in (10, 20, 40):
            coef = C.chebinterpolate(lambda x, a=a: np.log(1.0 - a * x), degree)
            x = np.linspace(-1.0, 1.0, 4001)
            err = np.max(np.abs(C.chebval(x, coef) - np.log(1.0 - a * x)))
            bound = ellipse_bound(lambda z, a=a: np.log(1.0 - a * z), 1.0 / a, degree)
            assert err <= bound + 1e-14, (a, degree, err, bound)  # 1e-14: rounding of the evaluation
            assert bound < 1e3 * max(err, 1e-15)  # and not absurdly loose


def test_exact_low_order_moments():
    W = lattice(12, queen=True)
    dense = W.toarray()
    powers = [np.trace(np.linalg.matrix_power(dense, j)) / W.shape[0] for j in range(5)]
    np.testing.assert_allclose(exact_power_traces(W, 4), powers, rtol=1e-12, atol=1e-15)
    moments = ProbeMoments(W, "chebyshev", probes=4, exact_order=4)
    # T_3(x) = 4x^3 - 3x and T_4(x) = 8x^4 - 8x^2 + 1 with W scaled by its row sums (1 here).
    assert math.isclose(moments.exact[3], 4 * powers[3] - 3 * powers[1], abs_tol=1e-12)
    assert math.isclose(moments.exact[4], 8 * powers[4] - 8 * powers[2] + 1, abs_tol=1e-12)


def test_stochastic_moments_are_unbiased_for_many_probes():
    """With exact moments removed, the estimate of tr T_k(W)/n over 400 probes is within
    4 standard errors of the truth (from the eigenvalues)."""
    W = lattice(15)
    omega = EigenLogDet(W).eigenvalues
    moments = ProbeMoments(W, "chebyshev", probes=400, exact_order=0)
    est = moments.per_probe(8)
    for k in range(1, 9):
        truth = float(np.mean(np.cos(k * np.arccos(np.clip(omega, -1, 1)))))
        se = np.std(est[:, k], ddof=1) / math.sqrt(est.shape[0])
        assert abs(est[:, k].mean() - truth) <= 4 * se + 1e-12, k


def test_engines_are_deterministic():
    W = lattice(30)
    a, b = ChebyshevLogDet(W), ChebyshevLogDet(W)
    assert a(0.4) == b(0.4) and a.derivative(0.4) == b.derivative(0.4)


@pytest.mark.parametrize("rho", [-0.9, -0.2, 0.6, 0.97])
def test_cholesky_equals_lu(rho):
    W = lattice(40, queen=True)
    assert math.isclose(CholeskyLogDet(W)(rho), LULogDet(W)(rho), rel_tol=1e-11, abs_tol=1e-9)


def test_cholesky_bounds_come_from_w_not_its_symmetric_form():
    W = lattice(10)  # row sums 1, but the symmetric form's rows do not sum to 1
    np.testing.assert_allclose(CholeskyLogDet(W).bounds, (-1.0, 1.0), rtol=1e-14)


def test_degree_rises_with_rho():
    engine = ChebyshevLogDet(lattice(30))
    engine.refine(0.3)
    low = engine.degree
    engine.refine(0.95)
    assert engine.degree > low
    assert max(engine.truncation(k, 0.95) for k in (0, 1, 2)) <= 1e-10


def test_mc_engine_accepts_a_w_not_similar_to_symmetric():
    W = lattice(20).tolil()
    W[0, 1:4] = 1.0 / 3.0  # row 0 points at a region that does not point back
    W = sp.csr_array(W)
    lu, mc = LULogDet(W), MCLogDet(W)
    mc.refine(0.5)
    assert abs(mc(0.5) - lu(0.5)) <= mc.error_bound(0, 0.5)


@pytest.mark.parametrize("engine_class", [ChebyshevLogDet, MCLogDet])
def test_an_empty_w_is_refused(engine_class):
    from rtsmig.errors import EstimationError

    with pytest.raises(EstimationError, match="empty"):
        engine_class(sp.csr_array((5, 5)))


@pytest.mark.parametrize("a, degree", [(0.5, 5), (0.9, 10), (0.95, 20), (-0.8, 8)])
def test_truncation_bound_is_trefethens_theorem_8_2(a, degree):
    """ellipse_bound computes 4 M R^-m / (R - 1), minimised over R in (1, R*) (kills M8).

    The bound is 20 times or more above the interpolant's true error for these f, so
    the property test above cannot see its constant; this one recomputes the theorem's
    bound on finer grids (2,000 radii, 4,096 points on each ellipse). A coarser grid can
    only find a larger minimum, never a smaller one.
    """
    s = 1.0 / a
    r_star = abs(s) + math.sqrt(s * s - 1.0)
    theta = np.linspace(0.0, 2.0 * np.pi, 4096, endpoint=False)
    best = np.inf
    for R in 1.0 + (r_star - 1.0) * np.linspace(0.001, 0.999, 2000):
        z = 0.5 * (R * np.exp(1j * theta) + np.exp(-1j * theta) / R)
        M = np.max(np.abs(np.log(1.0 - a * z)))
        best = min(best, 4.0 * M * R ** (-degree) / (R - 1.0))
    ours = ellipse_bound(lambda z: np.log(1.0 - a * z), s, degree)
    assert best * (1 - 1e-9) <= ours <= 1.5 * best
