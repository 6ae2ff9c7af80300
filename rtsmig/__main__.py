"""Allow ``python -m rtsmig``."""

from rtsmig.cli.entry import main

main()
