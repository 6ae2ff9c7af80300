"""Run a validated run file: weights, then the fits (in parallel processes), then the tables.

Only what is out of date runs (:mod:`rtsmig.runfile.plan`); ``force`` reruns all.
Each output is written atomically, so a run killed at any point leaves whole
folders or none, and the next run finishes the rest. A failed fit does not stop
the others: it is reported in the summary, and its table column is left out.
One run at a time holds the output folder (:mod:`rtsmig.io.lock`); a
failed run leaves no folder it made and did not fill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rtsmig.errors import RtsmigError
from rtsmig.io.atomic import write_text
from rtsmig.io.lock import folder_lock, remove_created_empty, remove_stale_staging
from rtsmig.models.effects import SPILLOVER_MODELS
from rtsmig.pipeline.steps import fit_folder, quiet, table_text, weights_file
from rtsmig.runfile.analyses_run import after_grid_plan, index_up_to_date, run_after_grid, run_index
from rtsmig.runfile.keys import fit_keys, index_keys, runfile_words, weights_keys
from rtsmig.runfile.outputs import check_outputs, planned_folders
from rtsmig.runfile.plan import (
    FitTask,
    fit_tasks,
    fit_up_to_date,
    table_tasks,
    task_sample,
    weights_tasks,
    weights_up_to_date,
)
from rtsmig.runfile.schema import RunFile
from rtsmig.runfile.workers import process_pool, start_map

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
    run: RunFile, *, jobs: int = 1, force: bool = False, step: Step = quiet, dask: DaskTarget | None = None,
    wait: bool = True, waiting: Callable[[Path], None] | None = None,
) -> RunSummary:
    """Bring every output of ``run`` up to date; see the module notes.

    The fits run in this process (``jobs=1``), in ``jobs`` local processes, or on
    Dask (``dask``); each fit writes its own folder, so the bytes are the same.
    ``wait`` and ``waiting`` say what to do while another run holds the output
    folder (:func:`~rtsmig.io.lock.folder_lock`).
    """
    check_outputs(run)  # again: the disk may have changed since the run file was read
    folders = planned_folders(run)
    with folder_lock(run.folder, wait=wait, waiting=waiting) as created:
        folders += created  # the output folder's parents too, if this run made them
        existed = {f for f in folders if f.is_dir()} - set(created)
        try:
            remove_stale_staging(folders)  # safe only now: no other run is writing here
            return _run_locked(run, jobs, force, step, dask)
        except BaseException:
            if dask is None:  # local workers are stopped by now; what they were writing is partial
                remove_stale_staging(folders)
            raise
        finally:
            remove_created_empty(folders, existed)


def _run_locked(run: RunFile, jobs: int, force: bool, step: Step, dask: DaskTarget | None) -> RunSummary:
    summary = RunSummary()
    if run.index is not None and (force or not index_up_to_date(run)):
        step(f"index {run.scores.name}")
        with runfile_words(index_keys()):
            run_index(run, quiet)  # a bad items file stops the run: every fit reads the scores
        summary.built.append("index")
    for task in weights_tasks(run):
        if force or not weights_up_to_date(run, task):
            step(f"weights {task.name}")
            task.path.parent.mkdir(parents=True, exist_ok=True)
            with runfile_words(weights_keys(task.name)):
                weights_file(run.regions, task.path, run.id, task.spec, run.layer)
            summary.built.append(task.name)
    tasks = fit_tasks(run)
    todo = [t for t in tasks if force or not fit_up_to_date(run, t)]
    summary.skipped = [t.name for t in tasks if t not in todo]
    jobs_args = [(run, t) for t in todo]
    if dask is not None and todo:
        _collect(_dask_map(jobs_args, dask), summary, step)
    elif jobs > 1 and len(todo) > 1:
        with process_pool(jobs) as pool:
            _collect(start_map(pool, _fit_one, jobs_args), summary, step)
    else:
        _collect(map(_fit_one, jobs_args), summary, step)
    order = {t.name: i for i, t in enumerate(tasks)}  # completion order varies; reports do not
    summary.fitted.sort(key=order.__getitem__)
    summary.failed.sort(key=lambda f: order[f[0]])
    summary.tables = write_tables(run, tasks, {name for name, _, _ in summary.failed})
    done, skipped, failed = run_after_grid(run, force, step)
    summary.fitted += done
    summary.skipped += skipped
    summary.failed += failed
    return summary


def _fit_one(args: tuple[RunFile, FitTask]) -> tuple[str, str | None, int]:
    """Fit one task (in a worker process); never raises: the error becomes the outcome."""
    run, task = args
    try:
        task.folder.parent.mkdir(parents=True, exist_ok=True)
        with runfile_words(fit_keys(task.variables, task.weights)):
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


def write_tables(run: RunFile, tasks: list[FitTask], failed: set[str]) -> list[Path]:
    """One comparison table (and impacts table) per variable set and weights; unchanged bytes are not rewritten.

    A table leaves out the fits that failed, and is not written when all of them did.
    """
    written = []
    for table in table_tasks(run, tasks):
        members = [t for t in tasks if t.group == table.group and t.name not in failed
                   and (t.spec.model in SPILLOVER_MODELS or not table.impacts)]
        if members:
            text = table_text([t.folder for t in members], table.fmt, impacts=table.impacts)
            written.append(_write_if_changed(table.path, text))
    return written


def _write_if_changed(path: Path, text: str) -> Path:
    """Keep the file (and its timestamp, for make) when its content would not change."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    return path
