"""Summaries of weights graphs and the id-aligned matrix."""

from __future__ import annotations

import numpy as np
import pytest
from libpysal.graph import Graph

from rtsmig.errors import InputError, WeightsError
from rtsmig.weights import aligned_matrix, render_summary_text, summarize


def rook_lattice(n: int = 3) -> Graph:
    """Rook neighbours on an n×n lattice, ids 'c0'..'c{n²-1}' row by row."""
    neighbours = {}
    for row in range(n):
        for col in range(n):
            near = [(row - 1, col), (row, col - 1), (row, col + 1), (row + 1, col)]
            neighbours[f"c{row * n + col}"] = [f"c{r * n + c}" for r, c in near if 0 <= r < n and 0 <= c < n]
    return Graph.from_dicts(neighbours)


LATTICE_TEXT = """\
regions           9
links             24
density           0.296296
neighbours        min 2, mean 2.667, max 4
islands           none
components        1
symmetric         yes
transform         o

neighbours  regions
         2        4
         3        4
         4        1
"""


def test_summary_of_a_rook_lattice():
    summary = summarize(rook_lattice())
    assert summary == {
        "n": 9,
        "links": 24,
        "density": 24 / 81,
        "min_neighbors": 2,
        "mean_neighbors": 24 / 9,
        "max_neighbors": 4,
        "histogram": [[2, 4], [3, 4], [4, 1]],
        "islands": [],
        "components": 1,
        "symmetric": True,
        "transform": "o",
    }


def test_row_standardised_weights_are_not_symmetric():
    summary = summarize(rook_lattice().transform("r"))
    assert summary["symmetric"] is False
    assert summary["transform"] == "r"
    assert summary["links"] == 24


def test_islands_and_components():
    graph = Graph.from_dicts({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": []})
    summary = summarize(graph)
    assert summary["islands"] == ["e"]
    assert summary["components"] == 3
    assert summary["histogram"] == [[0, 1], [1, 4]]
    assert summary["min_neighbors"] == 0
    assert summary["links"] == 4


def test_asymmetric_neighbours():
    graph = Graph.from_dicts({"a": ["b"], "b": ["c"], "c": ["b"]})
    summary = summarize(graph)
    assert summary["symmetric"] is False
    assert summary["components"] == 1  # weakly connected


def test_render_summary_text_is_exact_and_deterministic():
    summary = summarize(rook_lattice())
    assert render_summary_text(summary) == LATTICE_TEXT
    assert render_summary_text(summarize(rook_lattice())) == render_summary_text(summary)


def test_render_shows_build_details():
    summary = summarize(rook_lattice()) | {
        "distance_unit": "km",
        "islands_dropped": ["x", "y"],
        "islands_attached": [],
    }
    text = render_summary_text(summary)
    assert "distance unit     km\n" in text
    assert "islands dropped   2: 'x', 'y'\n" in text
    assert "islands attached" not in text


def test_aligned_matrix_reorders_by_id():
    graph = Graph.from_dicts({"a": ["b"], "b": ["a", "c"], "c": ["b"]}).transform("r")
    w = aligned_matrix(graph, ["c", "a", "b"]).toarray()
    expected = np.array([[0, 0, 1.0], [0, 0, 1.0], [0.5, 0.5, 0]])
    np.testing.assert_array_equal(w, expected)


def test_aligned_matrix_in_graph_order_equals_sparse():
    graph = rook_lattice().transform("r")
    w = aligned_matrix(graph, list(graph.unique_ids))
    np.testing.assert_array_equal(w.toarray(), graph.sparse.toarray())


def test_aligned_matrix_names_ids_on_both_sides():
    graph = rook_lattice()
    data_ids = [f"c{i}" for i in range(2, 9)] + ["x1", "x2"]
    with pytest.raises(WeightsError) as info:
        aligned_matrix(graph, data_ids)
    message = str(info.value)
    assert "2 ids of the data are not in the weights ('x1', 'x2')" in message
    assert "2 ids of the weights are not in the data ('c0', 'c1')" in message
    assert "--id" in message


def test_aligned_matrix_one_side_missing():
    with pytest.raises(WeightsError, match=r"0 ids of the data are not in the weights \(none\)"):
        aligned_matrix(rook_lattice(), [f"c{i}" for i in range(8)])


def test_aligned_matrix_rejects_duplicate_ids():
    with pytest.raises(InputError, match="duplicate"):
        aligned_matrix(rook_lattice(), [f"c{i}" for i in range(9)] + ["c0"])
