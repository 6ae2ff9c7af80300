"""Messages of the shared steps, reworded to name the run-file key that fixes them.

The readers, builders and specs behind a run file are the CLI's, and their
messages name the CLI option to change (``pass --id with one of them``,
``--kind knn needs --k``). A run file has no options: its user changes a key.
:func:`translate` rewrites each option a message names into the key of the run
file that sets it, for the step that failed (``[inputs] id``,
``[weights.knn6] k``, ``[variables.dims] x``); :func:`runfile_words` does so for
an error on its way out of a step, and for the warnings it shows.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator, Mapping

from rtsmig.errors import RtsmigError

INPUTS = {"--id": "[inputs] id", "--layer": "[inputs] layer", "--data": "[inputs] data"}
WEIGHTS = {
    "--kind": "kind", "--k": "k", "--threshold": "threshold", "--inverse": "inverse", "--alpha": "alpha",
    "--bandwidth": "bandwidth", "--kernel": "kernel_fn", "--kernel-fn": "kernel_fn", "--by": "by",
    "--tolerance": "tolerance", "--transform": "transform", "--islands": "islands", "--crs": "crs",
}
MEDIATE = {
    "--model": "model", "--y": "y", "--x": "x", "--mediators": "mediators", "--draws": "draws",
    "--seed": "seed", "--ci": "ci_level", "--logdet": "logdet",
}
MAPS = {
    "--column": "column", "--mode": "mode", "--scheme": "scheme", "--k": "k", "--cmap": "cmap",
    "--title": "title", "--permutations": "permutations", "--seed": "seed", "--alpha": "alpha",
    "--dpi": "dpi", "--format": "format", "--weights": "weights",
}
INDEX = {"--items": "[index] items", "--method": "[index] method", "--min-answered": "[index] min_answered"}
# After these options comes one of a few words: `--islands drop` is `islands = "drop"` in a run file.
CHOICES = ("--kind", "--transform", "--islands", "--kernel", "--kernel-fn", "--method", "--logdet",
           "--scheme", "--mode", "--model", "--na")
# Keys that hold a list: `--method gmm` is `methods = ["gmm"]`.
LISTS = ("[grid] methods",)
# Fixes a run file words differently: it has no `na` option (a sample leaves regions out) and always appends.
PHRASES = (
    ("--y/--x", "--y or --x"),
    ("drop those regions with --na drop", "leave those regions out with a [samples.NAME] entry"),
    ("--na drop or the sample", "the sample"),
    (", or leave out --append", ""),
    ("pass --id with one of them", "set --id to one of them"),
)
# An option, the word after it, and a "pass " before it (options are passed; keys are set).
_OPTION = re.compile(r"(\bpass )?(?<![\w-])(--[a-z](?:[a-z-]*[a-z])?)(?: ([a-z][a-z0-9-]*))?")


def translate(message: str, keys: Mapping[str, str]) -> str:
    """``message`` with each option of ``keys`` replaced by its run-file key; other text unchanged.

    Examples
    --------
    >>> translate("--kind knn needs --k (the number of neighbours)", {"--kind": "kind", "--k": "k"})
    'kind = "knn" needs k (the number of neighbours)'
    """
    for old, new in PHRASES:
        message = message.replace(old, new)

    def key_of(match: re.Match) -> str:
        verb, option, word = match.groups()
        key = keys.get(option)
        if key is None:
            return match.group(0)
        verb = "set " if verb else ""
        if word is None:
            return verb + key
        if option in CHOICES:
            return verb + (f'{key} = ["{word}"]' if key in LISTS else f'{key} = "{word}"')
        return f"{verb}{key} {word}"

    return _OPTION.sub(key_of, message)


def names_an_option(message: str, keys: Mapping[str, str]) -> str | None:
    """The first option of ``keys`` that ``message`` names, if any."""
    return next((m.group(2) for m in _OPTION.finditer(message) if m.group(2) in keys), None)


def spec_reason(message: str, options: Mapping[str, str], command: str) -> str:
    """A spec's validation message with its options as the table's own keys (``--k`` -> ``k``).

    Meant after ``[weights.knn6] is invalid:``. The first option is still named
    once, as where the same rule is documented (``as --k of rtsmig weights
    build``), so a reader of the CLI's help finds it.
    """
    option = names_an_option(message, options)
    if option is None:
        return message
    return f"{translate(message, options)} (as {option} of {command})"


def scoped(section: str, options: Mapping[str, str]) -> dict[str, str]:
    """``{"--k": "k"}`` -> ``{"--k": "[weights.knn6] k"}`` for ``section`` ``[weights.knn6]``."""
    return {option: f"{section} {key}" for option, key in options.items()}


def weights_keys(weights: str) -> dict[str, str]:
    """The keys behind building ``[weights.NAME]``."""
    return INPUTS | scoped(f"[weights.{weights}]", WEIGHTS)


def fit_keys(variables: str, weights: str) -> dict[str, str]:
    """The keys behind one fit of the grid."""
    section = f"[variables.{variables}]"
    return weights_keys(weights) | {
        "--y": f"{section} y", "--x": f"{section} x", "--method": "[grid] methods", "--weights": "[grid] weights",
    }


def mediation_keys(name: str, weights: str) -> dict[str, str]:
    """The keys behind ``[mediate.NAME]``."""
    return weights_keys(weights) | scoped(f"[mediate.{name}]", MEDIATE)


def map_keys(name: str, weights: str | None) -> dict[str, str]:
    """The keys behind ``[maps.NAME]`` (its own options win over the weights' ``k`` and ``alpha``)."""
    base = INPUTS if weights is None else weights_keys(weights)
    return base | scoped(f"[maps.{name}]", MAPS)


def index_keys() -> dict[str, str]:
    """The keys behind ``[index]``."""
    return INPUTS | INDEX


@contextlib.contextmanager
def runfile_words(keys: Mapping[str, str]) -> Iterator[None]:
    """Within the block, rtsmig errors (re-raised, same class) and shown warnings speak of the run file's keys."""
    show = warnings.showwarning

    def reworded(message, category, *args, **kwargs):  # only warnings the filters let through get here
        return show(translate(str(message), keys), category, *args, **kwargs)

    warnings.showwarning = reworded
    try:
        yield
    except RtsmigError as exc:
        text = translate(str(exc), keys)
        if text == str(exc):
            raise
        raise type(exc)(text) from exc
    finally:
        warnings.showwarning = show
