"""Read polygon layers and attribute tables into frames indexed by string region ids."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rtsmig.errors import InputError, first_few

if TYPE_CHECKING:  # geopandas costs most of a second to import; reading a CSV does not need it
    import geopandas as gpd

GEOMETRY_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".fgb")
TABLE_SUFFIXES = (".csv", ".parquet", ".dta") + GEOMETRY_SUFFIXES
# Files that travel with a shapefile and change its meaning if they change.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _require_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if not path.is_file():
        raise InputError(f"{path}: is not a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: not readable; check its permissions")


def ids_as_strings(values: pd.Series) -> pd.Series:
    """Region ids as strings; integral floats (1.0, from a column with gaps) become '1'."""
    if pd.api.types.is_float_dtype(values) and values.dropna().mod(1).eq(0).all():
        values = values.astype("Int64")
    return values.astype("string").astype(object).where(values.notna(), None)


def index_by_id(frame: pd.DataFrame, id_col: str, source: Path) -> pd.DataFrame:
    """Index ``frame`` by its ``id_col`` as strings, rejecting missing or duplicate ids."""
    if id_col not in frame.columns:
        columns = first_few([c for c in frame.columns if c != "geometry"], 12)
        raise InputError(f"{source}: no id column {id_col!r} (columns: {columns}); pass --id with one of them")
    ids = ids_as_strings(frame[id_col])
    if ids.isna().any():
        rows = [str(i + 1) for i in ids.index[ids.isna()]]
        raise InputError(f"{source}: column {id_col!r} is empty in rows {first_few(rows)}; every region needs an id")
    if not ids.is_unique:  # one hash pass; find the culprits only when there are some
        dup = ids[ids.duplicated(keep=False)]
        raise InputError(
            f"{source}: column {id_col!r} has duplicate ids {first_few(dict.fromkeys(dup))}; ids must be unique"
        )
    out = frame.drop(columns=[id_col])
    out.index = pd.Index(ids.to_numpy(dtype=object), name=id_col, dtype=object)
    return out


def read_regions(path: str | os.PathLike, id_col: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a polygon layer (Shapefile, GeoPackage, GeoJSON, GeoParquet) indexed by id.

    Raises
    ------
    InputError
        Missing or unreadable file, missing id column, missing/duplicate ids,
        rows without geometry.
    """
    import geopandas as gpd

    path = Path(path)
    _require_file(path)
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/arrow raise many types; all mean "cannot read"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as a polygon layer ({reason}); check the file and --layer") from exc
    regions = index_by_id(frame, id_col, path)
    missing = regions.geometry.isna() | regions.geometry.is_empty
    if missing.any():
        raise InputError(f"{path}: regions {first_few(regions.index[missing])} have no geometry; fix or remove them")
    return regions


def read_table(path: str | os.PathLike, id_col: str, layer: str | None = None) -> pd.DataFrame:
    """Read a data table (CSV, Parquet, Stata .dta, or a geometry file's attributes) indexed by id."""
    path = Path(path)
    _require_file(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: unknown table type {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}")
    try:
        frame = _read_any_table(path, suffix, id_col, layer)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as a table ({reason})") from exc
    return index_by_id(frame, id_col, path)


def _read_any_table(path: Path, suffix: str, id_col: str, layer: str | None) -> pd.DataFrame:
    if suffix == ".csv":
        # Ids stay text exactly as written ("01" is not 1).
        return pd.read_csv(path, dtype={id_col: str}, keep_default_na=True)
    if suffix == ".dta":
        return pd.read_stata(path)
    if suffix == ".parquet":
        frame = pd.read_parquet(path)
        return frame.drop(columns=[c for c in ("geometry",) if c in frame.columns])
    import pyogrio

    return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)


def input_files(path: str | os.PathLike) -> list[Path]:
    """The files whose bytes define an input: a shapefile's parts, else the file itself."""
    path = Path(path)
    if path.suffix.lower() != ".shp":
        return [path]
    parts = (path.with_suffix(s) for s in SHAPEFILE_PARTS)
    return [p for p in parts if p.exists()]
