"""W as a sparse matrix aligned to the data's rows by region id."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from libpysal.graph import Graph
from scipy import sparse

from rtsmig.errors import InputError, WeightsError, first_few
from rtsmig.weights._graph import edge_positions


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
    wanted = pd.Index([str(i) for i in ids], dtype=object)
    if wanted.has_duplicates:
        dup = wanted[wanted.duplicated()].unique()
        raise InputError(f"the data has duplicate region ids {first_few(dup)}; ids must be unique")
    have, heads, tails, weights = edge_positions(graph)
    have = pd.Index([str(i) for i in have], dtype=object)
    _check_same_ids(wanted, have)
    pos = wanted.get_indexer(have)
    n = len(wanted)
    return sparse.csr_array((weights, (pos[heads], pos[tails])), shape=(n, n))


def _check_same_ids(data_ids: pd.Index, weights_ids: pd.Index) -> None:
    only_data = data_ids[~data_ids.isin(weights_ids)]
    only_weights = weights_ids[~weights_ids.isin(data_ids)]
    if len(only_data) == 0 and len(only_weights) == 0:
        return
    parts = [
        f"{len(only_data)} ids of the data are not in the weights ({first_few(only_data) or 'none'})",
        f"{len(only_weights)} ids of the weights are not in the data ({first_few(only_weights) or 'none'})",
    ]
    raise WeightsError(
        "; ".join(parts) + "; build the weights from the same layer and --id column as the data "
        "(weights built with --islands drop lack their islands: remove those rows from the data)"
    )
