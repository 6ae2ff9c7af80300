"""rtsmig.maps: classes against mapclassify, Moran's I against esda and the formula, byte-stable figures."""

from __future__ import annotations

import io

import esda
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
from cli_helpers import COLUMBUS_SHP
from libpysal.graph import Graph
from matplotlib.image import imread
from scipy import sparse

from rtsmig.errors import InputError
from rtsmig.maps import SCHEMES, MapSpec, classify, draw_map, global_moran, local_moran
from rtsmig.maps.classify import seeded_numpy
from rtsmig.maps.figures import choropleth_figure, class_colours, scatter_figure
from rtsmig.maps.lisa import NO_NEIGHBOURS, check_variable
from rtsmig.maps.render import MAP_SIZE, SCATTER_SIZE, emptiest_corner

VALUES = np.random.default_rng(3).lognormal(size=200)
# The libraries' own notices when these tests call them directly (rtsmig silences them in its calls).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Numba not installed")


@pytest.fixture(scope="module")
def columbus():
    """Columbus CRIME, its ids, and the row-standardised queen W (a libpysal Graph) in that order."""
    frame = gpd.read_file(COLUMBUS_SHP)
    ids = frame["POLYID"].astype(str).tolist()
    graph = Graph.build_contiguity(frame.set_index(frame["POLYID"].astype(str)), rook=False).transform("r")
    W = sparse.csr_array(graph.sparse)  # Graph.sparse is in the order of unique_ids, here the frame's
    assert list(graph.unique_ids) == ids
    return frame, frame["CRIME"].to_numpy(float), ids, graph, W


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_bins_and_counts_are_mapclassify_s(scheme):
    spec = SCHEMES[scheme]
    result = classify(VALUES, scheme, 4, seed=5)
    with seeded_numpy(5):
        cls = getattr(mapclassify, spec.classifier)
        expected = cls(VALUES, k=4) if spec.takes_k else cls(VALUES)
    np.testing.assert_array_equal(result.bins, expected.bins)
    np.testing.assert_array_equal(result.counts, expected.counts)
    np.testing.assert_array_equal(result.classes, expected.yb)
    assert sum(result.counts) == len(VALUES)


def test_natural_breaks_same_seed_same_breaks():
    assert classify(VALUES, "natural-breaks", 6, seed=2).bins == classify(VALUES, "natural-breaks", 6, seed=2).bins


def test_seeded_numpy_puts_the_global_state_back():
    np.random.seed(99)
    expected = np.random.random(3)
    np.random.seed(99)
    with seeded_numpy(1):
        np.random.random(10)
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_legend_labels_give_closed_intervals_and_counts():
    values = np.array([0.12, 0.5, 1.34, 2.0, 2.5, 3.0])
    result = classify(values, "equal-interval", 2)
    assert result.labels() == [f"[0.12, {result.bins[0]:.2f}] (3)", f"({result.bins[0]:.2f}, 3.00] (3)"]


def test_fewer_values_than_classes_and_too_few_distinct_values():
    with pytest.raises(InputError, match="only 3 regions have a value, fewer than --k 5"):
        classify(np.array([1.0, 2.0, 3.0]), "quantiles", 5)
    for scheme in ("fisher-jenks", "quantiles", "equal-interval"):
        result = classify(np.array([1.0] * 10 + [2.0] * 10), scheme, 5)
        assert result.k == 2 and result.counts == (10, 10)
        assert result.notes == ("2 classes, not 5: too few distinct values",)
    with pytest.raises(InputError, match="same value"):
        classify(np.ones(10), "quantiles", 5)


def test_global_moran_is_esda_s_and_the_formula(columbus):
    _, y, ids, graph, W = columbus
    result = global_moran(y, W, ids, permutations=99, seed=4)
    np.random.seed(4)
    expected = esda.Moran(y, graph, permutations=99)
    z = y - y.mean()
    assert result.I == pytest.approx(expected.I, rel=1e-12)
    assert result.I == pytest.approx(z @ (W @ z) / (z @ z), rel=1e-12)
    assert result.slope == pytest.approx(result.I, rel=1e-12)  # no empty row: the line's slope is I
    assert result.p_sim == expected.p_sim
    np.testing.assert_allclose(result.lag, W @ (z / y.std()))


