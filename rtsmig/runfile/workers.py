"""The local process pool of ``run --jobs N``, and how it ends when the run is stopped.

- Ctrl-C reaches the whole process group. The workers ignore SIGINT (set by
  their initializer), so none prints a traceback; the parent alone raises
  KeyboardInterrupt, cancels what has not started, terminates the workers, waits
  for them, and lets the interrupt go on to the CLI's edge (one line, exit 130).
- When the parent dies without a word (``kill -9``), nothing tells its workers:
  each watches its parent from a daemon thread and exits within a second.

A worker killed mid-fit leaves at most a hidden staging folder, which the next
run removes (:func:`rtsmig.io.lock.remove_stale_staging`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

WATCH_EVERY = 0.5  # seconds between two looks at the parent
STOP_WITHIN = 5.0  # seconds a terminated worker has before it is killed


@contextlib.contextmanager
def process_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` worker processes that a Ctrl-C or an error stops at once, workers and all."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def start_map(pool: ProcessPoolExecutor, fn: Callable, items: Iterable) -> Iterator:
    """``pool.map(fn, items)``, with a Ctrl-C during the submission held back until the workers are started.

    The workers are forked while the tasks are submitted, and a worker ignores
    SIGINT only once its initializer ran; a Ctrl-C in between would give it a
    traceback. The parent therefore only notes a Ctrl-C while submitting (the
    forked workers inherit that harmless handler) and raises it right after.
    """
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        return pool.map(fn, items)
    noted = []
    previous = signal.signal(signal.SIGINT, lambda *_: noted.append(True))
    try:
        results = pool.map(fn, items)
    finally:
        signal.signal(signal.SIGINT, previous)
    if noted:
        raise KeyboardInterrupt
    return results


def _stop(pool: ProcessPoolExecutor) -> None:
    # Python < 3.14 has no public way to end a pool's running workers: its _processes map holds them.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            worker.terminate()
    deadline = time.monotonic() + STOP_WITHIN
    for worker in workers:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join(1.0)


def _start_worker(parent: int) -> None:
    """Pool initializer: leave Ctrl-C to the parent, and exit when the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), name="rtsmig-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_EVERY)
    os._exit(1)  # orphaned: no one will read the result, and nothing here needs cleaning up
