"""The bundled China layers: schema, CRS, size, and queen neighbours as recorded at build time."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pytest

SHAPEFILES = Path(__file__).resolve().parents[1] / "shapefiles"

# Plausible row counts: the source has 370 city-level and 2,875 county-level units,
# and the six Beibu Gulf cities about 40 counties; a rebuild from a newer source may move a little.
LAYERS = {
    "china_prefectures": (340, 400, ["adcode", "name", "province"]),
    "china_counties": (2800, 2950, ["adcode", "name", "province", "city"]),
    "beibu_gulf": (30, 50, ["adcode", "name", "province", "city"]),
}


def _load_build():
    """shapefiles/build.py as a module (its neighbour hash is the one the build recorded)."""
    spec = importlib.util.spec_from_file_location("shapefiles_build", SHAPEFILES / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
RECORDED = json.loads((SHAPEFILES / "neighbours.json").read_text(encoding="utf-8"))["layers"]


@pytest.fixture(scope="module", params=sorted(LAYERS))
def layer(request):
    name = request.param
    return name, gpd.read_file(SHAPEFILES / name / f"{name}.shp", engine="pyogrio")


def test_files_present(layer):
    name, _ = layer
    for ext in ("shp", "shx", "dbf", "prj", "cpg"):
        assert (SHAPEFILES / name / f"{name}.{ext}").is_file()
    assert (SHAPEFILES / name / f"{name}.cpg").read_text().strip().upper().replace("-", "") == "UTF8"


def test_schema_and_crs(layer):
    name, regions = layer
    low, high, columns = LAYERS[name]
    assert list(regions.columns) == [*columns, "geometry"]
    assert regions.crs.to_epsg() == 4326
    assert low <= len(regions) <= high
    assert regions["adcode"].map(type).eq(str).all()
    assert regions["adcode"].str.fullmatch(r"\d{6}").all()
    assert regions["adcode"].is_unique
    assert list(regions["adcode"]) == sorted(regions["adcode"])
    assert regions["name"].notna().all() and regions["province"].notna().all()
    assert regions.geometry.is_valid.all() and not regions.geometry.is_empty.any()


def test_chinese_names_read_back(layer):
    _, regions = layer
    assert regions["province"].str.contains("广西壮族自治区").any()


def test_queen_neighbours_match_recorded_hash(layer):
    name, regions = layer
    neighbours = build.neighbour_lists(regions)
    recorded = RECORDED[name]
    assert len(neighbours) == recorded["n"]
    assert sum(len(v) for v in neighbours.values()) == 2 * recorded["links"]
    assert sorted(i for i, v in neighbours.items() if not v) == sorted(r["adcode"] for r in recorded["island_regions"])
    assert build.neighbour_hash(neighbours) == recorded["neighbour_sha256"]


def test_canonical_text_format():
    text = build.canonical_text({"b": ["c", "a"], "a": ["b"], "c": []})
    assert text == "a: b\nb: a,c\nc:\n"
