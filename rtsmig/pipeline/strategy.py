"""The bundled strategy example, as ``rtsmig run`` executes it.

The same steps as ``examples/strategy/Makefile``, called in-process: the four
strategy indices from the survey items (with their reliability), queen weights
on the China prefectures, OLS with its spatial diagnostics, the lag and error
models by ML, the comparison and impacts tables, the spatial mediation of the
indices' effects through the three channels, and maps. A test checks that both
routes write byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rtsmig.errors import OutputError
from rtsmig.io.bundled import bundled_path
from rtsmig.io.lock import folder_lock, remove_created_empty
from rtsmig.io.manifest import sidecar_path
from rtsmig.io.targets import file_target, folder_target
from rtsmig.mediation import MediationSpec
from rtsmig.models.spec import FitSpec
from rtsmig.pipeline.index import index_files
from rtsmig.pipeline.maps import MapSpec, map_file
from rtsmig.pipeline.mediate import mediation_folder
from rtsmig.pipeline.steps import Step, fit_folder, quiet, table_file, weights_file
from rtsmig.simulate import CHANNELS
from rtsmig.weights.spec import WeightsSpec

ID = "adcode"
Y = "migration"
INDICES = ("position_index", "method_index", "sustainability_index", "flexibility_index")
X = (*INDICES, *CHANNELS)
MODELS = ("ols", "lag", "error")
# Spillover models whose impacts go into the impacts table.
IMPACT_MODELS = ("lag",)
TABLE_FORMATS = ("md", "tex")
RELIABILITY = tuple(f"reliability.{fmt}" for fmt in TABLE_FORMATS)
# The maps, by file name below maps/: what each shows.
MAPS = {
    "migration.png": MapSpec(column=Y, scheme="quantiles", k=5),
    "migration_lisa.png": MapSpec(column=Y, mode="lisa", permutations=999, seed=1),
    "migration_moran.png": MapSpec(column=Y, mode="moran-scatter", permutations=999, seed=1),
    "position_index.png": MapSpec(column="position_index", scheme="quantiles", k=5),
}
# index 4, weights 3, per model 4, tables 2 per format, mediation 5 + channels, one per map.
STEPS = 4 + 3 + 4 * len(MODELS) + 2 * len(TABLE_FORMATS) + 5 + len(CHANNELS) + len(MAPS)


def example_inputs() -> tuple[Path, Path, Path]:
    """The bundled China prefectures layer, the synthetic strategy data and its items file."""
    regions = bundled_path("shapefiles", "china_prefectures", "china_prefectures.shp")
    return regions, bundled_path("examples", "strategy", "data.csv"), bundled_path("examples", "strategy", "items.toml")


def run_strategy_example(
    out: Path, step: Step = quiet, *, wait: bool = True, waiting: Callable[[Path], None] | None = None
) -> dict[str, Path]:
    """Run the strategy example into ``out``; return the tables written, by name.

    Islands (三沙市, 台湾省) are attached to their nearest region, as in the Makefile.
    One run at a time writes ``out``: ``wait`` and ``waiting`` say what to do while
    another holds it (:func:`rtsmig.io.lock.folder_lock`). A run that fails
    removes the folders it made and left empty.
    """
    with folder_lock(out, wait=wait, waiting=waiting) as created:
        folders = [out, out / "maps", *created]
        existed = {f for f in folders if f.is_dir()} - set(created)
        try:
            return _run_steps(out, step)
        finally:
            remove_created_empty(folders, existed)


def _check_targets(out: Path, inputs: tuple[Path, ...]) -> None:
    """Refuse, before any step runs, an output the example may not replace (a user's folder named lag/, say).

    Each step checks its own target too; checking all first means a refused run
    writes nothing rather than the outputs of the steps before the refused one.
    """
    for name in (*MODELS, "mediation"):
        folder_target(out / name, inputs)
    with_sidecars = ["scores.csv", "queen.parquet"]
    alone = [*RELIABILITY, *(f"{table}.{fmt}" for table in ("models", "impacts") for fmt in TABLE_FORMATS)]
    if (out / "maps").is_dir():
        with_sidecars += [f"maps/{name}" for name in MAPS]
    elif (out / "maps").exists():
        raise OutputError(f"{out / 'maps'}: exists and is not a folder; move it away or choose another --out")
    for path in [*(out / f for f in alone), *(out / f for f in with_sidecars), *(sidecar_path(out / f) for f in with_sidecars)]:
        file_target(path, inputs)


def _run_steps(out: Path, step: Step) -> dict[str, Path]:
    regions, data, items = example_inputs()
    _check_targets(out, (regions, data, items))
    scores = out / "scores.csv"
    index_files(data, ID, [str(items)], scores, append=True, reliability=[out / r for r in RELIABILITY], step=step)
    weights = out / "queen.parquet"
    weights_file(regions, weights, ID, WeightsSpec(kind="queen", islands="attach", transform="r"), step=step)
    for model in MODELS:
        spec = FitSpec(model=model, method="ml", y=Y, x=X)
        fit_folder(scores, out / model, ID, spec, weights, step=step)
    tables = {r: out / r for r in RELIABILITY}
    for fmt in TABLE_FORMATS:
        step(f"writing models.{fmt}")
        tables[f"models.{fmt}"] = out / f"models.{fmt}"
        table_file([out / m for m in MODELS], tables[f"models.{fmt}"], fmt)
        step(f"writing impacts.{fmt}")
        tables[f"impacts.{fmt}"] = out / f"impacts.{fmt}"
        table_file([out / m for m in IMPACT_MODELS], tables[f"impacts.{fmt}"], fmt, impacts=True)
    mediation = MediationSpec(model="lag", y=Y, x=INDICES, mediators=CHANNELS)
    mediation_folder(scores, out / "mediation", ID, mediation, weights, step=step)
    tables |= {f"mediation.{fmt}": out / "mediation" / f"mediation.{fmt}" for fmt in TABLE_FORMATS}
    (out / "maps").mkdir(exist_ok=True)
    for name, spec in MAPS.items():
        step(f"drawing maps/{name}")
        lagged = spec.mode != "choropleth"  # only LISA and the scatterplot read W
        map_file(regions, out / "maps" / name, ID, spec, data=scores, weights=weights if lagged else None)
        tables[f"maps/{name}"] = out / "maps" / name
    return tables
