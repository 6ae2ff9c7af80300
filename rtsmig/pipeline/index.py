"""The index step: item answers in, scores (+ provenance sidecar and reliability tables) out, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rtsmig.errors import InputError
from rtsmig.io.atomic import write_set
from rtsmig.io.files import read_toml
from rtsmig.io.manifest import manifest, sidecar_path, to_json
from rtsmig.io.regions import read_table
from rtsmig.pipeline.steps import Step, quiet
from rtsmig.survey import (
    MISSING_POLICY,
    Dimension,
    IndexResult,
    build_index,
    combine,
    is_toml,
    parse_inline,
    parse_toml,
)
from rtsmig.tables.reliability import reliability_data, render_reliability


def index_options(id_col: str, dims: Sequence[Dimension], method: str, min_answered: int | None, append: bool,
                  reliability: Sequence[Path]) -> dict:
    """The options an index run records (and a run file compares to skip it)."""
    return {
        "id": id_col, "items": [{"name": d.name, "items": list(d.items)} for d in dims],
        "method": method, "min_answered": min_answered, "append": append,
        "reliability": [p.name for p in reliability] or None,
    }


def index_manifest(data: Path, id_col: str, items: Sequence[str], method: str = "mean",
                   min_answered: int | None = None, append: bool = False, reliability: Sequence[Path] = ()) -> dict:
    """The provenance record of an index run, without running it (input hashes, options, versions)."""
    dims, tomls = read_dimensions(items)
    return _record(data, tomls, index_options(id_col, dims, method, min_answered, append, reliability))


def _record(data: Path, tomls: Sequence[Path], options: dict) -> dict:
    inputs = {"data": data, **{f"items_{i}": p for i, p in enumerate(tomls, start=1)}}
    return manifest("index", inputs, options)


def index_files(
    data: Path, id_col: str, items: Sequence[str], output: Path, *, method: str = "mean",
    min_answered: int | None = None, append: bool = False, reliability: Sequence[Path] = (), step: Step = quiet,
) -> tuple[IndexResult, int]:
    """Score the dimensions of ``items`` and write SCORES.csv, its sidecar and the reliability tables.

    Each reliability path's suffix picks its format. Returns the result and the
    number of regions read.
    """
    step("reading --items")
    dims, tomls = read_dimensions(items)
    step(f"reading {data.name}")
    table = read_table(data, id_col)
    _check_names(dims, table, id_col, append, data)
    step("scoring")
    result = build_index(table, dims, method, min_answered, source=str(data))
    step(f"writing {output.name}")
    record = _record(data, tomls, index_options(id_col, dims, method, min_answered, append, reliability))
    files = {
        output: _scores_csv(table if append else None, result, id_col),
        sidecar_path(output): to_json(_sidecar(record, result)),
    }
    for path in reliability:
        files[path] = render_reliability(result.reliability, path.suffix.lower().lstrip("."))
    write_set(files, [data, *tomls])  # all files appear, or none
    return result, len(table)


def _sidecar(provenance: dict, result: IndexResult) -> dict:
    """SCORES.csv.json: provenance, how each score was made, the reliability and the missing policy."""
    return {
        **provenance,
        "n": len(result.scores), "missing_policy": MISSING_POLICY, "scores_order": list(result.scores.columns),
        "scores": {d.name: d.to_dict() for d in result.details},
        "reliability": reliability_data(result.reliability),
    }



def read_dimensions(values: Sequence[str]) -> tuple[tuple[Dimension, ...], list[Path]]:
    """The dimensions of all --items values, and the TOML files among them (for the manifest)."""
    groups, tomls = [], []
    for value in values:
        if is_toml(value):
            tomls.append(Path(value))
            groups.append(parse_toml(read_toml(value), value))
        else:
            groups.append(parse_inline(value))
    return combine(groups), tomls


def _check_names(dims: tuple[Dimension, ...], table: pd.DataFrame, id_col: str, append: bool, source: Path) -> None:
    """A score must not take the name of the id column, nor (with --append) of a column of DATA."""
    for dim in dims:
        if dim.name == id_col:
            raise InputError(f"score {dim.name!r} has the name of the id column; rename the score in --items")
        if append and dim.name in table.columns:
            raise InputError(
                f"{source}: already has a column {dim.name!r}, the name of a score; rename the score in "
                "--items, or leave out --append"
            )


def _formatted(values: pd.Series) -> pd.Series:
    # %.10g: fixed, platform-independent digits, so the same input gives the same bytes;
    # + 0.0 turns -0.0 into 0.0; no score is an empty cell.
    return values.map(lambda x: "" if np.isnan(x) else "%.10g" % (x + 0.0))


def _scores_csv(data: pd.DataFrame | None, result: IndexResult, id_col: str) -> str:
    """The scores CSV text: the id, DATA's columns with --append, then the scores."""
    scores = result.scores.apply(_formatted)
    if data is None:
        frame = scores
    else:
        frame = data.copy()
        for column in frame.columns:
            values = frame[column]
            # Whole-number floats (an item column with gaps) stay integers: 3, not 3.0.
            if pd.api.types.is_float_dtype(values) and _whole(values):
                frame[column] = values.astype("Int64")
        frame = pd.concat([frame, scores], axis=1)
    return frame.to_csv(index=True, index_label=id_col, lineterminator="\n")


def _whole(values: pd.Series) -> bool:
    finite = values.dropna()
    return bool(np.isfinite(finite).all() and finite.mod(1).eq(0).all() and (finite.abs() < 2**53).all())
