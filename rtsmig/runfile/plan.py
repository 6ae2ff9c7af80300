"""What a run file asks for, as tasks, and which of them are already done.

A task is up to date when the provenance record it would write (input hashes,
options, versions: :func:`~rtsmig.pipeline.steps.fit_manifest`) equals the one
its output already holds, as make compares timestamps; the record hashes the
inputs' bytes, so touching a file without changing it refits nothing.

Layout under ``[output] folder``: ``weights/NAME.parquet``,
``fits/VARIABLES/WEIGHTS/MODEL-METHOD/`` and ``tables/VARIABLES__WEIGHTS.FMT``; a
sub-sample S adds ``@S`` to the weights part (``fits/dims/queen@east/lag-ml/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

from rtsmig.io.manifest import read_json
from rtsmig.io.weights_io import sidecar_path
from rtsmig.models.effects import SPILLOVER_MODELS
from rtsmig.models.registry import ESTIMATORS, estimator_key
from rtsmig.models.spec import FitSpec
from rtsmig.pipeline.steps import Sample, fit_manifest, weights_manifest
from rtsmig.runfile.names import FULL_SAMPLE
from rtsmig.weights.spec import WeightsSpec

if TYPE_CHECKING:  # the schema imports this module (through its output checks)
    from rtsmig.runfile.schema import RunFile

LEAST_SQUARES = ("ols", "slx")
MANIFEST_KEYS = ("command", "rtsmig", "dependencies", "inputs", "options")


@dataclass(frozen=True)
class WeightsTask:
    name: str
    path: Path
    spec: WeightsSpec


@dataclass(frozen=True)
class FitTask:
    """One fit of the grid; ``name`` is its folder below ``fits/``."""

    name: str
    folder: Path
    variables: str
    weights: str
    weights_path: Path
    spec: FitSpec
    sample: str = FULL_SAMPLE

    @property
    def group(self) -> str:
        """The table this fit is a column of: ``VARIABLES__WEIGHTS[@SAMPLE]``."""
        return f"{self.variables}__{_with_sample(self.weights, self.sample)}"


def _with_sample(weights: str, sample: str) -> str:
    return weights if sample == FULL_SAMPLE else f"{weights}@{sample}"


def weights_tasks(run: RunFile) -> list[WeightsTask]:
    """The named weights the grid, the mediations and the maps use, in the order of the grid."""
    return [WeightsTask(n, run.folder / "weights" / f"{n}.parquet", run.weights[n]) for n in run.used_weights]


def fit_tasks(run: RunFile) -> list[FitTask]:
    """Every (variables, weights, model, method) of the grid that has an estimator.

    OLS and SLX have one estimator whatever the method, so they appear once.
    """
    tasks = []
    for variables, weights, sample in product(run.grid_variables, run.grid_weights, run.grid_samples):
        y, x = run.variables[variables]
        for model in run.models:
            for method in run.methods[:1] if model in LEAST_SQUARES else run.methods:
                spec = FitSpec(model=model, method=method, y=y, x=x)
                if estimator_key(spec) not in ESTIMATORS:
                    continue
                label = model if model in LEAST_SQUARES else f"{model}-{method}"
                name = f"{variables}/{_with_sample(weights, sample)}/{label}"
                tasks.append(FitTask(name, run.folder / "fits" / name, variables, weights,
                                     run.folder / "weights" / f"{weights}.parquet", spec, sample))
    return tasks


@dataclass(frozen=True)
class TableTask:
    """One table of the grid: the comparison (or impacts) table of a group of fits in one format."""

    path: Path
    group: str
    fmt: str
    impacts: bool


def table_tasks(run: RunFile, tasks: list[FitTask]) -> list[TableTask]:
    """Every table the grid may write, in order: per group, per format, the comparison then the impacts table.

    A group has an impacts table when one of its models has spillovers; a table
    whose fits all failed is not written (:func:`~rtsmig.runfile.execute.write_tables`).
    """
    tables = []
    for group in dict.fromkeys(t.group for t in tasks):  # grid order
        spill = any(t.spec.model in SPILLOVER_MODELS for t in tasks if t.group == group)
        for fmt in run.tables:
            tables.append(TableTask(run.folder / "tables" / f"{group}.{fmt}", group, fmt, False))
            if spill:
                tables.append(TableTask(run.folder / "tables" / f"{group}_impacts.{fmt}", group, fmt, True))
    return tables


def task_sample(run: RunFile, task: FitTask) -> Sample | None:
    """The task's sub-sample, ``None`` for the whole data set."""
    return None if task.sample == FULL_SAMPLE else run.samples[task.sample]


def same_record(record: dict | None, expected: dict) -> bool:
    return record is not None and all(record.get(k) == expected.get(k) for k in MANIFEST_KEYS)


def weights_up_to_date(run: RunFile, task: WeightsTask) -> bool:
    if not task.path.exists():
        return False
    return same_record(read_json(sidecar_path(task.path)), weights_manifest(run.regions, run.id, task.spec, run.layer))


def fit_up_to_date(run: RunFile, task: FitTask) -> bool:
    """True when the folder's manifest is what this fit would write now (inputs must exist)."""
    manifest_path = task.folder / "manifest.json"
    if not manifest_path.exists() or not task.weights_path.exists() or not run.fit_data.exists():
        return False
    expected = fit_manifest(run.fit_data, run.id, task.spec, task.weights_path, run.weights[task.weights].transform,
                            run.layer, sample=task_sample(run, task))
    return same_record(read_json(manifest_path), expected)