def test_local_clusters_are_esda_s(columbus):
    _, y, ids, graph, W = columbus
    result = local_moran(y, W, ids, permutations=199, seed=8, alpha=0.05)
    expected = esda.Moran_Local(y, graph, permutations=199, seed=8).get_cluster_labels(0.05)
    expected = np.where(expected == "Insignificant", "not significant", expected)
    np.testing.assert_array_equal(result.labels.astype(str), expected.astype(str))
    assert result.counts()["High-High"] > 0


def test_a_region_without_neighbours_is_never_a_cluster(columbus):
    _, y, ids, _, W = columbus
    W = sparse.lil_array(W)
    W[0, :] = 0  # region 0 loses its neighbours (and others keep it as one: W needs no symmetry)
    result = local_moran(y, sparse.csr_array(W), ids, permutations=99, seed=1, alpha=0.05)
    assert result.labels[0] == NO_NEIGHBOURS


def test_constant_or_too_short_column_is_refused():
    with pytest.raises(InputError, match="constant"):
        check_variable(np.ones(10), "c")
    with pytest.raises(InputError, match="at least 3"):
        check_variable(np.array([1.0, 2.0]), "c")


def test_north_arrow_goes_to_the_emptiest_corner():
    from shapely.geometry import box

    # An L of squares: the upper right corner is the only empty one.
    squares = gpd.GeoSeries([box(0, 0, 1, 1), box(0, 1, 1, 2), box(1, 0, 2, 1)])
    assert emptiest_corner(squares) == "upper right"
    assert emptiest_corner(squares.translate(0, 0).scale(-1, 1, origin=(1, 1))) == "upper left"


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_figure_bytes_do_not_change_between_calls(columbus, fmt):
    frame, y, *_ = columbus
    result = classify(y, "quantiles", 5)
    draw = lambda: choropleth_figure(
        frame.geometry, result.classes, result, class_colours("Blues", 5), "t", "CRIME", fmt, 60
    )
    first, second = draw(), draw()
    assert first == second
    assert first[:4] == {"png": b"\x89PNG", "svg": b"<?xm", "pdf": b"%PDF"}[fmt]
    assert b"Matplotlib v" not in first and b"CreationDate" not in first


def test_png_pixels_are_figure_size_times_dpi(columbus):
    _, y, ids, _, W = columbus
    image = imread(io.BytesIO(scatter_figure(global_moran(y, W, ids, 9, 1), "CRIME", "t", "s", "png", 80)))
    assert image.shape[:2] == (round(SCATTER_SIZE[1] * 80), round(SCATTER_SIZE[0] * 80))
    assert MAP_SIZE[0] == SCATTER_SIZE[0] == 6.5


def test_map_spec_validates_and_records_only_its_mode_s_options():
    MapSpec(column="y").validate()
    for bad, words in (({"mode": "hexbin"}, "mode"), ({"alpha": 1.0}, "alpha"), ({"cmap": "virdis"}, "viridis"),
                       ({"k": 1}, "k 1"), ({"scheme": "kmeans"}, "scheme"), ({"format": "gif"}, "format")):
        with pytest.raises(InputError, match=words):
            MapSpec(column="y", **bad).validate()
    assert MapSpec(column="y", scheme="std-mean").to_dict() == {
        "column": "y", "mode": "choropleth", "title": None, "dpi": 300, "format": "png", "scheme": "std-mean",
        "cmap": "RdBu_r", "seed": 1,
    }
    assert set(MapSpec(column="y", mode="lisa").to_dict()) == {
        "column", "mode", "title", "dpi", "format", "permutations", "seed", "alpha",
    }


def test_draw_map_without_w_for_a_moran_mode_is_a_bug(columbus):
    frame, y, ids, _, _ = columbus
    with pytest.raises(ValueError, match="needs W"):
        draw_map(frame.geometry, pd.Series(y, index=ids), MapSpec(column="CRIME", mode="lisa"))
