"""Every guard of the numerical core fires where it should (issue 14: each raise reached and tested).

The ValueErrors are programming errors of a caller inside rtsmig (the CLI and the
library's fit() never pass such arguments); the EstimationErrors reach users.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from models_fixtures import columbus_dataset

from rtsmig.errors import EstimationError
from rtsmig.models import FitSpec, fit
from rtsmig.models import ml as ml_module
from rtsmig.models.impacts import ImpactLayout, draw_estimates, spatial_impacts
from rtsmig.models.logdet_engines import make_logdet
from rtsmig.models.moments import ProbeMoments, ellipse_bound


@pytest.fixture(scope="module")
def W():
    return columbus_dataset().W


def test_impact_layout_needs_one_theta_per_beta():
    with pytest.raises(ValueError, match="2 beta indices but 1 theta indices"):
        ImpactLayout.of([1, 2], [None], 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"se": "bootstrap"}, "se must be one of"),
    ({"names": ["a", "b"]}, "2 names but 1 beta indices"),
    ({"cov": None}, "needs the covariance"),
])
def test_spatial_impacts_refuses_inconsistent_arguments(W, kwargs, message):
    args = {"names": ["INC"], "cov": np.eye(3), "se": "delta"} | kwargs
    with pytest.raises(ValueError, match=message):
        spatial_impacts(W, args["names"], np.array([1.0, 0.5, 0.3]), args["cov"], beta_index=[1], rho_index=2,
                        se=args["se"])


def test_draws_need_at_least_two():
    with pytest.raises(ValueError, match="at least 2 draws"):
        draw_estimates(np.zeros(2), np.eye(2), [0, 1], 1, seed=1)


def test_impacts_with_almost_every_draw_of_rho_outside_its_space_are_refused(W):
    """A rho whose SD dwarfs its space leaves (almost) no draw inside: use the delta method (impacts.py)."""
    with pytest.raises(EstimationError, match="of the draws of rho fell inside"):
        spatial_impacts(W, ["INC"], np.array([1.0, 0.5, 0.3]), np.diag([1.0, 1.0, 1e12]), beta_index=[1],
                        rho_index=2, se="simulate", draws=100, seed=1)


def test_a_search_that_does_not_converge_is_an_estimation_error(monkeypatch):
    class Failed:
        success, message, x = False, "maximum number of iterations", 0.0

    monkeypatch.setattr(ml_module.optimize, "minimize_scalar", lambda *a, **k: Failed())
    data = columbus_dataset()
    with pytest.raises(EstimationError, match="the search for rho did not converge: maximum number of iterations"):
        fit(FitSpec(model="lag", y=data.y_name, x=data.x_names[1:], impacts_se="none"), data)


def test_an_unknown_engine_is_named(W):
    with pytest.raises(EstimationError, match="unknown log-determinant engine 'qr'"):
        make_logdet(W, "qr")


def test_moments_know_their_bases(W):
    with pytest.raises(ValueError, match="basis must be one of"):
        ProbeMoments(sp.csr_array(W), "legendre", probes=4)


def test_log_det_at_rho_zero_has_no_truncation_error():
    """log(1 - a x) with a = 0 is 0, interpolated exactly; its singularity 1/a is at infinity."""
    assert ellipse_bound(lambda z: np.log(1.0 - 0.0 * z), np.inf, 10) == 0.0


def _sac(data):
    return fit(FitSpec(model="sac", y=data.y_name, x=data.x_names[1:], impacts_se="none"), data)


def test_a_sac_climb_that_does_not_converge_is_an_estimation_error(monkeypatch):
    from rtsmig.models import ml_sac

    monkeypatch.setattr(ml_sac, "_climb", lambda *a, **k: (np.array([np.nan, np.nan]), "ABNORMAL_TERMINATION"))
    with pytest.raises(EstimationError, match="rho and lambda did not converge: ABNORMAL_TERMINATION"):
        _sac(columbus_dataset())


def test_a_sac_search_that_stops_off_a_maximum_is_an_estimation_error(monkeypatch):
    from rtsmig.models import ml_sac

    monkeypatch.setattr(ml_sac, "_climb_and_polish", lambda *a, **k: (np.array([0.1, 0.1]), np.zeros((2, 2))))
    with pytest.raises(EstimationError, match=r"stopped at \(0.1, 0.1\), which is not a maximum"):
        _sac(columbus_dataset())


def test_an_iterative_solve_that_does_not_converge_is_an_estimation_error(monkeypatch):
    """Both solvers of the large-n traces: GMRES (W not symmetrisable) and conjugate gradients."""
    from lattice_fixtures import lattice

    from rtsmig.models import ml_traces

    W = sp.csr_array(lattice(10))
    rhs = np.ones((W.shape[0], 1))
    monkeypatch.setattr(ml_traces.spla, "gmres", lambda *a, **k: (np.zeros(W.shape[0]), 1))
    with pytest.raises(EstimationError, match=r"the solve with \(I - 0.9 W\) did not converge"):
        ml_traces.solve_shifted(W, 0.9, rhs)
    monkeypatch.setattr(ml_traces, "SOLVE_MAXITER", 1)
    with pytest.raises(EstimationError, match="conjugate gradients did not converge"):
        ml_traces.solve_shifted(W, 0.9, rhs, scale=np.ones(W.shape[0]))
