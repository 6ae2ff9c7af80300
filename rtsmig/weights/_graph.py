"""Move between a libpysal Graph and position arrays without losing the id order.

The builders work on integer positions (row ``i`` of the regions); these helpers
turn ``(heads, tails, weights)`` position arrays into a Graph whose ids follow the
regions' order, and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:  # importing libpysal costs seconds; only the functions that build a Graph do
    from libpysal.graph import Graph


def id_array(ids: Sequence[str]) -> np.ndarray:
    """Ids as an object array of Python ``str`` (the dtype the io layer uses)."""
    return np.array([str(i) for i in ids], dtype=object)


def from_positions(
    ids: Sequence[str],
    heads: np.ndarray,
    tails: np.ndarray,
    weights: np.ndarray,
    transformation: str = "O",
) -> Graph:
    """A Graph from edges given as positions into ``ids``.

    Every id appears in the result in the order of ``ids``: regions without an
    edge get libpysal's isolate marker, a self-loop of weight 0.
    """
    from libpysal.graph import Graph

    ids = id_array(ids)
    heads = np.asarray(heads, dtype=np.intp)
    tails = np.asarray(tails, dtype=np.intp)
    weights = np.asarray(weights, dtype=float)
    lonely = np.setdiff1d(np.arange(len(ids)), heads)
    heads = np.concatenate([heads, lonely])
    tails = np.concatenate([tails, lonely])
    weights = np.concatenate([weights, np.zeros(len(lonely))])
    # Graph orders its ids by first appearance of each focal id, so sort by position.
    order = np.lexsort((tails, heads))
    return Graph.from_arrays(ids[heads[order]], ids[tails[order]], weights[order], transformation=transformation)


def edge_positions(graph: Graph) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, heads, tails, weights)`` of the graph's non-zero weights."""
    ids = graph.unique_ids
    focal, neighbor = graph.index_pairs
    weights = graph.adjacency.to_numpy(dtype=float)
    keep = weights != 0
    heads = ids.get_indexer(focal[keep])
    tails = ids.get_indexer(neighbor[keep])
    return ids, heads, tails, weights[keep]


def to_csr(graph: Graph) -> sparse.csr_array:
    """W as CSR, rows and columns in the graph's id order, no stored zeros."""
    ids, heads, tails, weights = edge_positions(graph)
    n = len(ids)
    return sparse.csr_array((weights, (heads, tails)), shape=(n, n))


def reorder(graph: Graph, ids: Sequence[str]) -> Graph:
    """The same graph with its ids in the order of ``ids`` (which holds the same set)."""
    if list(graph.unique_ids) == list(ids):
        return graph
    old_ids, heads, tails, weights = edge_positions(graph)
    target = pd.Index(id_array(ids))
    pos = target.get_indexer(old_ids)
    return from_positions(target, pos[heads], pos[tails], weights, graph.transformation)
