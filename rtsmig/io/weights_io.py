"""Read and write spatial weights files: Parquet, GAL and GWT, keyed by region id.

- ``.parquet``: libpysal's ``Graph.to_parquet``; keeps weights, order and the
  transformation. Lossless.
- ``.gal``: neighbour lists (GeoDa/spdep); no weights, so reading gives binary
  weights.
- ``.gwt``: one ``focal neighbour weight`` line per link (GeoDa). Weights are
  written with Python's shortest round-trip ``repr`` (libpysal's own writer
  rounds to 7 decimals), so reading gives back the same floats. The
  transformation is not stored.

Ids always come back as strings ("007" stays "007"): libpysal's GAL/GWT readers
cast ids that look like integers to int, so this module parses both formats
itself. Ids with whitespace cannot be stored in the whitespace-separated formats
and are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from libpysal.graph import Graph, read_parquet

from rtsmig.errors import InputError, OutputError, first_few
from rtsmig.io.atomic import atomic_path, write_text, write_with_companion
from rtsmig.weights._graph import edge_positions, from_positions, id_array

WEIGHTS_SUFFIXES = (".parquet", ".gal", ".gwt")


def write_weights(graph: Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to ``path`` in the format its extension names, atomically.

    The same graph always gives the same bytes.

    Raises
    ------
    OutputError
        An unknown extension, ids that the format cannot hold, or a path that
        cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        with atomic_path(path) as tmp:
            graph.to_parquet(str(tmp))
    elif suffix == ".gal":
        write_text(path, _gal_text(graph, path))
    elif suffix == ".gwt":
        write_text(path, _gwt_text(graph, path))
    else:
        raise OutputError(
            f"{path}: unknown weights format {suffix or '(no extension)'!r}; use one of {', '.join(WEIGHTS_SUFFIXES)}"
        )


def _text_ids(graph: Graph, path: Path) -> list[str]:
    ids = [str(i) for i in graph.unique_ids]
    bad = [i for i in ids if not i or any(c.isspace() for c in i)]
    if bad:
        raise OutputError(
            f"{path}: region ids {first_few(bad)} are empty or contain whitespace, which "
            f"{path.suffix.lower()} files cannot hold; write .parquet instead"
        )
    return ids


def _gal_text(graph: Graph, path: Path) -> str:
    ids = _text_ids(graph, path)
    _, heads, tails, _ = edge_positions(graph)
    order = np.lexsort((tails, heads))
    heads, tails = heads[order], tails[order]
    bounds = np.searchsorted(heads, np.arange(len(ids) + 1))
    lines = [str(len(ids))]
    for k, i in enumerate(ids):
        neighbours = [ids[t] for t in tails[bounds[k] : bounds[k + 1]]]
        lines.append(f"{i} {len(neighbours)}")
        lines.append(" ".join(neighbours))
    return "\n".join(lines) + "\n"


def _gwt_text(graph: Graph, path: Path) -> str:
    _text_ids(graph, path)
    focal, neighbor = graph.index_pairs
    weights = graph.adjacency.to_numpy(dtype=float)
    lines = [f"0 {graph.n} unknown unknown"]
    lines.extend(f"{f} {n} {w!r}" for f, n, w in zip(focal.astype(str), neighbor.astype(str), weights.tolist()))
    return "\n".join(lines) + "\n"


def read_weights(path: str | os.PathLike) -> Graph:
    """Read a weights file (``.parquet``, ``.gal``, ``.gwt``); ids come back as str.

    Raises
    ------
    InputError
        A missing, unreadable or malformed file, or an unknown extension.
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
            return _string_ids(read_parquet(str(path)))
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError, KeyError, TypeError) as exc:  # arrow errors subclass these
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as a weights file ({reason})") from exc
    return _parse_gal(text, path) if suffix == ".gal" else _parse_gwt(text, path)


def _string_ids(graph: Graph) -> Graph:
    """The same graph with ids as Python str (Parquet keeps whatever type was written)."""
    focal, neighbor = graph.index_pairs
    adjacency = pd.Series(
        graph.adjacency.to_numpy(),
        index=pd.MultiIndex.from_arrays([id_array(focal), id_array(neighbor)], names=["focal", "neighbor"]),
        name="weight",
    )
    return Graph(adjacency, transformation=graph.transformation)


