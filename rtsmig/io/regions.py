"""Read polygon layers and attribute tables into frames indexed by string region ids.

Every way a file can fail to be a usable table or layer (a missing shapefile
part, another delimiter or encoding, no rows, several layers) is an
:class:`~rtsmig.errors.InputError` saying what is wrong and what to do; nothing
the readers underneath raise gets through raw.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rtsmig.columns import column_hint, missing_column
from rtsmig.errors import InputError, RtsmigError, RtsmigWarning, first_few

if TYPE_CHECKING:  # geopandas costs most of a second to import; reading a CSV does not need it
    import geopandas as gpd

GEOMETRY_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet", ".fgb")
TABLE_SUFFIXES = (".csv", ".parquet", ".dta") + GEOMETRY_SUFFIXES
# Files that travel with a shapefile and change its meaning if they change.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# The parts without which a shapefile cannot be read: the index and the attributes.
REQUIRED_SHAPEFILE_PARTS = {".shx": "shape index", ".dbf": "attribute table"}
# Delimiters a spreadsheet may have saved instead of commas.
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
# Bytes of a CSV read to find its header line.
HEADER_BYTES = 1 << 16
# Float ids at or beyond this size cannot be shown as integers (int64 overflows).
INT64_LIMIT = 2.0**63


def _require_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if not path.is_file():
        raise InputError(f"{path}: is not a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: not readable; check its permissions")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: is empty (0 bytes), so it has no data rows; check that it was written completely")


def _require_shapefile_parts(path: Path) -> None:
    """A shapefile without its .shx or .dbf reads as geometry without attributes, or not at all."""
    if path.suffix.lower() != ".shp":
        return
    for suffix, role in REQUIRED_SHAPEFILE_PARTS.items():
        if not any(path.with_suffix(s).is_file() for s in (suffix, suffix.upper())):
            raise InputError(
                f"{path}: the shapefile's {role} {path.with_suffix(suffix).name} is missing; "
                "copy the .shp, .shx, .dbf and .prj files together"
            )


def _cannot_read(path: Path, what: str, exc: Exception, fix: str = "") -> InputError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return InputError(f"{path}: cannot read as {what} ({reason}){fix}")


def ids_as_strings(values: pd.Series) -> pd.Series:
    """Region ids as strings; integral floats (1.0, from a column with gaps) become '1'."""
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        if present.mod(1).eq(0).all() and present.abs().lt(INT64_LIMIT).all():
            values = values.astype("Int64")
    return values.astype("string").astype(object).where(values.notna(), None)


def index_by_id(frame: pd.DataFrame, id_col: str, source: Path) -> pd.DataFrame:
    """Index ``frame`` by its ``id_col`` as strings, rejecting missing or duplicate ids."""
    if id_col not in frame.columns:
        columns = [c for c in frame.columns if c != "geometry"]
        raise missing_column(source, id_col, columns, "pass --id with one of them", what="id column")
    ids = ids_as_strings(frame[id_col])
    if ids.isna().any():
        rows = [str(i + 1) for i in np.flatnonzero(ids.isna().to_numpy())]  # data rows, whatever the index
        raise InputError(f"{source}: column {id_col!r} is empty in rows {first_few(rows)}; every region needs an id")
    if not ids.is_unique:  # one hash pass; find the culprits only when there are some
        dup = ids[ids.duplicated(keep=False)]
        raise InputError(
            f"{source}: column {id_col!r} has duplicate ids {first_few(dict.fromkeys(dup))}; ids must be unique"
        )
    out = frame.drop(columns=[id_col])
    out.index = pd.Index(ids.to_numpy(dtype=object), name=id_col, dtype=object)
    return out


def _checked_layer(path: Path, layer: str | None) -> str | None:
    """``layer`` if ``path`` has it; with no ``layer``, refuse a file of several layers."""
    import pyogrio

    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    if not names:
        raise InputError(f"{path}: has no layers; check the file")
    if layer is None and len(names) > 1:
        raise InputError(f"{path}: has {len(names)} layers ({first_few(names, 12)}); pass --layer with one of them")
    if layer is not None and layer not in names:
        hint = column_hint(layer, names, "layers")
        raise InputError(f"{path}: no layer {layer!r} ({hint}); pass --layer with one of them")
    return layer


def _empty(path: Path, layer: str | None, what: str) -> InputError:
    if layer:
        return InputError(f"{path}: layer {layer!r} is empty, it has no {what}; choose another --layer")
    return InputError(f"{path}: is empty, it has no {what}; check that it was written completely")


def read_regions(path: str | os.PathLike, id_col: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a polygon layer (Shapefile, GeoPackage, GeoJSON, GeoParquet) indexed by id.

    Invalid polygons (e.g. self-intersecting rings) are read, with an
    :class:`~rtsmig.errors.RtsmigWarning` naming their regions.

    Raises
    ------
    InputError
        Missing or unreadable file, a shapefile without its .shx or .dbf, several
        layers and no ``layer`` (or a ``layer`` the file lacks), an empty layer,
        missing id column, missing/duplicate ids, rows without geometry.
    """
    import geopandas as gpd

    path = Path(path)
    _require_file(path)
    _require_shapefile_parts(path)
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path, layer=_checked_layer(path, layer), engine="pyogrio")
    except RtsmigError:
        raise
    except Exception as exc:  # pyogrio/arrow raise many types; all mean "cannot read"
        raise _cannot_read(path, "a polygon layer", exc, "; check the file and --layer") from exc
    if len(frame) == 0:
        raise _empty(path, layer, "regions")
    regions = index_by_id(frame, id_col, path)
    missing = regions.geometry.isna() | regions.geometry.is_empty
    if missing.any():
        raise InputError(f"{path}: regions {first_few(regions.index[missing])} have no geometry; fix or remove them")
    invalid = regions.index[~regions.geometry.is_valid]
    if len(invalid):
        count = f"{len(invalid)} regions have" if len(invalid) > 1 else "1 region has"
        warnings.warn(
            f"{path}: {count} invalid geometry (e.g. a self-intersecting ring): {first_few(invalid)}; "
            "weights built from them may miss or add neighbours: repair them (e.g. shapely's make_valid) "
            "and build again",
            RtsmigWarning,
            stacklevel=2,
        )
    return regions


