"""The mediation step: data and weights files in, one results folder out (atomically)."""

from __future__ import annotations

from pathlib import Path

from rtsmig.dataset import incomplete_ids
from rtsmig.errors import InputError
from rtsmig.io.atomic import write_folder
from rtsmig.io.manifest import manifest, to_json
from rtsmig.io.regions import read_table
from rtsmig.io.targets import folder_target
from rtsmig.io.weights_io import read_edges
from rtsmig.mediation import MediationResult, MediationSpec, mediate
from rtsmig.pipeline.steps import Step, quiet, weights_for, weights_label
from rtsmig.tables import result_files
from rtsmig.tables.formats import FORMATS
from rtsmig.tables.mediation import render

EQUATIONS = "equations"


def mediation_manifest(
    data: Path, id_col: str, spec: MediationSpec, weights: Path, transform: str = "r",
    layer: str | None = None, na: str = "error",
) -> dict:
    """The ``manifest.json`` of a mediation folder: inputs hashed, every option."""
    options = {"id": id_col, "layer": layer, "transform": transform, "na": na, **spec.to_dict()}
    return manifest("mediate", {"data": data, "weights": weights}, options)


def mediation_folder(
    data: Path, output: Path, id_col: str, spec: MediationSpec, weights: Path, transform: str = "r",
    layer: str | None = None, na: str = "error", step: Step = quiet,
) -> MediationResult:
    """Fit the equations, split the effects, and write the folder; return the result.

    The folder holds ``mediation.{csv,md,tex,html,json}``, one results folder per
    equation under ``equations/`` (readable by ``rtsmig table``), ``manifest.json``
    and, after ``na="drop"``, ``dropped.csv``. Every equation uses the same regions:
    ``na="drop"`` drops a region missing any of y, x or the mediators, and
    re-standardises W on the rest.
    """
    spec.validate()
    folder_target(output, (data, weights))  # refuse a folder that may not be replaced before the work
    for name in (spec.y, *spec.mediators):
        if "/" in name or "\\" in name or name in (".", ".."):
            raise InputError(f"{data}: column {name!r} cannot name an equation folder; rename the column")
    step(f"reading {data.name}")
    frame = read_table(data, id_col, layer)
    dropped = incomplete_ids(frame, [c for c in (spec.y, *spec.x, *spec.mediators) if c in frame]) if na == "drop" else []
    if dropped:
        frame = frame.drop(index=dropped)
    step(f"aligning {weights.name}")
    W = weights_for(read_edges(weights), frame.index, transform, dropped, source=weights, model=spec.model)
    result = mediate(spec, frame, W, source=str(data), weights_label=weights_label(weights, transform), step=step)
    step(f"writing {output}")
    files = {f"mediation.{fmt}": render(result, fmt) for fmt in FORMATS}
    for name, fit in result.fits.items():
        files |= {f"{EQUATIONS}/{name}/{file}": text for file, text in result_files(fit).items()}
    files["manifest.json"] = to_json(mediation_manifest(data, id_col, spec, weights, transform, layer, na))
    if dropped:
        files["dropped.csv"] = "".join(f"{i}\n" for i in [id_col, *dropped])
    write_folder(output, files, inputs=(data, weights))
    return result
