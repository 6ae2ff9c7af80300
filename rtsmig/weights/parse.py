"""Weights from what a file holds: GAL and GWT text, and the link arrays of a Parquet file.

Pure functions of text and arrays (:mod:`rtsmig.io.weights_io` opens the
files); ``path`` only names the file in messages. Every problem of the
contents is an :class:`~rtsmig.errors.InputError` naming the file and the line,
a negative or non-finite weight a
:class:`~rtsmig.weights.values.BadWeightError` (see :mod:`rtsmig.weights.values`).

Ids come back as strings ("007" stays "007"): libpysal's GAL/GWT readers cast
ids that look like integers to int, which is why rtsmig parses both formats itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rtsmig.errors import InputError, first_few
from rtsmig.weights.edges import Edges, RepeatedLinkError
from rtsmig.weights.values import check_values, link_texts


def parse_gal(text: str, path: Path) -> Edges:
    """GAL: a header (``n`` or ``0 n name id``), then two lines per region.

    The first line of a region reads ``id k``, the second lists its k
    neighbours; every weight is 1.

    Raises
    ------
    InputError
        A header without the number of regions, a region line that is cut or
        malformed, a count that does not match its list, text after the last
        region, repeated ids or links, neighbours that are not regions.
    """
    lines = text.splitlines()
    if not lines or not lines[0].split():
        raise InputError(f"{path}: empty GAL file")
    header = lines[0].split()
    n = _count(header[1] if len(header) > 1 else header[0])
    if n is None:
        raise InputError(f"{path}: GAL header {lines[0]!r} does not give the number of regions")
    ids, lists = [], []
    for k in range(n):
        at = 1 + 2 * k
        head = lines[at].split() if at < len(lines) else []
        count = _count(head[1]) if len(head) == 2 else None
        if count is None:
            raise InputError(
                f"{path}: line {at + 1} should read 'id count' for region {k + 1} of {n}; the file is cut or malformed"
            )
        body = lines[at + 1].split() if at + 1 < len(lines) else []
        if len(body) != count:
            raise InputError(f"{path}: line {at + 2} lists {len(body)} neighbours of region {head[0]!r}, not {head[1]}")
        ids.append(head[0])
        lists.append(body)
    if any(line.strip() for line in lines[1 + 2 * n :]):
        raise InputError(f"{path}: text after the {n} regions the header announces")
    heads = np.repeat(np.arange(n), [len(x) for x in lists])
    tails = [t for x in lists for t in x]
    return from_links(ids, heads, tails, np.ones(len(tails)), path)


def _count(token: str) -> int | None:
    """A count written in ASCII digits, or None: ``str.isdigit`` accepts "²", which int() refuses."""
    return int(token) if token.isascii() and token.isdigit() else None


def parse_gwt(text: str, path: Path, validate: bool = True) -> Edges:
    """GWT: a header line, then ``focal neighbour weight`` per line (blank lines are skipped).

    With ``validate`` (the default), a negative or non-finite weight is refused,
    naming its line; without it (``weights describe``) it is kept.

    Raises
    ------
    InputError
        A line that is not three fields, a weight that is not a number, repeated
        links, no regions.
    BadWeightError
        ``validate`` and a weight that is negative, NaN or infinite.
    """
    numbers, rows = [], []
    for number, line in enumerate(text.splitlines()[1:], start=2):
        fields = line.split()
        if fields:
            numbers.append(number)
            rows.append(fields)
    bad = [n for n, row in zip(numbers, rows) if len(row) != 3]
    if bad:
        raise InputError(f"{path}: lines {first_few(bad)} are not 'focal neighbour weight'")
    weights = _numbers(rows, numbers, path)
    if validate:
        check_values(path, weights, lambda at: _gwt_links(at, numbers, rows, weights), "lines")
    focal = [r[0] for r in rows]
    neighbor = [r[1] for r in rows]
    # Ids in order of first appearance; GeoDa omits isolates as focal ids.
    ids = list(dict.fromkeys(focal + neighbor))
    lookup = pd.Index(ids, dtype=object)
    heads = lookup.get_indexer(pd.Index(focal, dtype=object))
    # A zero self-link is how libpysal's writer marks a region without neighbours.
    keep = (weights != 0) | (heads != lookup.get_indexer(pd.Index(neighbor, dtype=object)))
    tails = [t for t, k in zip(neighbor, keep) if k]
    return from_links(ids, heads[keep], tails, weights[keep], path)


def _numbers(rows: list[list[str]], numbers: list[int], path: Path) -> np.ndarray:
    """The third field of each row as float64; an InputError naming the first line that is not a number."""
    try:
        return np.array([float(r[2]) for r in rows], dtype=np.float64)
    except ValueError:
        # Only on failure: find the line to name.
        number, token = next((n, r[2]) for n, r in zip(numbers, rows) if not _is_number(r[2]))
    raise InputError(
        f"{path}: line {number}: the weight {token!r} is not a number; each line reads 'focal neighbour weight'"
    )


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _gwt_links(at: np.ndarray, numbers: list[int], rows: list[list[str]], weights: np.ndarray) -> list[str]:
    return link_texts(
        "line", [numbers[i] for i in at], [rows[i][0] for i in at], [rows[i][1] for i in at], weights[at].tolist()
    )


def from_links(ids: list[str], heads, tails: list[str], weights, path: Path) -> Edges:
    """Edges from region ids, head positions and neighbour ids read from ``path``."""
    if not ids:
        raise InputError(f"{path}: the file lists no regions")
    index = pd.Index(ids, dtype=object)
    if index.has_duplicates:
        raise InputError(f"{path}: region ids repeat ({first_few(index[index.duplicated()])})")
    tail_pos = index.get_indexer(pd.Index(tails, dtype=object))
    if (tail_pos < 0).any():
        unknown = [t for t, pos in zip(tails, tail_pos) if pos < 0]
        raise InputError(f"{path}: neighbours {first_few(dict.fromkeys(unknown))} are not listed as regions")
    return from_positions(np.array(ids, dtype=object), heads, tail_pos, weights, path, "O")


def from_positions(ids: np.ndarray, heads, tails, weights, path: Path, transformation: str) -> Edges:
    """Edges from positions read from ``path``; repeated links are the file's fault."""
    if len(ids) == 0:
        raise InputError(f"{path}: the file lists no regions")
    try:
        return Edges.from_positions(ids, heads, tails, weights, transformation)
    except RepeatedLinkError:
        raise InputError(f"{path}: some links are listed twice; each pair of regions may appear once") from None
