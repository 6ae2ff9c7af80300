"""Columbus data, queen weights and R reference values for the models tests.

W is built here from the bundled GAL file (row-standardised, rows in the CSV's
id order) rather than through rtsmig.weights, so the estimator tests do not
depend on the weights layer.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from rtsmig.dataset import Dataset
from rtsmig.models.spec import INTERCEPT, FitSpec

REFERENCE = Path(__file__).parent / "reference"
Y = "CRIME"
X = ("INC", "HOVAL")
WEIGHTS_LABEL = "queen contiguity (columbus_queen.gal), row-standardised"


@cache
def columbus_frame() -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / "columbus.csv", dtype={"id": str})
    return frame.set_index("id")


def read_gal(path: Path) -> dict[str, list[str]]:
    """Neighbour lists of a GAL file: a header line, then ``id count`` / neighbours pairs."""
    lines = path.read_text().split("\n")
    neighbours: dict[str, list[str]] = {}
    body = [line.split() for line in lines[1:] if line.strip()]
    for head, nbrs in zip(body[0::2], body[1::2]):
        assert int(head[1]) == len(nbrs)
        neighbours[head[0]] = nbrs
    return neighbours


@cache
def columbus_w() -> sp.csr_array:
    """Row-standardised queen W with rows and columns in the CSV's id order."""
    ids = list(columbus_frame().index)
    position = {region: i for i, region in enumerate(ids)}
    neighbours = read_gal(REFERENCE / "columbus_queen.gal")
    rows, cols = [], []
    for region, nbrs in neighbours.items():
        rows += [position[region]] * len(nbrs)
        cols += [position[j] for j in nbrs]
    binary = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
    return sp.csr_array(binary / binary.sum(axis=1)[:, None])


def columbus_dataset(x: tuple[str, ...] = X, with_w: bool = True, extra: dict | None = None) -> Dataset:
    """CRIME on ``x``; ``extra`` adds derived columns (name -> array) after them."""
    frame = columbus_frame()
    columns = [np.ones(len(frame))] + [frame[c].to_numpy(float) for c in x]
    names = [INTERCEPT, *x]
    for name, values in (extra or {}).items():
        columns.append(np.asarray(values, dtype=float))
        names.append(name)
    return Dataset(
        ids=tuple(frame.index),
        y=frame[Y].to_numpy(float),
        X=np.column_stack(columns),
        y_name=Y,
        x_names=tuple(names),
        W=columbus_w() if with_w else None,
        weights_label=WEIGHTS_LABEL if with_w else "",
    )


def spec(model: str = "ols", method: str = "ml", **kwargs) -> FitSpec:
    return FitSpec(model=model, method=method, y=Y, x=X, **kwargs)


@cache
def reference() -> dict:
    """The ``models`` block of tests/reference/columbus.json (R spatialreg / spdep)."""
    return json.loads((REFERENCE / "columbus.json").read_text())["models"]


def libpysal_w():
    """The same weights as a libpysal W, for spreg."""
    import libpysal

    ids = list(columbus_frame().index)
    neighbours = read_gal(REFERENCE / "columbus_queen.gal")
    w = libpysal.weights.W({i: neighbours[i] for i in ids}, id_order=ids, silence_warnings=True)
    w.transform = "r"
    return w


def rel_err(actual: float, expected: float) -> float:
    return abs(actual - expected) / abs(expected)


def assert_exact_sparse_fit_matches_r(result, ref: dict, term: str, rtol: float) -> None:
    """An lu/cholesky fit against R's eigen fit: estimates and log-likelihood to ``rtol``,
    SEs (from stochastic traces) within five times their reported relative error."""
    got = {c.term: c for c in result.coefficients}
    for name, value in [*ref["coef"].items(), (term, ref[term])]:
        assert rel_err(got[name].estimate, value) <= rtol, name
    assert rel_err(result.fit["loglik"], ref["loglik"]) <= rtol
    worst = max(result.meta["traces_relative_se"].values())
    for name, value in [*ref["se"].items(), (term, ref[f"{term}_se"])]:
        assert rel_err(got[name].std_error, value) <= 5 * worst + 1e-9, (name, worst)


def exact_lag_score(dataset, omega: np.ndarray):
    r"""The concentrated lag log-likelihood's score from W's eigenvalues ``omega``, computed independently:
    :math:`\ell_c'(\rho) = n e_1'(e_0 - \rho e_1)/S(\rho) - \sum_i \omega_i/(1 - \rho\omega_i)`."""
    y, X, n = dataset.y, dataset.X, dataset.n
    Wy = dataset.W @ y
    b = np.linalg.lstsq(X, np.column_stack([y, Wy]), rcond=None)[0]
    e0, e1 = y - X @ b[:, 0], Wy - X @ b[:, 1]

    def score(rho: float) -> float:
        e = e0 - rho * e1
        return n * float(e1 @ e) / float(e @ e) - float(np.sum(omega / (1.0 - rho * omega)))

    return score