def read_table(path: str | os.PathLike, id_col: str, layer: str | None = None) -> pd.DataFrame:
    """Read a data table (CSV, Parquet, Stata .dta, or a geometry file's attributes) indexed by id.

    Raises
    ------
    InputError
        A missing, empty or unreadable file; a CSV that is not UTF-8 or not
        comma-separated; no data rows; the layer problems of :func:`read_regions`;
        a missing id column, missing or duplicate ids.
    """
    path = Path(path)
    _require_file(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: unknown table type {suffix!r}; use one of {', '.join(TABLE_SUFFIXES)}")
    _require_shapefile_parts(path)
    if suffix == ".csv":
        _check_csv_header(path, id_col)
    try:
        frame = _read_any_table(path, suffix, id_col, layer)
    except RtsmigError:
        raise
    except UnicodeDecodeError as exc:
        if suffix != ".csv":
            raise _cannot_read(path, "a table", exc) from exc
        raise InputError(_not_utf8(path)) from exc
    except pd.errors.EmptyDataError as exc:  # only blank lines: no header either
        raise InputError(f"{path}: has no header and no data rows; check that it was written completely") from exc
    except Exception as exc:
        raise _cannot_read(path, "a table", exc) from exc
    if len(frame) == 0:
        if suffix == ".csv":
            raise InputError(f"{path}: has no data rows (only a header); add one row per region")
        raise _empty(path, layer if suffix not in (".parquet", ".dta") else None, "data rows")
    return index_by_id(frame, id_col, path)


def _read_any_table(path: Path, suffix: str, id_col: str, layer: str | None) -> pd.DataFrame:
    if suffix == ".csv":
        # Ids stay text exactly as written ("01" is not 1).
        return pd.read_csv(path, dtype={id_col: str}, keep_default_na=True)
    if suffix == ".dta":
        return pd.read_stata(path)
    if suffix == ".parquet":
        frame = pd.read_parquet(path)
        frame = frame.drop(columns=[c for c in ("geometry",) if c in frame.columns])
        _check_arrow_strings(frame)
        return frame
    import pyogrio

    return pyogrio.read_dataframe(path, layer=_checked_layer(path, layer), read_geometry=False)


def _check_arrow_strings(frame: pd.DataFrame) -> None:
    """Raise (ArrowInvalid, a ValueError) on a text column holding bytes that are not UTF-8.

    pandas keeps the strings pyarrow read without checking them, so a damaged file
    would otherwise fail only later, wherever a value is first used.
    """
    import pyarrow as pa

    for column in frame.columns:
        dtype = frame[column].dtype
        if dtype != object and pd.api.types.is_string_dtype(dtype):
            pa.array(frame[column]).validate(full=True)


def _check_csv_header(path: Path, id_col: str) -> None:
    """Refuse a CSV whose header line is split by semicolons, tabs or pipes rather than commas.

    A spreadsheet saved with another delimiter reads as a single column, so every
    later message (no id column, no data) would hide the cause.
    """
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8-sig", errors="replace")
    if "," in line or id_col in (line.strip().strip('"'), ""):
        return
    for delimiter, name in OTHER_DELIMITERS.items():
        if delimiter in line:
            fields = [f.strip().strip('"') for f in line.split(delimiter)]
            raise InputError(
                f"{path}: looks {name}-delimited (header: {first_few(fields, 8)}); save it comma-separated"
            )


def _not_utf8(path: Path) -> str:
    """Where a CSV stops being UTF-8, for the message; read again only on this error path."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{path}: is UTF-16 text, not UTF-8; save it as UTF-8 (in Excel: CSV UTF-8)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f"byte 0x{data[exc.start]:02x} on line {line}"
    else:  # pandas saw a problem a whole-file decode does not: still the encoding
        where = "an undecodable byte"
    return (
        f"{path}: is not UTF-8 text ({where}; Latin-1, GBK or another legacy encoding?); "
        "save it as UTF-8 (in Excel: CSV UTF-8)"
    )


def input_files(path: str | os.PathLike) -> list[Path]:
    """The files whose bytes define an input: a shapefile's parts, else the file itself."""
    path = Path(path)
    if path.suffix.lower() != ".shp":
        return [path]
    parts = (path.with_suffix(s) for s in SHAPEFILE_PARTS)
    return [p for p in parts if p.exists()]


def read_columns(path: Path) -> list[str] | None:
    """The column names of a CSV or Parquet table, read from its header; None for other formats.

    The names are those :func:`rtsmig.io.regions.read_table` gives (pandas
    numbers repeated CSV names ``a.1``; a GeoParquet's geometry is not data).
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            import pandas as pd

            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return [c for c in pq.read_schema(path).names if c != "geometry"]
    except Exception as exc:  # pandas and arrow raise many types; all mean "cannot read"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read as a table ({reason})") from exc
    return None
