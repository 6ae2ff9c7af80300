"""The steps every command and run file is made of: weights file, fit folder, table.

Each reads its inputs, computes, and writes its outputs atomically with their
provenance. ``step`` is an optional progress callback, called as each stage
starts; these functions never print.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scipy import sparse

from rtsmig.columns import missing_column
from rtsmig.dataset import Dataset, build_dataset, incomplete_ids
from rtsmig.errors import InputError, RtsmigError
from rtsmig.io.atomic import write_folder, write_text
from rtsmig.io.manifest import manifest, read_json, to_json
from rtsmig.io.regions import input_files, read_regions, read_table
from rtsmig.io.results_io import read_result
from rtsmig.io.targets import file_target, folder_target
from rtsmig.io.weights_io import read_edges, sidecar_path, write_weights_with_sidecar
from rtsmig.models import fit
from rtsmig.models.spec import FitSpec
from rtsmig.tables import DEFAULT_STARS, Stars, render, result_files
from rtsmig.weights.edges import Edges
from rtsmig.weights.fit_matrix import fit_matrix
from rtsmig.weights.spec import WeightsSpec

if TYPE_CHECKING:  # geopandas and libpysal cost seconds to import; fitting from a table needs neither
    from geopandas import GeoDataFrame

    from rtsmig.weights.build import BuiltWeights

Step = Callable[[str], None]
TRANSFORM_NAMES = {
    "r": "row-standardised", "b": "binary", "v": "variance-stabilised",
    "d": "doubly standardised", "o": "untransformed",
}


@dataclass(frozen=True)
class Sample:
    """A sub-sample: the regions whose ``column`` holds one of ``values`` (compared as text)."""

    column: str
    values: tuple[str, ...]

    def outside(self, frame, source: Path) -> list[str]:
        """Ids of the rows outside the sample; an InputError if the column is missing or none is inside."""
        if self.column not in frame.columns:
            raise missing_column(source, self.column, frame.columns, "check [samples] column", what="sub-sample column")
        inside = frame[self.column].astype(str).isin(self.values)
        if not inside.any():
            raise InputError(f"{source}: no region has {self.column} in {list(self.values)}; check [samples] values")
        return [str(i) for i in frame.index[~inside]]

    def to_dict(self) -> dict:
        return {"column": self.column, "values": list(self.values)}


def quiet(_: str) -> None:
    """The default progress callback: report nothing."""


def regions_and_weights(
    regions: Path, id_col: str, spec: WeightsSpec, layer: str | None = None, step: Step = quiet
) -> tuple[GeoDataFrame, BuiltWeights]:
    """Read a polygon layer and build its weights; errors name the regions file."""
    from rtsmig.weights.build import build_weights

    step(f"reading {regions.name}")
    frame = read_regions(regions, id_col, layer)
    step(f"building {spec.kind} weights for {len(frame)} regions")
    try:
        return frame, build_weights(frame, spec)
    except RtsmigError as exc:  # the pure builder cannot know which file the regions came from
        raise type(exc)(f"{regions}: {exc}") from exc


def weights_file(
    regions: Path, output: Path, id_col: str, spec: WeightsSpec, layer: str | None = None, step: Step = quiet
) -> dict:
    """Build weights from a polygon layer; write ``output`` and ``output.json``; return the summary."""
    for path in (output, sidecar_path(output)):  # refuse a bad target before the build, not after
        file_target(path, input_files(regions))
    _, built = regions_and_weights(regions, id_col, spec, layer, step)
    step(f"writing {output.name}")
    record = weights_manifest(regions, id_col, spec, layer)
    write_weights_with_sidecar(built.edges, output, to_json({**record, "summary": built.summary}))
    return built.summary


def weights_manifest(regions: Path, id_col: str, spec: WeightsSpec, layer: str | None = None) -> dict:
    """The provenance record ``weights_file`` writes into the sidecar (inputs hashed)."""
    return manifest("weights build", {"regions": regions}, {"id": id_col, "layer": layer, **spec.to_dict()})


def fit_manifest(
    data: Path, id_col: str, spec: FitSpec, weights: Path | None = None, transform: str = "r",
    layer: str | None = None, na: str = "error", sample: Sample | None = None,
) -> dict:
    """The ``manifest.json`` ``fit_folder`` writes: what a rerun compares to skip a fit."""
    inputs = {"data": data} | ({"weights": weights} if weights is not None else {})
    options = {"id": id_col, "layer": layer, "transform": transform, "na": na, **spec.to_dict()}
    if sample is not None:
        options["sample"] = sample.to_dict()
    return manifest("fit", inputs, options)


def weights_label(path: Path, transform: str) -> str:
    """How a results table names the weights: kind from the sidecar, else the file name."""
    options = (read_json(sidecar_path(path)) or {}).get("options", {})
    kind = options.get("kind")
    if kind == "knn":
        base = f"knn (k={options.get('k')})"
    elif kind == "distance":
        base = f"{'inverse ' if options.get('inverse') else ''}distance (< {options.get('threshold')})"
    elif kind in ("queen", "rook"):
        base = f"{kind} contiguity"
    elif kind == "block":
        base = f"block (by {options.get('by')})"
    elif kind == "kernel":
        base = f"{options.get('kernel_fn')} kernel"
    else:
        base = path.name
    return f"{base}, {TRANSFORM_NAMES[transform]}"


def fit_folder(
    data: Path,
    output: Path,
    id_col: str,
    spec: FitSpec,
    weights: Path | None = None,
    transform: str = "r",
    layer: str | None = None,
    step: Step = quiet,
    na: str = "error",
    sample: Sample | None = None,
) -> list[str]:
    """Fit one model and write its results folder atomically; return the file names.

    ``na="drop"`` drops the rows with a missing y or x, subsets the weights to the
    remaining regions before transforming them (so rows are re-standardised), and
    lists the dropped ids in ``dropped.csv``; ``"error"`` refuses missing values.
    A ``sample`` leaves out the regions outside it the same way.
    """
    inputs = [p for p in (data, weights) if p is not None]
    folder_target(output, inputs)  # refuse a folder that may not be replaced before the work, not after
    dataset, dropped = load_dataset(data, id_col, spec.y, spec.x, weights, transform, layer, na, step, sample,
                                    model=spec.model)
    step(f"fitting {spec.label} on {dataset.n} regions")
    result = fit(spec, dataset)
    if dropped:
        result = dataclasses.replace(result, meta={**result.meta, "dropped_ids": dropped})
    step(f"writing {output}")
    record = fit_manifest(data, id_col, spec, weights, transform, layer, na, sample)
    files = result_files(result) | {"manifest.json": to_json(record)}
    if dropped:
        files["dropped.csv"] = "".join(f"{i}\n" for i in [id_col, *dropped])
    write_folder(output, files, inputs)
    return sorted(files)


def load_dataset(
    data: Path, id_col: str, y: str, x: Sequence[str], weights: Path | None, transform: str = "r",
    layer: str | None = None, na: str = "error", step: Step = quiet, sample: Sample | None = None,
    model: str | None = None,
) -> tuple[Dataset, list[str]]:
    """Read the data and the weights, align them by id; return the dataset and the dropped ids.

    ``model`` (the model to be fitted) decides whether self-loops in W are refused
    or kept with a warning (:mod:`rtsmig.weights.fit_matrix`); unknown, they are refused.
    """
    step(f"reading {data.name}")
    frame = read_table(data, id_col, layer)
    dropped = incomplete_ids(frame, [y, *x]) if na == "drop" else []
    if sample is not None:
        gone = set(dropped) | set(sample.outside(frame, data))
        dropped = [i for i in map(str, frame.index) if i in gone]
    if dropped:  # drop(index=[]) still hashes a million ids
        frame = frame.drop(index=dropped)
    W, label = None, ""
    if weights is not None:
        step(f"aligning {weights.name}")
        W = weights_for(read_edges(weights), frame.index, transform, dropped, source=weights, model=model)
        label = weights_label(weights, transform)
    return build_dataset(frame, y, tuple(x), source=str(data), W=W, weights_label=label), dropped


def weights_for(
    edges: Edges, ids: Sequence[str], transform: str, dropped: Sequence[str],
    source: Path | None = None, model: str | None = None,
) -> sparse.csr_array:
    """W for the data's regions: the weights less the ``dropped`` regions, then transformed.

    Dropping first and transforming after re-standardises the rows, as libpysal's
    ``Graph.subgraph`` then ``Graph.transform`` would. Ids the weights have and the
    data lacks are not dropped here: the alignment reports them. Islands,
    self-loops and rows of zeros are refused or warned about, naming ``source``
    (see :func:`rtsmig.weights.fit_matrix.fit_matrix`).
    """
    return fit_matrix(edges, ids, transform, dropped, source=source, model=model)


def table_text(
    results: Sequence[Path], fmt: str, stars: Stars = DEFAULT_STARS, digits: int = 3, impacts: bool = False
) -> str:
    """The comparison table (or with ``impacts`` the impacts table) of fitted results folders."""
    fits = [read_result(p) for p in results]
    try:
        return render(fits, fmt, stars=stars, digits=digits, impacts=impacts)
    except ValueError as exc:  # no fit with impacts: the user chose the wrong folders
        raise InputError(f"{', '.join(map(str, results))}: {exc}") from exc


def table_file(results: Sequence[Path], output: Path, fmt: str, **options) -> None:
    """Write the comparison table of ``results`` to ``output`` atomically."""
    write_text(output, table_text(results, fmt, **options))
