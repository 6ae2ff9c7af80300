"""Read and write spatial weights files: Parquet, GAL and GWT, keyed by region id.

:func:`read_edges` reads any of them as :class:`~rtsmig.weights.edges.Edges`
without importing libpysal (the fit path); :func:`read_weights` gives a libpysal
Graph built from those Edges, for the commands that work on a Graph.

- ``.parquet``: what libpysal's ``Graph.to_parquet`` writes, written
  (:func:`write_edges`) and read with pyarrow directly (columns weight, focal,
  neighbor; the transformation in the ``libpysal`` schema metadata); keeps
  weights, order and the transformation. Lossless.
- ``.gal``: neighbour lists (GeoDa/spdep); no weights, so reading gives binary
  weights.
- ``.gwt``: one ``focal neighbour weight`` line per link (GeoDa). Weights are
  written with Python's shortest round-trip ``repr`` (libpysal's own writer
  rounds to 7 decimals), so reading gives back the same floats. The
  transformation is not stored.

Ids always come back as strings ("007" stays "007"): libpysal's GAL/GWT readers
cast ids that look like integers to int, so rtsmig parses both formats
itself (:mod:`rtsmig.weights.parse`). Negative, NaN and infinite weights are
refused as a file is read (:mod:`rtsmig.weights.values`). Ids with whitespace
cannot be stored in the whitespace-separated formats and are refused.
"""

from __future__ import annotations

import functools
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rtsmig.errors import InputError, OutputError, first_few
from rtsmig.io.atomic import write_bytes, write_set
from rtsmig.io.manifest import sidecar_path
from rtsmig.weights.edges import Edges
from rtsmig.weights.parse import from_positions, parse_gal, parse_gwt
from rtsmig.weights.values import check_values, link_texts

if TYPE_CHECKING:  # importing libpysal costs seconds; reading weights for a fit does not need it
    from libpysal.graph import Graph

WEIGHTS_SUFFIXES = (".parquet", ".gal", ".gwt")


def write_weights(weights: Edges | Graph, path: str | os.PathLike) -> None:
    """Write weights to ``path`` in the format its extension names, atomically.

    A libpysal Graph is written as ``Edges.from_graph`` gives it: ids as ``str``,
    links in the order of the ids, weights as :func:`parquet_bytes` writes them.
    The same weights always give the same bytes.

    Raises
    ------
    OutputError
        An unknown extension, ids that the format cannot hold, or a path that
        cannot be written.
    """
    write_bytes(path, weights_bytes(weights, path))


def write_edges(edges: Edges, path: str | os.PathLike) -> None:
    """Write ``edges`` as Parquet (:func:`parquet_bytes`), atomically."""
    write_bytes(path, parquet_bytes(edges))


