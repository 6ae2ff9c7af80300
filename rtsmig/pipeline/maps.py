"""The map step: regions, a column and (for LISA and the Moran scatterplot) weights in; a figure and its record out."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from rtsmig.errors import InputError
from rtsmig.io.atomic import write_set
from rtsmig.io.manifest import manifest, sidecar_path, to_json
from rtsmig.io.regions import read_regions, read_table
from rtsmig.io.targets import file_target
from rtsmig.io.weights_io import read_edges
from rtsmig.maps.draw import MAP_MODES, Drawing, MapSpec, column_values, draw_map, split_ids
from rtsmig.pipeline.steps import Step, quiet, weights_for

__all__ = ["MAP_MODES", "MapSpec", "map_file", "map_manifest"]


def map_manifest(regions: Path, id_col: str, spec: MapSpec, data: Path | None = None, weights: Path | None = None,
                 layer: str | None = None) -> dict:
    """The provenance record of a map (input hashes, options, versions), without drawing it."""
    inputs = {"regions": regions, "data": data, "weights": weights}
    inputs = {role: path for role, path in inputs.items() if path is not None}
    return manifest("map", inputs, {"id": id_col, "layer": layer, **spec.to_dict()})


def map_file(
    regions: Path, output: Path, id_col: str, spec: MapSpec, *, data: Path | None = None,
    weights: Path | None = None, layer: str | None = None, step: Step = quiet,
) -> tuple[str, ...]:
    """Draw ``spec`` and write the figure with its sidecar (both, or neither); return the warnings.

    The column comes from ``data`` joined on ``id_col``, else from the regions'
    attributes; regions without a value leave W (row-standardised again).
    """
    map_inputs = [p for p in (regions, data, weights) if p is not None]
    for path in (output, sidecar_path(output)):  # refuse a bad target before the slow drawing
        file_target(path, map_inputs)
    step(f"reading {regions.name}")
    frame = read_regions(regions, id_col, layer)
    table, source = frame, regions
    if data is not None:
        step(f"reading {data.name}")
        table, source = read_table(data, id_col), data
    values, notes = column_values(frame.index, table, spec.column, str(source))
    W = None
    if weights is not None:
        step(f"reading {weights.name}")
        with_value, without = split_ids(values)
        W = weights_for(read_edges(weights), with_value, "r", without, source=weights)
    try:
        drawing = draw_map(frame.geometry, values, spec, W, step)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc
    step(f"writing {output.name}")
    _write(output, drawing, map_manifest(regions, id_col, spec, data, weights, layer), map_inputs)
    return (*notes, *drawing.notes)


def _write(output: Path, drawing: Drawing, record: dict, inputs: list[Path]) -> None:
    # manifest() lists rtsmig's core dependencies; these three shape what a map shows.
    libraries = {name: version(name) for name in ("esda", "mapclassify", "matplotlib")}
    sidecar = to_json({**record, "map": {**drawing.record, "libraries": libraries}})
    write_set({output: drawing.body, sidecar_path(output): sidecar}, inputs)
