"""Weights as plain arrays: what ``rtsmig fit`` needs, without building a libpysal Graph.

A libpysal ``Graph`` keeps its links in a pandas Series under a MultiIndex of
ids; building one for a million regions takes tens of seconds, and importing
libpysal alone takes seconds. :class:`Edges` holds the same links as positions
into an id array, and ports the few operations the fit path uses (subset,
transform, alignment to the data) to numpy, giving the same numbers as libpysal
bit for bit.

Invariants (every constructor here ensures them): links are sorted by
``(head, tail)`` position, no pair appears twice, and ``ids`` holds Python
``str``. A region without links keeps its id but stores no link; libpysal's
isolate marker (a self-loop of weight 0) is added back by :meth:`Edges.to_graph`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from rtsmig.errors import InputError, WeightsError, first_few

if TYPE_CHECKING:
    from libpysal.graph import Graph

TRANSFORMS = ("r", "b", "v", "d", "o")


class RepeatedLinkError(ValueError):
    """A pair of regions is linked twice (readers turn it into an InputError naming the file)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Edges:
    """Spatial weights as arrays keyed by position into ``ids``.

    Attributes
    ----------
    ids : numpy.ndarray
        Region ids, object dtype of ``str``, unique, in the weights' order.
    heads, tails : numpy.ndarray
        ``intp`` positions into ``ids``: link ``k`` runs from ``ids[heads[k]]``
        (the focal region) to ``ids[tails[k]]`` (its neighbour).
    weights : numpy.ndarray
        ``float64`` weight of each link (zero weights are kept: they are links).
    transformation : str
        libpysal's code of the transformation the weights carry ("O", "R", ...).
    """

    ids: np.ndarray
    heads: np.ndarray
    tails: np.ndarray
    weights: np.ndarray
    transformation: str = "O"

    @classmethod
    def from_positions(cls, ids: Sequence[str], heads, tails, weights, transformation: str = "O") -> Edges:
        """Edges from links given as positions into ``ids``, in any order.

        A region's only link, to itself with weight 0, is libpysal's isolate
        marker: it is left out (:meth:`to_graph` puts it back).

        Raises
        ------
        RepeatedLinkError
            A pair of regions is linked twice.
        ValueError
            A position is not one of ``ids``.
        """
        ids = str_ids(ids)
        heads = np.asarray(heads, dtype=np.intp)
        tails = np.asarray(tails, dtype=np.intp)
        weights = np.asarray(weights, dtype=np.float64)
        if len(heads) and (min(heads.min(), tails.min()) < 0 or max(heads.max(), tails.max()) >= len(ids)):
            raise ValueError("a link refers to a position outside the ids")
        marker = (heads == tails) & (weights == 0)
        if marker.any():
            marker &= np.bincount(heads, minlength=len(ids))[heads] == 1
            heads, tails, weights = heads[~marker], tails[~marker], weights[~marker]
        key = heads.astype(np.int64) * len(ids) + tails
        steps = np.diff(key)
        if not (steps > 0).all():  # files written by rtsmig or libpysal are already sorted
            order = np.argsort(key, kind="stable")
            heads, tails, weights, key = heads[order], tails[order], weights[order], key[order]
            if (np.diff(key) == 0).any():
                raise RepeatedLinkError("some links are listed twice")
        return cls(ids, heads, tails, weights, transformation)

    @classmethod
    def from_graph(cls, graph: Graph) -> Edges:
        """The links of a libpysal Graph, less its isolate markers; ids become str."""
        ids = graph.unique_ids
        focal, neighbor = graph.index_pairs
        heads = ids.get_indexer(focal)
        tails = ids.get_indexer(neighbor)
        weights = graph.adjacency.to_numpy(dtype=np.float64)
        return cls.from_positions(ids, heads, tails, weights, graph.transformation)

    def to_graph(self) -> Graph:
        """The same weights as a libpysal Graph (imports libpysal)."""
        from libpysal.graph import Graph

        heads, tails, weights = self.marked_links()
        return Graph.from_arrays(self.ids[heads], self.ids[tails], weights, transformation=self.transformation)

    def marked_links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(heads, tails, weights)`` as libpysal's adjacency holds them.

        That is the links plus, where a region without links would sit in the
        ``(head, tail)`` order, libpysal's isolate marker: a self-loop of weight 0.
        This is the row order of :meth:`to_graph` and of the files written from it.
        """
        lonely = np.flatnonzero(np.bincount(self.heads, minlength=self.n) == 0)
        if len(lonely) == 0:
            return self.heads, self.tails, self.weights
        at = np.searchsorted(self.heads, lonely)
        return np.insert(self.heads, at, lonely), np.insert(self.tails, at, lonely), np.insert(self.weights, at, 0.0)

    @property
    def n(self) -> int:
        """Number of regions, with or without links."""
        return len(self.ids)

    def subset(self, keep_ids: Iterable[str]) -> Edges:
        """The links among the regions whose id is in ``keep_ids``, in these weights' order.

        As libpysal's ``Graph.subgraph``: weights are not rescaled, regions that
        lose every neighbour become isolates, and the transformation is reset to
        "O" so that a later :meth:`transform` recomputes the weights. Ids these
        weights do not have are ignored.
        """
        return self.keep(_member(self.ids, keep_ids))

    def drop(self, ids: Iterable[str]) -> Edges:
        """:meth:`subset` to the regions whose id is not in ``ids``."""
        return self.keep(~_member(self.ids, ids))

    def keep(self, mask: np.ndarray) -> Edges:
        """:meth:`subset` to the regions where the boolean array ``mask`` (one per id) is true."""
        keep = np.asarray(mask, dtype=bool)
        new_pos = np.cumsum(keep) - 1
        links = keep[self.heads] & keep[self.tails]
        return Edges(self.ids[keep], new_pos[self.heads[links]], new_pos[self.tails[links]], self.weights[links], "O")

    def neighbour_counts(self) -> np.ndarray:
        """Each region's number of non-zero weights (libpysal's ``cardinalities``)."""
        return np.bincount(self.heads[self.weights != 0], minlength=self.n)

    def csr(self) -> sparse.csr_array:
        """W as CSR in the order of ``ids``; zero weights are not stored.

        Links are sorted by ``(head, tail)``, so the arrays are CSR already: no sort.
        """
        nonzero = self.weights != 0
        heads = self.heads[nonzero]
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(heads, minlength=self.n), out=indptr[1:])
        return sparse.csr_array((self.weights[nonzero], self.tails[nonzero], indptr), shape=(self.n, self.n))

    def transform(self, kind: str) -> Edges:
        """Transformed weights, the same numbers as libpysal's ``Graph.transform``.

        Parameters
        ----------
        kind : {"r", "b", "v", "d", "o"}
            Row-standardised, binary, variance-stabilising, doubly standardised
            (either case), or "o": the weights as they are.

        Notes
        -----
        As libpysal, weights that already carry ``kind`` are returned unchanged,
        and rows without a non-zero weight get weights 0 rather than NaN.
        """
        code = str(kind).upper()
        if code.lower() not in TRANSFORMS:
            raise InputError(f"unknown weights transform {kind!r}; use one of {', '.join(TRANSFORMS)}")
        if code == "O" or self.transformation == code:
            return self
        weights = {"R": _row, "B": _binary, "D": _doubly, "V": _variance}[code](self)
        return dataclasses.replace(self, weights=weights, transformation=code)

    def aligned(self, ids: Sequence[str]) -> sparse.csr_array:
        """W with rows and columns in the order of ``ids`` (the data's order).

        ``W[i, j]`` is the weight of region ``ids[j]`` for region ``ids[i]``;
        zero weights are not stored.

        Raises
        ------
        InputError
            ``ids`` has duplicates.
        WeightsError
            The data and the weights do not hold the same set of ids.
        """
        wanted = pd.Index(str_ids(ids), dtype=object)
        have = pd.Index(self.ids, dtype=object)
        if wanted.equals(have):  # the common case, and then unique: the weights' ids are
            pos = np.arange(len(have))
        else:
            if not wanted.is_unique:
                dup = wanted[wanted.duplicated()].unique()
                raise InputError(f"the data has duplicate region ids {first_few(dup)}; ids must be unique")
            pos = wanted.get_indexer(have)
            if len(wanted) != len(have) or (pos < 0).any():  # else a bijection: both sides are unique
                check_same_ids(wanted, have)
        nonzero = self.weights != 0
        rows, cols = pos[self.heads[nonzero]], pos[self.tails[nonzero]]
        n = len(wanted)
        return sparse.csr_array((self.weights[nonzero], (rows, cols)), shape=(n, n))


def check_same_ids(data_ids: pd.Index, weights_ids: pd.Index) -> None:
    """Raise a WeightsError naming the ids only one side has."""
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


def _member(ids: np.ndarray, values: Iterable[str]) -> np.ndarray:
    """Which of ``ids`` are among ``values`` (both compared as object arrays of str).

    Both sides are kept as object: pandas would otherwise infer its Arrow string
    dtype for a list, and its ``isin`` then loops in Python.
    """
    if not isinstance(values, (np.ndarray, pd.Index)):
        values = list(values)
    return pd.Index(ids, dtype=object).isin(pd.Index(str_ids(values), dtype=object))


def str_ids(ids: Sequence[str]) -> np.ndarray:
    """Ids as an object array of ``str``, without a Python loop when they already are."""
    if isinstance(ids, (pd.Index, pd.Series)) and isinstance(ids.dtype, pd.StringDtype):
        ids = ids.to_numpy(dtype=object)  # pandas' string dtype (the default of pandas 3): convert in C
    already = isinstance(ids, (np.ndarray, pd.Index)) and ids.dtype == object
    if already and pd.api.types.infer_dtype(ids, skipna=False) == "string":
        return np.asarray(ids, dtype=object)
    return np.array([str(i) for i in ids], dtype=object)


# The transforms below repeat libpysal's arithmetic operation for operation
# (libpysal/graph/base.py, Graph.transform): floating-point sums depend on the
# algorithm and on the order of the terms, so "the same formula" is not enough
# for the same bits.


def _row(e: Edges) -> np.ndarray:
    # libpysal divides by groupby(level=0).transform("sum"); pandas' grouped sum
    # is compensated (Kahan), so use it rather than np.bincount.
    sums = pd.Series(e.weights).groupby(e.heads).transform("sum").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = e.weights / sums
    return np.where(np.isnan(out), 0.0, out)  # a row of zeros gives 0/0: libpysal fills 0


def _binary(e: Edges) -> np.ndarray:
    return (e.weights != 0).astype(np.float64)


def _doubly(e: Edges) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):  # all weights 0: NaN, as libpysal
        return e.weights / _with_markers(e, e.weights, 0.0).sum()


def _variance(e: Edges) -> np.ndarray:
    # libpysal: s = w / sqrt(sum of the row's w**2); w * n / sum(s), NaN -> 0.
    starts = _row_starts(e)
    row_of_link = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(e.heads)]))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = e.weights / np.sqrt(_row_sums(e.weights**2, starts))[row_of_link]
        s_all = _with_markers(e, s, np.nan)
        total = np.where(np.isnan(s_all), 0.0, s_all).sum()  # pandas' sum skips NaN in place
        out = s * (e.n / total)
    return np.where(np.isnan(out), 0.0, out)


def _row_starts(e: Edges) -> np.ndarray:
    """Where each row with links starts (links are sorted by head)."""
    if len(e.heads) == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, e.heads[1:] != e.heads[:-1]])


def _row_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``values`` summed per row, each row as numpy sums a 1-d array.

    numpy sums pairwise in blocks of 8, so a row's sum depends on its length;
    ``np.add.reduceat`` differs from it in the last bit. Summing a 2-d array
    along its contiguous last axis runs the same kernel as a 1-d sum, so the
    rows are summed in batches of equal length.
    """
    lengths = np.diff(np.r_[starts, len(values)])
    sums = np.empty(len(starts))
    for length in np.flatnonzero(np.bincount(lengths)):  # np.unique's hash path is slow (numpy >= 2.3)
        rows = np.flatnonzero(lengths == length)
        sums[rows] = values[starts[rows, None] + np.arange(length)].sum(axis=1)
    return sums


def _with_markers(e: Edges, values: np.ndarray, fill: float) -> np.ndarray:
    """``values`` with ``fill`` where libpysal keeps the isolate markers.

    libpysal sums the whole adjacency, isolate markers included, and numpy's
    pairwise sum depends on where the terms sit, so they go back in place: a
    marker sits where its region's row would be.
    """
    lonely = np.flatnonzero(np.bincount(e.heads, minlength=e.n) == 0)
    if len(lonely) == 0:
        return values
    return np.insert(values, np.searchsorted(e.heads, lonely), fill)
