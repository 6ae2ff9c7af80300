"""Write the 50 x 50 rook-lattice data sets that lattice.R fits with R spatialreg.

Run from the repository root: ``python tests/reference/lattice/make_data.py``.
lag.csv: y = (I - 0.5 W)^-1 (X b + e); error.csv: y = X b + (I - 0.6 W)^-1 e;
b = (1, 2, -1), x1, x2, e standard normal (numpy default_rng seeds 11 and 12).
rook.gal lists the binary neighbours (ids r0..r2499, row-major).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

SIDE = 50
HERE = Path(__file__).parent


def rook(side: int) -> sp.csr_array:
    cells = np.arange(side * side).reshape(side, side)
    pairs = [(cells[:, :-1], cells[:, 1:]), (cells[:-1, :], cells[1:, :])]
    heads = np.concatenate([a.ravel() for a, _ in pairs] + [b.ravel() for _, b in pairs])
    tails = np.concatenate([b.ravel() for _, b in pairs] + [a.ravel() for a, _ in pairs])
    n = side * side
    return sp.csr_array((np.ones(heads.size), (heads, tails)), shape=(n, n))


def main() -> None:
    C = rook(SIDE)
    n = C.shape[0]
    W = sp.csc_matrix(C / C.sum(axis=1)[:, None])
    ids = [f"r{i}" for i in range(n)]
    lines = [str(n)]
    for i in range(n):
        nbrs = C.indices[C.indptr[i] : C.indptr[i + 1]]
        lines += [f"{ids[i]} {len(nbrs)}", " ".join(ids[j] for j in sorted(nbrs))]
    (HERE / "rook.gal").write_text("\n".join(lines) + "\n")
    beta = np.array([1.0, 2.0, -1.0])
    for name, seed, param in (("lag", 11, 0.5), ("error", 12, 0.6)):
        rng = np.random.default_rng(seed)
        X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
        e = rng.standard_normal(n)
        A = sp.identity(n, format="csc") - param * W
        y = spla.spsolve(A, X @ beta + e) if name == "lag" else X @ beta + spla.spsolve(A, e)
        rows = ["id,y,x1,x2"] + [f"{i},{a!r},{b!r},{c!r}" for i, a, b, c in zip(ids, y.tolist(), X[:, 1].tolist(), X[:, 2].tolist())]
        (HERE / f"{name}.csv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
