"""Fuzzing the table reader: on any bytes it returns a table or raises an rtsmig error, nothing else.

``read_table`` is fed arbitrary bytes and mutations of valid CSV, Parquet and Stata
files (flipped bytes, truncation, byte-order marks, other delimiters, quotes,
NULs, duplicated headers, huge numbers). Whatever pandas, pyarrow or the Stata
reader raise underneath must come out as an :class:`~rtsmig.errors.RtsmigError`
subclass, so the CLI shows one ``Error:`` line and never a traceback.
"""

from __future__ import annotations

import io
import warnings
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtsmig.errors import RtsmigError
from rtsmig.io.regions import read_table

REFERENCE = Path(__file__).parent / "reference"
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
SUFFIXES = (".csv", ".parquet", ".dta")


@cache
def _frame() -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / "columbus.csv", dtype={"id": str}).head(8)
    return frame.assign(name=[f"r{i}" for i in range(len(frame))])


@cache
def _valid(suffix: str) -> bytes:
    """A small valid file of each kind, as bytes."""
    buffer = io.BytesIO()
    frame = _frame()
    if suffix == ".csv":
        return frame.to_csv(index=False).encode()
    if suffix == ".parquet":
        frame.to_parquet(buffer, index=False)
    else:
        frame.to_stata(buffer, write_index=False, version=118)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    # One folder for the module: hypothesis reruns a test many times within one function-scoped tmp_path.
    return tmp_path_factory.mktemp("fuzz")


def _read(content: bytes, suffix: str, workdir: Path) -> None:
    """The property: ``read_table`` returns a frame indexed by string ids, or raises an RtsmigError."""
    path = workdir / f"table{suffix}"
    path.write_bytes(content)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # library warnings are the CLI's business (it silences them)
            frame = read_table(path, "id")
    except RtsmigError as exc:
        assert str(exc).startswith(str(path)), exc  # every message names the file
        assert "\n" not in str(exc), exc  # one Error line
        return
    assert isinstance(frame, pd.DataFrame)
    assert all(isinstance(i, str) for i in frame.index)


def _flip(data: bytes, positions: list[int], values: list[int]) -> bytes:
    out = bytearray(data)
    for position, value in zip(positions, values):
        out[position % len(out)] = value
    return bytes(out)


CSV_EDITS = {
    "bom": lambda text: "\ufeff" + text,
    "semicolons": lambda text: text.replace(",", ";"),
    "tabs": lambda text: text.replace(",", "\t"),
    "stray quote": lambda text: text.replace(",", ',"', 3),
    "nul": lambda text: text.replace("\n", "\x00\n", 2),
    "duplicate header": lambda text: text.replace("CRIME", "INC", 1),
    "duplicate id header": lambda text: text.replace("POLYID", "id", 1),
    "huge numbers": lambda text: text.replace(",1", ",1e999", 4).replace(",2", ",-99999999999999999999999", 4),
    "huge ids": lambda text: "\n".join(  # [:1]: an earlier edit may have left no line at all
        [*text.splitlines()[:1], *(f"1e{300 + i}," + line.partition(",")[2] for i, line in enumerate(text.splitlines()[1:]))]
    ),
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "cr only": lambda text: text.replace("\n", "\r"),
    "no header": lambda text: text.partition("\n")[2],
    "header only": lambda text: text.partition("\n")[0],
    "ragged": lambda text: text.replace("\n", ",extra\n", 2),
    "empty ids": lambda text: text.replace("\n1,", "\n,", 1),
    "latin-1": lambda text: text.replace("r1", "caf\xe9"),
}


@pytest.mark.parametrize("suffix", SUFFIXES)
@BOUNDED
@given(content=st.binary(max_size=512))
def test_arbitrary_bytes(workdir, suffix, content):
    _read(content, suffix, workdir)


@pytest.mark.parametrize("suffix", SUFFIXES)
@BOUNDED
@given(data=st.data())
def test_mutated_valid_files(workdir, suffix, data):
    valid = _valid(suffix)
    kind = data.draw(st.sampled_from(["flip", "truncate", "prefix", "splice"]))
    if kind == "flip":
        count = data.draw(st.integers(1, 8))
        positions = data.draw(st.lists(st.integers(0, len(valid) - 1), min_size=count, max_size=count))
        content = _flip(valid, positions, data.draw(st.lists(st.integers(0, 255), min_size=count, max_size=count)))
    elif kind == "truncate":
        content = valid[: data.draw(st.integers(0, len(valid)))]
    elif kind == "prefix":
        content = data.draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00", b"PAR1"])) + valid
    else:
        start = data.draw(st.integers(0, len(valid)))
        content = valid[:start] + data.draw(st.binary(min_size=1, max_size=32)) + valid[start:]
    _read(content, suffix, workdir)


@BOUNDED
@given(edits=st.lists(st.sampled_from(sorted(CSV_EDITS)), min_size=1, max_size=4), encoding=st.sampled_from(
    ["utf-8", "utf-8-sig", "latin-1", "utf-16"]
))
def test_csv_edits(workdir, edits, encoding):
    text = _valid(".csv").decode()
    for edit in edits:
        text = CSV_EDITS[edit](text)
    _read(text.encode(encoding, errors="replace"), ".csv", workdir)


@BOUNDED
@given(values=st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70).map(float), st.none(),
), min_size=1, max_size=12))
def test_parquet_with_odd_float_ids(workdir, values):
    """Parquet keeps the id column's type: huge, infinite, missing or fractional float ids."""
    buffer = io.BytesIO()
    pd.DataFrame({"id": pd.Series(values, dtype=float), "y": range(len(values))}).to_parquet(buffer, index=False)
    _read(buffer.getvalue(), ".parquet", workdir)


@pytest.mark.parametrize("edit", sorted(CSV_EDITS))
def test_each_csv_edit_alone(workdir, edit):
    """Every edit once, deterministically, whatever hypothesis happens to draw."""
    _read(CSV_EDITS[edit](_valid(".csv").decode()).encode("utf-8", errors="replace"), ".csv", workdir)


@pytest.mark.parametrize("column", ["id", "name"])
def test_parquet_text_that_is_not_utf8(workdir, column):
    """Found by the fuzzer: pandas keeps pyarrow's strings unchecked, so a bad byte failed only when used."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    damaged = pa.array([b"a", b"\xff\xfe"], type=pa.binary()).view(pa.string())  # written without validation
    columns = {"id": pa.array(["a", "b"]), "name": pa.array(["x", "y"]), "y": pa.array([1.0, 2.0])}
    buffer = io.BytesIO()
    pq.write_table(pa.table({**columns, column: damaged}), buffer)
    path = workdir / "damaged.parquet"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(RtsmigError, match=r"damaged.parquet: cannot read as a table \(Invalid UTF8"):
        read_table(path, "id")
