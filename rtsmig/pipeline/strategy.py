"""The bundled strategy example, as ``rtsmig run`` executes it.

The same steps as ``examples/strategy/Makefile``, called in-process: queen weights
on the China prefectures, OLS with its spatial diagnostics, the lag and error
models by ML, the comparison table and the impacts table (Markdown and LaTeX).
A test checks that both routes write byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

from rtsmig.io.bundled import bundled_path
from rtsmig.models.spec import FitSpec
from rtsmig.pipeline.steps import Step, fit_folder, quiet, table_file, weights_file
from rtsmig.simulate import CHANNELS, DIMENSIONS
from rtsmig.weights.spec import WeightsSpec

ID = "adcode"
Y = "migration"
X = (*DIMENSIONS, *CHANNELS)
MODELS = ("ols", "lag", "error")
# Spillover models whose impacts go into the impacts table.
IMPACT_MODELS = ("lag",)
TABLE_FORMATS = ("md", "tex")
# weights, then per model: read, align, fit, write; then the four tables.
STEPS = 3 + 4 * len(MODELS) + 2 * len(TABLE_FORMATS)


def example_inputs() -> tuple[Path, Path]:
    """The bundled China prefectures layer and the synthetic strategy data."""
    regions = bundled_path("shapefiles", "china_prefectures", "china_prefectures.shp")
    return regions, bundled_path("examples", "strategy", "data.csv")


def run_strategy_example(out: Path, step: Step = quiet) -> dict[str, Path]:
    """Run the strategy example into ``out``; return the tables written, by name.

    Islands (三沙市, 台湾省) are attached to their nearest region, as in the Makefile.
    """
    regions, data = example_inputs()
    weights = out / "queen.parquet"
    weights_file(regions, weights, ID, WeightsSpec(kind="queen", islands="attach", transform="r"), step=step)
    for model in MODELS:
        spec = FitSpec(model=model, method="ml", y=Y, x=X)
        fit_folder(data, out / model, ID, spec, weights, step=step)
    tables = {}
    for fmt in TABLE_FORMATS:
        step(f"writing models.{fmt}")
        tables[f"models.{fmt}"] = out / f"models.{fmt}"
        table_file([out / m for m in MODELS], tables[f"models.{fmt}"], fmt)
        step(f"writing impacts.{fmt}")
        tables[f"impacts.{fmt}"] = out / f"impacts.{fmt}"
        table_file([out / m for m in IMPACT_MODELS], tables[f"impacts.{fmt}"], fmt, impacts=True)
    return tables
