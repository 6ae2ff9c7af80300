"""Describe weights: size, links, neighbour counts, islands, components."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csgraph

from rtsmig.errors import first_few
from rtsmig.weights.edges import Edges

if TYPE_CHECKING:  # importing libpysal costs seconds; summarising Edges does not need it
    from libpysal.graph import Graph

# Relative tolerance for "W equals its transpose": weights read back from text or
# computed per direction may differ in the last bits.
_SYMMETRY_RTOL = 1e-12


def summarize(weights: Edges | Graph) -> dict:
    """Summary statistics of spatial weights, as JSON-safe Python values.

    Parameters
    ----------
    weights : Edges or libpysal.graph.Graph
        A Graph is converted with ``Edges.from_graph`` (ids become ``str``).

    Returns
    -------
    dict
        ``n``; ``links`` (non-zero weights); ``density`` (links / n²);
        ``min_neighbors``, ``mean_neighbors``, ``max_neighbors``; ``histogram``
        (``[n_neighbors, n_regions]`` pairs, ascending); ``islands`` (ids without
        neighbours, in the weights' order); ``components`` (weakly connected);
        ``symmetric`` (W equals its transpose, weights included); ``transform``
        (lower-case libpysal code, ``o`` for original weights).

    Examples
    --------
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_dicts({"a": ["b"], "b": ["a"], "c": []})
    >>> s = summarize(g)
    >>> s["links"], s["islands"], s["components"], s["histogram"]
    (2, ['c'], 2, [[0, 1], [1, 2]])
    """
    edges = weights if isinstance(weights, Edges) else Edges.from_graph(weights)
    w = edges.csr()
    n = edges.n
    counts = np.diff(w.indptr)
    freq = np.bincount(counts)  # not np.unique: its hash path is slow on 10^6 counts (numpy >= 2.3)
    sizes = np.flatnonzero(freq)
    links = int(w.nnz)
    n_components, _ = csgraph.connected_components(w, directed=True, connection="weak")
    return {
        "n": n,
        "links": links,
        "density": links / n**2 if n else 0.0,
        "min_neighbors": int(counts.min()) if n else 0,
        "mean_neighbors": links / n if n else 0.0,
        "max_neighbors": int(counts.max()) if n else 0,
        "histogram": [[int(s), int(freq[s])] for s in sizes],
        "islands": edges.ids[counts == 0].tolist(),
        "components": int(n_components),
        "symmetric": _is_symmetric(w),
        "transform": str(edges.transformation).lower(),
    }


def _is_symmetric(w) -> bool:
    diff = abs(w - w.T)
    if diff.nnz == 0:
        return True
    scale = abs(w).max()
    return bool(diff.max() <= _SYMMETRY_RTOL * scale)


_LABELS = (
    ("n", "regions"),
    ("links", "links"),
    ("density", "density"),
    ("neighbors", "neighbours"),
    ("islands", "islands"),
    ("components", "components"),
    ("symmetric", "symmetric"),
    ("transform", "transform"),
    ("distance_unit", "distance unit"),
    ("islands_dropped", "islands dropped"),
    ("islands_attached", "islands attached"),
    ("negative_weights", "negative weights"),
    ("zero_weights", "zero weights"),
    ("self_loops", "self-loops"),
    ("non_finite_weights", "NaN/inf weights"),
)
# Counts of what a weights file holds (rtsmig.weights.values.value_counts), shown when present.
_COUNTS = ("negative_weights", "zero_weights", "self_loops", "non_finite_weights")


def render_summary_text(summary: dict) -> str:
    """A fixed-format, multi-line text block for a summary from :func:`summarize`.

    Keys added by :func:`rtsmig.weights.build.build_weights` (``distance_unit``,
    ``islands_dropped``, ``islands_attached``) and by ``weights describe``
    (:func:`rtsmig.weights.values.value_counts`) are shown when present. The
    same summary always gives the same text.
    """
    values = {
        "n": str(summary["n"]),
        "links": str(summary["links"]),
        "density": f"{summary['density']:.6f}",
        "neighbors": (
            f"min {summary['min_neighbors']}, mean {summary['mean_neighbors']:.3f}, max {summary['max_neighbors']}"
        ),
        "islands": _id_list(summary["islands"]),
        "components": str(summary["components"]),
        "symmetric": "yes" if summary["symmetric"] else "no",
        "transform": summary["transform"],
    }
    if summary.get("distance_unit"):
        values["distance_unit"] = summary["distance_unit"]
    for key in ("islands_dropped", "islands_attached"):
        if summary.get(key):
            values[key] = _id_list(summary[key])
    values |= {key: str(summary[key]) for key in _COUNTS if key in summary}
    width = max(len(label) for _, label in _LABELS) + 2
    lines = [f"{label:<{width}}{values[key]}" for key, label in _LABELS if key in values]
    lines.append("")
    lines.append(f"{'neighbours':>10}  {'regions':>7}")
    lines.extend(f"{size:>10}  {count:>7}" for size, count in summary["histogram"])
    return "\n".join(lines) + "\n"


def _id_list(ids: list[str]) -> str:
    if not ids:
        return "none"
    return f"{len(ids)}: {first_few(ids)}"
