"""A run file's inputs checked when it is read, before anything is built.

A missing ``[inputs] data`` used to surface after the weights were built, and a
misspelt ``[variables]`` column as one failed fit per grid cell. Here every
input file must exist, and every column ``[variables]``, ``[samples]`` and the
``[index]`` items name must be in the data's header (a variable may also be a
score ``[index]`` appends): an :class:`~rtsmig.errors.InputError` (exit 3)
names the key and the file.

Only the header is read: a CSV's first line, a Parquet file's schema. Other
table formats (Stata, the attributes of a geometry file) are checked when the
fits read them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from rtsmig.columns import column_hint
from rtsmig.errors import InputError
from rtsmig.io.regions import read_columns
from rtsmig.runfile.keys import index_keys, runfile_words
from rtsmig.runfile.names import shown_key

if TYPE_CHECKING:
    from rtsmig.runfile.schema import RunFile


def check_inputs(run: RunFile) -> None:
    """Raise an InputError naming the first input file that is missing or column that is not in the data."""
    _require_file(run, "[inputs] regions", run.regions)
    _require_file(run, "[inputs] data", run.data)
    dims = ()
    if run.index is not None:
        _require_file(run, "[index] items", run.index.items)
        dims = _dimensions(run.index.items)
    header = read_columns(run.data)
    if header is None:
        return
    if run.id not in header:
        raise InputError(f"{run.path}: [inputs] id = {run.id!r}: {run.data} has no such column "
                         f"({column_hint(run.id, header)})")
    if run.index is not None:
        _check_items(run, dims, header)
    columns = [*header, *(d.name for d in dims)]
    for name, (y, x) in run.variables.items():
        for key, column in (("y", y), *(("x", c) for c in x)):
            _require_column(run, f"{shown_key('variables', name)} {key}", column, columns)
    for name, sample in run.samples.items():
        _require_column(run, f"{shown_key('samples', name)} column", sample.column, columns)


def _require_file(run: RunFile, key: str, path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{run.path}: {key}: {path}: no such file; check the path (relative to the run file)") \
            from None
    except (OSError, ValueError) as exc:  # permissions, a name too long, a NUL byte
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"{run.path}: {key}: {path}: cannot be read ({reason}); check the path") from exc
    if not stat.S_ISREG(mode):
        raise InputError(f"{run.path}: {key}: {path}: is not a file; name the file itself")


def _require_column(run: RunFile, key: str, column: str, columns: list[str]) -> None:
    if column == run.id:
        raise InputError(f"{run.path}: {key} = {column!r} is the id column ([inputs] id); name a data column")
    if column not in columns:
        raise InputError(f"{run.path}: {key} = {column!r}: {run.data} has no such column "
                         f"({column_hint(column, columns)})")


def _dimensions(items: Path) -> tuple:
    """The scores ``[index]`` appends to the data, from its items file (which is validated on the way)."""
    from rtsmig.pipeline.index import read_dimensions

    with runfile_words(index_keys()):
        dims, _ = read_dimensions([str(items)])
    return dims


def _check_items(run: RunFile, dims: tuple, header: list[str]) -> None:
    """Every item column is in the data, and no score takes the name of one (the scores are appended)."""
    where = f"{run.path}: [index] items: {run.index.items}"
    for dim in dims:
        if dim.name in header or dim.name == run.id:
            raise InputError(f"{where}: score {dim.name!r} has the name of a column of {run.data}; rename the score")
        for item in dim.items:
            if item not in header:
                raise InputError(f"{where}: score {dim.name!r} reads item {item!r}, which {run.data} does not have "
                                 f"({column_hint(item, header)})")
