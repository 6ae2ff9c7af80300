"""Run a validated run file: weights, then the fits (in parallel processes), then the tables.

Only what is out of date runs (:mod:`rtsmig.runfile.plan`); ``force`` reruns all.
Each output is written atomically, so a run killed at any point leaves whole
folders or none, and the next run finishes the rest. A failed fit does not stop
the others: it is reported in the summary, and its table column is left out.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rtsmig.errors import RtsmigError
from rtsmig.io.atomic import write_text
from rtsmig.models.effects import SPILLOVER_MODELS
from rtsmig.pipeline.steps import fit_folder, quiet, table_text, weights_file
from rtsmig.runfile.analyses_run import after_grid_plan, index_up_to_date, run_after_grid, run_index
from rtsmig.runfile.plan import FitTask, fit_tasks, fit_up_to_date, task_sample, weights_tasks, weights_up_to_date
from rtsmig.runfile.schema import RunFile

Step = Callable[[str], None]


@dataclass
class RunSummary:
    """What a run did; ``failed`` holds (task, message, exit code)."""

    built: list[str] = field(default_factory=list)
    fitted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, int]] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return max((code for _, _, code in self.failed), default=0)


def plan_text(run: RunFile, force: bool = False) -> list[str]:
    """``--dry-run``: one line per task, ``run`` or ``up to date``."""
    after = after_grid_plan(run, force)
    lines = after[:1] if run.index is not None else []
    after = after[1:] if run.index is not None else after
    for task in weights_tasks(run):
        stale = force or not weights_up_to_date(run, task)
        lines.append(f"{'run' if stale else 'up to date'}\tweights {task.name}")
    for task in fit_tasks(run):
        stale = force or not fit_up_to_date(run, task)
        lines.append(f"{'run' if stale else 'up to date'}\tfit {task.name}")
    return lines + after


@dataclass(frozen=True)
class DaskTarget:
    """Where Dask runs the fits: an existing scheduler's address, or a local cluster of n workers.

    Workers must see the run's files at the same paths (one machine, or a shared file system).
    """

    scheduler: str | None = None
    local_workers: int | None = None


def run_file(
    run: RunFile, *, jobs: int = 1, force: bool = False, step: Step = quiet, dask: DaskTarget | None = None
) -> RunSummary:
    """Bring every output of ``run`` up to date; see the module notes.

    The fits run in this process (``jobs=1``), in ``jobs`` local processes, or on
    Dask (``dask``); each fit writes its own folder, so the bytes are the same.
    """
    summary = RunSummary()
    _remove_stale_staging(run.folder)
    if run.index is not None and (force or not index_up_to_date(run)):
        step(f"index {run.scores.name}")
        run.folder.mkdir(parents=True, exist_ok=True)
        run_index(run, quiet)  # a bad items file stops the run: every fit reads the scores
        summary.built.append("index")
    for task in weights_tasks(run):
        if force or not weights_up_to_date(run, task):
            step(f"weights {task.name}")
            task.path.parent.mkdir(parents=True, exist_ok=True)
            weights_file(run.regions, task.path, run.id, task.spec, run.layer)
            summary.built.append(task.name)
    tasks = fit_tasks(run)
    todo = [t for t in tasks if force or not fit_up_to_date(run, t)]
    summary.skipped = [t.name for t in tasks if t not in todo]
    jobs_args = [(run, t) for t in todo]
    if dask is not None and todo:
        _collect(_dask_map(jobs_args, dask), summary, step)
    elif jobs > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            _collect(pool.map(_fit_one, jobs_args), summary, step)
    else:
        _collect(map(_fit_one, jobs_args), summary, step)
    order = {t.name: i for i, t in enumerate(tasks)}  # completion order varies; reports do not
    summary.fitted.sort(key=order.__getitem__)
    summary.failed.sort(key=lambda f: order[f[0]])
    summary.tables = write_tables(run, tasks, {name for name, _, _ in summary.failed}, run.tables)
    done, skipped, failed = run_after_grid(run, force, step)
    summary.fitted += done
    summary.skipped += skipped
    summary.failed += failed
    return summary


def _remove_stale_staging(folder: Path) -> None:
    """Delete the hidden ``.NAME.*.tmp`` staging files and folders a killed run left behind.

    Atomic writes assemble outputs under such names and rename them into place;
    a SIGKILL between the two leaves one. Two runs on one folder at once are not
    supported, so none of them can still be in use.
    """
    if not folder.exists():
        return
    for path in sorted(folder.rglob(".*.tmp"), reverse=True):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _fit_one(args: tuple[RunFile, FitTask]) -> tuple[str, str | None, int]:
    """Fit one task (in a worker process); never raises: the error becomes the outcome."""
    run, task = args
    try:
        task.folder.parent.mkdir(parents=True, exist_ok=True)
        fit_folder(run.fit_data, task.folder, run.id, task.spec, task.weights_path,
                   run.weights[task.weights].transform, run.layer, sample=task_sample(run, task))
    except RtsmigError as exc:  # a bug is not caught: it stops the run, exit code 1
        return task.name, str(exc), exc.exit_code
    return task.name, None, 0


def _dask_map(args: list, target: DaskTarget):
    """Outcomes of :func:`_fit_one` over ``args`` on a Dask cluster, as they complete."""
    from distributed import Client, LocalCluster, as_completed  # optional: only for --scheduler/--dask-local

    if target.scheduler is not None:
        client, cluster = Client(target.scheduler), None
    else:
        cluster = LocalCluster(n_workers=target.local_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(_fit_one, args, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _collect(outcomes, summary: RunSummary, step: Step) -> None:
    for name, message, code in outcomes:
        step(f"fit {name}" + (f" ({len(summary.failed)} failed)" if summary.failed else ""))
        if message is None:
            summary.fitted.append(name)
        else:
            summary.failed.append((name, message, code))


def write_tables(run: RunFile, tasks: list[FitTask], failed: set[str], formats) -> list[Path]:
    """One comparison table (and impacts table) per variable set and weights; unchanged bytes are not rewritten."""
    written = []
    for name in dict.fromkeys(t.group for t in tasks):  # grid order
        group = [t for t in tasks if t.group == name and t.name not in failed]
        if not group:
            continue
        spill = [t for t in group if t.spec.model in SPILLOVER_MODELS]
        for fmt in formats:
            base = run.folder / "tables" / name
            written.append(_write_if_changed(base.with_name(f"{name}.{fmt}"),
                                             table_text([t.folder for t in group], fmt)))
            if spill:
                path = base.with_name(f"{name}_impacts.{fmt}")
                written.append(_write_if_changed(path, table_text([t.folder for t in spill], fmt, impacts=True)))
    return written


def _write_if_changed(path: Path, text: str) -> Path:
    """Keep the file (and its timestamp, for make) when its content would not change."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    return path
