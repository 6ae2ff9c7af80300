"""The console script: Ctrl-C while rtsmig starts up ends as it does later, one line and exit 130.

Importing the commands takes most of a second (pandas, scipy); a Ctrl-C in that
time would otherwise end in a Python traceback. Inside a command,
:func:`rtsmig.cli.app.reporting_errors` does the same.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT (128 + 2)


def main() -> None:
    """Console-script entry point: load the app, run it."""
    try:
        from rtsmig.cli.app import main as app_main

        app_main()
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        sys.exit(INTERRUPTED)
