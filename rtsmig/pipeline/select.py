"""``rtsmig select`` as a step: fit the candidate models once, walk the decision paths, write the report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rtsmig.io.atomic import write_folder
from rtsmig.io.manifest import manifest, to_json
from rtsmig.io.targets import folder_target
from rtsmig.models import fit
from rtsmig.models.registry import check_options
from rtsmig.models.selection import SELECT_MODELS, select_model
from rtsmig.models.spec import FitSpec
from rtsmig.pipeline.steps import Step, load_dataset, quiet
from rtsmig.tables.select_report import report_json, report_markdown


def select_folder(
    data: Path, output: Path, id_col: str, weights: Path, y: str, x: Sequence[str],
    wx: Sequence[str] | None = None, alpha: float = 0.05, transform: str = "r",
    layer: str | None = None, na: str = "error", step: Step = quiet,
) -> str:
    """Fit :data:`SELECT_MODELS`, choose among them, write ``report.md``, ``report.json``
    and ``manifest.json`` to ``output`` atomically; return the recommended model."""
    specs = [FitSpec(model=m, y=y, x=tuple(x), wx=None if wx is None else tuple(wx), impacts_se="none")
             for m in SELECT_MODELS]
    for spec in specs:
        check_options(spec)  # e.g. a --wx column not among --x: a usage error, found before any reading
    folder_target(output, (data, weights))  # refuse a folder that may not be replaced before the work
    dataset, dropped = load_dataset(data, id_col, y, x, weights, transform, layer, na, step)
    fits = {}
    for spec in specs:
        step(f"fitting {spec.label}")
        fits[spec.model] = fit(spec, dataset)
    selection = select_model(fits, alpha)
    step(f"writing {output}")
    options = {"id": id_col, "layer": layer, "transform": transform, "na": na, "y": y, "x": list(x),
               "wx": None if wx is None else list(wx), "alpha": alpha, "dropped_ids": dropped}
    write_folder(output, {
        "report.md": report_markdown(selection, fits),
        "report.json": report_json(selection, fits),
        "manifest.json": to_json(manifest("select", {"data": data, "weights": weights}, options)),
    }, inputs=(data, weights))
    return selection.recommended