def weights_bytes(weights: Edges | Graph, path: str | os.PathLike) -> bytes:
    """The bytes of the weights file ``path`` names by its extension (.parquet, .gal, .gwt)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WEIGHTS_SUFFIXES:
        raise OutputError(
            f"{path}: unknown weights format {suffix or '(no extension)'!r}; use one of {', '.join(WEIGHTS_SUFFIXES)}"
        )
    edges = weights if isinstance(weights, Edges) else Edges.from_graph(weights)
    if suffix == ".parquet":
        return parquet_bytes(edges)
    text = _gal_text(edges, path) if suffix == ".gal" else _gwt_text(edges, path)
    return text.encode("utf-8")


def parquet_bytes(edges: Edges) -> bytes:
    """``edges`` as Parquet, byte for byte what libpysal's ``Graph.to_parquet`` writes.

    That is, for ``edges.to_graph()``: columns weight (double; int64 for
    "B"-transformed 0/1 weights, as libpysal's ``transform("B")`` makes them), focal and
    neighbor (large_string), one row per link plus a self-loop of weight 0 for
    each region without links, in the order of ``(head, tail)`` positions; the
    schema metadata holds pandas' description of that adjacency and libpysal's
    ``{"transformation": ..., "version": ...}``. No Graph is built and libpysal
    is not imported.
    """
    heads, tails, weights = edges.marked_links()
    if edges.transformation.upper() == "B" and ((weights == 0) | (weights == 1)).all():
        # libpysal's transform("B") makes int64 weights (astype(bool).astype(int)), and so writes them.
        weights = weights.astype(np.int64)
    schema = _adjacency_schema(edges.transformation, weights.dtype)
    ids = pa.array(edges.ids, type=schema.field("focal").type)
    table = pa.Table.from_arrays([pa.array(weights), ids.take(pa.array(heads)), ids.take(pa.array(tails))], schema=schema)
    sink = pa.BufferOutputStream()  # in memory: the file is then written with its sidecar as one set
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _adjacency_schema(transformation: str, weight_dtype: np.dtype) -> pa.Schema:
    """The schema ``Graph.to_parquet`` writes: its pandas metadata plus libpysal's own."""
    schema = _pandas_adjacency_schema(np.dtype(weight_dtype).str)
    libpysal = {"transformation": transformation, "version": _libpysal_version()}
    return schema.with_metadata({**schema.metadata, b"libpysal": json.dumps(libpysal).encode("utf-8")})


@functools.cache
def _pandas_adjacency_schema(weight_dtype: str) -> pa.Schema:
    """What ``pa.Table.from_pandas`` makes of a libpysal adjacency of str ids.

    libpysal builds the adjacency as a Series named weight under a MultiIndex
    (focal, neighbor) made from object arrays of str; the column types and the
    ``pandas`` metadata (which names the pandas and pyarrow versions) depend on
    those dtypes only, not on the values, so a one-row frame made the same way
    gives them for any size.
    """
    one = np.array(["a"], dtype=object)
    index = pd.MultiIndex.from_arrays([one, one], names=["focal", "neighbor"])
    weights = pd.Series(np.zeros(1, dtype=weight_dtype), index=index, name="weight")
    return pa.Table.from_pandas(weights.to_frame()).schema


def _libpysal_version() -> str:
    """libpysal's version as its ``__version__`` gives it, without importing it (seconds)."""
    try:
        return version("libpysal")
    except PackageNotFoundError:
        raise OutputError("libpysal is not installed, and .parquet weights record its version; reinstall rtsmig") from None


def _text_ids(edges: Edges, path: Path) -> list[str]:
    ids = edges.ids.tolist()
    bad = [i for i in ids if not i or any(c.isspace() for c in i)]
    if bad:
        raise OutputError(
            f"{path}: region ids {first_few(bad)} are empty or contain whitespace, which "
            f"{path.suffix.lower()} files cannot hold; write .parquet instead"
        )
    return ids


def _gal_text(edges: Edges, path: Path) -> str:
    """One ``id count`` line and one line of neighbours per region; zero weights are not links."""
    ids = _text_ids(edges, path)
    nonzero = edges.weights != 0
    heads, tails = edges.heads[nonzero], edges.tails[nonzero]
    bounds = np.searchsorted(heads, np.arange(len(ids) + 1))
    lines = [str(len(ids))]
    for k, i in enumerate(ids):
        neighbours = [ids[t] for t in tails[bounds[k] : bounds[k + 1]]]
        lines.append(f"{i} {len(neighbours)}")
        lines.append(" ".join(neighbours))
    return "\n".join(lines) + "\n"


def _gwt_text(edges: Edges, path: Path) -> str:
    """One ``focal neighbour weight`` line per row of libpysal's adjacency (isolate markers included)."""
    ids = _text_ids(edges, path)
    heads, tails, weights = edges.marked_links()
    lines = [f"0 {edges.n} unknown unknown"]
    lines.extend(f"{ids[f]} {ids[n]} {w!r}" for f, n, w in zip(heads.tolist(), tails.tolist(), weights.tolist()))
    return "\n".join(lines) + "\n"


def read_weights(path: str | os.PathLike) -> Graph:
    """Read a weights file (``.parquet``, ``.gal``, ``.gwt``) as a libpysal Graph; ids are str.

    Raises
    ------
    InputError
        A missing, unreadable or malformed file, or an unknown extension.
    BadWeightError
        A negative or non-finite weight (exit 4; see :func:`read_edges`).
    """
    return read_edges(path).to_graph()


# What reading a damaged file can raise besides rtsmig's own errors: the OS, text
# decoding (ValueError) and pyarrow (its errors subclass these or ArrowException).
_READ_ERRORS = (
    OSError, ValueError, KeyError, TypeError, IndexError, NotImplementedError, OverflowError, RecursionError,
    pa.ArrowException,
)


def read_edges(path: str | os.PathLike, validate: bool = True) -> Edges:
    """Read a weights file (``.parquet``, ``.gal``, ``.gwt``) as :class:`Edges`, without libpysal.

    Ids come back as ``str`` in the file's order (for Parquet: the order in
    which they first appear as focal ids, as libpysal's ``read_parquet``).

    Parameters
    ----------
    path : the file; its extension names the format.
    validate : refuse negative, NaN and infinite weights (the default). Only
        ``weights describe`` reads without, to report what a file holds.

    Raises
    ------
    InputError
        A missing, unreadable or malformed file, or an unknown extension.
    BadWeightError
        ``validate`` and a negative or non-finite weight: a
        :class:`~rtsmig.errors.WeightsError` (exit 4) naming the file, the line
        (GAL/GWT, 1-based) or row (Parquet, 1-based) and the two regions.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WEIGHTS_SUFFIXES:
        raise InputError(
            f"{path}: unknown weights format {suffix or '(no extension)'!r}; use one of {', '.join(WEIGHTS_SUFFIXES)}"
        )
    if not path.is_file():
        raise InputError(f"{path}: no such weights file; check the path")
    try:
        if suffix == ".parquet":
            return _read_parquet(path, validate)
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is not an id
    except _READ_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as a weights file ({reason})") from exc
    return parse_gal(text, path) if suffix == ".gal" else parse_gwt(text, path, validate)


def _read_parquet(path: Path, validate: bool = True) -> Edges:
    """What libpysal's ``Graph.to_parquet`` writes: columns focal, neighbor, weight.

    The transformation is in the ``libpysal`` schema metadata (JSON); ids keep
    the type they were written with, and become ``str`` here.
    """
    schema = pq.read_schema(path)
    missing = [c for c in ("focal", "neighbor", "weight") if c not in schema.names]
    if missing:
        raise InputError(
            f"{path}: cannot read as a weights file (no column {first_few(missing)}); "
            "write it with 'rtsmig weights build' or libpysal's Graph.to_parquet"
        )
    table = pq.read_table(path, columns=["focal", "neighbor", "weight"])
    focal, neighbor = _plain(table.column("focal")), _plain(table.column("neighbor"))
    if focal.null_count or neighbor.null_count or table.column("weight").null_count:
        raise InputError(f"{path}: some links lack a focal id, a neighbour id or a weight; every link needs all three")
    weights = _float_weights(table.column("weight"), path)
    if validate:
        check_values(path, weights, lambda at: _parquet_links(at, focal, neighbor, weights), "rows")
    heads, tails, ids = _link_positions(focal, neighbor.cast(focal.type))
    if (tails < 0).any():
        unknown = neighbor.filter(pa.array(tails < 0)).unique()
        raise InputError(f"{path}: neighbours {first_few(_as_str(unknown))} are not listed as regions")
    return from_positions(_as_str(ids), heads, tails, weights, path, _transformation(schema, path))


def _parquet_links(at: np.ndarray, focal: pa.ChunkedArray, neighbor: pa.ChunkedArray, weights: np.ndarray) -> list[str]:
    rows = pa.array(at)
    return link_texts(
        "row", (at + 1).tolist(), focal.take(rows).to_pylist(), neighbor.take(rows).to_pylist(), weights[at].tolist()
    )


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Ids without dictionary encoding (pandas writes a categorical index so)."""
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _link_positions(focal: pa.ChunkedArray, neighbor: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Heads, tails (-1: not a focal id) and the ids in order of first appearance as focal.

    That is libpysal's id order. A file written from a Graph lists each
    region's links together, so focal ids are numbered by runs, and a single
    hash lookup of [run ids, neighbours] finds the tails and checks that no id
    starts two runs; hashing strings is what costs here.
    """
    if len(focal) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), focal.combine_chunks()
    new_run = np.r_[True, pc.not_equal(focal[1:], focal[:-1]).to_numpy()]
    ids = focal.filter(pa.array(new_run)).combine_chunks()
    found = _positions_in(pa.chunked_array([ids, *neighbor.chunks], type=ids.type), ids)
    if np.array_equal(found[: len(ids)], np.arange(len(ids))):
        return np.cumsum(new_run, dtype=np.intp) - 1, found[len(ids) :], ids
    ids = pc.unique(focal)  # a region's links are scattered: hash every focal id
    return _positions_in(focal, ids), _positions_in(neighbor, ids), ids


def _positions_in(values: pa.ChunkedArray, ids: pa.Array) -> np.ndarray:
    """Position of each value in ``ids``; -1 where it is not there."""
    found = pc.index_in(values, value_set=ids)
    return pc.fill_null(found, -1).to_numpy().astype(np.intp)


def _as_str(ids: pa.Array) -> np.ndarray:
    """Ids as an object array of ``str``, as ``str()`` prints the values pandas reads."""
    if pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
        return ids.to_numpy(zero_copy_only=False)
    return np.array([str(i) for i in ids.to_pylist()], dtype=object)


def _float_weights(column: pa.ChunkedArray, path: Path) -> np.ndarray:
    """The weights as float64; their values are checked by the caller (:func:`check_values`)."""
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise InputError(f"{path}: the weight column holds {kind}, not numbers; it is not a weights file")
    return column.cast(pa.float64()).to_numpy()


def _transformation(schema: pa.Schema, path: Path) -> str:
    """The transformation libpysal stores in the ``libpysal`` metadata; "O" without it."""
    raw = (schema.metadata or {}).get(b"libpysal")
    if raw is None:
        return "O"
    try:
        code = json.loads(raw)["transformation"]
    except (ValueError, KeyError, TypeError, RecursionError):
        code = None
    if not isinstance(code, str) or code.upper() not in ("O", "B", "R", "D", "V", "C"):
        raise InputError(f"{path}: the libpysal metadata names no known transformation; rewrite the file")
    return code


def write_weights_with_sidecar(weights: Edges | Graph, path: str | os.PathLike, sidecar: str) -> None:
    """Write a weights file and its ``OUT.json`` sidecar: both appear, or neither."""
    write_set({path: weights_bytes(weights, path), sidecar_path(path): sidecar})
