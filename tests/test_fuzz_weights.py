"""Fuzzing the weights readers: whatever a .gal, .gwt or .parquet file holds, reading it
either gives Edges or raises an rtsmig error (a one-line message and an exit code), never
a raw exception.

The inputs are arbitrary bytes, and mutations of valid files written by rtsmig: byte
flips, truncation, inserted bytes, duplicated, deleted or swapped lines, swapped tokens,
and tokens replaced by odd numbers (huge, negative, NaN, Unicode digits). Parquet files
are also built column by column from arbitrary ids and weights. Every example is small,
so the file runs in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rtsmig.errors import RtsmigError
from rtsmig.io.weights_io import read_edges, write_weights
from rtsmig.weights.edges import Edges

SUFFIXES = (".gal", ".gwt", ".parquet")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ODD_TOKENS = (
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-1", "-0", "-0.0", "0", "1e309", "-1e309", "1e-400",
    "99999999999999999999999", "-99999999999999999999", "0x10", "1_0", "", "٣", "²", "½", "1.5.2", "a b",
    "\x00", "\u2028", "3", "10", "1e5",
)


def valid_edges() -> Edges:
    """Six regions with float weights, an asymmetric pair and an island (written with its marker)."""
    ids = ["007", "a", "b", "10", "x", "lone"]
    heads = [0, 0, 1, 1, 2, 3, 3, 4]
    tails = [1, 2, 0, 3, 0, 1, 4, 3]
    weights = [0.25, 0.75, 1.0, 2.5, 1e-3, 3.0, 0.1, 7.0]
    return Edges.from_positions(ids, heads, tails, weights)


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    """The bytes rtsmig writes for :func:`valid_edges` in each format."""
    folder = tmp_path_factory.mktemp("originals")
    out = {}
    for suffix in SUFFIXES:
        path = folder / f"w{suffix}"
        write_weights(valid_edges(), path)
        out[suffix] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def read_or_rtsmig_error(path: Path) -> None:
    """The property: both readings (validating and lenient) give Edges or an RtsmigError."""
    for validate in (True, False):
        try:
            edges = read_edges(path, validate=validate)
        except RtsmigError as exc:
            assert str(exc) and "\n" not in str(exc), repr(exc)  # one line for the CLI's Error: line
            event(f"validate={validate}: {type(exc).__name__}")  # --hypothesis-show-statistics
            continue
        event(f"validate={validate}: read")
        assert isinstance(edges, Edges)
        assert len(edges.heads) == len(edges.tails) == len(edges.weights)
        if validate:  # a file that reads is one a fit may use: no negative or non-finite weight
            assert np.isfinite(edges.weights).all() and (edges.weights >= 0).all()


def _write(scratch: Path, suffix: str, data: bytes) -> Path:
    path = scratch / f"fuzzed{suffix}"
    path.write_bytes(data)
    return path


# --- byte-level mutations ---------------------------------------------------------------


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """``data`` with a few flips, cuts, insertions or deletions."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "set"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 32))]
    return bytes(data)


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(data=st.data())
def test_byte_mutations_of_valid_files(originals, scratch, suffix, data):
    read_or_rtsmig_error(_write(scratch, suffix, data.draw(byte_mutations(originals[suffix]))))


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(raw=st.binary(max_size=512))
def test_arbitrary_bytes(scratch, suffix, raw):
    read_or_rtsmig_error(_write(scratch, suffix, raw))


# --- text-level mutations of GAL and GWT ---------------------------------------------------


