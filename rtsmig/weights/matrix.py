"""W as a sparse matrix aligned to the data's rows by region id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from scipy import sparse

from rtsmig.weights.edges import Edges

if TYPE_CHECKING:  # importing libpysal costs seconds; callers that hold a Graph have it already
    from libpysal.graph import Graph


def aligned_matrix(graph: Graph, ids: Sequence[str]) -> sparse.csr_array:
    """W with rows and columns in the order of ``ids`` (the data's order).

    Parameters
    ----------
    graph : libpysal.graph.Graph
        Weights keyed by region id (already transformed).
    ids : sequence of str
        The data's region ids, unique.

    Returns
    -------
    scipy.sparse.csr_array
        ``W[i, j]`` is the weight of region ``ids[j]`` for region ``ids[i]``.

    Raises
    ------
    WeightsError
        The data and the weights do not hold the same set of ids.
    InputError
        ``ids`` has duplicates.

    Examples
    --------
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_dicts({"a": ["b"], "b": ["a", "c"], "c": ["b"]})
    >>> aligned_matrix(g, ["c", "b", "a"]).toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    """
    return Edges.from_graph(graph).aligned(ids)
