"""Write the data that binary.R fits with R spatialreg on binary (unstandardised) queen weights.

Run from the repository root: ``python tests/reference/binary/make_data.py``.

``queen.gal`` is rtsmig's queen contiguity of the 2,875 China counties, made by

    rtsmig weights build shapefiles/china_counties/china_counties.shp --id adcode \\
        --kind queen --islands attach --transform b -q -o tests/reference/binary/queen.gal

(the seven islands attached to their nearest county, both ways, so C is symmetric;
the sidecar queen.gal.json it also writes is not kept). With C that 0/1 matrix,

- ``y_lag   = (I - 0.1 C)^-1 (X b + e)``,
- ``y_error = X b + (I - 0.1 C)^-1 u``,

b = (1, 2, -1), X = [1, x1, x2], and x1, x2, e, u standard normal (numpy
``default_rng(14)``). C's eigenvalues lie in [-3.93, 6.86], so the parameter space
is about (-0.254, 0.146), and 0.1 lies well outside the (-0.05, 0.05) its largest
row sum (20) would give: an engine that takes its interval from row sums cannot
reach the estimate. Every value is written with 10 significant digits; y is
computed from the rounded x, and R and rtsmig both read the rounded file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

HERE = Path(__file__).parent
PARAM = 0.1
BETA = np.array([1.0, 2.0, -1.0])
SEED = 14


def read_gal(path: Path) -> tuple[list[str], sp.csc_matrix]:
    """Ids in file order and the 0/1 neighbour matrix of a GAL file."""
    body = [line.split() for line in path.read_text().splitlines()[1:] if line.strip()]
    ids = [head[0] for head in body[0::2]]
    position = {region: i for i, region in enumerate(ids)}
    rows, cols = [], []
    for head, nbrs in zip(body[0::2], body[1::2]):
        rows += [position[head[0]]] * len(nbrs)
        cols += [position[j] for j in nbrs]
    n = len(ids)
    return ids, sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def rounded(values: np.ndarray) -> np.ndarray:
    return np.array([float(f"{v:.10g}") for v in values])


def main() -> None:
    ids, C = read_gal(HERE / "queen.gal")
    n = len(ids)
    rng = np.random.default_rng(SEED)
    x1, x2 = rounded(rng.standard_normal(n)), rounded(rng.standard_normal(n))
    e, u = rng.standard_normal(n), rng.standard_normal(n)
    X = np.column_stack([np.ones(n), x1, x2])
    A = sp.identity(n, format="csc") - PARAM * C
    y_lag = rounded(spla.spsolve(A, X @ BETA + e))
    y_error = rounded(X @ BETA + spla.spsolve(A, u))
    rows = ["id,y_lag,y_error,x1,x2"]
    rows += [f"{i},{a:.10g},{b:.10g},{c:.10g},{d:.10g}" for i, a, b, c, d in zip(ids, y_lag, y_error, x1, x2)]
    (HERE / "data.csv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
