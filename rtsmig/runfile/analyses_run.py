"""Run the steps around the grid: the index before it, the mediations and maps after it.

Each step is skipped when the provenance record it would write equals the one
its output holds (see :mod:`rtsmig.runfile.plan`); a failed mediation or map is
reported like a failed fit and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rtsmig.errors import RtsmigError
from rtsmig.io.manifest import read_json, sidecar_path
from rtsmig.pipeline.index import index_files, index_manifest
from rtsmig.pipeline.maps import map_manifest
from rtsmig.pipeline.mediate import mediation_folder, mediation_manifest
from rtsmig.runfile.analyses import MapStep, MediationStep
from rtsmig.runfile.keys import map_keys, mediation_keys, runfile_words
from rtsmig.runfile.plan import same_record

if TYPE_CHECKING:  # the schema imports this module (through its output checks)
    from rtsmig.runfile.schema import RunFile

Step = Callable[[str], None]


def reliability_paths(run: RunFile) -> list[Path]:
    return [run.folder / "tables" / f"reliability.{fmt}" for fmt in run.tables]


def weights_path(run: RunFile, name: str) -> Path:
    return run.folder / "weights" / f"{name}.parquet"


def mediation_path(run: RunFile, step: MediationStep) -> Path:
    return run.folder / "mediation" / step.name


def map_path(run: RunFile, step: MapStep) -> Path:
    return run.folder / "maps" / f"{step.name}.{step.spec.format}"


def _index_record(run: RunFile) -> dict:
    i = run.index
    return index_manifest(run.data, run.id, [str(i.items)], i.method, i.min_answered, True, reliability_paths(run))


def index_up_to_date(run: RunFile) -> bool:
    if not run.scores.exists() or not all(p.exists() for p in reliability_paths(run)):
        return False
    return same_record(read_json(sidecar_path(run.scores)), _index_record(run))


def run_index(run: RunFile, step: Step) -> None:
    """Score the data into ``scores.csv`` (all of the data's columns, then the scores)."""
    i = run.index
    (run.folder / "tables").mkdir(parents=True, exist_ok=True)
    index_files(run.data, run.id, [str(i.items)], run.scores, method=i.method, min_answered=i.min_answered,
                append=True, reliability=reliability_paths(run), step=step)


def _mediation_record(run: RunFile, m: MediationStep) -> dict:
    transform = run.weights[m.weights].transform
    return mediation_manifest(run.fit_data, run.id, m.spec, weights_path(run, m.weights), transform, run.layer)


def mediation_up_to_date(run: RunFile, m: MediationStep) -> bool:
    path = mediation_path(run, m) / "manifest.json"
    if not path.exists() or not run.fit_data.exists() or not weights_path(run, m.weights).exists():
        return False
    return same_record(read_json(path), _mediation_record(run, m))


def _map_record(run: RunFile, m: MapStep) -> dict:
    weights = None if m.weights is None else weights_path(run, m.weights)
    return map_manifest(run.regions, run.id, m.spec, data=run.fit_data, weights=weights, layer=run.layer)


def map_up_to_date(run: RunFile, m: MapStep) -> bool:
    path = map_path(run, m)
    if not path.exists() or not run.fit_data.exists():
        return False
    if m.weights is not None and not weights_path(run, m.weights).exists():
        return False
    return same_record(read_json(sidecar_path(path)), _map_record(run, m))


def run_after_grid(run: RunFile, force: bool, step: Step) -> tuple[list[str], list[str], list[tuple[str, str, int]]]:
    """Bring the mediations and maps up to date: (done, up to date, failed as (name, message, exit code))."""
    done, skipped, failed = [], [], []
    jobs = [(f"mediate {m.name}", mediation_up_to_date, _mediate, m, mediation_keys(m.name, m.weights))
            for m in run.mediations.values()]
    jobs += [(f"map {m.name}", map_up_to_date, _map, m, map_keys(m.name, m.weights)) for m in run.maps.values()]
    for name, current, action, m, keys in jobs:
        if not force and current(run, m):
            skipped.append(name)
            continue
        step(name)
        try:
            with runfile_words(keys):
                action(run, m)
        except RtsmigError as exc:
            failed.append((name, str(exc), exc.exit_code))
            continue
        done.append(name)
    return done, skipped, failed


def _mediate(run: RunFile, m: MediationStep) -> None:
    mediation_path(run, m).parent.mkdir(parents=True, exist_ok=True)
    mediation_folder(run.fit_data, mediation_path(run, m), run.id, m.spec, weights_path(run, m.weights),
                     run.weights[m.weights].transform, run.layer)


def _map(run: RunFile, m: MapStep) -> None:
    from rtsmig.pipeline.maps import map_file  # matplotlib loads only when a run file draws maps

    map_path(run, m).parent.mkdir(parents=True, exist_ok=True)
    weights = None if m.weights is None else weights_path(run, m.weights)
    map_file(run.regions, map_path(run, m), run.id, m.spec, data=run.fit_data, weights=weights, layer=run.layer)


def after_grid_plan(run: RunFile, force: bool) -> list[str]:
    """``--dry-run`` lines of the index, the mediations and the maps."""
    lines = []
    if run.index is not None:
        lines.append(f"{'run' if force or not index_up_to_date(run) else 'up to date'}\tindex {run.scores.name}")
    for m in run.mediations.values():
        lines.append(f"{'run' if force or not mediation_up_to_date(run, m) else 'up to date'}\tmediate {m.name}")
    for m in run.maps.values():
        lines.append(f"{'run' if force or not map_up_to_date(run, m) else 'up to date'}\tmap {m.name}")
    return lines
