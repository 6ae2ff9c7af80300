"""A progress bar on stderr for multi-step commands.

It is transient and draws only on a terminal, so scripts, pipes and tests see
clean stderr.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def steps(total: int, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """Yield ``step(description)``: call it as each of ``total`` steps starts."""
    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        # Off the terminal (pipes, make, CI) a bar is noise in the log.
        disable=quiet or not console.is_terminal,
    )
    with progress:
        task = progress.add_task("starting", total=total)
        started = False

        def step(description: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=description)

        yield step
        progress.update(task, completed=total)
