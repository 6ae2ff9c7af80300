"""Move between a libpysal Graph and position arrays without losing the id order.

The builders work on integer positions (row ``i`` of the regions) and on
:class:`~rtsmig.weights.edges.Edges`; these helpers serve the callers that still
want a libpysal Graph (tests, the other commands), turning ``(heads, tails,
weights)`` position arrays into a Graph whose ids follow the regions' order, and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rtsmig.weights.edges import str_ids

if TYPE_CHECKING:  # importing libpysal costs seconds; only the functions that build a Graph do
    from libpysal.graph import Graph


def id_array(ids: Sequence[str]) -> np.ndarray:
    """Ids as an object array of Python ``str`` (the dtype the io layer uses)."""
    return str_ids(ids)


def from_positions(
    ids: Sequence[str],
    heads: np.ndarray,
    tails: np.ndarray,
    weights: np.ndarray,
    transformation: str = "O",
) -> Graph:
    """A Graph from edges given as positions into ``ids``.

    Every id appears in the result in the order of ``ids``: regions without an
    edge get libpysal's isolate marker, a self-loop of weight 0. Unlike
    :meth:`Edges.from_positions <rtsmig.weights.edges.Edges.from_positions>`,
    repeated links are passed on to libpysal as they are.
    """
    from libpysal.graph import Graph

    ids = id_array(ids)
    heads = np.asarray(heads, dtype=np.intp)
    tails = np.asarray(tails, dtype=np.intp)
    weights = np.asarray(weights, dtype=float)
    lonely = np.flatnonzero(np.bincount(heads, minlength=len(ids)) == 0)
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