def _parse_gal(text: str, path: Path) -> Graph:
    """GAL: a header (``n`` or ``0 n name id``), then two lines per region.

    The first line of a region reads ``id k``, the second lists its k neighbours.
    """
    lines = text.splitlines()
    if not lines or not lines[0].split():
        raise InputError(f"{path}: empty GAL file")
    header = lines[0].split()
    try:
        n = int(header[1] if len(header) > 1 else header[0])
    except ValueError:
        raise InputError(f"{path}: GAL header {lines[0]!r} does not give the number of regions") from None
    ids, lists = [], []
    for k in range(n):
        at = 1 + 2 * k
        head = lines[at].split() if at < len(lines) else []
        if len(head) != 2 or not head[1].isdigit():
            raise InputError(
                f"{path}: line {at + 1} should read 'id count' for region {k + 1} of {n}; the file is cut or malformed"
            )
        body = lines[at + 1].split() if at + 1 < len(lines) else []
        if len(body) != int(head[1]):
            raise InputError(f"{path}: line {at + 2} lists {len(body)} neighbours of region {head[0]!r}, not {head[1]}")
        ids.append(head[0])
        lists.append(body)
    if any(line.strip() for line in lines[1 + 2 * n :]):
        raise InputError(f"{path}: text after the {n} regions the header announces")
    heads = np.repeat(np.arange(n), [len(x) for x in lists])
    tails = [t for x in lists for t in x]
    return _assemble(ids, heads, tails, np.ones(len(tails)), path)


def _parse_gwt(text: str, path: Path) -> Graph:
    """GWT: a header line, then ``focal neighbour weight`` per line."""
    lines = text.splitlines()[1:]
    rows = [line.split() for line in lines if line.strip()]
    bad = [k + 2 for k, row in enumerate(rows) if len(row) != 3]
    if bad:
        raise InputError(f"{path}: lines {first_few(bad)} are not 'focal neighbour weight'")
    focal = [r[0] for r in rows]
    neighbor = [r[1] for r in rows]
    try:
        weights = np.array([float(r[2]) for r in rows])
    except ValueError as exc:
        raise InputError(f"{path}: a weight is not a number ({exc})") from None
    # Ids in order of first appearance; GeoDa omits isolates as focal ids.
    ids = list(dict.fromkeys(focal + neighbor))
    lookup = {i: k for k, i in enumerate(ids)}
    heads = np.array([lookup[f] for f in focal], dtype=np.intp)
    keep = (weights != 0) | (heads != np.array([lookup[t] for t in neighbor], dtype=np.intp))
    tails = [t for t, k in zip(neighbor, keep) if k]
    return _assemble(ids, heads[keep], tails, weights[keep], path)


def _assemble(ids: list[str], heads, tails: list[str], weights, path: Path) -> Graph:
    if not ids:
        raise InputError(f"{path}: the file lists no regions")
    lookup = {i: k for k, i in enumerate(ids)}
    if len(lookup) != len(ids):
        raise InputError(f"{path}: region ids repeat ({first_few(pd.Index(ids)[pd.Index(ids).duplicated()])})")
    unknown = [t for t in tails if t not in lookup]
    if unknown:
        raise InputError(f"{path}: neighbours {first_few(dict.fromkeys(unknown))} are not listed as regions")
    tail_pos = np.array([lookup[t] for t in tails], dtype=np.intp)
    heads = np.asarray(heads, dtype=np.intp)
    pairs = heads * len(ids) + tail_pos
    if len(np.unique(pairs)) != len(pairs):
        raise InputError(f"{path}: some links are listed twice; each pair of regions may appear once")
    return from_positions(ids, heads, tail_pos, weights)


def sidecar_path(path: str | os.PathLike) -> Path:
    """The summary file beside a weights file: ``OUT`` + ``.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def write_weights_with_sidecar(graph: Graph, path: str | os.PathLike, sidecar: str) -> None:
    """Write a weights file and its ``OUT.json`` sidecar: both appear, or neither."""
    write_with_companion(path, lambda p: write_weights(graph, p), sidecar_path(path), sidecar)
