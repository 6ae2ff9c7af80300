"""The ``rtsmig`` typer app: commands are registered here, behind one error edge.

Every command is wrapped by :func:`reporting_errors`, the single place where an
:class:`~rtsmig.errors.RtsmigError` becomes one ``Error: ...`` line on stderr and
the class's exit code. Usage errors keep typer's exit code 2; any other
exception is a bug and shows its traceback.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Annotated

import typer

from rtsmig import __version__
from rtsmig.cli.commands import fit as fit_cmd
from rtsmig.cli.commands import index as index_cmd
from rtsmig.cli.commands import map as map_cmd
from rtsmig.cli.commands import mediate as mediate_cmd
from rtsmig.cli.commands import run as run_cmd
from rtsmig.cli.commands import select as select_cmd
from rtsmig.cli.commands import simulate as simulate_cmd
from rtsmig.cli.commands import table as table_cmd
from rtsmig.cli.commands import weights as weights_cmd
from rtsmig.cli.entry import INTERRUPTED
from rtsmig.errors import InputError, RtsmigError, RtsmigWarning

HELP = (
    "Spatial econometrics from the shell: weights from polygons, spatial lag and "
    "error models, impacts, survey indices, spatial mediation, maps and publication tables.\n\n"
    "Exit codes: 0 done, 1 internal error, 2 usage, 3 input data or output path, "
    "4 weights, 5 estimation."
)


def reporting_errors(command: Callable) -> Callable:
    """Wrap a command so it ends the way DESIGN.md promises, whatever happens inside it.

    - an rtsmig error: one ``Error: ...`` line and the class's exit code;
    - a file-system error no writer translated (permissions, a full disk while
      reading): one ``Error:`` line naming the file, exit 3;
    - Ctrl-C: ``Error: interrupted``, exit 130;
    - an rtsmig warning: one ``Warning: ...`` line; every other library warning
      (numpy, scipy, pandas, pyogrio) is silenced: what is worth telling, rtsmig tells.

    With ``--debug`` errors raise, tracebacks and all.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("default", RtsmigWarning)
            warnings.showwarning = _show_warning
            try:
                return command(*args, **kwargs)
            except (RtsmigError, OSError, KeyboardInterrupt) as exc:
                if os.environ.get("RTSMIG_DEBUG"):
                    raise
                message, code = _error_line(exc)
                typer.echo(f"Error: {message}", err=True)
                raise typer.Exit(code) from exc

    return wrapper


def _error_line(exc: BaseException) -> tuple[str, int]:
    """The ``Error:`` text and exit code of an exception that ends a command."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted; files written before this run are as they were", INTERRUPTED
    if isinstance(exc, RtsmigError):
        return str(exc), exc.exit_code
    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
    return f"{where}{exc.strerror or exc}; check the path and its permissions", InputError.exit_code


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    typer.echo(f"Warning: {message}", err=True)


def _new_app(**kwargs) -> typer.Typer:
    return typer.Typer(
        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
        rich_markup_mode=None, **kwargs,
    )


app = _new_app(name="rtsmig", help=HELP)
app.command("run")(reporting_errors(run_cmd.run))
weights_app = _new_app(help="Build spatial weights from polygons, or describe a weights file.")
weights_app.command("build")(reporting_errors(weights_cmd.build))
weights_app.command("describe")(reporting_errors(weights_cmd.describe))
app.add_typer(weights_app, name="weights")
app.command("fit")(reporting_errors(fit_cmd.fit))
app.command("table")(reporting_errors(table_cmd.table))
app.command("select")(reporting_errors(select_cmd.select))
app.command("mediate")(reporting_errors(mediate_cmd.mediate))
app.command("simulate")(reporting_errors(simulate_cmd.simulate))
app.command("map")(reporting_errors(map_cmd.map_command))
app.command("index")(reporting_errors(index_cmd.index))


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rtsmig {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> None:
    if debug:
        os.environ["RTSMIG_DEBUG"] = "1"


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rtsmig")
