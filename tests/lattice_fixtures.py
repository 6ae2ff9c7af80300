"""Rook and queen lattices and data simulated on them, for the large-n engine tests; rings for the extremes."""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rtsmig.dataset import Dataset

BETA = np.array([1.0, 2.0, -1.0])


def ring(n: int) -> sp.csr_array:
    """Binary ring contiguity: every row sums to 2, so 2 is exactly its largest eigenvalue."""
    i = np.arange(n)
    return sp.csr_array((np.ones(2 * n), (np.r_[i, i], np.r_[(i + 1) % n, (i - 1) % n])), shape=(n, n))


def directed_ring(n: int, shortcut: int, seed: int) -> sp.csr_array:
    """A one-way ring plus a shortcut with uneven positive weights: not similar to a symmetric matrix,
    no constant row sums, so :func:`eigen_extremes` takes the Arnoldi path (n > 100)."""
    i = np.arange(n)
    values = np.random.default_rng(seed).uniform(0.5, 1.5, 2 * n)
    return sp.csr_array((values, (np.r_[i, i], np.r_[(i + 1) % n, (i + shortcut) % n])), shape=(n, n))


@cache
def lattice(side: int, queen: bool = False) -> sp.csr_array:
    """Row-standardised rook (or queen) contiguity of a side x side grid, rows in row-major order."""
    cells = np.arange(side * side).reshape(side, side)
    pairs = [(cells[:, :-1], cells[:, 1:]), (cells[:-1, :], cells[1:, :])]
    if queen:
        pairs += [(cells[:-1, :-1], cells[1:, 1:]), (cells[:-1, 1:], cells[1:, :-1])]
    heads = np.concatenate([a.ravel() for a, _ in pairs] + [b.ravel() for _, b in pairs])
    tails = np.concatenate([b.ravel() for _, b in pairs] + [a.ravel() for a, _ in pairs])
    n = side * side
    C = sp.csr_array((np.ones(heads.size), (heads, tails)), shape=(n, n))
    return sp.csr_array(C / C.sum(axis=1)[:, None])


@cache
def simulated(side: int, model: str, param: float, seed: int = 7) -> Dataset:
    """y from a lag (``model="lag"``) or error process on the rook lattice, x standard normal."""
    W = lattice(side)
    n = W.shape[0]
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    A = sp.csc_matrix(sp.identity(n) - param * W)
    eps = rng.standard_normal(n)
    y = spla.spsolve(A, X @ BETA + eps) if model == "lag" else X @ BETA + spla.spsolve(A, eps)
    return Dataset(tuple(f"r{i}" for i in range(n)), y, X, "y", ("(Intercept)", "x1", "x2"), W)