@st.composite
def text_mutations(draw, text: str) -> str:
    """``text`` with lines duplicated, deleted or swapped, tokens swapped or replaced."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["duplicate", "delete", "swap_lines", "swap_tokens", "replace", "append"]))
        k = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "duplicate" and lines:
            lines.insert(k, lines[k])
        elif op == "delete" and lines:
            del lines[k]
        elif op == "swap_lines" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        elif op in ("swap_tokens", "replace") and lines:
            tokens = lines[k].split(" ")
            i = draw(st.integers(0, len(tokens) - 1))
            if op == "replace":
                tokens[i] = draw(st.sampled_from(ODD_TOKENS) | st.text(max_size=6))
            else:
                j = draw(st.integers(0, len(tokens) - 1))
                tokens[i], tokens[j] = tokens[j], tokens[i]
            lines[k] = " ".join(tokens)
        elif op == "append":
            lines.insert(k, " ".join(draw(st.lists(st.sampled_from(ODD_TOKENS), max_size=4))))
    return "\n".join(lines)


@pytest.mark.parametrize("suffix", [".gal", ".gwt"])
@FUZZ
@given(data=st.data())
def test_text_mutations_of_valid_files(originals, scratch, suffix, data):
    text = data.draw(text_mutations(originals[suffix].decode("utf-8")))
    read_or_rtsmig_error(_write(scratch, suffix, text.encode("utf-8", "surrogatepass")))


@FUZZ
@given(lines=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "007"]), st.sampled_from(["a", "b", "c", "007"]),
                                st.sampled_from(ODD_TOKENS) | st.floats().map(repr)), max_size=12))
def test_gwt_of_odd_weights(scratch, lines):
    text = "0 4 unknown unknown\n" + "".join(f"{f} {n} {w}\n" for f, n, w in lines)
    read_or_rtsmig_error(_write(scratch, ".gwt", text.encode("utf-8", "surrogatepass")))


REGION_IDS = ("a", "b", "c", "007")


@FUZZ
@given(regions=st.lists(st.tuples(st.sampled_from(REGION_IDS + ("²", "a b", "")),
                                  st.lists(st.sampled_from(REGION_IDS), max_size=3),
                                  st.integers(-1, 4)), max_size=5),
       header=st.sampled_from([None, "0 {n} shp id", "{n} extra", "-1", "²"]))
def test_gal_of_odd_regions(scratch, regions, header):
    """Mostly well-formed GAL: counts that may be wrong, self-loops, repeats, unknown ids."""
    n = len(regions)
    lines = [str(n) if header is None else header.format(n=n)]
    for region, neighbours, count in regions:
        lines += [f"{region} {len(neighbours) if count < 0 else count}", " ".join(neighbours)]
    read_or_rtsmig_error(_write(scratch, ".gal", ("\n".join(lines) + "\n").encode("utf-8")))


@FUZZ
@given(header=st.sampled_from(["3", "0 3 x id", "-3", "99999999999", "٣", "²", "0", ""]),
       body=st.lists(st.sampled_from(["a 1", "b", "a 2", "b 1", "a", "c 0", "", "a ²", "b -1", "c 1 2"]),
                     max_size=8))
def test_gal_of_odd_headers_and_counts(scratch, header, body):
    text = "\n".join([header, *body]) + "\n"
    read_or_rtsmig_error(_write(scratch, ".gal", text.encode("utf-8")))


# --- Parquet built column by column ---------------------------------------------------------

ID_ARRAYS = st.one_of(
    st.lists(st.sampled_from(["a", "b", "c", "007", ""]) | st.none(), max_size=8).map(lambda v: pa.array(v, pa.string())),
    st.lists(st.integers(-3, 3) | st.none(), max_size=8).map(lambda v: pa.array(v, pa.int64())),
    st.lists(st.floats(allow_nan=True) | st.none(), max_size=8).map(lambda v: pa.array(v, pa.float64())),
    st.lists(st.booleans(), max_size=8).map(lambda v: pa.array(v, pa.bool_())),
    st.lists(st.lists(st.integers(0, 2), max_size=2), max_size=8).map(lambda v: pa.array(v, pa.list_(pa.int64()))),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=8).map(
        lambda v: pa.array(v, pa.string()).dictionary_encode()),
)
WEIGHT_ARRAYS = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.none(), max_size=8).map(
        lambda v: pa.array(v, pa.float64())),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8).map(lambda v: pa.array(v, pa.int64())),
    st.lists(st.text(max_size=3), max_size=8).map(lambda v: pa.array(v, pa.string())),
    st.lists(st.booleans(), max_size=8).map(lambda v: pa.array(v, pa.bool_())),
)
METADATA = st.one_of(
    st.none(),
    st.sampled_from([b'{"transformation": "R"}', b'{"transformation": 3}', b"[]", b"not json", b"\xff\xfe",
                     b'{"transformation": "Q"}', b"[" * 5000, b'"R"']),
)


@FUZZ
@given(focal=ID_ARRAYS, neighbor=ID_ARRAYS, weight=WEIGHT_ARRAYS, meta=METADATA, names=st.permutations(
    ["focal", "neighbor", "weight"]))
def test_parquet_of_arbitrary_columns(scratch, focal, neighbor, weight, meta, names):
    size = min(len(focal), len(neighbor), len(weight))
    columns = dict(zip(names, [focal[:size], neighbor[:size], weight[:size]]))
    table = pa.table(columns)
    if meta is not None:
        table = table.replace_schema_metadata({b"libpysal": meta})
    path = scratch / "columns.parquet"
    pq.write_table(table, path)
    read_or_rtsmig_error(path)


@FUZZ
@given(links=st.lists(st.tuples(st.sampled_from(REGION_IDS), st.sampled_from(REGION_IDS),
                                st.floats(allow_nan=True, allow_infinity=True)), max_size=10),
       as_int=st.booleans(), meta=METADATA)
def test_parquet_of_odd_weights(scratch, links, as_int, meta):
    """Well-formed columns whose weights may be negative, NaN, inf, zero, huge; links may repeat."""
    focal, neighbor, weight = (list(column) for column in zip(*links)) if links else ([], [], [])
    weights = pa.array(weight, pa.float64())
    if as_int:  # integer weights, as libpysal writes binary ones
        weights = pa.array([int(w) if np.isfinite(w) and abs(w) < 2**62 else 0 for w in weight], pa.int64())
    table = pa.table({"weight": weights, "focal": pa.array(focal, pa.string()),
                      "neighbor": pa.array(neighbor, pa.string())})
    if meta is not None:
        table = table.replace_schema_metadata({b"libpysal": meta})
    path = scratch / "odd.parquet"
    pq.write_table(table, path)
    read_or_rtsmig_error(path)
