"""Edge cases of the weights arrays (:class:`rtsmig.weights.edges.Edges`) checked against dense matrices."""

from __future__ import annotations

import numpy as np
import pytest

from rtsmig.weights.edges import Edges

IDS = ["a", "b", "c", "d"]
# a-b, a-c, b-c, c-d both ways, distinct weights so that a misplaced link shows.
LINKS = [(0, 1, 1.0), (1, 0, 2.0), (0, 2, 3.0), (2, 0, 4.0), (1, 2, 5.0), (2, 1, 6.0), (2, 3, 7.0), (3, 2, 8.0)]


def _edges() -> Edges:
    heads, tails, weights = zip(*LINKS)
    return Edges.from_positions(IDS, heads, tails, weights)


def _dense(edges: Edges) -> np.ndarray:
    out = np.zeros((edges.n, edges.n))
    out[edges.heads, edges.tails] = edges.weights
    return out


@pytest.mark.parametrize("mask", [
    [True, False, True, True],
    np.array([1, 0, 1, 1]),  # a 0/1 array is a mask too, not positions
    [1, 0, 1, 1],
])
def test_keep_is_the_submatrix_of_the_kept_regions(mask):
    """keep(mask) is W restricted to the rows and columns where mask is true, in the same order
    (catches the mask no longer cast to bool: 0/1 would then index positions)."""
    edges = _edges()
    chosen = np.asarray(mask).astype(bool)
    kept = edges.keep(mask)
    assert kept.ids.tolist() == [i for i, k in zip(IDS, chosen, strict=True) if k]
    np.testing.assert_array_equal(_dense(kept), _dense(edges)[np.ix_(chosen, chosen)])
    assert kept.transformation == "O"
    np.testing.assert_array_equal(_dense(edges.subset(["a", "c", "d"])), _dense(kept))
